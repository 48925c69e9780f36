//! The `identity` section and the user profile it yields: who is logging in, taken only from
//! what Envoy's own authentication established.
//!
//! Two sources exist, tried in this order:
//!
//! 1. `jwt_authn`: the verified JWT payload that Envoy's `jwt_authn` filter stores in dynamic
//!    metadata (`payload_in_metadata` on the provider). Dynamic metadata is written only by
//!    filters, never by the client, and `jwt_authn` writes the payload only after the
//!    signature, issuer, audience and expiry checks pass. The filter deliberately does not
//!    read `forward_payload_header`: `jwt_authn` replaces that header only on routes where one
//!    of its rules matches, so elsewhere a client-sent copy would pass.
//! 2. `ext_authz_headers`: request headers set by an `ext_authz` service. These are safe only
//!    when the Envoy configuration removes them from client requests before `ext_authz` runs
//!    (`envoy/production.yaml` shows the `header_mutation` filter that does it).
//!
//! Without an `identity` section the filter reads `jwt_authn` with the defaults below. With
//! one, only the sources it names are read, and it must name at least one.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::config::{join, ConfigError};
use crate::saml::expression::Profile;

/// Dynamic metadata namespace of Envoy's `jwt_authn` filter.
pub const DEFAULT_METADATA_NAMESPACE: &str = "envoy.filters.http.jwt_authn";
/// Default `payload_in_metadata` key, which must match the `jwt_authn` provider's setting.
pub const DEFAULT_PAYLOAD_IN_METADATA: &str = "jwt_payload";
/// Default claim map, as (profile key, JWT claim): OpenID Connect standard claims, and
/// `title` for the job title, which OpenID Connect does not define.
pub const DEFAULT_CLAIMS: [(&str, &str); 5] = [
    ("email", "email"),
    ("firstName", "given_name"),
    ("lastName", "family_name"),
    ("login", "preferred_username"),
    ("title", "title"),
];
/// Default query parameter that carries the original URL to an app's `login_url`.
pub const DEFAULT_RETURN_TO_PARAMETER: &str = "return_to";
/// Claims read, in this order, for the assertion's AuthnInstant (seconds since the epoch).
const AUTHN_INSTANT_CLAIMS: [&str; 2] = ["auth_time", "iat"];

/// The validated `identity` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    pub jwt_authn: Option<JwtAuthnSource>,
    pub ext_authz_headers: Option<HeaderSource>,
    /// Query parameter appended to an app's `login_url` with the original URL.
    pub return_to_parameter: String,
}

/// The location of the verified payload in `jwt_authn`'s dynamic metadata, and the claims
/// that fill the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthnSource {
    pub metadata_namespace: String,
    pub payload_in_metadata: String,
    /// (profile key, claim name) pairs, sorted by profile key.
    pub claims: Vec<(String, String)>,
}

/// Request headers that an `ext_authz` service sets, as (profile key, header name) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSource {
    pub headers: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    /// Default: absent, which turns the source off (see the module documentation).
    #[serde(default)]
    jwt_authn: Option<RawJwtAuthn>,
    /// Profile key to header name. Default: absent (source off).
    #[serde(default)]
    ext_authz_headers: Option<BTreeMap<String, String>>,
    /// Default `return_to`.
    #[serde(default)]
    return_to_parameter: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawJwtAuthn {
    /// Default `envoy.filters.http.jwt_authn`.
    #[serde(default)]
    metadata_namespace: Option<String>,
    /// Default `jwt_payload`.
    #[serde(default)]
    payload_in_metadata: Option<String>,
    /// Profile key to claim name, merged over [`DEFAULT_CLAIMS`]; `null` removes a default.
    #[serde(default)]
    claims: BTreeMap<String, Option<String>>,
}

