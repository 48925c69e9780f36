//! The filter in real Envoy, with the shipped demo configuration: metadata, IdP-initiated
//! login for the reference deployment, identity only from jwt_authn, rejections, escaping,
//! encrypted assertions, and configurations Envoy must reject.
//!
//! Needs Envoy and the built filter, which `scripts/test` installs and builds first. The
//! signatures and the encryption are checked with xmlsec1 (`scripts/install-deps`).

#[path = "support/envoy.rs"]
mod envoy;
mod support;

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use edgeidp::config::Config;
use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use edgeidp::saml::metadata::{build_app_metadata, build_metadata};
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use envoy::{get, keys, mint_jwt, post_form, scratch_dir, Envoy, HttpResponse};
use serde_json::{json, Value};
use support::encryption::{encryption_json, sp_key_pem, xmlsec_decrypt};
use support::xmlsec_verify;

const AMION_RELAY_STATE: &str = r#"{"redirect_to":"https://www.amion.com/organizations"}"#;
const DOXIMITY_RELAY_STATE: &str = r#"{"redirect_to":"https://www.doximity.com/dialer/home"}"#;
/// The IdP's public base URL, which the AuthnRequest fixtures' Destination names. Envoy
/// listens on another port, as it would behind a load balancer.
const BASE_URL: &str = "http://127.0.0.1:10000";
/// The SP of the AuthnRequest fixtures (tests/fixtures/authn_requests).
const SP_ENTITY_ID: &str = "https://sp.example.test/metadata";
const ACS_URL: &str = "https://sp.example.test/acs";
const LOGIN_URL: &str = "https://login.example.com/start?tenant=t1";
const AUTHN_REQUEST_ID_ATTR: &str = "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest";
const STATUS_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:status:";

/// Returns the reference deployment: two apps, five attributes, emailAddress NameID. Its
/// `amion` app also requires signed AuthnRequests from the fixtures' SP. A third app,
/// `sandbox`, accepts a RelayState from the query and sends users without an identity to a
/// login URL.
fn reference_config() -> Value {
    let attributes = envoy::reference_attributes();
    let app = |relay_state: &str| {
        json!({
            "sp_entity_id": SP_ENTITY_ID,
            "acs_urls": [ACS_URL],
            "default_relay_state": relay_state,
            "name_id": {"format": "emailAddress", "value": "user.email"},
            "attributes": attributes
        })
    };
    let mut amion = app(AMION_RELAY_STATE);
    amion["authn_requests_signed"] = json!(true);
    amion["sp_certificate_pem"] = json!(read_fixture("sp.cert.pem"));
    let mut sandbox = app("sandbox-default");
    sandbox["allow_relay_state_override"] = json!(true);
    sandbox["login_url"] = json!(LOGIN_URL);
    json!({
        "idp": {
            "entity_id": format!("{BASE_URL}/saml/metadata"),
            "base_url": BASE_URL,
            "signing_key_pem": keys().idp_key_pem,
            "certificate_pem": keys().idp_cert_pem
        },
        "identity": {"jwt_authn": {"claims": {"title": "title"}}},
        "apps": {
            "amion": amion,
            "doximity": app(DOXIMITY_RELAY_STATE),
            "sandbox": sandbox
        }
    })
}

/// Returns the Envoy shared by the tests that use the reference configuration.
fn shared() -> &'static Envoy {
    static ENVOY: OnceLock<Envoy> = OnceLock::new();
    ENVOY.get_or_init(|| Envoy::start("reference", &reference_config()))
}

fn fixture_path(name: &str) -> std::path::PathBuf {
    envoy::root().join("tests/fixtures/authn_requests").join(name)
}

fn read_fixture(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn demo_user() -> Value {
    json!({
        "sub": "00u1dana",
        "email": "dana.reyes@example.com",
        "given_name": "Dana",
        "family_name": "Reyes",
        "preferred_username": "dreyes",
        "title": "Charge Nurse"
    })
}

fn demo_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| mint_jwt(&demo_user(), None))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn fetch(path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    fetch_from(shared(), path, headers)
}

fn fetch_from(envoy: &Envoy, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    get(&envoy.url(path), headers).unwrap_or_else(|| panic!("no connection to Envoy for {path}:\n{}", envoy.log()))
}

fn load(plugin_config: &Value) -> Config {
    let json = serde_json::to_vec(plugin_config).unwrap_or_default();
    match Config::from_json(&json, time::OffsetDateTime::now_utc()) {
        Ok((config, _)) => config,
        Err(e) => panic!("the test configuration should load: {e}"),
    }
}

/// The auto-submitting form's action and hidden fields, HTML-unescaped.
struct Form {
    action: String,
    saml_response: String,
    relay_state: Option<String>,
}

fn parse_form(html: &str) -> Form {
    let attribute_after = |marker: &str, attribute: &str| -> Option<String> {
        let start = html.find(marker)?;
        let rest = &html[start..];
        let value_start = rest.find(&format!("{attribute}=\""))? + attribute.len() + 2;
        let value_end = value_start + rest[value_start..].find('"')?;
        Some(html_unescape(&rest[value_start..value_end]))
    };
    Form {
        action: attribute_after("<form", "action").unwrap_or_else(|| panic!("no form action in:\n{html}")),
        saml_response: attribute_after("name=\"SAMLResponse\"", "value")
            .unwrap_or_else(|| panic!("no SAMLResponse in:\n{html}")),
        relay_state: attribute_after("name=\"RelayState\"", "value"),
    }
}

