//! A minimal HTTP/1 server on a loopback port, for stand-in vendors (the sandboxes and the
//! replay vendor). Built on hyper directly rather than the API router because a stand-in
//! must be able to misbehave: answering `None` drops the connection without a response,
//! which is how a vendor's connection reset is reproduced.
//!
//! Each request carries the instant it reached this server (`arrival`): the kernel's
//! receive timestamp of its first bytes, taken when the sender's write put them on the
//! loopback, so a vendor's request log measures the senders, not how soon this (test)
//! process was scheduled to read them.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use refund_provider::{SandboxRequest, VendorResponse};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod arrival;
pub use arrival::arrival;
use arrival::StampedStream;

pub type Answer = Pin<Box<dyn Future<Output = Option<VendorResponse>> + Send>>;

/// Answers one request; `None` resets the connection.
pub type Handler = Arc<dyn Fn(SandboxRequest) -> Answer + Send + Sync>;

/// A running loopback server; it stops when dropped.
pub struct LoopbackServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LoopbackServer {
    /// Binds `addr` (port 0 picks a free one) and serves `handler` until dropped.
    pub async fn start(addr: SocketAddr, handler: Handler) -> std::io::Result<LoopbackServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                tokio::spawn(async move {
                    let stream = StampedStream::new(stream);
                    let arrivals = stream.arrivals();
                    let service = service_fn(move |req| {
                        let handler = handler.clone();
                        let arrived = arrivals.current();
                        async move { arrival::scope(arrived, answer(handler, req)).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(LoopbackServer { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An error that makes hyper close the connection without answering.
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the stand-in vendor")
    }
}

impl std::error::Error for Reset {}

async fn answer(
    handler: Handler,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Reset> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Reset)?.to_bytes();
    let request = SandboxRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
    };
    let response = handler(request).await.ok_or(Reset)?;
    let mut builder = hyper::Response::builder().status(response.status);
    if let Some(headers) = builder.headers_mut() {
        headers.extend(response.headers);
    }
    builder.body(Full::new(response.body)).map_err(|_| Reset)
}
