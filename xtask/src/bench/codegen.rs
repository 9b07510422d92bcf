//! Codegen benchmarks: per-stage cost (criterion), the whole release binary (time and peak
//! memory), scaling over synthetic specs 1x/10x/100x, and optionally a peer generator.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use super::process::{Run, run_many};
use super::report::{Figure, percentile};
use super::{Effort, Report, bench_dir};

const GROUP_STAGES: &str = "Codegen stages (in process, criterion)";
const GROUP_PROCESS: &str = "Codegen, whole process (release binary)";
const GROUP_SCALING: &str = "Codegen scaling (synthetic specs)";
const GROUP_PEERS: &str = "Peers (same specs through progenitor)";

/// Runs every codegen benchmark.
pub fn run(effort: Effort, report: &mut Report) -> anyhow::Result<()> {
    stages(effort, report)?;
    let binary = build_release_binary()?;
    whole_process(effort, report, &binary)?;
    generated_lines(report)?;
    let specs = scaling(effort, report, &binary)?;
    // The peer comparison runs whenever cargo-progenitor is installed (`--peers` asks for it
    // even when it is not, so the report says it was skipped).
    if effort.peers || find_progenitor().is_some() {
        peers(effort, report, &specs)?;
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn stages(effort: Effort, report: &mut Report) -> anyhow::Result<()> {
    // Quick: 10 samples (criterion's least), else a 13 ms stage needs 5050 iterations.
    let (warm_up, measure, samples) = if effort.quick { ("0.3", "0.5", "10") } else { ("1", "4", "100") };
    let status = cargo()
        .args(["bench", "--quiet", "-p", "vipps-codegen", "--bench", "stages", "--"])
        .args(["--warm-up-time", warm_up, "--measurement-time", measure, "--sample-size", samples])
        .current_dir(crate::project_root())
        .stdout(std::process::Stdio::null())
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench -p vipps-codegen --bench stages failed");
    }
    let baseline = criterion_samples("codegen", "baseline_yaml_parse")?;
    for stage in ["load", "resolve", "lower", "emit", "format"] {
        let ours = criterion_samples("codegen", stage)?;
        report.figures.push(Figure::from_samples(GROUP_STAGES, stage, "ms", &ours, "YAML parse of the same spec", &baseline));
    }
    Ok(())
}

/// Per-iteration times (ms) of one criterion benchmark, from its `sample.json`.
fn criterion_samples(group: &str, name: &str) -> anyhow::Result<Vec<f64>> {
    let path = crate::target_dir().join("criterion").join(group).join(name).join("new/sample.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)?;
    let iters = sample["iters"].as_array().context("iters")?;
    let times = sample["times"].as_array().context("times")?;
    Ok(iters.iter().zip(times).filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()? / 1e6)).collect())
}

fn build_release_binary() -> anyhow::Result<PathBuf> {
    let status = cargo()
        .args(["build", "--quiet", "--release", "-p", "vipps-codegen", "--bin", "vipps-codegen"])
        .current_dir(crate::project_root())
        .status()?;
    if !status.success() {
        bail!("building the release codegen binary failed");
    }
    Ok(crate::target_dir().join("release/vipps-codegen"))
}

fn millis(runs: &[Run]) -> Vec<f64> {
    runs.iter().map(|r| r.millis).collect()
}

fn peaks(runs: &[Run]) -> Vec<f64> {
    runs.iter().map(|r| r.peak_mib).collect()
}

