//! The release filter, driven through the proxy-wasm ABI by the wasmtime host in
//! `tests/host`, with a pinned clock and random source: golden output, every SSO rejection,
//! time travel, configuration errors, and the host's own failure reporting.
//!
//! Needs the release build (`scripts/test` makes it first); see [`host::BUILD_COMMAND`].

mod host;
mod support;

use base64::Engine as _;
use edgeidp::platform::{FixedPlatform, HostPlatform, Platform};
use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::post_form::{post_form, POST_FORM_HEADERS};
use edgeidp::saml::response::{build_response, IssuedResponse, Login};
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use host::abi::status;
use host::{Callback, Flow, Host, LogLevel, Outcome, Request, Vm};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use serde_json::{json, Value};
use support::{load_config, read_fixture, reference_config_json, reference_profile, NOW, SEED};
use time::{Duration, OffsetDateTime};

/// Returns the reference user as `jwt_authn` stores the verified payload, with the claim names of
/// the filter's default claim map.
fn reference_claims() -> Value {
    json!({
        "email": "dana.reyes@example.test",
        "given_name": "Dana",
        "family_name": "Reyes",
        "preferred_username": "dreyes",
        "title": "Charge Nurse",
        "name": "Dana Reyes, RN"
    })
}

/// Starts a host at the pinned time with one VM configured with `config`.
fn configured(config: &Value) -> (Host, Vm) {
    let host = Host::release();
    host.set_time(NOW);
    let mut vm = host.vm();
    assert!(vm.configure(&config.to_string()), "configuration rejected:\n{}", vm.log_text());
    (host, vm)
}

fn reference() -> (Host, Vm) {
    configured(&reference_config_json())
}

/// Returns the reference configuration with `change` applied to its JSON.
fn reference_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut config = reference_config_json();
    change(&mut config);
    config
}

fn init(app: &str) -> Request {
    Request::get(&format!("/saml/{app}/init")).jwt_payload(&reference_claims())
}

/// Decodes the SAMLResponse of an HTTP-POST binding page.
fn saml_response(page: &str) -> String {
    let marker = "name=\"SAMLResponse\" value=\"";
    let start = page.find(marker).unwrap_or_else(|| panic!("no SAMLResponse field in:\n{page}")) + marker.len();
    let end = page[start..].find('"').expect("the SAMLResponse value ends") + start;
    let xml = base64::engine::general_purpose::STANDARD.decode(&page[start..end]).expect("SAMLResponse is base64");
    String::from_utf8(xml).expect("SAMLResponse is UTF-8")
}

/// Builds the native core's Response for the reference user and `app`, with `platform`.
fn native_response(app: &str, authn_instant: Option<OffsetDateTime>, platform: &mut dyn Platform) -> IssuedResponse {
    let config = load_config(&reference_config_json());
    let app = config.app(app).expect("reference app");
    let profile = reference_profile();
    let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant };
    build_response(&config.idp, &login, platform).expect("the native core builds the reference Response")
}

/// Fails with the first differing bytes of `expected` and `actual`.
fn assert_same(what: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let at = expected.bytes().zip(actual.bytes()).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
    let around = |s: &str| s.get(at.saturating_sub(60)..(at + 60).min(s.len())).unwrap_or("").to_owned();
    panic!("{what} differs at byte {at}:\n  expected …{}…\n  actual   …{}…", around(expected), around(actual));
}

/// Returns the value of attribute `name` on the first element that starts with `element`.
fn attribute<'a>(xml: &'a str, element: &str, name: &str) -> &'a str {
    let start = xml.find(element).unwrap_or_else(|| panic!("no {element} in the Response"));
    let tag = &xml[start..start + xml[start..].find('>').expect("the element's tag ends")];
    let marker = format!(" {name}=\"");
    let value = tag.find(&marker).unwrap_or_else(|| panic!("no {name} on {element}")) + marker.len();
    &tag[value..value + tag[value..].find('"').expect("the attribute value ends")]
}

fn instant(value: &str) -> OffsetDateTime {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{value:?} is not an xs:dateTime: {e}"))
}

/// A generator that records the size of each draw, as the host records `random_get` calls.
struct RecordingRng {
    inner: ChaCha20Rng,
    draws: Vec<usize>,
}

