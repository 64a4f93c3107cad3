//! The provider end to end without sockets: driven against its own sandbox (create, the
//! honest status of a mixed event refund, over-refund, session renewal) and against the
//! recorded fixtures (every documented answer and the vendor's garbage).

mod fixtures;
mod sandboxed;
mod support;
