//! Encrypted Responses decrypt with xmlsec (XML Security Library), and the Assertion inside
//! verifies with xmlsec1: for every content algorithm and key transport.
//!
//! xmlsec1 1.2.x (Debian 12 ships 1.2.37) has no XML Encryption 1.1 `rsa-oaep` key transport.
//! For that algorithm these tests decrypt with the same library's 1.3 series instead, which
//! the Python `xmlsec` wheel bundles (`scripts/install-sp-libraries` installs it). The
//! decrypted Assertion is still verified with xmlsec1.

mod support;

use edgeidp::platform::FixedPlatform;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use support::encryption::*;
use support::*;

fn idp_cert() -> String {
    read_fixture("keys/idp.cert.pem")
}

/// Decrypts with xmlsec1, or with the Python binding of libxmlsec1 1.3 for key transports
/// that this xmlsec1 lacks.
fn decrypt(xml: &str, key_pem: &str, transport: KeyTransport) -> Result<String, String> {
    if transport == KeyTransport::RsaOaepSha256 && !xmlsec1_has_xenc11_rsa_oaep() {
        python_xmlsec_decrypt(xml, key_pem)
    } else {
        xmlsec_decrypt(xml, key_pem)
    }
}

#[test]
fn every_pair_decrypts_and_verifies() {
    for (content, transport) in algorithm_pairs() {
        let pair = format!("{content} with {transport}");
        let issued = issue_for(&encrypting_config_json(content, transport), &mut FixedPlatform::new(NOW, SEED));
        assert!(!issued.xml.contains("<saml:Assertion"), "{pair}: the Assertion is not in the clear");
        assert_eq!(xmlsec_verify(&issued.xml, &idp_cert(), &issued.response_id), Ok(()), "{pair}: Response signature");

        let decrypted = decrypt(&issued.xml, &sp_key_pem(), transport).unwrap_or_else(|e| panic!("{pair}: {e}"));
        assert!(!decrypted.contains("EncryptedData"), "{pair}: decrypted in place");
        assert_eq!(xmlsec_verify(&decrypted, &idp_cert(), &issued.assertion_id), Ok(()), "{pair}: Assertion signature");
        assert_eq!(attribute_values(&decrypted, "email"), vec!["dana.reyes@example.test"], "{pair}");
        assert_eq!(attribute_values(&decrypted, "name"), vec!["dreyes"], "{pair}");
        assert_eq!(attribute_values(&decrypted, "jobTitle"), vec!["Charge Nurse"], "{pair}");
    }
}

#[test]
fn wrong_sp_key_fails_to_decrypt() {
    let other_key = read_fixture("keys/next.key.pem");
    for transport in KeyTransport::ALL {
        let issued =
            issue_for(&encrypting_config_json(ContentAlgorithm::Aes256Gcm, transport), &mut FixedPlatform::new(NOW, SEED));
        assert!(decrypt(&issued.xml, &other_key, transport).is_err(), "{transport}: decrypted with the wrong key");
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
