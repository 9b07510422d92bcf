//! The project's own generation run: `spec/codegen.yaml` -> `generated/`, written or checked.
//! Shared by `cargo xtask codegen`, the bare `vipps-codegen` binary and the freshness test.

use std::path::Path;

use crate::output::{OutputMode, OutputReport, write_or_check};
use crate::{Error, Generation, PROJECT_CRATE_DIR, PROJECT_GENERATED_DIR, PROJECT_SPEC_COPY_DIR, RemoteRefMap, generate_project};

/// Folders of the generated crate that hold only generated files.
pub const OWNED_DIRS: &[&str] = &[PROJECT_GENERATED_DIR, "tests/roundtrip", PROJECT_SPEC_COPY_DIR];

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

/// Generates from `<root>/spec/codegen.yaml` into `<root>/generated/`.
pub fn run_project(root: &Path, mode: OutputMode, extra_refs: &RemoteRefMap) -> Result<ProjectRun, ProjectError> {
    let generation = generate_project(root, &root.join("spec/codegen.yaml"), extra_refs)?;
    let report = write_or_check(&root.join(PROJECT_CRATE_DIR), &generation.files, OWNED_DIRS, mode)?;
    Ok(ProjectRun { generation, report })
}
