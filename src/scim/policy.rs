//! The checks between an authenticated token and a request: validity window, tenant,
//! operations, and the headers of a body-carrying request.

use time::OffsetDateTime;

use super::body::is_json_media_type;
use super::config::{PrefixRule, TokenEntry};
use super::error::RejectReason;
use super::operation::OperationSet;

/// Checks that the token is valid now: from `not_before` through `not_after`, both inclusive.
pub fn check_validity(token: &TokenEntry, now: OffsetDateTime) -> Result<(), RejectReason> {
    if token.not_before.is_some_and(|start| now < start) {
        return Err(RejectReason::NotYetValid);
    }
    if token.not_after.is_some_and(|end| now > end) {
        return Err(RejectReason::Expired);
    }
    Ok(())
}

/// A tenant's own prefix accepts only that tenant's tokens; the shared prefixes accept all.
pub fn check_tenant(token: &TokenEntry, rule: &PrefixRule) -> Result<(), RejectReason> {
    match &rule.tenant {
        Some(tenant) if *tenant != token.tenant => Err(RejectReason::WrongTenant),
        _ => Ok(()),
    }
}

/// Requires every operation in `required`.
pub fn check_allowed(allowed: OperationSet, required: OperationSet) -> Result<(), RejectReason> {
    let missing = required.difference(allowed);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(RejectReason::NotPermitted { missing })
    }
}

/// Before the body is read: every valid body needs at least one of `candidates`, so a token
/// with none of them is rejected without waiting for the body.
pub fn check_candidates(allowed: OperationSet, candidates: OperationSet) -> Result<(), RejectReason> {
    if allowed.intersects(candidates) {
        Ok(())
    } else {
        Err(RejectReason::NotPermitted { missing: candidates })
    }
}

/// Checks the headers of a request whose body the gate reads: exactly one JSON
/// `Content-Type`, and a `Content-Length` (when sent) within `max_body_bytes`.
pub fn check_body_headers(
    content_types: &[&str],
    content_length: Option<&str>,
    max_body_bytes: u64,
) -> Result<(), RejectReason> {
    match content_types {
        [content_type] if is_json_media_type(content_type) => {}
        _ => return Err(RejectReason::UnsupportedMediaType),
    }
    let length = content_length.and_then(|value| value.trim().parse::<u64>().ok());
    if length.is_some_and(|length| length > max_body_bytes) {
        return Err(RejectReason::BodyTooLarge { max_bytes: max_body_bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::operation::Operation;
    use crate::scim::rate_limit::RateLimit;
    use crate::scim::token::TokenDigest;
    use time::macros::datetime;

    fn token(not_before: Option<OffsetDateTime>, not_after: Option<OffsetDateTime>) -> TokenEntry {
        TokenEntry {
            id: "okta".into(),
            digest: TokenDigest::of_token("t"),
            tenant: "acme".into(),
            not_before,
            not_after,
            operations: OperationSet::reference_default(),
            rate_limit: RateLimit::default(),
        }
    }

    #[test]
    fn validity_window_inclusive() {
        let start = datetime!(2026-01-01 00:00 UTC);
        let end = datetime!(2026-02-01 00:00 UTC);
        let entry = token(Some(start), Some(end));
        assert_eq!(check_validity(&entry, start - time::Duration::seconds(1)), Err(RejectReason::NotYetValid));
        assert_eq!(check_validity(&entry, start), Ok(()));
        assert_eq!(check_validity(&entry, end), Ok(()));
        assert_eq!(check_validity(&entry, end + time::Duration::seconds(1)), Err(RejectReason::Expired));
    }

    #[test]
    fn tenant_prefix() {
        let entry = token(None, None);
        let own = PrefixRule { prefix: "/scim/acme".into(), tenant: Some("acme".into()) };
        let other = PrefixRule { prefix: "/scim/beta".into(), tenant: Some("beta".into()) };
        let shared = PrefixRule { prefix: "/scim".into(), tenant: None };
        assert_eq!(check_tenant(&entry, &own), Ok(()));
        assert_eq!(check_tenant(&entry, &other), Err(RejectReason::WrongTenant));
        assert_eq!(check_tenant(&entry, &shared), Ok(()));
    }

    #[test]
    fn allowed_reports_missing() {
        let required = OperationSet::of(Operation::UpdateUsers).with(Operation::DeactivateUsers);
        let allowed = OperationSet::of(Operation::UpdateUsers);
        let missing = OperationSet::of(Operation::DeactivateUsers);
        assert_eq!(check_allowed(allowed, required), Err(RejectReason::NotPermitted { missing }));
    }

    #[test]
    fn candidates_need_one() {
        let candidates = OperationSet::of(Operation::UpdateUsers).with(Operation::DeactivateUsers);
        assert_eq!(check_candidates(OperationSet::of(Operation::DeactivateUsers), candidates), Ok(()));
        let rejected = check_candidates(OperationSet::of(Operation::Read), candidates);
        assert_eq!(rejected, Err(RejectReason::NotPermitted { missing: candidates }));
    }

    #[test]
    fn body_headers() {
        let json = ["application/scim+json; charset=utf-8"];
        assert_eq!(check_body_headers(&json, Some("10"), 100), Ok(()));
        assert_eq!(check_body_headers(&json, None, 100), Ok(()), "chunked bodies have no Content-Length");
        assert_eq!(check_body_headers(&json, Some("101"), 100), Err(RejectReason::BodyTooLarge { max_bytes: 100 }));
        assert_eq!(check_body_headers(&[], None, 100), Err(RejectReason::UnsupportedMediaType));
        assert_eq!(check_body_headers(&["text/plain"], None, 100), Err(RejectReason::UnsupportedMediaType));
        let two = ["application/json", "application/json"];
        assert_eq!(check_body_headers(&two, None, 100), Err(RejectReason::UnsupportedMediaType));
    }
}
