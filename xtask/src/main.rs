//! Project tasks, run as `cargo xtask <task>`.
//!
//! Tasks:
//!
//! - `testbed`: install and start what the tests talk to (Docker, a registry, test images)
//!   and write their coordinates to `target/testbed/env`; `testbed stop` stops what it started.
//! - `dist`: build the frontend and the release binary that embeds it.
//! - `test`: everything CI checks, in order; `cargo xtask test -- <args>` passes extra
//!   arguments to `cargo test`.
//! - `demo`: deploy an image on the local Docker engine with a freshly built server, then
//!   keep the server running (`--no-wait` stops it instead; `--listen ADDR` moves it).
//! - `bench`: list the benchmarks; `bench NAME [options]` runs one and prints its table.
//!
//! xtask uses std only so that it builds in seconds on a fresh machine; arguments are
//! parsed by hand for the same reason. The benchmarks are the exception: they need the
//! product's crates and are built only with the `bench` feature (see [`bench`]).

mod bench;
mod demo;
mod dist;
mod shell;
mod test;
mod testbed;
mod testbed_stop;

use std::{
    env,
    path::{Path, PathBuf},
    process::ExitCode,
};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  testbed              install and start Docker, a registry and the test images
  testbed stop         stop the engine and registries `testbed` started
  dist                 build the frontend and target/release/docker-watcher
  test [-- <args>]     run every check CI runs; <args> go to `cargo test`
  demo [--listen ADDR] [--no-wait]
                       build and start the server, deploy a test image through the
                       webhook, print where to look; serve until Ctrl-C
  bench [NAME [options]]
                       list the benchmarks, or run one and print its table";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((task, rest)) = args.split_first() else {
        return Err(format!("no task given\n\n{USAGE}").into());
    };
    let root = project_root();
    match task.as_str() {
        // Development tasks.
        "testbed" => match rest {
            [] => testbed::ensure(&root).map(drop),
            [stop] if stop == "stop" => testbed_stop::stop(&target_dir(&root).join("testbed")),
            [other, ..] => {
                Err(format!("unexpected argument `{other}`; `testbed` takes only `stop`").into())
            }
        },
        "dist" => {
            no_more_args(task, rest)?;
            dist::run(&root)
        }
        "test" => match rest {
            [] => test::run(&root, &[]),
            [sep, cargo_test_args @ ..] if sep == "--" => test::run(&root, cargo_test_args),
            [other, ..] => Err(format!(
                "unexpected argument `{other}`; put `cargo test` arguments after `--`"
            )
            .into()),
        },

        // Tasks that run the product itself.
        "demo" => demo::run(&root, &demo::Options::parse(rest)?),
        "bench" => bench::run(&root, rest),

        // Everything else.
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}").into()),
    }
}

fn no_more_args(task: &str, rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("`{task}` takes no arguments, got `{arg}`").into()),
    }
}

/// The workspace root: xtask/ sits directly inside it.
fn project_root() -> PathBuf {
    // Prefer the runtime value so a moved checkout still resolves correctly.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives inside the workspace root")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` like cargo does.
fn target_dir(root: &Path) -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
