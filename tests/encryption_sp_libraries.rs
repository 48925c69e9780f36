//! Independent SP libraries decrypt and validate our encrypted Responses end to end:
//! signatures, audience, destination, time conditions, then the NameID and attributes.
//!
//! `scripts/install-sp-libraries` installs the libraries into the project's `.venv` and
//! `tests/sp/node_modules`. Each library runs once per test, over a batch of cases, through
//! a small script under `tests/sp/`.
//!
//! What a library lacks is left out of its batch:
//! - pysaml2 7.5.5 decrypts with the xmlsec1 command, which has no XML Encryption 1.1
//!   `rsa-oaep` in its 1.2 series (Debian 12 ships 1.2.37).
//! - node-saml 5.1.0 decrypts with xml-encryption 3.1.0, which supports `rsa-oaep-mgf1p`
//!   (and `rsa-1_5`) only. It also reads only a plain NameID in an Assertion and ignores an
//!   EncryptedID, so its profile then has no NameID.
//! - python3-saml 1.16.0 decrypts with the xmlsec 1.3.17 wheel (libxmlsec1 1.3.9), which
//!   supports both key transports. In strict mode it first validates the Response against
//!   its bundled schemas, where the XML Encryption 1.0 schema admits an `xenc11:MGF` child of
//!   `xenc:EncryptionMethod` only if an XML Encryption 1.1 schema is loaded, and none is. So
//!   it rejects `rsa-oaep`, and a test below keeps that rejection in view.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeidp::platform::SystemPlatform;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use edgeidp::saml::metadata::build_metadata;
use serde_json::{json, Value};
use support::encryption::*;
use support::*;

const SP_ENTITY_ID: &str = "https://sp.example.test/saml/metadata";
const ACS_URL: &str = "https://sp.example.test/saml/acs";
const NAME_ID: &str = "dana.reyes@example.test";

/// One Response for a library to validate, and whether it should accept it.
struct Case {
    name: String,
    response: String,
    sp_key_pem: String,
    name_id_encrypted: bool,
    accept: bool,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Issues a Response with the real clock and random source: SP libraries check the time
/// conditions against their own clock.
fn issue(config: &Value) -> String {
    issue_for(config, &mut SystemPlatform::new()).base64()
}

fn accepted(content: ContentAlgorithm, transport: KeyTransport) -> Case {
    Case {
        name: format!("{content} with {transport}"),
        response: issue(&encrypting_config_json(content, transport)),
        sp_key_pem: read_fixture("keys/sp.key.pem"),
        name_id_encrypted: false,
        accept: true,
    }
}

fn encrypted_name_id_case() -> Case {
    let mut config = encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p);
    config["apps"]["amion"]["encryption"]["encrypt_name_id"] = json!(true);
    Case {
        name: "encrypted NameID".to_owned(),
        response: issue(&config),
        sp_key_pem: read_fixture("keys/sp.key.pem"),
        name_id_encrypted: true,
        accept: true,
    }
}

fn wrong_key_case() -> Case {
    Case {
        name: "wrong SP key".to_owned(),
        response: issue(&encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p)),
        sp_key_pem: read_fixture("keys/next.key.pem"),
        name_id_encrypted: false,
        accept: false,
    }
}

/// Returns a Response whose EncryptedKey `Recipient` was changed after signing. It still
/// decrypts, so only the Response signature can catch the change.
fn modified_response_case() -> Case {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let config = encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p);
    let xml = issue_for(&config, &mut SystemPlatform::new()).xml;
    let original = format!("<xenc:EncryptedKey Recipient=\"{SP_ENTITY_ID}\">");
    assert!(xml.contains(&original), "the EncryptedKey names the SP as its Recipient");
    let modified = xml.replace(&original, "<xenc:EncryptedKey Recipient=\"https://other.example.test\">");
    Case {
        name: "modified signed Response".to_owned(),
        response: engine.encode(modified),
        sp_key_pem: read_fixture("keys/sp.key.pem"),
        name_id_encrypted: false,
        accept: false,
    }
}

/// Builds the batch for a library that supports `transports`, and EncryptedID if
/// `encrypted_name_id`.
fn cases(transports: &[KeyTransport], encrypted_name_id: bool) -> Vec<Case> {
    let mut cases: Vec<Case> = algorithm_pairs()
        .into_iter()
        .filter(|(_, transport)| transports.contains(transport))
        .map(|(content, transport)| accepted(content, transport))
        .collect();
    if encrypted_name_id {
        cases.push(encrypted_name_id_case());
    }
    cases.push(wrong_key_case());
    cases.push(modified_response_case());
    cases
}

