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
        // The NPM test double serves NPM's API from its own code: it knows no workspace crate.
        ("npm-double", leaf),
        ("npm-client", &["npm-double"][..]),
        ("poller", &["store", "events"][..]),
        (
            "deployer",
            &[
                "poller",
                "docker-client",
                "npm-client",
                "npm-double",
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
                "npm-double",
                "store",
                "crypto",
                "events",
            ][..],
        ),
    ])
}

/// Crates that exist for tests only: every crate may list them in `[dev-dependencies]` (as
/// [`allowed_dependencies`] permits), none anywhere else, so they never reach the product. The
/// one exception is [`TOOLING_FEATURE`] of xtask (see [`tooling_may_use`]).
const TEST_ONLY_CRATES: &[&str] = &["npm-double"];

/// The xtask feature that may pull a test-only crate into `[dependencies]`: the benchmarks, which
/// run the product against the same doubles the tests use. xtask is development tooling, not
/// part of the product, and plain xtask stays free of it.
const TOOLING_FEATURE: &str = "bench";

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

/// Each dependency a manifest declares, with the table that declares it: `dependencies`,
/// `dev-dependencies`, `build-dependencies`, or the same under `target.'cfg(…)'.`. Both the
/// `name = …` form and the `[dependencies.name]` table form are found.
fn dependencies_by_table(manifest: &str) -> Vec<(String, String)> {
    let kinds = ["dev-dependencies", "build-dependencies", "dependencies"];
    let mut res = Vec::new();
    let mut table: Option<String> = None;
    for line in manifest.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            table = None;
            for kind in kinds {
                if header == kind || header.ends_with(&format!(".{kind}")) {
                    table = Some(header.to_owned());
                    break;
                }
                if let Some(name) = header
                    .split_once(&format!("{kind}."))
                    .map(|(_, name)| name)
                    .filter(|name| !name.contains('.'))
                {
                    res.push((
                        header[..header.len() - name.len() - 1].to_owned(),
                        name.to_owned(),
                    ));
                    break;
                }
            }
            continue;
        }
        let Some(table) = &table else {
            continue;
        };
        let key = line.split(['=', '.']).next().unwrap_or("").trim();
        if !key.is_empty() && !key.starts_with('#') {
            res.push((table.clone(), key.to_owned()));
        }
    }
    res
}

/// The text that specifies dependency `name` in `table`: the value after `name =` (inline form),
/// or the lines of its `[table.name]` table. `None` when the manifest has no such entry.
fn dependency_spec(manifest: &str, table: &str, name: &str) -> Option<String> {
    let mut spec: Option<String> = None;
    let mut current = String::new();
    for line in manifest.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header.trim_end_matches(']').trim().to_owned();
            if current == format!("{table}.{name}") {
                spec = Some(String::new());
            }
            continue;
        }
        if current == format!("{table}.{name}") {
            if let Some(spec) = spec.as_mut() {
                spec.push_str(line);
                spec.push('\n');
            }
        } else if current == table
            && let Some((key, value)) = line.split_once('=')
            && key.split('.').next().unwrap_or("").trim() == name
        {
            // `name.workspace = true` keeps part of the spec in the key.
            let rest = key.split_once('.').map_or("", |(_, rest)| rest);
            spec = Some(format!("{rest} = {}", value.trim()));
        }
    }
    spec
}

/// Whether a dependency's spec (see [`dependency_spec`]) says `optional = true`.
fn is_optional(spec: &str) -> bool {
    let flat: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    flat.contains("optional=true")
}

/// The `[features]` table: each feature with what it enables, in order. Arrays may span lines.
fn features(manifest: &str) -> Vec<(String, Vec<String>)> {
    let members = |array: &str| -> Vec<String> {
        array
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|member| member.trim().trim_matches('"').to_owned())
            .filter(|member| !member.is_empty())
            .collect()
    };
    let mut res = Vec::new();
    let mut in_features = false;
    // A feature whose array continues on the next lines, and its text so far.
    let mut open: Option<(String, String)> = None;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let (name, text) = match open.take() {
            Some((name, text)) => (name, text + line),
            None if line.starts_with('[') => {
                in_features = line == "[features]";
                continue;
            }
            None if !in_features => continue,
            None => match line.split_once('=') {
                Some((name, value)) => (name.trim().trim_matches('"').to_owned(), value.to_owned()),
                None => continue,
            },
        };
        if text.contains(']') {
            res.push((name, members(&text)));
        } else {
            open = Some((name, text));
        }
    }
    res
}

/// Whether `member` of a feature list turns on dependency `dependency` (`dep:x`, `x`, `x/feat`,
/// `x?/feat`).
fn enables(member: &str, dependency: &str) -> bool {
    let member = member.strip_prefix("dep:").unwrap_or(member);
    let name = member.split('/').next().unwrap_or("").trim_end_matches('?');
    name == dependency
}

