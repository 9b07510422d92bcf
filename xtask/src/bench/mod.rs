//! `cargo xtask bench [--quick] [--peers]`: every benchmark, each figure a ratio against a
//! baseline measured in the same run (these machines are noisy), plus the absolute median.
//! Writes `target/bench/report.md` and `target/bench/report.json`.

mod codegen;
mod process;
mod report;
mod runtime;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

pub use report::{Figure, Report, Target};

/// How long to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effort {
    /// `--quick`: a smoke run, the whole bench under 2 minutes.
    pub quick: bool,
    /// `--peers`: also run other generators on the same specs.
    pub peers: bool,
}

impl Effort {
    /// Runs of a whole process per measurement.
    pub fn process_runs(self) -> usize {
        if self.quick { 7 } else { 31 }
    }
}

/// Where the bench writes.
pub fn bench_dir() -> PathBuf {
    crate::target_dir().join("bench")
}

/// Runs the command.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut effort = Effort { quick: false, peers: false };
    for arg in args {
        match arg.as_str() {
            "--quick" => effort.quick = true,
            "--peers" => effort.peers = true,
            other => bail!("unknown argument '{other}'\n{}", crate::USAGE),
        }
    }
    std::fs::create_dir_all(bench_dir())?;
    let started = std::time::Instant::now();
    let mut report = Report::new(effort);
    codegen::run(effort, &mut report)?;
    runtime::run(effort, &mut report)?;
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    let markdown = report.to_markdown();
    std::fs::write(bench_dir().join("report.md"), &markdown)?;
    std::fs::write(bench_dir().join("report.json"), serde_json::to_string_pretty(&report)?)?;
    println!("{markdown}");
    eprintln!("wrote {} and report.json", bench_dir().join("report.md").display());
    Ok(ExitCode::SUCCESS)
}
