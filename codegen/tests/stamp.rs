//! The `--check` shortcut (`vipps_codegen::stamp`): a tree is taken as fresh without generating
//! only when this generator build verified its stamp and nothing stamped has changed; every other
//! case falls through to the full check, which names what differs. Runs on a copy of the project.

use std::path::{Path, PathBuf};

use vipps_codegen::project::check_project;
use vipps_codegen::stamp::{CACHE_PATH, STAMP_PATH};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A copy of the workspace's `spec/` and generated folders under a fresh temporary root.
fn project_copy(name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = std::env::temp_dir().join(format!("vipps-codegen-stamp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    copy_dir(&workspace.join("spec"), &root.join("spec"));
    for dir in ["src/generated", "tests/roundtrip", "spec"] {
        copy_dir(&workspace.join("generated").join(dir), &root.join("generated").join(dir));
    }
    root
}

/// `Some(changed files)` after a full check, `None` when the shortcut answered.
fn check(root: &Path) -> Option<Vec<String>> {
    check_project(root).expect("project generates").map(|run| {
        let mut names: Vec<String> = run.report.changed.iter().chain(&run.report.stale).map(|p| p.display().to_string()).collect();
        names.sort();
        names
    })
}

#[test]
fn a_verified_unchanged_tree_is_fresh_without_generating() {
    let root = project_copy("fresh");
    assert_eq!(check(&root), Some(vec![]), "no cache yet: a full check, and the tree is clean");
    assert!(root.join(CACHE_PATH).is_file(), "the clean full check is recorded");
    assert_eq!(check(&root), None, "the second check is answered by the cache");
    std::fs::write(root.join(CACHE_PATH), "another-generator-build 0\n").expect("write cache");
    assert_eq!(check(&root), Some(vec![]), "a cache of another generator build is not trusted");
    std::fs::remove_dir_all(&root).expect("clean up");
}

#[test]
fn a_hand_edit_an_edited_input_or_a_stray_file_falls_through_to_the_full_check() {
    let root = project_copy("changes");
    assert_eq!(check(&root), Some(vec![]));
    let models = root.join("generated/src/generated/epayment.rs");
    let original = std::fs::read_to_string(&models).expect("read models");
    std::fs::write(&models, format!("{original}\n// hand edit\n")).expect("edit");
    assert_eq!(check(&root), Some(vec!["src/generated/epayment.rs".to_string()]));
    std::fs::write(&models, &original).expect("restore");
    assert_eq!(check(&root), None, "restored: fresh again by the cache");

    let stray = root.join("generated/src/generated/extra.rs");
    std::fs::write(&stray, "// not generated\n").expect("stray");
    assert_eq!(check(&root), Some(vec!["src/generated/extra.rs".to_string()]));
    std::fs::remove_file(&stray).expect("remove stray");

    let spec = root.join("spec/webhooks.yaml");
    let text = std::fs::read_to_string(&spec).expect("read spec");
    std::fs::write(&spec, text.replacen("title:", "title: Edited", 1)).expect("edit spec");
    let changed = check(&root).expect("an edited input is checked in full");
    assert!(changed.contains(&STAMP_PATH.to_string()) && changed.contains(&"spec/webhooks.yaml".to_string()), "{changed:?}");
    std::fs::remove_dir_all(&root).expect("clean up");
}
