//! One `apps.NAME.encryption` section: the SP's encryption certificate and the XML
//! Encryption algorithms for its assertions.

use time::{Duration, OffsetDateTime};

use super::raw::RawEncryption;
use super::{join, ConfigError, ConfigWarning};
use crate::saml::encryption::algorithm::{quoted_names, ContentAlgorithm, KeyTransport, RSA_1_5_REJECTED};
use crate::saml::escape::check_xml_chars;
use crate::saml::keys::X509;
use crate::saml::response::format_instant;

/// A certificate that expires sooner than this after loading gets a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;
/// Longest accepted `key_name`, in bytes: key names are labels, not documents.
const MAX_KEY_NAME_BYTES: usize = 1024;

/// A validated `apps.NAME.encryption` section.
#[derive(Debug, Clone)]
pub struct EncryptionConfig {
    /// The SP's encryption certificate: its RSA key receives the content key.
    pub certificate: X509,
    /// Default AES-256-GCM.
    pub content_algorithm: ContentAlgorithm,
    /// Default RSA-OAEP with SHA-1 (`rsa-oaep-mgf1p`).
    pub key_transport: KeyTransport,
    /// Replaces the Subject's NameID with an EncryptedID. Default false.
    pub encrypt_name_id: bool,
    /// The `ds:KeyName` written in the EncryptedKey's KeyInfo. Default none.
    pub key_name: Option<String>,
    /// Writes the certificate as `ds:X509Certificate` in the EncryptedKey's KeyInfo. Default
    /// true.
    pub include_certificate: bool,
}

impl EncryptionConfig {
    pub(super) fn validate(
        raw: RawEncryption,
        path: &str,
        now: OffsetDateTime,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<Self, ConfigError> {
        let certificate = validate_certificate(&raw.certificate_pem, &join(path, "certificate_pem"), now, warnings)?;
        let content_algorithm =
            validate_content_algorithm(raw.content_algorithm.as_deref(), &join(path, "content_algorithm"))?;
        let key_transport = validate_key_transport(raw.key_transport.as_deref(), &join(path, "key_transport"))?;
        let key_name = match raw.key_name {
            Some(name) => Some(validate_key_name(name, &join(path, "key_name"))?),
            None => None,
        };
        Ok(Self {
            certificate,
            content_algorithm,
            key_transport,
            encrypt_name_id: raw.encrypt_name_id,
            key_name,
            include_certificate: raw.include_certificate.unwrap_or(true),
        })
    }
}

/// Loads the SP's certificate. Unlike the IdP's own certificates, an expired one is an
/// error: the SP has replaced its key, and assertions encrypted to the old one are lost.
fn validate_certificate(
    pem: &str,
    path: &str,
    now: OffsetDateTime,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<X509, ConfigError> {
    let first_line = pem.trim().lines().next().unwrap_or("");
    let certificate = X509::from_pem(pem).map_err(|e| ConfigError::invalid(path, first_line, e.to_string()))?;
    let not_after = certificate.not_after();
    if not_after < now {
        return Err(ConfigError::invalid(
            path,
            format!("certificate valid until {}", format_instant(not_after)),
            "the SP's encryption certificate has expired; ask the SP for its current one (its metadata lists it under KeyDescriptor use=\"encryption\")",
        ));
    }
    if not_after < now + Duration::days(EXPIRY_WARNING_DAYS) {
        warnings.push(ConfigWarning {
            path: path.to_owned(),
            message: format!(
                "the SP's encryption certificate expires at {}; get its replacement from the SP before then",
                format_instant(not_after)
            ),
        });
    }
    Ok(certificate)
}

fn validate_content_algorithm(name: Option<&str>, path: &str) -> Result<ContentAlgorithm, ConfigError> {
    let Some(name) = name else { return Ok(ContentAlgorithm::Aes256Gcm) };
    ContentAlgorithm::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = ContentAlgorithm::ALL.iter().map(|a| a.name()).collect();
        ConfigError::invalid(path, name, format!("use {}", quoted_names(&names)))
    })
}

fn validate_key_transport(name: Option<&str>, path: &str) -> Result<KeyTransport, ConfigError> {
    let Some(name) = name else { return Ok(KeyTransport::RsaOaepMgf1p) };
    if KeyTransport::is_rsa_1_5(name) {
        return Err(ConfigError::invalid(path, name, RSA_1_5_REJECTED));
    }
    KeyTransport::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = KeyTransport::ALL.iter().map(|a| a.name()).collect();
        ConfigError::invalid(path, name, format!("use {}", quoted_names(&names)))
    })
}

fn validate_key_name(name: String, path: &str) -> Result<String, ConfigError> {
    if name.trim().is_empty() {
        return Err(ConfigError::missing(path, "the name the SP gives its encryption key, or remove key_name"));
    }
    if name.len() > MAX_KEY_NAME_BYTES {
        return Err(ConfigError::invalid(path, &name, format!("use at most {MAX_KEY_NAME_BYTES} bytes")));
    }
    check_xml_chars(&name).map_err(|e| ConfigError::invalid(path, &name, e.to_string()))?;
    Ok(name)
}
