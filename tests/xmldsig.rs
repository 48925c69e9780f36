//! Signature verification: wrapping attacks (XSW1–XSW8 as SAML Raider names them),
//! comment-injected NameIDs, signature exclusion, algorithm confusion, and cross-checks with
//! xmlsec1 in both directions.

mod common;

use common::signer::{sign, Spec, DSIG};
use common::{fixture_dir, other_key, run, test_key, TempDir};
use edgeidp::saml::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use edgeidp::saml::keys::X509;
use edgeidp::saml::verify::{verify_element, verify_if_signed, Checked, VerifyError, VerifyOptions};
use edgeidp::saml::xml::{text_content, Document, Limits};

const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

fn assertion(id: &str, name_id: &str) -> String {
    format!(
        r#"<saml:Assertion ID="{id}" IssueInstant="2026-01-05T10:00:00Z" Version="2.0"><saml:Issuer>https://idp.example.test</saml:Issuer><saml:Subject><saml:NameID>{name_id}</saml:NameID></saml:Subject></saml:Assertion>"#
    )
}

fn response(inner: &str) -> String {
    format!(
        r#"<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_resp" Version="2.0" IssueInstant="2026-01-05T10:00:00Z"><saml:Issuer>https://idp.example.test</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>{inner}</samlp:Response>"#
    )
}

fn key_pem() -> &'static str {
    &test_key().key_pem
}

fn certificate() -> X509 {
    X509::from_pem(&test_key().cert_pem).unwrap()
}

/// Builds a Response whose Assertion (ID `_a`, NameID alice) is signed.
fn signed_assertion_response() -> String {
    sign(&response(&assertion("_a", "alice@example.test")), "_a", key_pem(), &Spec::default())
}

/// Builds a signed Response (ID `_resp`) around an unsigned Assertion.
fn signed_response() -> String {
    sign(&response(&assertion("_a", "alice@example.test")), "_resp", key_pem(), &Spec::default())
}

/// Reads the NameID the way a consumer built on the verifier should. It verifies the
/// Response if signed and takes the first Assertion child from the verified handle. That
/// Assertion must be signed unless the Response was.
fn consume(xml: &str) -> Result<String, VerifyError> {
    let document = Document::parse(xml, &Limits::default()).map_err(|e| panic!("{e}")).unwrap();
    let key = certificate();
    let options = VerifyOptions::default();
    let response = match verify_if_signed(&document, document.root_element(), key.public_key(), &options)? {
        Checked::Signed(signed) => Some(signed.node()),
        Checked::Unsigned(_) => None,
    };
    let root = response.unwrap_or(document.root_element());
    let assertion = root
        .children()
        .find(|n| n.tag_name().namespace() == Some(SAML) && n.tag_name().name() == "Assertion")
        .expect("the Response has an Assertion child");
    let assertion = if response.is_some() {
        match verify_if_signed(&document, assertion, key.public_key(), &options)? {
            Checked::Signed(signed) => signed.node(),
            Checked::Unsigned(node) => node,
        }
    } else {
        verify_element(&document, assertion, key.public_key(), &options)?.node()
    };
    let name_id = assertion.descendants().find(|n| n.tag_name().name() == "NameID").unwrap();
    Ok(text_content(name_id).into_owned())
}

fn verify_assertion(xml: &str, options: &VerifyOptions) -> Result<(), VerifyError> {
    let document = Document::parse(xml, &Limits::default()).unwrap();
    let assertion = document.root_element().descendants().find(|n| n.tag_name().name() == "Assertion").unwrap();
    verify_element(&document, assertion, certificate().public_key(), options).map(|_| ())
}

/// Extracts the first `<ds:Signature>…</ds:Signature>` of `xml` and returns it with `xml`
/// minus that signature.
fn split_signature(xml: &str) -> (String, String) {
    let start = xml.find("<ds:Signature").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    (xml[start..end].to_string(), format!("{}{}", &xml[..start], &xml[end..]))
}

// --- valid signatures -----------------------------------------------------------------

