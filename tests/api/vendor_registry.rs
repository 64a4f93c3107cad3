//! Adding a vendor is its folder, its fixtures and two lines of code elsewhere (the root
//! `Cargo.toml`, `src/registry.rs`); everything else that names vendors is checked against
//! `registry::kinds()` here (README, Adding a vendor). Every registered kind has a documented example
//! config (`config/examples/<kind>.toml`) that `check-config` accepts as a real process,
//! no example names a kind the registry does not know, every crate folder under
//! `providers/` is a dependency of the gateway and a registered kind, the default config
//! has a sandbox instance of every kind, and README's provider table and `kind` list name
//! exactly the registered kinds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use figment::providers::{Format, Toml};
use figment::Figment;
use refund_gateway::registry;
use serde_json::Value;

use crate::support::repo_path;

fn kinds() -> BTreeSet<String> {
    let kinds: Vec<String> = registry::kinds().into_iter().map(String::from).collect();
    let set: BTreeSet<String> = kinds.iter().cloned().collect();
    assert_eq!(
        set.len(),
        kinds.len(),
        "a kind is registered twice: {kinds:?}"
    );
    set
}

fn example(kind: &str) -> PathBuf {
    repo_path(&format!("config/examples/{kind}.toml"))
}

/// A config file as JSON, without any environment override.
fn read_toml(path: &Path) -> Value {
    Figment::from(Toml::file_exact(path))
        .extract()
        .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()))
}

