//! The command line: keygen, metadata, sign and verify, as a user runs them.

mod support;

use std::process::{Command, Output};

use support::*;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = serde_json::to_vec_pretty(&reference_config_json()).expect("config");
        std::fs::write(dir.path().join("config.json"), config).expect("write config");
        let profile = serde_json::to_vec(&reference_profile()).expect("profile");
        std::fs::write(dir.path().join("user.json"), profile).expect("write profile");
        std::fs::write(dir.path().join("idp.cert.pem"), read_fixture("keys/idp.cert.pem")).expect("write cert");
        Self { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_edgeidp"))
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("run edgeidp")
    }

    fn write(&self, name: &str, contents: &[u8]) {
        std::fs::write(self.dir.path().join(name), contents).expect("write file");
    }
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "edgeidp failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

const SIGN: [&str; 9] = ["sign", "--config", "config.json", "--app", "amion", "--user", "user.json", "--now", "2026-12-04T12:00:00Z"];

#[test]
fn sign_output_verifies_with_verify() {
    let workspace = Workspace::new();
    let xml = stdout(&workspace.run(&SIGN));
    workspace.write("response.xml", xml.as_bytes());
    let args = [
        "verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z",
        "--audience", "https://sp.example.test/saml/metadata", "--acs-url", "https://sp.example.test/saml/acs", "response.xml",
    ];
    let report = stdout(&workspace.run(&args));
    assert!(report.contains("Response signature:  valid"), "{report}");
    assert!(report.contains("Assertion signature: valid"), "{report}");
    assert!(report.contains("Attribute \"jobTitle\": [\"Charge Nurse\"]"), "{report}");
    assert!(!report.contains("FAILED"), "{report}");
}

#[test]
fn verify_accepts_base64_and_rejects_tampering() {
    let workspace = Workspace::new();
    let mut args = SIGN.to_vec();
    args.push("--base64");
    let encoded = stdout(&workspace.run(&args));
    workspace.write("response.b64", encoded.as_bytes());
    let verify = ["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z", "response.b64"];
    assert!(workspace.run(&verify).status.success(), "base64 input verifies");

    let xml = stdout(&workspace.run(&SIGN)).replace("Charge Nurse", "Chief Surgeon");
    workspace.write("tampered.xml", xml.as_bytes());
    let output = workspace.run(&["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z", "tampered.xml"]);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "a tampered Response must fail");
    assert!(report.contains("INVALID: the digest of the element"), "{report}");
}

#[test]
fn verify_reports_expired_conditions() {
    let workspace = Workspace::new();
    let xml = stdout(&workspace.run(&SIGN));
    workspace.write("response.xml", xml.as_bytes());
    let output = workspace.run(&["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T13:00:00Z", "response.xml"]);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(report.contains("[FAILED] not on or after"), "{report}");
}

#[test]
fn seeded_sign_is_reproducible() {
    let workspace = Workspace::new();
    let mut args = SIGN.to_vec();
    args.extend(["--seed", "0707070707070707070707070707070707070707070707070707070707070707"]);
    let first = stdout(&workspace.run(&args));
    let second = stdout(&workspace.run(&args));
    assert_eq!(first, second);
    assert_eq!(first.trim_end(), read_fixture("../golden/reference_amion_idp_initiated.xml"), "CLI equals the core's golden output");
}

#[test]
fn keygen_output_loads_as_idp_key() {
    let workspace = Workspace::new();
    stdout(&workspace.run(&["keygen", "--key-out", "k.pem", "--cert-out", "c.pem", "--common-name", "test idp"]));
    let mut config = reference_config_json();
    config["idp"]["signing_key_pem"] = std::fs::read_to_string(workspace.dir.path().join("k.pem")).expect("key").into();
    config["idp"]["certificate_pem"] = std::fs::read_to_string(workspace.dir.path().join("c.pem")).expect("cert").into();
    load_config(&config);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(workspace.dir.path().join("k.pem")).expect("key metadata").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by its owner only");
    }
}

#[test]
fn metadata_command_prints_schema_valid_metadata() {
    let workspace = Workspace::new();
    let xml = stdout(&workspace.run(&["metadata", "--config", "config.json"]));
    assert_eq!(xmllint_schema(&xml, "saml-schema-metadata-2.0.xsd"), Ok(()));
}

/// Runs `edgeidp metadata` on the reference configuration with `scim` as its `scim` section,
/// and returns the output.
fn metadata_with_scim(scim: serde_json::Value) -> Output {
    let workspace = Workspace::new();
    let mut config = reference_config_json();
    config["scim"] = scim;
    workspace.write("scim.json", &serde_json::to_vec(&config).expect("config"));
    workspace.run(&["metadata", "--config", "scim.json"])
}

/// A `scim` section that the filter would reject fails the command too, naming the field.
#[test]
fn metadata_rejects_invalid_scim_section() {
    let output = metadata_with_scim(serde_json::json!({"rate_limit": {"requests_per_second": 0}, "tokens": []}));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted: {message}");
    assert!(message.contains("scim.rate_limit.requests_per_second"), "{message}");
}

