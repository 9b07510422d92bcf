//! Runtime benchmarks: the generated client against plain reqwest, the simulator against a bare
//! axum handler (both load programs are `harness = false` benches of `vipps-contract-tests` that
//! print one JSON object of raw samples), and the wall time of the default contract suites
//! against the same `cargo test` with no test selected.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::Value;

use super::report::{Figure, percentile};
use super::{Effort, Report};

const GROUP_CLIENT: &str = "Generated client overhead";
const GROUP_SIMULATOR: &str = "Simulator throughput";
const GROUP_SUITES: &str = "Contract suites";

const PACKAGE: &str = "vipps-contract-tests";

/// Runs every runtime benchmark.
pub fn run(effort: Effort, report: &mut Report) -> anyhow::Result<()> {
    let started = Instant::now();
    let client = bench_json("client_overhead", effort, report)?;
    client_overhead(&client, report)?;
    eprintln!("bench: client overhead done at {:.0} s", started.elapsed().as_secs_f64());
    let simulator = bench_json("simulator_throughput", effort, report)?;
    simulator_throughput(&simulator, report)?;
    eprintln!("bench: simulator throughput done at {:.0} s", started.elapsed().as_secs_f64());
    contract_suites(effort, report)?;
    eprintln!("bench: contract suites done at {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(crate::project_root());
    command
}

/// Builds the bench (not measured), runs it and parses the JSON object it prints.
fn bench_json(name: &str, effort: Effort, report: &mut Report) -> anyhow::Result<Value> {
    let status = cargo()
        .args(["bench", "--quiet", "-p", PACKAGE, "--bench", name, "--no-run"])
        .stdout(Stdio::null())
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("building the bench {name} of {PACKAGE} failed");
    }
    let mut command = cargo();
    command.args(["bench", "--quiet", "-p", PACKAGE, "--bench", name, "--"]);
    if effort.quick {
        command.arg("--quick");
    }
    let output = command.stderr(Stdio::inherit()).output().context("running cargo bench")?;
    if !output.status.success() {
        bail!("cargo bench -p {PACKAGE} --bench {name} failed");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line.trim()).ok().filter(Value::is_object))
        .with_context(|| format!("the bench {name} printed no JSON object"))?;
    // The raw samples, next to the report.
    std::fs::write(super::bench_dir().join(format!("{name}.json")), serde_json::to_string_pretty(&json)?)?;
    note_load(report, name, json["others_cores"].as_f64().unwrap_or(0.0));
    Ok(json)
}

/// A note when other processes kept the cores busy during a measurement.
fn note_load(report: &mut Report, what: &str, others_cores: f64) {
    if others_cores >= 0.1 {
        report.notes.push(format!(
            "{what}: other processes used {others_cores:.2} cores on average while it ran (of {}); absolute figures are below an idle machine's, ratios compare sides measured under the same load",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        ));
    }
}

