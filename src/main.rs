//! The `systole` binary: argument parsing and dispatch only.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use systole::cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Segment a study with the built-in network: labels, image and measures to a folder.
    Segment(cli::segment::SegmentArgs),
    /// Dice, Hausdorff and clinical differences between predicted and reference labels.
    Eval(cli::eval::EvalArgs),
    /// Write the synthetic phantom cine (NIfTI image + labels + analytic volumes).
    DemoStudy(cli::demo::DemoArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.command {
        Command::Info(a) => cli::info::run(a),
        Command::Measure(a) => cli::measure::run(a),
        Command::Segment(a) => cli::segment::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::DemoStudy(a) => cli::demo::run(a),
    };
    match result {
        Ok(out) => {
            use std::io::Write;
            // A closed pipe (`systole info ... | head`) is not an error worth a panic.
            match writeln!(std::io::stdout().lock(), "{}", out.trim_end()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("systole: cannot write output: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("systole: {e}");
            ExitCode::from(e.exit_code.clamp(1, 255) as u8)
        }
    }
}
