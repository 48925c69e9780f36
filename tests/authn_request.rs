//! AuthnRequest decoding and checks: real requests from pysaml2 and python3-saml (see
//! scripts/make-authn-request-fixtures), and crafted requests for each failure.

mod common;

use std::io::Write;

use base64::Engine;
use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::authn_request::{
    decode_post, decode_redirect, AcsRequest, AuthnRequest, AuthnRequestError, Binding, Comparison, DecodeLimits,
    RequestErrorKind, RequestPolicy, SamlStatus,
};
use edgeidp::saml::keys::{private_key_from_pem, X509};
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use edgeidp::saml::verify::VerifyError;
use edgeidp::saml::xml::XmlError;
use rand_core::SeedableRng;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use common::fixture_dir;

const SP: &str = "https://sp.example.test/metadata";
const ACS: &str = "https://sp.example.test/acs";
const SSO: &str = "http://127.0.0.1:10000/saml/amion/sso";
const PPT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const INSTANT: &str = "2026-01-05T10:00:00Z";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_dir("authn_requests").join(name)).unwrap()
}

fn sp_certificate() -> X509 {
    X509::from_pem(&fixture("sp.cert.pem")).unwrap()
}

fn policy(now: OffsetDateTime) -> RequestPolicy {
    RequestPolicy {
        sp_entity_id: SP.into(),
        acs_urls: vec![ACS.into()],
        default_acs_url: ACS.into(),
        sso_url: SSO.into(),
        now,
        max_skew_seconds: 180,
        require_signature: false,
        sp_certificate: Some(sp_certificate()),
        allow_sha1: false,
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        authn_context_class_ref: Some(PPT.into()),
    }
}

