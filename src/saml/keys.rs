//! Loading the IdP's RSA signing key and X.509 certificates from PEM.

use der::{Decode, DecodePem, Encode};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use time::OffsetDateTime;
use x509_cert::Certificate;

/// The RSA modulus sizes accepted for signing keys, in bits.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 4096;

/// Why a key or certificate could not be loaded. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Neither a PKCS#8 `PRIVATE KEY` nor a PKCS#1 `RSA PRIVATE KEY` PEM block.
    PrivateKeyPem,
    /// Not a PEM `CERTIFICATE` block holding an X.509 certificate.
    CertificatePem(String),
    /// The certificate's public key is not RSA.
    NotRsa,
    /// The modulus size is outside 2048–4096 bits.
    KeySize { bits: usize },
    /// The private key's public half is not the certificate's public key.
    Mismatch,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKeyPem => f.write_str(
                "not an RSA private key in PEM; expected a \"BEGIN PRIVATE KEY\" (PKCS#8) or \"BEGIN RSA PRIVATE KEY\" (PKCS#1) block",
            ),
            Self::CertificatePem(cause) => {
                write!(f, "not an X.509 certificate in PEM ({cause}); expected a \"BEGIN CERTIFICATE\" block")
            }
            Self::NotRsa => f.write_str("the certificate's public key is not RSA; use an RSA certificate"),
            Self::KeySize { bits } => write!(
                f,
                "the RSA key has {bits} bits; use a key of {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
            ),
            Self::Mismatch => f.write_str(
                "the private key does not belong to the certificate; pair the key with the certificate issued for it",
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// An X.509 certificate with the parts the IdP uses: its DER bytes (for `ds:X509Certificate`
/// and metadata) and its RSA public key.
#[derive(Clone, Debug)]
pub struct X509 {
    der: Vec<u8>,
    public_key: RsaPublicKey,
    not_after: OffsetDateTime,
}

impl X509 {
    /// Parses one PEM `CERTIFICATE` block whose public key is RSA of an accepted size.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let certificate =
            Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        Self::from_certificate(&certificate)
    }

    /// Parses a DER-encoded certificate (the content of a `ds:X509Certificate`).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let certificate = Certificate::from_der(der).map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        Self::from_certificate(&certificate)
    }

    fn from_certificate(certificate: &Certificate) -> Result<Self, KeyError> {
        let der = certificate.to_der().map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        let spki_der = spki.to_der().map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        let public_key = RsaPublicKey::from_public_key_der(&spki_der).map_err(|_| KeyError::NotRsa)?;
        let bits = public_key.n().bits();
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::KeySize { bits });
        }
        let not_after_unix = certificate.tbs_certificate.validity.not_after.to_unix_duration().as_secs();
        let not_after = OffsetDateTime::from_unix_timestamp(i64::try_from(not_after_unix).unwrap_or(i64::MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(Self { der, public_key, not_after })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER bytes in base64, as `ds:X509Certificate` carries them.
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
}

/// Parses an RSA private key from a PKCS#8 or PKCS#1 PEM block and checks its size.
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    let pem = pem.trim();
    let key = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| KeyError::PrivateKeyPem)?;
    let bits = key.n().bits();
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(KeyError::KeySize { bits });
    }
    Ok(key)
}

/// Checks that `key` is the private half of `certificate`'s public key.
pub fn check_pair(key: &RsaPrivateKey, certificate: &X509) -> Result<(), KeyError> {
    if &key.to_public_key() == certificate.public_key() {
        Ok(())
    } else {
        Err(KeyError::Mismatch)
    }
}
