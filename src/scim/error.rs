//! Rejections: why a request was rejected, and the SCIM error document (RFC 7644 §3.12)
//! and `WWW-Authenticate` challenge (RFC 6750 §3) the client receives.
//!
//! Every text here is fixed or built from configuration and numbers. None quotes a token,
//! a digest or a body, so both the client's `detail` and the operator's log reason are safe
//! to emit at any level.

use std::fmt;

use super::body::BodyError;
use super::config::UNKNOWN_TOKEN_ID;
use super::operation::OperationSet;

/// The `schemas` value of a SCIM error response.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The media type of every rejection body.
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// The reason the gate rejected a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// No `Authorization` header (and no token anywhere else).
    MissingCredentials,
    /// An `access_token` query parameter (RFC 6750 §2.3), which the gate does not accept.
    TokenInQuery,
    /// An `Authorization` scheme other than Bearer.
    NotBearer,
    /// More than one `Authorization` header, or one carrying a comma-separated list (which
    /// is how a proxy joins repeated headers).
    MultipleAuthorization,
    /// `Bearer` with nothing after it.
    EmptyToken,
    /// `Bearer Bearer …`: the token was pasted with its prefix.
    DoubledPrefix,
    /// A token outside the RFC 6750 `b64token` syntax.
    MalformedToken,
    /// No configured digest matches: a wrong token, or one removed from the configuration.
    UnknownToken,
    /// The token's `not_before` is in the future.
    NotYetValid,
    /// The token's `not_after` has passed.
    Expired,
    /// The client address has failed authentication too often.
    AuthThrottled { retry_after_seconds: u64 },
    /// The path belongs to another tenant's prefix.
    WrongTenant,
    /// The path has dot segments, empty segments, path parameters or encoded characters
    /// that a server could decode into a different path than the gate classified.
    IrregularPath,
    /// The token lacks the operations the request requires.
    NotPermitted { missing: OperationSet },
    /// A method RFC 7644 does not define on the endpoint. `allow` lists the ones it does.
    MethodNotAllowed { allow: &'static str },
    /// A method other than `GET` or `HEAD` on an endpoint the gate does not know.
    Uncovered,
    /// Bulk requests and `/Me`, which the gate does not classify.
    NotImplemented,
    /// A body-carrying request whose `Content-Type` is missing or not JSON.
    UnsupportedMediaType,
    /// The body (or its `Content-Length`) exceeds the configured maximum.
    BodyTooLarge { max_bytes: u64 },
    /// The body is not JSON, or not the resource or message the endpoint needs.
    InvalidBody(BodyError),
    /// The token's request rate limit is exhausted.
    RateLimited { retry_after_seconds: u64 },
    /// Every compare-and-swap attempt on the shared rate-limit state lost to another worker.
    RateLimitContended,
    /// The host's shared data could not be written.
    RateLimitUnavailable,
}

/// The RFC 6750 §3.1 error code in the challenge, where one applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BearerError {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

/// The `WWW-Authenticate` challenge of a rejection.
enum Challenge {
    /// No `WWW-Authenticate` header.
    None,
    /// `Bearer realm="…"`, without an error code (RFC 6750 §3.1: a request without
    /// authentication information).
    Realm,
    Error(BearerError),
}