#[test]
fn signed_assertion_accepted() {
    assert_eq!(consume(&signed_assertion_response()), Ok("alice@example.test".to_string()));
}

#[test]
fn signed_response_accepted() {
    assert_eq!(consume(&signed_response()), Ok("alice@example.test".to_string()));
}

#[test]
fn signed_response_and_assertion_accepted() {
    let both = sign(&signed_assertion_response(), "_resp", key_pem(), &Spec::default());
    assert_eq!(consume(&both), Ok("alice@example.test".to_string()));
}

#[test]
fn sha512_accepted() {
    let spec = Spec { algorithm: SignatureAlgorithm::RsaSha512, digest: DigestAlgorithm::Sha512, ..Spec::default() };
    let xml = sign(&response(&assertion("_a", "alice@example.test")), "_a", key_pem(), &spec);
    assert_eq!(verify_assertion(&xml, &VerifyOptions::default()), Ok(()));
}

#[test]
fn prefix_list_accepted() {
    let spec = Spec { prefix_list: Some("xs #default"), ..Spec::default() };
    let xml = sign(&response(&assertion("_a", "alice@example.test")), "_a", key_pem(), &spec);
    assert_eq!(verify_assertion(&xml, &VerifyOptions::default()), Ok(()));
}

#[test]
fn returned_handle_is_verified_element() {
    let xml = signed_assertion_response();
    let document = Document::parse(&xml, &Limits::default()).unwrap();
    let assertion = document.root_element().descendants().find(|n| n.tag_name().name() == "Assertion").unwrap();
    let signed = verify_element(&document, assertion, certificate().public_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(signed.node(), assertion);
}

// --- tampering ----------------------------------------------------------------------------

#[test]
fn changed_name_id_rejected() {
    let xml = signed_assertion_response().replace("alice@example.test", "mallory@example.test");
    assert_eq!(consume(&xml), Err(VerifyError::DigestMismatch { id: "_a".into() }));
}

#[test]
fn wrong_key_rejected() {
    let xml = sign(&response(&assertion("_a", "alice@example.test")), "_a", &other_key().key_pem, &Spec::default());
    assert_eq!(consume(&xml), Err(VerifyError::InvalidSignature { id: "_a".into() }));
}

#[test]
fn changed_signed_info_rejected() {
    let xml = signed_assertion_response().replacen("<ds:Reference URI=\"#_a\">", "<ds:Reference URI=\"#_a\" Type=\"x\">", 1);
    assert_eq!(consume(&xml), Err(VerifyError::InvalidSignature { id: "_a".into() }));
}

#[test]
fn embedded_attacker_certificate_ignored() {
    let attacker = X509::from_pem(&other_key().cert_pem).unwrap();
    let spec = Spec { certificate: Some(attacker.base64()), ..Spec::default() };
    let xml = sign(&response(&assertion("_a", "alice@example.test")), "_a", &other_key().key_pem, &spec);
    assert_eq!(consume(&xml), Err(VerifyError::InvalidSignature { id: "_a".into() }));
}

// --- comment injection ------------------------------------------------------------------

/// The signature excludes comments, so an attacker holding a signed assertion for
/// `alice@example.test.evil.test` can split the text with a comment. The value read must
/// still be the whole text.
#[test]
fn comment_injected_name_id_reads_whole_text() {
    let signed = sign(&response(&assertion("_a", "alice@example.test.evil.test")), "_a", key_pem(), &Spec::default());
    let injected = signed.replace("alice@example.test.evil.test", "alice@example.test<!---->.evil.test");
    assert_eq!(consume(&injected), Ok("alice@example.test.evil.test".to_string()));
}

#[test]
fn comment_injected_signature_still_verifies() {
    let signed = sign(&response(&assertion("_a", "bob@example.test")), "_a", key_pem(), &Spec::default());
    let injected = signed.replace("bob@example.test", "bob<!-- x -->@example.test");
    assert_eq!(verify_assertion(&injected, &VerifyOptions::default()), Ok(()));
}

// --- signature exclusion ------------------------------------------------------------------

#[test]
fn unsigned_rejected_when_required() {
    let xml = response(&assertion("_a", "alice@example.test"));
    assert_eq!(consume(&xml), Err(VerifyError::MissingSignature { element: "saml:Assertion".into() }));
}

#[test]
fn stripped_signature_rejected_when_required() {
    let (_, stripped) = split_signature(&signed_assertion_response());
    assert_eq!(verify_assertion(&stripped, &VerifyOptions::default()), Err(VerifyError::MissingSignature { element: "saml:Assertion".into() }));
}

#[test]
fn unsigned_reported_when_optional() {
    let xml = response(&assertion("_a", "alice@example.test"));
    let document = Document::parse(&xml, &Limits::default()).unwrap();
    let checked = verify_if_signed(&document, document.root_element(), certificate().public_key(), &VerifyOptions::default());
    assert!(matches!(checked, Ok(Checked::Unsigned(_))), "expected Unsigned, got {checked:?}");
}

// --- algorithm confusion ------------------------------------------------------------------

fn sha1_signed() -> String {
    let spec = Spec { algorithm: SignatureAlgorithm::RsaSha1, digest: DigestAlgorithm::Sha1, ..Spec::default() };
    sign(&response(&assertion("_a", "alice@example.test")), "_a", key_pem(), &spec)
}

#[test]
fn sha1_rejected_by_default() {
    let result = verify_assertion(&sha1_signed(), &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::Sha1NotAllowed { algorithm: SignatureAlgorithm::RsaSha1.uri().into() }));
}

