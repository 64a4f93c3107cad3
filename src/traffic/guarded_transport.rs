//! The transport every provider instance really uses: circuit first (an open circuit
//! spends no rate budget), then the outbound pace, then HTTP; vendor answers feed both.
//! Every call is counted and timed here (`refund_gateway_vendor_calls_total`, by instance
//! and result), with outbound-limit rejections and whether the circuit is open. Each call's
//! wait for its turn under the outbound limit is an `outbound_wait` span, and the call
//! itself, once its turn came, a `vendor_call` span (so a trace shows the wait and the
//! vendor's time apart); the call carries the W3C trace context of the request behind it.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue};
use refund_provider::{Transport, TransportError, VendorRequest, VendorResponse};
use tracing::Instrument;

use super::circuit::Circuit;
use super::outbound_limit::OutboundLimit;

pub struct GuardedTransport {
    /// The instance's name: the `instance` label of its metrics.
    pub instance: String,
    pub circuit: Arc<Circuit>,
    pub limit: Arc<OutboundLimit>,
    pub inner: Arc<dyn Transport>,
}

#[async_trait]
impl Transport for GuardedTransport {
    async fn send(&self, mut request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let admitted = self.circuit.admit();
        self.report_circuit();
        admitted?;
        let wait = tracing::info_span!(
            "outbound_wait",
            instance = %self.instance,
            waited_ms = tracing::field::Empty,
            admitted = tracing::field::Empty,
        );
        self.wait_turn(&wait).instrument(wait.clone()).await?;
        drop(wait);
        // One span per vendor call, a child of the request's, opened once the call may go:
        // the vendor gets its trace context (`traceparent`, the client's `tracestate`),
        // whatever the vendor crate built.
        let span = tracing::info_span!(
            "vendor_call",
            instance = %self.instance,
            method = %request.method,
            path = %path_template(&request.url),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            otel.kind = "client",
        );
        let context = crate::telemetry::vendor_call(&span);
        if let Ok(value) = HeaderValue::from_str(&context.traceparent()) {
            request.headers.insert(TRACEPARENT.clone(), value);
        }
        if let Some(value) = context
            .state
            .as_deref()
            .and_then(|s| HeaderValue::from_str(s).ok())
        {
            request.headers.insert(TRACESTATE.clone(), value);
        }
        self.call(request, &span).instrument(span.clone()).await
    }
}

impl GuardedTransport {
    /// Waits for this call's turn under the outbound limit (or is refused it).
    async fn wait_turn(&self, span: &tracing::Span) -> Result<(), TransportError> {
        let waited = std::time::Instant::now();
        let acquired = self.limit.acquire().await;
        let elapsed = waited.elapsed();
        span.record("waited_ms", elapsed.as_secs_f64() * 1000.0);
        span.record("admitted", acquired.is_ok());
        self.report_limit(elapsed);
        if let Err(e) = acquired {
            metrics::counter!(
                "refund_gateway_outbound_limit_rejections_total",
                "instance" => self.instance.clone(),
            )
            .increment(1);
            self.circuit.record(None);
            return Err(e);
        }
        Ok(())
    }

    /// The vendor call itself: what `vendor_call` and the call-duration histogram time.
    async fn call(
        &self,
        request: VendorRequest,
        span: &tracing::Span,
    ) -> Result<VendorResponse, TransportError> {
        let started = std::time::Instant::now();
        let result = self.inner.send(request).await;
        let elapsed = started.elapsed();
        span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
        if let Ok(response) = &result {
            span.record("status", response.status);
        }
        match &result {
            Ok(response) => {
                self.limit.observe(response.status, response.retry_after());
                self.circuit.record(Some(response.status < 500));
            }
            Err(_) => self.circuit.record(Some(false)),
        }
        self.report_circuit();
        let outcome = match &result {
            Ok(response) => status_class(response.status),
            Err(e) => error_kind(e),
        };
        metrics::counter!(
            "refund_gateway_vendor_calls_total",
            "instance" => self.instance.clone(),
            "result" => outcome,
        )
        .increment(1);
        metrics::histogram!(
            "refund_gateway_vendor_call_duration_seconds",
            "instance" => self.instance.clone(),
        )
        .record(elapsed.as_secs_f64());
        result
    }

    /// `refund_gateway_outbound_limit_wait_seconds`: how long a call waited for its turn;
    /// `refund_gateway_outbound_pace_per_second`: the pace calls go out at now (the
    /// configured rate, 0 while the vendor asked for a pause; absent without a limit).
    fn report_limit(&self, waited: std::time::Duration) {
        let instance = || self.instance.clone();
        metrics::histogram!("refund_gateway_outbound_limit_wait_seconds", "instance" => instance())
            .record(waited.as_secs_f64());
        let state = self.limit.state();
        if let Some(rate) = state.per_second {
            let pace = if state.paused_for_ms.is_some() {
                0.0
            } else {
                rate
            };
            metrics::gauge!("refund_gateway_outbound_pace_per_second", "instance" => instance())
                .set(pace);
        }
    }

    /// `refund_gateway_circuit_open`: 1 while the instance's circuit refuses calls.
    fn report_circuit(&self) {
        let open = self.circuit.state().state == "open";
        metrics::gauge!("refund_gateway_circuit_open", "instance" => self.instance.clone())
            .set(if open { 1.0 } else { 0.0 });
    }
}

static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A vendor URL's path with its ids replaced by `{id}` (a segment holding a digit), so the
/// span names the vendor operation, not the refund: `/api/orders/1269434` → `/api/orders/{id}`.
pub fn path_template(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    path.split('/')
        .map(|segment| {
            if segment.bytes().any(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The `result` label of a vendor answer: its status class.
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The `result` label of a call that got no answer.
fn error_kind(error: &TransportError) -> &'static str {
    match error {
        TransportError::Connect(_) => "connect_error",
        TransportError::Timeout { .. } => "timeout",
        TransportError::Broken(_) => "broken",
        TransportError::Throttled { .. } => "throttled",
        TransportError::CircuitOpen { .. } => "circuit_open",
    }
}
