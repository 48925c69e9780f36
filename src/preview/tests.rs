use std::sync::OnceLock;

use serde_json::json;
use time::macros::datetime;

use super::*;

pub(crate) const NOW: &str = "2026-01-02T03:04:05Z";
pub(crate) const SEED: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Returns one key shared by every test, because RSA key generation is slow in debug builds.
pub(crate) fn key() -> &'static NewKey {
    static KEY: OnceLock<NewKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut platform = FixedPlatform::new(datetime!(2026-01-01 00:00 UTC), [7; 32]);
        let request = KeyRequest { bits: 2048, common_name: "preview test".into(), now: "2026-01-01T00:00:00Z".into(), days: 365 };
        generate_key(&request, &mut platform).unwrap()
    })
}

pub(crate) fn config() -> serde_json::Value {
    let key = key();
    json!({
        "idp": {
            "entity_id": "https://idp.example.com/saml/metadata",
            "base_url": "https://idp.example.com",
            "signing_key_pem": key.private_key_pem,
            "certificate_pem": key.certificate_pem,
        },
        "apps": {
            "amion": {
                "sp_entity_id": "https://sp.example.com/saml",
                "acs_urls": ["https://sp.example.com/saml/acs"],
                "default_relay_state": "{\"redirect_to\":\"https://www.amion.com/organizations\"}",
                "attributes": [
                    {"name": "email", "value": "user.email"},
                    {"name": "jobTitle", "value": "user.Title"},
                ],
            },
        },
    })
}

pub(crate) fn request() -> PreviewRequest {
    PreviewRequest {
        config: config(),
        app: "amion".into(),
        profile: json!({"email": "jane@example.com", "title": "Nurse"}).as_object().unwrap().clone(),
        now: NOW.into(),
        seed: Some(SEED.into()),
        acs_url: None,
        in_response_to: None,
        relay_state: None,
        requested_name_id_format: None,
    }
}

fn codes(preview: &Preview) -> Vec<&'static str> {
    preview.warnings.iter().map(|w| w.code).collect()
}

#[test]
fn preview_reads_attributes_back() {
    let preview = preview(&request()).unwrap();
    let names: Vec<&str> = preview.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["email", "jobTitle"]);
    assert_eq!(preview.attributes[1].values, ["Nurse"]);
}

#[test]
fn preview_seeded_is_reproducible() {
    let first = preview(&request()).unwrap();
    let second = preview(&request()).unwrap();
    assert_eq!(first.xml, second.xml, "the same seed and time must sign the same bytes");
}

#[test]
fn preview_unseeded_differs() {
    let mut unseeded = request();
    unseeded.seed = None;
    let first = preview(&unseeded).unwrap();
    let second = preview(&unseeded).unwrap();
    assert_ne!(first.response_id, second.response_id, "fresh randomness must give fresh IDs");
}

#[test]
fn preview_sizes_match_outputs() {
    let preview = preview(&request()).unwrap();
    assert_eq!(preview.sizes.xml, preview.xml.len());
    assert_eq!(preview.sizes.base64, preview.base64.len());
    assert_eq!(preview.sizes.relay_state, 53);
}

#[test]
fn preview_readable_is_not_signed_bytes() {
    let preview = preview(&request()).unwrap();
    assert_ne!(preview.readable_xml, preview.xml);
    assert!(preview.readable_xml.starts_with("<samlp:Response "), "{}", preview.readable_xml);
    assert!(preview.readable_xml.contains("\n  <saml:Issuer"), "{}", preview.readable_xml);
}

#[test]
fn preview_form_posts_relay_state() {
    let preview = preview(&request()).unwrap();
    assert!(preview.post_form_html.contains("action=\"https://sp.example.com/saml/acs\""));
    assert!(preview.post_form_html.contains("name=\"RelayState\" value=\"{&quot;redirect_to&quot;"));
}

#[test]
fn preview_reference_deployment_has_no_warnings() {
    let preview = preview(&request()).unwrap();
    assert!(preview.warnings.is_empty(), "{:?}", preview.warnings);
}

#[test]
fn warning_long_relay_state() {
    let mut long = request();
    long.relay_state = Some("x".repeat(81));
    let preview = preview(&long).unwrap();
    assert_eq!(codes(&preview), ["relay_state_length"]);
}

