//! Whole-process measurements: wall time and peak resident memory of a child process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

/// One run of a process.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Wall time in milliseconds.
    pub millis: f64,
    /// Peak resident set size in MiB.
    pub peak_mib: f64,
}

/// GNU time, which reports the peak memory of a child it forks itself.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `program args` once and reads its wall time and peak memory.
///
/// Linux carries the spawning process's peak into a child's `ru_maxrss` across `exec` (std
/// spawns with vfork), so a child smaller than this bench process would show the bench's own
/// size. GNU time, when installed, forks the program from its own small process and reports the
/// program's true peak; without it the peak is read with `wait4`, floored at this process's size.
pub fn run_once(program: &Path, args: &[&str], cwd: &Path) -> anyhow::Result<Run> {
    if Path::new(GNU_TIME).is_file() {
        let report = std::env::temp_dir().join(format!("vipps-bench-time-{}", std::process::id()));
        let mut timed: Vec<&str> = vec!["-f", "%M", "-o"];
        let report_arg = report.to_string_lossy().to_string();
        timed.push(&report_arg);
        timed.push(program.to_str().context("utf-8 program path")?);
        timed.extend_from_slice(args);
        let run = run_reaped(Path::new(GNU_TIME), &timed, cwd, program)?;
        let text = std::fs::read_to_string(&report).context("reading GNU time's report")?;
        let _ = std::fs::remove_file(&report);
        let kib: f64 = text.lines().last().unwrap_or_default().trim().parse().context("GNU time's %M")?;
        return Ok(Run { millis: run.millis, peak_mib: kib / 1024.0 });
    }
    run_reaped(program, args, cwd, program)
}

/// Runs `program args` once, reaping it with `wait4` to read its peak memory.
/// (The one `unsafe` of the workspace: std has no way to read a child's rusage.)
#[allow(unsafe_code)]
fn run_reaped(program: &Path, args: &[&str], cwd: &Path, shown: &Path) -> anyhow::Result<Run> {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", shown.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes into the two out-parameters we own; the pid is our own child, which
    // `Child` will not wait for again (we never call `wait` on it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if reaped != pid {
        bail!("wait4 failed for {}", shown.display());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{} {:?} failed with status {status}", shown.display(), args);
    }
    Ok(Run { millis, peak_mib: usage.ru_maxrss as f64 / 1024.0 })
}

/// Runs a process `runs` times (after one warm-up run).
pub fn run_many(program: &Path, args: &[&str], cwd: &Path, runs: usize) -> anyhow::Result<Vec<Run>> {
    run_once(program, args, cwd)?;
    (0..runs).map(|_| run_once(program, args, cwd)).collect()
}
