//! The `docker-watcher` binary: glue only. It parses the command line, sets up logging, and hands
//! over to the library crates; every rule lives in them.

mod cli;
mod config;
mod data;
mod key_rotation;
mod poll;
mod seed;
mod serve;
mod ui;

use clap::Parser;

/// Libraries whose debug output carries request bodies: a container's create request holds its
/// opened secret environment. They log at `info` at most, whatever `RUST_LOG` says.
const CHATTY_LIBRARIES: [&str; 4] = ["bollard", "hyper", "hyper_util", "h2"];

fn main() -> std::process::ExitCode {
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    for library in CHATTY_LIBRARIES {
        // Added after RUST_LOG is read, so it replaces any directive RUST_LOG gave for the library.
        logger.filter_module(library, log::LevelFilter::Info);
    }
    logger.init();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::serve(args),
        cli::Command::Seed(cli::SeedCommand::Import { file, data_dir }) => {
            seed::import(&file, &data_dir)
        }
        cli::Command::Seed(cli::SeedCommand::Export { data_dir, output }) => {
            seed::export(&data_dir, output.as_deref())
        }
        cli::Command::Key(cli::KeyCommand::Rotate { data_dir }) => key_rotation::rotate(&data_dir),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("docker-watcher: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
