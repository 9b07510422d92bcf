//! `cargo xtask spec diff OLD NEW`: what changed between two spec documents, classified for the
//! generated crate's users (semver) and for the wire; and the one-line summary `cargo xtask
//! codegen` prints about the spec against the copy the committed `generated/` was made from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use vipps_codegen::diff::{Format, ModuleDocuments, Semver, SpecDiff, common_type_changes_of_files, default_settings, diff_files_with, render};
use vipps_codegen::{
    PROJECT_CRATE_DIR, PROJECT_GENERATED_DIR, PROJECT_SPEC_COPY_DIR, RemoteRefMap, Settings, load_remote_refs, load_settings,
    sha256_hex,
};

/// When `spec diff` should exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// A change that breaks an old client on the wire.
    Breaking,
    /// A change that needs a major version of the crate.
    Major,
}

/// Parsed arguments of `spec diff`.
#[derive(Debug)]
struct Args {
    old: PathBuf,
    new: PathBuf,
    format: Format,
    fail_on: Option<FailOn>,
    map_refs: RemoteRefMap,
    settings: Option<PathBuf>,
    semver_check: bool,
    module: Option<String>,
}

fn parse(args: &[String]) -> anyhow::Result<Args> {
    let mut positional = Vec::new();
    let mut format = Format::Text;
    let mut fail_on = None;
    let mut map_refs = RemoteRefMap::default();
    let mut settings = None;
    let mut semver_check = false;
    let mut module = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| iter.next().cloned().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--format" => format = value("--format")?.parse().map_err(anyhow::Error::msg)?,
            "--fail-on" => {
                fail_on = Some(match value("--fail-on")?.as_str() {
                    "breaking" => FailOn::Breaking,
                    "major" => FailOn::Major,
                    other => bail!("--fail-on takes breaking or major, got '{other}'"),
                })
            }
            "--map-ref" => map_refs.insert_cli(&value("--map-ref")?).map_err(anyhow::Error::msg)?,
            "--settings" => settings = Some(PathBuf::from(value("--settings")?)),
            "--semver-check" => semver_check = true,
            "--module" => module = Some(value("--module")?),
            other if other.starts_with("--") => bail!("unknown argument '{other}'\n{}", crate::USAGE),
            other => positional.push(PathBuf::from(other)),
        }
    }
    let [old, new] = <[PathBuf; 2]>::try_from(positional).map_err(|_| anyhow::anyhow!("spec diff takes OLD and NEW\n{}", crate::USAGE))?;
    Ok(Args { old, new, format, fail_on, map_refs, settings, semver_check, module })
}

/// What `spec diff` produced.
#[derive(Debug)]
pub struct Outcome {
    /// The diff.
    pub diff: SpecDiff,
    /// The rendered report.
    pub report: String,
    /// Whether the `--fail-on` condition was met, or (`--semver-check`) the suggestion is below
    /// cargo-semver-checks' verdict.
    pub failed: bool,
    /// With `--semver-check`: cargo-semver-checks' verdict on the SDK generated from each side.
    pub semver: Option<crate::semver_check::SemverVerdict>,
}

/// The settings (header roles, merchant tags, environments) and remote-ref map of a settings file.
fn settings_and_refs(path: &Path, extra: &RemoteRefMap) -> anyhow::Result<(Settings, RemoteRefMap)> {
    let settings = load_settings(path)?;
    let mut refs = match &settings.remote_refs {
        Some(file) => load_remote_refs(&path.parent().unwrap_or(Path::new(".")).join(file))?,
        None => RemoteRefMap::default(),
    };
    refs.entries.extend(extra.entries.clone());
    Ok((settings, refs))
}

/// Runs `spec diff` (arguments after `diff`) and returns the report instead of printing it.
///
/// The project's `spec/codegen.yaml` gives the header roles and merchant-served tags unless
/// `--settings` names another file; without either, the common defaults are used.
pub fn spec_diff(args: &[String]) -> anyhow::Result<Outcome> {
    let args = parse(args)?;
    let project_settings = crate::project_root().join("spec/codegen.yaml");
    let settings_path = args.settings.clone().or_else(|| project_settings.is_file().then_some(project_settings));
    let (settings, refs) = match &settings_path {
        Some(path) => settings_and_refs(path, &args.map_refs)?,
        None => (default_settings(), args.map_refs.clone()),
    };
    let diff = diff_files_with(&args.old, &args.new, &refs, &settings)?;
    let failed = match args.fail_on {
        Some(FailOn::Breaking) => diff.has_breaking(),
        Some(FailOn::Major) => diff.summary.suggested_bump == Some(Semver::Major),
        None => false,
    };
    let mut report = render(&diff, args.format);
    let mut failed = failed;
    let mut semver = None;
    if args.semver_check {
        let verdict = semver_check_pair(&args, &settings)?;
        let ours = diff.summary.suggested_bump;
        let below = verdict.required.is_some() && ours < verdict.required;
        report.push_str(&format!(
            "\nversion advice: spec diff suggests {}; cargo-semver-checks {} requires {}{}\n",
            show_bump(ours),
            crate::semver_check::PINNED_VERSION,
            show_bump(verdict.required),
            if below { " -- the suggestion is too small" } else { " -- the suggestion covers it" },
        ));
        for failure in &verdict.failures {
            report.push_str(&format!("  {} {}: {}\n", failure.required, failure.lint, failure.items.join("; ")));
        }
        failed |= below;
        semver = Some(verdict);
    }
    Ok(Outcome { diff, report, failed, semver })
}

