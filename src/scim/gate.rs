//! The gate: one request's way from headers (and, where needed, body) to a decision.
//!
//! The host calls [`ScimGate::guards`] with the `:path`, then
//! [`ScimGate::on_request_headers`]. On a [`HeadersDecision::NeedBody`], the host applies
//! the header changes and lets the headers continue, because a proxy cannot change headers
//! that have already continued. It then buffers the body, rejecting with
//! [`ScimGate::body_too_large`] once the body exceeds [`ScimGate::max_body_bytes`]. At end of
//! stream it calls [`ScimGate::on_request_body`] with the whole body, or with an empty body
//! if the headers ended the stream.
//!
//! Checks run in this order: failed-authentication throttle for the client address, the
//! token, its validity window, the path, the tenant, the token's rate limit, the
//! operation, the body's headers, and last the body. The throttle is checked only while some
//! client has a failure window open (see [`rate_limit::failures_recent`]).

use std::borrow::Cow;
use std::cell::RefCell;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::body::classify_body;
use super::config::{PrefixRule, ScimConfig, TokenEntry};
use super::error::{printable, RejectReason, Rejection};
use super::operation::{classify, BodyKind, Classification, Endpoint, OperationSet};
use super::path::{canonical, has_access_token_parameter, has_prefix, is_regular, split_query};
use super::policy::{check_allowed, check_body_headers, check_candidates, check_tenant, check_validity};
use super::rate_limit::{self, Admission, Lease, SharedStore};
use super::token::{bearer_token, find_token};
use crate::config::{Config, ConfigError, ConfigWarning};

/// The validated gate, built once per configuration in each worker's VM.
#[derive(Debug)]
pub struct ScimGate {
    config: ScimConfig,
    /// Keys the choice of failed-authentication slot; derived from the token digests so
    /// that every worker with the same configuration agrees on it.
    failure_secret: [u8; 32],
    /// This worker's unspent requests of each token's bucket, in the order of
    /// `config.tokens`. Not `Clone`: two copies would spend the same requests twice.
    leases: RefCell<Vec<Lease>>,
    /// The shared-data key of each token's bucket, in the order of `config.tokens`, built
    /// once so that a request served from its lease formats nothing.
    bucket_keys: Vec<String>,
}

/// The parts of a request the gate reads.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// The `:path`, with its query.
    pub path: &'a str,
    /// Every header, repeated names included, as the host lists them. The names and values
    /// borrow the host's bytes where they can.
    pub headers: &'a [(Cow<'a, str>, Cow<'a, str>)],
}

/// What the gate reads from the host while it decides on headers.
pub trait GateHost {
    /// Returns the rate-limit state shared with the other workers.
    fn store(&mut self) -> &mut dyn SharedStore;
    /// Reads the downstream address, `ip:port` (Envoy's `source.address`). The gate reads it
    /// only to throttle or count failed authentications, because each read is a call into
    /// Envoy.
    fn client_address(&self) -> Option<String>;
}

impl RequestHead<'_> {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_ref()).collect()
    }
}

/// Changes to the request headers before they go upstream: first remove every header named
/// in `remove`, then add each of `set`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderChanges {
    pub remove: Vec<String>,
    pub set: Vec<(String, String)>,
}

/// An accepted request, for the debug log and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub token_id: String,
    pub operations: OperationSet,
}

impl Accepted {
    /// Builds the debug log line. The query is left out, as in [`Rejection::log_line`].
    pub fn log_line(&self, method: &str, path: &str) -> String {
        format!(
            "scim request accepted: token={} operations=\"{}\" method={} path={}",
            self.token_id,
            self.operations,
            printable(method, 16),
            printable(split_query(path).0, 256),
        )
    }
}

/// A request waiting for its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBody {
    token_id: String,
    allowed: OperationSet,
    kind: BodyKind,
}

