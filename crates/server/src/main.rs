//! The `docker-watcher` binary: glue only. It parses the command line, sets up logging, and hands
//! over to the library crates; every rule lives in them.

mod cli;
mod config;
mod serve;
mod ui;

use clap::Parser;

fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::serve(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("docker-watcher: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