fn html_unescape(value: &str) -> String {
    value
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn decode_response(form: &Form) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&form.saml_response)
        .unwrap_or_else(|e| panic!("SAMLResponse is not base64: {e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("the Response is not UTF-8: {e}"))
}

/// Returns the signing certificate published in metadata, as PEM.
fn certificate_from_metadata(metadata: &str) -> String {
    let document = roxmltree::Document::parse(metadata).unwrap_or_else(|e| panic!("metadata does not parse: {e}"));
    let base64 = document
        .descendants()
        .find(|n| n.has_tag_name("X509Certificate"))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no X509Certificate in metadata"));
    let lines: Vec<String> =
        base64.trim().as_bytes().chunks(64).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// The parts of a Response the tests check.
struct ResponseFacts {
    response_id: String,
    assertion_id: String,
    destination: String,
    in_response_to: Option<String>,
    name_id: String,
    name_id_format: String,
    audience: String,
    attributes: Vec<(String, Vec<String>)>,
}

fn facts(xml: &str) -> ResponseFacts {
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("the Response does not parse: {e}"));
    let root = document.root_element();
    let element = |name: &str| document.descendants().find(|n| n.has_tag_name(name));
    let text = |name: &str| element(name).and_then(|n| n.text()).unwrap_or_default().to_owned();
    let attributes = document
        .descendants()
        .filter(|n| n.has_tag_name("Attribute"))
        .map(|n| {
            let values = n.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or_default().to_owned());
            (n.attribute("Name").unwrap_or_default().to_owned(), values.collect())
        })
        .collect();
    ResponseFacts {
        response_id: root.attribute("ID").unwrap_or_default().to_owned(),
        assertion_id: element("Assertion").and_then(|n| n.attribute("ID")).unwrap_or_default().to_owned(),
        destination: root.attribute("Destination").unwrap_or_default().to_owned(),
        in_response_to: root.attribute("InResponseTo").map(str::to_owned),
        name_id: text("NameID"),
        name_id_format: element("NameID").and_then(|n| n.attribute("Format")).unwrap_or_default().to_owned(),
        audience: text("Audience"),
        attributes,
    }
}

fn attribute<'a>(facts: &'a ResponseFacts, name: &str) -> Option<&'a [String]> {
    facts.attributes.iter().find(|(n, _)| n == name).map(|(_, values)| values.as_slice())
}

/// Waits up to ten seconds for Envoy's log to contain `needle`; Envoy writes it in batches.
fn wait_for_log(envoy: &Envoy, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = envoy.log();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn assert_no_response(response: &HttpResponse, case: &str) {
    assert!(!response.body.contains("SAMLResponse"), "{case}: a Response was issued:\n{}", response.body);
    assert_ne!(response.status, 200, "{case}: status 200");
}

fn check_idp_initiated(app: &str, relay_state: &str) {
    let metadata = fetch("/saml/metadata", &[]).body;
    let response = fetch(&format!("/saml/{app}/init"), &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let csp = response.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'sha256-"), "CSP: {csp}");
    assert!(csp.contains("form-action https://sp.example.test;"), "CSP: {csp}");

    let form = parse_form(&response.body);
    assert_eq!(form.action, ACS_URL);
    assert_eq!(form.relay_state.as_deref(), Some(relay_state));

    let xml = decode_response(&form);
    let facts = facts(&xml);
    let cert = certificate_from_metadata(&metadata);
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.response_id), Ok(()), "Response signature");
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.assertion_id), Ok(()), "Assertion signature");
    assert_eq!(facts.destination, ACS_URL);
    assert_eq!(facts.in_response_to, None, "an unsolicited Response has no InResponseTo");
    assert_eq!(facts.audience, SP_ENTITY_ID);
    assert_eq!(facts.name_id, "dana.reyes@example.com");
    assert_eq!(facts.name_id_format, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    assert_reference_attributes(&facts, app);
}

/// Checks that `facts` carries the reference apps' five attributes with the demo user's claims.
fn assert_reference_attributes(facts: &ResponseFacts, case: &str) {
    let user = demo_user();
    let expected = [
        ("email", &user["email"]),
        ("first_name", &user["given_name"]),
        ("last_name", &user["family_name"]),
        ("name", &user["preferred_username"]),
        ("jobTitle", &user["title"]),
    ];
    assert_eq!(facts.attributes.len(), expected.len(), "{case}: attributes: {:?}", facts.attributes);
    for (name, claim) in expected {
        let expected_value = vec![claim.as_str().unwrap_or_default().to_owned()];
        assert_eq!(attribute(facts, name), Some(expected_value.as_slice()), "{case}: attribute {name}");
    }
}

#[test]
fn metadata_equals_core() {
    let envoy = shared();
    let response = fetch("/saml/metadata", &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/samlmetadata+xml"));
    let config = load(&envoy.plugin_config);
    assert_eq!(response.body, build_metadata(&config, time::OffsetDateTime::now_utc()));
}

#[test]
fn app_metadata_equals_core() {
    let envoy = shared();
    let config = load(&envoy.plugin_config);
    for app in ["amion", "doximity"] {
        let response = fetch(&format!("/saml/{app}/metadata"), &[]);
        assert_eq!(response.status, 200, "{app}");
        assert_eq!(response.body, build_app_metadata(&config, app, time::OffsetDateTime::now_utc()), "{app}");
    }
}

#[test]
fn idp_initiated_amion() {
    check_idp_initiated("amion", AMION_RELAY_STATE);
}

#[test]
fn idp_initiated_doximity() {
    check_idp_initiated("doximity", DOXIMITY_RELAY_STATE);
}

#[test]
fn missing_jwt_gets_401() {
    let response = fetch("/saml/amion/init", &[]);
    assert_eq!(response.status, 401);
    assert_no_response(&response, "no JWT");
}

/// Envoy cannot return a JWT payload that contains a null claim as a whole. The filter then
/// reads the other claims one by one, so the user still logs in, without that attribute.
#[test]
fn jwt_null_claim_still_logs_in() {
    let mut user = demo_user();
    user["title"] = Value::Null;
    let token = mint_jwt(&user, None);
    let response = fetch("/saml/amion/init", &[("authorization", &bearer(&token))]);
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    let facts = facts(&decode_response(&parse_form(&response.body)));
    assert_eq!(facts.name_id, "dana.reyes@example.com");
    assert_eq!(attribute(&facts, "email"), Some([user["email"].as_str().unwrap_or_default().to_owned()].as_slice()));
    assert_eq!(attribute(&facts, "jobTitle"), None, "the null claim gives no attribute");
}

#[test]
fn expired_jwt_rejected() {
    let expired = mint_jwt(&demo_user(), Some("2020-01-01T00:00:00Z"));
    let response = fetch("/saml/amion/init", &[("authorization", &bearer(&expired))]);
    assert_eq!(response.status, 401);
    assert_no_response(&response, "expired JWT");
}

#[test]
fn forged_jwt_rejected() {
    let token = demo_token();
    let (signed, _signature) = token.rsplit_once('.').unwrap_or_default();
    let forged = format!("{signed}.{}", "A".repeat(342));
    let response = fetch("/saml/amion/init", &[("authorization", &bearer(&forged))]);
    assert_eq!(response.status, 401);
    assert_no_response(&response, "JWT with a bad signature");
}

#[test]
fn forged_identity_headers_ignored() {
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"email": "mallory@example.com", "iss": envoy::JWT_ISSUER}).to_string());
    let headers = [
        ("x-jwt-payload", payload.as_str()),
        ("x-auth-request-email", "mallory@example.com"),
        ("x-forwarded-email", "mallory@example.com"),
        ("x-forwarded-user", "mallory"),
        ("x-remote-user", "mallory"),
    ];
    let response = fetch("/saml/amion/init", &headers);
    assert_eq!(response.status, 401);
    assert_no_response(&response, "forged identity headers without a JWT");
}

