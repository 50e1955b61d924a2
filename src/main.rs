//! The `systole` binary: argument parsing and dispatch only.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use systole::cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cardiac MR short-axis cine review. Without a subcommand, opens the viewer (on PATH, or
/// on the built-in phantom).
#[derive(Debug, Parser)]
#[command(
    name = "systole",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    view: ViewArgs,
}

#[derive(Debug, clap::Args)]
struct ViewArgs {
    /// A DICOM folder or file, an ACDC or Sunnybrook patient folder, or a NIfTI file.
    path: Option<std::path::PathBuf>,
    /// Screenshot mode: open the window, render, save this PNG and exit.
    #[arg(long)]
    screenshot: Option<std::path::PathBuf>,
    /// With --screenshot: segment the study first.
    #[arg(long)]
    segment: bool,
    /// Slice to show (0-based, as `systole info --json` numbers them).
    #[arg(long)]
    slice: Option<usize>,
    /// Phase to show (0-based).
    #[arg(long)]
    phase: Option<usize>,
    /// Show this series as the short-axis stack instead of the one Systole picks
    /// (SeriesInstanceUID, SeriesNumber or list index, as `systole info` lists them).
    #[arg(long, requires = "path")]
    series: Option<String>,
    /// Review session file to read and autosave instead of the study's own
    /// (PATH/systole-session.json, or PATH.systole-session.json beside a file).
    #[arg(long)]
    session: Option<std::path::PathBuf>,
    /// With --screenshot: also write the measures the panel shows at that moment (after
    /// --segment has finished) as JSON, with the keys of `systole measure --json`.
    #[arg(long, requires = "screenshot")]
    measures_json: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a study holds: series, cine grid, spacing, timing, patient, labels.
    Info(cli::info::InfoArgs),
    /// Ventricular volumes, function, mass and flags from the study's labels.
    Measure(cli::measure::MeasureArgs),
    /// Segment a study with the built-in network: labels, image and measures to a folder.
    Segment(cli::segment::SegmentArgs),
    /// Write the PDF report of a study (segments it first when there are no labels or session).
    Report(cli::report::ReportArgs),
    /// Dice, Hausdorff and clinical differences between predicted and reference labels.
    Eval(cli::eval::EvalArgs),
    /// Write the synthetic phantom cine (NIfTI image + labels + analytic volumes).
    DemoStudy(cli::demo::DemoArgs),
}

fn main() -> ExitCode {
    systole::io::dicom::quiet_contained_panics();
    let args = Args::parse();
    let Some(command) = &args.command else {
        let launch = systole::app::LaunchOptions {
            path: args.view.path.clone(),
            series: args.view.series.clone(),
            screenshot: args.view.screenshot.clone(),
            segment: args.view.segment,
            slice: args.view.slice,
            phase: args.view.phase,
            session: args.view.session.clone(),
            measures_json: args.view.measures_json.clone(),
        };
        return match systole::app::run(launch) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("systole: {e}");
                ExitCode::FAILURE
            }
        };
    };
    let result = match command {
        Command::Info(a) => cli::info::run(a),
        Command::Measure(a) => cli::measure::run(a),
        Command::Segment(a) => cli::segment::run(a),
        Command::Report(a) => cli::report::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::DemoStudy(a) => cli::demo::run(a),
    };
    match result {
        Ok(out) => {
            use std::io::Write;
            // A closed pipe (`systole info ... | head`) is not an error worth a panic.
            if out.is_empty() {
                // The command wrote its own output (e.g. a PDF to standard output).
                return ExitCode::SUCCESS;
            }
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
