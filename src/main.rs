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
    /// Ventricular volumes, function, mass and flags from the study's labels.
    Measure(cli::measure::MeasureArgs),
    /// Dice, Hausdorff and clinical differences between predicted and reference labels.
    Eval(cli::eval::EvalArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.command {
        Command::Info(a) => cli::info::run(a),
        Command::Measure(a) => cli::measure::run(a),
        Command::Eval(a) => cli::eval::run(a),
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
