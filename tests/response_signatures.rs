//! Every Response shape verifies with xmlsec1 and the IdP certificate, and any tampering
//! makes verification fail.

mod support;

use edgeidp::platform::FixedPlatform;
use edgeidp::saml::expression::Profile;
use edgeidp::saml::response::{build_response, IssuedResponse, Login};
use serde_json::json;
use support::*;

fn issue(sign: &str, in_response_to: Option<&str>, profile: &Profile) -> IssuedResponse {
    let mut config = reference_config_json();
    config["apps"]["amion"]["sign"] = json!(sign);
    let config = load_config(&config);
    let app = config.app("amion").expect("amion is configured");
    let login = Login { app, profile, acs_url: &app.default_acs_url, in_response_to, authn_instant: None };
    let mut platform = FixedPlatform::new(NOW, SEED);
    build_response(&config.idp, &login, &mut platform).unwrap_or_else(|e| panic!("build_response failed: {e}"))
}

fn tricky_profile() -> Profile {
    let value = json!({
        "email": "o'brien+<tag>&co@example.test",
        "firstName": "  Zoë \"Z\" ]]> ",
        "lastName": "Ñúñez-李",
        "login": "a]]>b</saml:AttributeValue><x>",
        "title": ["Charge Nurse", "Preceptor & Mentor", "<b>"]
    });
    value.as_object().cloned().expect("object literal")
}

fn cert() -> String {
    read_fixture("keys/idp.cert.pem")
}

fn parse_values(xml: &str, attribute: &str) -> Vec<String> {
    let document = roxmltree::Document::parse(xml).expect("the Response parses");
    document
        .descendants()
        .filter(|n| n.has_tag_name("Attribute") && n.attribute("Name") == Some(attribute))
        .flat_map(|n| n.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or("").to_owned()))
        .collect()
}

#[test]
fn assertion_signature_verifies() {
    let issued = issue("assertion", None, &reference_profile());
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.assertion_id), Ok(()));
    let response_reference = format!("<ds:Reference URI=\"#{}\"", issued.response_id);
    assert!(!issued.xml.contains(&response_reference), "only the Assertion is signed");
}

#[test]
fn response_signature_verifies() {
    let issued = issue("response", None, &reference_profile());
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.response_id), Ok(()));
    assert_eq!(issued.xml.matches("<ds:Signature ").count(), 1, "only the Response is signed");
}

#[test]
fn both_signatures_verify() {
    let issued = issue("both", None, &reference_profile());
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.assertion_id), Ok(()));
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.response_id), Ok(()));
    assert_eq!(issued.xml.matches("<ds:Signature ").count(), 2);
}

#[test]
fn solicited_response_carries_in_response_to() {
    let issued = issue("both", Some("_request-42"), &reference_profile());
    assert_eq!(issued.xml.matches("InResponseTo=\"_request-42\"").count(), 2, "Response and SubjectConfirmationData");
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.assertion_id), Ok(()));
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.response_id), Ok(()));
}

#[test]
fn unsolicited_response_has_no_in_response_to() {
    let issued = issue("both", None, &reference_profile());
    assert!(!issued.xml.contains("InResponseTo"), "the attribute must be absent, not empty");
}

#[test]
fn metacharacters_survive_signing_and_parse_back() {
    let profile = tricky_profile();
    for sign in ["assertion", "response", "both"] {
        let issued = issue(sign, Some("_r\"<&>"), &profile);
        let id = if sign == "response" { &issued.response_id } else { &issued.assertion_id };
        assert_eq!(xmlsec_verify(&issued.xml, &cert(), id), Ok(()), "sign = {sign}");
        assert_eq!(parse_values(&issued.xml, "email"), vec!["o'brien+<tag>&co@example.test"]);
        assert_eq!(parse_values(&issued.xml, "first_name"), vec!["  Zoë \"Z\" ]]> "], "spaces are kept");
        assert_eq!(parse_values(&issued.xml, "last_name"), vec!["Ñúñez-李"]);
        assert_eq!(parse_values(&issued.xml, "name"), vec!["a]]>b</saml:AttributeValue><x>"]);
    }
}

#[test]
fn list_values_become_multivalued_attribute() {
    let issued = issue("both", None, &tricky_profile());
    assert_eq!(parse_values(&issued.xml, "jobTitle"), vec!["Charge Nurse", "Preceptor & Mentor", "<b>"]);
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.assertion_id), Ok(()));
}

#[test]
fn tampered_attribute_fails_both_signatures() {
    let issued = issue("both", None, &reference_profile());
    let tampered = issued.xml.replace("Charge Nurse", "Chief Surgeon");
    assert_ne!(tampered, issued.xml);
    assert!(xmlsec_verify(&tampered, &cert(), &issued.assertion_id).is_err(), "assertion signature must fail");
    assert!(xmlsec_verify(&tampered, &cert(), &issued.response_id).is_err(), "response signature must fail");
}

#[test]
fn tampered_name_id_fails() {
    let issued = issue("assertion", None, &reference_profile());
    let tampered = issued.xml.replace(">dana.reyes@example.test<", ">eve@example.test<");
    assert_ne!(tampered, issued.xml);
    assert!(xmlsec_verify(&tampered, &cert(), &issued.assertion_id).is_err());
}

#[test]
fn other_certificate_fails() {
    let issued = issue("both", None, &reference_profile());
    let other = read_fixture("keys/next.cert.pem");
    assert!(xmlsec_verify(&issued.xml, &other, &issued.assertion_id).is_err());
}

#[test]
fn sha512_signature_verifies() {
    let mut config = reference_config_json();
    config["apps"]["amion"]["signature_algorithm"] = json!("rsa-sha512");
    config["apps"]["amion"]["digest_algorithm"] = json!("sha512");
    let config = load_config(&config);
    let app = config.app("amion").expect("amion");
    let profile = reference_profile();
    let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant: None };
    let issued = build_response(&config.idp, &login, &mut FixedPlatform::new(NOW, SEED)).expect("build");
    assert!(issued.xml.contains("xmldsig-more#rsa-sha512"));
    assert!(issued.xml.contains("xmlenc#sha512"));
    assert_eq!(xmlsec_verify(&issued.xml, &cert(), &issued.response_id), Ok(()));
}

#[test]
fn response_validates_against_protocol_schema() {
    let issued = issue("both", Some("_abc"), &tricky_profile());
    assert_eq!(xmllint_schema(&issued.xml, "saml-schema-protocol-2.0.xsd"), Ok(()));
}
