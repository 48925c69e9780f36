//! The assertion previewer's logic: what the in-browser page shows, computed with the same
//! core the filter runs. It takes and returns JSON-shaped structs so that the wasm-bindgen
//! layer in `crate::web` only converts at the boundary, and so tests run natively.
//!
//! Given the same configuration, profile, time and seed, [`preview`] signs the same bytes as
//! `edgeidp sign --now --seed`: both use [`FixedPlatform`] and [`response::build_response`].

pub mod decrypt;
pub mod inspect;
pub mod pretty;
pub mod warnings;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::{AppConfig, Config, ConfigError, NameIdFormat};
use crate::platform::{FixedPlatform, HostPlatform, Platform};
use crate::saml::expression::Profile;
use crate::saml::encryption::DecryptedAssertion;
use crate::saml::inspect::{inspect_decrypted_response, inspect_response, Expectations, InspectedAttribute, ResponseReport};
use crate::saml::keys::{self, X509};
use crate::saml::post_form::post_form;
use crate::saml::response::{self, format_instant, IssuedResponse, Login, ResponseError};

pub use decrypt::{DecryptedView, DecryptionError, SecretPem};
pub use inspect::{inspect, InspectRequest, Inspection};
pub use warnings::Warning;

/// A preview request: a whole filter configuration, one of its apps, and a user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The filter configuration, in the JSON shape the filter loads.
    pub config: serde_json::Value,
    /// The app to preview (a key under `apps`).
    pub app: String,
    /// The user profile that expressions read as `user`.
    pub profile: Profile,
    /// The time to issue the Response at, RFC 3339.
    pub now: String,
    /// 64 hexadecimal digits seeding the random source, for reproducible IDs and signatures.
    /// Default: the browser's (or operating system's) secure random source.
    #[serde(default)]
    pub seed: Option<String>,
    /// The ACS URL. Default: the app's `default_acs_url`.
    #[serde(default)]
    pub acs_url: Option<String>,
    /// The ID of the AuthnRequest this Response replies to. Default: none (an IdP-initiated Response).
    #[serde(default)]
    pub in_response_to: Option<String>,
    /// The RelayState to post. Default: the app's `default_relay_state`.
    #[serde(default)]
    pub relay_state: Option<String>,
    /// The NameID format the SP requests (a name such as `emailAddress`, or its URI), from its
    /// AuthnRequest or metadata. Default: none, which skips the comparison.
    #[serde(default)]
    pub requested_name_id_format: Option<String>,
    /// The SP's RSA private key (PEM), for an app with `encryption`: the EncryptedAssertion is
    /// decrypted with it and the NameID, attributes and signatures are read back from the
    /// decrypted Assertion. Default: none, which shows the values as built before encryption.
    #[serde(default)]
    pub sp_private_key_pem: SecretPem,
}

/// Everything the page shows about one Response.
#[derive(Debug, Serialize)]
pub struct Preview {
    /// The Response exactly as signed.
    pub xml: String,
    /// The same document indented for reading; not the signed bytes.
    pub readable_xml: String,
    /// The `SAMLResponse` form value.
    pub base64: String,
    /// The Subject's NameID, read back from `xml` after verifying its signatures.
    pub name_id: Option<SpNameId>,
    /// The attributes, read back from `xml` as an SP reads them.
    pub attributes: Vec<SpAttribute>,
    /// Attributes whose expression evaluated to nothing, so they were left out.
    pub omitted_attributes: Vec<String>,
    pub acs_url: String,
    pub relay_state: Option<String>,
    /// The auto-submitting HTML page the filter serves, and its Content-Security-Policy.
    pub post_form_html: String,
    pub post_form_csp: String,
    pub sizes: Sizes,
    pub warnings: Vec<Warning>,
    /// The Assertion decrypted with `sp_private_key_pem` and the verdict on its signature.
    /// `None` when the app does not encrypt, no key was given, or decryption failed, in which
    /// case a `decryption` warning gives the reason.
    pub decrypted: Option<DecryptedView>,
    pub response_id: String,
    pub issue_instant: String,
    pub not_on_or_after: String,
}