#[test]
fn forged_payload_cannot_change_user() {
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"email": "mallory@example.com", "iss": envoy::JWT_ISSUER}).to_string());
    let authorization = bearer(demo_token());
    let headers = [("authorization", authorization.as_str()), ("x-jwt-payload", payload.as_str())];
    let response = fetch("/saml/amion/init", &headers);
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    let facts = facts(&decode_response(&parse_form(&response.body)));
    assert_eq!(facts.name_id, "dana.reyes@example.com");
}

#[test]
fn no_identity_redirects_to_login_url() {
    let response = fetch("/saml/sandbox/init?RelayState=r1", &[]);
    assert_eq!(response.status, 302);
    let location = response.header("location").unwrap_or_default();
    let url = url::Url::parse(location).unwrap_or_else(|e| panic!("Location {location:?} is not a URL: {e}"));
    assert_eq!(url.host_str(), Some("login.example.com"));
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("tenant".to_owned(), "t1".to_owned())), "{location}");
    let return_to = format!("{BASE_URL}/saml/sandbox/init?RelayState=r1");
    assert!(pairs.contains(&("return_to".to_owned(), return_to)), "{location}");
}

#[test]
fn metacharacters_escaped() {
    let nasty_relay_state = "\"><script>alert(1)</script>&amp;'";
    let mut user = demo_user();
    user["given_name"] = json!("<b>Dana</b> & \"D\" 'R'");
    user["title"] = json!("]]></saml:AttributeValue><x>");
    let token = mint_jwt(&user, None);
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("RelayState", nasty_relay_state)
        .finish();
    let response = fetch(&format!("/saml/sandbox/init?{query}"), &[("authorization", &bearer(&token))]);
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    assert!(!response.body.contains("<script>alert"), "RelayState reached the page unescaped");
    assert!(response.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;&#39;"), "{}", response.body);

    let form = parse_form(&response.body);
    assert_eq!(form.relay_state.as_deref(), Some(nasty_relay_state));
    let xml = decode_response(&form);
    assert!(xml.contains("&lt;b&gt;Dana&lt;/b&gt; &amp; \"D\" 'R'"), "first_name not escaped in:\n{xml}");
    let facts = facts(&xml);
    assert_eq!(attribute(&facts, "first_name"), Some([user["given_name"].as_str().unwrap_or_default().to_owned()].as_slice()));
    assert_eq!(attribute(&facts, "jobTitle"), Some([user["title"].as_str().unwrap_or_default().to_owned()].as_slice()));
    let cert = keys().idp_cert_pem.clone();
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.assertion_id), Ok(()), "Assertion signature");
}

#[test]
fn relay_state_override_needs_permission() {
    let response = fetch("/saml/amion/init?RelayState=elsewhere", &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "RelayState override on an app that does not allow it");
}

#[test]
fn unknown_app_gets_404() {
    let response = fetch("/saml/nosuchapp/init", &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 404);
    assert_no_response(&response, "unknown app");
}

#[test]
fn wrong_method_gets_405() {
    let envoy = shared();
    let response = post_form(&envoy.url("/saml/amion/init"), &[], "x=1").unwrap_or_else(|| panic!("no connection to Envoy"));
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET"));
}

#[test]
fn oversized_post_gets_413() {
    let envoy = shared();
    let body = format!("SAMLRequest={}", "A".repeat(70 * 1024));
    let response = post_form(&envoy.url("/saml/amion/sso"), &[], &body).unwrap_or_else(|| panic!("no connection to Envoy"));
    assert_eq!(response.status, 413);
}

#[test]
fn other_paths_pass_through() {
    let response = fetch("/saml/amion/acs", &[]);
    assert_eq!(response.status, 404);
    assert!(response.body.contains("no application behind the IdP"), "{}", response.body);
    let outside = fetch("/index.html", &[]);
    assert!(outside.body.contains("Not an edgeidp endpoint"), "{}", outside.body);
}

#[test]
fn issued_response_logged_and_counted() {
    let envoy = shared();
    let response = fetch("/saml/doximity/init", &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 200);
    let log = wait_for_log(envoy, "SAML Response issued: app=doximity");
    assert!(log.contains("SAML Response issued: app=doximity name_id_sha256="), "log:\n{log}");
    assert!(!log.contains(demo_token()), "the JWT reached the log");
    assert!(!log.contains("dana.reyes@example.com"), "the NameID reached the log");
    assert!(!log.contains("<saml:Assertion"), "assertion XML reached the log");
    assert!(!log.contains("PHNhbWxwOlJlc3BvbnNl"), "a base64 Response reached the log");
    assert!(envoy.counter("edgeidp.saml.responses_issued.doximity") >= 1, "counter");
    assert!(envoy.counter("edgeidp.config.loaded") >= 1, "config load counter");
}

/// Returns `envoy/production.yaml` with its CHANGE paths pointed at test files and its
/// plugin configuration replaced by `plugin_config`.
fn production_yaml(plugin_config: &Value) -> String {
    let dir = scratch_dir("production-tls");
    let (key, cert) = (dir.join("tls.key.pem"), dir.join("tls.cert.pem"));
    std::fs::write(&key, &keys().idp_key_pem).unwrap_or_else(|e| panic!("cannot write the TLS key: {e}"));
    std::fs::write(&cert, &keys().idp_cert_pem).unwrap_or_else(|e| panic!("cannot write the TLS certificate: {e}"));
    let template = std::fs::read_to_string(envoy::root().join("envoy/production.yaml"))
        .unwrap_or_else(|e| panic!("cannot read envoy/production.yaml: {e}"));
    let value_start = template.find("value: |\n").unwrap_or_else(|| panic!("no `value: |` block in production.yaml"));
    let value_end = value_start
        + template[value_start..].find("vm_config:").unwrap_or_else(|| panic!("no vm_config after the value block"));
    let indent = "                        ";
    let value = serde_json::to_string(&plugin_config.to_string()).unwrap_or_default();
    let yaml = format!("{}value: {value}\n{indent}{}", &template[..value_start], &template[value_end..]);
    yaml.replace("/etc/edgeidp/tls/fullchain.pem", &cert.display().to_string())
        .replace("/etc/edgeidp/tls/privkey.pem", &key.display().to_string())
        .replace("/etc/edgeidp/edgeidp.wasm", &envoy::wasm_path().display().to_string())
}