fn show_bump(bump: Option<Semver>) -> String {
    bump.map(|b| b.to_string()).unwrap_or_else(|| "no bump".to_string())
}

/// Generates the SDK from OLD and from NEW (as the module `--module`, or the settings' module
/// whose file has NEW's file name, or the first module) and runs cargo-semver-checks on the pair.
fn semver_check_pair(args: &Args, settings: &Settings) -> anyhow::Result<crate::semver_check::SemverVerdict> {
    use crate::semver_check::{SdkDocuments, semver_checks, write_sdk};
    if !crate::semver_check::available() {
        bail!(
            "--semver-check needs cargo-semver-checks: cargo install --locked cargo-semver-checks --version {}",
            crate::semver_check::PINNED_VERSION
        );
    }
    let module = match &args.module {
        Some(module) => module.clone(),
        None => {
            let name = args.new.file_name();
            settings
                .specs
                .iter()
                .find(|entry| entry.file.file_name() == name)
                .or(settings.specs.first())
                .map(|entry| entry.module.clone())
                .context("the settings list no documents")?
        }
    };
    let root = crate::project_root();
    let work = crate::semver_check::work_dir("spec-diff")?;
    for (side, file) in [("old", &args.old), ("new", &args.new)] {
        let file = file.canonicalize().with_context(|| format!("reading {}", file.display()))?;
        let documents = SdkDocuments { replaced: vec![(module.clone(), file)], added: Vec::new() };
        write_sdk(&root, &work.join(side), &documents).with_context(|| format!("generating the SDK from the {side} document"))?;
    }
    let verdict = semver_checks(&work.join("old"), &work.join("new"), &crate::semver_check::shared_target());
    let _ = std::fs::remove_dir_all(&work);
    verdict
}

/// `cargo xtask spec <subcommand>`; the exit code is non-zero when `--fail-on` is met.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    match args.first().map(String::as_str) {
        Some("diff") => {
            let outcome = spec_diff(&args[1..])?;
            print!("{}", outcome.report);
            if outcome.failed {
                let why = match &outcome.semver {
                    Some(verdict) if verdict.required > outcome.diff.summary.suggested_bump => {
                        "the suggested bump is below cargo-semver-checks' verdict"
                    }
                    _ => "failing as asked (--fail-on)",
                };
                eprintln!("spec diff: {why}: {}", outcome.diff.one_line_summary());
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("unknown spec subcommand\n{}", crate::USAGE),
    }
}

/// The one line `cargo xtask codegen` prints: the diff of each spec against the copy beside the
/// committed generated code, and the version bump it suggests. Call it before generating (the
/// run rewrites the copies). Cheap when nothing changed: the spec's sha256 is compared with the
/// one in the `@generated` header first, and only a changed spec is resolved and diffed.
pub fn codegen_summary(root: &Path, extra_refs: &RemoteRefMap) -> String {
    match summarize(root, extra_refs) {
        Ok(line) => format!("spec diff vs {PROJECT_CRATE_DIR}/: {line}"),
        Err(err) => format!("spec diff vs {PROJECT_CRATE_DIR}/: skipped ({err:#})"),
    }
}

