//! Who is calling, as the domain sees it: a name that scopes idempotency keys, ledger rows
//! and batches, and the provider instances the client may use. How a request proves who it
//! is (API keys) is the API's business (`api::auth`).

use std::collections::BTreeSet;

/// The one client of a gateway with no `[[clients]]` configured (an open gateway, such as
/// the sandbox default): everyone who can reach it shares its idempotency keys and ledger.
pub const DEFAULT_CLIENT: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    name: String,
    /// `None`: every instance.
    providers: Option<BTreeSet<String>>,
}

impl Client {
    pub fn new(name: impl Into<String>, providers: Option<BTreeSet<String>>) -> Client {
        Client {
            name: name.into(),
            providers,
        }
    }

    /// The client of an open gateway.
    pub fn open() -> Client {
        Client::new(DEFAULT_CLIENT, None)
    }

    /// A client known only by name (a stored batch's submitter, worked in the background:
    /// its instances were checked when the batch was accepted).
    pub fn named(name: impl Into<String>) -> Client {
        Client::new(name, None)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_open(&self) -> bool {
        self.name == DEFAULT_CLIENT
    }

    pub fn may_use(&self, instance: &str) -> bool {
        self.providers
            .as_ref()
            .is_none_or(|allowed| allowed.contains(instance))
    }
}
