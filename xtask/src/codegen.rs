//! `cargo xtask codegen`: regenerate (or check) the SDK, or generate a standalone crate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use vipps_codegen::output::{OutputMode, write_or_check};
use vipps_codegen::project::run_project;
use vipps_codegen::{RemoteRefMap, StandaloneOptions, Warning, generate_standalone};

/// Parsed arguments of `codegen`.
#[derive(Debug, Default)]
struct Args {
    check: bool,
    spec: Option<PathBuf>,
    out: Option<PathBuf>,
    crate_name: Option<String>,
    map_refs: RemoteRefMap,
    merchant_tags: Vec<String>,
    conventions: Option<PathBuf>,
}

fn parse(args: &[String]) -> anyhow::Result<Args> {
    let mut parsed = Args::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| iter.next().cloned().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--check" => parsed.check = true,
            "--spec" => parsed.spec = Some(PathBuf::from(value("--spec")?)),
            "--out" => parsed.out = Some(PathBuf::from(value("--out")?)),
            "--crate-name" | "--name" => parsed.crate_name = Some(value(arg)?),
            "--settings" => parsed.conventions = Some(PathBuf::from(value("--settings")?)),
            "--merchant-tag" => parsed.merchant_tags.push(value("--merchant-tag")?),
            "--map-ref" => parsed.map_refs.insert_cli(&value("--map-ref")?).map_err(anyhow::Error::msg)?,
            other => bail!("unknown argument '{other}'\n{}", crate::USAGE),
        }
    }
    if parsed.spec.is_some() != parsed.out.is_some() {
        bail!("--spec and --out go together\n{}", crate::USAGE);
    }
    Ok(parsed)
}

fn print_warnings(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!("{warning}");
    }
}

/// Runs the command; the exit code says whether a check passed.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let args = parse(args)?;
    let mode = if args.check { OutputMode::Check } else { OutputMode::Write };
    if let (Some(spec), Some(out)) = (&args.spec, &args.out) {
        let options = StandaloneOptions {
            crate_name: args.crate_name.clone(),
            remote_refs: args.map_refs.clone(),
            merchant_served_tags: args.merchant_tags.clone(),
            conventions: args.conventions.clone(),
        };
        let generation = generate_standalone(spec, &options)?;
        print_warnings(&generation.warnings);
        let report = write_or_check(out, &generation.files, vipps_codegen::layout::STANDALONE_OWNED_DIRS, mode)
            .with_context(|| format!("writing {}", out.display()))?;
        return Ok(finish(&report, mode, &format!("cargo xtask codegen --spec {} --out {}", spec.display(), out.display())));
    }
    let root = crate::project_root();
    // Before the run: it rewrites the spec copies the summary compares against.
    let spec_summary = crate::spec_diff::codegen_summary(&root, &args.map_refs);
    let run = run_project(&root, mode, &args.map_refs)?;
    print_warnings(&run.generation.warnings);
    let code = finish(&run.report, mode, "cargo xtask codegen");
    if !args.check || run.report.is_clean() {
        eprintln!("{spec_summary}");
    }
    Ok(code)
}

fn finish(report: &vipps_codegen::OutputReport, mode: OutputMode, fix: &str) -> ExitCode {
    match mode {
        OutputMode::Check if !report.is_clean() => {
            println!("{}", report.diff);
            eprintln!(
                "generated files are stale ({} changed, {} no longer generated); run `{fix}` and commit the result",
                report.changed.len(),
                report.stale.len()
            );
            ExitCode::FAILURE
        }
        OutputMode::Check => {
            eprintln!("generated files are up to date");
            ExitCode::SUCCESS
        }
        OutputMode::Write => {
            for path in &report.changed {
                eprintln!("wrote {}", path.display());
            }
            for path in &report.stale {
                eprintln!("removed {}", path.display());
            }
            if report.is_clean() {
                eprintln!("generated files were already up to date");
            }
            ExitCode::SUCCESS
        }
    }
}
