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

/// Runs `program args` once, reaping it with `wait4` to read its peak memory.
/// (The one `unsafe` of the workspace: std has no way to read a child's rusage.)
#[allow(unsafe_code)]
pub fn run_once(program: &Path, args: &[&str], cwd: &Path) -> anyhow::Result<Run> {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes into the two out-parameters we own; the pid is our own child, which
    // `Child` will not wait for again (we never call `wait` on it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if reaped != pid {
        bail!("wait4 failed for {}", program.display());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{} {:?} failed with status {status}", program.display(), args);
    }
    Ok(Run { millis, peak_mib: usage.ru_maxrss as f64 / 1024.0 })
}

/// Runs a process `runs` times (after one warm-up run).
pub fn run_many(program: &Path, args: &[&str], cwd: &Path, runs: usize) -> anyhow::Result<Vec<Run>> {
    run_once(program, args, cwd)?;
    (0..runs).map(|_| run_once(program, args, cwd)).collect()
}
