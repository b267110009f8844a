//! Cargo does not notice new migration folders on its own; the migrations are embedded at compile time.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
