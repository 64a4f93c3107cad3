//! Each documented problem response's `code` enum: the codes a problem with that status can
//! carry, from the one list the server renders from (`problem::ProblemCode`). The enum is per
//! status, shared by every operation documenting that status: which of a status's codes a
//! given operation can reach depends on its vendor and input, so narrowing it further per
//! operation would be a guess the server could contradict.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::api::problem::ProblemCode;

const PROBLEM_JSON: &str = "application/problem+json";

/// Gives every problem+json response of `op` the `code` enum of its status.
pub fn narrow(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(content) = response.content.get_mut(PROBLEM_JSON) else {
            continue;
        };
        let codes = codes_for(status);
        if codes.is_empty() {
            continue;
        }
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes))
            .description(Some("The codes a problem with this status can carry"));
        let schema = AllOfBuilder::new()
            .item(Ref::from_schema_name("Problem"))
            .item(ObjectBuilder::new().property("code", code).required("code"))
            .build();
        content.schema = Some(RefOr::T(Schema::AllOf(schema)));
    }
}

/// The codes of a response key: a status (`404`) or a class (`4XX`).
pub fn codes_for(key: &str) -> Vec<&'static str> {
    match (
        key.parse::<u16>(),
        key.strip_suffix("XX").map(str::parse::<u16>),
    ) {
        (Ok(status), _) => ProblemCode::for_status(status),
        (_, Some(Ok(class))) => ProblemCode::for_class(class),
        _ => Vec::new(),
    }
}