/// Why xtask may not name the test-only crate `dependency` in `[table]`, or `None` when it may:
/// only as an optional entry of `[dependencies]` that [`TOOLING_FEATURE`], and no other feature,
/// turns on, with no feature (`default` included) turning on [`TOOLING_FEATURE`] itself.
fn tooling_may_use(manifest: &str, table: &str, dependency: &str) -> Option<String> {
    if table != "dependencies" {
        return Some(format!(
            "only [dependencies] may name it, behind `{TOOLING_FEATURE}`"
        ));
    }
    let spec = dependency_spec(manifest, table, dependency).unwrap_or_default();
    if !is_optional(&spec) {
        return Some(format!(
            "it must be `optional = true`, turned on by the `{TOOLING_FEATURE}` feature only"
        ));
    }
    let features = features(manifest);
    let turning_on: Vec<&str> = features
        .iter()
        .filter(|(_, members)| members.iter().any(|member| enables(member, dependency)))
        .map(|(name, _)| name.as_str())
        .collect();
    if turning_on != [TOOLING_FEATURE] {
        return Some(format!(
            "the `{TOOLING_FEATURE}` feature alone must turn it on, not {turning_on:?}"
        ));
    }
    let on_by_another: Vec<&str> = features
        .iter()
        .filter(|(_, members)| members.iter().any(|member| member == TOOLING_FEATURE))
        .map(|(name, _)| name.as_str())
        .collect();
    if !on_by_another.is_empty() {
        return Some(format!(
            "`{TOOLING_FEATURE}` must stay off unless asked for, but {on_by_another:?} turn it on"
        ));
    }
    None
}

#[test]
fn test_only_crates_are_dev_dependencies_only() {
    let xtask_manifest = workspace_root().join("xtask").join("Cargo.toml");
    let mut manifests: Vec<PathBuf> = fs::read_dir(workspace_root().join("crates"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path().join("Cargo.toml"))
        .collect();
    manifests.push(xtask_manifest.clone());
    let mut violations = Vec::new();
    for path in &manifests {
        let manifest =
            fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (table, dependency) in dependencies_by_table(&manifest) {
            let dev = table == "dev-dependencies" || table.ends_with(".dev-dependencies");
            if !TEST_ONLY_CRATES.contains(&dependency.as_str()) || dev {
                continue;
            }
            // The product's crates: never. xtask: behind its bench feature only.
            let why = if *path == xtask_manifest {
                tooling_may_use(&manifest, &table, &dependency)
            } else {
                Some("use it from [dev-dependencies]".to_owned())
            };
            if let Some(why) = why {
                violations.push(format!(
                    "{}: [{table}] names {dependency}, a crate for tests only: {why}",
                    path.display()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "test-only crate outside [dev-dependencies]:\n{}",
        violations.join("\n")
    );
}

#[test]
fn dependency_tables_are_read_in_both_forms() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nnpm-double.workspace = true\n\
                    serde = { workspace = true }\n\n[dev-dependencies]\nnpm-double = { path = \"../d\" }\n\n\
                    [target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n\n[build-dependencies.npm-double]\n\
                    workspace = true\n";
    assert_eq!(
        dependencies_by_table(manifest),
        [
            ("dependencies", "npm-double"),
            ("dependencies", "serde"),
            ("dev-dependencies", "npm-double"),
            ("target.'cfg(unix)'.dependencies", "libc"),
            ("build-dependencies", "npm-double"),
        ]
        .map(|(table, name)| (table.to_owned(), name.to_owned()))
    );
}

#[test]
fn tooling_takes_a_test_only_crate_behind_its_bench_feature_only() {
    let manifest = |features: &str, dependency: &str| {
        format!(
            "[package]\nname = \"xtask\"\n\n[features]\n{features}\n\n[dependencies]\n{dependency}\n"
        )
    };
    let optional = "npm-double = { workspace = true, optional = true }";
    let bench = "bench = [\n    \"dep:store\",\n    \"dep:npm-double\", # the double\n]";
    let allowed = manifest(bench, optional);
    assert_eq!(
        tooling_may_use(&allowed, "dependencies", "npm-double"),
        None
    );
    let table_form = format!(
        "[features]\n{bench}\n\n[dependencies.npm-double]\nworkspace = true\noptional = true\n"
    );
    assert_eq!(
        tooling_may_use(&table_form, "dependencies", "npm-double"),
        None
    );

    let refused = [
        // Not optional: plain xtask would link it.
        manifest(bench, "npm-double.workspace = true"),
        // Another feature turns it on too.
        manifest(&format!("{bench}\nextra = [\"npm-double/x\"]"), optional),
        // `bench` on by default.
        manifest(&format!("default = [\"bench\"]\n{bench}"), optional),
        // Optional but never turned on by `bench`.
        manifest(
            "bench = [\"dep:store\"]\nother = [\"dep:npm-double\"]",
            optional,
        ),
    ];
    for manifest in &refused {
        assert!(
            tooling_may_use(manifest, "dependencies", "npm-double").is_some(),
            "{manifest}"
        );
    }
    assert!(tooling_may_use(&allowed, "build-dependencies", "npm-double").is_some());
    assert!(tooling_may_use(&allowed, "target.'cfg(unix)'.dependencies", "npm-double").is_some());
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
