//! OpenTelemetry export of the gateway's spans (`[tracing] otlp_endpoint`): the request span
//! and one `vendor_call` span per vendor request, sent over OTLP/HTTP with protobuf bodies.
//!
//! Off by default, and then at no cost beyond the `tracing` spans the gateway has anyway: no
//! OpenTelemetry layer is installed, and trace context for vendors comes from
//! `trace_context` alone. When on, the spans' OpenTelemetry ids are the ones vendors receive,
//! so a vendor's trace joins the exported one.
//!
//! OTLP/HTTP with the blocking reqwest client, not gRPC (tonic): the SDK's batch processor
//! exports from a thread of its own, which the blocking client suits; reqwest is already how
//! the gateway calls vendors, so no second HTTP stack (tonic, h2, tower) comes in; and every
//! collector (OpenTelemetry Collector, Jaeger, Tempo) accepts OTLP/HTTP on port 4318.

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::TracingConfig;
use crate::trace_context::{self, TraceContext};

/// Set once the OpenTelemetry layer is installed (by `main`).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (their OpenTelemetry ids are then the ones propagated).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Why OTLP export could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up OTLP trace export to {endpoint}: {message}")]
pub struct ExportError {
    endpoint: String,
    message: String,
}

/// The exporter's provider, kept to flush the last spans at exit.
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Exports the spans still buffered and stops the exporter's thread.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "OTLP trace export did not shut down cleanly");
        }
    }
}

/// The layer that exports spans, with the exporter to shut down at exit.
pub type OtlpLayer<S> = (
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
    Exporter,
);

/// The layer exporting spans over OTLP/HTTP, when `[tracing] otlp_endpoint` is set.
pub fn otlp_layer<S>(config: &TracingConfig) -> Result<Option<OtlpLayer<S>>, ExportError>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let Some(endpoint) = config.traces_url() else {
        return Ok(None);
    };
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(endpoint.as_str())
        .with_timeout(config.export_timeout)
        .build()
        .map_err(|e| ExportError {
            endpoint: endpoint.to_string(),
            message: e.to_string(),
        })?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let sampler = opentelemetry_sdk::trace::Sampler::ParentBased(Box::new(
        opentelemetry_sdk::trace::Sampler::TraceIdRatioBased(config.sample_ratio.get()),
    ));
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("refund-gateway");
    EXPORTING.store(true, Ordering::Relaxed);
    Ok(Some((
        tracing_opentelemetry::layer().with_tracer(tracer),
        Exporter { provider },
    )))
}

/// The trace context a request is answered in: the client's `traceparent` continued, or a
/// new trace. When exporting, `span` (the request's span) becomes a child of the client's
/// span and its own ids are the context; otherwise the client's context is kept as it is
/// (each vendor call gets a span id of its own in `vendor_call`).
pub fn request_context(span: &tracing::Span, incoming: Option<TraceContext>) -> TraceContext {
    if !exporting() {
        return incoming.unwrap_or_else(|| TraceContext::new_root(false));
    }
    if let Some(incoming) = &incoming {
        let _ = span.set_parent(
            opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from(incoming.trace_id),
                SpanId::from(incoming.span_id),
                TraceFlags::new(incoming.flags),
                true,
                incoming
                    .state
                    .as_deref()
                    .and_then(|s| s.parse::<TraceState>().ok())
                    .unwrap_or_default(),
            )),
        );
    }
    of_span(span, incoming.and_then(|c| c.state))
}

/// The trace context to send with a vendor call whose span is `span`: the request's trace
/// (a new one for background work), with the vendor call as the parent span.
pub fn vendor_call(span: &tracing::Span) -> TraceContext {
    let current = trace_context::current();
    if exporting() {
        return of_span(span, current.and_then(|c| c.state));
    }
    match current {
        Some(context) => context.child(),
        None => TraceContext::new_root(false),
    }
}

/// The OpenTelemetry ids of `span` (built now if it was not yet).
fn of_span(span: &tracing::Span, state: Option<String>) -> TraceContext {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if !span_context.is_valid() {
        // Filtered out (the log filter drops the span): a trace of its own still goes out.
        return TraceContext::new_root(false);
    }
    TraceContext {
        trace_id: u128::from_be_bytes(span_context.trace_id().to_bytes()),
        span_id: u64::from_be_bytes(span_context.span_id().to_bytes()),
        flags: span_context.trace_flags().to_u8() & 0x01,
        state,
    }
}
