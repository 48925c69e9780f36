//! Warnings about a Response that the filter would send as it is, but that an SP may reject
//! or that an administrator probably did not intend.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::config::{AppConfig, ConfigWarning, IdpConfig, NameIdFormat};
use crate::saml::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use super::decrypt::{DecryptionError, FIELD as SP_KEY_FIELD};
use crate::saml::inspect::ResponseReport;
use crate::saml::response::format_instant;

/// The RelayState size that SAML 2.0 Bindings (section 3.5.3) lets an SP assume: an SP may
/// truncate or reject a longer one.
pub const RELAY_STATE_LIMIT_BYTES: usize = 80;

/// A certificate that expires within this many days gets a warning.
pub const CERTIFICATE_EXPIRY_WARNING_DAYS: i64 = 30;

/// One warning, with a stable code for the page and a sentence for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    /// The configuration path or preview field the warning is about.
    pub field: String,
    pub message: String,
}

/// The inputs of the warning checks.
pub struct Context<'a> {
    pub idp: &'a IdpConfig,
    pub app: &'a AppConfig,
    pub relay_state: Option<&'a str>,
    pub omitted_attributes: &'a [String],
    pub requested_name_id_format: Option<NameIdFormat>,
    pub now: OffsetDateTime,
    /// The signed Response as the core verifier read it back.
    pub read_back: &'a ResponseReport,
    /// The failure to decrypt the EncryptedAssertion with the SP's private key, if it failed.
    pub decryption_error: Option<&'a DecryptionError>,
}

/// Returns the configuration's own warnings followed by those about this Response.
pub fn collect(context: &Context<'_>, config_warnings: &[ConfigWarning]) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = config_warnings
        .iter()
        .map(|w| Warning { code: "config", field: w.path.clone(), message: w.message.clone() })
        .collect();
    let app_path = format!("apps.{}", context.app.name);

    warnings.extend(relay_state_length(context, &app_path));
    warnings.extend(empty_attributes(context, &app_path));
    warnings.extend(name_id_format(context, &app_path));
    warnings.extend(sha1(context, &app_path));
    warnings.extend(certificate_expiring(context));
    warnings.extend(failed_read_back(context));
    warnings
}

fn relay_state_length(context: &Context<'_>, app_path: &str) -> Option<Warning> {
    let relay_state = context.relay_state?;
    if relay_state.len() <= RELAY_STATE_LIMIT_BYTES {
        return None;
    }
    Some(Warning {
        code: "relay_state_length",
        field: format!("{app_path}.default_relay_state"),
        message: format!(
            "RelayState is {} bytes, over the {RELAY_STATE_LIMIT_BYTES} bytes SAML guarantees an SP accepts; some SPs truncate or reject it, so test this SP or shorten it",
            relay_state.len()
        ),
    })
}

fn empty_attributes(context: &Context<'_>, app_path: &str) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for name in context.omitted_attributes {
        let expression = context
            .app
            .attributes
            .iter()
            .find(|a| &a.name == name)
            .map(|a| a.value.source())
            .unwrap_or_default();
        warnings.push(Warning {
            code: "attribute_empty",
            field: format!("{app_path}.attributes ({name})"),
            message: format!(
                "attribute {name:?} is left out: its expression {expression:?} evaluated to nothing for this user; check the profile key or the expression"
            ),
        });
    }
    warnings
}

/// Compares the requested NameID format with the one sent. An SP that requests `unspecified`
/// lets the IdP choose (SAML 2.0 Core, section 3.4.1.1), so only a specific format can mismatch.
fn name_id_format(context: &Context<'_>, app_path: &str) -> Option<Warning> {
    let requested = context.requested_name_id_format?;
    let sent = context.app.name_id.format;
    if requested == NameIdFormat::Unspecified || requested == sent {
        return None;
    }
    Some(Warning {
        code: "name_id_format",
        field: format!("{app_path}.name_id.format"),
        message: format!(
            "the SP requests NameID format {} but the app sends {}; the SP may reject the login, so set name_id.format to {:?}",
            requested.uri(),
            sent.uri(),
            requested.name()
        ),
    })
}

fn sha1(context: &Context<'_>, app_path: &str) -> Option<Warning> {
    let app = context.app;
    let field = if app.signature_algorithm == SignatureAlgorithm::RsaSha1 {
        "signature_algorithm"
    } else if app.digest_algorithm == DigestAlgorithm::Sha1 {
        "digest_algorithm"
    } else {
        return None;
    };
    Some(Warning {
        code: "sha1",
        field: format!("{app_path}.{field}"),
        message: "SHA-1 is selected: SHA-1 signatures can be forged through collisions, so use rsa-sha256 and sha256 unless this SP accepts nothing else".to_owned(),
    })
}

/// Warns about certificates that are still valid but expire soon; expired ones already have a
/// configuration warning.
fn certificate_expiring(context: &Context<'_>) -> Vec<Warning> {
    let certificates = [
        ("idp.certificate_pem", Some(&context.idp.certificate)),
        ("idp.next_certificate_pem", context.idp.next_certificate.as_ref()),
    ];
    let soon = context.now + Duration::days(CERTIFICATE_EXPIRY_WARNING_DAYS);
    let mut warnings = Vec::new();
    for (path, certificate) in certificates {
        let Some(certificate) = certificate else { continue };
        let not_after = certificate.not_after();
        if not_after < context.now || not_after > soon {
            continue;
        }
        warnings.push(Warning {
            code: "certificate_expiring",
            field: path.to_owned(),
            message: format!(
                "the certificate expires at {}, within {CERTIFICATE_EXPIRY_WARNING_DAYS} days; publish its successor as idp.next_certificate_pem and roll the key over",
                format_instant(not_after)
            ),
        });
    }
    warnings
}

/// Reports any check the previewer's own Response failed when read back: a signature that
/// does not verify, or conditions, audience or recipient the SP would reject. An encrypted
/// Assertion is read back only after decryption with the SP's private key, so it gets a note
/// saying which values are shown, and a warning when decryption failed.
fn failed_read_back(context: &Context<'_>) -> Vec<Warning> {
    let read_back = context.read_back;
    let mut warnings = Vec::new();
    if read_back.encrypted {
        warnings.push(encrypted_note(context));
    }
    if let Some(error) = context.decryption_error {
        warnings.push(Warning { code: "decryption", field: SP_KEY_FIELD.to_owned(), message: error.reason() });
    }
    if read_back.encrypted && !read_back.decrypted {
        return warnings;
    }
    warnings.extend(read_back.checks.iter().filter(|check| !check.passed).map(|check| Warning {
        code: "read_back",
        field: check.name.to_owned(),
        message: format!("the SP would reject this Response: {}", check.detail),
    }));
    warnings
}

fn encrypted_note(context: &Context<'_>) -> Warning {
    let message = if context.read_back.decrypted {
        format!("the Assertion is encrypted for the SP; the NameID and attributes shown were read back after decrypting it with {SP_KEY_FIELD}, and its signature was checked with the IdP certificate")
    } else {
        format!("the Assertion is encrypted for the SP, so the NameID and attributes shown are those built before encryption, not read back from the Response; paste the SP's private key ({SP_KEY_FIELD}) to decrypt and check it")
    };
    Warning { code: "encrypted", field: format!("apps.{}.encryption", context.app.name), message }
}
