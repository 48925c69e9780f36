//! The `edgeidp token` subcommand, run as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use edgeidp::scim::{TokenDigest, TOKEN_PREFIX};
use serde_json::Value;

fn edgeidp(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeidp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start edgeidp: {e}"));
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).unwrap_or_else(|e| panic!("cannot write stdin: {e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("edgeidp did not finish: {e}"))
}

#[test]
fn token_created_with_entry() {
    let output = edgeidp(&["token", "--id", "okta-2026", "--tenant", "acme"], "");
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (token, entry) = stdout.split_once('\n').unwrap_or_default();

    assert!(token.starts_with(TOKEN_PREFIX), "first line is the token: {token:?}");
    assert_eq!(token.len(), TOKEN_PREFIX.len() + 43, "256 bits in base64url");
    let entry: Value = serde_json::from_str(entry).unwrap_or_else(|e| panic!("entry is not JSON ({e}): {entry}"));
    assert_eq!(entry["sha256"], TokenDigest::of_token(token).to_hex(), "the entry has the token's digest");
    assert_eq!(entry["id"], "okta-2026");
    assert_eq!(entry["tenant"], "acme");
    assert!(!entry.to_string().contains(token), "the entry must not contain the token");
}

#[test]
fn token_from_stdin() {
    let output = edgeidp(&["token", "--id", "sp", "--tenant", "acme", "--stdin"], "issued-by-the-app_42\n");
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("issued-by-the-app_42"), "the token is not printed again: {stdout}");
    let entry: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("entry is not JSON ({e}): {stdout}"));
    assert_eq!(entry["sha256"], TokenDigest::of_token("issued-by-the-app_42").to_hex());
}

#[test]
fn token_invalid_id() {
    let output = edgeidp(&["token", "--id", "a b", "--tenant", "acme"], "");
    assert!(!output.status.success(), "an id with a space must be rejected");
    assert!(output.stdout.is_empty(), "no token is printed when the entry is invalid");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scim.tokens[0].id"), "{stderr}");
}

#[test]
fn token_stdin_doubled_prefix() {
    let output = edgeidp(&["token", "--id", "sp", "--tenant", "acme", "--stdin"], "Bearer abc\n");
    assert!(!output.status.success(), "a pasted \"Bearer \" prefix must be rejected");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"Bearer \" prefix"), "{stderr}");
}
