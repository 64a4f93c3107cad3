//! The one place that names vendors: it maps a config `kind` to the vendor crate that
//! builds it. Adding a vendor is its folder under `providers/`, its dependency line in the
//! root `Cargo.toml` and one line here (all the steps: README, "Adding a vendor").

use refund_provider::Vendor;

/// Expands to the list of kinds and the dispatch from a kind to its vendor's `Vendor` impl.
macro_rules! vendors {
    ($($vendor:ty,)*) => {
        /// Every `kind` value config may use.
        pub fn kinds() -> Vec<&'static str> {
            vec![$(<$vendor as Vendor>::KIND,)*]
        }

        /// Calls `f` with the vendor of `kind`, or returns `None` for an unknown kind.
        pub fn with_vendor<R>(kind: &str, f: impl VendorVisitor<Output = R>) -> Option<R> {
            $(
                if kind == <$vendor as Vendor>::KIND {
                    return Some(f.visit::<$vendor>());
                }
            )*
            let _ = (kind, f);
            None
        }
    };
}

/// Something to do with a vendor type chosen at run time (build an instance, make a sandbox).
pub trait VendorVisitor {
    type Output;
    fn visit<V: Vendor>(self) -> Self::Output;
}

vendors! {
    provider_fourvenues::Fourvenues,
    provider_ivvy::Ivvy,
    provider_paylogic::Paylogic,
    provider_stubbur::Stubbur,
    provider_ticketmatic::Ticketmatic,
}

/// The credentials a vendor's built-in sandbox uses in place of configured ones
/// (`sandbox = true`): the recorder (`record.rs`) redacts them like configured secrets.
pub fn sandbox_credentials(kind: &str) -> Vec<&'static str> {
    match kind {
        "fourvenues" => vec![provider_fourvenues::sandbox::SANDBOX_API_KEY],
        "ivvy" => vec![
            provider_ivvy::SANDBOX_API_KEY,
            provider_ivvy::SANDBOX_API_SECRET,
        ],
        "paylogic" => vec![
            provider_paylogic::sandbox::SANDBOX_APP,
            provider_paylogic::sandbox::SANDBOX_SECRET,
            provider_paylogic::sandbox::SANDBOX_TOKEN,
        ],
        "stubbur" => vec![
            provider_stubbur::sandbox::SANDBOX_TOKEN,
            provider_stubbur::sandbox::SANDBOX_PASSWORD,
        ],
        "ticketmatic" => vec![
            provider_ticketmatic::SANDBOX_ACCESS_KEY,
            provider_ticketmatic::SANDBOX_SECRET_KEY,
        ],
        _ => Vec::new(),
    }
}