impl RejectReason {
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingCredentials | Self::NotBearer | Self::UnknownToken | Self::NotYetValid | Self::Expired => 401,
            Self::TokenInQuery
            | Self::MultipleAuthorization
            | Self::EmptyToken
            | Self::DoubledPrefix
            | Self::MalformedToken
            | Self::IrregularPath
            | Self::InvalidBody(_) => 400,
            Self::WrongTenant | Self::NotPermitted { .. } | Self::Uncovered => 403,
            Self::MethodNotAllowed { .. } => 405,
            Self::BodyTooLarge { .. } => 413,
            Self::UnsupportedMediaType => 415,
            Self::AuthThrottled { .. } | Self::RateLimited { .. } | Self::RateLimitContended => 429,
            Self::NotImplemented => 501,
            Self::RateLimitUnavailable => 503,
        }
    }

    /// Returns the RFC 7644 §3.12 `scimType`, for the 400 responses it defines.
    pub fn scim_type(&self) -> Option<&'static str> {
        match self {
            Self::InvalidBody(BodyError::Syntax | BodyError::DuplicateAttribute) => Some("invalidSyntax"),
            Self::InvalidBody(BodyError::InvalidValue(_)) => Some("invalidValue"),
            Self::InvalidBody(BodyError::NoTarget) => Some("noTarget"),
            _ => None,
        }
    }

    fn challenge(&self) -> Challenge {
        match self {
            Self::MissingCredentials | Self::NotBearer => Challenge::Realm,
            Self::TokenInQuery
            | Self::MultipleAuthorization
            | Self::EmptyToken
            | Self::DoubledPrefix
            | Self::MalformedToken => Challenge::Error(BearerError::InvalidRequest),
            Self::UnknownToken | Self::NotYetValid | Self::Expired => Challenge::Error(BearerError::InvalidToken),
            Self::WrongTenant | Self::NotPermitted { .. } | Self::Uncovered => {
                Challenge::Error(BearerError::InsufficientScope)
            }
            _ => Challenge::None,
        }
    }

    /// Seconds for `Retry-After`, on 429 and 503.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::AuthThrottled { retry_after_seconds } | Self::RateLimited { retry_after_seconds } => {
                Some(*retry_after_seconds)
            }
            Self::RateLimitContended | Self::RateLimitUnavailable => Some(1),
            _ => None,
        }
    }

    /// Returns whether the request failed authentication, which counts towards the client
    /// address's failed-authentication limit.
    pub fn is_failed_authentication(&self) -> bool {
        matches!(
            self.challenge(),
            Challenge::Realm | Challenge::Error(BearerError::InvalidRequest | BearerError::InvalidToken)
        )
    }

    /// Returns a short stable name for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::TokenInQuery => "token_in_query",
            Self::NotBearer => "not_bearer",
            Self::MultipleAuthorization => "multiple_authorization",
            Self::EmptyToken => "empty_token",
            Self::DoubledPrefix => "doubled_prefix",
            Self::MalformedToken => "malformed_token",
            Self::UnknownToken => "unknown_token",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::AuthThrottled { .. } => "auth_throttled",
            Self::WrongTenant => "wrong_tenant",
            Self::IrregularPath => "irregular_path",
            Self::NotPermitted { .. } => "not_permitted",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Uncovered => "uncovered",
            Self::NotImplemented => "not_implemented",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::InvalidBody(_) => "invalid_body",
            Self::RateLimited { .. } => "rate_limited",
            Self::RateLimitContended => "rate_limit_contended",
            Self::RateLimitUnavailable => "rate_limit_unavailable",
        }
    }

    /// Builds the `detail` the client receives: what was wrong and what to do.
    pub fn detail(&self) -> String {
        match self {
            Self::MissingCredentials => {
                "The request has no Authorization header; send \"Authorization: Bearer\" followed by the token.".into()
            }
            Self::TokenInQuery => "The request has an access_token query parameter, which is not accepted; \
                send the token only in the Authorization header, and replace it because URLs are logged."
                .into(),
            Self::NotBearer => {
                "The Authorization scheme is not Bearer; send \"Authorization: Bearer\" followed by the token.".into()
            }
            Self::MultipleAuthorization => {
                "The request has more than one Authorization header or credential; send exactly one.".into()
            }
            Self::EmptyToken => "The Authorization header has the Bearer scheme but no token.".into(),
            Self::DoubledPrefix => "The Authorization header reads \"Bearer Bearer …\": the token was pasted \
                together with its \"Bearer \" prefix; configure the token alone."
                .into(),
            Self::MalformedToken => "The bearer token is not in RFC 6750 syntax (letters, digits, \
                \"-._~+/\" and trailing \"=\", at most 4096 characters)."
                .into(),
            Self::UnknownToken => "The bearer token is not valid: it is wrong or has been revoked.".into(),
            Self::NotYetValid => "The bearer token is not valid yet.".into(),
            Self::Expired => "The bearer token has expired; configure its replacement.".into(),
            Self::AuthThrottled { retry_after_seconds } => format!(
                "Too many failed authentications from this address; retry after {}.",
                seconds(*retry_after_seconds)
            ),
            Self::WrongTenant => "The bearer token does not belong to the tenant of this path.".into(),
            Self::IrregularPath => "The request path has dot segments, empty segments, path parameters or \
                percent-encoded separators or unreserved characters; send it in normalized form."
                .into(),
            Self::NotPermitted { missing } => {
                format!("The bearer token does not allow this operation; it needs {missing}.")
            }
            Self::MethodNotAllowed { allow } => {
                format!("The method is not defined on this SCIM endpoint; use one of {allow}.")
            }
            Self::Uncovered => "No operation of the SCIM gate allows this method on this endpoint.".into(),
            Self::NotImplemented => "The SCIM gate does not support bulk requests or the /Me endpoint.".into(),
            Self::UnsupportedMediaType => {
                "The Content-Type must be application/scim+json or application/json, in UTF-8.".into()
            }
            Self::BodyTooLarge { max_bytes } => format!("The request body is larger than {max_bytes} bytes."),
            Self::InvalidBody(error) => format!("{}.", capitalize(&error.to_string())),
            Self::RateLimited { retry_after_seconds } => {
                format!("Too many requests for this token; retry after {}.", seconds(*retry_after_seconds))
            }
            Self::RateLimitContended => "The rate limiter is busy; retry after 1 second.".into(),
            Self::RateLimitUnavailable => "The rate limiter's state is unavailable; retry after 1 second.".into(),
        }
    }
}

