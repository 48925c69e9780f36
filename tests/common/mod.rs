//! Helpers shared by the integration tests that call external tools (xmllint, xmlsec1,
//! openssl). A missing tool fails the test with the package that provides it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub mod signer;

/// Runs `program` with `args` and returns its output, failing the test if it cannot start.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {program} ({e}); install it with scripts/install-xml-test-tools")
    })
}

/// Runs `program` and returns its standard output, failing the test on a non-zero exit.
pub fn run_ok(program: &str, args: &[&str]) -> Vec<u8> {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A directory under the system temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("edgeidp-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A throwaway RSA key pair and self-signed certificate made by openssl for this test run.
pub struct TestKey {
    _dir: TempDir,
    pub key_pem_path: PathBuf,
    pub cert_pem_path: PathBuf,
    pub key_pem: String,
    pub cert_pem: String,
}

/// Returns the test run's RSA-2048 key and certificate, generating them on first use.
pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make_key("key"))
}

/// Returns a second, unrelated key, for tests that sign with the wrong key.
pub fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| make_key("other"))
}

fn make_key(label: &str) -> TestKey {
    let dir = TempDir::new(label);
    let key = dir.file("key.pem");
    let cert = dir.file("cert.pem");
    run_ok(
        "openssl",
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=edgeidp test",
            "-keyout", key.to_str().unwrap(),
            "-out", cert.to_str().unwrap(),
        ],
    );
    TestKey {
        key_pem: std::fs::read_to_string(&key).unwrap(),
        cert_pem: std::fs::read_to_string(&cert).unwrap(),
        key_pem_path: key,
        cert_pem_path: cert,
        _dir: dir,
    }
}

/// Returns where `a` and `b` first differ, with some context, for assertion messages.
pub fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let context = |s: &[u8]| String::from_utf8_lossy(&s[at.saturating_sub(60)..(at + 60).min(s.len())]).into_owned();
    format!("first difference at byte {at}:\n  ours:   {:?}\n  theirs: {:?}", context(a), context(b))
}

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name)
}
