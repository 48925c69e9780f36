//! Shared helpers for the integration tests: fixture keys, the reference deployment's
//! configuration, and the external judges (xmlsec1, xmllint).

#![allow(dead_code)]

pub mod encryption;

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeidp::config::Config;
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

/// The pinned clock of golden and signature tests.
pub const NOW: OffsetDateTime = datetime!(2026-12-04 12:00:00 UTC);
/// The pinned random seed of golden tests.
pub const SEED: [u8; 32] = [7; 32];

pub const RESPONSE_ID_ATTR: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";
pub const ASSERTION_ID_ATTR: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn read_fixture(relative: &str) -> String {
    let path = fixtures().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The reference deployment: one SP, two apps told apart by their default RelayState, the
/// five attributes of the SP's Okta guide, emailAddress NameID, signed with the test key.
pub fn reference_config_json() -> Value {
    let attributes = json!([
        {"name": "email", "name_format": "unspecified", "value": "user.email"},
        {"name": "first_name", "name_format": "unspecified", "value": "user.firstName"},
        {"name": "last_name", "name_format": "unspecified", "value": "user.lastName"},
        {"name": "name", "name_format": "unspecified", "value": "user.Login"},
        {"name": "jobTitle", "name_format": "unspecified", "value": "user.Title"}
    ]);
    json!({
        "idp": {
            "entity_id": "https://idp.example.test/saml/metadata",
            "base_url": "https://idp.example.test",
            "signing_key_pem": read_fixture("keys/idp.key.pem"),
            "certificate_pem": read_fixture("keys/idp.cert.pem")
        },
        "apps": {
            "amion": {
                "sp_entity_id": "https://sp.example.test/saml/metadata",
                "acs_urls": ["https://sp.example.test/saml/acs"],
                "default_relay_state": "{\"redirect_to\":\"https://www.amion.com/organizations\"}",
                "name_id": {"format": "emailAddress", "value": "user.email"},
                "attributes": attributes
            },
            "doximity": {
                "sp_entity_id": "https://sp.example.test/saml/metadata",
                "acs_urls": ["https://sp.example.test/saml/acs"],
                "default_relay_state": "{\"redirect_to\":\"https://www.doximity.com/dialer/home\"}",
                "name_id": {"format": "emailAddress", "value": "user.email"},
                "attributes": attributes
            }
        }
    })
}

pub fn reference_profile() -> edgeidp::saml::expression::Profile {
    let value = json!({
        "email": "dana.reyes@example.test",
        "firstName": "Dana",
        "lastName": "Reyes",
        "login": "dreyes",
        "title": "Charge Nurse",
        "displayName": "Dana Reyes, RN"
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("the profile literal is an object"),
    }
}

pub fn load_config(value: &Value) -> Config {
    let json = serde_json::to_vec(value).expect("configuration serializes");
    match Config::from_json(&json, NOW) {
        Ok((config, _warnings)) => config,
        Err(e) => panic!("the test configuration should load, but: {e}"),
    }
}

/// Runs `xmlsec1 --verify` on `xml` for the element with `node_id`, trusting `cert_pem`'s key.
/// Returns xmlsec1's output on failure.
pub fn xmlsec_verify(xml: &str, cert_pem: &str, node_id: &str) -> Result<(), String> {
    let mut command = Command::new("xmlsec1");
    command.arg("--verify");
    run_verifier(
        command,
        "xmlsec1 must be installed (Debian package xmlsec1); run scripts/install-deps (or scripts/test)",
        xml,
        cert_pem,
        node_id,
    )
}

/// Runs [`xmlsec_verify`] with the xmlsec1 1.3 command at `program`. Since 1.3.0, xmlsec
/// uses only keys that a `ds:KeyInfo` refers to, and a key loaded with `--pubkey-cert-pem`
/// does not match a signature whose `ds:KeyInfo` holds only `ds:X509Data` (KEY-NOT-FOUND).
/// `--lax-key-search` restores the 1.2 search; the only key loaded is still the pinned one.
pub fn xmlsec13_verify(program: &Path, install_hint: &str, xml: &str, cert_pem: &str, node_id: &str) -> Result<(), String> {
    let mut command = Command::new(program);
    command.args(["--verify", "--lax-key-search"]);
    run_verifier(command, install_hint, xml, cert_pem, node_id)
}

/// Appends the pinned key, the ID attributes, the node and the document to an xmlsec1
/// `--verify` command and runs it.
fn run_verifier(mut command: Command, install_hint: &str, xml: &str, cert_pem: &str, node_id: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let xml_path = dir.path().join("document.xml");
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&xml_path, xml).expect("write document");
    std::fs::write(&cert_path, cert_pem).expect("write certificate");
    let output = command
        .arg("--pubkey-cert-pem")
        .arg(&cert_path)
        .args(["--id-attr:ID", RESPONSE_ID_ATTR, "--id-attr:ID", ASSERTION_ID_ATTR, "--node-id", node_id])
        .arg(&xml_path)
        .output()
        .unwrap_or_else(|e| panic!("{install_hint} ({e})"));
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Validates `xml` with `xmllint --schema` against one of the shipped OASIS schemas.
pub fn xmllint_schema(xml: &str, schema: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let xml_path = dir.path().join("document.xml");
    std::fs::write(&xml_path, xml).expect("write document");
    let output = Command::new("xmllint")
        .args(["--nonet", "--noout", "--schema"])
        .arg(fixtures().join("xsd").join(schema))
        .arg(&xml_path)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils); run scripts/install-deps (or scripts/test)");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
