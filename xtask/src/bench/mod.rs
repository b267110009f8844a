//! `cargo xtask bench`: measurements of the product against the testbed, printed as a table.
//!
//! A bench is a report, not a test: a missed target is printed as `MISS` and the command still
//! succeeds; only errors (a service missing, a wrong answer) make it fail.
//!
//! Benches drive the product's crates, which plain xtask does not link (it stays std-only so it
//! builds in seconds). They are compiled in with the `bench` feature, and `cargo xtask bench
//! NAME` re-runs xtask that way as a release build, since a debug build would mostly measure
//! itself. Adding a bench: a module here with `run(root, args)`, and a row in [`BENCHES`].

use std::path::Path;

use crate::Result;

#[cfg(feature = "bench")]
mod deploy;
#[cfg(feature = "bench")]
mod poll;

/// One benchmark, as `cargo xtask bench` lists it.
struct Bench {
    name: &'static str,
    /// Its options, for the list.
    options: &'static str,
    /// What it measures, in a line or two.
    about: &'static str,
    /// Runs it with the arguments after its name.
    #[cfg(feature = "bench")]
    run: fn(&Path, &[String]) -> Result<()>,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "poll",
        options: "[--images N] [--rounds R]",
        about: "one poll cycle over N unchanged images (default 500) on the testbed registry,\n\
                against the same HEAD requests sent with plain ureq; R rounds (default 5)",
        #[cfg(feature = "bench")]
        run: poll::run,
    },
    Bench {
        name: "deploy",
        options: "[--rounds R]",
        about: "webhook to healthy-and-routed (nginx of the NPM double answers the new version)\n\
                for the test image, against the same pull, create, start, health probe and\n\
                route update by hand; R rounds (default 5)",
        #[cfg(feature = "bench")]
        run: deploy::run,
    },
];

/// `args` are what follows `bench`: nothing (list the benches), or a name and its options.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let Some((name, rest)) = args.split_first() else {
        println!("{}", list());
        return Ok(());
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        println!("{}", list());
        return Ok(());
    }
    let Some(bench) = BENCHES.iter().find(|bench| bench.name == name) else {
        return Err(format!("unknown bench `{name}`\n\n{}", list()).into());
    };
    run_bench(root, bench, rest)
}

fn list() -> String {
    let mut text = String::from("usage: cargo xtask bench <name> [options]\n\nbenches:");
    for bench in BENCHES {
        text.push_str(&format!("\n  {} {}\n", bench.name, bench.options));
        for line in bench.about.lines() {
            text.push_str(&format!("      {}\n", line.trim()));
        }
    }
    text.trim_end().to_owned()
}

#[cfg(feature = "bench")]
fn run_bench(root: &Path, bench: &Bench, args: &[String]) -> Result<()> {
    (bench.run)(root, args)
}

/// Plain xtask cannot run a bench: it builds and runs the release build that can.
#[cfg(not(feature = "bench"))]
fn run_bench(root: &Path, bench: &Bench, args: &[String]) -> Result<()> {
    println!(
        "==> building xtask with its benches (a release build; the first one takes a few minutes)"
    );
    crate::shell::run(
        std::process::Command::new("cargo")
            .args([
                "run",
                "--release",
                "--package",
                "xtask",
                "--features",
                "bench",
            ])
            .args(["--", "bench", bench.name])
            .args(args)
            .current_dir(root),
    )
}
