//! What the suite ran for one vendor folder, and its summary line.

use std::collections::BTreeMap;

use refund_provider::contract::Phase;

#[derive(Default)]
pub(crate) struct VendorReport {
    pub(crate) vendor: String,
    /// `phase.case [fixtures]` (or `recorded.NNN-phase [fixtures]`) and whether the gateway
    /// answered as the contract (or the recording) says.
    pub(crate) ran: Vec<(String, Result<(), String>)>,
    /// Fault cases run, per phase.
    pub(crate) counts: BTreeMap<Phase, usize>,
    /// Recorded cases replayed (a folder written by `refund-gateway record`).
    pub(crate) recorded: usize,
    pub(crate) not_applicable: Vec<String>,
    /// Fault cases a recorded folder's recordings cannot play, and why.
    pub(crate) not_recorded: Vec<String>,
    /// Problems of the manifest or the folder, which stop the vendor's run.
    pub(crate) problems: Vec<String>,
}

impl VendorReport {
    /// Every failure, one entry each, naming the vendor and the case.
    pub(crate) fn failures(&self) -> Vec<String> {
        let mut failures: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}: {p}", self.vendor))
            .collect();
        for (label, outcome) in &self.ran {
            if let Err(why) = outcome {
                failures.push(format!("{} {label}: {why}", self.vendor));
            }
        }
        failures
    }

    pub(crate) fn summary(&self) -> String {
        let count = |p: Phase| self.counts.get(&p).copied().unwrap_or(0);
        let failed = self.ran.iter().filter(|(_, r)| r.is_err()).count();
        let mut line = format!(
            "shared contract suite: {} ran {} cases (recorded: {}, create: {}, lookup: {}, quote: {})",
            self.vendor,
            self.ran.len(),
            self.recorded,
            count(Phase::Create),
            count(Phase::Lookup),
            count(Phase::Quote)
        );
        if failed > 0 {
            line.push_str(&format!(", {failed} FAILED"));
        }
        if !self.problems.is_empty() {
            line.push_str(", manifest or folder INVALID");
        }
        if !self.not_applicable.is_empty() {
            line.push_str(&format!(
                "; not applicable: {}",
                self.not_applicable.join("; ")
            ));
        }
        if !self.not_recorded.is_empty() {
            line.push_str(&format!("; not recorded: {}", self.not_recorded.join("; ")));
        }
        let groups = std::iter::once("recorded").chain(Phase::ALL.iter().map(|p| p.name()));
        for group in groups {
            let cases: Vec<String> = self
                .ran
                .iter()
                .filter(|(label, _)| label.starts_with(&format!("{group}.")))
                .map(|(label, outcome)| {
                    let name = label.split([' ', '.']).nth(1).unwrap_or(label);
                    match outcome {
                        Ok(()) => name.to_string(),
                        Err(_) => format!("{name} (FAILED)"),
                    }
                })
                .collect();
            if !cases.is_empty() {
                line.push_str(&format!("\n    {group}: {}", cases.join(", ")));
            }
        }
        line
    }
}
