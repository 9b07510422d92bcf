//! `cargo xtask mutants`: the mutation score of the rule code (cargo-mutants, crates.io).
//!
//! Two sets, each mutated file tested by the packages whose tests exercise it: the simulator's
//! rule code (`contract-tests/src/sim/state/`, `validation.rs`, `idempotency.rs`,
//! `rate_limit.rs`) by `vipps-contract-tests`; the client runtime's `retry`, `idempotency` and
//! `token` modules by `vipps-epayment` and `vipps-contract-tests`. Running the whole workspace
//! test command per mutant (about six minutes each on two cores) would take days; these packages
//! hold every test that reaches the mutated code. Slow, so not part of CI: the dated report is
//! committed under `docs/` and every surviving mutant is listed in `docs/mutants.md` with why it
//! is equivalent, or killed by a new test.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// The cargo-mutants release this project pins.
pub const PINNED_VERSION: &str = "27.1.0";

/// One set of files and the packages that test them.
pub struct MutantSet {
    /// Name (the output folder under `target/mutants/`).
    pub name: &'static str,
    /// Files to mutate (globs, relative to the root).
    pub files: &'static [&'static str],
    /// Packages whose tests run against each mutant.
    pub test_packages: &'static [&'static str],
}

/// The sets the mutation score covers.
pub const SETS: &[MutantSet] = &[
    MutantSet {
        name: "simulator",
        files: &[
            "contract-tests/src/sim/state/*.rs",
            "contract-tests/src/sim/validation.rs",
            "contract-tests/src/sim/idempotency.rs",
            "contract-tests/src/sim/rate_limit.rs",
        ],
        test_packages: &["vipps-contract-tests"],
    },
    MutantSet {
        name: "runtime",
        files: &[
            "codegen/runtime/src/retry.rs",
            "codegen/runtime/src/idempotency.rs",
            "codegen/runtime/src/bounded.rs",
            "codegen/runtime/src/token.rs",
        ],
        test_packages: &["vipps-runtime", "vipps-epayment", "vipps-contract-tests"],
    },
];

/// Counts of one run, from cargo-mutants' `mutants.out/*.txt` lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Score {
    /// Mutants a test failed on.
    pub caught: usize,
    /// Mutants every test passed on.
    pub missed: Vec<String>,
    /// Mutants that made a test hang (counted as caught).
    pub timeout: usize,
    /// Mutants that did not compile (not viable, not counted).
    pub unviable: usize,
}

impl Score {
    /// Caught (including timeouts) over viable mutants.
    pub fn ratio(&self) -> f64 {
        let viable = self.caught + self.timeout + self.missed.len();
        if viable == 0 { 1.0 } else { (self.caught + self.timeout) as f64 / viable as f64 }
    }
}

/// Reads a finished run's output folder.
pub fn read_score(out: &Path) -> anyhow::Result<Score> {
    let lines = |name: &str| -> anyhow::Result<Vec<String>> {
        let path = out.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    };
    Ok(Score { caught: lines("caught.txt")?.len(), missed: lines("missed.txt")?, timeout: lines("timeout.txt")?.len(), unviable: lines("unviable.txt")?.len() })
}

/// `cargo xtask mutants [--set NAME] [--file GLOB]... [--in-place]`: runs the sets (or one, or
/// only the given files of it) and writes `target/mutants/report.md`.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut only_set = None;
    let mut in_place = false;
    let mut files: Vec<String> = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--set" => only_set = Some(iter.next().context("--set needs a value")?.clone()),
            "--file" => files.push(iter.next().context("--file needs a value")?.clone()),
            // Mutate the working tree and reuse target/ (no copy, no cold build); do not edit or
            // build anything else while it runs.
            "--in-place" => in_place = true,
            other => bail!("unknown argument '{other}'\n{}", crate::USAGE),
        }
    }
    let installed = Command::new("cargo").args(["mutants", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !installed {
        bail!("cargo xtask mutants needs cargo-mutants: cargo install --locked cargo-mutants --version {PINNED_VERSION}");
    }
    let root = crate::project_root();
    let out_root = crate::target_dir().join("mutants");
    let mut report = format!("# Mutation score\n\ncargo-mutants {PINNED_VERSION}, run {}\n\n| set | caught | timeout | missed | unviable | caught ratio |\n|---|---|---|---|---|---|\n", today());
    let mut missed_all = Vec::new();
    for set in SETS.iter().filter(|set| only_set.as_deref().is_none_or(|name| name == set.name)) {
        let out = out_root.join(set.name);
        std::fs::create_dir_all(&out)?;
        let mut command = Command::new("cargo");
        command.current_dir(&root).arg("mutants").arg("--no-shuffle").arg("--output").arg(&out);
        if in_place {
            command.arg("--in-place");
        }
        let globs: Vec<&str> = if files.is_empty() { set.files.to_vec() } else { files.iter().map(String::as_str).collect() };
        for glob in globs {
            command.arg("--file").arg(glob);
        }
        for package in set.test_packages {
            command.arg("--test-package").arg(package);
        }
        eprintln!("mutants: set {} ...", set.name);
        // cargo-mutants exits non-zero when mutants survive; the score below is the verdict.
        let status = command.status().context("running cargo mutants")?;
        let score = read_score(&mutants_out(&out))?;
        if score.caught + score.timeout + score.missed.len() + score.unviable == 0 {
            bail!("cargo mutants ({status}) produced no outcomes in {}", out.display());
        }
        report.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1}% |\n",
            set.name,
            score.caught,
            score.timeout,
            score.missed.len(),
            score.unviable,
            score.ratio() * 100.0
        ));
        missed_all.extend(score.missed.iter().map(|m| format!("- `{}`: {m}", set.name)));
    }
    report.push_str("\n## Missed mutants\n\n");
    report.push_str(if missed_all.is_empty() { "none\n" } else { "" });
    for line in &missed_all {
        report.push_str(line);
        report.push('\n');
    }
    let path = out_root.join("report.md");
    std::fs::write(&path, &report)?;
    print!("{report}");
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// cargo-mutants writes into `<output>/mutants.out`.
fn mutants_out(output: &Path) -> PathBuf {
    output.join("mutants.out")
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_counts_timeouts_as_caught_and_ignores_unviable_mutants() {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("caught.txt"), "a\nb\nc\n").expect("write");
        std::fs::write(dir.join("missed.txt"), "src/x.rs:1: replace f -> bool with true\n").expect("write");
        std::fs::write(dir.join("timeout.txt"), "d\n").expect("write");
        std::fs::write(dir.join("unviable.txt"), "e\nf\n").expect("write");
        let score = read_score(&dir).expect("score");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((score.caught, score.timeout, score.missed.len(), score.unviable), (3, 1, 1, 2));
        assert!((score.ratio() - 0.8).abs() < 1e-9, "{}", score.ratio());
    }

    #[test]
    fn every_set_names_files_that_exist() {
        let root = crate::project_root();
        for set in SETS {
            for file in set.files {
                let dir = root.join(file.rsplit_once('/').map(|(d, _)| d).unwrap_or("."));
                let exists = if file.contains('*') { dir.is_dir() } else { root.join(file).is_file() };
                assert!(exists, "{}: {file} does not exist", set.name);
            }
        }
    }
}
