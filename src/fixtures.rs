//! Tools for recorded fixtures beyond recording and replaying them: `fixtures verify`
//! (`verify.rs`) sends a folder's recorded requests to the live vendor again and reports
//! where the answers drifted from the recordings; `expiry.rs` warns about recordings past
//! their `expires_after`. What each vendor declares for them (noise fields, personal data,
//! which requests only read) comes from its crate (`Vendor::fixture_defaults`), found here
//! by kind through the registry.

pub mod expiry;
pub mod pointer;
pub mod shape;
pub mod verify;

use refund_provider::{FixtureDefaults, Vendor};

use crate::registry::{self, VendorVisitor};

/// The fixture defaults of the vendor of `kind` (empty ones for an unknown kind).
pub fn defaults(kind: &str) -> FixtureDefaults {
    struct Defaults;
    impl VendorVisitor for Defaults {
        type Output = FixtureDefaults;
        fn visit<V: Vendor>(self) -> FixtureDefaults {
            V::fixture_defaults()
        }
    }
    registry::with_vendor(kind, Defaults).unwrap_or_default()
}

/// The personal-data pointers recordings of an instance of `kind` redact: the vendor's and
/// the config's (`[fixtures] personal_data`).
pub fn personal_data(kind: &str, configured: &[String]) -> Vec<String> {
    defaults(kind)
        .personal_data
        .iter()
        .map(|p| p.to_string())
        .chain(configured.iter().cloned())
        .collect()
}