fn seconds(count: u64) -> String {
    if count == 1 {
        "1 second".to_owned()
    } else {
        format!("{count} seconds")
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The log reason: the client's detail, without trailing advice.
impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted { missing } => write!(f, "operation not allowed, missing {missing}"),
            Self::InvalidBody(error) => write!(f, "{error}"),
            Self::AuthThrottled { .. } => f.write_str("failed-authentication limit reached for the client address"),
            Self::RateLimited { .. } => f.write_str("rate limit reached for the token"),
            other => f.write_str(other.label()),
        }
    }
}

/// Builds a SCIM error document (RFC 7644 §3.12). `status` is a string, as the RFC's
/// examples and most clients expect.
pub fn error_document(status: u16, scim_type: Option<&str>, detail: &str) -> Vec<u8> {
    let mut document = serde_json::Map::new();
    document.insert("schemas".into(), serde_json::json!([ERROR_SCHEMA]));
    document.insert("status".into(), status.to_string().into());
    if let Some(scim_type) = scim_type {
        document.insert("scimType".into(), scim_type.into());
    }
    document.insert("detail".into(), detail.into());
    serde_json::Value::Object(document).to_string().into_bytes()
}

/// A rejected request: what the filter sends back, and what it logs and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    /// Response headers: `Content-Type`, and `WWW-Authenticate`, `Retry-After` or `Allow`
    /// where they apply.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub reason: RejectReason,
    /// The id of the token that authenticated the request, or `None` before that.
    pub token_id: Option<String>,
}

impl Rejection {
    /// Builds the response for `reason`. `realm` is the configured challenge realm, which
    /// configuration validation keeps free of quotes and backslashes.
    pub fn new(reason: RejectReason, realm: &str, token_id: Option<&str>) -> Self {
        let status = reason.status();
        let mut headers = vec![("content-type".to_owned(), SCIM_MEDIA_TYPE.to_owned())];
        if let Some(challenge) = challenge_header(&reason, realm) {
            headers.push(("www-authenticate".to_owned(), challenge));
        }
        if let Some(seconds) = reason.retry_after_seconds() {
            headers.push(("retry-after".to_owned(), seconds.to_string()));
        }
        if let RejectReason::MethodNotAllowed { allow } = &reason {
            headers.push(("allow".to_owned(), (*allow).to_owned()));
        }
        let body = error_document(status, reason.scim_type(), &reason.detail());
        Self { status, headers, body, reason, token_id: token_id.map(str::to_owned) }
    }

    /// Returns the value of the response header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// Builds the one log line for this rejection. The query string is left out of the
    /// path because clients put tokens there (RFC 6750 §2.3), and characters other than
    /// printable ASCII are replaced so that a path cannot forge log lines.
    pub fn log_line(&self, method: &str, path: &str) -> String {
        format!(
            "scim request rejected: status={} reason=\"{}\" token={} method={} path={}",
            self.status,
            self.reason,
            self.token_id.as_deref().unwrap_or(UNKNOWN_TOKEN_ID),
            printable(method, 16),
            printable(path.split('?').next().unwrap_or(""), 256),
        )
    }
}

