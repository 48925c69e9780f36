//! The SCIM bearer-token gate of the release filter under the wasmtime host: accepted
//! requests with their header changes, every rejection reason, token validity windows
//! crossed with the host's clock, and rate limits shared by several VMs.
//!
//! Needs the release build (`scripts/test` makes it first); see [`host::BUILD_COMMAND`].

mod host;
mod support;
#[path = "support/scim.rs"]
mod scim_support;

use host::abi::status;
use host::{Action, Callback, Flow, Host, Outcome, Request, Vm, DEFAULT_TIME};
use scim_support::{token, token_entry};
use serde_json::{json, Value};
use support::read_fixture;
use time::{Duration, OffsetDateTime};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const MAX_BODY_BYTES: usize = 4096;
/// The validity window of the `expiring` and `future` tokens, relative to the host's clock.
const NOT_AFTER: OffsetDateTime = time::macros::datetime!(2026-12-04 13:00 UTC);
const NOT_BEFORE: OffsetDateTime = time::macros::datetime!(2026-12-04 14:00 UTC);

fn with_field(mut entry: Value, field: &str, value: Value) -> Value {
    entry[field] = value;
    entry
}

/// Returns a plugin configuration whose `scim` section guards `/scim/v2` for every tenant
/// and `/tenants/acme/scim/v2` for acme alone, with `failed_auth_limit` as given.
fn plugin_config(max_failures: u32) -> Value {
    let format = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).expect("RFC 3339");
    json!({
        "idp": {
            "entity_id": "https://idp.example.test/saml/metadata",
            "base_url": "https://idp.example.test",
            "signing_key_pem": read_fixture("keys/idp.key.pem"),
            "certificate_pem": read_fixture("keys/idp.cert.pem")
        },
        "scim": {
            "max_body_bytes": MAX_BODY_BYTES,
            "failed_auth_limit": {"max_failures": max_failures, "window_seconds": 60},
            "tenants": {"acme": {"prefixes": ["/tenants/acme/scim/v2"]}, "globex": {}},
            "tokens": [
                token_entry("okta", "acme", None),
                token_entry("readonly", "acme", Some(&["read"])),
                token_entry("updater", "acme", Some(&["read", "update_users"])),
                token_entry("entra", "globex", None),
                with_field(token_entry("expiring", "acme", None), "not_after", json!(format(NOT_AFTER))),
                with_field(token_entry("future", "acme", None), "not_before", json!(format(NOT_BEFORE))),
                with_field(token_entry("limited", "acme", None), "rate_limit", json!({"requests_per_second": 1, "burst": 3})),
            ]
        }
    })
}

fn configured(host: &Host, config: &Value) -> Vm {
    let mut vm = host.vm();
    assert!(vm.configure(&config.to_string()), "configuration rejected:\n{}", vm.log_text());
    vm
}

/// Starts a host at its default time with one VM, and a failure limit no test here reaches.
fn gate() -> (Host, Vm) {
    let host = Host::release();
    host.set_time(DEFAULT_TIME);
    let vm = configured(&host, &plugin_config(1000));
    (host, vm)
}

/// Two VMs of the gate, as two Envoy workers, sharing the host's data and clock.
fn two_workers() -> (Host, [Vm; 2]) {
    let host = Host::release();
    host.set_time(DEFAULT_TIME);
    let config = plugin_config(1000);
    let vms = [configured(&host, &config), configured(&host, &config)];
    (host, vms)
}

fn bearer(id: &str) -> String {
    format!("Bearer {}", token(id))
}

fn get_users(authorization: &str) -> Request {
    Request::get("/scim/v2/Users?filter=userName%20eq%20%22dana%22").header("authorization", authorization)
}

fn new_user() -> Vec<u8> {
    json!({"schemas": [USER_SCHEMA], "userName": "dana.reyes@example.test", "active": true}).to_string().into_bytes()
}

fn scim_json(request: Request) -> Request {
    request.header("content-type", "application/scim+json")
}

/// Asserts a SCIM rejection: status, the RFC 7644 error document, and its counter.
fn assert_rejected(host: &Host, outcome: &Outcome, label: &str, token_id: &str, status: u32) {
    assert_eq!(outcome.status(), Some(status), "{label}: {}", outcome.body_text());
    assert!(outcome.upstream.is_none(), "{label}: the request reached the upstream");
    assert_eq!(outcome.header("content-type"), Some("application/scim+json"), "{label}: content type");
    let document: Value = serde_json::from_str(&outcome.body_text()).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(document["status"], json!(status.to_string()), "{label}: status in the document");
    let counter = format!("edgeidp.scim.rejected.{label}.{token_id}");
    assert_eq!(host.counter(&counter), 1, "{label}: counter {counter}");
}

// Accepted requests.

