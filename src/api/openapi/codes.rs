//! Each documented problem response's `code` enum: the codes a problem with that status can
//! carry, from the one list the server renders from (`problem::ProblemCode`). The enum is per
//! status, shared by every operation documenting that status: which of a status's codes a
//! given operation can reach depends on its vendor and input, so narrowing it further per
//! operation would be a guess the server could contradict. Each status's schema is one
//! component (`Problem404`, `Problem4XX`, ...) that the responses refer to, so the document
//! spells each list once. `FieldError.code` (an entry of `errors[]`) is narrowed the same
//! way, to the codes an item at fault can carry (`problem::FieldCode`).

use std::collections::BTreeSet;

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Type};
use utoipa::openapi::{OpenApi, RefOr, Schema};

use crate::api::problem::{FieldCode, ProblemCode};

const PROBLEM_JSON: &str = "application/problem+json";

/// Points every problem+json response of `op` at the problem schema of its status, and
/// notes the statuses used in `used`.
pub fn narrow(op: &mut Operation, used: &mut BTreeSet<String>) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let Some(content) = response.content.get_mut(PROBLEM_JSON) else {
            continue;
        };
        if codes_for(status).is_empty() {
            continue;
        }
        content.schema = Some(RefOr::Ref(Ref::from_schema_name(schema_name(status))));
        used.insert(status.clone());
    }
}

/// Adds the problem schema of each status in `used` to the document's components: the
/// `Problem` schema with `code` narrowed to that status's codes.
pub fn add_components(openapi: &mut OpenApi, used: &BTreeSet<String>) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for status in used {
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes_for(status)))
            .description(Some(format!(
                "The codes a problem with status {status} can carry"
            )));
        let schema = AllOfBuilder::new()
            .item(Ref::from_schema_name("Problem"))
            .item(ObjectBuilder::new().property("code", code).required("code"))
            .build();
        components
            .schemas
            .insert(schema_name(status), RefOr::T(Schema::AllOf(schema)));
    }
    // `errors[].code`: the codes an item at fault can carry.
    if let Some(RefOr::T(Schema::Object(field_error))) = components.schemas.get_mut("FieldError") {
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(FieldCode::all()))
            .description(Some(
                "One of the codes an item at fault can carry".to_string(),
            ));
        field_error
            .properties
            .insert("code".into(), RefOr::T(Schema::Object(code.build())));
    }
}

fn schema_name(status: &str) -> String {
    format!("Problem{status}")
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
