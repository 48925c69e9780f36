use base64::Engine;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::algorithm::{ContentAlgorithm, KeyTransport, RSA_1_5};
use super::*;
use crate::saml::keys::X509;

const SP_CERT: &str = include_str!("../../../tests/fixtures/keys/sp.cert.pem");
const SP_KEY: &str = include_str!("../../../tests/fixtures/keys/sp.key.pem");
const OTHER_KEY: &str = include_str!("../../../tests/fixtures/keys/idp.key.pem");
const RECIPIENT: &str = "https://sp.example.test/saml/metadata";

/// A stand-in for a signed Assertion: the encryption code treats it as opaque text, except
/// for the NameID that `encrypt_name_id` replaces.
const ASSERTION: &str = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a1\" Version=\"2.0\"><saml:Issuer>https://idp.example.test</saml:Issuer><saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">o'brien&amp;co@example.test</saml:NameID></saml:Subject></saml:Assertion>";

fn config(content_algorithm: ContentAlgorithm, key_transport: KeyTransport) -> EncryptionConfig {
    EncryptionConfig {
        certificate: X509::from_pem(SP_CERT).expect("the SP fixture certificate loads"),
        content_algorithm,
        key_transport,
        encrypt_name_id: false,
        key_name: Some("sp-2026".to_owned()),
        include_certificate: true,
    }
}

fn default_config() -> EncryptionConfig {
    config(ContentAlgorithm::Aes256Gcm, KeyTransport::RsaOaepMgf1p)
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([5; 32])
}

fn encrypt(config: &EncryptionConfig) -> String {
    encrypt_assertion(ASSERTION, config, RECIPIENT, &mut rng()).expect("encrypts")
}

/// Flips one bit in the middle of the last (content) CipherValue.
fn tamper_content(encrypted: &str) -> String {
    let start = encrypted.rfind("<xenc:CipherValue>").expect("has a CipherValue") + "<xenc:CipherValue>".len();
    let end = encrypted.rfind("</xenc:CipherValue>").expect("closes the CipherValue");
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(&encrypted[start..end]).expect("base64");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{}{}{}", &encrypted[..start], engine.encode(bytes), &encrypted[end..])
}

#[test]
fn assertion_roundtrips_every_algorithm_pair() {
    for content_algorithm in ContentAlgorithm::ALL {
        for key_transport in KeyTransport::ALL {
            let encrypted = encrypt(&config(content_algorithm, key_transport));
            let decrypted = decrypt_assertion(&encrypted, SP_KEY)
                .unwrap_or_else(|e| panic!("{content_algorithm} with {key_transport}: {e}"));
            assert_eq!(decrypted.xml, ASSERTION, "{content_algorithm} with {key_transport}");
            assert_eq!(decrypted.content_algorithm, content_algorithm);
            assert_eq!(decrypted.oaep, key_transport.oaep());
        }
    }
}

#[test]
fn encrypted_assertion_names_algorithms() {
    let encrypted = encrypt(&config(ContentAlgorithm::Aes128Cbc, KeyTransport::RsaOaepSha256));
    assert!(encrypted.contains(&format!("Type=\"{ELEMENT_TYPE}\"")), "{encrypted}");
    assert!(encrypted.contains("Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\""));
    assert!(encrypted.contains("Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\""));
    assert!(encrypted.contains("<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\">"));
    assert!(encrypted.contains("<xenc11:MGF xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\">"));
}

#[test]
fn encrypted_assertion_declares_namespaces_once() {
    let encrypted = encrypt(&default_config());
    assert!(encrypted.starts_with("<saml:EncryptedAssertion xmlns:saml="), "{encrypted}");
    assert_eq!(encrypted.matches("xmlns:xenc=").count(), 1);
    assert_eq!(encrypted.matches("xmlns:ds=").count(), 1);
    assert!(!encrypted.contains("/>"), "empty elements are start-end pairs in canonical form");
}

#[test]
fn key_info_names_the_sp_key() {
    let encrypted = encrypt(&default_config());
    let certificate = X509::from_pem(SP_CERT).expect("loads").base64();
    assert!(encrypted.contains("<ds:KeyName>sp-2026</ds:KeyName>"), "{encrypted}");
    assert!(encrypted.contains(&format!("<ds:X509Certificate>{certificate}</ds:X509Certificate>")));
    assert!(encrypted.contains(&format!("<xenc:EncryptedKey Recipient=\"{RECIPIENT}\">")));
}

