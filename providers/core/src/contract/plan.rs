//! A planned case: what the suite runs, and the check that its recordings really play the
//! fault it names.

use std::time::Duration;

use serde_json::Value;

use super::{CallPattern, CanonicalRequest, Case, Phase, TIMEOUT_CASE_LIMIT};
use crate::fixture::Exchange;

/// One case to run.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    pub phase: Phase,
    pub case: Case,
    pub fixtures: Vec<String>,
    pub request: CanonicalRequest,
    /// The manifest's `[instance]` with the case's own settings applied.
    pub instance: serde_json::Map<String, Value>,
}

/// A case the manifest declares not applicable, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub phase: Phase,
    pub case: Case,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub cases: Vec<PlannedCase>,
    pub not_applicable: Vec<Skipped>,
}

impl PlannedCase {
    /// `phase.case`, for reports.
    pub fn label(&self) -> String {
        format!("{}.{}", self.phase.name(), self.case)
    }

    /// Checks the case's loaded fixtures (in the manifest's order): the last shows the
    /// case's fault, those before it answer normally; a lookup sends no create request; a
    /// create sends at most one, and the fault comes on it or before it as the case needs.
    /// Answers how many create requests the vendor must receive.
    pub fn check_fixtures(
        &self,
        fixtures: &[Exchange],
        create_call: Option<&CallPattern>,
    ) -> Result<usize, String> {
        let (fault, before) = fixtures.split_last().ok_or("has no fixtures")?;
        self.case
            .check_fault(fault)
            .map_err(|e| format!("its last fixture {e}"))?;
        for (name, e) in self.fixtures.iter().zip(before) {
            let slow =
                Duration::from_millis(e.response.delay_ms.unwrap_or(0)) >= TIMEOUT_CASE_LIMIT;
            if e.response.fault.is_some() || slow {
                return Err(format!(
                    "fixture {name} comes before the fault, so it must answer normally"
                ));
            }
        }
        let is_create = |e: &Exchange| create_call.is_some_and(|c| c.matches_fixture(e));
        let creates = fixtures.iter().filter(|e| is_create(e)).count();
        match self.phase {
            Phase::Lookup | Phase::Quote if creates > 0 => Err(format!(
                "a {} case lists a create request among its fixtures",
                self.phase.name()
            )),
            Phase::Lookup | Phase::Quote => Ok(0),
            Phase::Create if creates > 1 => Err(format!(
                "lists {creates} create requests; a create is sent once, never again"
            )),
            Phase::Create => match (self.case.fault_on_create_call(), is_create(fault)) {
                (Some(true), false) => Err(
                    "the fault must come on the create request (its last fixture must match [create].call)"
                        .into(),
                ),
                (Some(false), _) if creates > 0 => Err(
                    "the fault must come before the create request, which is then never sent: \
                     no fixture may match [create].call"
                        .into(),
                ),
                _ => Ok(creates),
            },
        }
    }
}
