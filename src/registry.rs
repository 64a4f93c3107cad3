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
