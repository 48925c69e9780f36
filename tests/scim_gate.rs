//! Every rejection path of the SCIM gate core, with its status, headers and SCIM body, and
//! the header changes of accepted requests.

#[path = "support/scim.rs"]
mod support;

use edgeidp::scim::{MemoryStore, SharedStore, StoreError};
use serde_json::{json, Value};
use support::{digest, error_document, gate, run, run_once, token, token_entry, Request, NOW};
use time::Duration;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn reference_gate() -> edgeidp::scim::ScimGate {
    gate(json!({
        "tokens": [
            token_entry("okta", "acme", None),
            token_entry("reader", "acme", Some(&["read"])),
            token_entry("updater", "acme", Some(&["read", "update_users"])),
            {"id": "expired", "sha256": digest("expired"), "tenant": "acme", "not_after": "2026-02-01T00:00:00Z"},
            {"id": "future", "sha256": digest("future"), "tenant": "acme", "not_before": "2026-04-01T00:00:00Z"}
        ]
    }))
}

fn get_users() -> Request {
    Request::new("GET", "/scim/v2/Users?startIndex=1&count=2")
}

fn deactivate_patch() -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]})
}

/// Asserts status, challenge and detail of a rejection, and that neither the body nor the
/// log line carries any test token or digest.
fn assert_rejected(request: &Request, status: u16, challenge: Option<&str>, detail_part: &str) {
    let outcome = run_once(&reference_gate(), request);
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, status, "status for {request:?}");
    assert_eq!(rejection.header("www-authenticate"), challenge, "challenge for {request:?}");
    let detail = error_document(rejection)["detail"].as_str().unwrap_or("").to_owned();
    assert!(detail.contains(detail_part), "detail {detail:?} should mention {detail_part:?}");
    assert_no_secret(&String::from_utf8_lossy(&rejection.body));
    assert_no_secret(&rejection.log_line(&request.method, &request.path));
}

fn assert_no_secret(text: &str) {
    for id in ["okta", "reader", "updater", "expired", "future", "wrong"] {
        assert!(!text.contains(&token(id)), "token of {id} leaked into {text:?}");
        assert!(!text.contains(&digest(id)), "digest of {id} leaked into {text:?}");
    }
    assert!(!text.contains("edgeidp_scim_"), "a token prefix leaked into {text:?}");
}

const REALM: &str = "Bearer realm=\"scim\"";
const INVALID_REQUEST: &str = "Bearer realm=\"scim\", error=\"invalid_request\"";
const INVALID_TOKEN: &str = "Bearer realm=\"scim\", error=\"invalid_token\"";

#[test]
fn missing_authorization() {
    assert_rejected(&get_users(), 401, Some(REALM), "no Authorization header");
}

#[test]
fn basic_scheme() {
    let request = get_users().header("authorization", "Basic dXNlcjpwYXNz");
    assert_rejected(&request, 401, Some(REALM), "not Bearer");
}

#[test]
fn empty_bearer() {
    let request = get_users().header("authorization", "Bearer ");
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "no token");
}

#[test]
fn malformed_token() {
    let request = get_users().header("authorization", "Bearer not a token");
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "RFC 6750 syntax");
}

#[test]
fn doubled_prefix() {
    let value = format!("Bearer Bearer {}", token("okta"));
    let request = get_users().header("authorization", &value);
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "pasted together with its \"Bearer \" prefix");
}

#[test]
fn two_authorization_headers() {
    let request = get_users().bearer("okta").bearer("okta");
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "more than one Authorization");
}

#[test]
fn joined_authorization_headers() {
    let value = format!("Bearer {},Bearer {}", token("okta"), token("okta"));
    let request = get_users().header("authorization", &value);
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "more than one Authorization");
}

#[test]
fn token_in_query() {
    let path = format!("/scim/v2/Users?access_token={}", token("okta"));
    let request = Request::new("GET", &path).bearer("okta");
    assert_rejected(&request, 400, Some(INVALID_REQUEST), "access_token query parameter");
}

