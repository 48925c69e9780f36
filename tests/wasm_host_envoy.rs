//! The wasmtime host checked against real Envoy: the same plugin configuration and the same
//! requests give the same status, headers and body in both.
//!
//! Needs Envoy and the built filter (`scripts/test` installs and builds both). Envoy runs
//! the shipped demo configuration, whose `jwt_authn` filter verifies a minted JWT; the
//! host gets that JWT's payload as the dynamic metadata `jwt_authn` would store.
//!
//! What cannot match is masked in both before comparing: the signed SAMLResponse (IDs,
//! instants and signatures come from each side's clock and random source) and metadata
//! `validUntil` (the configuration's load time). Envoy's connection manager adds `date`,
//! `server`, `x-envoy-upstream-service-time` on upstream responses and, as seen with Envoy
//! 1.40.0, `connection: close` on 400 replies. The host models none of those.

#[path = "support/envoy.rs"]
mod envoy;
mod host;
#[path = "support/scim_envoy.rs"]
mod scim_envoy;
#[path = "support/scim.rs"]
mod scim_support;

use base64::Engine as _;
use envoy::{get, keys, mint_jwt, post_form, Envoy, HttpResponse};
use host::{Host, Outcome, Request, UpstreamResponse, Vm};
use scim_envoy::{free_port, send, EnvoyOptions, GateEnvoy, RawRequest};
use scim_support::{token, token_entry};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Headers that Envoy adds after the filter chain, so only Envoy's response has them.
const ENVOY_ONLY_HEADERS: [&str; 4] = ["date", "server", "x-envoy-upstream-service-time", "connection"];

/// Returns the response of the demo configuration's stand-in application: 404 to every request.
fn demo_app_response() -> UpstreamResponse {
    UpstreamResponse {
        status: 404,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: b"The demo runs no application behind the IdP.\n".to_vec(),
    }
}

