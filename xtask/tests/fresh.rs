//! The committed `generated/` is exactly what the generator makes from `spec/` (the same check as
//! `cargo xtask codegen --check`).

use vipps_codegen::output::OutputMode;
use vipps_codegen::project::run_project;

#[test]
fn committed_generated_crate_is_fresh() {
    let run = run_project(&xtask::project_root(), OutputMode::Check, &Default::default()).expect("spec generates");
    assert!(
        run.report.is_clean(),
        "generated/ is stale; run `cargo xtask codegen` and commit the result.\n{}",
        run.report.diff
    );
}
