//! Codegen benchmarks: per-stage cost (criterion), the whole release binary (time and peak
//! memory), scaling over synthetic specs 1x/10x/100x, and optionally a peer generator.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use super::process::{Run, run_many, run_once};
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
    // even when it is not, so the report says it was skipped): on copies of our spec, and of the
    // official ePayment 1.8.1 (issue 11's document) when `../shared` is beside the workspace.
    if effort.peers || find_progenitor().is_some() {
        peers(effort, report, "our spec", &specs)?;
        match official_specs(effort)? {
            Some(official) => peers(effort, report, "official 1.8.1", &official)?,
            None => report.notes.push("peers on the official ePayment 1.8.1 skipped: ../shared/vipps/epayment-1.8.1.yaml is not beside the workspace".into()),
        }
    }
    Ok(())
}

/// Sizes of the synthetic specs (the 100x one only in full runs).
fn scaling_sizes(effort: Effort) -> &'static [usize] {
    if effort.quick { &[1, 10] } else { &[1, 10, 100] }
}

/// Writes `copies`-fold copies of a document into the bench folder as `<stem>-<n>x.yaml`.
fn write_copies(source: &Path, stem: &str, sizes: &[usize]) -> anyhow::Result<Vec<(usize, PathBuf)>> {
    let spec = vipps_codegen::load::load_document(source)?.value;
    let dir = bench_dir().join("scaling");
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for &copies in sizes {
        let path = dir.join(format!("{stem}-{copies}x.yaml"));
        std::fs::write(&path, yaml_serde::to_string(&replicate_spec(&spec, copies))?)?;
        written.push((copies, path));
    }
    Ok(written)
}

/// Copies of the official ePayment 1.8.1, or None when `../shared` is not there.
fn official_specs(effort: Effort) -> anyhow::Result<Option<Vec<(usize, PathBuf)>>> {
    let Some(source) = vipps_codegen::shared::official_document(&crate::project_root(), "epayment-1.8.1.yaml") else { return Ok(None) };
    write_copies(&source, "official-epayment", scaling_sizes(effort)).map(Some)
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

/// The profile the generator binary ships with (the workspace manifest's `[profile.dist]`).
const SHIPPED_PROFILE: &str = "dist";

/// The generator binary as it ships.
fn shipped_binary() -> PathBuf {
    crate::target_dir().join(SHIPPED_PROFILE).join("vipps-codegen")
}

fn build_release_binary() -> anyhow::Result<PathBuf> {
    let status = cargo()
        .args(["build", "--quiet", "--profile", SHIPPED_PROFILE, "-p", "vipps-codegen", "--bin", "vipps-codegen"])
        .current_dir(crate::project_root())
        .status()?;
    if !status.success() {
        bail!("building the codegen binary (profile {SHIPPED_PROFILE}) failed");
    }
    Ok(shipped_binary())
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
    let dir = bench_dir().join("scaling");
    let runs = if effort.quick { 2 } else { 7 };
    if effort.quick {
        report.notes.push("quick run: the 100x synthetic spec is skipped (several seconds per run); the full run measures it".into());
    }
    let specs = write_copies(&crate::project_root().join("spec/epayment.yaml"), "epayment", scaling_sizes(effort))?;
    let mut measured: Vec<(usize, Vec<Run>)> = Vec::new();
    for (copies, path) in &specs {
        let out = dir.join(format!("out-{copies}x"));
        let args = ["--spec", path.to_str().context("utf-8 path")?, "--out", out.to_str().context("utf-8 path")?];
        measured.push((*copies, run_many(binary, &args, &dir, runs)?));
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
fn peers(effort: Effort, report: &mut Report, document: &str, specs: &[(usize, PathBuf)]) -> anyhow::Result<()> {
    let Some(progenitor) = find_progenitor() else {
        report.notes.push("peers skipped: cargo-progenitor is not on PATH (`cargo install --locked --root target/bench/tools cargo-progenitor`)".into());
        return Ok(());
    };
    let runs = if effort.quick { 3 } else { 7 };
    let binary = shipped_binary();
    let slug: String = document.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let dir = bench_dir().join("peers");
    std::fs::create_dir_all(&dir)?;
    for (copies, spec) in specs {
        let out = dir.join(format!("progenitor-{slug}-{copies}x"));
        let ours_out = dir.join(format!("ours-{slug}-{copies}x"));
        let spec_arg = spec.to_str().context("utf-8 path")?;
        let theirs_args = ["progenitor", "-i", spec_arg, "-o", out.to_str().context("utf-8 path")?, "-n", "peer", "-v", "0.1.0"];
        let ours_args = ["--spec", spec_arg, "--out", ours_out.to_str().context("utf-8 path")?];
        match run_paired((&binary, &ours_args), (&progenitor, &theirs_args), &dir, runs) {
            Ok((ours, theirs)) => {
                let time = Figure::from_samples(GROUP_PEERS, &format!("{document}, {copies}x: vipps-codegen"), "ms", &millis(&ours), "progenitor", &millis(&theirs));
                let within = time.ratio <= 0.25;
                report.figures.push(time.with_target("at most 0.25 of progenitor", within));
                let memory = Figure::from_samples(GROUP_PEERS, &format!("{document}, {copies}x: peak memory"), "MiB", &peaks(&ours), "progenitor", &peaks(&theirs));
                let within = memory.ratio <= 0.5;
                report.figures.push(memory.with_target("at most 0.5 of progenitor", within));
                if *copies == 1 {
                    match crate_builds(&ours_out, "generated-api", &out, "peer", if effort.quick { 1 } else { 5 }) {
                        Ok((ours, theirs)) => {
                            let name = format!("{document}, 1x: generated crate's clean build");
                            let build = Figure::from_samples(GROUP_PEERS, &name, "ms", &ours, "progenitor's crate", &theirs);
                            let within = build.ratio <= 1.0;
                            report.figures.push(build.with_target("no slower than progenitor's", within));
                        }
                        Err(err) => report.notes.push(format!("crate build comparison ({document}) skipped: {err:#}")),
                    }
                }
            }
            Err(err) => report.notes.push(format!("progenitor could not generate the {copies}x copy of {document}: {err:#}")),
        }
    }
    Ok(())
}

/// Runs two programs `runs` times each, alternating (after one warm-up run of each), so the
/// machine's drift during the measurement falls on both sides alike.
fn run_paired(ours: (&Path, &[&str]), theirs: (&Path, &[&str]), cwd: &Path, runs: usize) -> anyhow::Result<(Vec<Run>, Vec<Run>)> {
    run_once(theirs.0, theirs.1, cwd)?;
    run_once(ours.0, ours.1, cwd)?;
    let (mut our_runs, mut their_runs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        their_runs.push(run_once(theirs.0, theirs.1, cwd)?);
        our_runs.push(run_once(ours.0, ours.1, cwd)?);
    }
    Ok((our_runs, their_runs))
}

/// Clean builds of two generated crates, `samples` each, the sides alternating (so the machine's
/// drift falls on both): milliseconds per build, ours then theirs.
fn crate_builds(ours: &Path, our_package: &str, theirs: &Path, their_package: &str, samples: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        our_times.push(crate_build(ours, our_package)?);
        their_times.push(crate_build(theirs, their_package)?);
    }
    Ok((our_times, their_times))
}

/// A generated crate's own clean debug build in milliseconds: built (dependencies included, a
/// no-op after the first time), then `cargo clean -p` of the crate alone and built again, timed.
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