#[test]
fn sha1_accepted_when_allowed() {
    assert_eq!(verify_assertion(&sha1_signed(), &VerifyOptions { allow_sha1: true }), Ok(()));
}

#[test]
fn sha1_digest_rejected_by_default() {
    let spec = Spec { digest: DigestAlgorithm::Sha1, ..Spec::default() };
    let xml = sign(&response(&assertion("_a", "alice@example.test")), "_a", key_pem(), &spec);
    let result = verify_assertion(&xml, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::Sha1NotAllowed { algorithm: DigestAlgorithm::Sha1.uri().into() }));
}

#[test]
fn hmac_signature_method_rejected() {
    let hmac = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
    let xml = signed_assertion_response().replace(SignatureAlgorithm::RsaSha256.uri(), hmac);
    let result = verify_assertion(&xml, &VerifyOptions { allow_sha1: true });
    assert_eq!(result, Err(VerifyError::UnsupportedSignatureAlgorithm { algorithm: hmac.into() }));
}

#[test]
fn swapped_signature_method_rejected() {
    let xml = signed_assertion_response().replace(SignatureAlgorithm::RsaSha256.uri(), SignatureAlgorithm::RsaSha512.uri());
    assert_eq!(verify_assertion(&xml, &VerifyOptions::default()), Err(VerifyError::InvalidSignature { id: "_a".into() }));
}

#[test]
fn inclusive_canonicalization_rejected() {
    let inclusive = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    let xml = signed_assertion_response().replacen(
        "CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"",
        &format!("CanonicalizationMethod Algorithm=\"{inclusive}\""),
        1,
    );
    let result = verify_assertion(&xml, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::UnsupportedCanonicalization { algorithm: inclusive.into() }));
}

#[test]
fn with_comments_transform_rejected() {
    let xml = signed_assertion_response().replacen(
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">",
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\">",
        1,
    );
    assert!(matches!(verify_assertion(&xml, &VerifyOptions::default()), Err(VerifyError::UnsupportedTransforms { .. })));
}

#[test]
fn xpath_transform_rejected() {
    let xml = signed_assertion_response().replacen(
        "<ds:Transforms>",
        "<ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
        1,
    );
    assert!(matches!(verify_assertion(&xml, &VerifyOptions::default()), Err(VerifyError::UnsupportedTransforms { .. })));
}

#[test]
fn missing_enveloped_transform_rejected() {
    let xml = signed_assertion_response()
        .replacen("<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>", "", 1);
    assert!(matches!(verify_assertion(&xml, &VerifyOptions::default()), Err(VerifyError::UnsupportedTransforms { .. })));
}

