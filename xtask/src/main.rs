//! Project automation: `cargo xtask codegen [--check]`, standalone generation, spec diff, bench, mutants.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("codegen") => xtask::codegen::run(&args[1..]),
        Some("spec") => xtask::spec_diff::run(&args[1..]),
        Some("bench") => xtask::bench::run(&args[1..]),
        Some("mutants") => xtask::mutants::run(&args[1..]),
        _ => {
            eprintln!("{}", xtask::USAGE);
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
