//! The plugin configuration as the filter holds it: the core configuration, the identity
//! sources, and the metadata documents built once at load time.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::identity::IdentityConfig;
use crate::config::{Config, ConfigError, ConfigWarning};
use crate::saml::metadata::{build_app_metadata, build_metadata};
use crate::scim::ScimGate;

/// A validated plugin configuration, shared by every request on one worker.
pub struct FilterConfig {
    pub saml: Config,
    pub identity: IdentityConfig,
    /// `GET {prefix}/metadata`, built once so every request gets the same bytes.
    pub metadata: String,
    /// `GET {prefix}/{app}/metadata`, by app name.
    pub app_metadata: BTreeMap<String, String>,
    /// The SCIM bearer-token gate, when the configuration has a `scim` section.
    pub scim: Option<ScimGate>,
}

impl FilterConfig {
    /// Parses and validates the plugin configuration. `now` is the load time: it decides
    /// certificate-expiry warnings and metadata `validUntil`.
    pub fn from_json(json: &[u8], now: OffsetDateTime) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        let (saml, mut warnings) = Config::from_json(json, now)?;
        let identity = IdentityConfig::from_json(saml.identity.as_ref())?;
        let (scim, scim_warnings) = ScimGate::for_config(&saml, now)?;
        warnings.extend(scim_warnings);
        let metadata = build_metadata(&saml, now);
        let app_metadata =
            saml.apps.keys().map(|name| (name.clone(), build_app_metadata(&saml, name, now))).collect();
        Ok((Self { saml, identity, metadata, app_metadata, scim }, warnings))
    }
}