#[test]
fn wrong_token() {
    assert_rejected(&get_users().bearer("wrong"), 401, Some(INVALID_TOKEN), "wrong or has been revoked");
}

#[test]
fn expired_token() {
    assert_rejected(&get_users().bearer("expired"), 401, Some(INVALID_TOKEN), "expired");
}

#[test]
fn expired_token_logged_by_id() {
    let outcome = run_once(&reference_gate(), &get_users().bearer("expired"));
    let line = outcome.rejection().log_line("GET", "/scim/v2/Users");
    assert!(line.contains("token=expired"), "{line}");
    assert!(line.contains("reason=\"expired\""), "{line}");
}

#[test]
fn not_yet_valid_token() {
    assert_rejected(&get_users().bearer("future"), 401, Some(INVALID_TOKEN), "not valid yet");
}

#[test]
fn token_expires_after_not_after() {
    let gate = gate(json!({"tokens": [
        {"id": "okta", "sha256": digest("okta"), "tenant": "acme", "not_after": "2026-03-01T12:00:00Z"}
    ]}));
    let request = get_users().bearer("okta");
    let mut store = MemoryStore::default();
    assert_eq!(run(&gate, &request, NOW, &mut store).operations(), "read", "valid at not_after");
    let later = run(&gate, &request, NOW + Duration::seconds(1), &mut store);
    assert_eq!(later.rejection().status, 401, "rejected one second after not_after");
}

#[test]
fn rotated_out_token() {
    let overlap = gate(json!({"tokens": [token_entry("old", "acme", None), token_entry("new", "acme", None)]}));
    let after = gate(json!({"tokens": [token_entry("new", "acme", None)]}));
    assert_eq!(run_once(&overlap, &get_users().bearer("old")).operations(), "read", "old token during overlap");
    assert_eq!(run_once(&overlap, &get_users().bearer("new")).operations(), "read", "new token during overlap");
    assert_eq!(run_once(&after, &get_users().bearer("new")).operations(), "read", "new token after rotation");
    let rejection = run_once(&after, &get_users().bearer("old"));
    assert_eq!(rejection.rejection().status, 401, "old token after rotation");
    assert_eq!(rejection.rejection().header("www-authenticate"), Some(INVALID_TOKEN));
}

#[test]
fn operation_not_permitted() {
    let request = Request::new("DELETE", "/scim/v2/Users/2819c223").bearer("okta");
    let challenge = "Bearer realm=\"scim\", error=\"insufficient_scope\", scope=\"delete_users\"";
    assert_rejected(&request, 403, Some(challenge), "needs delete_users");
}

#[test]
fn read_only_token_cannot_patch() {
    let request = Request::new("PATCH", "/scim/v2/Users/2819c223").bearer("reader").json(&deactivate_patch());
    let challenge = "Bearer realm=\"scim\", error=\"insufficient_scope\", scope=\"update_users deactivate_users\"";
    assert_rejected(&request, 403, Some(challenge), "needs update_users deactivate_users");
}

#[test]
fn update_token_cannot_deactivate() {
    let request = Request::new("PATCH", "/scim/v2/Users/2819c223").bearer("updater").json(&deactivate_patch());
    let outcome = run_once(&reference_gate(), &request);
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, 403);
    let challenge = "Bearer realm=\"scim\", error=\"insufficient_scope\", scope=\"deactivate_users\"";
    assert_eq!(rejection.header("www-authenticate"), Some(challenge));
    assert_eq!(
        error_document(rejection)["detail"],
        "The bearer token does not allow this operation; it needs deactivate_users."
    );
}

#[test]
fn update_token_cannot_deactivate_by_put() {
    let user = json!({"schemas": [USER], "id": "2819c223", "userName": "a@example.com", "active": false});
    let request = Request::new("PUT", "/scim/v2/Users/2819c223").bearer("updater").json(&user);
    assert_eq!(run_once(&reference_gate(), &request).rejection().status, 403);
}

