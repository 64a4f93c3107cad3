//! A bug that panics while answering costs that one request, never the gateway: a handler
//! that panics is answered problem+json 500 `internal_error` and its connection goes on; a
//! connection whose task dies (a body that panics while it streams) gives its place under
//! the connection cap back, and the server still stops when asked.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::get;
use axum::Router;
use refund_gateway::api::serve::{serve, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request on a new connection: the whole answer as text (empty if the connection
/// died first).
async fn answer(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connects");
    let head = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn boom() -> &'static str {
    panic!("a handler's bug")
}

#[tokio::test]
async fn a_panic_costs_one_request_not_the_gateway() {
    let router = Router::new()
        .route("/boom", get(boom))
        .route(
            "/boom-body",
            get(|| async {
                let stream = futures_util::stream::poll_fn(
                    |_| -> std::task::Poll<Option<Result<Bytes, std::io::Error>>> {
                        panic!("a body's bug")
                    },
                );
                Body::from_stream(stream)
            }),
        )
        .route("/ok", get(|| async { "ok" }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let limits = Limits {
        request_timeout: Duration::from_secs(5),
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(30),
        max_connections: 1,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(serve(listener, router, limits, stopped));

    for _ in 0..3 {
        let text = answer(&address, "/boom").await;
        assert!(text.starts_with("HTTP/1.1 500"), "{text}");
        assert!(
            text.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{text}"
        );
        assert!(text.contains(r#""code":"internal_error""#), "{text}");
    }
    // Each of these connections' tasks dies; with a cap of one, every later connection
    // needs the place back.
    for _ in 0..3 {
        answer(&address, "/boom-body").await;
    }
    let text = answer(&address, "/ok").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // Stopping waits for open connections: none is left behind by a dead task.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops")
        .unwrap();
}
