//! The provider plugin contract of refund-gateway: the canonical refund types, the
//! `Provider` trait every vendor implements, the error kinds a vendor call can end in, and
//! the `Transport` through which providers reach vendors.
//!
//! Only vendor crates (`providers/<vendor>`) know vendor wire formats; this crate knows
//! none, and the gateway knows vendors only through its one registry.

pub mod balance;
pub mod capabilities;
pub mod contract;
pub mod error;
pub mod fixture;
pub mod fixture_defaults;
pub mod fixture_match;
pub mod fixture_transport;
pub mod ids;
pub mod money;
pub mod provider;
pub mod quote;
pub mod refund;
pub mod request;
pub mod sandbox;
pub mod secret;
pub mod target;
pub mod transport;
pub mod vendor_decimal;
pub mod vendor_response;

pub use balance::Balance;
pub use capabilities::{Capabilities, Operation, TargetShape};
pub use error::{ErrorKind, Outcome, ProviderError, VendorFault};
pub use fixture_defaults::{FixtureDefaults, RecordedCall};
pub use ids::{InstanceName, RefundId, VendorRef};
pub use money::{Currency, Money, MoneyError};
pub use provider::{BuildContext, ConfigError, Provider, Vendor};
pub use quote::{
    AmountFrom, CannotKnow, Forecast, PaymentChoice, Quote, QuoteLine, QuoteRules, QuoteTotals,
    Unknowable,
};
pub use refund::{
    LineCounts, LineKind, LineStatus, Refund, RefundLine, RefundStatus, StatusReason, TicketFate,
};
pub use request::RefundRequest;
pub use sandbox::{Sandbox, SandboxRequest};
pub use secret::SecretRef;
pub use target::Target;
pub use transport::{Transport, TransportError, VendorRequest, VendorResponse};

/// Re-exported so vendor crates share one version of these.
pub use async_trait::async_trait;
pub use chrono;
pub use http;
pub use rust_decimal;
pub use secrecy;
