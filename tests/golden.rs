//! Golden Responses for the reference deployment, with a pinned clock and random seed.
//!
//! Set `UPDATE_GOLDEN=1` to rewrite the files after an intended change, and review the diff.

mod support;

use edgeidp::platform::FixedPlatform;
use edgeidp::saml::response::{build_response, Login};
use support::*;

fn check_golden(name: &str, actual: &str) {
    let path = fixtures().join("../golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    if expected != actual {
        let at = expected.bytes().zip(actual.bytes()).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
        let from = at.saturating_sub(60);
        panic!(
            "{name} differs at byte {at}\n expected …{}…\n   actual …{}…",
            expected.get(from..(at + 60).min(expected.len())).unwrap_or(""),
            actual.get(from..(at + 60).min(actual.len())).unwrap_or("")
        );
    }
}

fn reference_response(app_name: &str, in_response_to: Option<&str>) -> String {
    let config = load_config(&reference_config_json());
    let app = config.app(app_name).expect("reference app");
    let profile = reference_profile();
    let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to, authn_instant: None };
    let issued = build_response(&config.idp, &login, &mut FixedPlatform::new(NOW, SEED)).expect("build");
    assert_eq!(xmlsec_verify(&issued.xml, &read_fixture("keys/idp.cert.pem"), &issued.assertion_id), Ok(()));
    assert_eq!(xmlsec_verify(&issued.xml, &read_fixture("keys/idp.cert.pem"), &issued.response_id), Ok(()));
    issued.xml
}

#[test]
fn reference_amion_idp_initiated() {
    check_golden("reference_amion_idp_initiated.xml", &reference_response("amion", None));
}

#[test]
fn reference_amion_sp_initiated() {
    check_golden("reference_amion_sp_initiated.xml", &reference_response("amion", Some("_8f1c0a2b4d6e")));
}

#[test]
fn reference_attributes_are_the_five() {
    let xml = reference_response("doximity", None);
    let names: Vec<&str> = xml.split("<saml:Attribute Name=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert_eq!(names, ["email", "first_name", "last_name", "name", "jobTitle"]);
    assert!(xml.contains(">dreyes</saml:AttributeValue>"), "name is the login, not the display name");
    assert!(xml.contains(">Charge Nurse</saml:AttributeValue>"));
    assert!(xml.contains("Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">dana.reyes@example.test</saml:NameID>"));
}

#[test]
fn same_seed_same_bytes() {
    assert_eq!(reference_response("amion", None), reference_response("amion", None));
}
