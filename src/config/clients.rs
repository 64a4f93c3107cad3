//! `[[clients]]`: who may call the gateway. Each client has a name (which scopes its
//! idempotency keys, ledger rows and batches), an API key by reference, and optionally the
//! provider instances it may use.

use refund_provider::SecretRef;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub name: String,
    pub key: SecretRef,
    /// The provider instances this client may use; absent: all of them.
    #[serde(default)]
    pub providers: Option<Vec<String>>,
}