/// Returns the SP's and IdP's settings, shared by every case.
fn settings() -> Value {
    let config = load_config(&encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p));
    json!({
        "sp_entity_id": SP_ENTITY_ID,
        "acs_url": ACS_URL,
        "acs_host": "sp.example.test",
        "acs_path": "/saml/acs",
        "sp_cert_pem": read_fixture("keys/sp.cert.pem"),
        "idp_entity_id": config.idp.entity_id,
        "idp_sso_url": config.sso_url("amion"),
        "idp_cert_pem": read_fixture("keys/idp.cert.pem"),
        "idp_metadata_xml": build_metadata(&config, time::OffsetDateTime::now_utc()),
    })
}

/// Runs `command` with the cases file appended and returns each result with its case name.
fn run(mut command: Command, install_hint: &str, cases: &[Case]) -> Vec<(String, Value)> {
    let batch = json!({
        "settings": settings(),
        "cases": cases.iter().map(|case| json!({
            "name": case.name,
            "response": case.response,
            "sp_key_pem": case.sp_key_pem,
            "name_id_encrypted": case.name_id_encrypted,
        })).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("cases.json");
    std::fs::write(&path, serde_json::to_vec(&batch).expect("serializes")).expect("write cases");
    let output = command.arg(&path).output().unwrap_or_else(|e| panic!("{install_hint} ({e})"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{install_hint}\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("unreadable report ({e}): {stdout}"));
    let results = report["results"].as_array().cloned().unwrap_or_default();
    results.into_iter().map(|result| (result["name"].as_str().unwrap_or("").to_owned(), result)).collect()
}

/// Checks each case's result: accepted cases carry the reference user, rejected ones fail.
fn check(library: &str, cases: &[Case], results: &[(String, Value)]) {
    assert_eq!(results.len(), cases.len(), "{library}: one result per case");
    for (case, (name, result)) in cases.iter().zip(results) {
        assert_eq!(name, &case.name, "{library}: results come in case order");
        let label = format!("{library}, {}", case.name);
        if !case.accept {
            assert_eq!(result["ok"], json!(false), "{label}: should have been rejected: {result}");
            continue;
        }
        assert_eq!(result["ok"], json!(true), "{label}: {}", result["error"]);
        assert_eq!(result["name_id"], json!(NAME_ID), "{label}: NameID");
        let attributes = &result["attributes"];
        assert_eq!(attributes["email"], json!([NAME_ID]), "{label}: email");
        assert_eq!(attributes["first_name"], json!(["Dana"]), "{label}: first_name");
        assert_eq!(attributes["last_name"], json!(["Reyes"]), "{label}: last_name");
        assert_eq!(attributes["name"], json!(["dreyes"]), "{label}: name");
        assert_eq!(attributes["jobTitle"], json!(["Charge Nurse"]), "{label}: jobTitle");
    }
}

fn python(library: &str) -> Command {
    let mut command = Command::new(root().join(".venv/bin/python"));
    command.arg(root().join("tests/sp/python_sp.py")).arg(library);
    command
}

const PYTHON_HINT: &str = "the SP libraries must be installed in .venv; run scripts/install-sp-libraries";

#[test]
fn python3_saml_accepts_mgf1p_pairs() {
    let cases = cases(&[KeyTransport::RsaOaepMgf1p], true);
    let results = run(python("python3-saml"), PYTHON_HINT, &cases);
    check("python3-saml", &cases, &results);
}

#[test]
fn python3_saml_strict_rejects_xenc11_mgf() {
    let cases = [accepted(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepSha256)];
    let results = run(python("python3-saml"), PYTHON_HINT, &cases);
    let result = &results.first().expect("one result").1;
    assert_eq!(result["ok"], json!(false), "python3-saml now accepts xenc11:MGF; move rsa-oaep into its batch");
    let error = result["error"].as_str().unwrap_or("");
    assert!(error.contains("saml-schema-protocol-2.0.xsd"), "rejected for another reason than the schema: {error}");
}

#[test]
fn pysaml2_accepts_supported_pairs() {
    let transports: Vec<KeyTransport> = if xmlsec1_has_xenc11_rsa_oaep() {
        KeyTransport::ALL.to_vec()
    } else {
        vec![KeyTransport::RsaOaepMgf1p]
    };
    let cases = cases(&transports, true);
    let results = run(python("pysaml2"), PYTHON_HINT, &cases);
    check("pysaml2", &cases, &results);
}

#[test]
fn node_saml_accepts_supported_pairs() {
    let script: PathBuf = root().join("tests/sp/node_sp.js");
    let mut command = Command::new("node");
    command.arg(script);
    let cases = cases(&[KeyTransport::RsaOaepMgf1p], false);
    let hint = "node and @node-saml/node-saml must be installed; run scripts/install-sp-libraries";
    let results = run(command, hint, &cases);
    check("node-saml", &cases, &results);
}
