//! Differential test of the canonicalizer against libxml2, over the corpus written by
//! scripts/make-c14n-corpus:
//!
//! - the whole document with comments, against `xmllint --exc-c14n`;
//! - the signed subtree without comments and without its Signature, against the bytes
//!   `xmlsec1 --sign --store-references` digests for the document's Reference;
//! - the whole document without comments and without the Signature, the same way with the
//!   Reference URI rewritten to "".
//!
//! xmllint has no option to canonicalize a subtree, so xmlsec1 (also libxml2) is the judge
//! there.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use edgeidp::saml::c14n::{canonicalize, canonicalize_node, C14nOptions};
use edgeidp::saml::xml::{Document, Limits};
use sha2::Digest;

use common::{first_difference, fixture_dir, run_ok, test_key, TempDir};

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const SAMLP_RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";
const SAML_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir("c14n"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} documents; run scripts/make-c14n-corpus", files.len());
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn document_matches_xmllint() {
    let mut failures = Vec::new();
    for path in corpus() {
        let xml = std::fs::read_to_string(&path).unwrap();
        let options = C14nOptions { with_comments: true, inclusive_prefixes: vec![] };
        let ours = canonicalize(&xml, &options).unwrap();
        let theirs = run_ok("xmllint", &["--exc-c14n", path.to_str().unwrap()]);
        if ours != theirs {
            failures.push(format!("{}: {}", name(&path), first_difference(&ours, &theirs)));
        }
    }
    assert!(failures.is_empty(), "differs from xmllint --exc-c14n:\n{}", failures.join("\n"));
}

/// Signs `input` with xmlsec1 and returns the bytes it digested for the one Reference, and
/// the DigestValue it wrote.
fn xmlsec1_reference(dir: &TempDir, input: &Path) -> (Vec<u8>, String) {
    let key = test_key();
    let output = dir.file("signed.xml");
    let debug = run_ok(
        "xmlsec1",
        &[
            "--sign",
            "--privkey-pem", key.key_pem_path.to_str().unwrap(),
            "--id-attr:ID", SAMLP_RESPONSE,
            "--id-attr:ID", SAML_ASSERTION,
            "--store-references", "--print-debug",
            "--output", output.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
    );
    let start_marker = b"== PreDigest data - start buffer:\n";
    let end_marker = b"\n== PreDigest data - end buffer";
    let start = find(&debug, start_marker).expect("xmlsec1 printed no PreDigest buffer") + start_marker.len();
    let end = start + find(&debug[start..], end_marker).expect("xmlsec1 printed no end of PreDigest buffer");
    let signed = std::fs::read_to_string(&output).unwrap();
    let digest_value = between(&signed, "DigestValue>", "</").to_string();
    (debug[start..end].to_vec(), digest_value)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap() + open.len();
    let end = start + text[start..].find(close).unwrap();
    &text[start..end]
}

/// Canonicalizes the document's one signed Reference as xmlsec1 would.
fn our_reference(xml: &str) -> Vec<u8> {
    let document = Document::parse(xml, &Limits::default()).unwrap();
    let signature = document
        .root()
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(DSIG) && n.tag_name().name() == "Signature")
        .unwrap();
    let reference = signature.descendants().find(|n| n.tag_name().name() == "Reference").unwrap();
    let uri = reference.attribute("URI").unwrap();
    let apex = match uri.strip_prefix('#') {
        Some(id) => document.element_by_id(id).unwrap(),
        None => document.root(),
    };
    let inclusive_prefixes = reference
        .descendants()
        .find(|n| n.tag_name().name() == "InclusiveNamespaces")
        .and_then(|n| n.attribute("PrefixList"))
        .map(|list| list.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let options = C14nOptions { with_comments: false, inclusive_prefixes };
    canonicalize_node(&document, apex, &options, Some(signature)).unwrap()
}

fn check_reference(dir: &TempDir, label: &str, input: &Path, xml: &str, failures: &mut Vec<String>) {
    let ours = our_reference(xml);
    let (theirs, digest_value) = xmlsec1_reference(dir, input);
    if ours != theirs {
        failures.push(format!("{label}: {}", first_difference(&ours, &theirs)));
    }
    let our_digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&ours));
    if our_digest != digest_value {
        failures.push(format!("{label}: digest {our_digest} but xmlsec1 wrote {digest_value}"));
    }
}

#[test]
fn signed_subtree_matches_xmlsec1() {
    let dir = TempDir::new("c14n-subtree");
    let mut failures = Vec::new();
    for path in corpus() {
        let xml = std::fs::read_to_string(&path).unwrap();
        check_reference(&dir, &name(&path), &path, &xml, &mut failures);
    }
    assert!(failures.is_empty(), "differs from xmlsec1:\n{}", failures.join("\n"));
}

#[test]
fn document_without_comments_matches_xmlsec1() {
    let dir = TempDir::new("c14n-whole");
    let mut failures = Vec::new();
    for path in corpus() {
        let original = std::fs::read_to_string(&path).unwrap();
        let reference_uri = between(&original, "Reference URI=\"", "\"").to_string();
        let xml = original.replacen(&format!("Reference URI=\"{reference_uri}\""), "Reference URI=\"\"", 1);
        let input = dir.file("whole.xml");
        std::fs::write(&input, &xml).unwrap();
        check_reference(&dir, &name(&path), &input, &xml, &mut failures);
    }
    assert!(failures.is_empty(), "differs from xmlsec1:\n{}", failures.join("\n"));
}

#[test]
fn canonical_form_is_fixed_point() {
    let mut failures = Vec::new();
    for path in corpus() {
        let xml = std::fs::read_to_string(&path).unwrap();
        for with_comments in [false, true] {
            let options = C14nOptions { with_comments, inclusive_prefixes: vec![] };
            let once = canonicalize(&xml, &options).unwrap();
            let twice = canonicalize(std::str::from_utf8(&once).unwrap(), &options).unwrap();
            if once != twice {
                failures.push(format!("{} (comments {with_comments}): {}", name(&path), first_difference(&twice, &once)));
            }
        }
    }
    assert!(failures.is_empty(), "canonicalizing the canonical form changed it:\n{}", failures.join("\n"));
}
