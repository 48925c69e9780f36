//! One `apps.NAME` section: a service provider and what to send it.

use time::OffsetDateTime;

use super::idp::{digest_algorithm, load_certificate, seconds, signature_algorithm};
use super::raw::{RawApp, RawAttribute};
use super::{index, join, parse_url, ConfigError, ConfigWarning, EncryptionConfig, IdpConfig};
use crate::saml::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::saml::expression::Expression;
use crate::saml::keys::X509;

pub const DEFAULT_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// RelayState longer than this is rejected: the SAML bindings cap it at 80 bytes, and
/// although many SPs send longer values, several kilobytes would only bloat the form.
pub const MAX_RELAY_STATE_BYTES: usize = 4096;

/// Which elements carry an enveloped signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignWhat {
    Assertion,
    Response,
    /// The Assertion first, then the Response that contains it.
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    EmailAddress,
    Unspecified,
    Persistent,
    Transient,
}

impl NameIdFormat {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "emailAddress" => Some(Self::EmailAddress),
            "unspecified" => Some(Self::Unspecified),
            "persistent" => Some(Self::Persistent),
            "transient" => Some(Self::Transient),
            _ => Self::from_uri(name),
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.uri() == uri)
    }

    pub const ALL: [NameIdFormat; 4] = [Self::EmailAddress, Self::Unspecified, Self::Persistent, Self::Transient];

    pub fn uri(self) -> &'static str {
        match self {
            Self::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            Self::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Self::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::EmailAddress => "emailAddress",
            Self::Unspecified => "unspecified",
            Self::Persistent => "persistent",
            Self::Transient => "transient",
        }
    }
}

/// The attribute NameFormat. Shibboleth matches it exactly, so it is whatever the app says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameFormat {
    Unspecified,
    Basic,
    Uri,
}

impl NameFormat {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "unspecified" => Some(Self::Unspecified),
            "basic" => Some(Self::Basic),
            "uri" => Some(Self::Uri),
            _ => [Self::Unspecified, Self::Basic, Self::Uri].into_iter().find(|f| f.uri() == name),
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::Unspecified => "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
            Self::Basic => "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            Self::Uri => "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Basic => "basic",
            Self::Uri => "uri",
        }
    }
}

/// What to do when an expression evaluates to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingValue {
    /// Leave the attribute out (Okta's behaviour).
    Omit,
    /// Refuse to issue the Response.
    Error,
}

#[derive(Debug, Clone)]
pub struct NameIdConfig {
    pub format: NameIdFormat,
    pub value: Expression,
}

#[derive(Debug, Clone)]
pub struct AttributeConfig {
    pub name: String,
    pub name_format: NameFormat,
    pub value: Expression,
}

/// A validated `apps.NAME` section.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub name: String,
    pub sp_entity_id: String,
    pub acs_urls: Vec<String>,
    pub default_acs_url: String,
    pub default_relay_state: Option<String>,
    pub allow_relay_state_override: bool,
    pub sign: SignWhat,
    pub name_id: NameIdConfig,
    pub authn_context_class_ref: String,
    pub attributes: Vec<AttributeConfig>,
    pub missing_value: MissingValue,
    pub assertion_lifetime_seconds: u64,
    pub signature_algorithm: SignatureAlgorithm,
    pub digest_algorithm: DigestAlgorithm,
    pub authn_requests_signed: bool,
    pub sp_certificate: Option<X509>,
    pub login_url: Option<String>,
    /// XML Encryption of the Assertion; `None` sends it in the clear.
    pub encryption: Option<EncryptionConfig>,
}

