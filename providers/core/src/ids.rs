//! Refund identifiers. The canonical id is opaque to clients but routable by the gateway:
//! it encodes the provider instance and the vendor's own reference, so a lookup needs no
//! state of ours. (Ids minted by the gateway's ledger use their own prefix.)

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The name of a provider instance as configured (`[providers.<name>]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceName(String);

impl InstanceName {
    /// Instance names appear in ids, URLs and metrics, so they are kept to a safe alphabet.
    pub fn new(name: &str) -> Result<Self, String> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(InstanceName(name.to_string()))
        } else {
            Err(format!(
                "instance name `{name}` must be 1-64 characters of a-z, 0-9, `-` or `_`"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Instances are looked up by the name a request gives, without making an `InstanceName`.
impl std::borrow::Borrow<str> for InstanceName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A vendor's own reference to one refund, in a form only that vendor's provider parses
/// (e.g. Ticketmatic `order/<id>/payment/<refund-payment-id>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VendorRef(String);

impl VendorRef {
    pub fn new(value: impl Into<String>) -> Self {
        VendorRef(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// No vendor reference yet (the vendor has not answered).
    pub fn none() -> Self {
        VendorRef(String::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for VendorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The canonical refund id handed to clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefundId(String);

const VENDOR_PREFIX: &str = "rf_";
/// Prefix of the ids the gateway's ledger mints for the refunds it makes.
pub const LEDGER_PREFIX: &str = "rfg_";

impl RefundId {
    /// The id of a refund the vendor knows: instance and vendor reference, base64url-encoded.
    pub fn for_vendor(instance: &InstanceName, vendor_ref: &VendorRef) -> Self {
        let raw = format!("{}:{}", instance.as_str(), vendor_ref.as_str());
        RefundId(format!("{VENDOR_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
    }

    /// Routes an id back to its instance and vendor reference; `None` for anything that is
    /// not one of our vendor ids (the caller answers 404).
    pub fn decode_vendor(&self) -> Option<(InstanceName, VendorRef)> {
        let encoded = self.0.strip_prefix(VENDOR_PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        let raw = String::from_utf8(bytes).ok()?;
        let (instance, vendor_ref) = raw.split_once(':')?;
        if vendor_ref.is_empty() {
            return None;
        }
        Some((
            InstanceName::new(instance).ok()?,
            VendorRef::new(vendor_ref),
        ))
    }

    /// Whether this id was minted by the gateway's ledger (rather than derived from a
    /// vendor reference).
    pub fn is_ledger(&self) -> bool {
        self.0.starts_with(LEDGER_PREFIX)
    }

    pub fn from_string(value: String) -> Self {
        RefundId(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RefundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_ids_round_trip() {
        let instance = InstanceName::new("tm-main").unwrap();
        let vendor_ref = VendorRef::new("order/1269434/payment/126");
        let id = RefundId::for_vendor(&instance, &vendor_ref);
        assert!(id.as_str().starts_with("rf_"));
        assert_eq!(id.decode_vendor(), Some((instance, vendor_ref)));
        assert_eq!(RefundId::from_string("rf_!!".into()).decode_vendor(), None);
        assert_eq!(RefundId::from_string("nope".into()).decode_vendor(), None);
    }

    #[test]
    fn instance_names_are_restricted() {
        assert!(InstanceName::new("Bad Name").is_err());
        assert!(InstanceName::new("").is_err());
        assert!(InstanceName::new("fv_1").is_ok());
    }
}