/// One `saml:Attribute` as the SP's attribute map reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpAttribute {
    pub name: String,
    /// The NameFormat URI, or `None` when the attribute carries none.
    pub name_format: Option<String>,
    pub values: Vec<String>,
}

impl From<InspectedAttribute> for SpAttribute {
    fn from(attribute: InspectedAttribute) -> Self {
        Self { name: attribute.name, name_format: attribute.name_format, values: attribute.values }
    }
}

/// The Subject's NameID and its Format URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpNameId {
    pub value: String,
    pub format: Option<String>,
}

/// Sizes in bytes of what goes over the wire.
#[derive(Debug, Serialize)]
pub struct Sizes {
    pub xml: usize,
    pub base64: usize,
    pub post_form: usize,
    pub relay_state: usize,
}

/// A failed preview, key generation or certificate check. Messages never include a private key.
#[derive(Debug)]
pub enum PreviewError {
    /// The request itself is not the expected JSON.
    Request { what: &'static str, cause: String },
    /// A time is not RFC 3339.
    Time { field: &'static str, value: String, cause: String },
    /// The seed is not 64 hexadecimal digits.
    Seed { value: String },
    Config(ConfigError),
    UnknownApp { name: String, known: Vec<String> },
    /// The requested NameID format is not one SAML defines.
    NameIdFormat { value: String },
    Response(ResponseError),
    Key(String),
    /// The signed output could not be parsed back; a builder bug if it ever happens.
    Output(String),
}

impl std::fmt::Display for PreviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request { what, cause } => write!(f, "invalid {what} request: {cause}"),
            Self::Time { field, value, cause } => write!(
                f,
                "{field}: {value:?} is not an RFC 3339 time such as 2026-01-02T03:04:05Z ({cause})"
            ),
            Self::Seed { value } => write!(f, "seed: {value:?} is not 64 hexadecimal digits; clear it to use fresh randomness"),
            Self::Config(error) => write!(f, "invalid configuration: {error}"),
            Self::UnknownApp { name, known } => {
                write!(f, "app {name:?} is not in the configuration; known apps: {}", known.join(", "))
            }
            Self::NameIdFormat { value } => write!(
                f,
                "requested NameID format {value:?} is not one SAML defines; use emailAddress, unspecified, persistent, transient or their URIs"
            ),
            Self::Response(error) => write!(f, "cannot issue the Response: {error}"),
            Self::Key(message) => f.write_str(message),
            Self::Output(message) => write!(f, "the signed Response could not be read back: {message}"),
        }
    }
}

impl std::error::Error for PreviewError {}