#[test]
fn uncovered_method() {
    let request = Request::new("POST", "/scim/v2/Devices").bearer("okta");
    let challenge = "Bearer realm=\"scim\", error=\"insufficient_scope\"";
    assert_rejected(&request, 403, Some(challenge), "No operation");
}

#[test]
fn method_not_allowed() {
    let request = Request::new("DELETE", "/scim/v2/Users").bearer("okta");
    assert_rejected(&request, 405, None, "use one of GET, HEAD, POST");
    let outcome = run_once(&reference_gate(), &request);
    assert_eq!(outcome.rejection().header("allow"), Some("GET, HEAD, POST"));
}

#[test]
fn discovery_write_not_allowed() {
    let request = Request::new("PUT", "/scim/v2/ServiceProviderConfig").bearer("reader").header("content-length", "0");
    let outcome = run_once(&reference_gate(), &request);
    assert_eq!(outcome.rejection().status, 405, "as a conforming server answers");
    assert_eq!(outcome.rejection().header("allow"), Some("GET, HEAD"));
}

#[test]
fn bulk_not_implemented() {
    let request = Request::new("POST", "/scim/v2/Bulk").bearer("okta").json(&json!({}));
    assert_rejected(&request, 501, None, "bulk");
}

#[test]
fn irregular_path() {
    let request = Request::new("GET", "/scim/v2/Users/../Groups").bearer("okta");
    assert_rejected(&request, 400, None, "dot segments");
}

#[test]
fn missing_content_type() {
    let request = Request::new("POST", "/scim/v2/Users").bearer("okta").raw_body(b"{}");
    assert_rejected(&request, 415, None, "application/scim+json");
}

#[test]
fn wrong_content_type() {
    let request =
        Request::new("POST", "/scim/v2/Users").bearer("okta").header("content-type", "text/plain").raw_body(b"{}");
    assert_rejected(&request, 415, None, "application/scim+json");
}

#[test]
fn content_length_over_limit() {
    let request = Request::new("POST", "/scim/v2/Users")
        .bearer("okta")
        .header("content-type", "application/json")
        .header("content-length", "524289");
    assert_rejected(&request, 413, None, "larger than 524288 bytes");
}

#[test]
fn body_over_limit() {
    let padding = "x".repeat(600 * 1024);
    let user = json!({"schemas": [USER], "userName": "a", "displayName": padding});
    let request = Request::new("POST", "/scim/v2/Users").bearer("okta").json(&user);
    assert_rejected(&request, 413, None, "larger than 524288 bytes");
}

#[test]
fn malformed_json() {
    let request = Request::new("POST", "/scim/v2/Users")
        .bearer("okta")
        .header("content-type", "application/scim+json")
        .raw_body(b"{\"schemas\":");
    assert_rejected(&request, 400, None, "not valid UTF-8 JSON");
    let outcome = run_once(&reference_gate(), &request);
    assert_eq!(error_document(outcome.rejection())["scimType"], "invalidSyntax");
}

#[test]
fn empty_body() {
    let request = Request::new("POST", "/scim/v2/Users").bearer("okta").header("content-type", "application/scim+json");
    assert_rejected(&request, 400, None, "not valid UTF-8 JSON");
}

#[test]
fn body_not_a_user() {
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"});
    let request = Request::new("POST", "/scim/v2/Users").bearer("okta").json(&group);
    assert_rejected(&request, 400, None, "not a SCIM User");
    let outcome = run_once(&reference_gate(), &request);
    assert_eq!(error_document(outcome.rejection())["scimType"], "invalidValue");
}