/// Every credential reference in a config: `(key path, "env" | "file", name)`.
fn secret_refs(value: &Value, at: &str, out: &mut Vec<(String, &'static str, String)>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                for how in ["env", "file"] {
                    if let Some(Value::String(name)) = map.get(how) {
                        out.push((at.to_string(), how, name.clone()));
                        return;
                    }
                }
            }
            for (key, v) in map {
                let at = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                secret_refs(v, &at, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                secret_refs(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_kind_has_an_example_config_that_checks() {
    for kind in kinds() {
        let path = example(&kind);
        assert!(
            path.is_file(),
            "config/examples/{kind}.toml is missing: every registered kind needs a documented \
             example of a real (non-sandbox) instance (README, Adding a vendor)"
        );
        let config = read_toml(&path);
        let instances = config
            .get("providers")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{kind}.toml configures no [providers.<name>]"));
        assert!(!instances.is_empty(), "{kind}.toml configures no instance");
        for (name, instance) in instances {
            assert_eq!(
                instance.get("kind").and_then(Value::as_str),
                Some(kind.as_str()),
                "{kind}.toml: providers.{name} must be of kind `{kind}`"
            );
            assert_ne!(
                instance.get("sandbox").and_then(Value::as_bool),
                Some(true),
                "{kind}.toml: providers.{name} must be a real instance, not a sandbox"
            );
        }

        // Provide every credential the example references: variables in the child's
        // environment, files (relative paths) in its working directory.
        let mut refs = Vec::new();
        secret_refs(&config, "", &mut refs);
        assert!(
            !refs.is_empty(),
            "{kind}.toml references no credential: show how the vendor's are given"
        );
        let workdir = std::env::temp_dir().join(format!(
            "rg-example-{kind}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&workdir);
        std::fs::create_dir_all(&workdir).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_refund-gateway"));
        cmd.arg("check-config")
            .arg("--config")
            .arg(&path)
            .current_dir(&workdir);
        for (var, _) in std::env::vars() {
            if var.starts_with("REFUND_GATEWAY__") {
                cmd.env_remove(var);
            }
        }
        for (key, how, name) in &refs {
            let value = format!("example-credential-for-{key}");
            match *how {
                "env" => {
                    cmd.env(name, value);
                }
                _ => {
                    assert!(
                        Path::new(name).is_relative(),
                        "{kind}.toml: {key} = {{ file = \"{name}\" }}: use a relative path in \
                         examples (read from the gateway's working directory), so this test \
                         can provide the file"
                    );
                    let file = workdir.join(name);
                    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                    std::fs::write(file, value).unwrap();
                }
            }
        }
        let out = cmd.output().expect("refund-gateway runs");
        let _ = std::fs::remove_dir_all(&workdir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "check-config refused config/examples/{kind}.toml:\n{stdout}{stderr}"
        );
        for name in instances.keys() {
            assert!(
                stdout.contains(&format!("  {name} ({kind}): ")),
                "check-config did not list providers.{name} as a real {kind} instance:\n{stdout}"
            );
        }
    }
}

#[test]
fn no_example_config_for_an_unregistered_kind() {
    let kinds = kinds();
    let dir = repo_path("config/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("config/examples exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(kind) = name.strip_suffix(".toml") else {
            panic!("config/examples/{name}: only <kind>.toml files belong here");
        };
        assert!(
            kinds.contains(kind),
            "config/examples/{name} names no registered kind (registry: {kinds:?})"
        );
        seen += 1;
    }
    assert_eq!(seen, kinds.len());
}

#[test]
fn every_provider_folder_is_a_dependency_and_a_registered_kind() {
    let kinds = kinds();
    let manifest = std::fs::read_to_string(repo_path("Cargo.toml")).unwrap();
    let mut folders = BTreeSet::new();
    for entry in std::fs::read_dir(repo_path("providers")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().join("Cargo.toml").is_file() || name == "core" {
            continue;
        }
        let line = format!("provider-{name} = {{ path = \"providers/{name}\" }}");
        assert!(
            manifest.lines().any(|l| l.trim() == line),
            "the root Cargo.toml needs the line `{line}` under [dependencies]"
        );
        assert!(
            entry.path().join("README.md").is_file(),
            "providers/{name}/README.md is missing"
        );
        assert!(
            repo_path(&format!("fixtures/{name}")).is_dir(),
            "fixtures/{name}/ is missing"
        );
        folders.insert(name);
    }
    assert_eq!(
        folders, kinds,
        "provider crate folders (providers/<kind>, core aside) and registered kinds differ: \
         a folder needs its line in src/registry.rs, and a kind its folder"
    );
}

#[test]
fn the_default_config_has_a_sandbox_instance_of_every_kind() {
    let config = read_toml(&repo_path("config/gateway.toml"));
    let sandboxed: BTreeSet<String> = config
        .get("providers")
        .and_then(Value::as_object)
        .expect("config/gateway.toml configures providers")
        .values()
        .filter(|i| i.get("sandbox").and_then(Value::as_bool) == Some(true))
        .filter_map(|i| i.get("kind").and_then(Value::as_str).map(String::from))
        .collect();
    assert_eq!(
        sandboxed,
        kinds(),
        "config/gateway.toml (the default config) runs one sandbox instance of every vendor"
    );
}

/// The lines of README's `## <title>` section.
fn readme_section<'a>(readme: &'a str, title: &str) -> Vec<&'a str> {
    let heading = format!("## {title}");
    let mut lines = readme.lines().skip_while(|l| l.trim_end() != heading);
    assert!(lines.next().is_some(), "README has no `{heading}` section");
    lines.take_while(|l| !l.starts_with("## ")).collect()
}

#[test]
fn readme_provider_table_and_kind_list_name_exactly_the_registered_kinds() {
    let kinds = kinds();
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();

    // ## Providers: the first table, one row per kind, the kind in the first cell.
    let section = readme_section(&readme, "Providers");
    let table: Vec<&str> = section
        .iter()
        .copied()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(
        table.len() > 2 && table[0].starts_with("| kind |"),
        "README's Providers section must start with the provider table (`| kind | ...`)"
    );
    let rows: Vec<String> = table[2..]
        .iter()
        .map(|row| {
            row.trim_start_matches('|')
                .split('|')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('`')
                .to_string()
        })
        .collect();
    let listed: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(listed.len(), rows.len(), "a kind has two rows: {rows:?}");
    assert_eq!(
        listed, kinds,
        "README's provider table must have one row per registered kind"
    );

    // ## Configuration: `kind = "..."   # a | b | c`.
    let section = readme_section(&readme, "Configuration");
    let line = section
        .iter()
        .find(|l| l.trim_start().starts_with("kind = ") && l.contains('#'))
        .expect("README's Configuration section lists the kinds after `kind = ...  #`");
    let comment = line.split_once('#').unwrap().1;
    let names: Vec<String> = comment.split('|').map(|k| k.trim().to_string()).collect();
    let listed: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(
        listed.len(),
        names.len(),
        "a kind is listed twice: {names:?}"
    );
    assert_eq!(
        listed, kinds,
        "README's `kind = ...  # a | b` list must name exactly the registered kinds"
    );
}
