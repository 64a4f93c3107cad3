//! Serving connections: hyper's HTTP/1 server under three limits a hostile or careless
//! client could otherwise exhaust. A request head must arrive within `header_read_timeout`
//! (hyper's own setting; it also bounds the wait for the next request on a kept-alive
//! connection); a connection with no traffic for `idle_timeout` while no request runs is
//! closed; and at most `max_connections` are open (never more than the process's open-file
//! limit allows, less a reserve for the ledger and vendor calls). At the cap the connection
//! that never completed a request head, oldest first, or else the longest idle one, makes
//! room for the new one; only when every connection is busy do new ones wait in the
//! listen backlog. The process never runs out of files, so `/healthz` keeps answering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

use super::observe;
use super::problem::ApiError;
use axum::response::IntoResponse;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

/// Files kept free for everything but client connections (ledger, vendors, logs).
const RESERVED_FILES: usize = 64;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A backstop so that no client request hangs, whatever happens below.
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// `max_connections`, lowered to what the open-file limit allows.
    fn cap(&self) -> usize {
        match open_file_limit() {
            Some(files) => self
                .max_connections
                .min(files.saturating_sub(RESERVED_FILES).max(1)),
            None => self.max_connections,
        }
    }
}

/// The soft limit on open files, from `/proc/self/limits`.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// One connection as the accept loop sees it.
struct Conn {
    accepted: Instant,
    /// A request head has arrived on it at least once.
    served: AtomicBool,
    /// Requests running now.
    active: AtomicUsize,
    /// Milliseconds after `accepted` of the last byte read or request finished.
    last_io: AtomicU64,
    evict: Notify,
    /// Asked to close to make room (it still counts until its task has ended).
    evicted: AtomicBool,
}

impl Conn {
    fn idle_for(&self) -> Duration {
        self.accepted
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last_io.load(Ordering::Relaxed)))
    }

    fn touch(&self) {
        let now = self.accepted.elapsed().as_millis() as u64;
        self.last_io.store(now, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// A connection ended: a slot is free.
    freed: Notify,
}

impl Registry {
    fn len(&self) -> usize {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Connections not asked to close: what counts against the cap.
    fn open(&self) -> usize {
        self.conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|c| !c.evicted.load(Ordering::Relaxed))
            .count()
    }

    /// Asks the least useful connection to close: one that never sent a whole request
    /// head (oldest first), else the longest idle one with no request running.
    fn evict_one(&self) -> bool {
        let conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        let candidates = || {
            conns
                .values()
                .filter(|c| !c.evicted.load(Ordering::Relaxed))
        };
        let victim = candidates()
            .filter(|c| !c.served.load(Ordering::Relaxed))
            .min_by_key(|c| c.accepted)
            .or_else(|| {
                candidates()
                    .filter(|c| c.active.load(Ordering::Relaxed) == 0)
                    .max_by_key(|c| c.idle_for())
            });
        match victim {
            Some(conn) => {
                conn.evicted.store(true, Ordering::Relaxed);
                conn.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets the open
/// connections finish their requests and returns once they are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(Registry::default());
    let cap = limits.cap();
    let mut warned_at: Option<Instant> = None;
    'accepting: loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        if *shutdown.borrow() {
            break;
        }
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of files or a reset before accept: never fatal; try again shortly.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // At the cap, another connection makes room for this one (only once a newcomer is
        // really there, so the newcomer itself is never the one closed). The evicted one
        // closes on its own task; the files kept in reserve cover the moment both are
        // open. When every other connection is busy, the newcomer waits, and the ones
        // after it wait in the listen backlog.
        while registry.open() >= cap {
            if warned_at.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                warned_at = Some(Instant::now());
                tracing::warn!(
                    max_connections = cap,
                    "connection cap reached: closing the least useful connection for a new one"
                );
            }
            if !registry.evict_one() {
                tokio::select! {
                    _ = registry.freed.notified() => {}
                    changed = shutdown.changed() => if changed.is_err() { break 'accepting },
                }
            }
            if *shutdown.borrow() {
                break 'accepting;
            }
        }
        let _ = stream.set_nodelay(true);
        let id = registry.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            accepted: Instant::now(),
            served: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            last_io: AtomicU64::new(0),
            evict: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        registry
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, conn.clone());
        let registry = registry.clone();
        let router = router.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _registered = Registered { registry, id };
            serve_connection(stream, remote, router, limits, conn, shutdown).await;
        });
    }
    // Stopped accepting: no new connection gets in, and the open ones finish.
    drop(listener);
    while registry.len() > 0 {
        let _ = tokio::time::timeout(Duration::from_millis(100), registry.freed.notified()).await;
    }
}

/// A connection in the registry until its task ends, however it ends (a panic included):
/// a connection that is gone must not hold a place under the cap.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        self.registry.freed.notify_one();
    }
}

/// A request running on a connection, until its answer is made or it is dropped: a
/// connection with none may be closed for a new one at the cap.
struct Active(Arc<Conn>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    conn: Arc<Conn>,
    mut shutdown: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Tracked {
        inner: stream,
        conn: conn.clone(),
    });
    let service = {
        let conn = conn.clone();
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            conn.served.store(true, Ordering::Relaxed);
            conn.active.fetch_add(1, Ordering::Relaxed);
            request.extensions_mut().insert(ConnectInfo(remote));
            let (router, conn) = (router.clone(), conn.clone());
            async move {
                let request = request.map(axum::body::Body::new);
                let _active = Active(conn);
                let response = observe::observe(request, |request| async move {
                    // A panic below (a bug) is this request's problem+json 500, logged;
                    // the connection, and every other request, go on.
                    let answer = AssertUnwindSafe(router.oneshot(request)).catch_unwind();
                    match tokio::time::timeout(limits.request_timeout, answer).await {
                        Ok(Ok(Ok(response))) => response,
                        Ok(Ok(Err(never))) => match never {},
                        Ok(Err(panic)) => {
                            let message = panic
                                .downcast_ref::<&str>()
                                .map(|m| m.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            tracing::error!(panic = %message, "a request handler panicked");
                            ApiError::Internal.into_response()
                        }
                        Err(_) => ApiError::RequestTimeout(limits.request_timeout).into_response(),
                    }
                })
                .await;
                Ok::<_, std::convert::Infallible>(response)
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let connection = http.serve_connection(io, service);
    tokio::pin!(connection);
    let mut check = tokio::time::interval(limits.idle_timeout.min(Duration::from_secs(1)));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut connection => return,
            _ = conn.evict.notified() => return,
            _ = shutdown.changed() => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
                return;
            }
            _ = check.tick() => {
                let idle = conn.active.load(Ordering::Relaxed) == 0
                    && conn.idle_for() >= limits.idle_timeout;
                if idle {
                    return;
                }
            }
        }
    }
}

/// A client socket that notes when it last read from the client (answers are sent after a
/// request ends, which notes the time too; a client that stops reading its answer is idle).
struct Tracked {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
