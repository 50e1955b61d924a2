//! The `systole` binary: argument parsing and dispatch only.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use systole::cli;

/// Cardiac MR short-axis cine review.
#[derive(Debug, Parser)]
#[command(name = "systole", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a study holds: series, cine grid, spacing, timing, patient, labels.
    Info(cli::info::InfoArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.command {
        Command::Info(a) => cli::info::run(a),
    };
    match result {
        Ok(out) => {
            println!("{}", out.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("systole: {e}");
            ExitCode::from(e.exit_code.clamp(1, 255) as u8)
        }
    }
}