/// Builds, signs and describes the Response for `request`.
pub fn preview(request: &PreviewRequest) -> Result<Preview, PreviewError> {
    let now = parse_time("now", &request.now)?;
    let seed = match &request.seed {
        Some(hex) if !hex.trim().is_empty() => {
            Some(FixedPlatform::seed_from_hex(hex.trim()).ok_or_else(|| PreviewError::Seed { value: hex.clone() })?)
        }
        _ => None,
    };
    let requested_name_id_format = match &request.requested_name_id_format {
        Some(name) if !name.is_empty() => Some(
            NameIdFormat::from_name(name).ok_or_else(|| PreviewError::NameIdFormat { value: name.clone() })?,
        ),
        _ => None,
    };

    let config_json = serde_json::to_vec(&request.config)
        .map_err(|e| PreviewError::Request { what: "preview", cause: e.to_string() })?;
    let (config, config_warnings) = Config::from_json(&config_json, now).map_err(PreviewError::Config)?;
    let app = config.app(&request.app).ok_or_else(|| PreviewError::UnknownApp {
        name: request.app.clone(),
        known: config.apps.keys().cloned().collect(),
    })?;

    let acs_url = request.acs_url.clone().unwrap_or_else(|| app.default_acs_url.clone());
    let login = Login {
        app,
        profile: &request.profile,
        acs_url: &acs_url,
        in_response_to: request.in_response_to.as_deref(),
        authn_instant: None,
    };
    let issued = match seed {
        Some(seed) => response::build_response(&config.idp, &login, &mut FixedPlatform::new(now, seed)),
        None => response::build_response(&config.idp, &login, &mut HostPlatform { now, rng: rand_core::OsRng }),
    }
    .map_err(PreviewError::Response)?;

    let document = roxmltree::Document::parse(&issued.xml).map_err(|e| PreviewError::Output(e.to_string()))?;
    let decryption = decrypt_issued(&issued.xml, app, &request.sp_private_key_pem);
    let decrypted = decryption.as_ref().and_then(|result| result.as_ref().ok());
    let report = read_back(&issued.xml, decrypted, &config, &request.app, &acs_url, now)?;
    let base64 = issued.base64();
    let relay_state = request.relay_state.clone().or_else(|| app.default_relay_state.clone());
    let form = post_form(&acs_url, "SAMLResponse", &base64, relay_state.as_deref());
    let context = warnings::Context {
        idp: &config.idp,
        app,
        relay_state: relay_state.as_deref(),
        omitted_attributes: &issued.omitted_attributes,
        requested_name_id_format,
        now,
        read_back: &report,
        decryption_error: decryption.as_ref().and_then(|result| result.as_ref().err()),
    };

    Ok(Preview {
        readable_xml: pretty::indent(&document),
        name_id: sent_name_id(&report, &issued),
        attributes: sent_attributes(&report, &issued, app),
        sizes: Sizes {
            xml: issued.xml.len(),
            base64: base64.len(),
            post_form: form.html.len(),
            relay_state: relay_state.as_deref().map_or(0, str::len),
        },
        warnings: warnings::collect(&context, &config_warnings),
        decrypted: decrypted.map(|decrypted| DecryptedView::new(decrypted, &report)),
        omitted_attributes: issued.omitted_attributes.clone(),
        acs_url,
        relay_state,
        post_form_html: form.html,
        post_form_csp: form.content_security_policy,
        response_id: issued.response_id.clone(),
        issue_instant: format_instant(issued.issue_instant),
        not_on_or_after: format_instant(issued.not_on_or_after),
        base64,
        xml: issued.xml,
    })
}

/// Decrypts the issued Response's EncryptedAssertion with the request's SP private key, after
/// checking that the key belongs to the app's encryption certificate. Returns `None` when the
/// app does not encrypt or no key was given.
fn decrypt_issued(
    xml: &str,
    app: &AppConfig,
    sp_private_key_pem: &SecretPem,
) -> Option<Result<DecryptedAssertion, DecryptionError>> {
    let encryption = app.encryption.as_ref()?;
    let pem = sp_private_key_pem.pem()?;
    let certificate_path = format!("apps.{}.encryption.certificate_pem", app.name);
    let result = decrypt::load_key(pem, Some((&encryption.certificate, certificate_path)))
        .and_then(|key| decrypt::decrypt(xml, &key));
    Some(result)
}

/// Reads the signed Response back with the core verifier, as the SP would, checking its
/// signatures against the IdP certificate and its audience and recipient against the app.
/// An encrypted Assertion is read from `decrypted` when it was decrypted.
fn read_back(
    xml: &str,
    decrypted: Option<&DecryptedAssertion>,
    config: &Config,
    app: &str,
    acs_url: &str,
    now: OffsetDateTime,
) -> Result<ResponseReport, PreviewError> {
    let sp_entity_id = config.app(app).map(|app| app.sp_entity_id.as_str());
    let expected = Expectations {
        audience: sp_entity_id,
        acs_url: Some(acs_url),
        allowed_skew_seconds: 0,
        allow_sha1: config.idp.allow_legacy_sha1,
    };
    let key = config.idp.certificate.public_key();
    match decrypted {
        Some(decrypted) => inspect_decrypted_response(xml, decrypt::parts(decrypted), key, now, &expected),
        None => inspect_response(xml, key, now, &expected),
    }
    .map_err(|e| PreviewError::Output(e.to_string()))
}

