//! The `scim` section of the configuration: parsed once into [`ScimConfig`], every error
//! naming its JSON path from `scim`.
//!
//! ```json
//! "scim": {
//!   "prefixes": ["/scim/v2"],
//!   "tenant_header": "x-edgeidp-tenant",
//!   "tokens": [{"id": "okta-2026", "sha256": "…64 hex digits…", "tenant": "acme"}]
//! }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::operation::{Operation, OperationSet};
use super::rate_limit::{FailureLimit, RateLimit};
use super::token::{TokenDigest, TOKEN_PREFIX};
use crate::config::{index, join, ConfigError, ConfigWarning};

pub const DEFAULT_PREFIX: &str = "/scim/v2";
pub const DEFAULT_REALM: &str = "scim";
pub const DEFAULT_TENANT_HEADER: &str = "x-edgeidp-tenant";

/// 512 KiB: a User is a few kilobytes, and a Group PATCH adding a thousand members about
/// 60 KiB. Envoy's own buffer limit (`per_connection_buffer_limit_bytes`, 1 MiB by default)
/// must stay above this, or Envoy rejects an oversized body with its own plain-text 413.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 512 * 1024;
/// The filter buffers the body in the VM's memory, once per concurrent request.
pub const MAX_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// The token id that log lines and metrics show for a request whose token was not
/// recognised, so no configured token may have it.
pub const UNKNOWN_TOKEN_ID: &str = "unknown";

/// Tokens that expire within this many days produce a warning at load.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// The validated `scim` section.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    /// `realm` of the `WWW-Authenticate` challenge. Default `scim`.
    pub realm: String,
    /// Lowercase name of the header that carries the token's tenant upstream. Any value the
    /// client sent is removed. Default `x-edgeidp-tenant`.
    pub tenant_header: String,
    /// Removes `Authorization` before the upstream. Default false, so that the SCIM
    /// service can check the token too.
    pub strip_authorization: bool,
    /// Default [`DEFAULT_MAX_BODY_BYTES`].
    pub max_body_bytes: u64,
    /// Default [`FailureLimit::default`].
    pub failed_auth_limit: FailureLimit,
    /// Guarded prefixes, longest first.
    pub prefixes: Vec<PrefixRule>,
    pub tokens: Vec<TokenEntry>,
}

/// A guarded path prefix, lowercase, starting with `/` and without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixRule {
    pub prefix: String,
    /// The tenant whose tokens alone may use the prefix; `None` for `scim.prefixes`,
    /// which accept every tenant's tokens.
    pub tenant: Option<String>,
}