fn whole_process(effort: Effort, report: &mut Report, binary: &Path) -> anyhow::Result<()> {
    let root = crate::project_root();
    let runs = effort.process_runs();
    let baseline = run_many(binary, &["--version"], &root, runs)?;
    let ours = run_many(binary, &["--check"], &root, runs)?;
    let time = Figure::from_samples(GROUP_PROCESS, "vipps-codegen --check (our spec)", "ms", &millis(&ours), "same binary, --version", &millis(&baseline));
    let met = time.ours <= 25.0;
    report.figures.push(time.with_target("at most 25 ms median", met));
    // The same check without the stamp's shortcut: what the first check after a change costs.
    let full = run_many(binary, &["--check", "--no-cache"], &root, runs)?;
    report.figures.push(Figure::from_samples(
        GROUP_PROCESS,
        "vipps-codegen --check --no-cache (full check)",
        "ms",
        &millis(&full),
        "--check with the shortcut",
        &millis(&ours),
    ));
    let memory = Figure::from_samples(GROUP_PROCESS, "peak memory", "MiB", &peaks(&ours), "same binary, --version", &peaks(&baseline));
    let met = memory.ours <= 30.0;
    report.figures.push(memory.with_target("at most 30 MiB", met));
    // What a maintainer types: cargo's own start-up and freshness check included.
    let cargo_path = PathBuf::from(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    let cargo_runs = run_many(&cargo_path, &["xtask", "codegen", "--check"], &root, runs.min(11))?;
    report.figures.push(Figure::from_samples(
        GROUP_PROCESS,
        "cargo xtask codegen --check",
        "ms",
        &millis(&cargo_runs),
        "bare binary --check",
        &millis(&ours),
    ));
    Ok(())
}

/// The revision whose committed output is the line-count baseline: the last before the compact
/// output (issue 11). Its files are read from git in the same run.
const LINES_BASELINE_REV: &str = "d0d70d2";

/// Folders of `generated/` holding generated Rust.
const GENERATED_CODE_DIRS: &[&str] = &["generated/src/generated", "generated/tests/roundtrip"];

/// Lines of generated Rust for our spec, now and at [`LINES_BASELINE_REV`] (skipped with a line
/// when git or that revision is not there, e.g. in a shallow clone).
pub fn generated_lines(report: &mut Report) -> anyhow::Result<()> {
    let root = crate::project_root();
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git").args(args).current_dir(&root).output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let mut listing = vec!["ls-tree", "-r", "--name-only", LINES_BASELINE_REV, "--"];
    listing.extend(GENERATED_CODE_DIRS);
    let Some(files) = git(&listing) else {
        report.notes.push(format!("Generated lines: skipped, revision {LINES_BASELINE_REV} is not in this clone's git history."));
        return Ok(());
    };
    let mut before = 0usize;
    for file in files.lines().filter(|f| f.ends_with(".rs")) {
        before += git(&["show", &format!("{LINES_BASELINE_REV}:{file}")]).map_or(0, |text| text.lines().count());
    }
    let mut now = 0usize;
    for dir in GENERATED_CODE_DIRS {
        for entry in std::fs::read_dir(root.join(dir)).with_context(|| format!("reading {dir}"))?.flatten() {
            if entry.path().extension().is_some_and(|ext| ext == "rs") {
                now += std::fs::read_to_string(entry.path())?.lines().count();
            }
        }
    }
    let figure = Figure::from_samples(GROUP_PROCESS, "generated Rust lines (our spec)", "lines", &[now as f64], &format!("the same files at {LINES_BASELINE_REV}"), &[before as f64]);
    let met = figure.ratio <= 0.6;
    report.figures.push(figure.with_target("at least 40% fewer", met));
    Ok(())
}

/// Our spec with its schemas, parameters, responses and paths replicated `copies` times under
/// new names (copy 1 keeps the original names).
pub fn replicate_spec(spec: &Value, copies: usize) -> Value {
    let mut out = spec.clone();
    let sections = ["schemas", "parameters", "responses", "requestBodies"];
    for section in sections {
        if let Some(Value::Object(map)) = out.pointer_mut(&format!("/components/{section}")) {
            map.clear();
        }
    }
    if let Some(Value::Object(paths)) = out.get_mut("paths") {
        paths.clear();
    }
    for copy in 1..=copies {
        let suffix = if copy == 1 { String::new() } else { format!("C{copy}") };
        let mut renamed = spec.clone();
        rename_refs(&mut renamed, &suffix);
        for section in sections {
            let Some(Value::Object(entries)) = renamed.pointer(&format!("/components/{section}")).cloned() else { continue };
            if let Some(Value::Object(target)) = out.pointer_mut(&format!("/components/{section}")) {
                for (name, value) in entries {
                    target.insert(format!("{name}{suffix}"), value);
                }
            }
        }
        if let (Some(Value::Object(paths)), Some(Value::Object(target))) = (renamed.get("paths").cloned(), out.get_mut("paths")) {
            for (path, item) in paths {
                let key = if copy == 1 { path } else { format!("/c{copy}{path}") };
                target.insert(key, item);
            }
        }
    }
    out
}

fn rename_refs(node: &mut Value, suffix: &str) {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) if reference.starts_with("#/components/") => reference.push_str(suffix),
                    ("operationId", Value::String(id)) => id.push_str(suffix),
                    (_, value) => rename_refs(value, suffix),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rename_refs(item, suffix)),
        _ => {}
    }
}

