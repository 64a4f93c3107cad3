//! The architecture's invariants, checked on the source: nothing below the API names it or
//! any HTTP type, only `api/problem.rs` chooses HTTP statuses, and only `registry.rs` names
//! vendor crates. A change that breaks one fails here with the file and line.

use std::path::Path;

use crate::support::repo_path;

/// Every `.rs` file under `src/`, with its path relative to the repository.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(repo_path(""))
                    .unwrap()
                    .display()
                    .to_string();
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_path("src"), &mut out);
    assert!(out.len() > 20, "found the sources");
    out
}

/// Lines of code (comments skipped) in files `within` that contain any of `words`.
fn offending(within: impl Fn(&str) -> bool, words: &[&str]) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(file, _)| within(file))
        .flat_map(|(file, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim_start().starts_with("//"))
                .filter(|(_, line)| words.iter().any(|w| line.contains(w)))
                .map(|(n, line)| format!("{file}:{}: {}", n + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The domain and everything it stands on: what lies beneath the API.
fn below_the_api(file: &str) -> bool {
    ["src/service", "src/storage", "src/traffic", "src/config"]
        .iter()
        .any(|dir| file.starts_with(dir))
        || [
            "src/instances.rs",
            "src/registry.rs",
            "src/backoff.rs",
            "src/outbound.rs",
        ]
        .contains(&file)
}

#[test]
fn nothing_below_the_api_names_it() {
    // The composition root: `app` (with `app/`), `cli` (with `cli/`), main and lib.
    let composition_root = |file: &str| {
        ["src/app", "src/cli"].iter().any(|m| file.starts_with(m))
            || ["src/main.rs", "src/lib.rs"].contains(&file)
    };
    let found = offending(
        |file| !file.starts_with("src/api") && !composition_root(file),
        &["crate::api"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_domain_speaks_no_http() {
    let found = offending(
        below_the_api,
        &["axum", "StatusCode", "hyper::", "IntoResponse", "HeaderMap"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_problem_rs_chooses_http_statuses() {
    let found = offending(
        // `src/api/problem.rs` and its modules (`src/api/problem/`).
        |file| !file.starts_with("src/api/problem") && !file.starts_with("src/replay"),
        &["StatusCode::"],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_the_registry_names_vendor_crates() {
    let found = offending(|file| file != "src/registry.rs", &["provider_"]);
    let found: Vec<_> = found
        .into_iter()
        .filter(|line| {
            ["fourvenues", "ivvy", "paylogic", "stubbur", "ticketmatic"]
                .iter()
                .any(|v| line.contains(&format!("provider_{v}")))
        })
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}