#[test]
fn warning_relay_state_at_limit() {
    let mut at_limit = request();
    at_limit.relay_state = Some("x".repeat(80));
    let preview = preview(&at_limit).unwrap();
    assert!(codes(&preview).is_empty(), "80 bytes is within the limit");
}

#[test]
fn warning_empty_attribute() {
    let mut missing = request();
    missing.profile.remove("title");
    let preview = preview(&missing).unwrap();
    assert_eq!(codes(&preview), ["attribute_empty"]);
    assert!(preview.warnings[0].message.contains("\"user.Title\""), "{}", preview.warnings[0].message);
    assert_eq!(preview.omitted_attributes, ["jobTitle"]);
}

#[test]
fn warning_name_id_format_mismatch() {
    let mut persistent = request();
    persistent.requested_name_id_format = Some("persistent".into());
    let preview = preview(&persistent).unwrap();
    assert_eq!(codes(&preview), ["name_id_format"]);
}

#[test]
fn warning_name_id_unspecified_request() {
    let mut unspecified = request();
    unspecified.requested_name_id_format = Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".into());
    let preview = preview(&unspecified).unwrap();
    assert!(codes(&preview).is_empty(), "an unspecified request accepts any format");
}

#[test]
fn warning_sha1_selected() {
    let mut sha1 = request();
    sha1.config["idp"]["allow_legacy_sha1"] = json!(true);
    sha1.config["apps"]["amion"]["signature_algorithm"] = json!("rsa-sha1");
    let preview = preview(&sha1).unwrap();
    assert_eq!(codes(&preview), ["sha1"]);
}

#[test]
fn warning_certificate_expiring() {
    let mut late = request();
    late.now = "2026-12-15T00:00:00Z".into();
    let preview = preview(&late).unwrap();
    assert_eq!(codes(&preview), ["certificate_expiring"]);
}

#[test]
fn warning_certificate_expired() {
    let mut expired = request();
    expired.now = "2027-02-01T00:00:00Z".into();
    let preview = preview(&expired).unwrap();
    assert_eq!(codes(&preview), ["config"]);
}

#[test]
fn error_names_config_path() {
    let mut invalid = request();
    invalid.config["apps"]["amion"]["acs_urls"] = json!(["ftp://sp.example.com/acs"]);
    let error = preview(&invalid).unwrap_err().to_string();
    assert!(error.contains("apps.amion.acs_urls[0]"), "{error}");
}

#[test]
fn error_unknown_app() {
    let mut unknown = request();
    unknown.app = "nope".into();
    let error = preview(&unknown).unwrap_err().to_string();
    assert!(error.contains("known apps: amion"), "{error}");
}

#[test]
fn error_bad_seed() {
    let mut bad = request();
    bad.seed = Some("12".into());
    let error = preview(&bad).unwrap_err().to_string();
    assert!(error.starts_with("seed: \"12\""), "{error}");
}

#[test]
fn error_bad_time() {
    let mut bad = request();
    bad.now = "yesterday".into();
    let error = preview(&bad).unwrap_err().to_string();
    assert!(error.starts_with("now: \"yesterday\""), "{error}");
}

#[test]
fn error_hides_private_key() {
    let mut bad = request();
    bad.config["idp"]["signing_key_pem"] = json!("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----");
    let error = preview(&bad).unwrap_err().to_string();
    assert!(!error.contains("c2VjcmV0"), "{error}");
}

#[test]
fn certificate_info_reads_expiry() {
    let info = certificate_info(&key().certificate_pem).unwrap();
    assert_eq!(info.not_after, "2027-01-01T00:00:00Z");
    assert_eq!(info.modulus_bits, 2048);
}

#[test]
fn preview_encrypted_shows_sent_attributes() {
    let mut encrypted = request();
    encrypted.config["apps"]["amion"]["encryption"] = json!({
        "certificate_pem": include_str!("../../tests/fixtures/keys/sp.cert.pem"),
    });
    let preview = preview(&encrypted).unwrap();
    assert!(preview.xml.contains("<saml:EncryptedAssertion"), "the app encrypts");
    assert!(!preview.xml.contains("jane@example.com"), "the NameID must not appear in clear");
    assert_eq!(preview.attributes.len(), 2);
    assert_eq!(preview.name_id.as_ref().unwrap().value, "jane@example.com");
    assert_eq!(codes(&preview), ["encrypted"]);
}