fn summarize(root: &Path, extra_refs: &RemoteRefMap) -> anyhow::Result<String> {
    let settings_path = root.join("spec/codegen.yaml");
    let (settings, refs) = settings_and_refs(&settings_path, extra_refs)?;
    let crate_dir = root.join(PROJECT_CRATE_DIR);
    let mut diffs = Vec::new();
    let mut notes = Vec::new();
    let mut documents = Vec::new();
    for entry in &settings.specs {
        let spec = settings_path.parent().unwrap_or(root).join(&entry.file);
        let file_name = entry.file.file_name().map(PathBuf::from).unwrap_or_else(|| entry.file.clone());
        let copy = crate_dir.join(PROJECT_SPEC_COPY_DIR).join(&file_name);
        documents.push(ModuleDocuments { module: entry.module.clone(), old: copy.exists().then(|| copy.clone()), new: spec.clone() });
        let module = crate_dir.join(PROJECT_GENERATED_DIR).join(format!("{}.rs", entry.module));
        let Some(header_sha) = header_sha256(&module) else {
            notes.push(format!("{} is new", entry.file.display()));
            continue;
        };
        let spec_bytes = std::fs::read(&spec).with_context(|| format!("reading {}", spec.display()))?;
        if sha256_hex(&spec_bytes) == header_sha {
            continue;
        }
        let Ok(copy_bytes) = std::fs::read(&copy) else {
            notes.push(format!("no copy of {} at {}", entry.file.display(), copy.display()));
            continue;
        };
        if sha256_hex(&copy_bytes) != header_sha {
            notes.push(format!("{} does not match the sha256 in {}", copy.display(), module.display()));
        }
        diffs.push((diff_files_with(&copy, &spec, &refs, &settings)?, entry.file.display().to_string()));
    }
    // Which modules share a type is decided over the whole crate: only a changed document can
    // change it, and then every document of both sides is lowered to see.
    let common = if diffs.iter().any(|(d, _)| !d.is_empty()) { common_type_changes_of_files(&documents, &refs, &settings)? } else { Vec::new() };
    let total: usize = diffs.iter().map(|(d, _)| d.summary.total).sum::<usize>() + common.len();
    let mut line = if total == 0 {
        "no changes".to_string()
    } else {
        let count = |pick: fn(&SpecDiff) -> usize| diffs.iter().map(|(d, _)| pick(d)).sum::<usize>();
        let mut parts = Vec::new();
        for (n, name) in [(count(|d| d.summary.major) + common.len(), "major"), (count(|d| d.summary.minor), "minor"), (count(|d| d.summary.patch), "patch")] {
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
        }
        let breaking = count(|d| d.summary.breaking);
        let mut line = format!("{total} change{} ({})", if total == 1 { "" } else { "s" }, parts.join(", "));
        if breaking > 0 {
            line.push_str(&format!(", {breaking} breaking on the wire"));
        }
        let common_bump = (!common.is_empty()).then_some(Semver::Major);
        if let Some(bump) = diffs.iter().filter_map(|(d, _)| d.summary.suggested_bump).chain(common_bump).max() {
            line.push_str(&format!("; suggested bump: {bump}"));
            if let Some((name, version)) = crate_version(&crate_dir.join("Cargo.toml")) {
                line.push_str(&format!(" ({name} {version} -> {})", next_version(&version, bump)));
            }
        }
        for change in &common {
            line.push_str(&format!("; {change}"));
        }
        let changed: Vec<&str> = diffs.iter().filter(|(d, _)| !d.is_empty()).map(|(_, f)| f.as_str()).collect();
        if let [file] = changed.as_slice() {
            let name = Path::new(file).file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
            line.push_str(&format!("; report: cargo xtask spec diff {PROJECT_CRATE_DIR}/{PROJECT_SPEC_COPY_DIR}/{name} spec/{file}"));
        }
        line
    };
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    Ok(line)
}

/// The sha256 in a generated file's `@generated ... (sha256 HEX).` first line.
fn header_sha256(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let first = text.lines().next()?;
    let start = first.find("(sha256 ")? + "(sha256 ".len();
    let end = first[start..].find(')')? + start;
    Some(first[start..end].to_string())
}

/// `name` and `version` of a `[package]`.
fn crate_version(manifest: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let value = |key: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('=')?.trim().strip_prefix('"')?.strip_suffix('"').map(str::to_string))
    };
    Some((value("name")?, value("version")?))
}

/// The next version for a bump, with Cargo's rule that in `0.y.z` the `y` is the major part.
pub fn next_version(version: &str, bump: Semver) -> String {
    let parts: Vec<u64> = version.split(['-', '+']).next().unwrap_or("").split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, patch] = parts.as_slice() else { return format!("{version} ({bump} bump)") };
    match (major, bump) {
        (0, Semver::Major) => format!("0.{}.0", minor + 1),
        (0, _) => format!("0.{minor}.{}", patch + 1),
        (_, Semver::Major) => format!("{}.0.0", major + 1),
        (_, Semver::Minor) => format!("{major}.{}.0", minor + 1),
        (_, Semver::Patch) => format!("{major}.{minor}.{}", patch + 1),
    }
}