fn instant(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

/// Returns the fixture's IssueInstant from manifest.json.
fn fixture_instant(name: &str) -> OffsetDateTime {
    let manifest: serde_json::Value = serde_json::from_str(&fixture("manifest.json")).unwrap();
    instant(manifest[name]["issue_instant"].as_str().unwrap())
}

fn check_fixture(name: &str, require_signature: bool) -> Result<AuthnRequest, AuthnRequestError> {
    let text = fixture(&format!("{name}.txt"));
    let limits = DecodeLimits::default();
    let encoded = if name.contains("-redirect-") {
        decode_redirect(&text, &limits)
    } else {
        decode_post(&text, &limits)
    }
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let policy = RequestPolicy { require_signature, ..policy(fixture_instant(name)) };
    encoded.check(&policy, &limits)
}

// --- real requests -----------------------------------------------------------------------

const LIBRARIES: [&str; 2] = ["pysaml2", "python3-saml"];
const BINDINGS: [&str; 2] = ["redirect", "post"];

#[test]
fn fixtures_unsigned_accepted_when_optional() {
    for library in LIBRARIES {
        for binding in BINDINGS {
            let name = format!("{library}-{binding}-unsigned");
            let request = check_fixture(&name, false).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(request.issuer, SP, "{name}: Issuer");
            assert_eq!(request.acs_url, ACS, "{name}: ACS URL");
            assert_eq!(request.destination.as_deref(), Some(SSO), "{name}: Destination");
            assert!(!request.signed, "{name}: reported as signed");
            assert_eq!(
                request.relay_state.as_deref(),
                Some(r#"{"redirect_to":"https://www.amion.com/organizations"}"#),
                "{name}: RelayState"
            );
        }
    }
}

#[test]
fn fixtures_unsigned_rejected_when_required() {
    for library in LIBRARIES {
        for binding in BINDINGS {
            let name = format!("{library}-{binding}-unsigned");
            let error = check_fixture(&name, true).unwrap_err();
            assert_eq!(error.kind, RequestErrorKind::SignatureRequired, "{name}");
            assert_eq!(error.status(), SamlStatus::RequestDenied, "{name}");
            assert!(error.reply().is_none(), "{name}: an unauthenticated request must get no signed Response");
        }
    }
}

#[test]
fn fixtures_signed_verified() {
    for library in LIBRARIES {
        for binding in BINDINGS {
            let name = format!("{library}-{binding}-signed");
            let request = check_fixture(&name, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(request.signed, "{name}: signature not reported as verified");
        }
    }
}

#[test]
fn fixture_fields_read() {
    let request = check_fixture("python3-saml-redirect-unsigned", false).unwrap();
    assert_eq!(request.binding, Binding::Redirect);
    assert!(request.id.starts_with("ONELOGIN_"), "ID {}", request.id);
    assert_eq!(request.protocol_binding.as_deref(), Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"));
    assert_eq!(request.acs, Some(AcsRequest::Url(ACS.into())));
    let policy = request.name_id_policy.unwrap();
    assert_eq!(policy.format.as_deref(), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"));
    assert_eq!(policy.allow_create, Some(true));
    let context = request.requested_authn_context.unwrap();
    assert_eq!(context.comparison, Comparison::Exact);
    assert_eq!(context.class_refs, vec![PPT.to_string()]);
}

#[test]
fn fixture_redirect_signature_changed_rejected() {
    let text = fixture("pysaml2-redirect-signed.txt").replace("RelayState=%7B", "RelayState=%7B%20");
    let limits = DecodeLimits::default();
    let encoded = decode_redirect(&text, &limits).unwrap();
    let error = encoded.check(&policy(fixture_instant("pysaml2-redirect-signed")), &limits).unwrap_err();
    assert_eq!(error.kind, RequestErrorKind::InvalidRedirectSignature);
}

#[test]
fn fixture_post_signature_wrong_certificate_rejected() {
    let text = fixture("python3-saml-post-signed.txt");
    let limits = DecodeLimits::default();
    let encoded = decode_post(&text, &limits).unwrap();
    let other = X509::from_pem(&common::test_key().cert_pem).unwrap();
    let policy = RequestPolicy { sp_certificate: Some(other), ..policy(fixture_instant("python3-saml-post-signed")) };
    let error = encoded.check(&policy, &limits).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::EmbeddedSignature(VerifyError::InvalidSignature { .. })), "{error:?}");
}

// --- crafted requests ------------------------------------------------------------------------

fn request_xml(attributes: &str, children: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="{INSTANT}" {attributes}><saml:Issuer>{SP}</saml:Issuer>{children}</samlp:AuthnRequest>"#
    )
}

fn standard_xml() -> String {
    request_xml(&format!(r#"Destination="{SSO}" AssertionConsumerServiceURL="{ACS}""#), "")
}

fn deflate_base64(xml: &str) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn redirect_query(xml: &str) -> String {
    format!("SAMLRequest={}&RelayState=state", encode(&deflate_base64(xml)))
}

/// Signs a Redirect query with the committed test-only SP key.
fn signed_redirect_query(xml: &str, algorithm: SignatureAlgorithm) -> String {
    let unsigned = format!("{}&SigAlg={}", redirect_query(xml), encode(algorithm.uri()));
    let signer = RsaCrateSigner::new(private_key_from_pem(&fixture("TEST-ONLY-sp.key.pem")).unwrap());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let signature = signer.sign(algorithm, unsigned.as_bytes(), &mut rng).unwrap();
    let value = base64::engine::general_purpose::STANDARD.encode(signature);
    format!("{unsigned}&Signature={}", encode(&value))
}

fn check_redirect(query: &str, policy: &RequestPolicy) -> Result<AuthnRequest, AuthnRequestError> {
    let limits = DecodeLimits::default();
    decode_redirect(query, &limits).map_err(AuthnRequestError::from)?.check(policy, &limits)
}

fn error_for(xml: &str) -> AuthnRequestError {
    check_redirect(&redirect_query(xml), &policy(instant(INSTANT))).unwrap_err()
}

#[test]
fn crafted_request_accepted() {
    let request = check_redirect(&redirect_query(&standard_xml()), &policy(instant(INSTANT))).unwrap();
    assert_eq!(request.id, "_r1");
}

#[test]
fn crafted_signed_redirect_accepted() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha512);
    let policy = RequestPolicy { require_signature: true, ..policy(instant(INSTANT)) };
    assert!(check_redirect(&query, &policy).unwrap().signed);
}

#[test]
fn redirect_parameter_order_irrelevant() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha256);
    let mut parts: Vec<&str> = query.split('&').collect();
    parts.reverse();
    let policy = RequestPolicy { require_signature: true, ..policy(instant(INSTANT)) };
    assert!(check_redirect(&parts.join("&"), &policy).unwrap().signed);
}

#[test]
fn redirect_sha1_rejected_by_default() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha1);
    assert_eq!(check_redirect(&query, &policy(instant(INSTANT))).unwrap_err().kind, RequestErrorKind::Sha1NotAllowed);
}

#[test]
fn redirect_sha1_accepted_when_allowed() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha1);
    let policy = RequestPolicy { allow_sha1: true, ..policy(instant(INSTANT)) };
    assert!(check_redirect(&query, &policy).unwrap().signed);
}

#[test]
fn redirect_signature_without_sig_alg_rejected() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha256);
    let without: Vec<&str> = query.split('&').filter(|p| !p.starts_with("SigAlg=")).collect();
    let error = check_redirect(&without.join("&"), &policy(instant(INSTANT))).unwrap_err();
    assert_eq!(error.kind, RequestErrorKind::MissingSigAlg);
}

