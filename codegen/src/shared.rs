//! The official Vipps documents in `../shared/vipps` beside the workspace. They are test
//! inputs only, and absent on some machines: callers skip, with one printed line, when they are.

use std::path::{Path, PathBuf};

/// `<workspace>/../shared/vipps/<name>`, or `None` (after printing why) when it is absent.
pub fn official_document(workspace_root: &Path, name: &str) -> Option<PathBuf> {
    let path = workspace_root.join("../shared/vipps").join(name);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is absent (the official documents live in ../shared)", path.display());
        None
    }
}