/// One configured token.
#[derive(Debug, Clone)]
pub struct TokenEntry {
    /// Name for logs, metrics and rate-limit state.
    pub id: String,
    pub digest: TokenDigest,
    pub tenant: String,
    /// Rejected before this instant. Default: valid from the start.
    pub not_before: Option<OffsetDateTime>,
    /// Rejected after this instant. Default: no expiry.
    pub not_after: Option<OffsetDateTime>,
    /// Default [`OperationSet::reference_default`].
    pub operations: OperationSet,
    /// Default the section's `rate_limit`, itself defaulting to [`RateLimit::default`].
    pub rate_limit: RateLimit,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScim {
    /// Default `["/scim/v2"]`.
    #[serde(default)]
    prefixes: Option<Vec<String>>,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    tenant_header: Option<String>,
    #[serde(default)]
    strip_authorization: bool,
    #[serde(default)]
    max_body_bytes: Option<u64>,
    #[serde(default)]
    rate_limit: Option<RawRateLimit>,
    #[serde(default)]
    failed_auth_limit: Option<RawFailureLimit>,
    /// Tenants by name. When present, every token's tenant must be one of them.
    #[serde(default)]
    tenants: BTreeMap<String, RawTenant>,
    #[serde(default)]
    tokens: Vec<RawToken>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTenant {
    #[serde(default)]
    prefixes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    id: String,
    sha256: String,
    tenant: String,
    #[serde(default)]
    not_before: Option<String>,
    #[serde(default)]
    not_after: Option<String>,
    #[serde(default)]
    operations: Option<Vec<String>>,
    #[serde(default)]
    rate_limit: Option<RawRateLimit>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    #[serde(default)]
    requests_per_second: Option<u32>,
    #[serde(default)]
    burst: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailureLimit {
    #[serde(default)]
    max_failures: Option<u32>,
    #[serde(default)]
    window_seconds: Option<u32>,
}

const SECTION: &str = "scim";

impl ScimConfig {
    /// Validates the `scim` section. `now` decides expiry warnings.
    pub fn from_json(value: &Value, now: OffsetDateTime) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        // serde would also read a struct from an array of its fields in order.
        if !value.is_object() {
            return Err(ConfigError::syntax(SECTION, "expected an object"));
        }
        reject_plain_tokens(value)?;
        let raw: RawScim = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            let path = if path == "." { SECTION.to_owned() } else { join(SECTION, &path) };
            ConfigError::syntax(path, error.into_inner().to_string())
        })?;

        let mut warnings = Vec::new();
        let realm = realm(raw.realm.as_deref())?;
        let tenant_header = tenant_header(raw.tenant_header.as_deref())?;
        let max_body_bytes = max_body_bytes(raw.max_body_bytes)?;
        let default_rate = rate_limit(raw.rate_limit, RateLimit::default(), "scim.rate_limit")?;
        let failed_auth_limit = failure_limit(raw.failed_auth_limit)?;
        let prefixes = prefixes(raw.prefixes, &raw.tenants)?;

        let mut tokens: Vec<TokenEntry> = Vec::new();
        for (i, raw_token) in raw.tokens.into_iter().enumerate() {
            let path = index("scim.tokens", i);
            let token = TokenEntry::validate(raw_token, &raw.tenants, default_rate, &path)?;
            check_unique(&tokens, &token, &path)?;
            warn_expiry(&token, now, &path, &mut warnings);
            tokens.push(token);
        }
        if tokens.is_empty() {
            warnings.push(ConfigWarning {
                path: "scim.tokens".into(),
                message: "no tokens are configured, so the gate rejects every SCIM request".into(),
            });
        }

        let config = Self {
            realm,
            tenant_header,
            strip_authorization: raw.strip_authorization,
            max_body_bytes,
            failed_auth_limit,
            prefixes,
            tokens,
        };
        Ok((config, warnings))
    }
}

/// Rejects a token entry that contains a token instead of its digest, with advice, before
/// serde would report it as an unknown field.
fn reject_plain_tokens(value: &Value) -> Result<(), ConfigError> {
    let Some(tokens) = value.get("tokens").and_then(Value::as_array) else { return Ok(()) };
    for (i, entry) in tokens.iter().enumerate() {
        for field in ["token", "secret", "value", "bearer"] {
            if entry.get(field).is_some() {
                return Err(ConfigError::invalid(
                    join(&index("scim.tokens", i), field),
                    "(not shown)",
                    "the configuration holds SHA-256 digests, never tokens; remove this field, treat the token as \
                     leaked and replace it, and put the new token's digest in \"sha256\" (`edgeidp token` prints both)",
                ));
            }
        }
    }
    Ok(())
}

impl TokenEntry {
    fn validate(
        raw: RawToken,
        tenants: &BTreeMap<String, RawTenant>,
        default_rate: RateLimit,
        path: &str,
    ) -> Result<Self, ConfigError> {
        let id = name(&raw.id, &join(path, "id"), 64, "token ids")?;
        if id == UNKNOWN_TOKEN_ID {
            return Err(ConfigError::invalid(
                join(path, "id"),
                &id,
                "logs and metrics name requests without a recognised token \"unknown\"; choose another id",
            ));
        }
        let digest = digest(&raw.sha256, &join(path, "sha256"))?;
        let tenant = name(&raw.tenant, &join(path, "tenant"), 128, "tenant names")?;
        if !tenants.is_empty() && !tenants.contains_key(&tenant) {
            return Err(ConfigError::unknown_reference(join(path, "tenant"), &tenant, "scim.tenants"));
        }

        let not_before = instant(raw.not_before.as_deref(), &join(path, "not_before"))?;
        let not_after = instant(raw.not_after.as_deref(), &join(path, "not_after"))?;
        if let (Some(start), Some(end)) = (not_before, not_after) {
            if start >= end {
                return Err(ConfigError::invalid(
                    join(path, "not_after"),
                    raw.not_after.unwrap_or_default(),
                    "not_after must be later than not_before",
                ));
            }
        }

        let operations = operations(raw.operations.as_deref(), &join(path, "operations"))?;
        let rate_limit = rate_limit(raw.rate_limit, default_rate, &join(path, "rate_limit"))?;
        Ok(Self { id, digest, tenant, not_before, not_after, operations, rate_limit })
    }
}

