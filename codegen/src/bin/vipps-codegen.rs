//! The bare code generator: regenerates `generated/` from `spec/` (`--check` only compares).
//! `cargo xtask codegen` does the same with more options; this binary exists so the generator's
//! own cost can be measured without cargo in the way.

use std::path::PathBuf;
use std::process::ExitCode;

use vipps_codegen::output::OutputMode;
use vipps_codegen::project::run_project;

fn main() -> ExitCode {
    let mut mode = OutputMode::Write;
    let mut root = PathBuf::from(".");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = OutputMode::Check,
            "--root" => root = args.next().map(PathBuf::from).unwrap_or(root),
            other => {
                eprintln!("usage: vipps-codegen [--check] [--root DIR] (unknown argument '{other}')");
                return ExitCode::from(2);
            }
        }
    }
    match run_project(&root, mode, &Default::default()) {
        Ok(run) if mode == OutputMode::Check && !run.report.is_clean() => {
            eprintln!("generated/ is stale; run `cargo xtask codegen`");
            ExitCode::FAILURE
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
