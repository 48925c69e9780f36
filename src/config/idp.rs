//! The `idp` section: who we are and how we sign.

use std::sync::Arc;

use time::OffsetDateTime;

use super::raw::RawIdp;
use super::{parse_url, ConfigError, ConfigWarning};
use crate::saml::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::saml::keys::{self, X509};
use crate::saml::signer::{RsaCrateSigner, Signer};

pub const DEFAULT_ASSERTION_LIFETIME_SECONDS: u64 = 300;
pub const DEFAULT_NOT_BEFORE_SKEW_SECONDS: u64 = 60;
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 180;
/// Upper bound for lifetimes and skews: a day. Longer-lived assertions are replayable for
/// too long to be a sensible setting.
const MAX_SECONDS: u64 = 86_400;

/// The validated `idp` section.
pub struct IdpConfig {
    pub entity_id: String,
    /// Base URL without a trailing `/`.
    pub base_url: String,
    pub signer: Arc<dyn Signer>,
    pub certificate: X509,
    pub next_certificate: Option<X509>,
    pub signature_algorithm: SignatureAlgorithm,
    pub digest_algorithm: DigestAlgorithm,
    pub allow_legacy_sha1: bool,
    pub assertion_lifetime_seconds: u64,
    pub not_before_skew_seconds: u64,
    pub want_authn_requests_signed: bool,
    pub metadata_valid_seconds: Option<u64>,
    pub metadata_cache_duration_seconds: Option<u64>,
    pub clock_skew_seconds: u64,
}

impl IdpConfig {
    pub(super) fn validate(
        raw: RawIdp,
        now: OffsetDateTime,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<Self, ConfigError> {
        if raw.entity_id.trim().is_empty() {
            return Err(ConfigError::missing("idp.entity_id", "the IdP's entity ID, usually its metadata URL"));
        }
        if raw.entity_id.len() > 1024 {
            return Err(ConfigError::invalid("idp.entity_id", &raw.entity_id, "SAML limits entity IDs to 1024 characters"));
        }
        let base_url = parse_url(&raw.base_url, "idp.base_url", true)?;
        if base_url.query().is_some() {
            return Err(ConfigError::invalid("idp.base_url", &raw.base_url, "remove the query string"));
        }
        let base_url = base_url.as_str().trim_end_matches('/').to_owned();

        let certificate = load_certificate(&raw.certificate_pem, "idp.certificate_pem", now, warnings)?;
        let (key_pem, key_path) = signing_key_source(&raw)?;
        let key = keys::private_key_from_pem(&key_pem)
            .map_err(|e| ConfigError::invalid(key_path, "(private key not shown)", e.to_string()))?;
        keys::check_pair(&key, &certificate)
            .map_err(|e| ConfigError::invalid(key_path, "(private key not shown)", e.to_string()))?;
        let next_certificate = match &raw.next_certificate_pem {
            Some(pem) => Some(load_certificate(pem, "idp.next_certificate_pem", now, warnings)?),
            None => None,
        };

        let allow_legacy_sha1 = raw.allow_legacy_sha1;
        let signature_algorithm =
            signature_algorithm(raw.signature_algorithm.as_deref(), "idp.signature_algorithm", allow_legacy_sha1)?
                .unwrap_or(SignatureAlgorithm::RsaSha256);
        let digest_algorithm =
            digest_algorithm(raw.digest_algorithm.as_deref(), "idp.digest_algorithm", allow_legacy_sha1)?
                .unwrap_or(DigestAlgorithm::Sha256);

        Ok(Self {
            entity_id: raw.entity_id,
            base_url,
            signer: signer_for(key),
            certificate,
            next_certificate,
            signature_algorithm,
            digest_algorithm,
            allow_legacy_sha1,
            assertion_lifetime_seconds: seconds(
                raw.assertion_lifetime_seconds,
                "idp.assertion_lifetime_seconds",
                DEFAULT_ASSERTION_LIFETIME_SECONDS,
                1,
            )?,
            not_before_skew_seconds: seconds(
                raw.not_before_skew_seconds,
                "idp.not_before_skew_seconds",
                DEFAULT_NOT_BEFORE_SKEW_SECONDS,
                0,
            )?,
            want_authn_requests_signed: raw.want_authn_requests_signed,
            metadata_valid_seconds: optional_seconds(raw.metadata_valid_seconds, "idp.metadata_valid_seconds")?,
            metadata_cache_duration_seconds: optional_seconds(
                raw.metadata_cache_duration_seconds,
                "idp.metadata_cache_duration_seconds",
            )?,
            clock_skew_seconds: seconds(raw.clock_skew_seconds, "idp.clock_skew_seconds", DEFAULT_CLOCK_SKEW_SECONDS, 0)?,
        })
    }

    /// The signing and next certificates, in the order metadata lists them.
    pub fn certificates(&self) -> impl Iterator<Item = &X509> {
        std::iter::once(&self.certificate).chain(self.next_certificate.iter())
    }
}

/// Returns the signer for the IdP key. Inside WebAssembly (the filter and the previewer) it is
/// [`FastRsaSigner`](crate::saml::rsa_fast::FastRsaSigner), which signs about seven times
/// faster there than the `rsa` crate. Natively, and for a key that signer does not take (more
/// than two primes or more than 4096 bits), it is the `rsa` crate, the faster of the two natively.
fn signer_for(key: rsa::RsaPrivateKey) -> Arc<dyn Signer> {
    #[cfg(target_family = "wasm")]
    if let Ok(fast) = crate::saml::rsa_fast::FastRsaSigner::new(&key) {
        return Arc::new(fast);
    }
    Arc::new(RsaCrateSigner::new(key))
}

/// Returns the signing key PEM and the JSON path it came from: `idp.signing_key_pem` inline,
/// or the environment variable named by `idp.signing_key_env` (in Envoy, one listed under the
/// Wasm VM's `environment_variables`).
fn signing_key_source(raw: &RawIdp) -> Result<(String, &'static str), ConfigError> {
    match (&raw.signing_key_pem, &raw.signing_key_env) {
        (Some(pem), None) => Ok((pem.clone(), "idp.signing_key_pem")),
        (None, Some(name)) => match std::env::var(name) {
            Ok(pem) if !pem.trim().is_empty() => Ok((pem, "idp.signing_key_env")),
            _ => Err(ConfigError::invalid(
                "idp.signing_key_env",
                name,
                "the environment variable is not set or empty; in Envoy, pass it to the Wasm VM with vm_config.environment_variables.host_env_keys",
            )),
        },
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            "idp.signing_key_env",
            raw.signing_key_env.clone().unwrap_or_default(),
            "set either signing_key_pem or signing_key_env, not both",
        )),
        (None, None) => Err(ConfigError::missing(
            "idp.signing_key_pem",
            "the RSA signing key as PEM, or set idp.signing_key_env to the name of an environment variable that holds it",
        )),
    }
}