impl IdentityConfig {
    /// Validates the `identity` section; `None` gives the `jwt_authn` defaults.
    pub fn from_json(section: Option<&serde_json::Value>) -> Result<Self, ConfigError> {
        let raw = match section {
            None => RawIdentity {
                jwt_authn: Some(RawJwtAuthn::default()),
                ext_authz_headers: None,
                return_to_parameter: None,
            },
            Some(value) => parse_raw(value)?,
        };

        let jwt_authn = raw.jwt_authn.map(validate_jwt_authn).transpose()?;
        let ext_authz_headers = raw.ext_authz_headers.map(validate_headers).transpose()?;
        if jwt_authn.is_none() && ext_authz_headers.is_none() {
            return Err(ConfigError::missing(
                "identity",
                "at least one source: \"jwt_authn\": {} or \"ext_authz_headers\": {\"email\": \"x-...\"}",
            ));
        }

        let return_to_parameter = raw.return_to_parameter.unwrap_or_else(|| DEFAULT_RETURN_TO_PARAMETER.to_owned());
        let valid = !return_to_parameter.is_empty()
            && return_to_parameter.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid {
            return Err(ConfigError::invalid(
                "identity.return_to_parameter",
                return_to_parameter,
                "use a query parameter name of letters, digits and -_. only, such as \"return_to\"",
            ));
        }

        Ok(Self { jwt_authn, ext_authz_headers, return_to_parameter })
    }
}

fn parse_raw(value: &serde_json::Value) -> Result<RawIdentity, ConfigError> {
    serde_path_to_error::deserialize::<_, RawIdentity>(value).map_err(|error| {
        let inner = error.path().to_string();
        let path = if inner == "." { "identity".to_owned() } else { join("identity", &inner) };
        ConfigError::syntax(path, error.into_inner().to_string())
    })
}

fn validate_jwt_authn(raw: RawJwtAuthn) -> Result<JwtAuthnSource, ConfigError> {
    let metadata_namespace = non_empty(
        raw.metadata_namespace,
        DEFAULT_METADATA_NAMESPACE,
        "identity.jwt_authn.metadata_namespace",
    )?;
    let payload_in_metadata = non_empty(
        raw.payload_in_metadata,
        DEFAULT_PAYLOAD_IN_METADATA,
        "identity.jwt_authn.payload_in_metadata",
    )?;

    let mut claims: BTreeMap<String, String> =
        DEFAULT_CLAIMS.iter().map(|(key, claim)| ((*key).to_owned(), (*claim).to_owned())).collect();
    for (key, claim) in raw.claims {
        let path = join("identity.jwt_authn.claims", &key);
        check_profile_key(&key, &path)?;
        match claim {
            None => {
                claims.remove(&key);
            }
            Some(claim) if claim.trim().is_empty() => {
                return Err(ConfigError::missing(path, "a claim name such as \"email\", or null to drop the key"));
            }
            Some(claim) => {
                claims.insert(key, claim);
            }
        }
    }
    if claims.is_empty() {
        return Err(ConfigError::missing(
            "identity.jwt_authn.claims",
            "at least one profile key mapped to a claim; every default was removed",
        ));
    }

    Ok(JwtAuthnSource { metadata_namespace, payload_in_metadata, claims: claims.into_iter().collect() })
}

fn validate_headers(raw: BTreeMap<String, String>) -> Result<HeaderSource, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::missing(
            "identity.ext_authz_headers",
            "at least one profile key mapped to a header, such as {\"email\": \"x-auth-email\"}",
        ));
    }
    for (key, header) in &raw {
        let path = join("identity.ext_authz_headers", key);
        check_profile_key(key, &path)?;
        let valid = !header.is_empty()
            && header.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !valid {
            return Err(ConfigError::invalid(
                path,
                header,
                "use a lowercase header name of letters, digits and -_. only, such as \"x-auth-email\"",
            ));
        }
    }
    Ok(HeaderSource { headers: raw.into_iter().collect() })
}

fn non_empty(value: Option<String>, default: &str, path: &str) -> Result<String, ConfigError> {
    match value {
        None => Ok(default.to_owned()),
        Some(value) if value.trim().is_empty() => Err(ConfigError::invalid(
            path,
            value,
            format!("use a non-empty name; the default is {default:?}"),
        )),
        Some(value) => Ok(value),
    }
}

fn check_profile_key(key: &str, path: &str) -> Result<(), ConfigError> {
    let valid = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            path,
            key,
            "profile keys are read by expressions as user.KEY; use 1 to 64 letters, digits or '_'",
        ))
    }
}