#[test]
fn accepted_request_gets_tenant_header() {
    let (host, mut vm) = gate();
    let outcome = vm.request(&get_users(&bearer("okta")).header("x-edgeidp-tenant", "globex"));
    assert!(outcome.continued(), "{:?}: {}", outcome.flow, outcome.body_text());
    assert_eq!(outcome.upstream_header("x-edgeidp-tenant").as_deref(), Some("acme"), "the client's value is replaced");
    assert_eq!(outcome.upstream_header("authorization"), Some(bearer("okta")), "kept for the SCIM service");
    assert_eq!(host.counter("edgeidp.scim.accepted.okta"), 1);
}

/// On a request path in Envoy's V8 each call between Envoy and the VM costs microseconds
/// (see src/proxy/header_map.rs), so the sequence for an accepted GET is pinned here. A
/// longer list is a slower gate, which BENCHMARKS.md measures.
#[test]
fn accepted_get_crossings() {
    let (_host, mut vm) = gate();
    vm.request(&get_users(&bearer("okta")));
    vm.take_crossings();
    let outcome = vm.request(&get_users(&bearer("okta")));
    assert!(outcome.continued(), "{:?}: {}", outcome.flow, outcome.body_text());
    let expected = [
        "proxy_on_context_create",
        "proxy_on_request_headers",
        // One read of the whole header map, for routing and the gate.
        "proxy_get_header_map_pairs",
        "proxy_on_memory_allocate",
        "proxy_get_current_time_nanoseconds",
        // The marker of recent failed authentications, absent, so the client's address and
        // failure counter are not read.
        "proxy_get_shared_data",
        // The token's bucket is not read: the first request took a lease of ten requests.
        // The tenant header; the client sent none, so there is nothing to remove.
        "proxy_add_header_map_value",
        "proxy_increment_metric",
        // The response, access-log and done callbacks are not exported.
        "proxy_on_delete",
    ];
    assert_eq!(vm.take_crossings(), expected, "crossings between host and VM for one accepted GET");
}

/// A worker takes ten of the `okta` token's requests at a time (its default limit refills
/// ten in 100 ms), so its bucket is read and written once per ten requests. Each VM holds
/// its own lease.
#[test]
fn lease_reads_bucket_once_per_ten_requests() {
    let (host, mut vms) = two_workers();
    let request = get_users(&bearer("okta"));
    let mut bucket_writes = Vec::new();
    for index in 0..22 {
        let vm = &mut vms[usize::from(index >= 11)];
        vm.take_crossings();
        assert!(vm.request(&request).continued(), "request {index}");
        if vm.take_crossings().contains(&"proxy_set_shared_data") {
            bucket_writes.push(index);
        }
    }
    assert_eq!(bucket_writes, [0, 10, 11, 21], "requests that took a lease, 11 on each of two VMs");

    host.advance(Duration::milliseconds(100));
    vms[0].take_crossings();
    vms[0].request(&request);
    assert!(vms[0].take_crossings().contains(&"proxy_set_shared_data"), "a lease ends 100 ms after it was taken");
}

/// An address that Envoy cannot return reads as absent instead of stopping the VM, as the
/// SDK's own property reader would.
#[test]
fn unreadable_client_address_no_trap() {
    let (_host, mut vm) = gate();
    vm.request(&get_users("Bearer edgeidp_scim_wrong"));
    vm.inject_status("proxy_get_property", status::INTERNAL_FAILURE);
    let outcome = vm.try_request(&get_users(&bearer("okta"))).expect("the VM does not trap");
    assert!(outcome.continued(), "{:?}: {}", outcome.flow, outcome.body_text());
}

/// After a failed authentication, and until its window ends, every request reads its
/// client's address and failure counter, so that a throttled client stays throttled.
#[test]
fn failure_window_reads_client_address() {
    let (host, mut vm) = gate();
    vm.request(&get_users("Bearer edgeidp_scim_wrong"));
    vm.take_crossings();
    vm.request(&get_users(&bearer("okta")));
    let reads = vm.take_crossings().into_iter().filter(|call| *call == "proxy_get_property").count();
    assert_eq!(reads, 1, "the accepted request reads its client's address once");

    vm.request(&get_users("Bearer edgeidp_scim_wrong"));
    let reads = vm.take_crossings().into_iter().filter(|call| *call == "proxy_get_property").count();
    assert_eq!(reads, 1, "a failure inside the window reads the address once, to check and to count");

    host.advance(Duration::seconds(61));
    vm.request(&get_users(&bearer("okta")));
    let crossings = vm.take_crossings();
    assert!(!crossings.contains(&"proxy_get_property"), "after the 60 s window: {crossings:?}");
}

