//! Where the testbed's services are, for the poller's tests against real registries.

use std::path::PathBuf;

/// A testbed setting: from the environment, else from the file `cargo xtask testbed` writes.
/// Missing everywhere fails the test with how to fix it; nothing is skipped.
pub fn testbed_var(name: &str) -> String {
    if let Ok(value) = std::env::var(name)
        && !value.trim().is_empty()
    {
        return value;
    }
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/testbed/env");
    let from_file = std::fs::read_to_string(&file).ok().and_then(|text| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name && !value.trim().is_empty()).then(|| value.trim().to_owned())
        })
    });
    from_file.unwrap_or_else(|| {
        panic!(
            "{name} is not set and {} does not define it: run `cargo xtask testbed` first",
            file.display()
        )
    })
}

/// `host:port` of the open registry.
pub fn registry() -> String {
    testbed_var("DW_TEST_REGISTRY")
}
