//! Project conventions, checked by `cargo test` so they hold without anyone remembering them:
//! crates depend downward only, every Rust file says what it is for, and no test is switched off.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Which workspace crates each crate may use (ARCHITECTURE: dependencies point down).
fn allowed_dependencies() -> BTreeMap<&'static str, &'static [&'static str]> {
    let leaf: &'static [&'static str] = &[];
    BTreeMap::from([
        ("events", leaf),
        ("crypto", leaf),
        ("store", leaf),
        ("docker-client", leaf),
        ("npm-client", leaf),
        ("poller", &["store", "events"][..]),
        (
            "deployer",
            &[
                "poller",
                "docker-client",
                "npm-client",
                "store",
                "crypto",
                "events",
            ][..],
        ),
        // The API reaches Docker and NPM only through the deployer.
        (
            "api",
            &["deployer", "poller", "store", "crypto", "events"][..],
        ),
        (
            "server",
            &[
                "api",
                "deployer",
                "poller",
                "docker-client",
                "npm-client",
                "store",
                "crypto",
                "events",
            ][..],
        ),
    ])
}

/// The workspace crates named in one manifest's `[dependencies]` and `[dev-dependencies]` tables.
fn workspace_dependencies(manifest: &str, crate_names: &[&str]) -> Vec<String> {
    let mut res = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]"
                || line == "[dev-dependencies]"
                || line == "[build-dependencies]";
            continue;
        }
        if !in_dependencies {
            continue;
        }
        let key = line.split(['=', '.']).next().unwrap_or("").trim();
        if crate_names.contains(&key) {
            res.push(key.to_string());
        }
    }
    res
}

#[test]
fn crates_depend_downward_only() {
    let allowed = allowed_dependencies();
    let names: Vec<&str> = allowed.keys().copied().collect();
    let mut violations = Vec::new();
    for (krate, may_use) in &allowed {
        let path = workspace_root()
            .join("crates")
            .join(krate)
            .join("Cargo.toml");
        let manifest =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for dependency in workspace_dependencies(&manifest, &names) {
            if !may_use.contains(&dependency.as_str()) {
                violations.push(format!(
                    "{}: {krate} must not depend on {dependency}",
                    path.display()
                ));
            }
        }
    }
    let on_disk = fs::read_dir(workspace_root().join("crates"))
        .unwrap()
        .count();
    assert_eq!(
        on_disk,
        allowed.len(),
        "a crate was added or removed: update allowed_dependencies"
    );
    assert!(
        violations.is_empty(),
        "dependency rule broken:\n{}",
        violations.join("\n")
    );
}

fn rust_files(dir: &Path, res: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("node_modules") {
                rust_files(&path, res);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            res.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    rust_files(&workspace_root().join("xtask"), &mut files);
    files
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these files must begin with a `//!` comment:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_test_is_ignored() {
    // Spelled in two parts so this file does not match itself.
    let needle = format!("#[{}", "ignore");
    let offenders: Vec<String> = all_rust_files()
        .into_iter()
        .flat_map(|path| {
            let text = fs::read_to_string(&path).unwrap_or_default();
            text.lines()
                .enumerate()
                .filter(|(_, line)| line.contains(&needle))
                .map(|(n, _)| format!("{}:{}", path.display(), n + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "a broken test is fixed or asserts the current behaviour, never ignored:\n{}",
        offenders.join("\n")
    );
}