#[test]
fn body_decided_at_end_of_stream() {
    let (host, mut vm) = gate();
    let body = new_user();
    let (first, second) = body.split_at(body.len() / 2);
    let request = scim_json(Request::post("/scim/v2/Users").header("authorization", &bearer("okta")))
        .chunk(first.to_vec())
        .chunk(second.to_vec());
    let outcome = vm.request(&request);
    let calls: Vec<Callback> = outcome.calls.iter().map(|(callback, _)| *callback).collect();
    assert_eq!(calls[..3], [Callback::RequestHeaders, Callback::RequestBody, Callback::RequestBody]);
    assert!(outcome.continued(), "{:?}: {}", outcome.flow, outcome.body_text());
    assert_eq!(outcome.upstream.as_ref().map(|u| u.body.clone()), Some(body));
    assert_eq!(outcome.upstream_header("x-edgeidp-tenant").as_deref(), Some("acme"));
    assert_eq!(host.counter("edgeidp.scim.accepted.okta"), 1);
}

#[test]
fn body_decided_at_trailers() {
    let (_host, mut vm) = gate();
    let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let body = body.to_string().into_bytes();
    let request = scim_json(Request::new("PATCH", "/scim/v2/Users/2819c223").header("authorization", &bearer("okta")))
        .chunk(body.clone())
        .trailer("x-checksum", "abc");
    let outcome = vm.request(&request);
    assert!(outcome.calls.contains(&(Callback::RequestTrailers, Action::Continue)), "{:?}", outcome.calls);
    assert!(outcome.continued(), "{:?}: {}", outcome.flow, outcome.body_text());
    assert_eq!(outcome.upstream.as_ref().map(|u| u.body.clone()), Some(body));
}

/// A PATCH of a User may update or deactivate it, and only the body shows which. So a token
/// that may update but not deactivate is rejected in the body callback.
#[test]
fn deactivation_without_permission_rejected_after_body() {
    let (host, mut vm) = gate();
    let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let request =
        scim_json(Request::new("PATCH", "/scim/v2/Users/2819c223").header("authorization", &bearer("updater")))
            .body(body.to_string().into_bytes());
    let outcome = vm.request(&request);
    assert_rejected(&host, &outcome, "not_permitted", "updater", 403);
    assert!(outcome.calls.contains(&(Callback::RequestBody, Action::Pause)), "{:?}", outcome.calls);
}

// Every rejection reason the gate reaches through the filter.

/// One request per rejection reason, each on a fresh host so that counters and the
/// failed-authentication window start at zero.
#[test]
fn every_rejection_reason() {
    let okta = bearer("okta");
    let users = || Request::post("/scim/v2/Users").header("authorization", &okta);
    let cases: Vec<(&str, &str, u32, Request)> = vec![
        ("missing_credentials", "unknown", 401, Request::get("/scim/v2/Users")),
        ("token_in_query", "unknown", 400, Request::get("/scim/v2/Users?access_token=abc")),
        ("not_bearer", "unknown", 401, get_users("Basic ZGFuYTpzZWNyZXQ=")),
        ("multiple_authorization", "unknown", 400, get_users(&okta).header("authorization", &okta)),
        ("empty_token", "unknown", 400, get_users("Bearer ")),
        ("doubled_prefix", "unknown", 400, get_users(&format!("Bearer {okta}"))),
        ("malformed_token", "unknown", 400, get_users("Bearer a@b")),
        ("unknown_token", "unknown", 401, get_users(&bearer("nobody"))),
        ("not_yet_valid", "future", 401, get_users(&bearer("future"))),
        (
            "wrong_tenant",
            "entra",
            403,
            Request::get("/tenants/acme/scim/v2/Users").header("authorization", &bearer("entra")),
        ),
        ("irregular_path", "okta", 400, Request::get("/scim/v2/Users/../Groups").header("authorization", &okta)),
        (
            "not_permitted",
            "readonly",
            403,
            scim_json(Request::post("/scim/v2/Users").header("authorization", &bearer("readonly"))).body(new_user()),
        ),
        ("method_not_allowed", "okta", 405, Request::new("PUT", "/scim/v2/Users").header("authorization", &okta)),
        ("uncovered", "okta", 403, Request::post("/scim/v2/Widgets").header("authorization", &okta)),
        (
            "not_implemented",
            "okta",
            501,
            scim_json(Request::post("/scim/v2/Bulk").header("authorization", &okta)).body("{}"),
        ),
        ("unsupported_media_type", "okta", 415, users().header("content-type", "text/plain").body(new_user())),
        ("body_too_large", "okta", 413, scim_json(users()).chunk(vec![b' '; MAX_BODY_BYTES]).chunk(b"{}".to_vec())),
        ("invalid_body", "okta", 400, scim_json(users()).body("not json")),
    ];
    for (label, token_id, status, request) in cases {
        let (host, mut vm) = gate();
        let outcome = vm.request(&request);
        assert_rejected(&host, &outcome, label, token_id, status);
    }
}

