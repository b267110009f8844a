//! Picks the web UI to embed: `frontend/build` when it has been built, otherwise a placeholder page
//! that says how to build it, so a plain `cargo build` works without Node.

use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let built = manifest_dir.join("../../frontend/build");
    println!("cargo:rerun-if-changed={}", built.display());
    let ui_dir = if built.join("index.html").is_file() {
        built
    } else {
        let placeholder = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
            .join("ui-placeholder");
        std::fs::create_dir_all(&placeholder).expect("create the placeholder UI folder");
        std::fs::write(placeholder.join("index.html"), PLACEHOLDER)
            .expect("write the placeholder UI page");
        placeholder
    };
    let ui_dir = ui_dir.canonicalize().expect("the UI folder exists");
    println!("cargo:rustc-env=DW_EMBEDDED_UI_DIR={}", ui_dir.display());
}

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Docker Watcher</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Docker Watcher</h1>
<p>This binary was built without the web UI, because <code>frontend/build</code> did not exist.
The API under <code>/api</code> works as usual.</p>
<p>To include the dashboard, build with <code>cargo xtask dist</code> (it builds the frontend first).</p>
</body>
</html>
"#;
