//! Write-or-check: writes only what changed, reports hand edits and stale files with a unified
//! diff, and `Check` never touches the disk.

use std::path::PathBuf;

use vipps_codegen::output::{GeneratedFile, OutputMode, write_or_check};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vipps-codegen-output-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("gen")).unwrap();
    dir
}

fn files() -> Vec<GeneratedFile> {
    vec![
        GeneratedFile { path: "gen/a.rs".into(), contents: "// @generated\npub struct A;\n".into() },
        GeneratedFile { path: "gen/b.rs".into(), contents: "// @generated\npub struct B;\n".into() },
    ]
}

#[test]
fn check_reports_hand_edits_and_stale_files_without_writing() {
    let dir = temp_dir("check");
    write_or_check(&dir, &files(), &["gen"], OutputMode::Write).unwrap();
    std::fs::write(dir.join("gen/a.rs"), "// @generated\npub struct A; // edited by hand\n").unwrap();
    std::fs::write(dir.join("gen/old.rs"), "// left over\n").unwrap();

    let report = write_or_check(&dir, &files(), &["gen"], OutputMode::Check).unwrap();
    assert!(!report.is_clean());
    assert_eq!(report.changed, vec![PathBuf::from("gen/a.rs")]);
    assert_eq!(report.stale, vec![PathBuf::from("gen/old.rs")]);
    assert!(report.diff.contains("-pub struct A; // edited by hand") && report.diff.contains("+pub struct A;"), "{}", report.diff);
    // Check mode changed nothing on disk.
    assert!(std::fs::read_to_string(dir.join("gen/a.rs")).unwrap().contains("edited by hand"));
    assert!(dir.join("gen/old.rs").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn write_touches_only_changed_files_and_removes_stale_ones() {
    let dir = temp_dir("write");
    write_or_check(&dir, &files(), &["gen"], OutputMode::Write).unwrap();
    let untouched = std::fs::metadata(dir.join("gen/b.rs")).unwrap().modified().unwrap();
    std::fs::write(dir.join("gen/a.rs"), "stale\n").unwrap();
    std::fs::write(dir.join("gen/old.rs"), "// left over\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let report = write_or_check(&dir, &files(), &["gen"], OutputMode::Write).unwrap();
    assert_eq!(report.changed, vec![PathBuf::from("gen/a.rs")]);
    assert_eq!(std::fs::read_to_string(dir.join("gen/a.rs")).unwrap(), files()[0].contents);
    assert!(!dir.join("gen/old.rs").exists());
    assert_eq!(std::fs::metadata(dir.join("gen/b.rs")).unwrap().modified().unwrap(), untouched, "an unchanged file was rewritten");
    assert!(write_or_check(&dir, &files(), &["gen"], OutputMode::Check).unwrap().is_clean());
    std::fs::remove_dir_all(&dir).ok();
}