/// Returns `envoy/production.yaml` made runnable on loopback without TLS: its ports moved,
/// its TLS transport socket removed and its virtual host open to any Host header. Every HTTP
/// filter stays as shipped.
fn production_plaintext(port: u16, admin_port: u16, plugin_config: &Value) -> String {
    let yaml = production_yaml(plugin_config);
    let tls_start = yaml.find("        - transport_socket:\n").unwrap_or_else(|| panic!("no listener TLS block"));
    let filters = "          filters:\n";
    let tls_end = tls_start + yaml[tls_start..].find(filters).unwrap_or_else(|| panic!("no filters after TLS"));
    let yaml = format!("{}        - filters:\n{}", &yaml[..tls_start], &yaml[tls_end + filters.len()..]);
    yaml.replacen("address: 0.0.0.0, port_value: 443 }", &format!("address: 127.0.0.1, port_value: {port} }}"), 1)
        .replacen("port_value: 9901 }", &format!("port_value: {admin_port} }}"), 1)
        .replacen("domains: [\"idp.example.com\"]", "domains: [\"*\"]", 1)
}

/// Returns the reference configuration with the user also read from headers that an
/// ext_authz service would set.
fn ext_authz_config() -> Value {
    let mut config = reference_config();
    config["identity"] = json!({
        "jwt_authn": {},
        "ext_authz_headers": {"email": "x-edgeidp-email", "login": "x-edgeidp-login"}
    });
    config
}

#[test]
fn production_strips_forged_identity_headers() {
    let envoy = Envoy::start_with("production", &ext_authz_config(), production_plaintext);
    let headers = [("x-edgeidp-email", "mallory@example.com"), ("x-edgeidp-login", "mallory")];
    let response = get(&envoy.url("/saml/doximity/init"), &headers).unwrap_or_else(|| panic!("no connection to Envoy"));
    assert_eq!(response.status, 401, "body:\n{}", response.body);
    assert_no_response(&response, "forged ext_authz identity headers");
}

#[test]
fn unstripped_identity_headers_would_be_trusted() {
    // The control for the test above: without the header_mutation filter, the same request
    // gets a Response for the forged user, so that filter is what protects the deployment.
    let without_stripping = |port, admin_port, config: &Value| {
        let yaml = production_plaintext(port, admin_port, config);
        let start = yaml.find("                  - name: envoy.filters.http.header_mutation").unwrap_or(0);
        let end = yaml.find("                  - name: envoy.filters.http.jwt_authn").unwrap_or(start);
        format!("{}{}", &yaml[..start], &yaml[end..])
    };
    let envoy = Envoy::start_with("production-unstripped", &ext_authz_config(), without_stripping);
    let headers = [("x-edgeidp-email", "mallory@example.com"), ("x-edgeidp-login", "mallory")];
    let response = get(&envoy.url("/saml/doximity/init"), &headers).unwrap_or_else(|| panic!("no connection to Envoy"));
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    let facts = facts(&decode_response(&parse_form(&response.body)));
    assert_eq!(facts.name_id, "mallory@example.com");
}

#[test]
fn production_template_validates() {
    let result = envoy::validate("production", &production_yaml(&reference_config()));
    assert!(result.is_ok(), "Envoy rejected envoy/production.yaml: {result:?}");
}

#[test]
fn production_template_rejects_bad_plugin_config() {
    let mut config = reference_config();
    config["apps"]["doximity"]["sign"] = json!("nothing");
    let output = envoy::validate("production-bad", &production_yaml(&config)).err().unwrap_or_default();
    assert!(output.contains("apps.doximity.sign"), "the field is not named in:\n{output}");
}

#[test]
fn invalid_acs_url_config_rejected() {
    let mut config = reference_config();
    config["apps"]["amion"]["acs_urls"] = json!(["ftp://sp.example.test/acs"]);
    let log = Envoy::start_rejected("bad-acs", config);
    assert!(log.contains("invalid plugin configuration"), "log:\n{log}");
    assert!(log.contains("apps.amion.acs_urls[0]"), "the field is not named in:\n{log}");
}

#[test]
fn invalid_identity_config_rejected() {
    let mut config = reference_config();
    config["identity"] = json!({"jwt_authn": {"claims": {"title": ""}}});
    let log = Envoy::start_rejected("bad-identity", config);
    assert!(log.contains("identity.jwt_authn.claims.title"), "the field is not named in:\n{log}");
}

// SP-initiated login with AuthnRequests made by pysaml2 and python3-saml.
//
// The fixtures carry the time they were made, and Envoy runs on the real clock. So each test
// sets IssueInstant to now and signs the request again with the fixture SP's key. Apart
// from IssueInstant and the signature values, the XML stays the SP library's, byte for byte.

fn fixture_request_id(name: &str) -> String {
    let manifest: Value = serde_json::from_str(&read_fixture("manifest.json"))
        .unwrap_or_else(|e| panic!("manifest.json is not JSON: {e}"));
    manifest[name]["id"].as_str().unwrap_or_else(|| panic!("no id for {name} in manifest.json")).to_owned()
}

/// Sets the root element's IssueInstant (the first in the document) to now.
fn retime(xml: &str) -> String {
    let now = edgeidp::saml::response::format_instant(time::OffsetDateTime::now_utc());
    let start = xml.find("IssueInstant=\"").unwrap_or_else(|| panic!("no IssueInstant in:\n{xml}")) + 14;
    let end = start + xml[start..].find('"').unwrap_or(0);
    format!("{}{now}{}", &xml[..start], &xml[end..])
}

fn url_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={value}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn url_encode(value: &[u8]) -> String {
    url::form_urlencoded::byte_serialize(value).collect()
}

fn sp_key() -> rsa::RsaPrivateKey {
    edgeidp::saml::keys::private_key_from_pem(&read_fixture("TEST-ONLY-sp.key.pem"))
        .unwrap_or_else(|e| panic!("the fixture SP key does not load: {e}"))
}