/// The result of reading one Envoy property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyRead {
    Value(Vec<u8>),
    Absent,
    /// Present, but Envoy cannot serialize it: Envoy 1.40 returns `SerializationFailure` for
    /// a JSON null in dynamic metadata, and for a whole map that contains one.
    Unserializable,
}

impl PropertyRead {
    fn value(self) -> Option<Vec<u8>> {
        match self {
            Self::Value(bytes) => Some(bytes),
            Self::Absent | Self::Unserializable => None,
        }
    }
}

/// Host access for identity extraction: Envoy properties and request headers.
pub trait IdentityHost {
    /// Reads the property at `path` (`get_property` in proxy-wasm).
    fn property(&self, path: &[&str]) -> PropertyRead;
    /// Returns the request header `name` (lowercase), `None` when absent.
    fn request_header(&self, name: &str) -> Option<String>;
}

/// Which source an [`Identity`] came from, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySourceKind {
    JwtAuthn,
    ExtAuthzHeaders,
}

impl IdentitySourceKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::JwtAuthn => "jwt_authn",
            Self::ExtAuthzHeaders => "ext_authz_headers",
        }
    }
}

/// The authenticated user: the profile that expressions read, and when they authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub profile: Profile,
    pub authn_instant: Option<OffsetDateTime>,
    pub source: IdentitySourceKind,
}

/// Reads the user's identity from the configured sources, `jwt_authn` first. Returns `None`
/// when no source has established one for this request.
pub fn extract(config: &IdentityConfig, host: &dyn IdentityHost) -> Option<Identity> {
    if let Some(source) = &config.jwt_authn {
        if let Some(identity) = from_jwt_authn(source, host) {
            return Some(identity);
        }
    }
    config.ext_authz_headers.as_ref().and_then(|source| from_headers(source, host))
}

fn from_jwt_authn(source: &JwtAuthnSource, host: &dyn IdentityHost) -> Option<Identity> {
    let base = ["metadata", "filter_metadata", source.metadata_namespace.as_str(), source.payload_in_metadata.as_str()];
    // A payload with a null claim anywhere cannot be read whole, but it is still the verified
    // payload, and its other claims read one by one.
    if host.property(&base) == PropertyRead::Absent {
        return None;
    }

    let claim = |name: &str| {
        let mut path = base.to_vec();
        path.push(name);
        host.property(&path).value()
    };

    let mut profile = Profile::new();
    for (key, name) in &source.claims {
        if let Some(value) = claim(name).and_then(string_claim) {
            profile.insert(key.clone(), serde_json::Value::String(value));
        }
    }
    let authn_instant = AUTHN_INSTANT_CLAIMS.iter().find_map(|name| claim(name).and_then(|bytes| epoch_claim(&bytes)));
    Some(Identity { profile, authn_instant, source: IdentitySourceKind::JwtAuthn })
}

fn from_headers(source: &HeaderSource, host: &dyn IdentityHost) -> Option<Identity> {
    let mut profile = Profile::new();
    for (key, header) in &source.headers {
        if let Some(value) = host.request_header(header).filter(|v| !v.is_empty()) {
            profile.insert(key.clone(), serde_json::Value::String(value));
        }
    }
    if profile.is_empty() {
        return None;
    }
    Some(Identity { profile, authn_instant: None, source: IdentitySourceKind::ExtAuthzHeaders })
}

/// Decodes a string claim. Envoy returns a string claim as its UTF-8 bytes, a number as an
/// 8-byte little-endian double, and a list or object in a binary pairs encoding, without
/// saying which. Control characters (other than tab, LF, CR) or invalid UTF-8 mean the claim
/// was not a string, so it is left out of the profile.
fn string_claim(bytes: Vec<u8>) -> Option<String> {
    let value = String::from_utf8(bytes).ok()?;
    let textual = value.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    (textual && !value.is_empty()).then_some(value)
}