// --- structure ----------------------------------------------------------------------------

#[test]
fn two_signatures_rejected() {
    let xml = signed_assertion_response();
    let (signature, _) = split_signature(&xml);
    let doubled = xml.replacen(&signature, &format!("{signature}{signature}"), 1);
    let result = verify_assertion(&doubled, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::MultipleSignatures { element: "saml:Assertion".into(), count: 2 }));
}

#[test]
fn two_references_rejected() {
    let xml = signed_assertion_response();
    let start = xml.find("<ds:Reference").unwrap();
    let end = xml.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
    let doubled = format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..]);
    assert_eq!(verify_assertion(&doubled, &VerifyOptions::default()), Err(VerifyError::MultipleReferences { count: 2 }));
}

#[test]
fn empty_reference_uri_rejected() {
    let xml = signed_assertion_response().replacen("URI=\"#_a\"", "URI=\"\"", 1);
    let result = verify_assertion(&xml, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::ReferenceUri { expected: "#_a".into(), found: String::new() }));
}

#[test]
fn object_in_signature_rejected() {
    let xml = signed_assertion_response().replacen("</ds:Signature>", "<ds:Object/></ds:Signature>", 1);
    let result = verify_assertion(&xml, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::UnexpectedElement { parent: "Signature", found: "ds:Object".into() }));
}

/// KeyInfo is outside the digest and precedes the Subject, so a NameID smuggled into it
/// would be the first one a descendant search finds.
#[test]
fn name_id_in_key_info_rejected() {
    let xml = signed_assertion_response()
        .replacen("</ds:SignatureValue>", "</ds:SignatureValue><ds:KeyInfo><saml:NameID>mallory@example.test</saml:NameID></ds:KeyInfo>", 1);
    let result = verify_assertion(&xml, &VerifyOptions::default());
    assert_eq!(result, Err(VerifyError::UnexpectedElement { parent: "Signature", found: "saml:NameID".into() }));
}

#[test]
fn duplicate_id_elsewhere_rejected() {
    let xml = signed_assertion_response().replacen("<samlp:Status>", "<samlp:Status ID=\"_a\">", 1);
    assert_eq!(verify_assertion(&xml, &VerifyOptions::default()), Err(VerifyError::DuplicateId { id: "_a".into() }));
}

// --- signature wrapping -------------------------------------------------------------------

fn assert_wrapping_rejected(name: &str, xml: &str) {
    let result = consume(xml);
    assert!(result.is_err(), "{name}: the wrapped document was accepted and read as {result:?}\n{xml}");
}

/// XSW1: an unsigned evil Response wraps the original signed Response inside its Signature.
#[test]
fn xsw1_response_copy_in_signature() {
    let original = signed_response();
    let (signature, _) = split_signature(&original);
    let original_body = original.replacen("<?xml version=\"1.0\"?>", "", 1);
    let evil_signature = signature.replacen("</ds:Signature>", &format!("{original_body}</ds:Signature>"), 1);
    for evil_id in ["_evil", "_resp"] {
        let evil = response(&format!("{evil_signature}{}", assertion("_e", "mallory@example.test")))
            .replacen("ID=\"_resp\"", &format!("ID=\"{evil_id}\""), 1);
        assert_wrapping_rejected(&format!("XSW1 with ID {evil_id}"), &evil);
    }
}

/// XSW2: as XSW1, with the original Response a sibling before the evil Response's Signature.
#[test]
fn xsw2_response_copy_detached() {
    let original = signed_response();
    let (signature, _) = split_signature(&original);
    for evil_id in ["_evil", "_resp"] {
        let evil = response(&format!("{original}{signature}{}", assertion("_e", "mallory@example.test")))
            .replacen("ID=\"_resp\"", &format!("ID=\"{evil_id}\""), 1);
        assert_wrapping_rejected(&format!("XSW2 with ID {evil_id}"), &evil);
    }
}

fn signed_assertion() -> String {
    let xml = signed_assertion_response();
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    xml[start..end].to_string()
}

