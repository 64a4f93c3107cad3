//! `[fixtures]`: what the fixture tools (`record`, `fixtures verify`) add to each vendor
//! crate's defaults. Pointers are JSON pointers into a vendor's answer; a `*` segment stands
//! for any array index or key (`/payments/*/paidts`).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixturesConfig {
    /// Answer fields `fixtures verify` ignores (their presence or type may change between
    /// two calls: ids, times), besides the vendor's own.
    #[serde(default)]
    pub noise: Vec<String>,
    /// Answer fields `record` never writes (kept as `REDACTED`), besides the vendor's own
    /// and the personal fields known by name.
    #[serde(default)]
    pub personal_data: Vec<String>,
}