/// Returns the NameID as the SP reads it. An Assertion encrypted for the SP can be read back
/// only after decryption, so without the SP's key the NameID is returned as it was built.
fn sent_name_id(report: &ResponseReport, issued: &IssuedResponse) -> Option<SpNameId> {
    if report.encrypted && !report.decrypted {
        return Some(SpNameId { value: issued.name_id.clone(), format: Some(issued.name_id_format.uri().to_owned()) });
    }
    let value = report.name_id.clone()?;
    Some(SpNameId { value, format: report.name_id_format.clone() })
}

/// Returns the attributes as the SP reads them, or as built before encryption (see
/// [`sent_name_id`]).
fn sent_attributes(report: &ResponseReport, issued: &IssuedResponse, app: &AppConfig) -> Vec<SpAttribute> {
    if !report.encrypted || report.decrypted {
        return report.attributes.iter().cloned().map(SpAttribute::from).collect();
    }
    issued
        .attributes
        .iter()
        .map(|(name, values)| SpAttribute {
            name: name.clone(),
            name_format: app.attributes.iter().find(|a| &a.name == name).map(|a| a.name_format.uri().to_owned()),
            values: values.clone(),
        })
        .collect()
}

/// Parameters of a new signing key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// RSA modulus size in bits. Default 2048.
    #[serde(default = "default_bits")]
    pub bits: usize,
    /// The certificate's subject common name. Default `edgeidp signing`.
    #[serde(default = "default_common_name")]
    pub common_name: String,
    /// The certificate's notBefore, RFC 3339.
    pub now: String,
    /// Validity in days. Default 730.
    #[serde(default = "default_days")]
    pub days: u32,
}

fn default_bits() -> usize {
    2048
}

fn default_common_name() -> String {
    "edgeidp signing".to_owned()
}

fn default_days() -> u32 {
    730
}

/// A new key pair, both PEM.
#[derive(Debug, Serialize)]
pub struct NewKey {
    pub private_key_pem: String,
    pub certificate_pem: String,
    pub not_after: String,
}

/// Generates an RSA key and self-signed certificate with the platform's random source.
pub fn generate_key(request: &KeyRequest, platform: &mut dyn Platform) -> Result<NewKey, PreviewError> {
    let now = parse_time("now", &request.now)?;
    let generated = keys::generate_self_signed(request.bits, &request.common_name, now, request.days, platform.rng())
        .map_err(|e| PreviewError::Key(e.to_string()))?;
    let certificate = X509::from_pem(&generated.certificate_pem).map_err(|e| PreviewError::Key(e.to_string()))?;
    Ok(NewKey {
        private_key_pem: generated.private_key_pem,
        certificate_pem: generated.certificate_pem,
        not_after: format_instant(certificate.not_after()),
    })
}

/// The expiry and key size of a pasted certificate.
#[derive(Debug, Serialize)]
pub struct CertificateInfo {
    pub not_after: String,
    pub modulus_bits: usize,
}

/// Describes a PEM certificate, or returns why the IdP cannot use it.
pub fn certificate_info(pem: &str) -> Result<CertificateInfo, PreviewError> {
    use rsa::traits::PublicKeyParts;
    let certificate = X509::from_pem(pem).map_err(|e| PreviewError::Key(format!("certificate: {e}")))?;
    Ok(CertificateInfo {
        not_after: format_instant(certificate.not_after()),
        modulus_bits: certificate.public_key().n().bits(),
    })
}

fn parse_time(field: &'static str, value: &str) -> Result<OffsetDateTime, PreviewError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|e| PreviewError::Time {
        field,
        value: value.to_owned(),
        cause: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
