//! Stubbur's wire format (ServiceStack DTOs, camelCase JSON), as published on its
//! `/refund/process` metadata page. Nothing here knows canonical types; `mapping.rs` does.

use refund_provider::rust_decimal::Decimal;
use refund_provider::vendor_decimal::exact_opt;
use serde::{Deserialize, Serialize};

/// The path of the one refund service, relative to the base URL.
pub const REFUND_PATH: &str = "/refund/process";
/// ServiceStack's credentials login, relative to the base URL.
pub const LOGIN_PATH: &str = "/auth/credentials";

/// `RefundRequest`. There is no amount: Stubbur refunds whole selections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequestWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_all_for_event: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ticket_token_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

/// `RefundResult`. Every field is optional in the DTO, so every field is optional here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundResult {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub status_code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub refunded_count: Option<u32>,
    #[serde(default)]
    pub skipped_count: Option<u32>,
    #[serde(default)]
    pub failed_count: Option<u32>,
    #[serde(
        default,
        serialize_with = "decimal_as_number",
        deserialize_with = "exact_opt"
    )]
    pub total_refunded: Option<Decimal>,
    #[serde(default)]
    pub outcomes: Option<Vec<RefundOrderOutcome>>,
}

/// `RefundOrderOutcome`: one order touched by a refund. `holderName`/`holderEmail` are
/// personal data: they are read (the sandbox writes them) but never copied anywhere.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOrderOutcome {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub payment_reference: Option<String>,
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub event_id: Option<i64>,
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub holder_name: Option<String>,
    #[serde(default)]
    pub holder_email: Option<String>,
    #[serde(
        default,
        serialize_with = "decimal_as_number",
        deserialize_with = "exact_opt"
    )]
    pub amount_refunded: Option<Decimal>,
    #[serde(default)]
    pub partial: Option<bool>,
    #[serde(default)]
    pub ticket_token_ids: Option<Vec<String>>,
    #[serde(default)]
    pub freed_seat_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub borgun_refund_transaction_id: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Stubbur writes amounts as JSON numbers (the sandbox does too): built from the decimal's
/// exact text, never through arithmetic in f64.
fn decimal_as_number<S: serde::Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    match value {
        None => serializer.serialize_none(),
        Some(d) => d
            .to_string()
            .parse::<serde_json::Number>()
            .map_err(S::Error::custom)?
            .serialize(serializer),
    }
}

/// ServiceStack's error body. ServiceStack writes camelCase for JSON by default but
/// PascalCase when so configured, so both spellings are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(rename = "responseStatus", alias = "ResponseStatus", default)]
    pub response_status: Option<ResponseStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseStatus {
    #[serde(rename = "errorCode", alias = "ErrorCode", default)]
    pub error_code: Option<String>,
    #[serde(rename = "message", alias = "Message", default)]
    pub message: Option<String>,
    #[serde(rename = "errors", alias = "Errors", default)]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    #[serde(rename = "errorCode", alias = "ErrorCode", default)]
    pub error_code: Option<String>,
    #[serde(rename = "fieldName", alias = "FieldName", default)]
    pub field_name: Option<String>,
    #[serde(rename = "message", alias = "Message", default)]
    pub message: Option<String>,
}

/// ServiceStack's `Authenticate` request for the credentials provider. Debug never shows
/// the password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub user_name: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user_name", &self.user_name)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The parts of ServiceStack's `AuthenticateResponse` we use: the session id, in case a
/// deployment answers without cookies. The session id is the session cookie's value, a
/// credential: Debug says only whether there is one.
#[derive(Clone, Default, Deserialize)]
pub struct LoginResponse {
    #[serde(rename = "sessionId", alias = "SessionId", default)]
    pub session_id: Option<String>,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field(
                "session_id",
                &self.session_id.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_sample_and_pascal_case_errors() {
        let r: RefundResult = serde_json::from_str(
            r#"{"success":false,"statusCode":0,"message":"String","refundedCount":0,
            "skippedCount":0,"failedCount":0,"totalRefunded":0,"outcomes":[{"status":"String",
            "paymentReference":"String","paymentId":"String","eventId":0,"eventName":"String",
            "holderName":"String","holderEmail":"String","amountRefunded":0,"partial":false,
            "ticketTokenIds":["String"],"freedSeatIds":[0],"borgunRefundTransactionId":"String",
            "message":"String"}]}"#,
        )
        .unwrap();
        assert_eq!(r.outcomes.unwrap()[0].freed_seat_ids, Some(vec![0]));
        let e: ErrorResponse =
            serde_json::from_str(r#"{"ResponseStatus":{"ErrorCode":"X","Message":"m"}}"#).unwrap();
        assert_eq!(e.response_status.unwrap().error_code.as_deref(), Some("X"));
    }

    #[test]
    fn debug_never_shows_the_password_or_the_session_id() {
        let login = LoginRequest {
            user_name: "gateway".into(),
            password: "hunter2-secret".into(),
        };
        let shown = format!("{login:?} {login:#?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(
            shown.contains("gateway") && shown.contains("[redacted]"),
            "{shown}"
        );
        let session: LoginResponse =
            serde_json::from_str(r#"{"sessionId": "s3ss10n-cookie-value"}"#).unwrap();
        let shown = format!("{session:?} {session:#?}");
        assert!(!shown.contains("s3ss10n-cookie-value"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn request_omits_what_is_not_set() {
        let body = RefundRequestWire {
            ticket_token_ids: vec!["t1".into()],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"ticketTokenIds": ["t1"]})
        );
    }
}