fn challenge_header(reason: &RejectReason, realm: &str) -> Option<String> {
    match reason.challenge() {
        Challenge::None => None,
        Challenge::Realm => Some(format!("Bearer realm=\"{realm}\"")),
        Challenge::Error(error) => {
            let mut value = format!("Bearer realm=\"{realm}\", error=\"{}\"", error.code());
            if let RejectReason::NotPermitted { missing } = reason {
                value.push_str(&format!(", scope=\"{missing}\""));
            }
            Some(value)
        }
    }
}

/// Returns `text` cut to `max_chars`, with characters outside printable ASCII as `?`.
pub(crate) fn printable(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).map(|c| if c.is_ascii_graphic() { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::operation::Operation;

    fn document(rejection: &Rejection) -> serde_json::Value {
        serde_json::from_slice(&rejection.body).unwrap_or_default()
    }

    #[test]
    fn document_shape() {
        let rejection = Rejection::new(RejectReason::Expired, "scim", Some("okta"));
        let body = document(&rejection);
        assert_eq!(body["schemas"], serde_json::json!([ERROR_SCHEMA]));
        assert_eq!(body["status"], "401", "status must be a string");
        assert!(body.get("scimType").is_none(), "no scimType for authentication errors");
        assert_eq!(body["detail"], "The bearer token has expired; configure its replacement.");
    }

    #[test]
    fn content_type_always_scim() {
        let rejection = Rejection::new(RejectReason::UnsupportedMediaType, "scim", None);
        assert_eq!(rejection.header("Content-Type"), Some(SCIM_MEDIA_TYPE));
    }

    #[test]
    fn missing_credentials_challenge() {
        let rejection = Rejection::new(RejectReason::MissingCredentials, "acme scim", None);
        assert_eq!(rejection.header("www-authenticate"), Some("Bearer realm=\"acme scim\""));
    }

    #[test]
    fn insufficient_scope_challenge() {
        let missing = OperationSet::of(Operation::DeleteUsers);
        let rejection = Rejection::new(RejectReason::NotPermitted { missing }, "scim", Some("okta"));
        let expected = "Bearer realm=\"scim\", error=\"insufficient_scope\", scope=\"delete_users\"";
        assert_eq!(rejection.header("www-authenticate"), Some(expected));
    }

    #[test]
    fn invalid_body_scim_type() {
        let rejection = Rejection::new(RejectReason::InvalidBody(BodyError::Syntax), "scim", Some("okta"));
        assert_eq!(document(&rejection)["scimType"], "invalidSyntax");
        assert_eq!(document(&rejection)["detail"], "The request body is not valid UTF-8 JSON.");
    }

    #[test]
    fn rate_limited_retry_after() {
        let rejection = Rejection::new(RejectReason::RateLimited { retry_after_seconds: 3 }, "scim", Some("okta"));
        assert_eq!(rejection.status, 429);
        assert_eq!(rejection.header("retry-after"), Some("3"));
        assert_eq!(rejection.header("www-authenticate"), None);
    }

    #[test]
    fn log_line_drops_query() {
        let rejection = Rejection::new(RejectReason::TokenInQuery, "scim", None);
        let line = rejection.log_line("GET", "/scim/v2/Users?access_token=secret");
        assert!(!line.contains("secret"), "the query must not be logged: {line}");
        assert!(line.contains("token=unknown"), "{line}");
    }

    #[test]
    fn log_line_escapes_newlines() {
        let rejection = Rejection::new(RejectReason::UnknownToken, "scim", None);
        let line = rejection.log_line("GET", "/scim/v2/Users\nforged");
        assert!(!line.contains('\n'), "{line:?}");
    }

    #[test]
    fn failed_authentication_classes() {
        assert!(RejectReason::MalformedToken.is_failed_authentication());
        assert!(RejectReason::UnknownToken.is_failed_authentication());
        assert!(!RejectReason::Uncovered.is_failed_authentication(), "403 means the token was valid");
    }
}