#[test]
fn metadata_rejects_scim_prefix_overlapping_saml() {
    let output = metadata_with_scim(serde_json::json!({"prefixes": ["/saml/scim"], "tokens": []}));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a SCIM prefix under saml_prefix was accepted: {message}");
    assert!(message.contains("scim.prefixes"), "the error names the field: {message}");
    assert!(message.contains("overlaps saml_prefix"), "the error says what is wrong: {message}");
}

#[test]
fn unknown_app_is_named() {
    let workspace = Workspace::new();
    let output = workspace.run(&["sign", "--config", "config.json", "--app", "nope", "--user", "user.json"]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(message.contains("app \"nope\" is not in the configuration; known apps: amion, doximity"), "{message}");
}

#[test]
fn keygen_refuses_to_overwrite() {
    let workspace = Workspace::new();
    stdout(&workspace.run(&["keygen", "--key-out", "k.pem", "--cert-out", "c.pem"]));
    let key_before = std::fs::read(workspace.dir.path().join("k.pem")).expect("key");
    let output = workspace.run(&["keygen", "--key-out", "k.pem", "--cert-out", "c.pem"]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a second keygen must not replace the key");
    assert!(message.contains("already exists; pass --force"), "{message}");
    assert_eq!(std::fs::read(workspace.dir.path().join("k.pem")).expect("key"), key_before);
    stdout(&workspace.run(&["keygen", "--force", "--key-out", "k.pem", "--cert-out", "c.pem"]));
}

#[test]
fn verify_reads_the_post_form_page() {
    let workspace = Workspace::new();
    let mut args = SIGN.to_vec();
    args.push("--base64");
    let encoded = stdout(&workspace.run(&args));
    let page = edgeidp::saml::post_form::post_form("https://sp.example.test/saml/acs", "SAMLResponse", encoded.trim(), Some("{\"a\":1}"));
    workspace.write("form.html", page.html.as_bytes());
    let report = stdout(&workspace.run(&["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z", "form.html"]));
    assert!(report.starts_with("Result: every check passed"), "{report}");
}

#[test]
fn verify_marks_unverified_values() {
    let workspace = Workspace::new();
    let xml = stdout(&workspace.run(&SIGN)).replace("Charge Nurse", "Chief Surgeon");
    workspace.write("tampered.xml", xml.as_bytes());
    let output = workspace.run(&["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z", "tampered.xml"]);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.starts_with("Result: FAILED (signature)"), "{report}");
    assert!(report.contains("the values below are unverified"), "{report}");
}

/// An app that encrypts: `verify` prints how to open the Assertion, opens it with `--sp-key`,
/// and names the option when the key is the wrong one.
#[test]
fn verify_decrypts_with_sp_key() {
    use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};

    let workspace = Workspace::new();
    let config = support::encryption::encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p);
    workspace.write("config.json", &serde_json::to_vec_pretty(&config).expect("config"));
    workspace.write("sp.key.pem", support::encryption::sp_key_pem().as_bytes());
    workspace.write("wrong.key.pem", read_fixture("keys/next.key.pem").as_bytes());
    workspace.write("response.xml", stdout(&workspace.run(&SIGN)).as_bytes());
    let verify = ["verify", "--cert", "idp.cert.pem", "--now", "2026-12-04T12:01:00Z", "response.xml"];

    let without_key = workspace.run(&verify);
    let text = String::from_utf8_lossy(&without_key.stdout);
    assert!(!without_key.status.success(), "an unopened Assertion cannot pass: {text}");
    assert!(text.contains("pass the SP's private key with --sp-key"), "the output says how to open it: {text}");

    let with_key = [&verify[..5], &["--sp-key", "sp.key.pem", "response.xml"]].concat();
    let report = stdout(&workspace.run(&with_key));
    assert!(report.contains("Assertion signature: valid"), "{report}");
    assert!(report.contains("Attribute \"jobTitle\": [\"Charge Nurse\"]"), "{report}");

    let wrong_key = [&verify[..5], &["--sp-key", "wrong.key.pem", "response.xml"]].concat();
    let output = workspace.run(&wrong_key);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a wrong SP key fails");
    assert!(error.contains("--sp-key wrong.key.pem"), "the error names the option and file: {error}");
}

/// `scripts/demo-config` with `EDGEIDP_DEMO_CONFIG` naming a missing file fails and names the
/// variable, instead of falling back to the generated configuration.
#[test]
fn demo_config_rejects_missing_file() {
    let workspace = Workspace::new();
    let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo-config"))
        .env("EDGEIDP_DEMO_CONFIG", workspace.dir.path().join("missing.json"))
        .arg(workspace.dir.path().join("demo"))
        .arg("18000")
        .arg(env!("CARGO_BIN_EXE_edgeidp"))
        .output()
        .expect("run scripts/demo-config");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a missing configuration file fails");
    assert!(error.contains("EDGEIDP_DEMO_CONFIG="), "the error names the variable: {error}");
    assert!(!workspace.dir.path().join("demo/plugin-config.json").exists(), "no configuration is written");
}