fn check_unique(tokens: &[TokenEntry], token: &TokenEntry, path: &str) -> Result<(), ConfigError> {
    for (i, other) in tokens.iter().enumerate() {
        if other.id == token.id {
            return Err(ConfigError::invalid(
                join(path, "id"),
                &token.id,
                format!("scim.tokens[{i}] has the same id; ids name tokens in logs and must be unique"),
            ));
        }
        if bool::from(other.digest.ct_eq(&token.digest)) {
            return Err(ConfigError::invalid(
                join(path, "sha256"),
                "(not shown)",
                format!("scim.tokens[{i}] has the same digest; give each token its own"),
            ));
        }
    }
    Ok(())
}

fn warn_expiry(token: &TokenEntry, now: OffsetDateTime, path: &str, warnings: &mut Vec<ConfigWarning>) {
    let Some(not_after) = token.not_after else { return };
    let path = join(path, "not_after");
    if not_after < now {
        warnings.push(ConfigWarning {
            path,
            message: format!("token {:?} expired at {not_after}, so the gate rejects it; remove it", token.id),
        });
    } else if not_after - now < time::Duration::days(EXPIRY_WARNING_DAYS) {
        let days = (not_after - now).whole_days();
        warnings.push(ConfigWarning {
            path,
            message: format!("token {:?} expires at {not_after}, in {days} days; configure its replacement", token.id),
        });
    }
}

/// Validates an id or tenant name: 1 to `max` letters, digits, `.`, `_`, `-`. These
/// names go into logs, metric names, shared-data keys and a request header.
fn name(value: &str, path: &str, max: usize, what: &str) -> Result<String, ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::invalid(path, value, format!("{what} are 1 to {max} letters, digits, '.', '_' or '-'")))
    }
}

/// Parses a digest. The value is never shown, because a mistaken value may be the token.
fn digest(value: &str, path: &str) -> Result<TokenDigest, ConfigError> {
    if value.starts_with(TOKEN_PREFIX) {
        return Err(ConfigError::invalid(
            path,
            "(not shown)",
            "this is a token, not its digest; treat it as leaked and replace it, and configure the SHA-256 \
             digest that `edgeidp token` prints",
        ));
    }
    let digest = TokenDigest::from_hex(value).ok_or_else(|| {
        ConfigError::invalid(
            path,
            "(not shown)",
            "expected 64 hexadecimal digits, the SHA-256 of the token (`printf %s TOKEN | sha256sum`)",
        )
    })?;
    if bool::from(digest.ct_eq(&TokenDigest::of_token(""))) {
        return Err(ConfigError::invalid(
            path,
            "(not shown)",
            "this is the digest of the empty string; configure a real token's digest",
        ));
    }
    Ok(digest)
}

fn instant(value: Option<&str>, path: &str) -> Result<Option<OffsetDateTime>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    OffsetDateTime::parse(value, &Rfc3339).map(Some).map_err(|e| {
        ConfigError::invalid(path, value, format!("not an RFC 3339 time such as 2026-01-31T00:00:00Z ({e})"))
    })
}

fn operations(names: Option<&[String]>, path: &str) -> Result<OperationSet, ConfigError> {
    let Some(names) = names else { return Ok(OperationSet::reference_default()) };
    if names.is_empty() {
        return Err(ConfigError::missing(path, "a list of operations, or leave it out for the default"));
    }
    let mut set = OperationSet::EMPTY;
    for (i, name) in names.iter().enumerate() {
        let operation = Operation::from_name(name).ok_or_else(|| {
            ConfigError::invalid(
                index(path, i),
                name,
                format!("use one of: {}", OperationSet::all().names().join(", ")),
            )
        })?;
        set = set.with(operation);
    }
    Ok(set)
}

