//! Connection limits, in a test binary of their own: cargo runs test binaries one after
//! another, so the 1,100 connections held open here neither slow other tests nor are timed
//! while other tests load the machine.

#[path = "../support/mod.rs"]
mod support;

mod checks;
mod panics;
