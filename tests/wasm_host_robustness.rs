//! Robustness of the release filter under the wasmtime host: linear memory stays bounded
//! over 10,000 requests, and no input in an adversarial corpus, SAML or SCIM, makes the
//! filter trap.
//!
//! Needs the release build (`scripts/test` makes it first); see [`host::BUILD_COMMAND`].

mod host;
mod support;
#[path = "support/scim.rs"]
mod scim_support;

use host::{Host, Property, Request, Vm};
use serde_json::{json, Value};
use scim_support::{token, token_entry};
use support::{reference_config_json, NOW};

fn reference_claims() -> Value {
    json!({
        "email": "dana.reyes@example.test",
        "given_name": "Dana",
        "family_name": "Reyes",
        "preferred_username": "dreyes",
        "title": "Charge Nurse"
    })
}

/// Returns the reference configuration with RelayState overrides allowed for amion, a login
/// URL for doximity, both identity sources, and the SCIM gate on `/scim/v2`, so the corpus
/// reaches every branch.
fn corpus_config() -> Value {
    let mut config = reference_config_json();
    config["apps"]["amion"]["allow_relay_state_override"] = json!(true);
    config["apps"]["doximity"]["login_url"] = json!("https://login.example.test/start");
    config["identity"] =
        json!({"jwt_authn": {}, "ext_authz_headers": {"email": "x-auth-email", "login": "x-auth-login"}});
    config["scim"] = json!({"tokens": [token_entry("okta", "acme", None)]});
    config
}

fn with_rate_limit(mut entry: Value, rate_limit: Value) -> Value {
    entry["rate_limit"] = rate_limit;
    entry
}

fn configured(host: &Host, config: &Value) -> Vm {
    let mut vm = host.vm();
    assert!(vm.configure(&config.to_string()), "configuration rejected:\n{}", vm.log_text());
    vm
}

/// Returns request `index` of the 10,000: every endpoint and outcome in turn, and a signed
/// Response only once in 100, since one costs about 50 ms in this host. SCIM requests come
/// with the right token, and once in 100 with a wrong one, which opens a failure window.
fn mixed_request(index: usize) -> Request {
    let claims = reference_claims();
    match index % 100 {
        0 => Request::get("/saml/amion/init").jwt_payload(&claims),
        99 => Request::get("/scim/v2/Users").header("authorization", "Bearer edgeidp_scim_wrong"),
        n if n % 10 == 9 => Request::get(&format!("/scim/v2/Users?startIndex={index}"))
            .header("authorization", &format!("Bearer {}", token("okta"))),
        n if n % 10 == 1 => Request::get("/saml/metadata"),
        n if n % 10 == 2 => Request::new("HEAD", "/saml/doximity/metadata"),
        n if n % 10 == 3 => Request::get(&format!("/saml/app{index}/init")),
        n if n % 10 == 4 => Request::new("DELETE", "/saml/amion/sso"),
        n if n % 10 == 5 => Request::get(&format!("/saml/amion/init?RelayState=%01{index}")).jwt_payload(&claims),
        n if n % 10 == 6 => Request::get("/saml/doximity/init"),
        n if n % 10 == 7 => Request::post("/saml/amion/sso").chunk(vec![b'x'; 1000]).chunk(format!("&n={index}")),
        n if n % 10 == 8 => Request::post("/saml/amion/sso").chunk(vec![b'x'; 40_000]).chunk(vec![b'x'; 40_000]),
        _ => Request::post(&format!("/app/items/{index}")).header("x-index", &index.to_string()).body(vec![b'y'; 2000]),
    }
}

/// 10,000 requests through one VM. The filter's memory grows while its allocator warms up
/// and must then stay flat: no size after the first 1,000 requests may exceed the size at
/// 1,000, and none may exceed the size after configuration by more than [`MAX_GROWTH`].
/// Measured with the SCIM requests added: 1,376,256 bytes (21 wasm pages) after
/// configuration, 1,441,792 (22 pages) from 1,000 requests on, unchanged at 10,000.
/// Linear memory the filter may add over 10,000 requests: four 64 KiB wasm pages.
const MAX_GROWTH: usize = 4 * 64 * 1024;