#[test]
fn redirect_signed_without_certificate_rejected_when_required() {
    let query = signed_redirect_query(&standard_xml(), SignatureAlgorithm::RsaSha256);
    let policy = RequestPolicy { require_signature: true, sp_certificate: None, ..policy(instant(INSTANT)) };
    assert_eq!(check_redirect(&query, &policy).unwrap_err().kind, RequestErrorKind::NoSpCertificate);
}

#[test]
fn duplicate_saml_request_rejected() {
    let query = format!("{}&SAMLRequest=x", redirect_query(&standard_xml()));
    let error = check_redirect(&query, &policy(instant(INSTANT))).unwrap_err();
    assert_eq!(error.kind, RequestErrorKind::DuplicateParameter { name: "SAMLRequest".into() });
}

#[test]
fn missing_saml_request_rejected() {
    let error = check_redirect("RelayState=x", &policy(instant(INSTANT))).unwrap_err();
    assert_eq!(error.kind, RequestErrorKind::MissingParameter { name: "SAMLRequest" });
}

#[test]
fn invalid_base64_rejected() {
    let error = check_redirect("SAMLRequest=%%%%", &policy(instant(INSTANT))).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::InvalidPercentEncoding { .. } | RequestErrorKind::InvalidBase64 { .. }));
}

#[test]
fn invalid_deflate_rejected() {
    let query = format!("SAMLRequest={}", encode(&base64::engine::general_purpose::STANDARD.encode([0xff; 16])));
    let error = check_redirect(&query, &policy(instant(INSTANT))).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::InvalidDeflate { .. }), "{error:?}");
}

#[test]
fn deflate_bomb_stopped_at_limit() {
    let padding = " ".repeat(10 * 1024 * 1024);
    let query = redirect_query(&format!("<a>{padding}</a>"));
    assert!(query.len() < 64 * 1024, "the compressed bomb should be small, got {} bytes", query.len());
    let error = check_redirect(&query, &policy(instant(INSTANT))).unwrap_err();
    assert_eq!(error.kind, RequestErrorKind::InflatedTooLarge { max: 128 * 1024 });
}

#[test]
fn oversized_encoded_request_rejected() {
    let query = format!("SAMLRequest={}", "A".repeat(70_000));
    let error = check_redirect(&query, &policy(instant(INSTANT))).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::EncodedTooLarge { .. }));
}

#[test]
fn doctype_rejected() {
    let error = error_for(&format!("<!DOCTYPE x>{}", standard_xml()));
    assert_eq!(error.kind, RequestErrorKind::Xml(XmlError::DtdNotAllowed));
}

#[test]
fn long_relay_state_rejected() {
    let query = format!("{}{}", redirect_query(&standard_xml()), "x".repeat(5000));
    let error = check_redirect(&query, &policy(instant(INSTANT))).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::RelayStateTooLong { .. }));
}

#[test]
fn other_root_element_rejected() {
    let xml = standard_xml().replace("AuthnRequest", "LogoutRequest");
    assert_eq!(error_for(&xml).kind, RequestErrorKind::NotAuthnRequest { found: "samlp:LogoutRequest".into() });
}

#[test]
fn version_mismatch_reported() {
    let error = error_for(&standard_xml().replace("Version=\"2.0\"", "Version=\"1.1\""));
    assert_eq!(error.status(), SamlStatus::VersionMismatch);
}

#[test]
fn unknown_issuer_gets_no_reply() {
    let error = error_for(&standard_xml().replace(SP, "https://evil.example.test"));
    assert_eq!(error.kind, RequestErrorKind::UnknownIssuer { found: "https://evil.example.test".into(), expected: SP.into() });
    assert!(error.reply().is_none(), "an unknown SP must not get an error Response");
}

#[test]
fn missing_issuer_rejected() {
    let xml = standard_xml().replace(&format!("<saml:Issuer>{SP}</saml:Issuer>"), "");
    assert_eq!(error_for(&xml).kind, RequestErrorKind::MissingIssuer);
}

#[test]
fn unlisted_acs_url_gets_no_reply() {
    let error = error_for(&standard_xml().replace(ACS, "https://evil.example.test/acs"));
    assert_eq!(error.kind, RequestErrorKind::AcsUrlNotAllowed { url: "https://evil.example.test/acs".into() });
    assert!(error.reply().is_none(), "an unlisted ACS URL must not get an error Response");
}