/// XSW3: an unsigned evil Assertion placed before the original signed one.
#[test]
fn xsw3_assertion_copy_before() {
    for evil_id in ["_e", "_a"] {
        let evil = response(&format!("{}{}", assertion(evil_id, "mallory@example.test"), signed_assertion()));
        assert_wrapping_rejected(&format!("XSW3 with ID {evil_id}"), &evil);
    }
}

/// XSW4: the original signed Assertion becomes a child of an unsigned evil Assertion.
#[test]
fn xsw4_assertion_wrapped_in_copy() {
    for evil_id in ["_e", "_a"] {
        let evil = assertion(evil_id, "mallory@example.test")
            .replacen("</saml:Assertion>", &format!("{}</saml:Assertion>", signed_assertion()), 1);
        assert_wrapping_rejected(&format!("XSW4 with ID {evil_id}"), &response(&evil));
    }
}

/// XSW5: the evil Assertion carries the original Signature; the original, unsigned, follows.
#[test]
fn xsw5_signature_moved_to_copy() {
    let (signature, unsigned_original) = split_signature(&signed_assertion());
    for evil_id in ["_e", "_a"] {
        let evil = assertion(evil_id, "mallory@example.test")
            .replacen("</saml:Issuer>", &format!("</saml:Issuer>{signature}"), 1);
        assert_wrapping_rejected(&format!("XSW5 with ID {evil_id}"), &response(&format!("{evil}{unsigned_original}")));
    }
}

/// XSW6: the evil Assertion carries the original Signature, and the original Assertion sits
/// inside that Signature.
#[test]
fn xsw6_original_inside_moved_signature() {
    let (signature, unsigned_original) = split_signature(&signed_assertion());
    let carrier = signature.replacen("</ds:Signature>", &format!("{unsigned_original}</ds:Signature>"), 1);
    for evil_id in ["_e", "_a"] {
        let evil = assertion(evil_id, "mallory@example.test")
            .replacen("</saml:Issuer>", &format!("</saml:Issuer>{carrier}"), 1);
        assert_wrapping_rejected(&format!("XSW6 with ID {evil_id}"), &response(&evil));
    }
}

/// XSW7: the original signed Assertion hidden in an Extensions element, an unsigned evil
/// Assertion where consumers look.
#[test]
fn xsw7_original_in_extensions() {
    for evil_id in ["_e", "_a"] {
        let evil = response(&format!(
            "<samlp:Extensions>{}</samlp:Extensions>{}",
            signed_assertion(),
            assertion(evil_id, "mallory@example.test")
        ));
        assert_wrapping_rejected(&format!("XSW7 with ID {evil_id}"), &evil);
    }
}

/// XSW8: the evil Assertion carries the original Signature, with the unsigned original in a
/// ds:Object inside it.
#[test]
fn xsw8_original_in_signature_object() {
    let (signature, unsigned_original) = split_signature(&signed_assertion());
    let carrier = signature.replacen("</ds:Signature>", &format!("<ds:Object>{unsigned_original}</ds:Object></ds:Signature>"), 1);
    for evil_id in ["_e", "_a"] {
        let evil = assertion(evil_id, "mallory@example.test")
            .replacen("</saml:Issuer>", &format!("</saml:Issuer>{carrier}"), 1);
        assert_wrapping_rejected(&format!("XSW8 with ID {evil_id}"), &response(&evil));
    }
}

/// The signed Response with its Assertion swapped for an evil one: the Response digest
/// covers the Assertion, so the swap is caught.
#[test]
fn response_assertion_swap_rejected() {
    let evil = signed_response().replace("alice@example.test", "mallory@example.test");
    assert_eq!(consume(&evil), Err(VerifyError::DigestMismatch { id: "_resp".into() }));
}

// --- cross-checks with xmlsec1 -------------------------------------------------------------

