//! Builds the Shopping API's GET requests (URLs, order URIs, pagination links), signs them
//! with the instance's auth, and sends them through the gateway's transport. The only file
//! that does I/O.

use std::sync::Arc;

use refund_provider::http::Method;
use refund_provider::vendor_response::read_json;
use refund_provider::{ConfigError, ErrorKind, ProviderError, Transport, VendorRequest};
use serde_json::value::RawValue;
use url::Url;

use crate::auth::Auth;
use crate::errors;

/// What the gateway accepts: HAL first, plain JSON as well.
const ACCEPT: &str = "application/hal+json, application/json";

pub struct Client {
    pub(crate) base: Url,
    pub(crate) auth: Auth,
    pub(crate) transport: Arc<dyn Transport>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(base: &str, auth: Auth, transport: Arc<dyn Transport>) -> Result<Self, ConfigError> {
        let base = Url::parse(base.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ConfigError::new("base_url", format!("`{base}` is not an http(s) URL"))
            })?;
        Ok(Client {
            base,
            auth,
            transport,
        })
    }

    /// `{base}/<path>`: the base URL's own path is kept (`https://host/api` + `/refunds`).
    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    /// `GET {base}/refunds/{uid}`.
    pub fn refund_url(&self, uid: &str) -> Url {
        self.url(&format!("/refunds/{uid}"))
    }

    /// `GET {base}/refunds?order=<order URI>`, the URI percent-encoded.
    pub fn refunds_url(&self, order_uri: &str) -> Url {
        let mut url = self.url("/refunds");
        url.query_pairs_mut().append_pair("order", order_uri);
        url
    }

    /// Decision (paylogic brief): `target.order` is the order's URI as Paylogic prints it,
    /// or a bare order uid, which becomes `{base}/orders/<uid>`.
    pub fn order_uri(&self, order: &str) -> Result<String, ProviderError> {
        let order = order.trim();
        if order.starts_with("http://") || order.starts_with("https://") {
            return Url::parse(order)
                .ok()
                .filter(Url::has_host)
                .map(String::from)
                .ok_or_else(|| {
                    ProviderError::invalid("/target/order", "`target.order` is not a valid URI")
                });
        }
        if crate::is_uid(order) {
            return Ok(self.url(&format!("/orders/{order}")).to_string());
        }
        Err(ProviderError::invalid(
            "/target/order",
            "`target.order` must be a Paylogic order URI (https://…/orders/<uid>) or an order uid",
        ))
    }

    /// Decision (paylogic brief): a `next` link is followed only to the base URL's origin
    /// (scheme, host and port), resolved against the page it came from; a link elsewhere
    /// would send our credentials to another host, so it is a `BadResponse`.
    pub fn next_url(&self, page: &Url, href: &str) -> Result<Url, ProviderError> {
        let next = page.join(href).map_err(|_| {
            ProviderError::new(
                ErrorKind::BadResponse,
                format!("Paylogic's next-page link `{href}` is not a URL"),
            )
        })?;
        if next.origin() != self.base.origin() {
            return Err(ProviderError::new(
                ErrorKind::BadResponse,
                format!(
                    "Paylogic's next-page link points to another origin ({}); not followed",
                    next.origin().ascii_serialization()
                ),
            ));
        }
        Ok(next)
    }

    /// One authenticated GET; a success body as its JSON text (so amounts are read from
    /// their text, see `vendor_decimal`), anything else as a `ProviderError`.
    pub async fn get_json(&self, url: &Url) -> Result<Box<RawValue>, ProviderError> {
        let request = VendorRequest::new(Method::GET, url.as_str()).header("accept", ACCEPT);
        let request = self.auth.apply(request);
        let response = self.transport.send(request).await?;
        if !response.is_success() {
            return Err(errors::from_status(&response));
        }
        read_json(&response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_provider::secrecy::SecretString;

    struct NoTransport;

    #[refund_provider::async_trait]
    impl Transport for NoTransport {
        async fn send(
            &self,
            _: VendorRequest,
        ) -> Result<refund_provider::VendorResponse, refund_provider::TransportError> {
            Err(refund_provider::TransportError::Connect("none".into()))
        }
    }

    fn client(base: &str) -> Client {
        let auth = Auth::Bearer(SecretString::from("t".to_string()));
        Client::new(base, auth, Arc::new(NoTransport)).unwrap()
    }

    const ORDER: &str = "https://shopping-api.paylogic.com/orders/a9211319a7bf4c1d82b78d536c92de58";

    #[test]
    fn builds_urls_under_the_base_path() {
        let c = client("https://shopping-api.paylogic.com/");
        assert_eq!(
            c.refund_url("4221f0abd8bc4e768272b483cd929d09").as_str(),
            "https://shopping-api.paylogic.com/refunds/4221f0abd8bc4e768272b483cd929d09"
        );
        assert_eq!(
            c.refunds_url(ORDER).as_str(),
            "https://shopping-api.paylogic.com/refunds?order=https%3A%2F%2Fshopping-api.paylogic.com%2Forders%2Fa9211319a7bf4c1d82b78d536c92de58"
        );
        let nested = client("http://127.0.0.1:8080/api/");
        assert_eq!(
            nested.refund_url("x").as_str(),
            "http://127.0.0.1:8080/api/refunds/x"
        );
        assert!(Client::new(
            "not a url",
            Auth::Bearer(SecretString::from("t".to_string())),
            Arc::new(NoTransport)
        )
        .is_err());
    }

    #[test]
    fn order_uris_and_bare_uids() {
        let c = client("https://shopping-api.paylogic.com");
        assert_eq!(c.order_uri(ORDER).unwrap(), ORDER);
        assert_eq!(
            c.order_uri(" a9211319a7bf4c1d82b78d536c92de58 ").unwrap(),
            ORDER
        );
        for bad in ["", "../orders/x", "orders/x", "https://", "a b"] {
            let e = c.order_uri(bad).unwrap_err();
            assert_eq!(e.pointer.as_deref(), Some("/target/order"), "{bad}");
        }
    }

    #[test]
    fn next_links_stay_on_the_base_origin() {
        let c = client("https://shopping-api.paylogic.com");
        let page = c.refunds_url(ORDER);
        let absolute = c
            .next_url(
                &page,
                "https://shopping-api.paylogic.com/refunds?order=x&page=2",
            )
            .unwrap();
        assert_eq!(absolute.query(), Some("order=x&page=2"));
        let relative = c.next_url(&page, "/refunds?order=x&page=3").unwrap();
        assert_eq!(
            relative.as_str(),
            "https://shopping-api.paylogic.com/refunds?order=x&page=3"
        );
        for foreign in [
            "https://evil.example/refunds?page=2",
            "http://shopping-api.paylogic.com/refunds?page=2",
            "https://shopping-api.paylogic.com:8443/refunds?page=2",
        ] {
            let e = c.next_url(&page, foreign).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadResponse, "{foreign}");
        }
    }
}
