//! A local stand-in for Paylogic's Shopping API refund resources, for `sandbox = true`
//! instances. Seeded from the recorded list fixtures (the doc's order
//! a9211319a7bf4c1d82b78d536c92de58 and a second order of three refunds), it checks auth
//! like the vendor, paginates with `next` links, and refuses every method but GET
//! (Paylogic's refunds are read-only: nothing is ever created here).

use std::collections::BTreeMap;

use refund_provider::fixture::Exchange;
use refund_provider::http::Method;
use refund_provider::sandbox::json_response;
use refund_provider::{Sandbox, SandboxRequest, VendorResponse};
use serde_json::{json, Value};

use crate::auth::{basic_header, COGNITO_HEADER};
use crate::wire::REFUNDS_REL;

/// The sandbox's API application (Basic auth user).
pub const SANDBOX_APP: &str = "paylogic-sandbox-app";
/// The sandbox's API application secret (Basic auth password).
pub const SANDBOX_SECRET: &str = "paylogic-sandbox-secret";
/// The token the sandbox accepts as `Authorization: Bearer` and as `Cognito-Token`.
pub const SANDBOX_TOKEN: &str = "paylogic-sandbox-token";

/// Refunds per page. Paylogic's pages hold 500; the sandbox uses 2 so that its seeded
/// order of three refunds exercises `next` links.
pub const SANDBOX_PAGE_SIZE: usize = 2;

const SEEDS: [(&str, &str); 3] = [
    (
        "list_one_page.json",
        include_str!("../../../fixtures/paylogic/list_one_page.json"),
    ),
    (
        "list_page_1.json",
        include_str!("../../../fixtures/paylogic/list_page_1.json"),
    ),
    (
        "list_page_2.json",
        include_str!("../../../fixtures/paylogic/list_page_2.json"),
    ),
];

/// The sandbox's refunds, in seed order, each with the order URI it was listed under.
pub struct PaylogicSandbox {
    refunds: Vec<(String, Value)>,
}

impl PaylogicSandbox {
    pub fn seeded() -> Self {
        let mut refunds: Vec<(String, Value)> = Vec::new();
        for (name, text) in SEEDS {
            let exchange = Exchange::parse(name, text);
            let order = exchange
                .request
                .query
                .get("order")
                .cloned()
                .unwrap_or_default();
            let items = exchange.response_body()["_embedded"][REFUNDS_REL]
                .as_array()
                .cloned()
                .unwrap_or_default();
            refunds.extend(items.into_iter().map(|r| (order.clone(), r)));
        }
        PaylogicSandbox { refunds }
    }

    fn authorized(request: &SandboxRequest) -> bool {
        let basic = basic_header(SANDBOX_APP, SANDBOX_SECRET);
        let bearer = format!("Bearer {SANDBOX_TOKEN}");
        match request.header("authorization") {
            Some(value) => value == basic || value == bearer,
            None => request.header(COGNITO_HEADER) == Some(SANDBOX_TOKEN),
        }
    }

    fn get_one(&self, uid: &str) -> VendorResponse {
        match self.refunds.iter().find(|(_, r)| r["uid"] == uid) {
            Some((_, refund)) => json_response(200, refund),
            None => json_response(404, &json!({"message": "Not found."})),
        }
    }

    /// Refunds of an order, matched by the order's uid (the last path segment), so that a
    /// URI on the sandbox's own origin finds the seeded orders recorded on Paylogic's.
    fn list(&self, request: &SandboxRequest) -> VendorResponse {
        let params: BTreeMap<String, String> = request
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let Some(order) = params.get("order").filter(|o| !o.is_empty()) else {
            return json_response(
                400,
                &json!({"message": "The `order` parameter is required."}),
            );
        };
        let page = match params.get("page").map(|p| p.parse::<usize>()) {
            None => 1,
            Some(Ok(p)) if p >= 1 => p,
            Some(_) => return json_response(404, &json!({"message": "Invalid page."})),
        };
        let matching: Vec<&Value> = self
            .refunds
            .iter()
            .filter(|(o, _)| order_uid(o) == order_uid(order))
            .map(|(_, r)| r)
            .collect();
        let pages = matching.len().div_ceil(SANDBOX_PAGE_SIZE).max(1);
        if page > pages {
            return json_response(404, &json!({"message": "Invalid page."}));
        }
        let items: Vec<&Value> = matching
            .iter()
            .skip((page - 1) * SANDBOX_PAGE_SIZE)
            .take(SANDBOX_PAGE_SIZE)
            .copied()
            .collect();
        let origin = request
            .header("host")
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let link = |p: usize| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("order", order)
                .append_pair("page", &p.to_string())
                .finish();
            json!({"href": format!("{origin}/refunds?{query}")})
        };
        let mut links = serde_json::Map::new();
        links.insert("self".into(), link(page));
        links.insert("first".into(), link(1));
        links.insert("last".into(), link(pages));
        if page > 1 {
            links.insert("prev".into(), link(page - 1));
        }
        if page < pages {
            links.insert("next".into(), link(page + 1));
        }
        json_response(
            200,
            &json!({
                "_links": links,
                "item_count": matching.len(),
                "_embedded": {REFUNDS_REL: items},
            }),
        )
    }
}

fn order_uid(order_uri: &str) -> &str {
    order_uri
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

impl Sandbox for PaylogicSandbox {
    fn handle(&self, request: &SandboxRequest) -> VendorResponse {
        let path = request.path.trim_end_matches('/');
        let known = path == "/refunds" || path.starts_with("/refunds/");
        if !known {
            return json_response(404, &json!({"message": "Not found."}));
        }
        if request.method != Method::GET {
            return json_response(
                405,
                &json!({"message": format!("Method \"{}\" not allowed.", request.method)}),
            );
        }
        if !Self::authorized(request) {
            return json_response(401, &json!({"detail": "Invalid username/password."}));
        }
        match path.strip_prefix("/refunds/") {
            Some(uid) if !uid.contains('/') => self.get_one(uid),
            Some(_) => json_response(404, &json!({"message": "Not found."})),
            None => self.list(request),
        }
    }
}

#[cfg(test)]
mod tests;
