//! IdP metadata is schema-valid, complete and stable.

mod support;

use edgeidp::saml::metadata::{build_app_metadata, build_metadata};
use serde_json::json;
use support::*;

#[test]
fn metadata_validates_against_schema() {
    let config = load_config(&reference_config_json());
    let xml = build_metadata(&config, NOW);
    assert_eq!(xmllint_schema(&xml, "saml-schema-metadata-2.0.xsd"), Ok(()));
}

#[test]
fn metadata_with_rollover_and_validity_validates() {
    let mut value = reference_config_json();
    value["idp"]["next_certificate_pem"] = json!(read_fixture("keys/next.cert.pem"));
    value["idp"]["metadata_valid_seconds"] = json!(86400 * 7);
    value["idp"]["metadata_cache_duration_seconds"] = json!(3600);
    value["idp"]["want_authn_requests_signed"] = json!(true);
    let config = load_config(&value);
    let xml = build_metadata(&config, NOW);
    assert_eq!(xmllint_schema(&xml, "saml-schema-metadata-2.0.xsd"), Ok(()));
    assert_eq!(xml.matches("<md:KeyDescriptor use=\"signing\">").count(), 2, "current and next keys");
    assert!(xml.contains("validUntil=\"2026-12-11T12:00:00Z\""), "{xml}");
    assert!(xml.contains("cacheDuration=\"PT3600S\""));
    assert!(xml.contains("WantAuthnRequestsSigned=\"true\""));
}

#[test]
fn metadata_lists_endpoints_and_formats() {
    let config = load_config(&reference_config_json());
    let xml = build_metadata(&config, NOW);
    assert!(xml.contains("entityID=\"https://idp.example.test/saml/metadata\""));
    for app in ["amion", "doximity"] {
        for binding in ["HTTP-Redirect", "HTTP-POST"] {
            let endpoint = format!(
                "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"https://idp.example.test/saml/{app}/sso\""
            );
            assert!(xml.contains(&endpoint), "missing {endpoint}");
        }
    }
    assert!(xml.contains("<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"));
    let certificate_body: String = read_fixture("keys/idp.cert.pem").lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(xml.contains(&certificate_body), "the signing certificate is published");
}

#[test]
fn app_metadata_lists_only_that_app() {
    let config = load_config(&reference_config_json());
    let xml = build_app_metadata(&config, "doximity", NOW);
    assert_eq!(xmllint_schema(&xml, "saml-schema-metadata-2.0.xsd"), Ok(()));
    assert!(xml.contains("/saml/doximity/sso"));
    assert!(!xml.contains("/saml/amion/sso"));
}

#[test]
fn metadata_is_stable() {
    let first = build_metadata(&load_config(&reference_config_json()), NOW);
    let later = build_metadata(&load_config(&reference_config_json()), NOW + time::Duration::hours(5));
    assert_eq!(first, later, "without validUntil the bytes do not depend on time");
}
