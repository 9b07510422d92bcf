//! `spec diff OLD NEW --semver-check`: the independent oracle for the diff's version advice.
//!
//! The SDK crate is generated from each document (same crate and module names, the project's
//! runtime and its other documents unchanged) into a temporary workspace, and
//! `cargo semver-checks check-release` compares the two crates' public APIs. Its verdict is the
//! smallest bump that keeps callers compiling; the spec diff's suggestion must be at least that.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use vipps_codegen::diff::Semver;
use vipps_codegen::output::OutputMode;
use vipps_codegen::project::run_project;
use vipps_codegen::{PROJECT_CRATE_DIR, RemoteRefMap, load_settings};

/// The cargo-semver-checks release this project pins (installed by `.ci/run` when missing).
pub const PINNED_VERSION: &str = "0.51.0";

/// Package name of the SDK crate, as `check-release -p` needs it (the crate is `publish = false`,
/// which check-release skips unless the package is named).
const SDK_PACKAGE: &str = "vipps-epayment";

/// Which documents one side of the comparison is generated from.
#[derive(Debug, Clone, Default)]
pub struct SdkDocuments {
    /// `(module, file)`: the project's document for `module` is replaced by `file`.
    pub replaced: Vec<(String, PathBuf)>,
    /// `(module, file)`: extra documents, each generated as its own module.
    pub added: Vec<(String, PathBuf)>,
}

/// One failed lint of cargo-semver-checks and the items it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintFailure {
    /// The lint's id (`enum_variant_added`, ...).
    pub lint: String,
    /// The bump the lint requires.
    pub required: Semver,
    /// Its "Failed in:" lines (one item each, with the file).
    pub items: Vec<String>,
}

/// What cargo-semver-checks said about a pair of crates.
#[derive(Debug, Clone)]
pub struct SemverVerdict {
    /// The bump it requires; `None` when it requires none.
    pub required: Option<Semver>,
    /// Every failed lint.
    pub failures: Vec<LintFailure>,
    /// Its whole output, for reports.
    pub output: String,
}

impl SemverVerdict {
    /// The largest bump any failure naming an item that contains `needle` requires.
    pub fn required_for(&self, needle: &str) -> Option<Semver> {
        self.failures
            .iter()
            .filter(|failure| failure.items.iter().any(|item| item_names(item, needle)))
            .map(|failure| failure.required)
            .max()
    }

    /// The lints that name an item containing `needle`.
    pub fn lints_for(&self, needle: &str) -> Vec<&str> {
        let mut lints: Vec<&str> = self
            .failures
            .iter()
            .filter(|failure| failure.items.iter().any(|item| item_names(item, needle)))
            .map(|failure| failure.lint.as_str())
            .collect();
        lints.sort_unstable();
        lints.dedup();
        lints
    }
}

/// Whether a "Failed in:" line names an identifier that starts with `needle` (so the inline
/// types of an item, `FooBar` for `Foo.bar`, count as the item's); the file name after " in "
/// is not read.
fn item_names(item: &str, needle: &str) -> bool {
    let item = item.rsplit_once(" in /").map(|(head, _)| head).unwrap_or(item);
    item.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| word.starts_with(needle))
}

/// A fresh directory for one comparison, under the target dir (so concurrent runs do not meet).
pub fn work_dir(label: &str) -> anyhow::Result<PathBuf> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = crate::target_dir().join("semver-check").join(format!("{label}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The target dir every comparison shares, so the dependencies' rustdoc inputs are built once.
pub fn shared_target() -> PathBuf {
    crate::target_dir().join("semver-check").join("target")
}

/// Whether `cargo semver-checks` can be run here.
pub fn available() -> bool {
    Command::new("cargo").args(["semver-checks", "--version"]).output().map(|out| out.status.success()).unwrap_or(false)
}

/// Writes a workspace at `dir` holding the SDK crate generated from the project's settings with
/// `documents` applied: the project's `Cargo.toml` (as the only member), `Cargo.lock`, `spec/`,
/// and the hand-written parts of `generated/` (manifest, README, `lib.rs` and every other
/// hand-written source).
pub fn write_sdk(root: &Path, dir: &Path, documents: &SdkDocuments) -> anyhow::Result<()> {
    let crate_dir = dir.join(PROJECT_CRATE_DIR);
    std::fs::create_dir_all(crate_dir.join("src"))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let codegen_path = root.join("codegen").canonicalize().context("locating codegen/")?;
    let manifest = manifest
        .lines()
        .map(|line| match line.trim_start() {
            l if l.starts_with("members") => format!("members = [\"{PROJECT_CRATE_DIR}\"]"),
            l if l.starts_with("vipps-codegen ") => format!("vipps-codegen = {{ path = {:?} }}", codegen_path.display().to_string()),
            l if l.starts_with("vipps-runtime ") => format!("vipps-runtime = {{ path = {:?} }}", codegen_path.join("runtime").display().to_string()),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).context("copying Cargo.lock")?;

    let spec_dir = dir.join("spec");
    std::fs::create_dir_all(&spec_dir)?;
    for entry in std::fs::read_dir(root.join("spec"))? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::copy(&path, spec_dir.join(path.file_name().unwrap_or_default()))?;
        }
    }
    let settings_path = spec_dir.join("codegen.yaml");
    let settings = load_settings(&settings_path)?;
    for (module, file) in &documents.replaced {
        let entry = settings
            .specs
            .iter()
            .find(|entry| &entry.module == module)
            .with_context(|| format!("spec/codegen.yaml has no module '{module}'"))?;
        std::fs::copy(file, spec_dir.join(&entry.file)).with_context(|| format!("copying {}", file.display()))?;
    }
    if !documents.added.is_empty() {
        let text = std::fs::read_to_string(&settings_path)?;
        let mut value: yaml_serde::Value = yaml_serde::from_str(&text)?;
        let specs = value.get_mut("specs").and_then(yaml_serde::Value::as_sequence_mut).context("spec/codegen.yaml has no specs list")?;
        for (module, file) in &documents.added {
            let name = format!("{module}.yaml");
            std::fs::copy(file, spec_dir.join(&name)).with_context(|| format!("copying {}", file.display()))?;
            let mut entry = yaml_serde::Mapping::new();
            entry.insert("file".into(), name.into());
            entry.insert("module".into(), module.clone().into());
            specs.push(entry.into());
        }
        std::fs::write(&settings_path, yaml_serde::to_string(&value)?)?;
    }
    for file in ["Cargo.toml", "README.md"] {
        std::fs::copy(root.join(PROJECT_CRATE_DIR).join(file), crate_dir.join(file))?;
    }
    // Every hand-written source (the runtime, the SDK's own modules); the generated folder is
    // made anew from the documents.
    for entry in std::fs::read_dir(root.join(PROJECT_CRATE_DIR).join("src"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default();
        let target = crate_dir.join("src").join(name);
        if path.is_dir() && name != "generated" {
            copy_tree(&path, &target)?;
        } else if path.is_file() {
            std::fs::copy(&path, &target)?;
        }
    }
    run_project(dir, OutputMode::Write, &RemoteRefMap::default())?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)?;
        }
    }
    Ok(())
}

