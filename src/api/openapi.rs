//! The OpenAPI 3.1 document, generated from the Rust types and handler annotations so the
//! served contract cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

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
    paths(
        super::healthz,
        super::readyz,
        super::providers::list,
        super::refunds::create,
        super::refunds::get,
        super::refunds::list,
        super::refund_actions::reconcile,
        super::refund_actions::resolve,
        super::batches::create,
        super::batches::get,
        super::batches::items,
        super::batches::cancel
    ),
    components(schemas(
        CreateRefundBody,
        super::refund_actions::ResolveBody,
        refund_provider::StatusReason,
        super::batches::CreateBatchBody,
        crate::service::report::BatchReport,
        crate::service::report::ItemReport,
        super::batches::ItemPage,
        super::problem::FieldError,
        super::Health,
        RefundList,
        ProviderList,
        ProviderInfo,
        Problem,
        refund_provider::Refund,
        refund_provider::RefundStatus,
        refund_provider::RefundLine,
        refund_provider::LineStatus,
        refund_provider::LineKind,
        refund_provider::LineCounts,
        refund_provider::Target,
        refund_provider::Money,
        refund_provider::Capabilities,
    ))
)]
pub struct ApiDoc;

#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