#[test]
fn acs_index_uses_default_url() {
    let xml = request_xml("AssertionConsumerServiceIndex=\"3\"", "");
    let request = check_redirect(&redirect_query(&xml), &policy(instant(INSTANT))).unwrap();
    assert_eq!(request.acs, Some(AcsRequest::Index(3)));
    assert_eq!(request.acs_url, ACS);
}

#[test]
fn acs_url_and_index_rejected() {
    let xml = request_xml(&format!("AssertionConsumerServiceURL=\"{ACS}\" AssertionConsumerServiceIndex=\"0\""), "");
    assert_eq!(error_for(&xml).kind, RequestErrorKind::AcsUrlAndIndex);
}

#[test]
fn wrong_destination_rejected() {
    let error = error_for(&standard_xml().replace(SSO, "http://127.0.0.1:10000/saml/other/sso"));
    assert!(matches!(error.kind, RequestErrorKind::DestinationMismatch { .. }));
    assert_eq!(error.status(), SamlStatus::RequestDenied);
    assert_eq!(error.reply().map(|r| r.in_response_to.as_str()), Some("_r1"));
}

#[test]
fn old_issue_instant_rejected() {
    let late = policy(instant("2026-01-05T10:03:01Z"));
    let error = check_redirect(&redirect_query(&standard_xml()), &late).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::IssueInstantOutOfRange { .. }));
}

#[test]
fn future_issue_instant_rejected() {
    let early = policy(instant("2026-01-05T09:56:59Z"));
    let error = check_redirect(&redirect_query(&standard_xml()), &early).unwrap_err();
    assert!(matches!(error.kind, RequestErrorKind::IssueInstantOutOfRange { .. }));
}

#[test]
fn issue_instant_within_skew_accepted() {
    let late = policy(instant("2026-01-05T10:03:00Z"));
    assert!(check_redirect(&redirect_query(&standard_xml()), &late).is_ok());
}

#[test]
fn invalid_issue_instant_rejected() {
    let error = error_for(&standard_xml().replace(INSTANT, "yesterday"));
    assert_eq!(error.kind, RequestErrorKind::InvalidAttribute { name: "IssueInstant", value: "yesterday".into() });
}

#[test]
fn artifact_binding_unsupported() {
    let xml = request_xml("ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\"", "");
    assert_eq!(error_for(&xml).status(), SamlStatus::UnsupportedBinding);
}

#[test]
fn unsupported_name_id_format_rejected() {
    let xml = request_xml("", r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>"#);
    assert_eq!(error_for(&xml).status(), SamlStatus::InvalidNameIdPolicy);
}

#[test]
fn matching_name_id_format_accepted() {
    let xml = request_xml("", r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="0"/>"#);
    let request = check_redirect(&redirect_query(&xml), &policy(instant(INSTANT))).unwrap();
    assert_eq!(request.name_id_policy.unwrap().allow_create, Some(false));
}

#[test]
fn invalid_boolean_rejected() {
    let error = error_for(&request_xml("ForceAuthn=\"yes\"", ""));
    assert_eq!(error.kind, RequestErrorKind::InvalidAttribute { name: "ForceAuthn", value: "yes".into() });
}

#[test]
fn passive_with_force_authn_rejected() {
    let error = error_for(&request_xml("IsPassive=\"true\" ForceAuthn=\"true\"", ""));
    assert_eq!(error.status(), SamlStatus::NoPassive);
}

#[test]
fn passive_alone_accepted() {
    let xml = request_xml("IsPassive=\"1\"", "");
    assert!(check_redirect(&redirect_query(&xml), &policy(instant(INSTANT))).unwrap().is_passive);
}

#[test]
fn other_authn_context_rejected() {
    let context = r#"<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:X509</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#;
    assert_eq!(error_for(&request_xml("", context)).status(), SamlStatus::NoAuthnContext);
}

#[test]
fn comment_split_issuer_read_whole() {
    let xml = standard_xml().replace(SP, "https://sp.example.test<!---->/metadata");
    assert!(check_redirect(&redirect_query(&xml), &policy(instant(INSTANT))).is_ok());
}

#[test]
fn status_codes_are_saml_uris() {
    assert_eq!(SamlStatus::RequestDenied.top_level(), "urn:oasis:names:tc:SAML:2.0:status:Requester");
    assert_eq!(SamlStatus::RequestDenied.second_level(), Some("urn:oasis:names:tc:SAML:2.0:status:RequestDenied"));
    assert_eq!(SamlStatus::NoPassive.top_level(), "urn:oasis:names:tc:SAML:2.0:status:Responder");
    assert_eq!(SamlStatus::Requester.second_level(), None);
}
