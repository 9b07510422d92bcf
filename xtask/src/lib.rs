//! Library half of xtask, so tests can call exactly what the commands run.

pub mod bench;
pub mod codegen;
pub mod mutants;
pub mod semver_check;
pub mod spec_diff;

use std::path::PathBuf;

/// Usage text.
pub const USAGE: &str = "usage:
  cargo xtask codegen [--check]                 regenerate generated/ from spec/ (--check: compare only)
  cargo xtask codegen --spec PATH --out DIR [--name CRATE] [--map-ref URL=FILE]...
                      [--settings FILE] [--merchant-tag TAG]...
                                                generate a standalone crate (models, client,
                                                glue, strategies) from any document; --settings
                                                takes the conventions of a settings file
  cargo xtask spec diff OLD NEW [--format text|markdown|json] [--fail-on breaking|major]
                        [--map-ref URL=FILE]... [--settings FILE] [--semver-check [--module NAME]]
                                                classify every change between two spec documents
                                                (--semver-check: confirm the suggested bump with
                                                cargo-semver-checks on the SDK generated from each)
  cargo xtask bench [--quick] [--peers]         run the benchmarks; writes target/bench/report.md and .json
  cargo xtask mutants [--set simulator|runtime] [--file GLOB]... [--in-place]
                                                mutation score of the rule code (cargo-mutants; slow,
                                                not part of CI); writes target/mutants/report.md";

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| project_root().join("target"))
}

/// The workspace root (xtask lives one level below it).
pub fn project_root() -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("xtask"));
    manifest.parent().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}