/// Returns the plugin configuration both sides run: the reference deployment's two apps,
/// signed with the keys the Envoy support makes.
fn plugin_config() -> Value {
    let attributes = envoy::reference_attributes();
    let app = |relay_state: &str| {
        json!({
            "sp_entity_id": "https://sp.example.test/metadata",
            "acs_urls": ["https://sp.example.test/acs"],
            "default_relay_state": relay_state,
            "name_id": {"format": "emailAddress", "value": "user.email"},
            "attributes": attributes
        })
    };
    json!({
        "idp": {
            "entity_id": "https://idp.example.test/saml/metadata",
            "base_url": "https://idp.example.test",
            "signing_key_pem": keys().idp_key_pem,
            "certificate_pem": keys().idp_cert_pem
        },
        "apps": {
            "amion": app(r#"{"redirect_to":"https://www.amion.com/organizations"}"#),
            "doximity": app(r#"{"redirect_to":"https://www.doximity.com/dialer/home"}"#)
        }
    })
}

/// Returns the payload of a JWT as `jwt_authn` verified it.
fn jwt_payload(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("the payload is base64url");
    serde_json::from_slice(&json).expect("the payload is JSON")
}

/// A request as both sides get it.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    /// A JWT for the Authorization header; the host gets its payload instead.
    jwt: Option<String>,
    body: Option<String>,
}

impl Case {
    fn get(name: &'static str, path: &str) -> Self {
        Self { name, method: "GET", path: path.to_owned(), jwt: None, body: None }
    }

    fn with_jwt(self, jwt: &str) -> Self {
        Self { jwt: Some(jwt.to_owned()), ..self }
    }

    fn with_method(self, method: &'static str) -> Self {
        Self { method, ..self }
    }

    fn host_request(&self) -> Request {
        let mut request = Request::new(self.method, &self.path).upstream_response(demo_app_response());
        if let Some(jwt) = &self.jwt {
            request = request.jwt_payload(&jwt_payload(jwt));
        }
        if let Some(body) = &self.body {
            request =
                request.header("content-type", "application/x-www-form-urlencoded").body(body.as_bytes().to_vec());
        }
        request
    }

    fn send_to(&self, envoy: &Envoy) -> HttpResponse {
        let bearer = self.jwt.as_ref().map(|jwt| format!("Bearer {jwt}"));
        let headers: Vec<(&str, &str)> = bearer.iter().map(|value| ("authorization", value.as_str())).collect();
        let url = envoy.url(&self.path);
        let response = match (self.method, &self.body) {
            ("GET", None) => get(&url, &headers),
            ("POST", Some(body)) => post_form(&url, &headers, body),
            _ => custom(self.method, &url, &headers),
        };
        response.unwrap_or_else(|| panic!("{}: no connection to Envoy:\n{}", self.name, envoy.log()))
    }
}

/// Sends a request with any method and no body through ureq.
fn custom(method: &str, url: &str, headers: &[(&str, &str)]) -> Option<HttpResponse> {
    let mut request = ureq::AgentBuilder::new().redirects(0).build().request(method, url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(_)) => return None,
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .filter_map(|name| response.header(&name).map(|value| (name.clone(), value.to_owned())))
        .collect();
    Some(HttpResponse { status, headers, body: response.into_string().unwrap_or_default() })
}

/// Replaces what legitimately differs between two runs with a placeholder.
fn mask(body: &str) -> String {
    let mut masked = body.to_owned();
    for (start_marker, end_marker) in [("name=\"SAMLResponse\" value=\"", "\""), (" validUntil=\"", "\"")] {
        if let Some(start) = masked.find(start_marker).map(|at| at + start_marker.len()) {
            if let Some(length) = masked[start..].find(end_marker) {
                masked.replace_range(start..start + length, "(masked)");
            }
        }
    }
    masked
}

/// Returns every difference between Envoy's response and the host's, one per line.
fn differences(name: &str, envoy: &HttpResponse, host: &Outcome) -> Vec<String> {
    let mut found = Vec::new();
    let Some(response) = &host.response else {
        return vec![format!("{name}: the host produced no response ({:?})", host.flow)];
    };
    if u32::from(envoy.status) != response.status {
        found.push(format!("{name}: status {} from Envoy, {} from the host", envoy.status, response.status));
    }
    for (header, value) in &response.headers {
        match envoy.header(header) {
            Some(envoy_value) if envoy_value == value => {}
            other => found.push(format!("{name}: header {header}: {other:?} from Envoy, {value:?} from the host")),
        }
    }
    for (header, value) in &envoy.headers {
        let header = header.to_ascii_lowercase();
        let in_host = response.headers.iter().any(|(h, _)| *h == header);
        if !in_host && !ENVOY_ONLY_HEADERS.contains(&header.as_str()) {
            found.push(format!("{name}: header {header}: {value:?} from Envoy only"));
        }
    }
    let host_body = String::from_utf8_lossy(&response.body);
    if mask(&envoy.body) != mask(&host_body) {
        found.push(format!(
            "{name}: bodies differ:\n  Envoy: {:.300}\n  host:  {:.300}",
            mask(&envoy.body),
            mask(&host_body)
        ));
    }
    found
}

fn configured_host(config: &Value) -> (Host, Vm) {
    let host = Host::release();
    host.set_time(OffsetDateTime::now_utc());
    let mut vm = host.vm();
    assert!(vm.configure(&config.to_string()), "the host rejected the configuration:\n{}", vm.log_text());
    (host, vm)
}

#[test]
fn host_matches_envoy() {
    let config = plugin_config();
    let envoy = Envoy::start("host-cross-check", &config);
    let (host, mut vm) = configured_host(&config);
    let jwt = mint_jwt(
        &json!({
            "sub": "dreyes",
            "email": "dana.reyes@example.test",
            "given_name": "Dana",
            "family_name": "Reyes",
            "preferred_username": "dreyes",
            "title": "Charge Nurse"
        }),
        None,
    );

    let cases = [
        Case::get("metadata", "/saml/metadata"),
        Case::get("app metadata", "/saml/amion/metadata"),
        Case::get("metadata HEAD", "/saml/doximity/metadata").with_method("HEAD"),
        Case::get("unknown app", "/saml/nosuchapp/init").with_jwt(&jwt),
        Case::get("wrong method", "/saml/metadata").with_method("DELETE"),
        Case::get("no identity", "/saml/amion/init"),
        Case::get("RelayState not allowed", "/saml/amion/init?RelayState=elsewhere").with_jwt(&jwt),
        Case::get("IdP-initiated login", "/saml/amion/init").with_jwt(&jwt),
        Case::get("malformed AuthnRequest", "/saml/amion/sso?SAMLRequest=%25%25").with_jwt(&jwt),
        Case {
            body: Some("SAMLRequest=%%%".to_owned()),
            ..Case::get("malformed POST AuthnRequest", "/saml/amion/sso").with_method("POST").with_jwt(&jwt)
        },
        Case::get("pass-through", "/saml/amion/acs"),
    ];
    let mut found = Vec::new();
    for case in &cases {
        let from_envoy = case.send_to(&envoy);
        host.set_time(OffsetDateTime::now_utc());
        let from_host = vm.request(&case.host_request());
        found.extend(differences(case.name, &from_envoy, &from_host));
    }
    assert!(found.is_empty(), "the host and Envoy differ:\n{}", found.join("\n"));
}

/// Returns a configuration with the SCIM gate on `/scim/v2` and two tokens.
fn scim_plugin_config() -> Value {
    let mut config = plugin_config();
    config["scim"] = json!({
        "tokens": [token_entry("okta", "acme", None), token_entry("readonly", "acme", Some(&["read"]))]
    });
    config
}

/// Requests the gate rejects in the headers callback, sent to Envoy's SCIM template
/// (`envoy/scim.yaml`) and to the host. Nothing listens upstream: none of them gets there.
#[test]
fn host_matches_envoy_scim() {
    let config = scim_plugin_config();
    let envoy = GateEnvoy::start("host-cross-check-scim", &config, free_port(), &EnvoyOptions::default());
    let (_host, mut vm) = configured_host(&config);
    let okta = format!("Bearer {}", token("okta"));
    let json_user = br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dana"}"#;

    let cases = [
        ("no credentials", RawRequest::new("GET", "/scim/v2/Users")),
        (
            "unknown token",
            RawRequest::new("GET", "/scim/v2/Users").header("authorization", &format!("Bearer {}", token("nobody"))),
        ),
        ("Basic scheme", RawRequest::new("GET", "/scim/v2/Users").header("authorization", "Basic ZGFuYTpzZWNyZXQ=")),
        ("token in query", RawRequest::new("GET", "/scim/v2/Users?access_token=abc")),
        ("wrong method", RawRequest::new("PUT", "/scim/v2/Users").header("authorization", &okta)),
        ("irregular path", RawRequest::new("GET", "/scim/v2/Users/a;b").header("authorization", &okta)),
        (
            "not permitted",
            RawRequest::new("POST", "/scim/v2/Users")
                .header("authorization", &format!("Bearer {}", token("readonly")))
                .header("content-type", "application/scim+json")
                .body(json_user),
        ),
    ];
    let mut found = Vec::new();
    for (name, raw) in &cases {
        let from_envoy = send(envoy.port, raw);
        let from_envoy =
            HttpResponse { status: from_envoy.status, headers: from_envoy.headers.clone(), body: from_envoy.text() };
        let mut request = Request::new(&raw.method, &raw.path).source_address("127.0.0.1:40000");
        for (header, value) in &raw.headers {
            request = request.header(header, value);
        }
        if let Some(body) = &raw.body {
            request = request.body(body.clone());
        }
        found.extend(differences(name, &from_envoy, &vm.request(&request)));
    }
    assert!(found.is_empty(), "the host and Envoy differ:\n{}", found.join("\n"));
}
