//! The reference deployment as JSON files under tests/fixtures/parity, for tests outside Rust
//! (the previewer's browser tests) to load, pinned to the golden IdP-initiated Response.
//!
//! Set `UPDATE_GOLDEN=1` to rewrite the files from `reference_config_json` and
//! `reference_profile`, and review the diff.

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::*;

const CONFIG: &str = "parity/reference-config.json";
const PROFILE: &str = "parity/reference-profile.json";

/// Rewrites `relative` from `expected` under `UPDATE_GOLDEN`, else checks it still equals it.
fn check_fixture(relative: &str, expected: &Value) {
    let path = fixtures().join(relative);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(expected).expect("fixture serializes") + "\n";
        std::fs::write(&path, text).expect("write fixture");
        return;
    }
    let committed: Value = serde_json::from_str(&read_fixture(relative)).expect("fixture is JSON");
    assert_eq!(&committed, expected, "{} has drifted from the Rust helper; run with UPDATE_GOLDEN=1", path.display());
}

fn fixture_path(relative: &str) -> PathBuf {
    fixtures().join(relative)
}

#[test]
fn parity_config_equals_reference() {
    check_fixture(CONFIG, &reference_config_json());
}

#[test]
fn parity_profile_equals_reference() {
    check_fixture(PROFILE, &Value::Object(reference_profile()));
}

#[test]
fn parity_fixtures_sign_golden() {
    let output = Command::new(env!("CARGO_BIN_EXE_edgeidp"))
        .arg("sign")
        .arg("--config")
        .arg(fixture_path(CONFIG))
        .args(["--app", "amion", "--user"])
        .arg(fixture_path(PROFILE))
        .args(["--now", "2026-12-04T12:00:00Z", "--seed", "0707070707070707070707070707070707070707070707070707070707070707"])
        .output()
        .expect("run edgeidp");
    assert!(output.status.success(), "edgeidp sign failed: {}", String::from_utf8_lossy(&output.stderr));
    let signed = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert_eq!(
        signed.trim_end(),
        read_fixture("../golden/reference_amion_idp_initiated.xml"),
        "`edgeidp sign` with the parity fixtures must print the golden Response"
    );
}
