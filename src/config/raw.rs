//! The configuration's JSON shape, as serde reads it. Nothing here is validated: the
//! parent module turns these into the typed [`super::Config`].
//!
//! Every optional field's default is stated on the field and applied in validation.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub idp: RawIdp,
    /// Path prefix of the SAML endpoints. Default `/saml`.
    #[serde(default)]
    pub saml_prefix: Option<String>,
    /// Service providers, keyed by a short name used in URLs (`/saml/{name}/sso`).
    #[serde(default)]
    pub apps: BTreeMap<String, RawApp>,
    /// Where the user's identity comes from (the filter's concern).
    #[serde(default)]
    pub identity: Option<serde_json::Value>,
    /// The SCIM bearer-token gate.
    #[serde(default)]
    pub scim: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdp {
    pub entity_id: String,
    /// Public base URL of this IdP (`https://idp.example.com`), used for SSO endpoints.
    pub base_url: String,
    /// RSA private key, PKCS#8 or PKCS#1 PEM. Exactly one of this and `signing_key_env`.
    #[serde(default)]
    pub signing_key_pem: Option<String>,
    /// Name of an environment variable holding the PEM key, so the key stays out of the
    /// plugin configuration (which Envoy prints in its `config` debug logs and config dump).
    #[serde(default)]
    pub signing_key_env: Option<String>,
    /// X.509 certificate of the signing key, PEM.
    pub certificate_pem: String,
    /// A second certificate published in metadata ahead of a key rollover. Default none.
    #[serde(default)]
    pub next_certificate_pem: Option<String>,
    /// Default `rsa-sha256`.
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    /// Default `sha256`.
    #[serde(default)]
    pub digest_algorithm: Option<String>,
    /// Allows `rsa-sha1` and `sha1`. Default false.
    #[serde(default)]
    pub allow_legacy_sha1: bool,
    /// Seconds from IssueInstant to the assertion's NotOnOrAfter. Default 300.
    #[serde(default)]
    pub assertion_lifetime_seconds: Option<u64>,
    /// Seconds NotBefore is set before IssueInstant, for SP clocks that run behind. Default 60.
    #[serde(default)]
    pub not_before_skew_seconds: Option<u64>,
    /// Published as WantAuthnRequestsSigned in metadata. Default false.
    #[serde(default)]
    pub want_authn_requests_signed: bool,
    /// Metadata `validUntil`, as seconds after the metadata is generated. Default none.
    #[serde(default)]
    pub metadata_valid_seconds: Option<u64>,
    /// Metadata `cacheDuration`, in seconds. Default none.
    #[serde(default)]
    pub metadata_cache_duration_seconds: Option<u64>,
    /// Allowed difference between an AuthnRequest's IssueInstant and our clock. Default 180.
    #[serde(default)]
    pub clock_skew_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    /// The SP's entity ID: the Audience and the expected AuthnRequest Issuer.
    pub sp_entity_id: String,
    /// Allowed Assertion Consumer Service URLs.
    pub acs_urls: Vec<String>,
    /// The ACS URL used when a request names none. Default `acs_urls[0]`.
    #[serde(default)]
    pub default_acs_url: Option<String>,
    /// RelayState for IdP-initiated logins. Default none.
    #[serde(default)]
    pub default_relay_state: Option<String>,
    /// Lets `/init?RelayState=…` replace the default. Default false.
    #[serde(default)]
    pub allow_relay_state_override: bool,
    /// `assertion`, `response` or `both`. Default `both`.
    #[serde(default)]
    pub sign: Option<String>,
    #[serde(default)]
    pub name_id: Option<RawNameId>,
    /// Default `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`.
    #[serde(default)]
    pub authn_context_class_ref: Option<String>,
    #[serde(default)]
    pub attributes: Vec<RawAttribute>,
    /// `omit` or `error`. Default `omit`.
    #[serde(default)]
    pub missing_value: Option<String>,
    #[serde(default)]
    pub assertion_lifetime_seconds: Option<u64>,
    #[serde(default)]
    pub signature_algorithm: Option<String>,
    #[serde(default)]
    pub digest_algorithm: Option<String>,
    /// Requires AuthnRequests to be signed with `sp_certificate_pem`. Default false.
    #[serde(default)]
    pub authn_requests_signed: bool,
    /// The SP's signing certificate, PEM, for AuthnRequest signatures. Default none.
    #[serde(default)]
    pub sp_certificate_pem: Option<String>,
    /// Where to send a user with no identity; the filter appends the original URL.
    /// Default none (answer 401).
    #[serde(default)]
    pub login_url: Option<String>,
    /// XML Encryption of the assertion for this SP. Default none (not encrypted).
    #[serde(default)]
    pub encryption: Option<RawEncryption>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEncryption {
    /// The SP's encryption certificate, PEM.
    pub certificate_pem: String,
    /// `aes256-gcm`, `aes128-gcm`, `aes128-cbc` or `aes256-cbc`. Default `aes256-gcm`.
    #[serde(default)]
    pub content_algorithm: Option<String>,
    /// `rsa-oaep-mgf1p` or `rsa-oaep`. Default `rsa-oaep-mgf1p`.
    #[serde(default)]
    pub key_transport: Option<String>,
    /// Encrypts the NameID into an EncryptedID too. Default false.
    #[serde(default)]
    pub encrypt_name_id: bool,
    /// `ds:KeyName` of the SP's key in the EncryptedKey. Default none.
    #[serde(default)]
    pub key_name: Option<String>,
    /// The SP's certificate in the EncryptedKey. Default true.
    #[serde(default)]
    pub include_certificate: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNameId {
    /// `emailAddress`, `unspecified`, `persistent` or `transient`. Default `emailAddress`.
    #[serde(default)]
    pub format: Option<String>,
    /// Value expression. Default `user.email`.
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttribute {
    pub name: String,
    /// `unspecified`, `basic` or `uri`. Default `unspecified`.
    #[serde(default)]
    pub name_format: Option<String>,
    /// Value expression, such as `user.email`.
    pub value: String,
}