/// Returns a Redirect-binding fixture's query string, made current, with `edit` applied to the XML
/// before it is encoded and signed. Unsigned fixtures stay unsigned.
fn redirect_query(name: &str, edit: impl Fn(String) -> String) -> String {
    use std::io::{Read, Write};

    let raw = read_fixture(&format!("{name}.txt"));
    let params: Vec<(&str, &str)> = raw.trim().split('&').map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    let raw_value = |key: &str| params.iter().find(|(n, _)| *n == key).map(|(_, v)| *v);

    let deflated = base64::engine::general_purpose::STANDARD
        .decode(url_decode(raw_value("SAMLRequest").unwrap_or_default()))
        .unwrap_or_else(|e| panic!("{name}: SAMLRequest is not base64: {e}"));
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap_or_else(|e| panic!("{name}: SAMLRequest does not inflate: {e}"));
    let xml = edit(retime(&xml));

    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).unwrap_or_else(|e| panic!("deflate: {e}"));
    let deflated = encoder.finish().unwrap_or_else(|e| panic!("deflate: {e}"));
    let mut query = format!("SAMLRequest={}", url_encode(base64::engine::general_purpose::STANDARD.encode(deflated).as_bytes()));
    if let Some(relay_state) = raw_value("RelayState") {
        query.push_str(&format!("&RelayState={relay_state}"));
    }
    let Some(sig_alg) = raw_value("SigAlg") else {
        return query;
    };
    query.push_str(&format!("&SigAlg={sig_alg}"));
    assert_eq!(url_decode(sig_alg), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "{name}: SigAlg");
    let signature = RsaCrateSigner::new(sp_key())
        .sign(SignatureAlgorithm::RsaSha256, query.as_bytes(), &mut rand_core::OsRng)
        .unwrap_or_else(|e| panic!("signing the query failed: {e}"));
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    format!("{query}&Signature={}", url_encode(signature.as_bytes()))
}

/// Returns a POST-binding fixture's form body, made current, with `edit` applied to the XML before
/// it is signed again (signed fixtures only) and `tamper` after.
fn post_body(name: &str, edit: impl Fn(String) -> String, tamper: impl Fn(String) -> String) -> String {
    let raw = read_fixture(&format!("{name}.txt"));
    let params: Vec<(String, String)> = url::form_urlencoded::parse(raw.trim().as_bytes()).into_owned().collect();
    let value = |key: &str| params.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone());
    let xml = base64::engine::general_purpose::STANDARD
        .decode(value("SAMLRequest").unwrap_or_default())
        .unwrap_or_else(|e| panic!("{name}: SAMLRequest is not base64: {e}"));
    let xml = edit(retime(&String::from_utf8_lossy(&xml)));
    let xml = if xml.contains("SignatureValue") { xmlsec_sign(&xml) } else { xml };
    let xml = tamper(xml);

    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("SAMLRequest", &base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()));
    if let Some(relay_state) = value("RelayState") {
        body.append_pair("RelayState", &relay_state);
    }
    body.finish()
}

/// Signs the AuthnRequest's existing Signature template again with the fixture SP key.
fn xmlsec_sign(xml: &str) -> String {
    let dir = scratch_dir("xmlsec-sign");
    let input = dir.join("request.xml");
    let output = dir.join("signed.xml");
    std::fs::write(&input, xml).unwrap_or_else(|e| panic!("cannot write the request: {e}"));
    let key_and_cert = format!("{},{}", fixture_path("TEST-ONLY-sp.key.pem").display(), fixture_path("sp.cert.pem").display());
    let result = Command::new("xmlsec1")
        .args(["--sign", "--privkey-pem", &key_and_cert, "--id-attr:ID", AUTHN_REQUEST_ID_ATTR, "--output"])
        .arg(&output)
        .arg(&input)
        .output()
        .unwrap_or_else(|e| panic!("xmlsec1 must be installed (Debian package xmlsec1; scripts/test installs it): {e}"));
    assert!(result.status.success(), "xmlsec1 --sign failed: {}", String::from_utf8_lossy(&result.stderr));
    std::fs::read_to_string(&output).unwrap_or_else(|e| panic!("cannot read the signed request: {e}"))
}

fn unchanged(xml: String) -> String {
    xml
}

fn post_sso(body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    post_sso_to(shared(), body, headers)
}

fn post_sso_to(envoy: &Envoy, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
    post_form(&envoy.url("/saml/amion/sso"), headers, body)
        .unwrap_or_else(|| panic!("no connection to Envoy:\n{}", envoy.log()))
}

/// Checks a successful response to the AuthnRequest `fixture`.
fn check_sp_initiated(fixture: &str, response: &HttpResponse) {
    assert_eq!(response.status, 200, "{fixture}: body:\n{}", response.body);
    let form = parse_form(&response.body);
    assert_eq!(form.action, ACS_URL, "{fixture}");
    assert_eq!(form.relay_state.as_deref(), Some(AMION_RELAY_STATE), "{fixture}: RelayState round trip");
    let xml = decode_response(&form);
    let facts = facts(&xml);
    assert_eq!(facts.in_response_to, Some(fixture_request_id(fixture)), "{fixture}: InResponseTo");
    assert!(
        xml.contains(&format!("InResponseTo=\"{}\"", fixture_request_id(fixture))),
        "{fixture}: SubjectConfirmationData InResponseTo"
    );
    assert_eq!(facts.name_id, "dana.reyes@example.com", "{fixture}");
    let cert = keys().idp_cert_pem.clone();
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.response_id), Ok(()), "{fixture}: Response signature");
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.assertion_id), Ok(()), "{fixture}: Assertion signature");
}

/// Checks that `response` is a signed error Response to `fixture` with `second_level` status
/// and no Assertion.
fn check_error_response(fixture: &str, response: &HttpResponse, second_level: &str) {
    assert_eq!(response.status, 200, "{fixture}: body:\n{}", response.body);
    let form = parse_form(&response.body);
    assert_eq!(form.action, ACS_URL, "{fixture}");
    let xml = decode_response(&form);
    assert!(!xml.contains("Assertion"), "{fixture}: an error Response carries an Assertion:\n{xml}");
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("the Response does not parse: {e}"));
    let codes: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("StatusCode"))
        .filter_map(|n| n.attribute("Value"))
        .collect();
    assert_eq!(codes.get(1).copied(), Some(format!("{STATUS_PREFIX}{second_level}").as_str()), "{fixture}: {codes:?}");
    let facts = facts(&xml);
    assert_eq!(facts.in_response_to, Some(fixture_request_id(fixture)), "{fixture}: InResponseTo");
    assert_eq!(xmlsec_verify(&xml, &keys().idp_cert_pem, &facts.response_id), Ok(()), "{fixture}: signature");
}

#[test]
fn sp_initiated_redirect_pysaml2() {
    let fixture = "pysaml2-redirect-signed";
    let query = redirect_query(fixture, unchanged);
    check_sp_initiated(fixture, &fetch(&format!("/saml/amion/sso?{query}"), &[("authorization", &bearer(demo_token()))]));
}

