//! Encrypted Responses decrypt with xmlsec (XML Security Library), and the Assertion inside
//! verifies with xmlsec1: for every content algorithm and key transport.
//!
//! xmlsec1 1.2.x (Debian 12 ships 1.2.37) has no XML Encryption 1.1 `rsa-oaep` key transport.
//! For that algorithm these tests decrypt with the same library's 1.3 series instead: always
//! with the Python `xmlsec` wheel, which bundles it (`scripts/install-sp-libraries` installs
//! it), and also with the xmlsec1 1.3 command where `scripts/install-xmlsec1-1.3` has built it.

mod support;

use std::fmt;
use std::path::PathBuf;

use edgeidp::platform::FixedPlatform;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use support::encryption::*;
use support::*;

fn idp_cert() -> String {
    read_fixture("keys/idp.cert.pem")
}

/// A decryptor that judges one key transport.
enum Judge {
    /// Debian's xmlsec1 command.
    Xmlsec1,
    /// The xmlsec1 1.3 command at this path.
    Xmlsec1v13(PathBuf),
    /// The Python binding of libxmlsec1 1.3 (`tests/sp/xmlsec_decrypt.py`).
    PythonXmlsec,
}

impl fmt::Display for Judge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Judge::Xmlsec1 => f.write_str("xmlsec1"),
            Judge::Xmlsec1v13(path) => write!(f, "xmlsec1 1.3 ({})", path.display()),
            Judge::PythonXmlsec => f.write_str("python-xmlsec"),
        }
    }
}

impl Judge {
    fn decrypt(&self, xml: &str, key_pem: &str) -> Result<String, String> {
        match self {
            Judge::Xmlsec1 => xmlsec_decrypt(xml, key_pem),
            Judge::Xmlsec1v13(program) => xmlsec13_decrypt(program, SP_KEY_NAME, xml, key_pem),
            Judge::PythonXmlsec => python_xmlsec_decrypt(xml, key_pem),
        }
    }

    /// Verifies a decrypted Assertion: xmlsec1 1.3 verifies what it decrypted itself;
    /// Debian's xmlsec1 verifies the rest.
    fn verify(&self, xml: &str, node_id: &str) -> Result<(), String> {
        match self {
            Judge::Xmlsec1v13(program) => xmlsec13_verify(program, XMLSEC1_13_HINT, xml, &idp_cert(), node_id),
            Judge::Xmlsec1 | Judge::PythonXmlsec => xmlsec_verify(xml, &idp_cert(), node_id),
        }
    }
}

/// Debian's xmlsec1 judges the key transports it has. The others are judged by the Python
/// binding of libxmlsec1 1.3 and, where it is built, by the xmlsec1 1.3 command.
fn judges(transport: KeyTransport) -> Vec<Judge> {
    if transport != KeyTransport::RsaOaepSha256 || xmlsec1_has_xenc11_rsa_oaep() {
        return vec![Judge::Xmlsec1];
    }
    let mut judges = vec![Judge::PythonXmlsec];
    match xmlsec1_13() {
        Some(program) => judges.push(Judge::Xmlsec1v13(program)),
        None => eprintln!("{transport}: not judged by the xmlsec1 1.3 command: {XMLSEC1_13_HINT}"),
    }
    judges
}

#[test]
fn every_pair_decrypts_and_verifies() {
    for (content, transport) in algorithm_pairs() {
        let issued = issue_for(&encrypting_config_json(content, transport), &mut FixedPlatform::new(NOW, SEED));
        let pair = format!("{content} with {transport}");
        assert!(!issued.xml.contains("<saml:Assertion"), "{pair}: the Assertion is not in the clear");
        assert_eq!(xmlsec_verify(&issued.xml, &idp_cert(), &issued.response_id), Ok(()), "{pair}: Response signature");

        for judge in judges(transport) {
            let pair = format!("{content} with {transport}, decrypted by {judge}");
            let decrypted = judge.decrypt(&issued.xml, &sp_key_pem()).unwrap_or_else(|e| panic!("{pair}: {e}"));
            assert!(!decrypted.contains("EncryptedData"), "{pair}: decrypted in place");
            assert_eq!(judge.verify(&decrypted, &issued.assertion_id), Ok(()), "{pair}: Assertion signature");
            assert_eq!(attribute_values(&decrypted, "email"), vec!["dana.reyes@example.test"], "{pair}");
            assert_eq!(attribute_values(&decrypted, "name"), vec!["dreyes"], "{pair}");
            assert_eq!(attribute_values(&decrypted, "jobTitle"), vec!["Charge Nurse"], "{pair}");
        }
    }
}

#[test]
fn wrong_sp_key_fails_to_decrypt() {
    let other_key = read_fixture("keys/next.key.pem");
    for transport in KeyTransport::ALL {
        let issued =
            issue_for(&encrypting_config_json(ContentAlgorithm::Aes256Gcm, transport), &mut FixedPlatform::new(NOW, SEED));
        for judge in judges(transport) {
            assert!(judge.decrypt(&issued.xml, &other_key).is_err(), "{transport}: {judge} decrypted with the wrong key");
        }
    }
}

#[test]
fn modified_ciphertext_fails_gcm_authentication() {
    for content in [ContentAlgorithm::Aes128Gcm, ContentAlgorithm::Aes256Gcm] {
        let issued =
            issue_for(&encrypting_config_json(content, KeyTransport::RsaOaepMgf1p), &mut FixedPlatform::new(NOW, SEED));
        let tampered = tamper_last_cipher_value(&issued.xml);
        assert!(xmlsec_decrypt(&tampered, &sp_key_pem()).is_err(), "{content}: a modified ciphertext decrypted");
    }
}

#[test]
fn encrypted_name_id_decrypts() {
    let mut config = encrypting_config_json(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p);
    config["apps"]["amion"]["encryption"]["encrypt_name_id"] = serde_json::json!(true);
    let issued = issue_for(&config, &mut FixedPlatform::new(NOW, SEED));
    let decrypted = xmlsec_decrypt(&issued.xml, &sp_key_pem()).expect("the Assertion decrypts");
    assert!(decrypted.contains("<saml:EncryptedID>"), "the NameID stays encrypted inside the Assertion");
    assert_eq!(xmlsec_verify(&decrypted, &idp_cert(), &issued.assertion_id), Ok(()));

    // xmlsec1 decrypts the first EncryptedData of a document: the EncryptedID's, now.
    let name_id = xmlsec_decrypt(&decrypted, &sp_key_pem()).expect("the NameID decrypts");
    let expected = "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">dana.reyes@example.test</saml:NameID>";
    assert!(name_id.contains(expected), "{name_id}");
}

#[test]
fn encrypted_response_validates_against_schema() {
    for content in ContentAlgorithm::ALL {
        let issued =
            issue_for(&encrypting_config_json(content, KeyTransport::RsaOaepMgf1p), &mut FixedPlatform::new(NOW, SEED));
        assert_eq!(xmllint_schema(&issued.xml, "saml-schema-protocol-2.0.xsd"), Ok(()), "{content}");
    }
}

/// Flips one bit in the middle of the document's last CipherValue, the Assertion's
/// ciphertext.
fn tamper_last_cipher_value(xml: &str) -> String {
    use base64::Engine;
    let start = xml.rfind("<xenc:CipherValue>").expect("has a CipherValue") + "<xenc:CipherValue>".len();
    let end = xml.rfind("</xenc:CipherValue>").expect("closes the CipherValue");
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(&xml[start..end]).expect("base64");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{}{}{}", &xml[..start], engine.encode(bytes), &xml[end..])
}
