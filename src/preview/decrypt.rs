//! Decrypting the EncryptedAssertion of a previewed or inspected Response with the SP's
//! private key, which the page passes in the request field `sp_private_key_pem`.
//!
//! The key is used for one request and dropped. No message, log line or output includes it.

use rsa::pkcs8::der::Decode;
use rsa::pkcs8::{PrivateKeyInfo, SecretDocument};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::inspect::{describe_signature, readable};
use crate::saml::encryption::{decrypt_assertion_with_key, DecryptError, DecryptedAssertion};
use crate::saml::inspect::{DecryptedParts, ResponseReport};
use crate::saml::keys::{check_pair, private_key_from_pem, KeyError, X509};

/// The request field that carries the SP's private key.
pub const FIELD: &str = "sp_private_key_pem";

/// The PKCS#8 algorithm identifier of an RSA key, PKCS #1's `rsaEncryption`.
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// A PEM private key from a request. Its `Debug` output leaves the key out, and dropping it
/// overwrites the text.
///
/// NOTE: only this copy is overwritten. The request JSON the caller passed in, and serde_json's
/// buffer for unescaping it, are freed without being overwritten.
#[derive(Default, Deserialize)]
#[serde(transparent)]
pub struct SecretPem(String);

impl SecretPem {
    pub fn new(pem: String) -> Self {
        Self(pem)
    }

    /// Returns the PEM without surrounding white space, or `None` when the field is blank.
    pub fn pem(&self) -> Option<&str> {
        let pem = self.0.trim();
        (!pem.is_empty()).then_some(pem)
    }
}

impl Drop for SecretPem {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let description = if self.pem().is_some() { "(a private key, not shown)" } else { "(blank)" };
        write!(f, "SecretPem{description}")
    }
}

/// A failure to decrypt the EncryptedAssertion with `sp_private_key_pem`. Messages name the
/// field and never include the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptionError {
    /// The field contains no RSA private key that this crate loads.
    Key(KeyError),
    /// The field contains a PKCS#8 key for another algorithm, such as EC.
    NotRsa { algorithm_oid: String },
    /// The key is not the one the app's encryption certificate belongs to.
    NotForCertificate { certificate_path: String },
    /// Decryption itself failed: a wrong key, or a modified or unsupported ciphertext.
    Decrypt(DecryptError),
}

impl DecryptionError {
    /// Returns what failed and what to do, without the field name that `Display` puts first.
    pub fn reason(&self) -> String {
        match self {
            Self::Key(error) | Self::Decrypt(DecryptError::PrivateKey(error)) => error.to_string(),
            Self::NotRsa { algorithm_oid } => format!(
                "the key is not an RSA key (its PKCS#8 algorithm is {algorithm_oid}); XML Encryption transports the content key with RSA-OAEP, so paste the SP's RSA private key"
            ),
            Self::NotForCertificate { certificate_path } => format!(
                "the private key does not belong to {certificate_path}, the certificate the Assertion is encrypted for; paste the private key of that certificate"
            ),
            Self::Decrypt(error) => format!(
                "the EncryptedAssertion could not be decrypted: {error}. Check that the key is the SP's encryption key and that the Response was not modified"
            ),
        }
    }
}

impl std::fmt::Display for DecryptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{FIELD}: {}", self.reason())
    }
}

impl std::error::Error for DecryptionError {}

/// Loads the SP's private key from `pem`, checking it against `certificate` (the app's
/// encryption certificate at `certificate_path`) when one is configured.
pub fn load_key(pem: &str, certificate: Option<(&X509, String)>) -> Result<RsaPrivateKey, DecryptionError> {
    let key = private_key_from_pem(pem).map_err(|error| match (&error, pkcs8_algorithm(pem)) {
        (KeyError::PrivateKeyPem, Some(oid)) if oid != RSA_ENCRYPTION_OID => {
            DecryptionError::NotRsa { algorithm_oid: oid }
        }
        _ => DecryptionError::Key(error),
    })?;
    if let Some((certificate, certificate_path)) = certificate {
        if check_pair(&key, certificate).is_err() {
            return Err(DecryptionError::NotForCertificate { certificate_path });
        }
    }
    Ok(key)
}

/// Returns the algorithm OID of a PKCS#8 `PRIVATE KEY` block, or `None` when `pem` is not one.
fn pkcs8_algorithm(pem: &str) -> Option<String> {
    let (_, document) = SecretDocument::from_pem(pem).ok()?;
    let info = PrivateKeyInfo::from_der(document.as_bytes()).ok()?;
    Some(info.algorithm.oid.to_string())
}

/// Decrypts the one EncryptedAssertion in `xml` with `key`.
pub fn decrypt(xml: &str, key: &RsaPrivateKey) -> Result<DecryptedAssertion, DecryptionError> {
    decrypt_assertion_with_key(xml, key).map_err(DecryptionError::Decrypt)
}

/// Returns the parts of `decrypted` that the core inspector reads.
pub fn parts(decrypted: &DecryptedAssertion) -> DecryptedParts<'_> {
    DecryptedParts { assertion_xml: &decrypted.xml, name_id_xml: decrypted.name_id_xml.as_deref() }
}

/// The decrypted Assertion and the verdict on its signature, as the page shows them.
#[derive(Debug, Serialize)]
pub struct DecryptedView {
    /// The decrypted Assertion, indented for reading; not the signed bytes.
    pub readable_assertion: String,
    /// The NameID decrypted from the Assertion's EncryptedID, indented, if it has one.
    pub readable_name_id: Option<String>,
    /// The content encryption algorithm, such as `aes256-gcm`.
    pub content_algorithm: &'static str,
    /// The Assertion's own signature, checked with the IdP certificate: `valid (…)`,
    /// `invalid: …` or `absent`.
    pub assertion_signature: String,
    /// The Response's signature, which covers the ciphertext.
    pub response_signature: String,
    /// Whether a valid signature covers the decrypted Assertion.
    pub content_verified: bool,
    /// A one-line verdict for the page.
    pub verdict: String,
}

impl DecryptedView {
    pub fn new(decrypted: &DecryptedAssertion, report: &ResponseReport) -> Self {
        let verdict = if report.content_verified {
            "Signature check passed: a signature that verifies with the IdP certificate covers the decrypted Assertion"
        } else {
            "Signature check failed: no signature that verifies with the IdP certificate covers the decrypted Assertion, so an SP must reject it"
        };
        Self {
            readable_assertion: readable(&decrypted.xml),
            readable_name_id: decrypted.name_id_xml.as_deref().map(readable),
            content_algorithm: decrypted.content_algorithm.name(),
            assertion_signature: describe_signature(&report.assertion_signature),
            response_signature: describe_signature(&report.response_signature),
            content_verified: report.content_verified,
            verdict: verdict.to_owned(),
        }
    }
}
