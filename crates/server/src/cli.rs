//! The command line: `docker-watcher serve ...`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Docker Watcher: deploys pushed images as health-checked containers, one stage at a time.
#[derive(Debug, Parser)]
#[command(name = "docker-watcher", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: API, webhook, dashboard and deployer.
    ///
    /// On the first start the configuration file seeds the empty database; later starts use the
    /// database and ignore the file.
    Serve(ServeArgs),
    /// Import or export the configuration as YAML.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Manage the key that seals stored secrets.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `seed` subcommands.
#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Import a YAML configuration into an empty database (a configured one is left untouched).
    ///
    /// Every problem in the file is listed with its key path; nothing is written unless the whole
    /// file is valid.
    Import {
        /// The YAML file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Folder of the database and key.
        #[arg(
            long,
            env = "DW_DATA_DIR",
            value_name = "DIR",
            default_value = "./data"
        )]
        data_dir: PathBuf,
    },
    /// Write the configuration as YAML to standard output (or --output).
    ///
    /// Secrets are written as `*_env` references to environment variables, never as values; a
    /// comment at the top lists the variables an import of the file needs.
    Export {
        /// Folder of the database and key.
        #[arg(
            long,
            env = "DW_DATA_DIR",
            value_name = "DIR",
            default_value = "./data"
        )]
        data_dir: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-seal every stored secret under a new key, in one transaction, and replace the key.
    ///
    /// With the key in the data folder's key file, the file is replaced. With DW_SECRET_KEY set,
    /// the new key is printed once on standard output: put it in DW_SECRET_KEY before the next start.
    /// Stop the server first.
    Rotate {
        /// Folder of the database and key.
        #[arg(
            long,
            env = "DW_DATA_DIR",
            value_name = "DIR",
            default_value = "./data"
        )]
        data_dir: PathBuf,
    },
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// YAML configuration that seeds an empty database (default: ./docker-watcher.yaml, used only if it exists).
    #[arg(long, env = "DW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Folder of the SQLite database and the secret key file.
    #[arg(
        long,
        env = "DW_DATA_DIR",
        value_name = "DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Address to listen on.
    #[arg(
        long,
        env = "DW_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// Serve the web UI from this folder instead of the copy built into the binary (for UI work).
    #[arg(long, env = "DW_UI_DIR", value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,

    /// Docker engine to use, such as unix:///var/run/docker.sock (default: DOCKER_HOST, then the local socket).
    #[arg(long, env = "DOCKER_HOST", value_name = "URL")]
    pub docker_host: Option<String>,
}

/// Where the configuration file is looked for when none is named.
pub const DEFAULT_CONFIG: &str = "./docker-watcher.yaml";
