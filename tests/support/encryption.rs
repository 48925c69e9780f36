//! Helpers for the encryption tests: an encrypting app configuration, Responses issued with
//! it, and xmlsec1's decryption.

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeidp::platform::Platform;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use edgeidp::saml::response::{build_response, IssuedResponse, Login};
use serde_json::{json, Value};

use super::{load_config, read_fixture, reference_config_json, reference_profile};

/// Returns every content algorithm paired with every key transport.
pub fn algorithm_pairs() -> Vec<(ContentAlgorithm, KeyTransport)> {
    ContentAlgorithm::ALL
        .into_iter()
        .flat_map(|content| KeyTransport::ALL.into_iter().map(move |transport| (content, transport)))
        .collect()
}

/// The reference configuration with `apps.amion` encrypting to the SP fixture certificate.
pub fn encrypting_config_json(content: ContentAlgorithm, transport: KeyTransport) -> Value {
    let mut config = reference_config_json();
    config["apps"]["amion"]["encryption"] = encryption_json(content, transport);
    config
}

/// An app's `encryption` section that encrypts to the SP fixture certificate
/// (`tests/fixtures/keys/sp.cert.pem`; [`sp_key_pem`] decrypts).
pub fn encryption_json(content: ContentAlgorithm, transport: KeyTransport) -> Value {
    json!({
        "certificate_pem": read_fixture("keys/sp.cert.pem"),
        "content_algorithm": content.name(),
        "key_transport": transport.name(),
        "key_name": SP_KEY_NAME
    })
}

/// The `ds:KeyName` that [`encryption_json`] names the SP fixture key with.
pub const SP_KEY_NAME: &str = "sp-encryption-2026";

/// Returns the SP fixture's private key, which decrypts what [`encryption_json`] encrypts.
pub fn sp_key_pem() -> String {
    read_fixture("keys/sp.key.pem")
}

/// Issues the reference user's Response for `apps.amion` of `config`, unsolicited.
pub fn issue_for(config: &Value, platform: &mut dyn Platform) -> IssuedResponse {
    let config = load_config(config);
    let app = config.app("amion").expect("amion is configured");
    let profile = reference_profile();
    let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant: None };
    build_response(&config.idp, &login, platform).unwrap_or_else(|e| panic!("build_response failed: {e}"))
}

/// Returns whether this xmlsec1 supports XML Encryption 1.1's `rsa-oaep` key transport. The
/// 1.2 series (Debian 12 ships 1.2.37) supports only `rsa-oaep-mgf1p`; the 1.3 series lists
/// the 1.1 transport as `rsa-oaep-enc11`.
pub fn xmlsec1_has_xenc11_rsa_oaep() -> bool {
    let output = Command::new("xmlsec1")
        .arg("--list-transforms")
        .output()
        .expect("xmlsec1 must be installed (Debian package xmlsec1); run scripts/install-deps");
    let listing = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    listing.split(|c: char| c == ',' || c.is_whitespace()).any(|name| name.trim_matches('"') == "rsa-oaep-enc11")
}

/// Runs `xmlsec1 --decrypt --privkey-pem KEY` on `xml` and returns the decrypted document,
/// or xmlsec1's error output.
pub fn xmlsec_decrypt(xml: &str, key_pem: &str) -> Result<String, String> {
    let mut command = Command::new("xmlsec1");
    command.args(["--decrypt", "--privkey-pem"]);
    run_decryptor(command, "xmlsec1 must be installed (Debian package xmlsec1); run scripts/install-deps", xml, key_pem)
}

/// Runs `PROGRAM --decrypt --privkey-pem:KEY_NAME KEY` on `xml` with the xmlsec1 1.3 command
/// at `program`. Since 1.3.0, xmlsec uses only keys that a `ds:KeyInfo` refers to: when the
/// EncryptedKey's `ds:KeyInfo` names a key, an unnamed key is not found. So the key is loaded
/// as an SP with several keys would load it, under the name that the IdP writes.
pub fn xmlsec13_decrypt(program: &Path, key_name: &str, xml: &str, key_pem: &str) -> Result<String, String> {
    let mut command = Command::new(program);
    command.arg("--decrypt").arg(format!("--privkey-pem:{key_name}"));
    run_decryptor(command, XMLSEC1_13_HINT, xml, key_pem)
}

/// The variable that names an xmlsec1 1.3 command in place of the one that
/// `scripts/install-xmlsec1-1.3` builds.
pub const XMLSEC1_13_VAR: &str = "EDGEIDP_XMLSEC1_13";

/// What to run when the xmlsec1 1.3 command is missing.
pub const XMLSEC1_13_HINT: &str =
    "xmlsec1 1.3 is built into .tools/xmlsec1-1.3 by scripts/install-xmlsec1-1.3 (or set EDGEIDP_XMLSEC1_13)";

/// Finds the xmlsec1 1.3 command: the file that `EDGEIDP_XMLSEC1_13` names when it is set, else
/// `.tools/xmlsec1-1.3/bin/xmlsec1`, which `scripts/install-xmlsec1-1.3` builds. `None` when
/// the variable is unset and that file does not exist.
pub fn xmlsec1_13() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os(XMLSEC1_13_VAR) {
        let path = PathBuf::from(named);
        assert!(path.is_file(), "{XMLSEC1_13_VAR}={} is not a file; {XMLSEC1_13_HINT}", path.display());
        return Some(path);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/xmlsec1-1.3/bin/xmlsec1");
    built.is_file().then_some(built)
}

/// Decrypts like [`xmlsec_decrypt`] with `tests/sp/xmlsec_decrypt.py`: the Python binding of
/// libxmlsec1 1.3, installed in `.venv` by `scripts/install-sp-libraries`.
pub fn python_xmlsec_decrypt(xml: &str, key_pem: &str) -> Result<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(root.join(".venv/bin/python"));
    command.arg(root.join("tests/sp/xmlsec_decrypt.py"));
    run_decryptor(command, "the project's .venv must exist; run scripts/install-sp-libraries", xml, key_pem)
}

/// Writes the key and the document to files, appends their paths to `command`, runs it and
/// returns its standard output, or its error output when it fails.
fn run_decryptor(mut command: Command, install_hint: &str, xml: &str, key_pem: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let xml_path = dir.path().join("document.xml");
    let key_path = dir.path().join("sp.key.pem");
    std::fs::write(&xml_path, xml).expect("write document");
    std::fs::write(&key_path, key_pem).expect("write key");
    let output = command.arg(&key_path).arg(&xml_path).output().unwrap_or_else(|e| panic!("{install_hint} ({e})"));
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Returns the values of the attribute `name` in `xml`, in document order.
pub fn attribute_values(xml: &str, name: &str) -> Vec<String> {
    let document = roxmltree::Document::parse(xml).expect("the document parses");
    document
        .descendants()
        .filter(|n| n.has_tag_name("Attribute") && n.attribute("Name") == Some(name))
        .flat_map(|n| n.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or("").to_owned()))
        .collect()
}