fn xmlsec1_verify(xml: &str, node_xpath: &str) -> std::process::Output {
    let dir = TempDir::new("xmlsec1-verify");
    let input = dir.file("signed.xml");
    std::fs::write(&input, xml).unwrap();
    run(
        "xmlsec1",
        &[
            "--verify",
            "--pubkey-cert-pem", test_key().cert_pem_path.to_str().unwrap(),
            "--id-attr:ID", &format!("{SAMLP}:Response"),
            "--id-attr:ID", &format!("{SAML}:Assertion"),
            "--node-xpath", node_xpath,
            input.to_str().unwrap(),
        ],
    )
}

const ASSERTION_SIGNATURE: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";
const RESPONSE_SIGNATURE: &str = "/*/*[local-name()='Signature']";

#[test]
fn our_signatures_verify_with_xmlsec1() {
    let cert = X509::from_pem(&test_key().cert_pem).unwrap();
    let cases = [
        ("assertion rsa-sha256", signed_assertion_response(), ASSERTION_SIGNATURE),
        ("response rsa-sha256", signed_response(), RESPONSE_SIGNATURE),
        (
            "assertion rsa-sha512 with PrefixList and KeyInfo",
            sign(
                &response(&assertion("_a", "Zoë &amp; 山田 &#13;")),
                "_a",
                key_pem(),
                &Spec {
                    algorithm: SignatureAlgorithm::RsaSha512,
                    digest: DigestAlgorithm::Sha512,
                    prefix_list: Some("samlp"),
                    certificate: Some(cert.base64()),
                },
            ),
            ASSERTION_SIGNATURE,
        ),
    ];
    for (name, xml, xpath) in cases {
        let output = xmlsec1_verify(&xml, xpath);
        assert!(output.status.success(), "{name}: xmlsec1 rejected our signature: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn both_signatures_verify_with_xmlsec1() {
    let both = sign(&signed_assertion_response(), "_resp", key_pem(), &Spec::default());
    for xpath in [ASSERTION_SIGNATURE, RESPONSE_SIGNATURE] {
        let output = xmlsec1_verify(&both, xpath);
        assert!(output.status.success(), "{xpath}: xmlsec1 rejected our signature: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn xmlsec1_rejects_our_tampered_signature() {
    let xml = signed_assertion_response().replace("alice@", "mallory@");
    assert!(!xmlsec1_verify(&xml, ASSERTION_SIGNATURE).status.success(), "xmlsec1 accepted a changed NameID");
}

/// Every corpus document signed by xmlsec1 verifies with our verifier, except the one whose
/// Reference URI is "" (the whole document), which this profile rejects.
#[test]
fn xmlsec1_signatures_verify_with_ours() {
    let dir = TempDir::new("xmlsec1-sign");
    let cert = certificate();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir("c14n")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files {
        let output_path = dir.file("signed.xml");
        let output = run(
            "xmlsec1",
            &[
                "--sign",
                "--privkey-pem", test_key().key_pem_path.to_str().unwrap(),
                "--id-attr:ID", &format!("{SAMLP}:Response"),
                "--id-attr:ID", &format!("{SAML}:Assertion"),
                "--output", output_path.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "xmlsec1 could not sign {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
        let signed = std::fs::read_to_string(&output_path).unwrap();
        let document = Document::parse(&signed, &Limits::default()).unwrap();
        let signature = document
            .root()
            .descendants()
            .find(|n| n.tag_name().namespace() == Some(DSIG) && n.tag_name().name() == "Signature")
            .unwrap();
        let element = signature.parent_element().unwrap();
        let result = verify_element(&document, element, cert.public_key(), &VerifyOptions::default());
        let whole_document = signed.contains("Reference URI=\"\"");
        match (result, whole_document) {
            (Ok(signed_element), false) => {
                assert_eq!(signed_element.node(), element);
                checked += 1;
            }
            (Err(VerifyError::ReferenceUri { .. }), true) => {}
            (other, _) => failures.push(format!("{}: {other:?}", path.display())),
        }
    }
    assert!(failures.is_empty(), "xmlsec1 signatures rejected:\n{}", failures.join("\n"));
    assert!(checked >= 40, "only {checked} xmlsec1 signatures were checked");
}
