//! When each request reached a loopback server. The kernel stamps a socket's incoming
//! data (`SO_TIMESTAMPNS`) when the sender's write delivers it to the loopback device, so
//! the stamp is the sender's send instant however late this process gets to read it. A
//! request's instant is that of its first bytes: those read after the previous answer was
//! written (HTTP/1 without pipelining: a request's body never starts the next request).

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

tokio::task_local! {
    static ARRIVAL: Option<Instant>;
}

/// The instant the request being answered arrived, inside a loopback server's handler.
pub fn arrival() -> Option<Instant> {
    ARRIVAL.try_with(|a| *a).ok().flatten()
}

/// Runs a handler with `arrived` as its request's arrival.
pub(super) async fn scope<F: std::future::Future>(arrived: Option<Instant>, f: F) -> F::Output {
    ARRIVAL.scope(arrived, f).await
}

#[derive(Default)]
struct Stamps {
    /// The arrival of the request being read or answered.
    current: Option<Instant>,
    /// An answer was written since `current` was stamped: the next bytes are a new request.
    answered: bool,
}

/// A connection's arrivals, read by the server when a request's head is parsed.
#[derive(Clone, Default)]
pub(super) struct Arrivals(Arc<Mutex<Stamps>>);

impl Arrivals {
    pub(super) fn current(&self) -> Option<Instant> {
        self.lock().current
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stamps> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self, at: Instant) {
        let mut stamps = self.lock();
        if stamps.answered || stamps.current.is_none() {
            *stamps = Stamps {
                current: Some(at),
                answered: false,
            };
        }
    }

    fn wrote(&self) {
        self.lock().answered = true;
    }
}

/// A TCP stream whose reads note the kernel's receive timestamp.
pub(super) struct StampedStream {
    inner: TcpStream,
    arrivals: Arrivals,
}

impl StampedStream {
    pub(super) fn new(inner: TcpStream) -> StampedStream {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket and an option value of the size given.
        let failed = unsafe {
            libc::setsockopt(
                inner.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        } != 0;
        if failed {
            // Without kernel stamps, a read is stamped when it happens.
            tracing::debug!("no receive timestamps on a loopback connection");
        }
        StampedStream {
            inner,
            arrivals: Arrivals::default(),
        }
    }

    pub(super) fn arrivals(&self) -> Arrivals {
        self.arrivals.clone()
    }
}

/// One `recvmsg` into `buf`: the bytes read and the kernel's stamp of them, if any.
fn recv_stamped(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one control message holding a timespec, suitably aligned.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; every pointer in it refers to a live local buffer of
    // the length given, and the control messages are read only within what recvmsg wrote.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(fd, &mut msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut stamp = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                if ts.tv_sec > 0 {
                    stamp = Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        Ok((n as usize, stamp))
    }
}

/// A wall-clock stamp as an `Instant`, both clocks read now.
fn as_instant(stamp: Option<SystemTime>) -> Instant {
    let now = Instant::now();
    match stamp.and_then(|s| SystemTime::now().duration_since(s).ok()) {
        Some(ago) => now.checked_sub(ago).unwrap_or(now),
        None => now,
    }
}

impl AsyncRead for StampedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let fd = this.inner.as_raw_fd();
            let unfilled = buf.initialize_unfilled();
            match this
                .inner
                .try_io(Interest::READABLE, || recv_stamped(fd, unfilled))
            {
                Ok((n, stamp)) => {
                    if n > 0 {
                        this.arrivals.read(as_instant(stamp));
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.arrivals.wrote();
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        this.arrivals.wrote();
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