#[test]
fn sp_initiated_redirect_python3_saml() {
    let fixture = "python3-saml-redirect-signed";
    let query = redirect_query(fixture, unchanged);
    check_sp_initiated(fixture, &fetch(&format!("/saml/amion/sso?{query}"), &[("authorization", &bearer(demo_token()))]));
}

#[test]
fn sp_initiated_post_pysaml2() {
    let fixture = "pysaml2-post-signed";
    let body = post_body(fixture, unchanged, unchanged);
    check_sp_initiated(fixture, &post_sso(&body, &[("authorization", &bearer(demo_token()))]));
}

#[test]
fn sp_initiated_post_python3_saml() {
    let fixture = "python3-saml-post-signed";
    let body = post_body(fixture, unchanged, unchanged);
    check_sp_initiated(fixture, &post_sso(&body, &[("authorization", &bearer(demo_token()))]));
}

#[test]
fn acs_url_off_allowlist_rejected() {
    let query = redirect_query("pysaml2-redirect-signed", |xml| {
        xml.replace("AssertionConsumerServiceURL=\"https://sp.example.test/acs\"", "AssertionConsumerServiceURL=\"https://attacker.example/acs\"")
    });
    assert!(url_decode(&query).len() > 100, "the edit left a request");
    let response = fetch(&format!("/saml/amion/sso?{query}"), &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "ACS URL off the allowlist");
    assert!(!response.body.contains("attacker.example"), "the ACS URL was reflected");
}

#[test]
fn wrong_issuer_rejected() {
    let query = redirect_query("python3-saml-redirect-signed", |xml| {
        xml.replace(">https://sp.example.test/metadata<", ">https://other-sp.example/metadata<")
    });
    let response = fetch(&format!("/saml/amion/sso?{query}"), &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "wrong Issuer");
    let log = wait_for_log(shared(), "reason=issuer app=amion");
    assert!(log.contains("reason=issuer app=amion"), "no rejection line in:\n{log}");
    assert!(shared().counter("edgeidp.saml.authn_requests_rejected.issuer") >= 1, "counter");
}

#[test]
fn broken_post_signature_rejected() {
    let fixture = "python3-saml-post-signed";
    let body = post_body(fixture, unchanged, |xml| xml.replace("AllowCreate=\"true\"", "AllowCreate=\"false\""));
    assert!(!body.is_empty(), "the fixture has AllowCreate");
    let response = post_sso(&body, &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "broken POST signature");
}

#[test]
fn broken_redirect_signature_rejected() {
    let fixture = "pysaml2-redirect-signed";
    let query = redirect_query(fixture, unchanged);
    let (signed, _) = query.rsplit_once("&Signature=").unwrap_or_default();
    let forged = format!("{signed}&Signature={}", url_encode(base64::engine::general_purpose::STANDARD.encode([7u8; 256]).as_bytes()));
    let response = fetch(&format!("/saml/amion/sso?{forged}"), &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "broken Redirect signature");
}

#[test]
fn unsigned_request_rejected() {
    let fixture = "pysaml2-redirect-unsigned";
    let query = redirect_query(fixture, unchanged);
    let response = fetch(&format!("/saml/amion/sso?{query}"), &[("authorization", &bearer(demo_token()))]);
    assert_eq!(response.status, 400);
    assert_no_response(&response, "unsigned request to an app that requires signing");
}

#[test]
fn passive_without_identity_gets_no_passive() {
    let fixture = "pysaml2-post-signed";
    let body = post_body(fixture, |xml| xml.replacen(" Version=\"2.0\"", " Version=\"2.0\" IsPassive=\"true\"", 1), unchanged);
    let response = post_sso(&body, &[]);
    check_error_response(fixture, &response, "NoPassive");
}

#[test]
fn sp_initiated_without_jwt_gets_401() {
    let query = redirect_query("python3-saml-redirect-signed", unchanged);
    let response = fetch(&format!("/saml/amion/sso?{query}"), &[]);
    assert_eq!(response.status, 401);
    assert_no_response(&response, "SP-initiated without a JWT");
}

/// The environment variable the signing-key test passes to the Wasm VM.
const SIGNING_KEY_VARIABLE: &str = "EDGEIDP_TEST_SIGNING_KEY";

#[test]
fn signing_key_from_vm_environment() {
    // The key reaches the filter through Envoy's process environment and the VM's
    // host_env_keys, so it appears in neither the plugin configuration nor the YAML.
    let mut config = reference_config();
    let key = config["idp"].as_object_mut().and_then(|idp| idp.remove("signing_key_pem")).unwrap_or_default();
    config["idp"]["signing_key_env"] = json!(SIGNING_KEY_VARIABLE);
    std::env::set_var(SIGNING_KEY_VARIABLE, key.as_str().unwrap_or_default());

    let with_environment = |port: u16, admin_port: u16, plugin_config: &Value| {
        let yaml = envoy::render_demo(port, admin_port, plugin_config);
        let vm_line = "                          vm_id: edgeidp\n";
        let environment = format!(
            "{vm_line}                          environment_variables:\n                            host_env_keys: [{SIGNING_KEY_VARIABLE}]\n"
        );
        assert!(yaml.contains(vm_line), "envoy/demo.yaml no longer has the vm_id line this test extends");
        yaml.replacen(vm_line, &environment, 1)
    };
    let envoy = Envoy::start_with("signing-key-env", &config, with_environment);
    let yaml = std::fs::read_to_string(envoy.dir.join("envoy.yaml")).unwrap_or_default();
    assert!(!yaml.contains("PRIVATE KEY"), "the key must not be in Envoy's configuration");

    let metadata = get(&envoy.url("/saml/metadata"), &[]).unwrap_or_else(|| panic!("no connection to Envoy"));
    let response = get(&envoy.url("/saml/amion/init"), &[("authorization", &bearer(demo_token()))])
        .unwrap_or_else(|| panic!("no connection to Envoy"));
    assert_eq!(response.status, 200, "body:\n{}", response.body);
    let xml = decode_response(&parse_form(&response.body));
    let facts = facts(&xml);
    let cert = certificate_from_metadata(&metadata.body);
    assert_eq!(xmlsec_verify(&xml, &cert, &facts.response_id), Ok(()));
}

// Encrypted assertions: the `amion` app encrypts to the SP fixture's encryption certificate
// (tests/fixtures/keys/sp.cert.pem). Each test checks the SAMLResponse that the form posts to
// the ACS as the SP would, with xmlsec1: decrypt with the SP's key, then verify the Assertion.

