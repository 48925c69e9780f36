//! Helpers for driving the SCIM gate core as a host would: headers, then the body when the
//! gate requests it.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use edgeidp::scim::{
    BodyDecision, GateHost, HeaderChanges, HeadersDecision, MemoryStore, Operation, OperationSet, Rejection, RequestHead,
    ScimGate, SharedStore, TokenDigest,
};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

pub const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

/// Tokens used across the tests: the id doubles as the token's distinguishing part.
pub fn token(id: &str) -> String {
    format!("edgeidp_scim_test-{id}-0123456789abcdefghijklmnopqrstuv")
}

pub fn digest(id: &str) -> String {
    TokenDigest::of_token(&token(id)).to_hex()
}

/// Builds a token entry with the given operations (`None` for the default).
pub fn token_entry(id: &str, tenant: &str, operations: Option<&[&str]>) -> Value {
    let mut entry = json!({"id": id, "sha256": digest(id), "tenant": tenant});
    if let (Some(operations), Some(object)) = (operations, entry.as_object_mut()) {
        object.insert("operations".into(), json!(operations));
    }
    entry
}

pub fn gate(config: Value) -> ScimGate {
    match ScimGate::from_config(&config, NOW) {
        Ok((gate, _)) => gate,
        Err(error) => panic!("test configuration rejected: {error}"),
    }
}

/// A request as a test describes it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub client_address: String,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            client_address: "192.0.2.10:40000".into(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn bearer(self, id: &str) -> Self {
        let value = format!("Bearer {}", token(id));
        self.header("authorization", &value)
    }

    /// Sets a JSON body with the SCIM content type.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self.header("content-type", "application/scim+json; charset=utf-8")
    }

    pub fn raw_body(mut self, body: &[u8]) -> Self {
        self.body = Some(body.to_vec());
        self
    }

    pub fn from(mut self, address: &str) -> Self {
        self.client_address = address.into();
        self
    }
}

/// What happened to a request after headers and body.
#[derive(Debug)]
pub enum Outcome {
    Rejected(Rejection),
    Forwarded { changes: HeaderChanges, operations: String, waited_for_body: bool },
}

impl Outcome {
    pub fn rejection(&self) -> &Rejection {
        match self {
            Outcome::Rejected(rejection) => rejection,
            Outcome::Forwarded { operations, .. } => {
                panic!("expected a rejection, the request was forwarded as {operations}")
            }
        }
    }

    pub fn operations(&self) -> &str {
        match self {
            Outcome::Forwarded { operations, .. } => operations,
            Outcome::Rejected(rejection) => panic!(
                "expected the request to be forwarded, got {}: {}",
                rejection.status,
                String::from_utf8_lossy(&rejection.body)
            ),
        }
    }
}

/// Runs a request through the gate as the proxy glue does.
pub fn run(gate: &ScimGate, request: &Request, now: OffsetDateTime, store: &mut dyn SharedStore) -> Outcome {
    let headers: Vec<_> = request.headers.iter().map(|(name, value)| (name.into(), value.into())).collect();
    let head = RequestHead { method: &request.method, path: &request.path, headers: &headers };
    let mut host = TestGateHost { store, client_address: &request.client_address };
    match gate.on_request_headers(&head, now, &mut host) {
        HeadersDecision::Reject(rejection) => Outcome::Rejected(rejection),
        HeadersDecision::Forward { changes, accepted } => {
            Outcome::Forwarded { changes, operations: accepted.operations.to_string(), waited_for_body: false }
        }
        HeadersDecision::NeedBody { changes, pending } => {
            let body = request.body.as_deref().unwrap_or(b"");
            match gate.on_request_body(&pending, body) {
                BodyDecision::Reject(rejection) => Outcome::Rejected(rejection),
                BodyDecision::Forward(accepted) => {
                    Outcome::Forwarded { changes, operations: accepted.operations.to_string(), waited_for_body: true }
                }
            }
        }
    }
}

/// The gate's view of the host: a store and the request's client address.
struct TestGateHost<'a> {
    store: &'a mut dyn SharedStore,
    client_address: &'a str,
}

impl GateHost for TestGateHost<'_> {
    fn store(&mut self) -> &mut dyn SharedStore {
        self.store
    }

    fn client_address(&self) -> Option<String> {
        Some(self.client_address.to_owned())
    }
}

/// Runs one request with a fresh store.
pub fn run_once(gate: &ScimGate, request: &Request) -> Outcome {
    run(gate, request, NOW, &mut MemoryStore::default())
}

/// Returns the SCIM error document of a rejection, after checking the RFC 7644 §3.12 shape.
pub fn error_document(rejection: &Rejection) -> Value {
    let body: Value = serde_json::from_slice(&rejection.body).unwrap_or(Value::Null);
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "schemas of {body}");
    assert_eq!(body["status"], json!(rejection.status.to_string()), "status must be the HTTP status as a string");
    assert_eq!(rejection.header("content-type"), Some("application/scim+json"), "content type");
    body
}

/// A request from `tests/fixtures/scim/`.
pub struct Fixture {
    pub name: String,
    pub request: Request,
    /// The operations the request requires.
    pub operations: OperationSet,
}

/// Loads the Okta- and Entra-shaped requests under `tests/fixtures/scim/`, sorted by name.
///
/// A fixture is a JSON object: `client` (`okta` or `entra`), `description`, `method`, `path`
/// (with the query), `headers` (a list of `[name, value]` pairs, without `Authorization`),
/// an optional `body`, and `operations`, the names the request requires.
pub fn fixtures() -> Vec<Fixture> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scim");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", directory.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| load(path)).collect()
}

fn load(path: &Path) -> Fixture {
    let name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    let text_of =
        |field: &str| value[field].as_str().unwrap_or_else(|| panic!("{name}: {field} must be a string")).to_owned();

    let mut request = Request::new(&text_of("method"), &text_of("path"));
    for pair in value["headers"].as_array().unwrap_or_else(|| panic!("{name}: headers must be a list")) {
        let (Some(header), Some(header_value)) = (pair[0].as_str(), pair[1].as_str()) else {
            panic!("{name}: each header is a [name, value] pair");
        };
        request = request.header(header, header_value);
    }
    if let Some(body) = value.get("body") {
        request = request.raw_body(body.to_string().as_bytes());
    }

    let operations = value["operations"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: operations must be a list"))
        .iter()
        .map(|op| {
            op.as_str().and_then(Operation::from_name).unwrap_or_else(|| panic!("{name}: unknown operation {op}"))
        })
        .collect();
    Fixture { name, request, operations }
}
