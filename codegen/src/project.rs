//! The project's own generation run: `spec/codegen.yaml` -> `generated/`, written or checked.
//! Shared by `cargo xtask codegen`, the bare `vipps-codegen` binary and the freshness test.

use std::path::Path;

use crate::output::{OutputMode, OutputReport, write_or_check};
/// Folders of the generated crate that hold only generated files (`layout` decides).
pub use crate::layout::PROJECT_OWNED_DIRS as OWNED_DIRS;
use crate::{Error, Generation, PROJECT_CRATE_DIR, RemoteRefMap, generate_project};

/// What a project run did.
#[derive(Debug)]
pub struct ProjectRun {
    /// The generation.
    pub generation: Generation,
    /// What differed on disk (and was written, in write mode).
    pub report: OutputReport,
}

/// A project run failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The spec or settings are wrong.
    #[error(transparent)]
    Codegen(#[from] Error),
    /// Files could not be written or read.
    #[error("cannot write generated files: {0}")]
    Io(#[from] std::io::Error),
}

/// Generates from `<root>/spec/codegen.yaml` into `<root>/generated/` (always in full). A run
/// that leaves the tree as generated records it in the check cache (`crate::stamp`), unless
/// extra ref mappings, which the stamp does not list, took part.
pub fn run_project(root: &Path, mode: OutputMode, extra_refs: &RemoteRefMap) -> Result<ProjectRun, ProjectError> {
    let generation = generate_project(root, &root.join("spec/codegen.yaml"), extra_refs)?;
    let crate_dir = root.join(PROJECT_CRATE_DIR);
    let report = write_or_check(&crate_dir, &generation.files, OWNED_DIRS, mode)?;
    if extra_refs.entries.is_empty()
        && (mode == OutputMode::Write || report.is_clean())
        && let Some(stamp) = generation.files.iter().find(|file| file.path == Path::new(crate::stamp::STAMP_PATH))
    {
        crate::stamp::remember_fresh(root, &stamp.contents);
    }
    Ok(ProjectRun { generation, report })
}

/// `--check` of the project: `None` when the check cache shows the tree fresh without
/// generating (`crate::stamp::is_fresh`), otherwise the full run's result.
pub fn check_project(root: &Path) -> Result<Option<ProjectRun>, ProjectError> {
    if crate::stamp::is_fresh(root, &root.join(PROJECT_CRATE_DIR), OWNED_DIRS) {
        return Ok(None);
    }
    run_project(root, OutputMode::Check, &RemoteRefMap::default()).map(Some)
}
