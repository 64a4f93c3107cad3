//! Connections a hostile client holds open: half-sent request heads are closed after
//! `header_read_timeout`, idle ones after `idle_timeout`, and past the connection cap (or
//! the process's open-file limit) the ones that never sent a request make room, so the
//! gateway keeps answering `/healthz`.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::process::{write_config, GatewayProcess};

fn config(extra: &str) -> String {
    format!("[server]\nlisten = \"127.0.0.1:0\"\n{extra}\n[storage]\nurl = \"sqlite::memory:\"\n")
}

fn address(base_url: &str) -> String {
    base_url.trim_start_matches("http://").to_string()
}

/// One `/healthz` on a new connection: its status line and how long it took.
async fn probe(address: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    (
        text.lines().next().unwrap_or("").to_string(),
        started.elapsed(),
    )
}

/// Whether the gateway closed `stream` (a read sees the end) within `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn half_sent_heads_cannot_starve_the_gateway_of_files() {
    let path = write_config("slow-heads", &config(""));
    let gateway = GatewayProcess::spawn_with_file_limit(&path, 1024);
    let address = address(&gateway.base_url);
    // More half-sent heads than the process may open files.
    let mut held = Vec::new();
    for _ in 0..1100 {
        match TcpStream::connect(&address).await {
            Ok(mut stream) => {
                let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: ga").await;
                held.push(stream);
            }
            Err(e) => panic!("the listen backlog refused a connection: {e}"),
        }
    }
    // Answered, and long before the held heads' `header_read_timeout` (10 s) would have
    // freed anything: room was made. The bound leaves a loaded machine time to accept the
    // backlog ahead of the probe; a starved gateway would take the full 10 s.
    for _ in 0..20 {
        let (status, took) = probe(&address).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "after {took:?}");
        assert!(took < Duration::from_secs(3), "/healthz took {took:?}");
    }
    drop(held);
}

#[tokio::test]
async fn stalled_heads_and_idle_connections_are_closed() {
    let path = write_config(
        "timeouts",
        &config("header_read_timeout = \"500ms\"\nidle_timeout = \"1s\""),
    );
    let gateway = GatewayProcess::spawn(&path);
    let address = address(&gateway.base_url);

    let mut stalled = TcpStream::connect(&address).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(3)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );

    // A kept-alive connection that goes quiet after its request.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn the_connection_cap_makes_room_instead_of_refusing() {
    let path = write_config("cap", &config("max_connections = 10"));
    let gateway = GatewayProcess::spawn(&path);
    let address = address(&gateway.base_url);
    let mut held = Vec::new();
    for _ in 0..10 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHo")
            .await
            .unwrap();
        held.push(stream);
    }
    let (status, took) = probe(&address).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    // Not after the held heads' 10 s `header_read_timeout`: one of them made room.
    assert!(took < Duration::from_secs(3), "{took:?}");
    // The oldest half-sent head made room.
    assert!(closed_within(&mut held[0], Duration::from_secs(1)).await);
}