#[test]
fn memory_bounded_over_10000_requests() {
    let host = Host::release();
    host.set_time(NOW);
    let mut config = reference_config_json();
    let unlimited = json!({"requests_per_second": 100_000, "burst": 1_000_000});
    config["scim"] = json!({"tokens": [with_rate_limit(token_entry("okta", "acme", None), unlimited)]});
    let mut vm = configured(&host, &config);
    let after_configure = vm.memory_bytes();

    let mut sizes = Vec::new();
    for index in 0..10_000 {
        let outcome = vm.request(&mixed_request(index));
        assert!(outcome.status().is_some(), "request {index} got no response: {:?}", outcome.flow);
        if (index + 1) % 1000 == 0 {
            sizes.push(vm.memory_bytes());
        }
    }

    let after_warm_up = sizes[0];
    println!("linear memory: {after_configure} bytes after configure, then every 1,000 requests: {sizes:?}");
    let last = sizes[sizes.len() - 1];
    assert!(last <= after_configure + MAX_GROWTH, "memory grew from {after_configure} to {last} bytes");
    for (thousand, size) in sizes.iter().enumerate() {
        assert!(
            *size <= after_warm_up,
            "memory grew to {size} bytes after {} requests, from {after_warm_up} after 1,000",
            (thousand + 1) * 1000
        );
    }
}

