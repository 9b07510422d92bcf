//! The `epayment-sim` binary: prints its base URL, serves the generated client, stops cleanly on
//! Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use vipps_epayment::epayment::State;

use crate::support::{Api, MSN, SUBSCRIPTION_KEY};

#[tokio::test]
async fn binary_prints_its_base_url_serves_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_epayment-sim"))
        .args(["--port", "0", "--no-rate-limits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "printed {base:?}");
    let api = Api::connect_as(&base, MSN, SUBSCRIPTION_KEY).await;
    api.create_payment("order-binary-01", 1000).await;
    api.force_approve("order-binary-01").await.expect("force approve");
    let captured = api.capture("order-binary-01", 1000, "c1").await.expect("capture");
    assert_eq!(captured.value.aggregate.captured_amount.value.get(), 1000);
    assert_eq!(api.payment("order-binary-01").await.state, State::Authorized);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "binary did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn version_prints_the_crate_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_epayment-sim")).arg("--version").output().expect("binary runs");
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), concat!("epayment-sim ", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_non_loopback_address_is_refused_without_the_opt_in() {
    let output = Command::new(env!("CARGO_BIN_EXE_epayment-sim"))
        .args(["--host", "0.0.0.0", "--port", "0"])
        .env_remove("EPAYMENT_SIM_ALLOW_NON_LOOPBACK")
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address") && stderr.contains("--allow-non-loopback"), "{stderr}");
}

#[tokio::test]
async fn the_opt_in_binds_beyond_loopback_and_says_so_loudly() {
    // Bound on every interface for a moment; the test talks to it over loopback only.
    let mut child = Command::new(env!("CARGO_BIN_EXE_epayment-sim"))
        .args(["--host", "0.0.0.0", "--port", "0", "--allow-non-loopback", "--no-rate-limits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut warning = String::new();
    stderr.read_line(&mut warning).unwrap();
    assert!(warning.contains("WARNING: listening on 0.0.0.0:") && warning.contains("beyond loopback"), "{warning:?}");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().rsplit(':').next().expect("a port").to_string();
    let api = Api::connect_as(&format!("http://127.0.0.1:{port}"), MSN, SUBSCRIPTION_KEY).await;
    api.create_payment("order-binary-02", 1000).await;
    assert_eq!(api.payment("order-binary-02").await.state, State::Created);
    child.kill().expect("stops");
    child.wait().expect("reaped");
}
