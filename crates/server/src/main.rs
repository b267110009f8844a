//! The `docker-watcher` binary: glue only.
fn main() {}
