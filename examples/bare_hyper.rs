//! Baseline for `bench/lookups.sh`: a bare hyper server answering every request with the
//! same JSON body the benchmark's vendor serves, so the benchmark can say how close nginx
//! and the gateway come to the cost of HTTP alone.
//!
//! Usage: `bare_hyper <listen address> <body file>`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(body)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_hyper <listen address> <body file>");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(body)?);
    let listener = TcpListener::bind(&addr).await?;
    println!("bare hyper listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req| {
                let body = body.clone();
                async move {
                    let mut response = hyper::Response::new(Full::new(body));
                    response.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