/// Requests a client (or a misbehaving upstream filter) can send. Each name says what is
/// wrong with the request.
fn adversarial_corpus() -> Vec<(String, Request)> {
    let claims = reference_claims();
    let mut corpus: Vec<(String, Request)> = Vec::new();
    let mut add = |name: &str, request: Request| corpus.push((name.to_owned(), request));

    // Malformed and missing pseudo-headers.
    add("no :path", Request::get("/saml/metadata").without_header(":path"));
    add("no :method", Request::get("/saml/metadata").without_header(":method"));
    add("empty :path", Request::get(""));
    add("asterisk :path", Request::new("OPTIONS", "*"));
    add("relative :path", Request::get("saml/metadata"));
    add("absolute-form :path", Request::get("http://idp.example.test/saml/metadata"));
    add("double slashes", Request::get("/saml//amion//init"));
    add("trailing slash", Request::get("/saml/amion/init/"));
    add("empty app", Request::get("/saml//init"));
    add("dot segments", Request::get("/saml/../saml/amion/init"));
    add("fragment", Request::get("/saml/metadata#x"));
    add("two :path headers", Request::get("/saml/metadata").header(":path", "/saml/amion/init"));
    add("NUL in :path", Request::get("/saml/amion\0/init"));
    add("CRLF in :path", Request::get("/saml/amion/init\r\nx-injected: 1"));
    add("percent-encoded NUL", Request::get("/saml/amion%00/init"));
    add("multibyte app name", Request::get("/saml/ämion/init").jwt_payload(&claims));

    // Huge headers.
    add("1 MiB :path", Request::get(&format!("/saml/{}/init", "a".repeat(1 << 20))));
    add(
        "1 MiB query",
        Request::get(&format!("/saml/amion/init?{}", "RelayState=a&".repeat(80_000))).jwt_payload(&claims),
    );
    add(
        "64 KiB RelayState",
        Request::get(&format!("/saml/amion/init?RelayState={}", "%41".repeat(21_000))).jwt_payload(&claims),
    );
    let mut many = Request::get("/saml/metadata");
    for index in 0..10_000 {
        many = many.header(&format!("x-h{index}"), "v");
    }
    add("10,000 headers", many);
    add("256 KiB header value", Request::get("/saml/doximity/init").header("x-auth-email", &"e".repeat(256 << 10)));

    // Invalid UTF-8.
    add(
        "invalid UTF-8 :path",
        Request::get("/").without_header(":path").header_bytes(b":path", b"/saml/\xff\xfe/init"),
    );
    add(
        "invalid UTF-8 :method",
        Request::get("/saml/metadata").without_header(":method").header_bytes(b":method", b"G\xc3T"),
    );
    add(
        "invalid UTF-8 identity header",
        Request::get("/saml/amion/init").header_bytes(b"x-auth-email", b"dana\xff@example.test"),
    );
    add("invalid UTF-8 header name", Request::get("/saml/metadata").header_bytes(b"x-\xff", b"v"));
    add("invalid UTF-8 query", Request::get("/saml/amion/init?RelayState=%ff%fe%00").jwt_payload(&claims));
    add("invalid UTF-8 body", Request::post("/saml/amion/sso").body(b"SAMLRequest=\xff\xfe&RelayState=\xc3".to_vec()));

    // The SCIM gate reads the whole header map in one call and decodes it itself.
    let bearer = format!("Bearer {}", token("okta"));
    add("SCIM: invalid UTF-8 header name", Request::get("/scim/v2/Users").header("authorization", &bearer).header_bytes(b"x-\xff", b"v"));
    add("SCIM: invalid UTF-8 token", Request::get("/scim/v2/Users").header_bytes(b"authorization", b"Bearer \xff\xfe"));
    add(
        "SCIM: invalid UTF-8 tenant header",
        Request::get("/scim/v2/Users").header("authorization", &bearer).header_bytes(b"x-edgeidp-tenant", b"\xc3"),
    );
    add("SCIM: invalid UTF-8 :path", Request::get("/").without_header(":path").header_bytes(b":path", b"/scim/v2/\xff"));

    // Truncated and odd bodies.
    add("POST without body", Request::post("/saml/amion/sso").jwt_payload(&claims));
    add("empty chunks", Request::post("/saml/amion/sso").chunk(Vec::new()).chunk(Vec::new()));
    add("truncated percent escape", Request::post("/saml/amion/sso").body("SAMLRequest=PHNhbWxw%"));
    add(
        "truncated base64",
        Request::post("/saml/amion/sso").body("SAMLRequest=PHNhbWxwOkF1dGhuUmVxdWVzdC").jwt_payload(&claims),
    );
    add("body exactly 64 KiB", Request::post("/saml/amion/sso").body(vec![b'a'; 64 * 1024]));
    add("body one byte over", Request::post("/saml/amion/sso").chunk(vec![b'a'; 64 * 1024]).chunk("a"));
    add("2 MiB body", Request::post("/saml/amion/sso").chunk(vec![b'a'; 1 << 20]).chunk(vec![b'a'; 1 << 20]));
    add("body on GET", Request::get("/saml/amion/init").body("x").jwt_payload(&claims));

    // Wrong methods.
    for method in ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "get", "", "G E T", "GETX"] {
        add(&format!("method {method:?} on init"), Request::new(method, "/saml/amion/init").jwt_payload(&claims));
        add(&format!("method {method:?} on metadata"), Request::new(method, "/saml/metadata"));
    }

    // Identity claims of unexpected types and sizes.
    let odd_claims = [
        ("number email", json!({"email": 42})),
        ("list email", json!({"email": ["a@example.test", "b@example.test"]})),
        ("object email", json!({"email": {"value": "a@example.test"}})),
        ("boolean email", json!({"email": true})),
        ("empty email", json!({"email": ""})),
        ("control characters", json!({"email": "a\u{1}b@example.test", "given_name": "\u{0}"})),
        ("1 MiB claim", json!({"email": "a@example.test", "title": "t".repeat(1 << 20)})),
        ("string iat", json!({"email": "a@example.test", "iat": "yesterday"})),
        ("negative iat", json!({"email": "a@example.test", "iat": -1})),
        ("huge iat", json!({"email": "a@example.test", "iat": 1e300})),
        ("fractional auth_time", json!({"email": "a@example.test", "auth_time": 1.5e9})),
        ("empty payload", json!({})),
        ("null claim", json!({"email": "a@example.test", "title": null})),
        ("null email", json!({"email": null})),
    ];
    for (name, payload) in odd_claims {
        add(&format!("JWT payload: {name}"), Request::get("/saml/amion/init").jwt_payload(&payload));
    }
    add(
        "JWT payload not a struct",
        Request::get("/saml/amion/init").property(
            &["metadata", "filter_metadata", "envoy.filters.http.jwt_authn", "jwt_payload"],
            Property::String("not an object".to_owned()),
        ),
    );
    corpus
}

/// Runs every corpus input, on a fresh VM after any trap, and lists every input that trapped.
#[test]
fn corpus_never_traps() {
    let host = Host::release();
    host.set_time(NOW);
    let config = corpus_config();
    let mut vm = configured(&host, &config);
    let mut traps = Vec::new();
    for (name, request) in adversarial_corpus() {
        match vm.try_request(&request) {
            Ok(outcome) => assert!(outcome.status().is_some(), "{name}: no response: {:?}", outcome.flow),
            Err(trap) => {
                traps.push(format!("{name}: {trap}"));
                vm = configured(&host, &config);
            }
        }
    }
    assert!(traps.is_empty(), "{} corpus inputs trapped the filter:\n{}", traps.len(), traps.join("\n"));
}