impl RngCore for RecordingRng {
    fn next_u32(&mut self) -> u32 {
        self.draws.push(4);
        self.inner.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.draws.push(8);
        self.inner.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // getrandom makes no random_get call for an empty buffer.
        if !dest.is_empty() {
            self.draws.push(dest.len());
        }
        self.inner.fill_bytes(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for RecordingRng {}

// Golden output: the filter and the native core give the same bytes.

#[test]
fn golden_response_equals_native() {
    let (host, mut vm) = reference();
    host.seed_random(SEED);
    let outcome = vm.request(&init("amion"));
    assert_eq!(outcome.status(), Some(200), "{}", outcome.log_text());

    let native = native_response("amion", None, &mut FixedPlatform::new(NOW, SEED));
    assert_same("the filter's SAMLResponse", &native.xml, &saml_response(&outcome.body_text()));
}

#[test]
fn golden_response_equals_golden_file() {
    let (host, mut vm) = reference();
    host.seed_random(SEED);
    let outcome = vm.request(&init("amion"));

    let golden = read_fixture("../golden/reference_amion_idp_initiated.xml");
    assert_same("the filter's SAMLResponse", &golden, &saml_response(&outcome.body_text()));
}

#[test]
fn golden_page_equals_native_form() {
    let (host, mut vm) = reference();
    host.seed_random(SEED);
    let outcome = vm.request(&init("doximity"));

    let native = native_response("doximity", None, &mut FixedPlatform::new(NOW, SEED));
    let relay_state = r#"{"redirect_to":"https://www.doximity.com/dialer/home"}"#;
    let form = post_form("https://sp.example.test/saml/acs", "SAMLResponse", &native.base64(), Some(relay_state));
    assert_same("the filter's page", &form.html, &outcome.body_text());
    for (name, value) in POST_FORM_HEADERS {
        assert_eq!(outcome.header(name), Some(value), "header {name}");
    }
    assert_eq!(outcome.header("content-security-policy"), Some(form.content_security_policy.as_str()));
}

/// The filter draws randomness through WASI `random_get` in exactly the calls the native
/// core makes on its generator, which is what makes the golden comparison possible.
#[test]
fn golden_random_draws_match_native() {
    let (host, mut vm) = reference();
    host.seed_random(SEED);
    vm.request(&init("amion"));

    let mut platform =
        HostPlatform { now: NOW, rng: RecordingRng { inner: ChaCha20Rng::from_seed(SEED), draws: Vec::new() } };
    native_response("amion", None, &mut platform);
    assert_eq!(host.random_draws(), platform.rng.draws);
}

#[test]
fn golden_authn_instant_from_iat() {
    let (host, mut vm) = reference();
    let iat = NOW - Duration::minutes(7);
    let mut claims = reference_claims();
    claims["iat"] = json!(iat.unix_timestamp());
    host.seed_random(SEED);
    let outcome = vm.request(&Request::get("/saml/amion/init").jwt_payload(&claims));

    let native = native_response("amion", Some(iat), &mut FixedPlatform::new(NOW, SEED));
    assert_same("the filter's SAMLResponse", &native.xml, &saml_response(&outcome.body_text()));
}

#[test]
fn same_seed_same_page() {
    let (host, mut vm) = reference();
    host.seed_random(SEED);
    let first = vm.request(&init("amion")).body_text();
    host.seed_random(SEED);
    let second = vm.request(&init("amion")).body_text();
    assert_same("the second page", &first, &second);
}

// SSO endpoints: what the filter replies, counts and logs.

#[test]
fn issued_response_counted_and_logged() {
    let (host, mut vm) = reference();
    let outcome = vm.request(&init("amion"));
    assert_eq!(host.counter("edgeidp.saml.responses_issued.amion"), 1);
    assert!(outcome.log_text().contains("SAML Response issued: app=amion"), "{}", outcome.log_text());
    assert!(!outcome.log_text().contains("dana.reyes"), "the NameID must not be logged:\n{}", outcome.log_text());
}

#[test]
fn metadata_served() {
    let (host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/saml/metadata"));
    assert_eq!(outcome.status(), Some(200));
    assert_eq!(outcome.header("content-type"), Some("application/samlmetadata+xml"));
    assert!(outcome.body_text().contains("entityID=\"https://idp.example.test/saml/metadata\""));
    assert_eq!(host.counter("edgeidp.saml.metadata_served"), 1);
}

#[test]
fn metadata_head_has_no_body() {
    let (_host, mut vm) = reference();
    let outcome = vm.request(&Request::new("HEAD", "/saml/amion/metadata"));
    assert_eq!(outcome.status(), Some(200));
    assert_eq!(outcome.body_text(), "");
    assert!(
        outcome.local_response.as_ref().is_some_and(|local| !local.body.is_empty()),
        "the filter sends the body; Envoy drops it"
    );
}

#[test]
fn unknown_app_404() {
    let (host, mut vm) = reference();
    let outcome = vm.request(&init("nosuchapp"));
    assert_eq!(outcome.status(), Some(404));
    assert_eq!(outcome.body_text(), "No such app.\n");
    assert_eq!(host.counter("edgeidp.saml.requests_rejected.unknown_app"), 1);
    assert!(outcome.log_text().contains("reason=unknown_app"), "{}", outcome.log_text());
}

#[test]
fn unknown_app_metadata_404() {
    let (_host, mut vm) = reference();
    assert_eq!(vm.request(&Request::get("/saml/nosuchapp/metadata")).status(), Some(404));
}

#[test]
fn wrong_methods_405() {
    let cases = [
        ("POST", "/saml/metadata", "GET, HEAD"),
        ("DELETE", "/saml/amion/metadata", "GET, HEAD"),
        ("POST", "/saml/amion/init", "GET"),
        ("PUT", "/saml/amion/sso", "GET, POST"),
        ("get", "/saml/amion/init", "GET"),
    ];
    let (host, mut vm) = reference();
    for (method, path, allow) in cases {
        let outcome = vm.request(&Request::new(method, path));
        assert_eq!(outcome.status(), Some(405), "{method} {path}");
        assert_eq!(outcome.header("allow"), Some(allow), "{method} {path}");
    }
    assert_eq!(host.counter("edgeidp.saml.requests_rejected.method_not_allowed"), cases.len() as i64);
}

#[test]
fn relay_state_override_not_allowed_400() {
    let (host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/saml/amion/init?RelayState=elsewhere").jwt_payload(&reference_claims()));
    assert_eq!(outcome.status(), Some(400));
    assert_eq!(host.counter("edgeidp.saml.requests_rejected.relay_state"), 1);
    assert!(outcome.log_text().contains("allow_relay_state_override is false"), "{}", outcome.log_text());
}

#[test]
fn relay_state_rejections_with_override_allowed() {
    let config = reference_with(|c| c["apps"]["amion"]["allow_relay_state_override"] = json!(true));
    let (host, mut vm) = configured(&config);
    let too_long = "a".repeat(4097);
    let queries =
        ["RelayState=a&RelayState=b".to_owned(), format!("RelayState={too_long}"), "RelayState=a%01b".to_owned()];
    for query in &queries {
        let outcome = vm.request(&Request::get(&format!("/saml/amion/init?{query}")).jwt_payload(&reference_claims()));
        assert_eq!(outcome.status(), Some(400), "query {query:.40}");
    }
    assert_eq!(host.counter("edgeidp.saml.requests_rejected.relay_state"), queries.len() as i64);
}

#[test]
fn relay_state_override_used_when_allowed() {
    let config = reference_with(|c| c["apps"]["amion"]["allow_relay_state_override"] = json!(true));
    let (_host, mut vm) = configured(&config);
    let outcome = vm.request(&Request::get("/saml/amion/init?RelayState=%3Cb%3E").jwt_payload(&reference_claims()));
    assert_eq!(outcome.status(), Some(200));
    assert!(outcome.body_text().contains("name=\"RelayState\" value=\"&lt;b&gt;\""), "RelayState is escaped");
}

#[test]
fn post_body_too_large_413() {
    let (host, mut vm) = reference();
    let request = Request::post("/saml/amion/sso")
        .header("content-type", "application/x-www-form-urlencoded")
        .chunk(vec![b'a'; 40 * 1024])
        .chunk(vec![b'a'; 40 * 1024]);
    let outcome = vm.request(&request);
    assert_eq!(outcome.status(), Some(413));
    assert!(outcome.local_response.is_some(), "the filter, not the proxy, answers");
    assert_eq!(host.counter("edgeidp.saml.requests_rejected.body_too_large"), 1);
}

#[test]
fn post_body_buffered_until_end() {
    let (_host, mut vm) = reference();
    let request = Request::post("/saml/amion/sso").chunk("SAMLRequest=abc").chunk("&RelayState=x");
    let outcome = vm.request(&request);
    let calls: Vec<Callback> = outcome.calls.iter().map(|(callback, _)| *callback).collect();
    assert_eq!(calls[..3], [Callback::RequestHeaders, Callback::RequestBody, Callback::RequestBody]);
    assert_eq!(outcome.flow, Flow::Answered);
}

#[test]
fn no_identity_401() {
    let (host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/saml/amion/init"));
    assert_eq!(outcome.status(), Some(401));
    assert_eq!(outcome.header("www-authenticate"), Some("Bearer realm=\"edgeidp\""));
    assert_eq!(host.counter("edgeidp.saml.no_identity.amion"), 1);
}

#[test]
fn forged_payload_header_no_identity() {
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(reference_claims().to_string());
    let (_host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/saml/amion/init").header("x-jwt-payload", &payload));
    assert_eq!(outcome.status(), Some(401));
}

#[test]
fn no_identity_redirects_to_login_url() {
    let config = reference_with(|c| c["apps"]["amion"]["login_url"] = json!("https://login.example.test/start"));
    let (_host, mut vm) = configured(&config);
    let outcome = vm.request(&Request::get("/saml/amion/init"));
    assert_eq!(outcome.status(), Some(302));
    assert_eq!(
        outcome.header("location"),
        Some("https://login.example.test/start?return_to=https%3A%2F%2Fidp.example.test%2Fsaml%2Famion%2Finit")
    );
}

#[test]
fn missing_name_id_claim_500() {
    let mut claims = reference_claims();
    claims.as_object_mut().expect("claims are an object").remove("email");
    let (host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/saml/amion/init").jwt_payload(&claims));
    assert_eq!(outcome.status(), Some(500));
    assert_eq!(host.counter("edgeidp.saml.response_failures"), 1);
    assert!(outcome.logs.iter().any(|line| line.level == LogLevel::Error), "{}", outcome.log_text());
}

#[test]
fn ext_authz_headers_identity() {
    let config = reference_with(|c| {
        c["identity"] = json!({"ext_authz_headers": {"email": "x-auth-email", "login": "x-auth-login"}});
    });
    let (_host, mut vm) = configured(&config);
    let request = Request::get("/saml/amion/init")
        .header("x-auth-email", "dana.reyes@example.test")
        .header("x-auth-login", "dreyes");
    let outcome = vm.request(&request);
    assert_eq!(outcome.status(), Some(200), "{}", outcome.log_text());
    assert!(saml_response(&outcome.body_text()).contains(">dana.reyes@example.test</saml:NameID>"));
}

#[test]
fn other_paths_pass_through_unchanged() {
    let (_host, mut vm) = reference();
    let outcome = vm.request(&Request::get("/app/home").header("cookie", "a=b").body("hello"));
    assert!(outcome.continued(), "{:?}", outcome.flow);
    assert_eq!(outcome.header_changes(), []);
    assert_eq!(outcome.upstream.as_ref().map(|u| u.body.as_slice()), Some(&b"hello"[..]));
    assert_eq!(outcome.status(), Some(200));
}

#[test]
fn unconfigured_vm_fails_closed_503() {
    let host = Host::release();
    let mut vm = host.vm();
    assert!(!vm.configure("{}"));
    let outcome = vm.request(&Request::get("/saml/metadata"));
    assert_eq!(outcome.status(), Some(503));
}

// SP-initiated login with the AuthnRequest fixtures that pysaml2 and python3-saml made.
// The host's clock is set to just after the fixtures' IssueInstant, so the SP libraries'
// requests and signatures are used byte for byte.

/// The fixtures' SP, ACS URL and IdP base URL (their Destination names it).
const FIXTURE_SP: &str = "https://sp.example.test/metadata";
const FIXTURE_ACS_URL: &str = "https://sp.example.test/acs";
const FIXTURE_BASE_URL: &str = "http://127.0.0.1:10000";
/// Ten seconds after the fixtures' IssueInstant.
const FIXTURE_NOW: OffsetDateTime = time::macros::datetime!(2026-12-04 20:49:17 UTC);
const AMION_RELAY_STATE: &str = r#"{"redirect_to":"https://www.amion.com/organizations"}"#;

/// Returns the reference configuration with amion serving the fixtures' SP, which signs its
/// AuthnRequests.
fn sp_initiated_config() -> Value {
    reference_with(|c| {
        c["idp"]["base_url"] = json!(FIXTURE_BASE_URL);
        let amion = &mut c["apps"]["amion"];
        amion["sp_entity_id"] = json!(FIXTURE_SP);
        amion["acs_urls"] = json!([FIXTURE_ACS_URL]);
        amion["authn_requests_signed"] = json!(true);
        amion["sp_certificate_pem"] = json!(read_fixture("authn_requests/sp.cert.pem"));
    })
}

fn sp_initiated() -> (Host, Vm) {
    let (host, vm) = configured(&sp_initiated_config());
    host.set_time(FIXTURE_NOW);
    (host, vm)
}

fn fixture(name: &str) -> String {
    read_fixture(&format!("authn_requests/{name}.txt")).trim().to_owned()
}

fn fixture_request_id(name: &str) -> String {
    let manifest: Value =
        serde_json::from_str(&read_fixture("authn_requests/manifest.json")).expect("manifest.json is JSON");
    manifest[name]["id"].as_str().unwrap_or_else(|| panic!("no id for {name} in manifest.json")).to_owned()
}

/// Returns the request to the SSO endpoint for fixture `name`: a GET with its query for the
/// Redirect binding, a POST with its form body for the POST binding.
fn sso_request(name: &str, query_or_body: &str) -> Request {
    let request = if name.contains("-redirect-") {
        Request::get(&format!("/saml/amion/sso?{query_or_body}"))
    } else {
        Request::post("/saml/amion/sso")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query_or_body.as_bytes().to_vec())
    };
    request.jwt_payload(&reference_claims())
}

fn form_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={value}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Returns a Redirect-binding fixture's query with `edit` applied to the AuthnRequest XML,
/// signed again with the fixture SP's key if the fixture was signed.
fn edited_redirect_query(name: &str, edit: impl Fn(&str) -> String) -> String {
    use std::io::{Read, Write};

    let raw = fixture(name);
    let param = |key: &str| raw.split('&').find_map(|p| p.strip_prefix(&format!("{key}="))).map(str::to_owned);
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(form_decode(&param("SAMLRequest").expect("SAMLRequest")))
        .expect("SAMLRequest is base64");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice()).read_to_string(&mut xml).expect("SAMLRequest inflates");
    let xml = edit(&xml);
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).expect("deflate");
    let encoded = base64::engine::general_purpose::STANDARD.encode(encoder.finish().expect("deflate"));

    let mut query = format!("SAMLRequest={}", form_encode(&encoded));
    if let Some(relay_state) = param("RelayState") {
        query.push_str(&format!("&RelayState={relay_state}"));
    }
    let Some(sig_alg) = param("SigAlg") else {
        return query;
    };
    query.push_str(&format!("&SigAlg={sig_alg}"));
    let key = edgeidp::saml::keys::private_key_from_pem(&read_fixture("authn_requests/TEST-ONLY-sp.key.pem"))
        .expect("the fixture SP key loads");
    let signature = RsaCrateSigner::new(key)
        .sign(SignatureAlgorithm::RsaSha256, query.as_bytes(), &mut ChaCha20Rng::from_seed(SEED))
        .expect("the query signs");
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    format!("{query}&Signature={}", form_encode(&signature))
}

/// Returns the SAML status codes of an error Response page, top level first.
fn status_codes(page: &str) -> Vec<String> {
    let xml = saml_response(page);
    xml.split("<samlp:StatusCode Value=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_owned).collect()
}

#[test]
fn sp_initiated_fixtures_accepted() {
    for name in
        ["pysaml2-redirect-signed", "python3-saml-redirect-signed", "pysaml2-post-signed", "python3-saml-post-signed"]
    {
        let (_host, mut vm) = sp_initiated();
        let outcome = vm.request(&sso_request(name, &fixture(name)));
        assert_eq!(outcome.status(), Some(200), "{name}:\n{}", outcome.log_text());
        let xml = saml_response(&outcome.body_text());
        assert!(xml.contains(&format!("InResponseTo=\"{}\"", fixture_request_id(name))), "{name}: InResponseTo");
        assert!(xml.contains("<saml:Assertion "), "{name}: no Assertion");
        let relay_state = format!("name=\"RelayState\" value=\"{}\"", AMION_RELAY_STATE.replace('"', "&quot;"));
        assert!(outcome.body_text().contains(&relay_state), "{name}: RelayState round trip");
    }
}

#[test]
fn golden_sp_initiated_equals_native() {
    let name = "python3-saml-redirect-signed";
    let (host, mut vm) = sp_initiated();
    host.seed_random(SEED);
    let outcome = vm.request(&sso_request(name, &fixture(name)));

    let config = load_config(&sp_initiated_config());
    let app = config.app("amion").expect("amion");
    let profile = reference_profile();
    let id = fixture_request_id(name);
    let login =
        Login { app, profile: &profile, acs_url: FIXTURE_ACS_URL, in_response_to: Some(&id), authn_instant: None };
    let native = build_response(&config.idp, &login, &mut FixedPlatform::new(FIXTURE_NOW, SEED)).expect("builds");
    assert_same("the filter's SAMLResponse", &native.xml, &saml_response(&outcome.body_text()));
}

/// A POST whose stream ends with trailers: the filter decides in the trailers callback.
#[test]
fn sp_initiated_post_with_trailers() {
    let name = "pysaml2-post-signed";
    let (_host, mut vm) = sp_initiated();
    let outcome = vm.request(&sso_request(name, &fixture(name)).trailer("x-checksum", "abc"));
    assert_eq!(outcome.status(), Some(200), "{}", outcome.log_text());
    assert!(outcome.calls.iter().any(|(callback, _)| *callback == Callback::RequestTrailers), "{:?}", outcome.calls);
    assert!(saml_response(&outcome.body_text()).contains(&fixture_request_id(name)), "InResponseTo");
}

#[test]
fn sp_initiated_without_identity_401() {
    let name = "pysaml2-redirect-signed";
    let (_host, mut vm) = sp_initiated();
    let outcome = vm.request(&Request::get(&format!("/saml/amion/sso?{}", fixture(name))));
    assert_eq!(outcome.status(), Some(401));
}

/// Asserts that the filter rejected an AuthnRequest for `check`: counted and logged under
/// that name, with an error page or an error Response without an Assertion.
fn assert_authn_request_rejected(host: &Host, outcome: &Outcome, check: &str) {
    assert_eq!(host.counter(&format!("edgeidp.saml.authn_requests_rejected.{check}")), 1, "{check}: counter");
    assert!(outcome.log_text().contains(&format!("reason={check} ")), "{check}: log:\n{}", outcome.log_text());
    match outcome.status() {
        Some(400) => {}
        Some(200) => {
            let codes = status_codes(&outcome.body_text());
            assert_ne!(
                codes.first().map(String::as_str),
                Some("urn:oasis:names:tc:SAML:2.0:status:Success"),
                "{check}"
            );
            assert!(
                !saml_response(&outcome.body_text()).contains("Assertion"),
                "{check}: error Response with an Assertion"
            );
        }
        other => panic!("{check}: status {other:?}, expected 400 or an error Response"),
    }
}

/// One AuthnRequest per check the filter counts, each changed from a fixture that passes.
#[test]
fn authn_request_rejections() {
    let cases = [
        ("invalid", "pysaml2-redirect-signed", ":AuthnRequest", ":LogoutRequest"),
        ("issuer", "pysaml2-redirect-signed", ">https://sp.example.test/metadata<", ">https://other.example/metadata<"),
        ("acs_url", "pysaml2-redirect-signed", "\"https://sp.example.test/acs\"", "\"https://attacker.example/acs\""),
        (
            "destination",
            "pysaml2-redirect-signed",
            "http://127.0.0.1:10000/saml/amion/sso",
            "https://other.example/sso",
        ),
        ("protocol_binding", "pysaml2-redirect-signed", "bindings:HTTP-POST", "bindings:HTTP-Artifact"),
        ("name_id_policy", "python3-saml-redirect-signed", "nameid-format:unspecified", "nameid-format:persistent"),
        ("authn_context", "python3-saml-redirect-signed", "classes:PasswordProtectedTransport<", "classes:X509<"),
        (
            "passive",
            "pysaml2-redirect-signed",
            " Version=\"2.0\"",
            " Version=\"2.0\" IsPassive=\"true\" ForceAuthn=\"true\"",
        ),
    ];
    for (check, name, from, to) in cases {
        let (host, mut vm) = sp_initiated();
        let query = edited_redirect_query(name, |xml| {
            assert!(xml.contains(from), "{check}: {name} has no {from:?}");
            xml.replace(from, to)
        });
        let outcome = vm.request(&sso_request(name, &query));
        assert_authn_request_rejected(&host, &outcome, check);
    }
}

#[test]
fn authn_request_malformed() {
    let (host, mut vm) = sp_initiated();
    let outcome = vm.request(&sso_request("pysaml2-redirect-signed", "SAMLRequest=%%%"));
    assert_authn_request_rejected(&host, &outcome, "malformed");
    assert_eq!(outcome.status(), Some(400));
}

#[test]
fn authn_request_signature_missing() {
    let name = "pysaml2-redirect-unsigned";
    let (host, mut vm) = sp_initiated();
    let outcome = vm.request(&sso_request(name, &fixture(name)));
    assert_authn_request_rejected(&host, &outcome, "signature_missing");
}

#[test]
fn authn_request_signature_forged() {
    let name = "pysaml2-redirect-signed";
    let (signed, _) =
        fixture(name).rsplit_once("&Signature=").map(|(a, b)| (a.to_owned(), b.to_owned())).expect("signed");
    let forged =
        format!("{signed}&Signature={}", form_encode(&base64::engine::general_purpose::STANDARD.encode([7u8; 256])));
    let (host, mut vm) = sp_initiated();
    let outcome = vm.request(&sso_request(name, &forged));
    assert_authn_request_rejected(&host, &outcome, "signature");
}

#[test]
fn authn_request_post_signature_broken() {
    let name = "python3-saml-post-signed";
    let body: String = url::form_urlencoded::parse(fixture(name).as_bytes())
        .map(|(key, value)| {
            let value = if key == "SAMLRequest" {
                let xml = base64::engine::general_purpose::STANDARD.decode(value.as_bytes()).expect("base64");
                let xml = String::from_utf8_lossy(&xml).replace("AllowCreate=\"true\"", "AllowCreate=\"false\"");
                base64::engine::general_purpose::STANDARD.encode(xml)
            } else {
                value.into_owned()
            };
            format!("{key}={}", form_encode(&value))
        })
        .collect::<Vec<_>>()
        .join("&");
    let (host, mut vm) = sp_initiated();
    let outcome = vm.request(&sso_request(name, &body));
    assert_authn_request_rejected(&host, &outcome, "signature");
}

/// Time travel: the same signed request is accepted now and rejected once the clock has
/// moved past the allowed skew.
#[test]
fn authn_request_expires_with_clock() {
    let name = "pysaml2-redirect-signed";
    let (host, mut vm) = sp_initiated();
    assert_eq!(vm.request(&sso_request(name, &fixture(name))).status(), Some(200));
    host.advance(Duration::hours(1));
    let outcome = vm.request(&sso_request(name, &fixture(name)));
    assert_authn_request_rejected(&host, &outcome, "issue_instant");
}

// Time travel: everything time-dependent follows the host's clock.

#[test]
fn assertion_window_moves_with_clock() {
    let (host, mut vm) = reference();
    let first = saml_response(&vm.request(&init("amion")).body_text());
    host.advance(Duration::hours(1));
    let later = saml_response(&vm.request(&init("amion")).body_text());

    for (element, name) in [
        ("<samlp:Response ", "IssueInstant"),
        ("<saml:Conditions ", "NotBefore"),
        ("<saml:Conditions ", "NotOnOrAfter"),
        ("<saml:SubjectConfirmationData ", "NotOnOrAfter"),
        ("<saml:AuthnStatement ", "AuthnInstant"),
    ] {
        let moved = instant(attribute(&later, element, name)) - instant(attribute(&first, element, name));
        assert_eq!(moved, Duration::hours(1), "{element}{name}");
    }
}

#[test]
fn assertion_window_matches_configuration() {
    let (_host, mut vm) = reference();
    let xml = saml_response(&vm.request(&init("amion")).body_text());
    assert_eq!(instant(attribute(&xml, "<saml:Conditions ", "NotBefore")), NOW - Duration::minutes(1));
    assert_eq!(instant(attribute(&xml, "<saml:Conditions ", "NotOnOrAfter")), NOW + Duration::minutes(5));
}

// Configuration errors: on_configure returns false and the log names the field.

/// Each case: a broken configuration and the text its error line must contain.
#[test]
fn configuration_errors_name_the_field() {
    let cases: [(&str, Value, &str); 6] = [
        (
            "missing entity ID",
            reference_with(|c| drop(c["idp"].as_object_mut().map(|idp| idp.remove("entity_id")))),
            "idp.entity_id: missing field `entity_id`",
        ),
        (
            "invalid ACS URL",
            reference_with(|c| c["apps"]["amion"]["acs_urls"] = json!(["not a url"])),
            "apps.amion.acs_urls[0]",
        ),
        ("unknown app field", reference_with(|c| c["apps"]["amion"]["colour"] = json!("red")), "apps.amion.colour"),
        (
            "bad return_to parameter",
            reference_with(|c| c["identity"] = json!({"jwt_authn": {}, "return_to_parameter": "a b"})),
            "identity.return_to_parameter",
        ),
        (
            "uppercase header",
            reference_with(|c| c["identity"] = json!({"ext_authz_headers": {"email": "X-Email"}})),
            "identity.ext_authz_headers.email",
        ),
        ("no identity source", reference_with(|c| c["identity"] = json!({})), "identity: missing"),
    ];
    let host = Host::release();
    for (name, config, field) in cases {
        let mut vm = host.vm();
        assert!(!vm.configure(&config.to_string()), "{name}: accepted");
        let errors: Vec<&str> =
            vm.logs().iter().filter(|line| line.level == LogLevel::Error).map(|line| line.message.as_str()).collect();
        assert!(
            errors.iter().any(|line| line.contains(field)),
            "{name}: no error line contains {field:?}: {errors:#?}"
        );
        assert!(!vm.log_text().contains("PRIVATE KEY"), "{name}: the log shows the signing key");
    }
    assert_eq!(host.counter("edgeidp.config.rejected"), 6);
}

#[test]
fn configuration_not_json_rejected() {
    let host = Host::release();
    let mut vm = host.vm();
    assert!(!vm.configure("{\"idp\": "));
    assert!(vm.log_text().contains("invalid plugin configuration"), "{}", vm.log_text());
}

#[test]
fn configuration_empty_rejected() {
    let host = Host::release();
    let mut vm = host.vm();
    assert!(!vm.configure(""));
    assert!(vm.log_text().contains("the plugin configuration is empty"), "{}", vm.log_text());
}

#[test]
fn configuration_loaded_logged_and_counted() {
    let (host, vm) = reference();
    assert!(vm.log_text().contains("configuration loaded"), "{}", vm.log_text());
    assert_eq!(host.counter("edgeidp.config.loaded"), 1);
}

// The host: several VMs, and failures reported rather than hidden.

#[test]
fn vms_share_metrics() {
    let (host, mut first) = reference();
    let mut second = host.vm();
    assert!(second.configure(&reference_config_json().to_string()));
    first.request(&Request::get("/saml/metadata"));
    second.request(&Request::get("/saml/metadata"));
    assert_eq!(host.counter("edgeidp.saml.metadata_served"), 2);
    assert_eq!(host.counter("edgeidp.config.loaded"), 2);
}

#[test]
fn trap_reported_with_panic_message() {
    let (_host, mut vm) = reference();
    vm.inject_status("proxy_get_current_time_nanoseconds", status::INTERNAL_FAILURE);
    let trap = vm.try_request(&Request::get("/saml/metadata")).expect_err("the SDK panics on an unexpected status");
    assert_eq!(trap.callback, "proxy_on_request_headers");
    assert!(trap.critical_logs.iter().any(|line| line.contains("unexpected status: 10")), "{trap}");
}

/// The filter reads the header map itself rather than through the SDK, so a refused read
/// fails the request closed instead of stopping the VM.
#[test]
fn unreadable_headers_fail_closed() {
    let (_host, mut vm) = reference();
    vm.inject_status("proxy_get_header_map_pairs", status::INTERNAL_FAILURE);
    let outcome = vm.request(&Request::get("/saml/metadata"));
    assert_eq!(outcome.status(), Some(500), "{}", outcome.body_text());
    vm.clear_injected();
    let outcome = vm.request(&Request::get("/saml/metadata"));
    assert_eq!(outcome.status(), Some(200), "the VM still serves: {}", outcome.body_text());
}

#[test]
fn trapped_vm_stays_failed() {
    let (_host, mut vm) = reference();
    vm.inject_status("proxy_get_current_time_nanoseconds", status::INTERNAL_FAILURE);
    let _ = vm.try_request(&Request::get("/saml/metadata"));
    vm.clear_injected();
    assert!(vm.try_request(&Request::get("/saml/metadata")).is_err(), "a VM that trapped must not serve again");
}

#[test]
#[should_panic(expected = "trap in proxy_on_request_headers")]
fn trap_fails_request() {
    let (_host, mut vm) = reference();
    vm.inject_status("proxy_get_current_time_nanoseconds", status::INTERNAL_FAILURE);
    vm.request(&Request::get("/saml/metadata"));
}

/// The imports the host leaves as trap stubs: callouts, queues and foreign functions,
/// which the filter links but never calls. A new import shows up here by name.
#[test]
fn unimplemented_imports_are_known() {
    let host = Host::release();
    let mut stubs = host.unimplemented_imports().to_vec();
    stubs.sort();
    let expected = [
        "env.proxy_call_foreign_function",
        "env.proxy_dequeue_shared_queue",
        "env.proxy_done",
        "env.proxy_enqueue_shared_queue",
        "env.proxy_get_status",
        "env.proxy_grpc_call",
        "env.proxy_grpc_cancel",
        "env.proxy_grpc_close",
        "env.proxy_grpc_send",
        "env.proxy_grpc_stream",
        "env.proxy_http_call",
        "env.proxy_register_shared_queue",
        "env.proxy_resolve_shared_queue",
    ];
    assert_eq!(stubs, expected);
}

// Regressions: inputs that made the filter's VM panic.

/// Envoy returns SerializationFailure for a JSON null in dynamic metadata, on which the
/// SDK's `get_property` panicked. It fails the whole payload too (one null value fails the
/// map), so the filter reads the other claims one by one and the user still logs in.
#[test]
fn jwt_null_claim_still_logs_in() {
    let mut claims = reference_claims();
    claims["title"] = Value::Null;
    let (_host, mut vm) = reference();
    let outcome = vm.try_request(&Request::get("/saml/amion/init").jwt_payload(&claims)).expect("no trap");
    assert_eq!(outcome.status(), Some(200), "{}", outcome.log_text());
}

/// Envoy passes header bytes 0x80 to 0xFF through, on which the SDK's
/// `get_http_request_header` panicked. Such an identity header now reads as absent.
#[test]
fn invalid_utf8_identity_header_ignored() {
    let config = reference_with(|c| c["identity"] = json!({"ext_authz_headers": {"email": "x-auth-email"}}));
    let (_host, mut vm) = configured(&config);
    let request = Request::get("/saml/amion/init").header_bytes(b"x-auth-email", b"dana\xff@example.test");
    let outcome = vm.try_request(&request).expect("no trap");
    assert_eq!(outcome.status(), Some(401));
}

/// The same panic for `:path`: an undecodable path is now routed with U+FFFD in it.
#[test]
fn invalid_utf8_path_routed() {
    let (_host, mut vm) = reference();
    let request = Request::get("/").without_header(":path").header_bytes(b":path", b"/saml/\xff/init");
    let outcome = vm.try_request(&request).expect("no trap");
    assert_eq!(outcome.status(), Some(404));
}

// The host's own models of Envoy's data structures.

#[test]
fn shared_data_cas_as_in_envoy() {
    let mut data = host::store::SharedData::default();
    assert_eq!(data.set("k", b"a".to_vec(), 7), Ok(()), "a CAS on an absent key is not checked");
    let (_, cas) = data.get("k").expect("stored");
    assert_eq!(data.set("k", b"b".to_vec(), cas + 1), Err(()), "a wrong CAS fails");
    assert_eq!(data.set("k", b"c".to_vec(), cas), Ok(()), "the current CAS succeeds");
    assert_eq!(data.set("k", b"d".to_vec(), cas), Err(()), "the version moved on");
    assert_eq!(data.set("k", b"e".to_vec(), 0), Ok(()), "CAS 0 always writes");
    assert_eq!(data.get("k").map(|(value, _)| value), Some(b"e".to_vec()));
}

#[test]
fn pairs_round_trip() {
    let pairs = vec![(b":path".to_vec(), b"/a".to_vec()), (b"x".to_vec(), Vec::new()), (Vec::new(), b"\xff".to_vec())];
    let encoded = host::guest::encode_pairs(&pairs);
    assert_eq!(host::guest::decode_pairs(&encoded), Some(pairs));
    assert_eq!(host::guest::decode_pairs(&encoded[..encoded.len() - 2]), None, "truncated pairs are rejected");
}

#[test]
fn property_null_fails_its_map() {
    let payload = host::Property::from_json(&json!({"email": "a@example.test", "title": null}));
    assert_eq!(payload.find(&["email"]).map(host::Property::serialize), Some(Ok(b"a@example.test".to_vec())));
    assert!(payload.serialize().is_err(), "Envoy cannot serialize a Struct that contains a null");
    let number = host::Property::from_json(&json!(1.5)).serialize();
    assert_eq!(number, Ok(1.5f64.to_le_bytes().to_vec()), "numbers are little-endian doubles");
}

// The signing key from the VM's environment, as Envoy passes it with host_env_keys.

/// Returns the reference configuration with the signing key in `EDGEIDP_SIGNING_KEY`.
fn key_from_environment_config() -> Value {
    reference_with(|c| {
        let idp = c["idp"].as_object_mut().expect("idp is an object");
        idp.remove("signing_key_pem");
        idp.insert("signing_key_env".to_owned(), json!("EDGEIDP_SIGNING_KEY"));
    })
}

#[test]
fn signing_key_from_environment() {
    let config = key_from_environment_config();
    let host = Host::release();
    host.set_time(NOW);
    host.set_environment(&[("EDGEIDP_SIGNING_KEY", &read_fixture("keys/idp.key.pem"))]);
    let mut vm = host.vm();
    assert!(vm.configure(&config.to_string()), "{}", vm.log_text());

    host.seed_random(SEED);
    let outcome = vm.request(&init("amion"));
    let native = native_response("amion", None, &mut FixedPlatform::new(NOW, SEED));
    assert_same("the filter's SAMLResponse", &native.xml, &saml_response(&outcome.body_text()));
}

#[test]
fn signing_key_environment_missing_rejected() {
    let config = key_from_environment_config();
    let host = Host::release();
    let mut vm = host.vm();
    assert!(!vm.configure(&config.to_string()));
    assert!(vm.log_text().contains("idp.signing_key_env"), "{}", vm.log_text());
}

// The build: scripts/build-filter removes the exports of callbacks the filter does not
// implement, so that Envoy skips them.

/// The callbacks whose exports scripts/build-filter removes.
const STRIPPED_CALLBACKS: [&str; 5] = [
    "proxy_on_response_headers",
    "proxy_on_response_body",
    "proxy_on_response_trailers",
    "proxy_on_log",
    "proxy_on_done",
];

#[test]
fn filter_omits_unused_callbacks() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(host::RELEASE_WASM);
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&engine, &path).expect("the release filter loads");
    let exports: Vec<&str> = module.exports().map(|export| export.name()).collect();
    for callback in STRIPPED_CALLBACKS {
        assert!(!exports.contains(&callback), "{callback} is still exported; scripts/build-filter should remove it");
    }
    for callback in ["proxy_on_context_create", "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_delete"] {
        assert!(exports.contains(&callback), "{callback} must stay exported");
    }
}

#[test]
fn strip_script_rejects_non_wasm() {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    std::fs::write(file.path(), b"not a module").expect("write");
    let output = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/strip-wasm-exports"))
        .arg(file.path())
        .arg("proxy_on_log")
        .output()
        .expect("run scripts/strip-wasm-exports");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a file that is not WebAssembly fails");
    assert!(error.contains("not a WebAssembly 1.0 binary module"), "the error says what is wrong: {error}");
    assert_eq!(std::fs::read(file.path()).expect("read"), b"not a module", "the file is left as it was");
}