fn samples(value: &Value) -> Vec<f64> {
    value.as_array().map(|items| items.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

fn client_overhead(json: &Value, report: &mut Report) -> anyhow::Result<()> {
    const PLAIN: &str = "plain reqwest + serde_json::Value";
    const TYPED: &str = "plain reqwest + serde_json into the generated model";
    let target = "throughput at least 95% of plain reqwest";
    for (mode, label) in [("sequential", "sequential"), ("concurrent", "16 concurrent tasks")] {
        let sides = json.pointer(&format!("/{mode}/sides")).with_context(|| format!("client_overhead: no {mode} sides"))?;
        let series = |side: &str, what: &str| samples(&sides[side][what]);
        let throughput =
            Figure::from_samples(GROUP_CLIENT, &format!("get_payment, {label}: throughput"), "calls/s", &series("ours", "throughput"), PLAIN, &series("baseline", "throughput"));
        let met = throughput.ratio >= 0.95;
        report.figures.push(throughput.with_target(target, met));
        for (what, name) in [("p50_us", "p50 latency"), ("p99_us", "p99 latency")] {
            report.figures.push(Figure::from_samples(GROUP_CLIENT, &format!("get_payment, {label}: {name}"), "us", &series("ours", what), PLAIN, &series("baseline", what)));
        }
        report.figures.push(Figure::from_samples(
            GROUP_CLIENT,
            &format!("get_payment, {label}: throughput (runtime only)"),
            "calls/s",
            &series("ours", "throughput"),
            TYPED,
            &series("typed_baseline", "throughput"),
        ));
    }
    if report.figures.iter().any(|f| f.group == GROUP_CLIENT && f.target.as_ref().is_some_and(|t| !t.met)) {
        report.notes.push(
            "Generated client: throughput target missed. Profile: `valgrind --tool=callgrind <client_overhead bench binary> --quick --side ours` against `--side baseline` and `--side typed_baseline` (instructions per call, simulator included); findings in the README's Performance section.".into(),
        );
    }
    let rounds = json["rounds"].as_u64().unwrap_or(0);
    report.notes.push(format!(
        "Generated client: {rounds} rounds per side, sides alternating; sequential calls on a current-thread runtime shared with the in-process simulator, concurrent calls on the multi-thread runtime; one token per side fetched before measuring."
    ));
    Ok(())
}

fn simulator_throughput(json: &Value, report: &mut Report) -> anyhow::Result<()> {
    let levels = json["levels"].as_array().context("simulator_throughput: no levels")?;
    for level in levels {
        let connections = level["connections"].as_u64().context("connections")?;
        let figure = Figure::from_samples(
            GROUP_SIMULATOR,
            &format!("create+get at {connections} connection{}", if connections == 1 { "" } else { "s" }),
            "req/s",
            &samples(&level["ours"]),
            "bare axum handler, fixed JSON body",
            &samples(&level["baseline"]),
        );
        let figure = if connections == 8 {
            let met = figure.ratio >= 0.5;
            figure.with_target("at least half the bare axum throughput", met)
        } else {
            figure
        };
        report.figures.push(figure);
        let failed = level["failed"].as_u64().unwrap_or(0);
        if failed > 0 {
            report.notes.push(format!("simulator throughput at {connections} connections: {failed} requests failed"));
        }
    }
    report.notes.push(format!(
        "Simulator throughput: {} rounds of {} s per side and level, a fresh simulator and bare server each round; load generator (plain reqwest) and server share one tokio runtime and both cores.",
        json["rounds"].as_u64().unwrap_or(0),
        json["seconds"].as_f64().unwrap_or(0.0)
    ));
    Ok(())
}

/// A test binary of the package, as `cargo test --no-run` built it.
struct TestBinary {
    /// How cargo names it when running it (`tests/contract/main.rs`, `unittests src/lib.rs`).
    name: String,
    executable: std::path::PathBuf,
}

/// Builds the test binaries (dev profile, as CI) and lists them.
fn build_test_binaries() -> anyhow::Result<Option<Vec<TestBinary>>> {
    let output = cargo()
        .args(["test", "-p", PACKAGE, "--no-run", "--message-format=json-render-diagnostics"])
        .stderr(Stdio::null())
        .output()
        .context("running cargo test --no-run")?;
    if !output.status.success() {
        return Ok(None);
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
            continue;
        }
        let Some(executable) = message["executable"].as_str() else { continue };
        let source = message["target"]["src_path"].as_str().unwrap_or_default();
        let package_dir = crate::project_root().join("contract-tests");
        let relative = std::path::Path::new(source).strip_prefix(&package_dir).map(|p| p.display().to_string()).unwrap_or_else(|_| source.to_string());
        let kinds = message["target"]["kind"].as_array().cloned().unwrap_or_default();
        let name = if kinds.iter().any(|k| k == "test") { relative } else { format!("unittests {relative}") };
        binaries.push(TestBinary { name, executable: executable.into() });
    }
    Ok(Some(binaries))
}

/// One run of every test binary, one after another as `cargo test` runs them: wall time and
/// what the binaries said.
struct SuiteRun {
    seconds: f64,
    passed: u64,
    failed: u64,
    ignored: u64,
    /// (binary, passed, seconds) per test binary, from libtest's `finished in` lines.
    binaries: Vec<(String, u64, f64)>,
    others_cores: f64,
    success: bool,
}

fn run_test_binaries(binaries: &[TestBinary], filter_none: bool) -> anyhow::Result<SuiteRun> {
    let package_dir = crate::project_root().join("contract-tests");
    let probe = LoadProbe::start();
    let started = Instant::now();
    let mut outputs = Vec::new();
    for binary in binaries {
        let mut command = Command::new(&binary.executable);
        // What cargo test sets up: the package root as working directory and manifest dir.
        // A failing snapshot writes no `.snap.new`.
        command.current_dir(&package_dir).env("CARGO_MANIFEST_DIR", &package_dir).env("INSTA_UPDATE", "no");
        if filter_none {
            command.args(["--exact", "__none__"]);
        }
        let output = command.stderr(Stdio::null()).output().with_context(|| format!("running {}", binary.executable.display()))?;
        outputs.push(output);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut run = SuiteRun { seconds, passed: 0, failed: 0, ignored: 0, binaries: Vec::new(), others_cores: probe.others_cores(), success: true };
    for (binary, output) in binaries.iter().zip(&outputs) {
        run.success &= output.status.success();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(line) = stdout.lines().find(|l| l.starts_with("test result:")) else { continue };
        let count = |word: &str| -> u64 {
            line.split([';', '.']).find_map(|part| part.trim().strip_suffix(word).and_then(|n| n.trim().parse().ok())).unwrap_or(0)
        };
        let finished =
            line.rsplit("finished in ").next().and_then(|rest| rest.trim().trim_end_matches('s').parse::<f64>().ok()).unwrap_or(0.0);
        let passed = count("passed");
        run.passed += passed;
        run.failed += count("failed");
        run.ignored += count("ignored");
        run.binaries.push((binary.name.clone(), passed, finished));
    }
    Ok(run)
}

fn contract_suites(effort: Effort, report: &mut Report) -> anyhow::Result<()> {
    // Built first, as CI has it by the time the tests run; the build is not measured. The
    // binaries are then run directly, so another build in the shared target directory (its
    // lock, or a rebuild) cannot land in the measurement.
    let Some(binaries) = build_test_binaries()? else {
        report.notes.push(format!("contract suites skipped: `cargo test -p {PACKAGE} --no-run` failed"));
        return Ok(());
    };
    let runs = if effort.quick { 1 } else { 3 };
    let (mut ours, mut harness) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        harness.push(run_test_binaries(&binaries, true)?);
        ours.push(run_test_binaries(&binaries, false)?);
    }
    let seconds = |runs: &[SuiteRun]| runs.iter().map(|r| r.seconds).collect::<Vec<_>>();
    let time = Figure::from_samples(
        GROUP_SUITES,
        &format!("test binaries of {PACKAGE} (cargo test -p {PACKAGE}): wall time"),
        "s",
        &seconds(&ours),
        "same binaries, no test selected",
        &seconds(&harness),
    );
    let met = time.ours < 120.0;
    report.figures.push(time.with_target("under 2 minutes on 2 cores", met));
    let rate = |runs: &[SuiteRun]| runs.iter().map(|r| r.passed as f64 / r.seconds).collect::<Vec<_>>();
    let passed_in_harness_time: Vec<f64> = ours.iter().zip(&harness).map(|(o, h)| o.passed as f64 / h.seconds).collect();
    report.figures.push(Figure::from_samples(
        GROUP_SUITES,
        "passed cases per second",
        "cases/s",
        &rate(&ours),
        "the same cases over the harness-only time",
        &passed_in_harness_time,
    ));
    let last = ours.last().context("no suite run")?;
    let per_binary = last.binaries.iter().map(|(name, passed, secs)| format!("{name}: {passed} in {secs:.1} s")).collect::<Vec<_>>().join("; ");
    report.notes.push(format!(
        "Contract suites (dev profile, as CI; built before timing, then the test binaries run one after another as cargo test runs them; doc-tests not included; {runs} run{} per side): {} passed, {} failed, {} ignored. Per binary: {per_binary}.",
        if runs == 1 { "" } else { "s" },
        last.passed,
        last.failed,
        last.ignored
    ));
    if ours.iter().any(|r| !r.success) {
        report.notes.push("contract suites: at least one test failed; the wall time includes the failing run".into());
    }
    let others = percentile(&ours.iter().map(|r| r.others_cores).collect::<Vec<_>>(), 0.5);
    note_load(report, "contract suites", others);
    Ok(())
}

/// CPU used by the machine and by this process and its waited-for children since `start`
/// (from `/proc`), to tell how busy other processes kept the cores.
struct LoadProbe {
    started: Instant,
    machine: u64,
    own: u64,
}

impl LoadProbe {
    fn start() -> Self {
        Self { started: Instant::now(), machine: machine_busy_ticks(), own: own_ticks() }
    }

    /// Cores' worth of CPU others used since `start`, on average.
    fn others_cores(&self) -> f64 {
        let seconds = self.started.elapsed().as_secs_f64();
        let ticks = machine_busy_ticks().saturating_sub(self.machine).saturating_sub(own_ticks().saturating_sub(self.own));
        // USER_HZ is 100 on every Linux this runs on.
        if seconds > 0.0 { ticks as f64 / 100.0 / seconds } else { 0.0 }
    }
}

fn machine_busy_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else { return 0 };
    let Some(line) = text.lines().next() else { return 0 };
    // cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    line.split_whitespace().skip(1).filter_map(|f| f.parse::<u64>().ok()).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, v)| v).sum()
}

/// utime + stime + cutime + cstime of this process (fields 14-17 of `/proc/self/stat`).
fn own_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    let Some((_, rest)) = text.rsplit_once(')') else { return 0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    (14..=17).filter_map(|n| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok())).sum()
}