/// Writes the synthetic specs, measures each, and reports growth per 10x against linear.
fn scaling(effort: Effort, report: &mut Report, binary: &Path) -> anyhow::Result<Vec<(usize, PathBuf)>> {
    let spec_path = crate::project_root().join("spec/epayment.yaml");
    let spec = vipps_codegen::load::load_document(&spec_path)?.value;
    let dir = bench_dir().join("scaling");
    std::fs::create_dir_all(&dir)?;
    let runs = if effort.quick { 2 } else { 7 };
    let sizes: &[usize] = if effort.quick { &[1, 10] } else { &[1, 10, 100] };
    if effort.quick {
        report.notes.push("quick run: the 100x synthetic spec is skipped (several seconds per run); the full run measures it".into());
    }
    let mut specs = Vec::new();
    let mut measured: Vec<(usize, Vec<Run>)> = Vec::new();
    for &copies in sizes {
        let path = dir.join(format!("epayment-{copies}x.yaml"));
        std::fs::write(&path, yaml_serde::to_string(&replicate_spec(&spec, copies))?)?;
        let out = dir.join(format!("out-{copies}x"));
        let args = ["--spec", path.to_str().context("utf-8 path")?, "--out", out.to_str().context("utf-8 path")?];
        let samples = run_many(binary, &args, &dir, runs)?;
        specs.push((copies, path));
        measured.push((copies, samples));
    }
    let one = millis(&measured[0].1);
    for (copies, samples) in &measured {
        let figure = Figure::from_samples(GROUP_SCALING, &format!("{copies}x spec: time"), "ms", &millis(samples), "1x spec", &one);
        let figure = if *copies == 100 { figure.clone().with_target("under 1 s", figure.ours < 1000.0) } else { figure };
        report.figures.push(figure);
        let memory = peaks(samples);
        report.figures.push(Figure::from_samples(GROUP_SCALING, &format!("{copies}x spec: peak memory"), "MiB", &memory, "1x spec", &peaks(&measured[0].1)));
    }
    for pair in measured.windows(2) {
        let (small, big) = (&pair[0], &pair[1]);
        let growth = percentile(&millis(&big.1), 0.5) / percentile(&millis(&small.1), 0.5);
        let beyond_linear = growth / (big.0 / small.0) as f64;
        let figure = Figure {
            group: GROUP_SCALING.into(),
            name: format!("growth {}x -> {}x, per 10x beyond linear", small.0, big.0),
            unit: "x".into(),
            ours: beyond_linear,
            baseline_name: "linear".into(),
            baseline: 1.0,
            ratio: beyond_linear,
            p10: beyond_linear,
            p90: beyond_linear,
            target: None,
        };
        report.figures.push(figure.with_target("at most 1.3x beyond linear", beyond_linear <= 1.3));
    }
    Ok(specs)
}

/// cargo-progenitor from PATH (or `target/bench/tools/bin`, where the README's install line
/// puts it); None when it is in neither.
fn find_progenitor() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    on_path.chain([bench_dir().join("tools/bin")]).map(|dir| dir.join("cargo-progenitor")).find(|path| path.is_file())
}

