//! The OpenAPI 3.1 document, generated from the Rust types and handler annotations so the
//! served contract cannot drift from the code.

mod codes;
mod edge;
use edge::EdgeResponses;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::problem::Problem;
use super::providers::{ProviderInfo, ProviderList};
use super::refund_input::CreateRefundBody;
use super::refunds::RefundList;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "refund-gateway",
        description = "One canonical refund API in front of ticketing vendors. \
        Errors are RFC 9457 problem+json with a stable `code`; money is a decimal string with an ISO 4217 currency."
    ),
    servers((url = "/", description = "This gateway")),
    modifiers(&BearerAuth, &EdgeResponses),
    paths(
        super::healthz,
        super::readyz,
        serve,
        super::metrics::serve,
        super::providers::list,
        super::refunds::create,
        super::refunds::get,
        super::refunds::list,
        super::quotes::create,
        super::refund_actions::reconcile,
        super::refund_actions::resolve,
        super::batches::create,
        super::batches::get,
        super::batches::items,
        super::batches::cancel,
        super::events::list,
        super::events::deliveries,
        super::events::redeliver,
        super::batch_reads::list,
        super::batch_reads::items_csv,
        super::batch_reads::events,
        super::pages::batches,
        super::pages::batch
    ),
    components(schemas(
        CreateRefundBody,
        super::refund_actions::ResolveBody,
        refund_provider::StatusReason,
        super::batches::CreateBatchBody,
        crate::service::report::BatchReport,
        crate::service::report::ItemReport,
        super::batches::ItemPage,
        super::batch_reads::BatchPage,
        crate::service::batch_progress::BatchSummary,
        crate::service::batch_progress::BatchProgress,
        crate::service::batch_progress::InstancePace,
        crate::service::batch_progress::ItemFailure,
        super::problem::FieldError,
        super::Health,
        RefundList,
        ProviderList,
        ProviderInfo,
        Problem,
        super::problem::ProblemCode,
        refund_provider::Refund,
        refund_provider::RefundStatus,
        refund_provider::RefundLine,
        refund_provider::LineStatus,
        refund_provider::LineKind,
        refund_provider::LineCounts,
        refund_provider::Target,
        refund_provider::Money,
        refund_provider::Capabilities,
        super::events::EventList,
        super::events::DeliveryList,
        crate::service::events::Event,
        crate::service::events::Delivery,
        refund_provider::Quote,
        refund_provider::QuoteLine,
        refund_provider::QuoteTotals,
        refund_provider::QuoteRules,
        refund_provider::Forecast,
        refund_provider::AmountFrom,
        refund_provider::PaymentChoice,
        refund_provider::CannotKnow,
        refund_provider::Unknowable,
        refund_provider::Balance,
        refund_provider::TicketFate,
    ))
)]
pub struct ApiDoc;

/// The `bearer` security scheme (`[[clients]]` API keys), required by every `/v1` operation
/// (the probes, metrics and this document are open).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A client's API key (`[[clients]]`); not needed when no clients are configured",
                    ))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                operation.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "getOpenApi", summary = "This OpenAPI document", responses((status = 200, description = "This document")))]
pub async fn serve(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<super::AppState>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(state.openapi.as_ref().clone())
}

/// The document a gateway serves: the bearer scheme only when `[[clients]]` are configured
/// (without them no operation takes a key), and `[server] public_url` as its server.
pub fn document(clients: bool, public_url: Option<&url::Url>) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if !clients {
        if let Some(components) = doc.components.as_mut() {
            components.security_schemes.remove("bearer");
        }
        for item in doc.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                operation.security = None;
                operation.responses.responses.remove("401");
            }
        }
    }
    if let Some(url) = public_url {
        doc.servers = Some(vec![utoipa::openapi::Server::new(
            url.as_str().trim_end_matches('/'),
        )]);
    }
    doc
}