fn rate_limit(raw: Option<RawRateLimit>, default: RateLimit, path: &str) -> Result<RateLimit, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    let requests_per_second =
        bounded(raw.requests_per_second, default.requests_per_second, 1, 100_000, &join(path, "requests_per_second"))?;
    let burst = bounded(raw.burst, default.burst, 1, 1_000_000, &join(path, "burst"))?;
    Ok(RateLimit { requests_per_second, burst })
}

fn failure_limit(raw: Option<RawFailureLimit>) -> Result<FailureLimit, ConfigError> {
    let default = FailureLimit::default();
    let Some(raw) = raw else { return Ok(default) };
    let path = "scim.failed_auth_limit";
    let max_failures = bounded(raw.max_failures, default.max_failures, 1, 100_000, &join(path, "max_failures"))?;
    let window_seconds = bounded(raw.window_seconds, default.window_seconds, 1, 86_400, &join(path, "window_seconds"))?;
    Ok(FailureLimit { max_failures, window_seconds })
}

fn bounded(value: Option<u32>, default: u32, min: u32, max: u32, path: &str) -> Result<u32, ConfigError> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(path, value.to_string(), format!("use a number from {min} to {max}")))
    }
}

fn max_body_bytes(value: Option<u64>) -> Result<u64, ConfigError> {
    let value = value.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if (1024..=MAX_MAX_BODY_BYTES).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            "scim.max_body_bytes",
            value.to_string(),
            format!("use a number of bytes from 1024 to {MAX_MAX_BODY_BYTES}"),
        ))
    }
}

/// Validates the realm, which is sent inside a quoted string, so quotes and backslashes
/// are excluded.
fn realm(value: Option<&str>) -> Result<String, ConfigError> {
    let value = value.unwrap_or(DEFAULT_REALM);
    let valid = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::invalid("scim.realm", value, "use 1 to 64 printable ASCII characters without '\"' or '\\'"))
    }
}

/// Headers that carry the request's framing or credentials, which the tenant must not replace.
const RESERVED_HEADERS: [&str; 8] =
    ["authorization", "host", "content-length", "content-type", "transfer-encoding", "connection", "te", "cookie"];

fn tenant_header(value: Option<&str>) -> Result<String, ConfigError> {
    let value = value.unwrap_or(DEFAULT_TENANT_HEADER).to_ascii_lowercase();
    let token_chars = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !token_chars {
        return Err(ConfigError::invalid(
            "scim.tenant_header",
            value,
            "use a header name of 1 to 128 letters, digits, '-', '_' or '.'",
        ));
    }
    if RESERVED_HEADERS.contains(&value.as_str()) {
        return Err(ConfigError::invalid(
            "scim.tenant_header",
            value,
            "this header is reserved; use a name of your own such as x-tenant-id",
        ));
    }
    Ok(value)
}

fn prefixes(
    global: Option<Vec<String>>,
    tenants: &BTreeMap<String, RawTenant>,
) -> Result<Vec<PrefixRule>, ConfigError> {
    let global = global.unwrap_or_else(|| vec![DEFAULT_PREFIX.to_owned()]);
    let mut rules = Vec::new();
    for (i, prefix) in global.iter().enumerate() {
        rules.push(PrefixRule { prefix: prefix_value(prefix, &index("scim.prefixes", i))?, tenant: None });
    }
    for (tenant, raw) in tenants {
        let tenant_path = join("scim.tenants", tenant);
        name(tenant, &tenant_path, 128, "tenant names")?;
        for (i, prefix) in raw.prefixes.iter().enumerate() {
            let path = index(&join(&tenant_path, "prefixes"), i);
            rules.push(PrefixRule { prefix: prefix_value(prefix, &path)?, tenant: Some(tenant.clone()) });
        }
    }

    for (i, rule) in rules.iter().enumerate() {
        if rules.iter().take(i).any(|earlier| earlier.prefix == rule.prefix) {
            return Err(ConfigError::invalid(
                "scim",
                &rule.prefix,
                "this prefix is configured twice (prefixes match in any case)",
            ));
        }
    }
    if rules.is_empty() {
        return Err(ConfigError::missing("scim.prefixes", "at least one path prefix, such as \"/scim/v2\""));
    }
    rules.sort_by_key(|rule| std::cmp::Reverse(rule.prefix.len()));
    Ok(rules)
}