#[test]
fn body_duplicate_attribute() {
    let request = Request::new("PUT", "/scim/v2/Users/1")
        .bearer("updater")
        .header("content-type", "application/scim+json")
        .raw_body(format!(r#"{{"schemas":["{USER}"],"active":true,"ACTIVE":false}}"#).as_bytes());
    assert_rejected(&request, 400, None, "attribute twice");
}

#[test]
fn patch_remove_without_path() {
    let patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove"}]});
    let request = Request::new("PATCH", "/scim/v2/Users/1").bearer("okta").json(&patch);
    assert_rejected(&request, 400, None, "no \"path\"");
    let outcome = run_once(&reference_gate(), &request);
    assert_eq!(error_document(outcome.rejection())["scimType"], "noTarget");
}

#[test]
fn rate_limited() {
    let gate = gate(json!({"tokens": [
        {"id": "okta", "sha256": digest("okta"), "tenant": "acme", "rate_limit": {"requests_per_second": 1, "burst": 2}}
    ]}));
    let mut store = MemoryStore::default();
    let request = get_users().bearer("okta");
    for i in 0..2 {
        assert_eq!(run(&gate, &request, NOW, &mut store).operations(), "read", "request {i} within the burst");
    }
    let outcome = run(&gate, &request, NOW, &mut store);
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, 429);
    assert_eq!(rejection.header("retry-after"), Some("1"));
    assert_eq!(rejection.token_id.as_deref(), Some("okta"));
    assert_eq!(error_document(rejection)["detail"], "Too many requests for this token; retry after 1 second.");
    let refilled = run(&gate, &request, NOW + Duration::seconds(1), &mut store);
    assert_eq!(refilled.operations(), "read", "one request refilled after a second");
}

#[test]
fn rate_limit_shared_between_workers() {
    // Two gates built from the same configuration are two workers sharing one store.
    let config = json!({"tokens": [
        {"id": "okta", "sha256": digest("okta"), "tenant": "acme", "rate_limit": {"requests_per_second": 1, "burst": 2}}
    ]});
    let workers = [gate(config.clone()), gate(config)];
    let mut store = MemoryStore::default();
    let request = get_users().bearer("okta");
    assert_eq!(run(&workers[0], &request, NOW, &mut store).operations(), "read");
    assert_eq!(run(&workers[1], &request, NOW, &mut store).operations(), "read");
    assert_eq!(run(&workers[0], &request, NOW, &mut store).rejection().status, 429, "the burst is shared");
}

#[test]
fn brute_force_throttled() {
    let gate = gate(json!({
        "failed_auth_limit": {"max_failures": 5, "window_seconds": 60},
        "tokens": [token_entry("okta", "acme", None)]
    }));
    let mut store = MemoryStore::default();
    let attacker = "198.51.100.7:5000";
    for i in 0..5 {
        let outcome = run(&gate, &get_users().bearer("wrong").from(attacker), NOW, &mut store);
        assert_eq!(outcome.rejection().status, 401, "guess {i}");
    }

    let outcome = run(&gate, &get_users().bearer("okta").from(attacker), NOW + Duration::seconds(10), &mut store);
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, 429, "even a valid token is throttled from that address");
    assert_eq!(rejection.header("retry-after"), Some("50"));
    assert_eq!(rejection.header("www-authenticate"), None);
    assert_eq!(
        error_document(rejection)["detail"],
        "Too many failed authentications from this address; retry after 50 seconds."
    );

    let other = run(&gate, &get_users().bearer("okta").from("203.0.113.9:1"), NOW, &mut store);
    assert_eq!(other.operations(), "read", "another address is not throttled");
    let later = run(&gate, &get_users().bearer("okta").from(attacker), NOW + Duration::seconds(60), &mut store);
    assert_eq!(later.operations(), "read", "the window has ended");
}

struct BrokenStore;

impl SharedStore for BrokenStore {
    fn get(&self, _: &str) -> Option<(Vec<u8>, u32)> {
        None
    }

    fn set(&mut self, _: &str, _: &[u8], _: Option<u32>) -> Result<(), StoreError> {
        Err(StoreError::Unavailable)
    }
}

#[test]
fn store_unavailable_fails_closed() {
    let outcome = run(&reference_gate(), &get_users().bearer("okta"), NOW, &mut BrokenStore);
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, 503);
    assert_eq!(rejection.header("retry-after"), Some("1"));
    error_document(rejection);
}

