//! The bare code generator: regenerates `generated/` from `spec/` (`--check` only compares).
//! `cargo xtask codegen` does the same with more options; this binary exists so the generator's
//! own cost can be measured without cargo in the way.

use std::path::PathBuf;
use std::process::ExitCode;

use vipps_codegen::output::{OutputMode, write_or_check};
use vipps_codegen::project::{check_project, run_project};
use vipps_codegen::{StandaloneOptions, generate_standalone};

/// mimalloc instead of the system allocator: syn and prettyplease allocate and free many small
/// objects, and glibc's malloc was a third of the generator's instructions (callgrind, 1x spec);
/// the 10x spec took 0.72 of glibc's time with it. (The library leaves the choice to its users.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: vipps-codegen [--check [--no-cache]] [--root DIR] | vipps-codegen --spec PATH --out DIR | vipps-codegen --version";

fn main() -> ExitCode {
    let mut mode = OutputMode::Write;
    let mut use_cache = true;
    let mut root = PathBuf::from(".");
    let mut spec: Option<PathBuf> = None;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = OutputMode::Check,
            // A full check even when the stamp's shortcut would answer (for the benchmarks).
            "--no-cache" => use_cache = false,
            "--root" => root = args.next().map(PathBuf::from).unwrap_or(root),
            "--spec" => spec = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            // Does nothing else: the benchmarks use it as the process start-up baseline.
            "--version" => {
                println!("vipps-codegen {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("{USAGE} (unknown argument '{other}')");
                return ExitCode::from(2);
            }
        }
    }
    if let (Some(spec), Some(out)) = (&spec, &out) {
        let result = generate_standalone(spec, &StandaloneOptions::default())
            .map_err(|err| err.to_string())
            .and_then(|generation| write_or_check(out, &generation.files, vipps_codegen::layout::STANDALONE_OWNED_DIRS, mode).map_err(|err| err.to_string()));
        return match result {
            Ok(report) if mode == OutputMode::Check && !report.is_clean() => ExitCode::FAILURE,
            Ok(_) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // A check asks the stamp's shortcut first, unless told not to; a write always generates.
    let result = match mode {
        OutputMode::Check if use_cache => check_project(&root),
        _ => run_project(&root, mode, &Default::default()).map(Some),
    };
    match result {
        Ok(Some(run)) if mode == OutputMode::Check && !run.report.is_clean() => {
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