/// The same specs through progenitor (models and client), in the same run: generation time
/// and peak memory per size, and at 1x the clean build of each generated crate (its own code
/// only, dependencies built) against progenitor's crate for the same document.
fn peers(effort: Effort, report: &mut Report, specs: &[(usize, PathBuf)]) -> anyhow::Result<()> {
    let Some(progenitor) = find_progenitor() else {
        report.notes.push("peers skipped: cargo-progenitor is not on PATH (`cargo install --locked --root target/bench/tools cargo-progenitor`)".into());
        return Ok(());
    };
    let runs = if effort.quick { 3 } else { 7 };
    let binary = crate::target_dir().join("release/vipps-codegen");
    for (copies, spec) in specs {
        let dir = bench_dir().join("peers");
        std::fs::create_dir_all(&dir)?;
        let out = dir.join(format!("progenitor-{copies}x"));
        let spec_arg = spec.to_str().context("utf-8 path")?;
        let out_arg = out.to_str().context("utf-8 path")?;
        let args = ["progenitor", "-i", spec_arg, "-o", out_arg, "-n", "peer", "-v", "0.1.0"];
        match run_many(&progenitor, &args, &dir, runs) {
            Ok(theirs) => {
                let ours_out = dir.join(format!("ours-{copies}x"));
                let ours = run_many(&binary, &["--spec", spec_arg, "--out", ours_out.to_str().context("utf-8 path")?], &dir, runs)?;
                let time = Figure::from_samples(GROUP_PEERS, &format!("{copies}x spec: vipps-codegen"), "ms", &millis(&ours), "progenitor", &millis(&theirs));
                let within = time.ratio <= 0.25;
                report.figures.push(time.with_target("at most 0.25 of progenitor", within));
                let memory = Figure::from_samples(GROUP_PEERS, &format!("{copies}x spec: peak memory"), "MiB", &peaks(&ours), "progenitor", &peaks(&theirs));
                let within = memory.ratio <= 0.5;
                report.figures.push(memory.with_target("at most 0.5 of progenitor", within));
                if *copies == 1 {
                    match (crate_build(&ours_out, "generated-api"), crate_build(&out, "peer")) {
                        (Ok(ours), Ok(theirs)) => {
                            let build = Figure::from_samples(GROUP_PEERS, "1x spec: generated crate's clean build", "ms", &[ours], "progenitor's crate", &[theirs]);
                            let within = build.ratio <= 1.0;
                            report.figures.push(build.with_target("no slower than progenitor's", within));
                        }
                        (ours, theirs) => report.notes.push(format!("crate build comparison skipped: ours {:?}, progenitor's {:?}", ours.err(), theirs.err())),
                    }
                }
            }
            Err(err) => report.notes.push(format!("progenitor could not generate the {copies}x spec: {err:#}")),
        }
    }
    Ok(())
}

/// A generated crate's own clean debug build in milliseconds: built once (dependencies
/// included), then `cargo clean -p` of the crate alone and built again, timed.
fn crate_build(dir: &Path, package: &str) -> anyhow::Result<f64> {
    // Both crates sit under this workspace's target/: an empty `[workspace]` keeps each its own.
    let manifest_path = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)?;
    if !manifest.lines().any(|line| line.trim() == "[workspace]") {
        std::fs::write(&manifest_path, format!("{manifest}\n[workspace]\n"))?;
    }
    let target = dir.join("target");
    let build = || {
        cargo().args(["build", "--quiet"]).current_dir(dir).env("CARGO_TARGET_DIR", &target).env_remove("RUSTFLAGS").status()
    };
    anyhow::ensure!(build()?.success(), "cargo build failed in {}", dir.display());
    let clean = cargo().args(["clean", "--quiet", "-p", package]).current_dir(dir).env("CARGO_TARGET_DIR", &target).status()?;
    anyhow::ensure!(clean.success(), "cargo clean -p {package} failed");
    let started = std::time::Instant::now();
    anyhow::ensure!(build()?.success(), "cargo build failed in {}", dir.display());
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