fn prefix_value(prefix: &str, path: &str) -> Result<String, ConfigError> {
    let valid = prefix.starts_with('/')
        && prefix.len() > 1
        && !prefix.ends_with('/')
        && !prefix.split('/').skip(1).any(|segment| matches!(segment, "" | "." | ".."))
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
    if valid {
        Ok(prefix.to_ascii_lowercase())
    } else {
        Err(ConfigError::invalid(
            path,
            prefix,
            "use a path such as \"/scim/v2\": starting with \"/\", not ending with one, no empty or dot segments, letters, digits and -_.~ only",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-03-01 00:00 UTC);

    fn digest_of(token: &str) -> String {
        TokenDigest::of_token(token).to_hex()
    }

    fn load(value: Value) -> Result<(ScimConfig, Vec<ConfigWarning>), ConfigError> {
        ScimConfig::from_json(&value, NOW)
    }

    fn error_path(value: Value) -> String {
        match load(value) {
            Ok(_) => "(accepted)".into(),
            Err(error) => error.path,
        }
    }

    #[test]
    fn defaults() {
        let (config, _) = load(json!({"tokens": [{"id": "okta", "sha256": digest_of("t"), "tenant": "acme"}]}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.prefixes, vec![PrefixRule { prefix: "/scim/v2".into(), tenant: None }]);
        assert_eq!(config.realm, "scim");
        assert_eq!(config.tenant_header, "x-edgeidp-tenant");
        assert!(!config.strip_authorization);
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        let token = config.tokens.first().unwrap_or_else(|| panic!("one token"));
        assert_eq!(token.operations, OperationSet::reference_default());
        assert_eq!(token.rate_limit, RateLimit::default());
    }

    #[test]
    fn tenant_prefixes_longest_first() {
        let (config, _) = load(json!({
            "prefixes": ["/scim"],
            "tenants": {"acme": {"prefixes": ["/scim/Acme"]}, "beta": {}},
            "tokens": [{"id": "okta", "sha256": digest_of("t"), "tenant": "acme"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let first = config.prefixes.first().map(|rule| (rule.prefix.as_str(), rule.tenant.as_deref()));
        assert_eq!(first, Some(("/scim/acme", Some("acme"))));
    }

    #[test]
    fn error_paths() {
        let good = digest_of("t");
        let cases = [
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t"}, {"id": "b", "sha256": "xyz", "tenant": "t"}]}),
                "scim.tokens[1].sha256",
            ),
            (json!({"tokens": [{"id": "a b", "sha256": good, "tenant": "t"}]}), "scim.tokens[0].id"),
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "operations": ["read", "write"]}]}),
                "scim.tokens[0].operations[1]",
            ),
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "operations": []}]}),
                "scim.tokens[0].operations",
            ),
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "not_after": "tomorrow"}]}),
                "scim.tokens[0].not_after",
            ),
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "not_before": "2026-02-01T00:00:00Z", "not_after": "2026-01-01T00:00:00Z"}]}),
                "scim.tokens[0].not_after",
            ),
            (
                json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "rate_limit": {"burst": 0}}]}),
                "scim.tokens[0].rate_limit.burst",
            ),
            (json!({"tokens": [{"id": "a", "sha256": good}]}), "scim.tokens[0]"),
            (json!({"tokens": [{"id": "a", "sha256": good, "tenant": "t", "extra": 1}]}), "scim.tokens[0].extra"),
            (
                json!({"tenants": {"acme": {}}, "tokens": [{"id": "a", "sha256": good, "tenant": "other"}]}),
                "scim.tokens[0].tenant",
            ),
            (json!({"prefixes": ["scim"]}), "scim.prefixes[0]"),
            (json!({"prefixes": ["/scim/"]}), "scim.prefixes[0]"),
            (json!({"prefixes": ["/scim/../x"]}), "scim.prefixes[0]"),
            (json!({"prefixes": []}), "scim.prefixes"),
            (json!({"tenants": {"acme": {"prefixes": ["/x//y"]}}}), "scim.tenants.acme.prefixes[0]"),
            (json!({"tenants": {"a b": {}}}), "scim.tenants.a b"),
            (json!({"realm": "a\"b"}), "scim.realm"),
            (json!({"tenant_header": "Authorization"}), "scim.tenant_header"),
            (json!({"tenant_header": "x tenant"}), "scim.tenant_header"),
            (json!({"max_body_bytes": 10}), "scim.max_body_bytes"),
            (json!({"failed_auth_limit": {"window_seconds": 0}}), "scim.failed_auth_limit.window_seconds"),
            (json!({"rate_limit": {"requests_per_second": 0}}), "scim.rate_limit.requests_per_second"),
            (json!({"unknown": 1}), "scim.unknown"),
            (json!([]), "scim"),
        ];
        for (value, expected) in cases {
            let shown = value.to_string();
            assert_eq!(error_path(value), expected, "config {shown}");
        }
    }

    #[test]
    fn duplicate_prefix_rejected() {
        let result = load(json!({"prefixes": ["/scim/v2"], "tenants": {"a": {"prefixes": ["/SCIM/v2"]}}}));
        assert!(result.is_err(), "prefixes that differ only in case are duplicates");
    }

    #[test]
    fn unknown_id_reserved() {
        let value = json!({"tokens": [{"id": "unknown", "sha256": digest_of("1"), "tenant": "t"}]});
        assert_eq!(error_path(value), "scim.tokens[0].id");
    }

    #[test]
    fn duplicate_id_rejected() {
        let value = json!({"tokens": [
            {"id": "a", "sha256": digest_of("1"), "tenant": "t"},
            {"id": "a", "sha256": digest_of("2"), "tenant": "t"}
        ]});
        assert_eq!(error_path(value), "scim.tokens[1].id");
    }

    #[test]
    fn duplicate_digest_rejected() {
        let value = json!({"tokens": [
            {"id": "a", "sha256": digest_of("1"), "tenant": "t"},
            {"id": "b", "sha256": digest_of("1").to_uppercase(), "tenant": "t"}
        ]});
        assert_eq!(error_path(value), "scim.tokens[1].sha256");
    }

    #[test]
    fn plain_token_never_shown() {
        let secret = "edgeidp_scim_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
        let as_digest = load(json!({"tokens": [{"id": "a", "sha256": secret, "tenant": "t"}]}));
        let as_field = load(json!({"tokens": [{"id": "a", "token": secret, "sha256": digest_of("x"), "tenant": "t"}]}));
        for result in [as_digest, as_field] {
            let message = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("leaked"), "the error must say what to do: {message}");
            assert!(!message.contains("c2Vj"), "the error must not show the token: {message}");
        }
    }

    #[test]
    fn wrong_digest_not_shown() {
        let message = load(json!({"tokens": [{"id": "a", "sha256": "hunter2hunter2", "tenant": "t"}]}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn empty_string_digest_rejected() {
        let value = json!({"tokens": [{"id": "a", "sha256": digest_of(""), "tenant": "t"}]});
        assert_eq!(error_path(value), "scim.tokens[0].sha256");
    }

    #[test]
    fn expiry_warnings() {
        let (_, warnings) = load(json!({"tokens": [
            {"id": "old", "sha256": digest_of("1"), "tenant": "t", "not_after": "2026-01-01T00:00:00Z"},
            {"id": "soon", "sha256": digest_of("2"), "tenant": "t", "not_after": "2026-03-05T00:00:00Z"},
            {"id": "later", "sha256": digest_of("3"), "tenant": "t", "not_after": "2027-01-01T00:00:00Z"}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<_> = warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, ["scim.tokens[0].not_after", "scim.tokens[1].not_after"]);
    }

    #[test]
    fn no_tokens_warning() {
        let (_, warnings) = load(json!({})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(warnings.first().map(|w| w.path.as_str()), Some("scim.tokens"));
    }

    #[test]
    fn operations_parsed() {
        let (config, _) = load(json!({"tokens": [
            {"id": "a", "sha256": digest_of("1"), "tenant": "t", "operations": ["read", "delete_users"]}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"));
        let operations = config.tokens.first().map(|t| t.operations.to_string());
        assert_eq!(operations.as_deref(), Some("read delete_users"));
    }
}