#[test]
fn key_info_left_out_when_not_wanted() {
    let mut config = default_config();
    config.key_name = None;
    config.include_certificate = false;
    let encrypted = encrypt(&config);
    assert_eq!(encrypted.matches("<ds:KeyInfo>").count(), 0, "only the EncryptedData's KeyInfo, which declares ds");
    assert_eq!(decrypt_assertion(&encrypted, SP_KEY).map(|d| d.xml), Ok(ASSERTION.to_owned()));
}

#[test]
fn two_encryptions_differ() {
    let config = default_config();
    let mut rng = rng();
    let first = encrypt_assertion(ASSERTION, &config, RECIPIENT, &mut rng).expect("encrypts");
    let second = encrypt_assertion(ASSERTION, &config, RECIPIENT, &mut rng).expect("encrypts");
    assert_ne!(first, second);
}

#[test]
fn wrong_key_fails_to_decrypt() {
    let encrypted = encrypt(&default_config());
    let result = decrypt_assertion(&encrypted, OTHER_KEY);
    assert_eq!(result.err(), Some(DecryptError::Cipher(CipherError::KeyDecryption)));
}

#[test]
fn modified_ciphertext_fails_gcm_authentication() {
    for content_algorithm in [ContentAlgorithm::Aes128Gcm, ContentAlgorithm::Aes256Gcm] {
        let encrypted = encrypt(&config(content_algorithm, KeyTransport::RsaOaepMgf1p));
        let result = decrypt_assertion(&tamper_content(&encrypted), SP_KEY);
        let expected = DecryptError::Cipher(CipherError::Authentication { algorithm: content_algorithm });
        assert_eq!(result.err(), Some(expected));
    }
}

#[test]
fn name_id_roundtrips_through_encrypted_id() {
    let config = default_config();
    let mut rng = rng();
    let with_encrypted_id = encrypt_name_id(ASSERTION, &config, RECIPIENT, &mut rng).expect("encrypts the NameID");
    assert!(!with_encrypted_id.contains("<saml:NameID"), "{with_encrypted_id}");
    assert!(with_encrypted_id.contains("<saml:Subject><saml:EncryptedID><xenc:EncryptedData "));

    let encrypted = encrypt_assertion(&with_encrypted_id, &config, RECIPIENT, &mut rng).expect("encrypts");
    let decrypted = decrypt_assertion(&encrypted, SP_KEY).expect("decrypts");
    assert_eq!(decrypted.xml, with_encrypted_id);
    let expected = "<saml:NameID xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">o'brien&amp;co@example.test</saml:NameID>";
    assert_eq!(decrypted.name_id_xml.as_deref(), Some(expected));
}

#[test]
fn rsa_1_5_is_rejected_on_decryption() {
    let encrypted = encrypt(&default_config()).replace(KeyTransport::RsaOaepMgf1p.uri(), RSA_1_5);
    let message = decrypt_assertion(&encrypted, SP_KEY).map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("padding-oracle"), "{message}");
}

#[test]
fn dtd_is_rejected() {
    let encrypted = encrypt(&default_config());
    let with_dtd = format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{encrypted}");
    let result = decrypt_assertion(&with_dtd, SP_KEY);
    assert!(matches!(result, Err(DecryptError::Xml { .. })), "{result:?}");
}

#[test]
fn missing_encrypted_assertion_is_reported() {
    let result = decrypt_assertion(ASSERTION, SP_KEY);
    assert_eq!(result.err(), Some(DecryptError::Missing { element: "saml:EncryptedAssertion" }));
}

#[test]
fn sibling_encrypted_key_is_found() {
    // Moves the EncryptedKey out of the EncryptedData's KeyInfo to beside the EncryptedData,
    // the other placement SAML allows.
    let encrypted = encrypt(&default_config());
    let start = encrypted.find("<xenc:EncryptedKey").expect("has an EncryptedKey");
    let end = encrypted.find("</xenc:EncryptedKey>").expect("closes it") + "</xenc:EncryptedKey>".len();
    let key = &encrypted[start..end];
    let moved = encrypted.replace(key, "").replace(
        "</xenc:EncryptedData>",
        &format!(
            "</xenc:EncryptedData>{}",
            key.replacen(
                "<xenc:EncryptedKey ",
                &format!("<xenc:EncryptedKey xmlns:xenc=\"{XENC_NS}\" xmlns:ds=\"{}\" ", crate::saml::signature::DS_NS),
                1
            )
        ),
    );
    assert_eq!(decrypt_assertion(&moved, SP_KEY).map(|d| d.xml), Ok(ASSERTION.to_owned()));
}

#[test]
fn seeded_encryption_is_reproducible() {
    let config = default_config();
    assert_eq!(encrypt(&config), encrypt(&config), "the same seed gives the same bytes");
}
