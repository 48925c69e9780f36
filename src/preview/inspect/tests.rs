use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::*;
use crate::preview::tests::{config, key, request, NOW};
use crate::preview::{preview, Inspection};

const AUTHN_REQUEST: &str = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
    xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_request1\" Version=\"2.0\" \
    IssueInstant=\"2026-01-02T03:04:00Z\" Destination=\"https://idp.example.com/saml/amion/sso\" \
    AssertionConsumerServiceURL=\"https://sp.example.com/saml/acs\" \
    ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
    <saml:Issuer>https://sp.example.com/saml</saml:Issuer>\
    <samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>\
    </samlp:AuthnRequest>";

fn signed_response() -> String {
    preview(&request()).unwrap().xml
}

fn inspect_message(message: &str) -> Inspection {
    let request = InspectRequest {
        message: message.to_owned(),
        certificate_pem: Some(key().certificate_pem.clone()),
        now: NOW.to_owned(),
        config: Some(config()),
        app: Some("amion".to_owned()),
        sp_private_key_pem: SecretPem::default(),
    };
    inspect(&request).unwrap()
}

fn failed_checks(inspection: &Inspection) -> Vec<&str> {
    inspection.checks.iter().filter(|c| !c.passed).map(|c| c.name.as_str()).collect()
}

fn redirect_value(xml: &str) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).unwrap();
    let encoded = STANDARD.encode(encoder.finish().unwrap());
    encoded.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

#[test]
fn response_signature_valid() {
    let inspection = inspect_message(&signed_response());
    assert_eq!(inspection.kind, "response");
    assert!(inspection.headline.starts_with("Response: signature valid"), "{}", inspection.headline);
    assert!(failed_checks(&inspection).is_empty(), "{:?}", inspection.checks);
}

#[test]
fn response_changed_character_invalid() {
    let changed = signed_response().replacen(">Nurse<", ">Nursf<", 1);
    let inspection = inspect_message(&changed);
    assert!(inspection.headline.starts_with("Response: signature invalid: "), "{}", inspection.headline);
    assert!(inspection.headline.contains("does not match: its content was changed"), "{}", inspection.headline);
    assert_eq!(failed_checks(&inspection), ["signature"]);
    assert!(!inspection.content_verified);
}

#[test]
fn response_base64_decoded() {
    let inspection = inspect_message(&STANDARD.encode(signed_response()));
    assert!(inspection.headline.starts_with("Response: signature valid"), "{}", inspection.headline);
}

#[test]
fn response_wrapped_base64_decoded() {
    let encoded = STANDARD.encode(signed_response());
    let wrapped: Vec<&str> = encoded.as_bytes().chunks(76).map(|line| std::str::from_utf8(line).unwrap()).collect();
    let inspection = inspect_message(&wrapped.join("\n"));
    assert_eq!(inspection.kind, "response");
}

#[test]
fn response_form_body_decoded() {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("SAMLResponse", &STANDARD.encode(signed_response()))
        .append_pair("RelayState", "x")
        .finish();
    let inspection = inspect_message(&body);
    assert!(inspection.headline.starts_with("Response: signature valid"), "{}", inspection.headline);
}

#[test]
fn response_attributes_listed() {
    let inspection = inspect_message(&signed_response());
    let names: Vec<&str> = inspection.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["email", "jobTitle"]);
}

#[test]
fn response_without_certificate() {
    let request = InspectRequest {
        message: signed_response(),
        certificate_pem: None,
        now: NOW.to_owned(),
        config: None,
        app: None,
        sp_private_key_pem: SecretPem::default(),
    };
    let inspection = inspect(&request).unwrap();
    assert!(inspection.headline.contains("no certificate was given"), "{}", inspection.headline);
    assert!(inspection.readable_xml.contains("\n  <saml:Issuer"), "the document is still shown");
}

#[test]
fn response_audience_mismatch() {
    let mut other = request();
    other.config["apps"]["amion"]["sp_entity_id"] = json!("https://other.example.com");
    let xml = preview(&other).unwrap().xml;
    let inspection = inspect_message(&xml);
    assert_eq!(failed_checks(&inspection), ["audience"]);
}

