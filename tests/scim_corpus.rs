//! Replays the Okta- and Entra-shaped requests under `tests/fixtures/scim/` through the gate
//! core: each is accepted, with the operations its fixture names, by a token that allows
//! everything, and rejected with 403 `insufficient_scope` by a token that lacks any one of
//! those operations.
//!
//! A fixture is a JSON object: `client` (`okta` or `entra`), `description`, `method`, `path`
//! (with the query), `headers` (a list of `[name, value]` pairs, without `Authorization`),
//! an optional `body`, and `operations`, the names the request requires.

#[path = "support/scim.rs"]
mod support;

use std::path::{Path, PathBuf};

use edgeidp::scim::{Operation, OperationSet, ScimGate};
use serde_json::{json, Value};
use support::{error_document, gate, run_once, token_entry, Outcome, Request};

struct Fixture {
    name: String,
    request: Request,
    operations: OperationSet,
}

fn fixtures() -> Vec<Fixture> {
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

/// Token `all` allows every operation; token `without-X` allows all but X.
fn corpus_gate() -> ScimGate {
    let mut tokens = vec![token_entry("all", "acme", Some(&OperationSet::all().names()))];
    for operation in Operation::ALL {
        let id = format!("without-{}", operation.name());
        let names = OperationSet::all().without(operation).names();
        tokens.push(token_entry(&id, "acme", Some(&names)));
    }
    gate(json!({"tenant_header": "x-tenant-id", "tokens": tokens}))
}

#[test]
fn corpus_covers_both_clients() {
    let fixtures = fixtures();
    let okta = fixtures.iter().filter(|f| f.name.starts_with("okta-")).count();
    let entra = fixtures.iter().filter(|f| f.name.starts_with("entra-")).count();
    assert!(okta >= 10, "{okta} Okta fixtures");
    assert!(entra >= 10, "{entra} Entra fixtures");
    let covered = fixtures.iter().fold(OperationSet::EMPTY, |set, f| set.union(f.operations));
    assert_eq!(covered, OperationSet::all(), "every operation appears in some fixture");
}

#[test]
fn corpus_accepted_with_all_operations() {
    let gate = corpus_gate();
    for fixture in fixtures() {
        let outcome = run_once(&gate, &fixture.request.clone().bearer("all"));
        let Outcome::Forwarded { changes, operations, .. } = outcome else {
            panic!("{}: rejected: {:?}", fixture.name, outcome);
        };
        assert_eq!(operations, fixture.operations.to_string(), "{}: classified operations", fixture.name);
        assert_eq!(changes.set, vec![("x-tenant-id".to_owned(), "acme".to_owned())], "{}: tenant header", fixture.name);
    }
}

#[test]
fn corpus_rejected_without_each_operation() {
    let gate = corpus_gate();
    for fixture in fixtures() {
        for operation in fixture.operations.iter() {
            let token = format!("without-{}", operation.name());
            let context = format!("{} with token {token}", fixture.name);
            let outcome = run_once(&gate, &fixture.request.clone().bearer(&token));
            let rejection = outcome.rejection();

            assert_eq!(rejection.status, 403, "{context}: status");
            let challenge =
                format!("Bearer realm=\"scim\", error=\"insufficient_scope\", scope=\"{}\"", operation.name());
            assert_eq!(rejection.header("www-authenticate"), Some(challenge.as_str()), "{context}: challenge");
            let detail = format!("The bearer token does not allow this operation; it needs {}.", operation.name());
            assert_eq!(error_document(rejection)["detail"], detail, "{context}: detail");
            assert_eq!(rejection.token_id.as_deref(), Some(token.as_str()), "{context}: token id for the log");
        }
    }
}