const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// How the `amion` app encrypts, one Envoy each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encrypting {
    /// No algorithms named, so the defaults (aes256-gcm, rsa-oaep-mgf1p); Assertion signed.
    Defaults,
    /// aes256-cbc with rsa-oaep-mgf1p; Assertion signed.
    Cbc,
    /// The defaults, with the Response also signed, over the EncryptedAssertion.
    SignedResponse,
    /// The defaults, with the NameID also encrypted into an EncryptedID.
    EncryptedId,
}

impl Encrypting {
    fn content_algorithm(self) -> ContentAlgorithm {
        match self {
            Self::Cbc => ContentAlgorithm::Aes256Cbc,
            Self::Defaults | Self::SignedResponse | Self::EncryptedId => ContentAlgorithm::Aes256Gcm,
        }
    }

    fn signs_response(self) -> bool {
        matches!(self, Self::SignedResponse | Self::EncryptedId)
    }

    /// Returns the reference configuration with `amion` encrypting this way.
    fn config(self) -> Value {
        let mut encryption = encryption_json(self.content_algorithm(), KeyTransport::RsaOaepMgf1p);
        if let Some(section) = encryption.as_object_mut() {
            match self {
                Self::Defaults => {
                    section.remove("content_algorithm");
                    section.remove("key_transport");
                }
                Self::EncryptedId => {
                    section.insert("encrypt_name_id".to_owned(), json!(true));
                }
                Self::Cbc | Self::SignedResponse => {}
            }
        }
        let mut config = reference_config();
        config["apps"]["amion"]["encryption"] = encryption;
        // Without `sign`, an app signs both the Assertion and the Response.
        if !self.signs_response() {
            config["apps"]["amion"]["sign"] = json!("assertion");
        }
        config
    }

    fn envoy(self) -> &'static Envoy {
        static ENVOYS: [OnceLock<Envoy>; 4] = [const { OnceLock::new() }; 4];
        ENVOYS[self as usize].get_or_init(|| Envoy::start(&format!("encrypting-{self:?}"), &self.config()))
    }
}

fn idp_initiated_login(envoy: &Envoy) -> HttpResponse {
    fetch_from(envoy, "/saml/amion/init", &[("authorization", &bearer(demo_token()))])
}

/// Sends the AuthnRequest `fixture` (made current and signed again) to `amion`, with the
/// demo token.
fn sp_initiated_login(envoy: &Envoy, fixture: &str) -> HttpResponse {
    let authorization = bearer(demo_token());
    let headers = [("authorization", authorization.as_str())];
    if fixture.contains("-redirect-") {
        fetch_from(envoy, &format!("/saml/amion/sso?{}", redirect_query(fixture, unchanged)), &headers)
    } else {
        post_sso_to(envoy, &post_body(fixture, unchanged, unchanged), &headers)
    }
}

fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("the document does not parse: {e}\n{xml}"))
}

fn count_elements(xml: &str, namespace: &str, name: &str) -> usize {
    parse_xml(xml).descendants().filter(|n| n.has_tag_name((namespace, name))).count()
}

/// What an EncryptedAssertion shows without the SP's key.
#[derive(Debug)]
struct Ciphertext {
    content_algorithm: String,
    key_transport: String,
    /// The EncryptedData's CipherValue: the Assertion, encrypted.
    content: String,
    /// The EncryptedKey's CipherValue: the content key, encrypted to the SP.
    key: String,
}

fn ciphertext(xml: &str) -> Ciphertext {
    let document = parse_xml(xml);
    let element = |name: &str| {
        document
            .descendants()
            .find(|n| n.has_tag_name((XENC_NS, name)))
            .unwrap_or_else(|| panic!("no xenc:{name} in:\n{xml}"))
    };
    let algorithm = |parent| xenc_child(parent, "EncryptionMethod").and_then(|n| n.attribute("Algorithm"));
    let cipher_value =
        |parent| xenc_child(parent, "CipherData").and_then(|n| xenc_child(n, "CipherValue")).and_then(|n| n.text());
    let (data, key) = (element("EncryptedData"), element("EncryptedKey"));
    Ciphertext {
        content_algorithm: algorithm(data).unwrap_or_default().to_owned(),
        key_transport: algorithm(key).unwrap_or_default().to_owned(),
        content: cipher_value(data).unwrap_or_default().trim().to_owned(),
        key: cipher_value(key).unwrap_or_default().trim().to_owned(),
    }
}

fn xenc_child<'a, 'input>(parent: roxmltree::Node<'a, 'input>, name: &str) -> Option<roxmltree::Node<'a, 'input>> {
    parent.children().find(|n| n.has_tag_name((XENC_NS, name)))
}