/// Loads a PEM certificate, warning (not failing) when it has expired.
pub(crate) fn load_certificate(
    pem: &str,
    path: &str,
    now: OffsetDateTime,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<X509, ConfigError> {
    let certificate = X509::from_pem(pem).map_err(|e| ConfigError::invalid(path, first_line(pem), e.to_string()))?;
    if certificate.not_after() < now {
        warnings.push(ConfigWarning {
            path: path.to_owned(),
            message: format!(
                "the certificate expired at {}; SPs that check expiry will reject signatures, so issue a new one",
                certificate.not_after()
            ),
        });
    }
    Ok(certificate)
}

fn first_line(pem: &str) -> &str {
    pem.trim().lines().next().unwrap_or("")
}

/// Parses an optional signature algorithm name; `rsa-sha1` needs the legacy switch.
pub(crate) fn signature_algorithm(
    name: Option<&str>,
    path: &str,
    allow_legacy_sha1: bool,
) -> Result<Option<SignatureAlgorithm>, ConfigError> {
    let Some(name) = name else { return Ok(None) };
    let algorithm = SignatureAlgorithm::from_name(name)
        .ok_or_else(|| ConfigError::invalid(path, name, "use \"rsa-sha256\" or \"rsa-sha512\""))?;
    if algorithm == SignatureAlgorithm::RsaSha1 && !allow_legacy_sha1 {
        return Err(ConfigError::invalid(
            path,
            name,
            "SHA-1 signatures are forgeable by collision; use \"rsa-sha256\", or set idp.allow_legacy_sha1 for an SP that accepts nothing else",
        ));
    }
    Ok(Some(algorithm))
}

/// Parses an optional digest algorithm name; `sha1` needs the legacy switch.
pub(crate) fn digest_algorithm(
    name: Option<&str>,
    path: &str,
    allow_legacy_sha1: bool,
) -> Result<Option<DigestAlgorithm>, ConfigError> {
    let Some(name) = name else { return Ok(None) };
    let algorithm = DigestAlgorithm::from_name(name)
        .ok_or_else(|| ConfigError::invalid(path, name, "use \"sha256\" or \"sha512\""))?;
    if algorithm == DigestAlgorithm::Sha1 && !allow_legacy_sha1 {
        return Err(ConfigError::invalid(
            path,
            name,
            "SHA-1 digests are collision-prone; use \"sha256\", or set idp.allow_legacy_sha1 for an SP that accepts nothing else",
        ));
    }
    Ok(Some(algorithm))
}

pub(crate) fn seconds(value: Option<u64>, path: &str, default: u64, min: u64) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(default);
    if value < min || value > MAX_SECONDS {
        return Err(ConfigError::invalid(
            path,
            value.to_string(),
            format!("use a number of seconds from {min} to {MAX_SECONDS}"),
        ));
    }
    Ok(value)
}

fn optional_seconds(value: Option<u64>, path: &str) -> Result<Option<u64>, ConfigError> {
    match value {
        None => Ok(None),
        Some(0) => Err(ConfigError::invalid(path, "0", "use a positive number of seconds, or remove the field")),
        Some(v) if v > 10 * 365 * MAX_SECONDS => {
            Err(ConfigError::invalid(path, v.to_string(), "use at most ten years, in seconds"))
        }
        Some(v) => Ok(Some(v)),
    }
}
