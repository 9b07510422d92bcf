//! The official Vipps documents in `../shared/vipps` beside the workspace. They are test
//! inputs only, and absent on some machines: locally, callers skip with one printed line when
//! they are. Under CI (the environment variable `CI` is set, as CI services do) an absent
//! document is a broken layout, not a reason to skip: the helpers panic, so the test fails
//! instead of passing without having looked.

use std::path::{Path, PathBuf};

/// `<workspace>/../shared/vipps/<name>`, or `None` (after printing why) when it is absent.
///
/// # Panics
///
/// When it is absent and `CI` is set.
pub fn official_document(workspace_root: &Path, name: &str) -> Option<PathBuf> {
    let path = workspace_root.join("../shared/vipps").join(name);
    present_or_skip(path.exists().then_some(path.clone()), &path.display().to_string(), in_ci())
}

/// `<workspace>/../shared` (the directory holding `vipps/`), or `None` (after printing why)
/// when it or its `vipps/` folder is absent.
///
/// # Panics
///
/// When it is absent and `CI` is set.
pub fn official_dir(workspace_root: &Path) -> Option<PathBuf> {
    let dir = workspace_root.join("../shared");
    let what = dir.join("vipps").display().to_string();
    present_or_skip(dir.join("vipps").is_dir().then_some(dir), &what, in_ci())
}

/// Whether this is a CI run: `CI` is set (to anything).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// `found`, or, when it is `None`, a skip notice (locally) or a panic (`ci`).
///
/// # Panics
///
/// When `found` is `None` and `ci` is true.
pub fn present_or_skip(found: Option<PathBuf>, what: &str, ci: bool) -> Option<PathBuf> {
    if found.is_none() {
        assert!(
            !ci,
            "{what} is absent and CI is set: the official documents in ../shared are required in CI \
             (locally the tests that need them skip with a notice)"
        );
        println!("skipped: {what} is absent (the official documents live in ../shared)");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_present_document_is_returned_in_ci_and_locally() {
        let path = PathBuf::from("Cargo.toml");
        assert_eq!(present_or_skip(Some(path.clone()), "Cargo.toml", true), Some(path.clone()));
        assert_eq!(present_or_skip(Some(path.clone()), "Cargo.toml", false), Some(path));
    }

    #[test]
    fn an_absent_document_is_skipped_locally() {
        assert_eq!(present_or_skip(None, "../shared/vipps/none.yaml", false), None);
    }

    #[test]
    #[should_panic(expected = "../shared/vipps/none.yaml is absent and CI is set")]
    fn an_absent_document_fails_in_ci() {
        present_or_skip(None, "../shared/vipps/none.yaml", true);
    }

    #[test]
    fn the_documents_are_found_beside_the_workspace() {
        // Locally the answer follows the layout; in CI a missing document fails this test too.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let found = root.join("../shared/vipps/epayment-1.8.1.yaml").exists();
        assert_eq!(official_document(&root, "epayment-1.8.1.yaml").is_some(), found);
        assert_eq!(official_dir(&root).is_some(), root.join("../shared/vipps").is_dir());
    }
}