/// Checks that `response` is the auto-submitting form whose Response carries the Assertion
/// only encrypted, as `encrypting` configures, and returns the Response as xmlsec1 decrypted it.
fn check_encrypted(encrypting: Encrypting, case: &str, response: &HttpResponse, in_response_to: Option<&str>) -> String {
    assert_eq!(response.status, 200, "{case}: body:\n{}", response.body);
    let form = parse_form(&response.body);
    assert_eq!(form.action, ACS_URL, "{case}: form action");
    assert_eq!(form.relay_state.as_deref(), Some(AMION_RELAY_STATE), "{case}: RelayState");

    let xml = decode_response(&form);
    assert_eq!(count_elements(&xml, SAML_NS, "EncryptedAssertion"), 1, "{case}: EncryptedAssertions in:\n{xml}");
    assert_eq!(count_elements(&xml, SAML_NS, "Assertion"), 0, "{case}: a plaintext Assertion in:\n{xml}");
    assert!(!xml.contains("dana.reyes@example.com"), "{case}: the user's email is readable without the SP's key");
    let encrypted = ciphertext(&xml);
    assert_eq!(encrypted.content_algorithm, encrypting.content_algorithm().uri(), "{case}: content algorithm");
    assert_eq!(encrypted.key_transport, KeyTransport::RsaOaepMgf1p.uri(), "{case}: key transport");

    let root = parse_xml(&xml);
    let response_signed = root.root_element().children().any(|n| n.has_tag_name((DSIG_NS, "Signature")));
    assert_eq!(response_signed, encrypting.signs_response(), "{case}: whether the Response is signed");
    if encrypting.signs_response() {
        let response_id = facts(&xml).response_id;
        let outer = xmlsec_verify(&xml, &keys().idp_cert_pem, &response_id);
        assert_eq!(outer, Ok(()), "{case}: the Response signature over the EncryptedAssertion");
    }

    let decrypted = xmlsec_decrypt(&xml, &sp_key_pem())
        .unwrap_or_else(|e| panic!("{case}: xmlsec1 --decrypt with the SP's key failed: {e}"));
    assert_eq!(count_elements(&decrypted, SAML_NS, "Assertion"), 1, "{case}: Assertions after decryption:\n{decrypted}");
    // xmlsec1 replaces the EncryptedData with the Assertion and keeps the EncryptedAssertion
    // around it. An EncryptedID stays encrypted.
    let still_encrypted = usize::from(encrypting == Encrypting::EncryptedId);
    let left = count_elements(&decrypted, XENC_NS, "EncryptedData");
    assert_eq!(left, still_encrypted, "{case}: EncryptedData left after decryption:\n{decrypted}");
    let facts = facts(&decrypted);
    let inner = xmlsec_verify(&decrypted, &keys().idp_cert_pem, &facts.assertion_id);
    assert_eq!(inner, Ok(()), "{case}: the decrypted Assertion's signature");
    assert_eq!(facts.in_response_to.as_deref(), in_response_to, "{case}: InResponseTo");
    let confirmation = parse_xml(&decrypted)
        .descendants()
        .find(|n| n.has_tag_name((SAML_NS, "SubjectConfirmationData")))
        .and_then(|n| n.attribute("InResponseTo").map(str::to_owned));
    assert_eq!(confirmation.as_deref(), in_response_to, "{case}: SubjectConfirmationData InResponseTo");
    assert_eq!(facts.audience, SP_ENTITY_ID, "{case}: Audience");
    if encrypting != Encrypting::EncryptedId {
        assert_eq!(facts.name_id, "dana.reyes@example.com", "{case}: NameID");
        assert_eq!(facts.name_id_format, EMAIL_FORMAT, "{case}: NameID Format");
    }
    assert_reference_attributes(&facts, case);
    decrypted
}

fn check_encrypted_idp_initiated(encrypting: Encrypting) {
    let case = format!("{encrypting:?}, IdP-initiated");
    check_encrypted(encrypting, &case, &idp_initiated_login(encrypting.envoy()), None);
}

fn check_encrypted_sp_initiated(encrypting: Encrypting, fixture: &str) {
    let case = format!("{encrypting:?}, {fixture}");
    let response = sp_initiated_login(encrypting.envoy(), fixture);
    check_encrypted(encrypting, &case, &response, Some(&fixture_request_id(fixture)));
}

#[test]
fn encrypted_idp_initiated_defaults() {
    check_encrypted_idp_initiated(Encrypting::Defaults);
}

#[test]
fn encrypted_sp_initiated_defaults() {
    check_encrypted_sp_initiated(Encrypting::Defaults, "pysaml2-redirect-signed");
}

#[test]
fn encrypted_idp_initiated_cbc() {
    check_encrypted_idp_initiated(Encrypting::Cbc);
}

#[test]
fn encrypted_sp_initiated_cbc() {
    check_encrypted_sp_initiated(Encrypting::Cbc, "python3-saml-post-signed");
}

#[test]
fn encrypted_idp_initiated_signed_response() {
    check_encrypted_idp_initiated(Encrypting::SignedResponse);
}

#[test]
fn encrypted_sp_initiated_signed_response() {
    check_encrypted_sp_initiated(Encrypting::SignedResponse, "python3-saml-redirect-signed");
}

#[test]
fn encrypted_logins_differ() {
    let envoy = Encrypting::Defaults.envoy();
    let [first, second] = [1, 2].map(|login| {
        let response = idp_initiated_login(envoy);
        assert_eq!(response.status, 200, "login {login}: body:\n{}", response.body);
        ciphertext(&decode_response(&parse_form(&response.body)))
    });
    assert_ne!(first.content, second.content, "two logins gave the same encrypted Assertion");
    assert_ne!(first.key, second.key, "two logins gave the same encrypted content key");
}

#[test]
fn encrypted_name_id_hidden() {
    let encrypting = Encrypting::EncryptedId;
    let decrypted = check_encrypted(encrypting, "EncryptedID", &idp_initiated_login(encrypting.envoy()), None);
    assert_eq!(count_elements(&decrypted, SAML_NS, "NameID"), 0, "a NameID in the clear in the Assertion:\n{decrypted}");
    assert_eq!(count_elements(&decrypted, SAML_NS, "EncryptedID"), 1, "EncryptedIDs in the Assertion:\n{decrypted}");

    // xmlsec1 decrypts the first EncryptedData in the document, now the EncryptedID's.
    let name_id = xmlsec_decrypt(&decrypted, &sp_key_pem())
        .unwrap_or_else(|e| panic!("xmlsec1 --decrypt of the EncryptedID failed: {e}"));
    let facts = facts(&name_id);
    assert_eq!(facts.name_id, "dana.reyes@example.com", "the decrypted NameID");
    assert_eq!(facts.name_id_format, EMAIL_FORMAT, "the decrypted NameID's Format");
}

#[test]
fn encryption_rsa_1_5_rejected() {
    let mut config = Encrypting::Defaults.config();
    config["apps"]["amion"]["encryption"]["key_transport"] = json!("rsa-1_5");
    let log = Envoy::start_rejected("encryption-rsa-1_5", config);
    assert!(log.contains("apps.amion.encryption.key_transport"), "the field is not named in:\n{log}");
}

#[test]
fn encryption_certificate_expiry_warned() {
    let dir = scratch_dir("expiring-sp");
    let (key, cert) = (dir.join("sp.key.pem"), dir.join("sp.cert.pem"));
    let output = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "10", "-subj", "/CN=edgeidp test SP, expiring"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (Debian package openssl; scripts/install-deps installs it): {e}"));
    assert!(output.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut config = Encrypting::Defaults.config();
    config["apps"]["amion"]["encryption"]["certificate_pem"] =
        json!(std::fs::read_to_string(&cert).unwrap_or_else(|e| panic!("cannot read {}: {e}", cert.display())));

    let envoy = Envoy::start("encryption-expiring", &config);
    let needle = "configuration warning: apps.amion.encryption.certificate_pem: the SP's encryption certificate expires at";
    let log = wait_for_log(&envoy, needle);
    assert!(log.contains(needle), "no expiry warning in:\n{log}");
    let response = idp_initiated_login(&envoy);
    assert_eq!(response.status, 200, "a certificate that has not expired yet still encrypts:\n{}", response.body);
}
