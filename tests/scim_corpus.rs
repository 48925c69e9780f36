//! Replays the Okta- and Entra-shaped requests under `tests/fixtures/scim/` through the gate
//! core: each is accepted, with the operations its fixture names, by a token that allows
//! everything, and rejected with 403 `insufficient_scope` by a token that lacks any one of
//! those operations.
//!
//! [`support::fixtures`] describes the fixture format.

#[path = "support/scim.rs"]
mod support;

use edgeidp::scim::{Operation, OperationSet, ScimGate};
use serde_json::json;
use support::{error_document, fixtures, gate, run_once, token_entry, Outcome};

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