#[test]
fn missing_credentials_challenge() {
    let (_host, mut vm) = gate();
    let outcome = vm.request(&Request::get("/scim/v2/Users"));
    assert_eq!(outcome.header("www-authenticate"), Some("Bearer realm=\"scim\""));
}

/// Every compare-and-swap on the shared rate-limit state losing, as when other workers
/// update the same bucket at the same instant.
#[test]
fn rate_limit_contended() {
    let (host, mut vm) = gate();
    vm.inject_status("proxy_set_shared_data", status::CAS_MISMATCH);
    let outcome = vm.request(&get_users(&bearer("okta")));
    assert_rejected(&host, &outcome, "rate_limit_contended", "okta", 429);
}

/// NOTE: `rate_limit_unavailable` cannot happen through the Rust SDK, whose
/// `set_shared_data` panics on any status but Ok and CasMismatch before the filter's store
/// gets it. proxy-wasm-cpp-host's `SharedData::set`, which Envoy uses, returns no other, so
/// only a failing host reaches that branch, and it traps the VM instead.
#[test]
fn shared_data_failure_traps() {
    let (_host, mut vm) = gate();
    vm.inject_status("proxy_set_shared_data", status::INTERNAL_FAILURE);
    let trap = vm.try_request(&get_users(&bearer("okta"))).expect_err("the SDK panics");
    assert!(trap.critical_logs.iter().any(|line| line.contains("unexpected status: 10")), "{trap}");
}

// Time travel: token validity and limits follow the host's clock.

#[test]
fn token_rejected_one_second_after_not_after() {
    let (host, mut vm) = gate();
    host.set_time(NOT_AFTER);
    assert!(vm.request(&get_users(&bearer("expiring"))).continued(), "valid through not_after inclusive");
    host.advance(Duration::seconds(1));
    let outcome = vm.request(&get_users(&bearer("expiring")));
    assert_rejected(&host, &outcome, "expired", "expiring", 401);
}

#[test]
fn token_accepted_from_not_before() {
    let (host, mut vm) = gate();
    host.set_time(NOT_BEFORE - Duration::seconds(1));
    let early = vm.request(&get_users(&bearer("future")));
    assert_rejected(&host, &early, "not_yet_valid", "future", 401);
    host.advance(Duration::seconds(1));
    assert!(vm.request(&get_users(&bearer("future"))).continued(), "valid from not_before inclusive");
}

/// The `limited` token's bucket has room for three requests and refills one per second. Two
/// VMs (two Envoy workers) draw from the same bucket through shared data.
#[test]
fn rate_limit_shared_by_vms() {
    let (host, mut vms) = two_workers();
    let limited = get_users(&bearer("limited"));

    for (index, vm) in [0, 1, 0].into_iter().enumerate() {
        assert!(vms[vm].request(&limited).continued(), "request {index} is within the burst");
    }
    let limited_out = vms[1].request(&limited);
    assert_rejected(&host, &limited_out, "rate_limited", "limited", 429);
    assert!(limited_out.header("retry-after").is_some(), "429 carries Retry-After");

    host.advance(Duration::seconds(1));
    assert!(vms[0].request(&limited).continued(), "one request refilled after a second");
    assert!(!host.shared_data().is_empty(), "the bucket lives in shared data");
}

/// Three failed authentications from one address, spread over two VMs, throttle the
/// address on both until the window ends.
#[test]
fn failed_auth_throttled_across_vms() {
    let host = Host::release();
    host.set_time(DEFAULT_TIME);
    let config = plugin_config(3);
    let mut vms = [configured(&host, &config), configured(&host, &config)];
    let wrong = get_users(&bearer("nobody"));

    for vm in [0, 1, 0] {
        assert_eq!(vms[vm].request(&wrong).status(), Some(401));
    }
    let throttled = vms[1].request(&get_users(&bearer("okta")));
    assert_eq!(throttled.status(), Some(429), "even a valid token is throttled: {}", throttled.body_text());
    assert_eq!(host.counter("edgeidp.scim.rejected.auth_throttled.unknown"), 1);

    let other_address = vms[1].request(&get_users(&bearer("okta")).source_address("203.0.113.7:40000"));
    assert!(other_address.continued(), "another address is not throttled");

    host.advance(Duration::seconds(61));
    assert!(vms[0].request(&get_users(&bearer("okta"))).continued(), "the window has ended");
}

#[test]
fn saml_and_scim_side_by_side() {
    let (_host, mut vm) = gate();
    assert_eq!(vm.request(&Request::get("/saml/metadata")).status(), Some(200));
    assert!(vm.request(&Request::get("/other")).continued());
    assert_eq!(vm.request(&Request::get("/scim/v2/Users")).flow, Flow::Answered);
}