/// Runs `cargo semver-checks check-release` with `old` (a workspace from [`write_sdk`]) as the
/// baseline and `new` as the current crate. `target` is shared between runs so the
/// dependencies' rustdoc inputs are built once.
pub fn semver_checks(old: &Path, new: &Path, target: &Path) -> anyhow::Result<SemverVerdict> {
    // Both crates are the same package, so their rustdoc JSON lands at the same path of the
    // shared target dir: one comparison at a time in this process.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let output = Command::new("cargo")
        .args(["semver-checks", "check-release", "--color", "never", "-p", SDK_PACKAGE])
        .arg("--manifest-path")
        .arg(new.join("Cargo.toml"))
        .arg("--baseline-root")
        .arg(old)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .context("running cargo semver-checks (install it: cargo install --locked cargo-semver-checks)")?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let mut verdict = parse_output(&text)?;
    // A failure exit with no failed lint is a tool error, not a verdict.
    if !output.status.success() && verdict.failures.is_empty() {
        bail!("cargo semver-checks failed:\n{text}");
    }
    apply_lint_levels(&mut verdict, lint_list()?);
    Ok(verdict)
}

/// `cargo semver-checks --list`, asked once per process: it does not change between comparisons.
fn lint_list() -> anyhow::Result<&'static str> {
    static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(list) = LIST.get() {
        return Ok(list);
    }
    let output = Command::new("cargo").args(["semver-checks", "--list"]).output().context("cargo semver-checks --list")?;
    Ok(LIST.get_or_init(|| String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Reads cargo-semver-checks' text report: `--- failure LINT: ... ---` blocks with their
/// "Failed in:" items, and the `Summary` line with the required bump.
pub fn parse_output(text: &str) -> anyhow::Result<SemverVerdict> {
    let mut failures: Vec<LintFailure> = Vec::new();
    let mut in_items = false;
    let mut required = None;
    let mut summary_seen = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("--- failure ").or_else(|| trimmed.strip_prefix("--- warning ")) {
            let lint = rest.split(':').next().unwrap_or(rest).trim().to_string();
            failures.push(LintFailure { lint, required: Semver::Major, items: Vec::new() });
            in_items = false;
        } else if trimmed == "Failed in:" {
            in_items = true;
        } else if trimmed.is_empty() {
            in_items = false;
        } else if trimmed.starts_with("Summary") {
            summary_seen = true;
            in_items = false;
            if trimmed.contains("new major version") {
                required = Some(Semver::Major);
            } else if trimmed.contains("new minor version") {
                required = Some(Semver::Minor);
            }
        } else if in_items && let Some(failure) = failures.last_mut() {
            failure.items.push(trimmed.to_string());
        }
    }
    if !summary_seen {
        bail!("cargo semver-checks printed no summary:\n{text}");
    }
    Ok(SemverVerdict { required, failures, output: text.to_string() })
}

/// Sets each failure's required bump from the lint table (`cargo semver-checks --list`: id,
/// `major` or `minor`, description). A lint the table does not name stays major, the safe side.
pub fn apply_lint_levels(verdict: &mut SemverVerdict, list: &str) {
    let minor: Vec<&str> = list
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?;
            (words.next()? == "minor").then_some(id)
        })
        .collect();
    for failure in &mut verdict.failures {
        if minor.contains(&failure.lint.as_str()) {
            failure.required = Semver::Minor;
        }
    }
}