impl PendingBody {
    pub fn token_id(&self) -> &str {
        &self.token_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadersDecision {
    /// Send the rejection instead of forwarding.
    Reject(Rejection),
    /// Apply the changes and forward; the body, if any, is not checked.
    Forward { changes: HeaderChanges, accepted: Accepted },
    /// Apply the changes, let the headers continue, and buffer the body.
    NeedBody { changes: HeaderChanges, pending: PendingBody },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyDecision {
    Reject(Rejection),
    Forward(Accepted),
}

impl ScimGate {
    /// Validates the `scim` section of the configuration. Errors carry JSON paths from
    /// `scim` (`scim.tokens[1].sha256`).
    pub fn from_config(
        value: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<(Self, Vec<ConfigWarning>), ConfigError> {
        let (config, warnings) = ScimConfig::from_json(value, now)?;
        let mut hasher = Sha256::new();
        hasher.update(b"edgeidp scim failed-authentication slots");
        for token in &config.tokens {
            hasher.update(token.digest.to_hex());
        }
        let leases = RefCell::new(vec![Lease::default(); config.tokens.len()]);
        let bucket_keys = config.tokens.iter().map(|token| rate_limit::bucket_key(&token.id)).collect();
        Ok((Self { config, failure_secret: hasher.finalize().into(), leases, bucket_keys }, warnings))
    }

    /// Validates the `scim` section of `config`, if there is one, together with the rest of
    /// the configuration: the gate's prefixes must not overlap the SAML endpoints' prefix,
    /// because a path would then belong to both. The filter and the command line both load
    /// the gate this way.
    pub fn for_config(
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<(Option<Self>, Vec<ConfigWarning>), ConfigError> {
        let Some(section) = &config.scim else {
            return Ok((None, Vec::new()));
        };
        let (gate, warnings) = Self::from_config(section, now)?;
        let saml_prefix = config.saml_prefix.to_ascii_lowercase();
        for rule in &gate.config.prefixes {
            if has_prefix(&rule.prefix, &saml_prefix) || has_prefix(&saml_prefix, &rule.prefix) {
                return Err(ConfigError::invalid(
                    "scim.prefixes",
                    &rule.prefix,
                    format!("the SCIM prefix overlaps saml_prefix {:?}; give each its own path", config.saml_prefix),
                ));
            }
        }
        Ok((Some(gate), warnings))
    }

    pub fn config(&self) -> &ScimConfig {
        &self.config
    }

    /// Returns whether the gate handles a request for `path`. Paths match after normalization
    /// (see [`canonical`]), so `//SCIM/v2/../v2/Users` is guarded like `/scim/v2/Users`.
    pub fn guards(&self, path: &str) -> bool {
        let canonical = canonical(path);
        self.config.prefixes.iter().any(|rule| has_prefix(&canonical, &rule.prefix))
    }

    pub fn max_body_bytes(&self) -> u64 {
        self.config.max_body_bytes
    }

    /// Decides a request from its headers.
    pub fn on_request_headers(
        &self,
        request: &RequestHead<'_>,
        now: OffsetDateTime,
        host: &mut dyn GateHost,
    ) -> HeadersDecision {
        let now_seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let limit = self.config.failed_auth_limit;
        // Computed at most once, because it reads the client's address from the host.
        let mut failure_key = None;
        if rate_limit::failures_recent(host.store(), now_seconds) {
            let key = failure_key.insert(self.failure_key(host));
            if let Some(retry_after_seconds) = rate_limit::throttled(host.store(), key, limit, now_seconds) {
                return self.reject(RejectReason::AuthThrottled { retry_after_seconds }, None);
            }
        }

        let token = match self.authenticate(request, now) {
            Ok(token) => token,
            Err((reason, token)) => {
                // A failure to count does not change the response, which is already a
                // rejection.
                let key = failure_key.unwrap_or_else(|| self.failure_key(host));
                let _ = rate_limit::record_failure(host.store(), &key, limit, now_seconds);
                return self.reject(reason, token.map(|t| t.id.as_str()));
            }
        };

        match self.authorize(request, token, now, host.store()) {
            Ok(decision) => decision,
            Err(reason) => self.reject(reason, Some(&token.id)),
        }
    }

    /// Returns the shared-data key of the failure counter for the request's client.
    fn failure_key(&self, host: &dyn GateHost) -> String {
        rate_limit::failure_key(&self.failure_secret, host.client_address().as_deref())
    }

    /// Decides a request from its whole body.
    pub fn on_request_body(&self, pending: &PendingBody, body: &[u8]) -> BodyDecision {
        if u64::try_from(body.len()).map_or(true, |length| length > self.config.max_body_bytes) {
            return BodyDecision::Reject(self.body_too_large(pending));
        }
        let checked = classify_body(pending.kind, body)
            .map_err(RejectReason::InvalidBody)
            .and_then(|required| check_allowed(pending.allowed, required).map(|()| required));
        match checked {
            Ok(operations) => BodyDecision::Forward(Accepted { token_id: pending.token_id.clone(), operations }),
            Err(reason) => BodyDecision::Reject(Rejection::new(reason, &self.config.realm, Some(&pending.token_id))),
        }
    }

    /// Builds the rejection for a body that has grown past [`Self::max_body_bytes`].
    pub fn body_too_large(&self, pending: &PendingBody) -> Rejection {
        let reason = RejectReason::BodyTooLarge { max_bytes: self.config.max_body_bytes };
        Rejection::new(reason, &self.config.realm, Some(&pending.token_id))
    }

    fn reject(&self, reason: RejectReason, token_id: Option<&str>) -> HeadersDecision {
        HeadersDecision::Reject(Rejection::new(reason, &self.config.realm, token_id))
    }

    /// Finds the request's token and checks its validity window. A failure carries the
    /// token when one was found, for the log line.
    fn authenticate(
        &self,
        request: &RequestHead<'_>,
        now: OffsetDateTime,
    ) -> Result<&TokenEntry, (RejectReason, Option<&TokenEntry>)> {
        let (_, query) = split_query(request.path);
        if query.is_some_and(has_access_token_parameter) {
            return Err((RejectReason::TokenInQuery, None));
        }
        let presented = bearer_token(&request.header_values("authorization")).map_err(|reason| (reason, None))?;
        let token = find_token(&self.config.tokens, presented).ok_or((RejectReason::UnknownToken, None))?;
        check_validity(token, now).map_err(|reason| (reason, Some(token)))?;
        Ok(token)
    }

    fn authorize(
        &self,
        request: &RequestHead<'_>,
        token: &TokenEntry,
        now: OffsetDateTime,
        store: &mut dyn SharedStore,
    ) -> Result<HeadersDecision, RejectReason> {
        let (path, _) = split_query(request.path);
        if !is_regular(path) {
            return Err(RejectReason::IrregularPath);
        }
        let canonical = canonical(path);
        let rule = self.rule_for(&canonical).ok_or(RejectReason::Uncovered)?;
        check_tenant(token, rule)?;
        self.check_rate(token, now, store)?;

        let rest = canonical.get(rule.prefix.len()..).unwrap_or("");
        let changes = self.header_changes(request, token);
        match classify(request.method, Endpoint::from_path(rest)) {
            Classification::Decided(required) => {
                check_allowed(token.operations, required)?;
                let accepted = Accepted { token_id: token.id.clone(), operations: required };
                Ok(HeadersDecision::Forward { changes, accepted })
            }
            Classification::NeedsBody { kind, candidates } => {
                check_candidates(token.operations, candidates)?;
                let content_length = request.header_values("content-length").first().copied();
                check_body_headers(&request.header_values("content-type"), content_length, self.config.max_body_bytes)?;
                let pending = PendingBody { token_id: token.id.clone(), allowed: token.operations, kind };
                Ok(HeadersDecision::NeedBody { changes, pending })
            }
            Classification::NotImplemented => Err(RejectReason::NotImplemented),
            Classification::MethodNotAllowed { allow } => Err(RejectReason::MethodNotAllowed { allow }),
            Classification::Uncovered => Err(RejectReason::Uncovered),
        }
    }

    /// Returns the longest guarded prefix of a canonical path.
    fn rule_for(&self, canonical: &str) -> Option<&PrefixRule> {
        self.config.prefixes.iter().find(|rule| has_prefix(canonical, &rule.prefix))
    }

    fn check_rate(
        &self,
        token: &TokenEntry,
        now: OffsetDateTime,
        store: &mut dyn SharedStore,
    ) -> Result<(), RejectReason> {
        let now_millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        // `token` is an element of `config.tokens`, and `leases` and `bucket_keys` have one
        // entry for each. If the lease cannot be found or borrowed, an empty one is used
        // instead of panicking: it takes a new lease from the shared bucket, whose leftovers
        // are then dropped.
        let index = self.config.tokens.iter().position(|entry| std::ptr::eq(entry, token));
        let built_key;
        let key = match index.and_then(|i| self.bucket_keys.get(i)) {
            Some(key) => key.as_str(),
            None => {
                built_key = rate_limit::bucket_key(&token.id);
                built_key.as_str()
            }
        };
        let mut leases = self.leases.try_borrow_mut().ok();
        let mut spare = Lease::default();
        let lease = match (leases.as_deref_mut(), index) {
            (Some(leases), Some(index)) => leases.get_mut(index).unwrap_or(&mut spare),
            _ => &mut spare,
        };
        match rate_limit::take(store, key, token.rate_limit, now_millis, lease) {
            Admission::Allowed => Ok(()),
            Admission::Limited { retry_after_seconds } => Err(RejectReason::RateLimited { retry_after_seconds }),
            Admission::Contended => Err(RejectReason::RateLimitContended),
            Admission::Unavailable => Err(RejectReason::RateLimitUnavailable),
        }
    }

    /// Builds the header changes: the tenant header replaces whatever the client sent under
    /// that name, and `Authorization` is removed when `strip_authorization` is set. A header
    /// the request does not carry is not listed for removal, because each removal is a call
    /// into Envoy.
    fn header_changes(&self, request: &RequestHead<'_>, token: &TokenEntry) -> HeaderChanges {
        let header = self.config.tenant_header.clone();
        let mut remove = Vec::new();
        if !request.header_values(&header).is_empty() {
            remove.push(header.clone());
        }
        if self.config.strip_authorization && !request.header_values("authorization").is_empty() {
            remove.push("authorization".to_owned());
        }
        HeaderChanges { remove, set: vec![(header, token.tenant.clone())] }
    }
}
