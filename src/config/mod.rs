//! The filter configuration: JSON parsed once into typed, validated structs.
//!
//! [`Config::from_json`] is the only way in. It rejects the first invalid value with a
//! [`ConfigError`] naming its JSON path and the fix, and returns warnings (an expired
//! certificate, say) that the front end logs. Requests never validate configuration again.

mod app;
mod encryption;
mod error;
mod idp;
pub mod raw;

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

pub use app::{AppConfig, AttributeConfig, MissingValue, NameFormat, NameIdConfig, NameIdFormat, SignWhat};
pub use app::MAX_RELAY_STATE_BYTES;
pub use encryption::EncryptionConfig;
pub use error::{index, join, ConfigError, ConfigErrorKind, ConfigWarning};
pub use idp::IdpConfig;

/// Default path prefix of the SAML endpoints.
pub const DEFAULT_SAML_PREFIX: &str = "/saml";

/// A validated configuration.
#[derive(Clone)]
pub struct Config {
    pub idp: Arc<IdpConfig>,
    /// Path prefix of the SAML endpoints, starting with `/` and without a trailing `/`.
    pub saml_prefix: String,
    pub apps: BTreeMap<String, AppConfig>,
    /// The `identity` section as given; the filter validates it.
    pub identity: Option<serde_json::Value>,
    /// The `scim` section as given; the SCIM gate validates it.
    pub scim: Option<serde_json::Value>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("idp.entity_id", &self.idp.entity_id)
            .field("saml_prefix", &self.saml_prefix)
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Parses and validates a JSON configuration. `now` decides certificate-expiry warnings.
    pub fn from_json(json: &[u8], now: OffsetDateTime) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let raw = parse_raw(json)?;
        let mut warnings = Vec::new();
        let idp = IdpConfig::validate(raw.idp, now, &mut warnings)?;
        let saml_prefix = validate_prefix(raw.saml_prefix.as_deref())?;

        let mut apps = BTreeMap::new();
        for (name, raw_app) in raw.apps {
            let path = join("apps", &name);
            validate_app_name(&name, &path)?;
            let app = AppConfig::validate(&name, raw_app, &idp, &path, now, &mut warnings)?;
            apps.insert(name, app);
        }

        let config = Config { idp: Arc::new(idp), saml_prefix, apps, identity: raw.identity, scim: raw.scim };
        Ok((config, warnings))
    }

    /// Returns the app named `name`.
    pub fn app(&self, name: &str) -> Option<&AppConfig> {
        self.apps.get(name)
    }

    /// The SSO endpoint URL of `app`, as published in metadata and expected as Destination.
    pub fn sso_url(&self, app: &str) -> String {
        format!("{}{}/{}/sso", self.idp.base_url, self.saml_prefix, app)
    }

    /// The metadata URL.
    pub fn metadata_url(&self) -> String {
        format!("{}{}/metadata", self.idp.base_url, self.saml_prefix)
    }
}

fn parse_raw(json: &[u8]) -> Result<raw::RawConfig, ConfigError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    match serde_path_to_error::deserialize::<_, raw::RawConfig>(&mut deserializer) {
        Ok(raw) => Ok(raw),
        Err(error) => {
            let path = error.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let message = error.into_inner().to_string();
            // serde reports a missing field at its parent object; name the field itself.
            let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
            let path = match missing {
                Some(field) => join(&path, field),
                None => path,
            };
            Err(ConfigError::syntax(path, message))
        }
    }
}

fn validate_prefix(prefix: Option<&str>) -> Result<String, ConfigError> {
    let prefix = prefix.unwrap_or(DEFAULT_SAML_PREFIX);
    let valid = prefix.starts_with('/')
        && prefix.len() > 1
        && !prefix.ends_with('/')
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
    if valid {
        Ok(prefix.to_owned())
    } else {
        Err(ConfigError::invalid(
            "saml_prefix",
            prefix,
            "use a path such as \"/saml\": starting with \"/\", not ending with one, letters, digits and -_.~ only",
        ))
    }
}

fn validate_app_name(name: &str, path: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            path,
            name,
            "app names appear in URLs; use 1 to 64 letters, digits, '-' or '_'",
        ))
    }
}

/// Parses an absolute URL, requiring `https` unless `allow_http_loopback` and the host is a
/// loopback address (the demo runs on 127.0.0.1 without TLS).
pub(crate) fn parse_url(value: &str, path: &str, allow_http_loopback: bool) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|e| ConfigError::invalid(path, value, format!("not an absolute https URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1") | Some("localhost") | Some("[::1]"));
    let scheme_ok = url.scheme() == "https" || (allow_http_loopback && loopback && url.scheme() == "http");
    if !scheme_ok {
        let reason = if allow_http_loopback {
            "not an absolute https URL; use https (http is allowed only for 127.0.0.1 and localhost)"
        } else {
            "not an absolute https URL; use https"
        };
        return Err(ConfigError::invalid(path, value, reason));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid(path, value, "remove the fragment or user information from the URL"));
    }
    Ok(url)
}