#[test]
fn wrong_tenant_prefix() {
    let gate = gate(json!({
        "prefixes": [],
        "tenants": {"acme": {"prefixes": ["/scim/acme"]}, "beta": {"prefixes": ["/scim/beta"]}},
        "tokens": [token_entry("okta", "acme", None)]
    }));
    let own = run_once(&gate, &Request::new("GET", "/scim/acme/Users").bearer("okta"));
    assert_eq!(own.operations(), "read");
    let outcome = run_once(&gate, &Request::new("GET", "/scim/beta/Users").bearer("okta"));
    let rejection = outcome.rejection();
    assert_eq!(rejection.status, 403);
    assert_eq!(rejection.header("www-authenticate"), Some("Bearer realm=\"scim\", error=\"insufficient_scope\""));
    assert_eq!(error_document(rejection)["detail"], "The bearer token does not belong to the tenant of this path.");
}

#[test]
fn forged_tenant_overwritten() {
    let request = get_users().bearer("okta").header("X-Edgeidp-Tenant", "evil");
    let outcome = run_once(&reference_gate(), &request);
    let support::Outcome::Forwarded { changes, .. } = outcome else { panic!("expected forwarding, got {outcome:?}") };
    assert!(changes.remove.contains(&"x-edgeidp-tenant".to_owned()), "the client's header is removed: {changes:?}");
    assert_eq!(changes.set, vec![("x-edgeidp-tenant".to_owned(), "acme".to_owned())]);
    assert!(!changes.remove.contains(&"authorization".to_owned()), "Authorization is kept by default");
}

#[test]
fn strip_authorization() {
    let gate = gate(
        json!({"strip_authorization": true, "tenant_header": "X-Tenant-ID", "tokens": [token_entry("okta", "acme", None)]}),
    );
    let outcome = run_once(&gate, &get_users().bearer("okta").header("x-tenant-id", "evil"));
    let support::Outcome::Forwarded { changes, .. } = outcome else { panic!("expected forwarding, got {outcome:?}") };
    assert_eq!(changes.remove, vec!["x-tenant-id".to_owned(), "authorization".to_owned()]);
}

/// Each removal is a call into Envoy, so a header the request lacks is not removed.
#[test]
fn absent_tenant_header_not_removed() {
    let outcome = run_once(&reference_gate(), &get_users().bearer("okta"));
    let support::Outcome::Forwarded { changes, .. } = outcome else { panic!("expected forwarding, got {outcome:?}") };
    assert_eq!(changes.remove, Vec::<String>::new(), "nothing to remove");
    assert_eq!(changes.set, vec![("x-edgeidp-tenant".to_owned(), "acme".to_owned())], "the tenant header is still set");
}

#[test]
fn body_wait_only_when_needed() {
    let gate = reference_gate();
    let get = run_once(&gate, &get_users().bearer("okta"));
    assert!(matches!(get, support::Outcome::Forwarded { waited_for_body: false, .. }), "{get:?}");
    let patch = run_once(&gate, &Request::new("PATCH", "/scim/v2/Users/1").bearer("okta").json(&deactivate_patch()));
    assert!(matches!(patch, support::Outcome::Forwarded { waited_for_body: true, .. }), "{patch:?}");
}

#[test]
fn guarded_paths() {
    let gate = reference_gate();
    for path in
        ["/scim/v2", "/scim/v2/Users", "/SCIM/V2/Users", "//scim/v2/Users", "/x/../scim/v2/Users", "/scim%2Fv2/Users"]
    {
        assert!(gate.guards(path), "{path} must be guarded");
    }
    for path in ["/saml/metadata", "/scim/v2x", "/scim"] {
        assert!(!gate.guards(path), "{path} must not be guarded");
    }
}

#[test]
fn unguarded_variant_rejected() {
    let request = Request::new("GET", "//scim/v2/Users").bearer("okta");
    assert_eq!(run_once(&reference_gate(), &request).rejection().status, 400);
}
