//! Write or check generated files. One helper for both, so `--check` and the freshness test can
//! never disagree with what `cargo xtask codegen` writes.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How long the diff of one file may take before it settles for a coarser one.
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// A file to write, relative to the output root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output root.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}

/// Whether to write or only compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Write files that differ; delete generated files that are no longer produced.
    Write,
    /// Change nothing; report differences.
    Check,
}

/// What differed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputReport {
    /// Files whose contents differ (or are new).
    pub changed: Vec<PathBuf>,
    /// Files in the generated folders that are no longer produced.
    pub stale: Vec<PathBuf>,
    /// Unified diff of every difference (check mode only).
    pub diff: String,
}

impl OutputReport {
    /// True when the tree on disk equals the generated files.
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.stale.is_empty()
    }
}

/// Writes (or checks) `files` under `root`. `owned_dirs` are folders (relative to `root`) that hold
/// only generated files: anything else found there is stale.
pub fn write_or_check(root: &Path, files: &[GeneratedFile], owned_dirs: &[&str], mode: OutputMode) -> std::io::Result<OutputReport> {
    let mut report = OutputReport::default();
    let produced: BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    for file in files {
        let path = root.join(&file.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        report.changed.push(file.path.clone());
        // Only a check shows the diff. Myers' diff costs grow with the product of the sizes when
        // a file is rewritten throughout; past the deadline it gives a coarser, still correct diff.
        if mode == OutputMode::Check {
            let old = current.unwrap_or_default();
            let diff = similar::TextDiff::configure().timeout(DIFF_DEADLINE).diff_lines(&old, &file.contents);
            let name = file.path.display().to_string();
            let _ = write!(report.diff, "{}", diff.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")));
        }
        if mode == OutputMode::Write {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &file.contents)?;
        }
    }
    for relative in unlisted_files(root, owned_dirs, &produced) {
        let _ = writeln!(report.diff, "--- a/{}\n+++ /dev/null\n(file is no longer generated)", relative.display());
        if mode == OutputMode::Write {
            std::fs::remove_file(root.join(&relative))?;
        }
        report.stale.push(relative);
    }
    Ok(report)
}

/// Files directly in the `owned_dirs` of `root` (paths relative to it) that `listed` does not
/// name, folder by folder and sorted within each: what a generation no longer produces.
pub fn unlisted_files(root: &Path, owned_dirs: &[&str], listed: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut unlisted = Vec::new();
    for dir in owned_dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| Path::new(dir).join(entry.file_name()))
            .filter(|relative| !listed.contains(relative) && root.join(relative).is_file())
            .collect();
        found.sort();
        unlisted.extend(found);
    }
    unlisted
}