impl AppConfig {
    pub(super) fn validate(
        name: &str,
        raw: RawApp,
        idp: &IdpConfig,
        path: &str,
        now: OffsetDateTime,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<Self, ConfigError> {
        if raw.sp_entity_id.trim().is_empty() {
            return Err(ConfigError::missing(join(path, "sp_entity_id"), "the SP's entity ID (its Audience)"));
        }

        let acs_urls = validate_acs_urls(&raw.acs_urls, path)?;
        let default_acs_url = match raw.default_acs_url.clone() {
            None => acs_urls[0].clone(),
            Some(url) if acs_urls.contains(&url) => url,
            Some(url) => {
                return Err(ConfigError::invalid(
                    join(path, "default_acs_url"),
                    url,
                    "the default ACS URL must also be listed in acs_urls",
                ))
            }
        };

        if let Some(relay_state) = &raw.default_relay_state {
            if relay_state.len() > MAX_RELAY_STATE_BYTES {
                return Err(ConfigError::invalid(
                    join(path, "default_relay_state"),
                    relay_state,
                    format!("RelayState is limited to {MAX_RELAY_STATE_BYTES} bytes"),
                ));
            }
        }

        let sign = match raw.sign.as_deref() {
            None | Some("both") => SignWhat::Both,
            Some("assertion") => SignWhat::Assertion,
            Some("response") => SignWhat::Response,
            Some(other) => {
                return Err(ConfigError::invalid(join(path, "sign"), other, "use \"assertion\", \"response\" or \"both\""))
            }
        };

        let name_id = validate_name_id(&raw, path)?;
        let attributes = raw
            .attributes
            .iter()
            .enumerate()
            .map(|(i, attribute)| validate_attribute(attribute, &index(&join(path, "attributes"), i)))
            .collect::<Result<Vec<_>, _>>()?;
        check_duplicate_attributes(&attributes, path)?;

        let missing_value = match raw.missing_value.as_deref() {
            None | Some("omit") => MissingValue::Omit,
            Some("error") => MissingValue::Error,
            Some(other) => {
                return Err(ConfigError::invalid(join(path, "missing_value"), other, "use \"omit\" or \"error\""))
            }
        };

        let authn_context_class_ref = raw.authn_context_class_ref.unwrap_or_else(|| DEFAULT_AUTHN_CONTEXT.to_owned());
        if authn_context_class_ref.trim().is_empty() {
            return Err(ConfigError::missing(
                join(path, "authn_context_class_ref"),
                "a URI such as urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            ));
        }

        let legacy = idp.allow_legacy_sha1;
        let signature_algorithm =
            signature_algorithm(raw.signature_algorithm.as_deref(), &join(path, "signature_algorithm"), legacy)?
                .unwrap_or(idp.signature_algorithm);
        let digest_algorithm =
            digest_algorithm(raw.digest_algorithm.as_deref(), &join(path, "digest_algorithm"), legacy)?
                .unwrap_or(idp.digest_algorithm);
        let assertion_lifetime_seconds = seconds(
            raw.assertion_lifetime_seconds,
            &join(path, "assertion_lifetime_seconds"),
            idp.assertion_lifetime_seconds,
            1,
        )?;

        let sp_certificate = match &raw.sp_certificate_pem {
            Some(pem) => Some(load_certificate(pem, &join(path, "sp_certificate_pem"), now, warnings)?),
            None => None,
        };
        if raw.authn_requests_signed && sp_certificate.is_none() {
            return Err(ConfigError::missing(
                join(path, "sp_certificate_pem"),
                "the SP's signing certificate (PEM), because authn_requests_signed is true",
            ));
        }

        let login_url = match &raw.login_url {
            Some(url) => Some(parse_url(url, &join(path, "login_url"), true)?.to_string()),
            None => None,
        };

        let encryption = match raw.encryption {
            Some(encryption) => Some(EncryptionConfig::validate(encryption, &join(path, "encryption"), now, warnings)?),
            None => None,
        };

        Ok(Self {
            name: name.to_owned(),
            sp_entity_id: raw.sp_entity_id,
            acs_urls,
            default_acs_url,
            default_relay_state: raw.default_relay_state,
            allow_relay_state_override: raw.allow_relay_state_override,
            sign,
            name_id,
            authn_context_class_ref,
            attributes,
            missing_value,
            assertion_lifetime_seconds,
            signature_algorithm,
            digest_algorithm,
            authn_requests_signed: raw.authn_requests_signed,
            sp_certificate,
            login_url,
            encryption,
        })
    }

    /// Returns whether `url` is one of the app's ACS URLs (exact string comparison).
    pub fn allows_acs_url(&self, url: &str) -> bool {
        self.acs_urls.iter().any(|allowed| allowed == url)
    }
}

fn validate_acs_urls(urls: &[String], path: &str) -> Result<Vec<String>, ConfigError> {
    let list_path = join(path, "acs_urls");
    if urls.is_empty() {
        return Err(ConfigError::missing(list_path, "a list with at least one https ACS URL of the SP"));
    }
    for (i, url) in urls.iter().enumerate() {
        parse_url(url, &index(&list_path, i), true)?;
    }
    Ok(urls.to_vec())
}

fn validate_name_id(raw: &RawApp, path: &str) -> Result<NameIdConfig, ConfigError> {
    let name_id_path = join(path, "name_id");
    let (format, value) = match &raw.name_id {
        Some(n) => (n.format.as_deref(), n.value.as_deref()),
        None => (None, None),
    };
    let format = match format {
        None => NameIdFormat::EmailAddress,
        Some(name) => NameIdFormat::from_name(name).ok_or_else(|| {
            ConfigError::invalid(
                join(&name_id_path, "format"),
                name,
                "use \"emailAddress\", \"unspecified\", \"persistent\" or \"transient\"",
            )
        })?,
    };
    let value_path = join(&name_id_path, "value");
    let value = Expression::parse(value.unwrap_or("user.email"))
        .map_err(|e| ConfigError::invalid(value_path, value.unwrap_or_default(), e.to_string()))?;
    Ok(NameIdConfig { format, value })
}

fn validate_attribute(raw: &RawAttribute, path: &str) -> Result<AttributeConfig, ConfigError> {
    if raw.name.trim().is_empty() {
        return Err(ConfigError::missing(join(path, "name"), "the attribute name the SP expects, such as \"email\""));
    }
    let name_format = match raw.name_format.as_deref() {
        None => NameFormat::Unspecified,
        Some(name) => NameFormat::from_name(name).ok_or_else(|| {
            ConfigError::invalid(join(path, "name_format"), name, "use \"unspecified\", \"basic\" or \"uri\"")
        })?,
    };
    let value = Expression::parse(&raw.value)
        .map_err(|e| ConfigError::invalid(join(path, "value"), &raw.value, e.to_string()))?;
    Ok(AttributeConfig { name: raw.name.clone(), name_format, value })
}

fn check_duplicate_attributes(attributes: &[AttributeConfig], path: &str) -> Result<(), ConfigError> {
    for (i, attribute) in attributes.iter().enumerate() {
        let earlier = attributes[..i]
            .iter()
            .any(|a| a.name == attribute.name && a.name_format == attribute.name_format);
        if earlier {
            return Err(ConfigError::invalid(
                join(&index(&join(path, "attributes"), i), "name"),
                &attribute.name,
                "this attribute is already defined; merge the two into one expression",
            ));
        }
    }
    Ok(())
}