/// Decodes a numeric claim (seconds since the epoch) from Envoy's 8-byte little-endian double.
fn epoch_claim(bytes: &[u8]) -> Option<OffsetDateTime> {
    let bytes: [u8; 8] = bytes.try_into().ok()?;
    let seconds = f64::from_le_bytes(bytes);
    // Rejects NaN, negatives and times past the year 5000, which no real token carries.
    if !(0.0..=95_617_584_000.0).contains(&seconds) {
        return None;
    }
    OffsetDateTime::from_unix_timestamp(seconds.trunc() as i64).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn config(value: serde_json::Value) -> Result<IdentityConfig, ConfigError> {
        IdentityConfig::from_json(Some(&value))
    }

    /// Marks a property that Envoy cannot serialize.
    const NULL: &[u8] = b"(null)";

    struct FakeHost {
        properties: HashMap<Vec<String>, Vec<u8>>,
        headers: HashMap<String, String>,
    }

    impl FakeHost {
        fn new() -> Self {
            Self { properties: HashMap::new(), headers: HashMap::new() }
        }

        /// Stores a payload with `claims`. A claim whose value is [`NULL`] reads as Envoy reads
        /// a JSON null, and makes the whole payload unserializable, as in Envoy.
        fn with_payload(mut self, claims: &[(&str, &[u8])]) -> Self {
            let base = ["metadata", "filter_metadata", DEFAULT_METADATA_NAMESPACE, DEFAULT_PAYLOAD_IN_METADATA];
            let whole = if claims.iter().any(|(_, value)| *value == NULL) { NULL } else { b"(pairs)" };
            self.properties.insert(base.iter().map(|s| s.to_string()).collect(), whole.to_vec());
            for (name, value) in claims {
                let mut path: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                path.push((*name).to_owned());
                self.properties.insert(path, value.to_vec());
            }
            self
        }
    }

    impl IdentityHost for FakeHost {
        fn property(&self, path: &[&str]) -> PropertyRead {
            let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            match self.properties.get(&key) {
                Some(value) if value == NULL => PropertyRead::Unserializable,
                Some(value) => PropertyRead::Value(value.clone()),
                None => PropertyRead::Absent,
            }
        }

        fn request_header(&self, name: &str) -> Option<String> {
            self.headers.get(name).cloned()
        }
    }

    #[test]
    fn absent_section_reads_jwt_authn_defaults() {
        let identity = IdentityConfig::from_json(None).expect("defaults are valid");
        let jwt = identity.jwt_authn.expect("jwt_authn is on by default");
        assert_eq!(jwt.metadata_namespace, DEFAULT_METADATA_NAMESPACE);
        assert_eq!(jwt.payload_in_metadata, DEFAULT_PAYLOAD_IN_METADATA);
        assert_eq!(jwt.claims.len(), DEFAULT_CLAIMS.len());
        assert!(identity.ext_authz_headers.is_none());
        assert_eq!(identity.return_to_parameter, DEFAULT_RETURN_TO_PARAMETER);
    }

    #[test]
    fn claims_merge_over_defaults() {
        let identity = config(json!({"jwt_authn": {"claims": {"title": "job_title", "login": null, "sub": "sub"}}}))
            .expect("valid");
        let claims = identity.jwt_authn.expect("jwt_authn").claims;
        assert!(claims.contains(&("title".to_owned(), "job_title".to_owned())));
        assert!(claims.contains(&("sub".to_owned(), "sub".to_owned())));
        assert!(claims.contains(&("email".to_owned(), "email".to_owned())));
        assert!(!claims.iter().any(|(key, _)| key == "login"), "null removes the default");
    }

    #[test]
    fn section_without_sources_rejected() {
        let error = config(json!({})).expect_err("no source");
        assert_eq!(error.path, "identity");
    }

    #[test]
    fn unknown_field_names_its_path() {
        let error = config(json!({"jwt_authn": {"claim": {}}})).expect_err("typo");
        assert_eq!(error.path, "identity.jwt_authn.claim");
        assert!(error.to_string().contains("unknown field"), "{error}");
    }

    #[test]
    fn uppercase_header_rejected() {
        let error = config(json!({"ext_authz_headers": {"email": "X-Email"}})).expect_err("uppercase");
        assert_eq!(error.path, "identity.ext_authz_headers.email");
    }

    #[test]
    fn empty_claim_name_rejected() {
        let error = config(json!({"jwt_authn": {"claims": {"title": " "}}})).expect_err("empty claim");
        assert_eq!(error.path, "identity.jwt_authn.claims.title");
    }

    #[test]
    fn bad_profile_key_rejected() {
        let error = config(json!({"jwt_authn": {"claims": {"first name": "given_name"}}})).expect_err("space");
        assert_eq!(error.path, "identity.jwt_authn.claims.first name");
    }

    #[test]
    fn bad_return_to_parameter_rejected() {
        let error = config(json!({"jwt_authn": {}, "return_to_parameter": "a&b"})).expect_err("ampersand");
        assert_eq!(error.path, "identity.return_to_parameter");
    }

    #[test]
    fn jwt_claims_fill_profile() {
        let config = IdentityConfig::from_json(None).expect("defaults");
        let iat = 1_700_000_000f64.to_le_bytes();
        let host = FakeHost::new().with_payload(&[
            ("email", b"dana@example.test"),
            ("given_name", b"Dana"),
            ("preferred_username", b"dreyes"),
            ("iat", &iat),
        ]);
        let identity = extract(&config, &host).expect("payload present");
        assert_eq!(identity.profile.get("email"), Some(&json!("dana@example.test")));
        assert_eq!(identity.profile.get("firstName"), Some(&json!("Dana")));
        assert_eq!(identity.profile.get("login"), Some(&json!("dreyes")));
        assert_eq!(identity.profile.get("lastName"), None);
        assert_eq!(identity.authn_instant.map(|t| t.unix_timestamp()), Some(1_700_000_000));
        assert_eq!(identity.source, IdentitySourceKind::JwtAuthn);
    }

    /// Envoy cannot return a payload that contains a null claim as a whole, but the payload is
    /// there and its other claims read one by one.
    #[test]
    fn null_claim_keeps_other_claims() {
        let config = IdentityConfig::from_json(None).expect("defaults");
        let host = FakeHost::new().with_payload(&[("email", b"dana@example.test"), ("title", NULL)]);
        let identity = extract(&config, &host).expect("the payload is present");
        assert_eq!(identity.profile.get("email"), Some(&json!("dana@example.test")));
        assert_eq!(identity.profile.get("title"), None, "the null claim is left out");
    }

    #[test]
    fn no_payload_means_no_identity() {
        let config = IdentityConfig::from_json(None).expect("defaults");
        assert_eq!(extract(&config, &FakeHost::new()), None);
    }

    #[test]
    fn non_string_claims_left_out() {
        let config = IdentityConfig::from_json(None).expect("defaults");
        let number = 42f64.to_le_bytes();
        let pairs = [1u8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, b'0', 0, b'a', 0];
        let host = FakeHost::new().with_payload(&[("email", &number), ("title", &pairs)]);
        let identity = extract(&config, &host).expect("payload present");
        assert!(identity.profile.is_empty(), "{:?}", identity.profile);
    }

    #[test]
    fn headers_ignored_unless_configured() {
        let config = IdentityConfig::from_json(None).expect("defaults");
        let mut host = FakeHost::new();
        host.headers.insert("x-auth-email".into(), "mallory@example.test".into());
        assert_eq!(extract(&config, &host), None);
    }

    #[test]
    fn ext_authz_headers_fill_profile() {
        let config = config(json!({"ext_authz_headers": {"email": "x-auth-email", "login": "x-auth-login"}}))
            .expect("valid");
        let mut host = FakeHost::new();
        host.headers.insert("x-auth-email".into(), "dana@example.test".into());
        let identity = extract(&config, &host).expect("header present");
        assert_eq!(identity.profile.get("email"), Some(&json!("dana@example.test")));
        assert_eq!(identity.profile.len(), 1);
        assert_eq!(identity.source, IdentitySourceKind::ExtAuthzHeaders);
    }

    #[test]
    fn jwt_wins_over_headers() {
        let config = config(json!({"jwt_authn": {}, "ext_authz_headers": {"email": "x-auth-email"}})).expect("valid");
        let mut host = FakeHost::new().with_payload(&[("email", b"jwt@example.test")]);
        host.headers.insert("x-auth-email".into(), "header@example.test".into());
        let identity = extract(&config, &host).expect("identity");
        assert_eq!(identity.profile.get("email"), Some(&json!("jwt@example.test")));
    }
}
