//! W3C trace context (`traceparent`, `tracestate`), carried from a client's request to every
//! vendor call it causes. Kept apart from OpenTelemetry so that propagation works, and costs
//! next to nothing, when no exporter is configured: the request's context lives in a tokio
//! task-local for the time its answer is computed, and the transport (`GuardedTransport`)
//! writes a child of it into every vendor request. Vendor crates never see it.

use std::fmt::Write as _;

/// The most of an incoming `tracestate` passed on (the W3C limit for propagators).
const MAX_TRACESTATE: usize = 512;

/// One position in a trace: the trace, the span that is the parent of what comes next, and
/// the trace flags; `state` is the vendor-specific `tracestate`, passed on untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
    pub flags: u8,
    pub state: Option<String>,
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

impl TraceContext {
    /// Reads a `traceparent` (and its `tracestate`); `None` when it is not a valid one, in
    /// which case the caller starts a new trace (as the W3C recommendation says).
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<TraceContext> {
        let mut parts = traceparent.trim().split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let parent = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !hex(version, 2) || version == "ff" || (version == "00" && rest.is_some()) {
            return None;
        }
        if !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok().filter(|&t| t != 0)?;
        let span_id = u64::from_str_radix(parent, 16).ok().filter(|&s| s != 0)?;
        let state = tracestate
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_TRACESTATE)
            .filter(|s| s.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
            .map(str::to_string);
        Some(TraceContext {
            trace_id,
            span_id,
            flags: u8::from_str_radix(flags, 16).ok()? & 0x01,
            state,
        })
    }

    /// A new trace. `sampled` when its spans are exported (the `sampled` flag tells the
    /// vendor whether the caller records them).
    pub fn new_root(sampled: bool) -> TraceContext {
        TraceContext {
            trace_id: fastrand::u128(1..),
            span_id: new_span_id(),
            flags: u8::from(sampled),
            state: None,
        }
    }

    /// The same trace, with a new span as the parent of what comes next.
    pub fn child(&self) -> TraceContext {
        TraceContext {
            span_id: new_span_id(),
            ..self.clone()
        }
    }

    /// The `traceparent` header value (version 00).
    pub fn traceparent(&self) -> String {
        let mut out = String::with_capacity(55);
        let _ = write!(
            out,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.flags
        );
        out
    }

    /// The trace id as written in `traceparent` (and in exported spans).
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

/// A random non-zero span id.
pub fn new_span_id() -> u64 {
    fastrand::u64(1..)
}

/// Runs `future` with `context` as the current trace context.
pub async fn scope<F: std::future::Future>(context: TraceContext, future: F) -> F::Output {
    CURRENT.scope(context, future).await
}

/// The trace context of the request being answered, if any (background work has none).
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_round_trips() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = TraceContext::parse(text, Some("congo=t61rcWkgMzE")).unwrap();
        assert_eq!(context.traceparent(), text);
        assert_eq!(context.state.as_deref(), Some("congo=t61rcWkgMzE"));
        let child = context.child();
        assert_eq!(child.trace_id, context.trace_id);
        assert_ne!(child.span_id, context.span_id);
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        for text in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(text, None), None, "{text}");
        }
        // A later version may carry more fields; the first four are read.
        assert!(TraceContext::parse(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more",
            None
        )
        .is_some());
    }

    #[test]
    fn a_new_root_is_a_valid_traceparent() {
        let root = TraceContext::new_root(false);
        let parsed = TraceContext::parse(&root.traceparent(), None).unwrap();
        assert_eq!(parsed, root);
    }
}
