//! HTTP conventions over real HTTP: large JSON answers compressed (gzip, brotli) when the
//! client accepts it, small ones and problems left plain; CORS off by default, and with
//! `[server] cors_origins` the listed origins (only) get CORS headers and their preflight
//! `OPTIONS` is answered before authentication.

use std::io::Read;

use crate::support::{secret_file, TestGateway};

const SANDBOX: &str =
    "[providers.tm]\nkind = \"ticketmatic\"\nsandbox = true\naccount = \"demo\"\n";

async fn get(
    gw: &TestGateway,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new().get(gw.url(path));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn large_json_answers_are_compressed_for_clients_that_accept_it() {
    let gw = TestGateway::start(SANDBOX).await;
    for _ in 0..6 {
        let body = serde_json::json!({"provider": "tm", "target": {"order": "1269434"},
                                      "amount": {"value": "1.00", "currency": "EUR"}});
        assert_eq!(gw.post("/v1/refunds", body).await.status, 201);
    }
    // The document, and a listing of the ledger.
    for path in ["/openapi.json", "/v1/refunds"] {
        let (status, plain_headers, plain) = get(&gw, path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&plain_headers, "content-encoding"), None);
        // Sent plain to a client that accepts no encoding, but still says what it varies by.
        assert!(header(&plain_headers, "vary").is_some_and(|v| v.contains("accept-encoding")));
        assert!(plain.len() > 1024, "{path} is large enough to compress");
        let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();

        let (status, headers, gzipped) = get(&gw, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some("gzip"), "{path}");
        assert!(header(&headers, "vary").is_some_and(|v| v.contains("accept-encoding")));
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_string(&mut text)
            .expect("a gzip body");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            plain
        );

        let (_, headers, brotli) = get(&gw, path, &[("accept-encoding", "br")]).await;
        assert_eq!(header(&headers, "content-encoding"), Some("br"), "{path}");
        assert!(brotli.len() < text.len() / 2, "{path}: brotli shrinks JSON");
    }
    // Small answers, and problems (which carry the request id), stay plain.
    let (_, headers, _) = get(&gw, "/healthz", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(header(&headers, "content-encoding"), None);
    let (status, headers, body) = get(
        &gw,
        "/v1/refunds/rfg_01J00000000000000000000000",
        &[
            ("accept-encoding", "gzip, br"),
            ("x-request-id", "compress-1"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "content-encoding"), None);
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["request_id"], "compress-1");
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let gw = TestGateway::start(SANDBOX).await;
    let (status, headers, _) =
        get(&gw, "/v1/providers", &[("origin", "https://app.example")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, gw.url("/v1/refunds"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 405);
    assert_eq!(preflight.headers().get("access-control-allow-origin"), None);
}

#[tokio::test]
async fn listed_origins_get_cors_and_their_preflight_answered_before_authentication() {
    let key = "acme-key-0123456789abcdef";
    let gw = TestGateway::start(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         cors_origins = [\"https://backoffice.example\", \"http://127.0.0.1:3000\"]\n\
         [[clients]]\nname = \"acme\"\nkey = {{ file = \"{}\" }}\n{SANDBOX}",
        secret_file(key)
    ))
    .await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, gw.url("/v1/refunds"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, idempotency-key, traceparent",
            )
            .send()
    };
    let allowed = preflight("https://backoffice.example").await.unwrap();
    assert_eq!(
        allowed.status(),
        200,
        "no credentials needed for a preflight"
    );
    let h = allowed.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://backoffice.example"
    );
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "authorization",
        "content-type",
        "idempotency-key",
        "traceparent",
    ] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    assert_eq!(h["access-control-max-age"], "600");

    let other = preflight("https://evil.example").await.unwrap();
    assert_eq!(other.headers().get("access-control-allow-origin"), None);

    let (status, headers, _) = get(
        &gw,
        "/v1/providers",
        &[
            ("origin", "http://127.0.0.1:3000"),
            ("authorization", &format!("Bearer {key}")),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://127.0.0.1:3000")
    );
    let exposed = header(&headers, "access-control-expose-headers").unwrap_or_default();
    for name in ["x-request-id", "idempotent-replayed", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // Without credentials the answer is still refused, with the CORS headers a browser
    // needs to show the client the 401.
    let (status, headers, _) = get(
        &gw,
        "/v1/providers",
        &[("origin", "https://backoffice.example")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://backoffice.example")
    );
}

#[test]
fn an_origin_with_a_path_is_refused_at_start() {
    let error = refund_gateway::config::Config::from_toml_str(
        "[server]\ncors_origins = [\"https://backoffice.example/\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("cors_origins") && error.contains("not an origin"),
        "{error}"
    );
}