#[test]
fn response_expired() {
    let request = InspectRequest {
        message: signed_response(),
        certificate_pem: Some(key().certificate_pem.clone()),
        now: "2026-01-02T04:00:00Z".to_owned(),
        config: Some(config()),
        app: Some("amion".to_owned()),
        sp_private_key_pem: SecretPem::default(),
    };
    let inspection = inspect(&request).unwrap();
    assert_eq!(failed_checks(&inspection), ["not on or after"]);
}

#[test]
fn response_without_app() {
    let mut broken = config();
    broken["apps"]["amion"]["acs_urls"] = json!([]);
    let request = InspectRequest {
        message: signed_response(),
        certificate_pem: Some(key().certificate_pem.clone()),
        now: NOW.to_owned(),
        config: Some(broken),
        app: Some("amion".to_owned()),
        sp_private_key_pem: SecretPem::default(),
    };
    let inspection = inspect(&request).unwrap();
    let app = inspection.checks.iter().find(|c| c.name == "app").unwrap();
    assert!(app.detail.contains("apps.amion.acs_urls"), "{}", app.detail);
}

#[test]
fn request_redirect_url_decoded() {
    let url = format!("https://idp.example.com/saml/amion/sso?SAMLRequest={}&RelayState=abc", redirect_value(AUTHN_REQUEST));
    let inspection = inspect_message(&url);
    assert_eq!(inspection.kind, "authn_request");
    assert_eq!(inspection.binding, Some("redirect"));
    let relay_state = inspection.fields.iter().find(|f| f.label == "RelayState").unwrap();
    assert_eq!(relay_state.value, "abc");
}

#[test]
fn request_name_id_format_rejected() {
    let url = format!("https://idp.example.com/saml/amion/sso?SAMLRequest={}", redirect_value(AUTHN_REQUEST));
    let inspection = inspect_message(&url);
    assert!(inspection.headline.starts_with("AuthnRequest: rejected: NameIDPolicy Format \"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" is not supported"), "{}", inspection.headline);
    assert!(inspection.checks[0].detail.ends_with("status urn:oasis:names:tc:SAML:2.0:status:Requester"), "{}", inspection.checks[0].detail);
}

#[test]
fn request_redirect_value_decoded() {
    let email = AUTHN_REQUEST.replace("nameid-format:persistent", "nameid-format:emailAddress").replace("SAML:2.0:nameid", "SAML:1.1:nameid");
    let value = redirect_value(&email).replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
    let inspection = inspect_message(&value);
    assert_eq!(inspection.headline, "AuthnRequest: accepted");
    assert_eq!(inspection.binding, Some("redirect"));
}

#[test]
fn request_post_value_decoded() {
    let inspection = inspect_message(&STANDARD.encode(AUTHN_REQUEST));
    assert_eq!(inspection.binding, Some("post"));
    assert_eq!(inspection.requested_name_id_format.as_deref(), Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
}

#[test]
fn request_unknown_issuer_rejected() {
    let other = AUTHN_REQUEST.replace("https://sp.example.com/saml<", "https://evil.example.com<");
    let inspection = inspect_message(&other);
    assert!(inspection.headline.starts_with("AuthnRequest: rejected: "), "{}", inspection.headline);
    assert_eq!(failed_checks(&inspection), ["request"]);
    let issuer = inspection.fields.iter().find(|f| f.label == "Issuer").unwrap();
    assert_eq!(issuer.value, "https://evil.example.com", "fields are shown for rejected requests too");
}

#[test]
fn message_other_document_rejected() {
    let request = InspectRequest { message: "<html/>".into(), certificate_pem: None, now: NOW.into(), config: None, app: None, sp_private_key_pem: SecretPem::default() };
    let error = inspect(&request).unwrap_err().to_string();
    assert!(error.contains("the document element is <html>"), "{error}");
}

#[test]
fn message_garbage_rejected() {
    let request = InspectRequest { message: "not saml!".into(), certificate_pem: None, now: NOW.into(), config: None, app: None, sp_private_key_pem: SecretPem::default() };
    let error = inspect(&request).unwrap_err().to_string();
    assert!(error.contains("is not XML, a URL or valid base64"), "{error}");
}

#[test]
fn message_empty_rejected() {
    let request = InspectRequest { message: "  ".into(), certificate_pem: None, now: NOW.into(), config: None, app: None, sp_private_key_pem: SecretPem::default() };
    let error = inspect(&request).unwrap_err().to_string();
    assert!(error.contains("the message is empty"), "{error}");
}
