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
        sp_private_key_pem: SecretPem::default(),
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

const SP_CERTIFICATE: &str = include_str!("../../tests/fixtures/keys/sp.cert.pem");
const SP_KEY: &str = include_str!("../../tests/fixtures/keys/sp.key.pem");
/// An RSA key that is not the SP's.
const OTHER_KEY: &str = include_str!("../../tests/fixtures/keys/next.key.pem");
/// A P-256 key in PKCS#8.
const EC_KEY: &str = include_str!("../../tests/fixtures/keys/ec.key.pem");

/// The preview request with `apps.amion` encrypting to the SP fixture certificate.
fn encrypted_request() -> PreviewRequest {
    let mut encrypted = request();
    encrypted.config["apps"]["amion"]["encryption"] = json!({ "certificate_pem": SP_CERTIFICATE });
    encrypted
}

fn with_sp_key(mut request: PreviewRequest, pem: &str) -> PreviewRequest {
    request.sp_private_key_pem = SecretPem::new(pem.to_owned());
    request
}

fn warning<'a>(preview: &'a Preview, code: &str) -> &'a Warning {
    preview.warnings.iter().find(|w| w.code == code).unwrap_or_else(|| panic!("no {code:?} warning in {:?}", preview.warnings))
}

/// Returns the base64 body of the key's PEM, which no output may contain.
fn key_body(pem: &str) -> String {
    pem.lines().filter(|line| !line.starts_with("-----")).collect()
}

#[test]
fn preview_encrypted_shows_sent_attributes() {
    let preview = preview(&encrypted_request()).unwrap();
    assert!(preview.xml.contains("<saml:EncryptedAssertion"), "the app encrypts");
    assert!(!preview.xml.contains("jane@example.com"), "the NameID must not appear in clear");
    assert_eq!(preview.attributes.len(), 2);
    assert_eq!(preview.name_id.as_ref().unwrap().value, "jane@example.com");
    assert_eq!(codes(&preview), ["encrypted"]);
    assert!(preview.warnings[0].message.contains("paste the SP's private key (sp_private_key_pem)"), "{}", preview.warnings[0].message);
    assert!(preview.decrypted.is_none(), "nothing is decrypted without a key");
}

#[test]
fn decrypt_right_key_reads_back() {
    let preview = preview(&with_sp_key(encrypted_request(), SP_KEY)).unwrap();
    let decrypted = preview.decrypted.as_ref().expect("the SP key decrypts the Assertion");
    assert!(decrypted.readable_assertion.starts_with("<saml:Assertion "), "{}", decrypted.readable_assertion);
    assert!(decrypted.readable_assertion.contains("jane@example.com"), "the decrypted Assertion carries the NameID");
    assert_eq!(decrypted.content_algorithm, "aes256-gcm");
    assert_eq!(preview.name_id.as_ref().unwrap().value, "jane@example.com");
    assert_eq!(preview.attributes[1].values, ["Nurse"]);
}

#[test]
fn decrypt_right_key_signature_ok() {
    let preview = preview(&with_sp_key(encrypted_request(), SP_KEY)).unwrap();
    let decrypted = preview.decrypted.as_ref().unwrap();
    assert!(decrypted.content_verified, "{decrypted:?}");
    assert_eq!(decrypted.assertion_signature, "valid (rsa-sha256 with sha256 digest)");
    assert_eq!(decrypted.response_signature, "valid (rsa-sha256 with sha256 digest)");
    assert!(decrypted.verdict.starts_with("Signature check passed"), "{}", decrypted.verdict);
}

#[test]
fn decrypt_right_key_changes_warning() {
    let preview = preview(&with_sp_key(encrypted_request(), SP_KEY)).unwrap();
    assert_eq!(codes(&preview), ["encrypted"], "a decrypted Response the SP accepts has only the note");
    assert!(preview.warnings[0].message.contains("read back after decrypting it with sp_private_key_pem"), "{}", preview.warnings[0].message);
}

#[test]
fn decrypt_response_signed_only() {
    let mut request = with_sp_key(encrypted_request(), SP_KEY);
    request.config["apps"]["amion"]["sign"] = json!("response");
    let preview = preview(&request).unwrap();
    let decrypted = preview.decrypted.as_ref().unwrap();
    assert_eq!(decrypted.assertion_signature, "absent");
    assert!(decrypted.content_verified, "the Response signature covers the ciphertext");
}

#[test]
fn decrypt_encrypted_name_id() {
    let mut request = with_sp_key(encrypted_request(), SP_KEY);
    request.config["apps"]["amion"]["encryption"]["encrypt_name_id"] = json!(true);
    let preview = preview(&request).unwrap();
    let decrypted = preview.decrypted.as_ref().unwrap();
    assert!(decrypted.readable_assertion.contains("<saml:EncryptedID>"), "{}", decrypted.readable_assertion);
    assert!(decrypted.readable_name_id.as_deref().unwrap_or_default().contains("jane@example.com"));
    assert_eq!(preview.name_id.as_ref().unwrap().value, "jane@example.com", "the NameID is read from the EncryptedID");
    assert!(decrypted.content_verified);
}

#[test]
fn decrypt_wrong_key_names_field() {
    let preview = preview(&with_sp_key(encrypted_request(), OTHER_KEY)).unwrap();
    let warning = warning(&preview, "decryption");
    assert_eq!(warning.field, "sp_private_key_pem");
    assert!(warning.message.starts_with("the private key does not belong to apps.amion.encryption.certificate_pem"), "{}", warning.message);
    assert!(preview.decrypted.is_none(), "nothing is decrypted with a wrong key");
}

#[test]
fn decrypt_wrong_key_keeps_sent_values() {
    let preview = preview(&with_sp_key(encrypted_request(), OTHER_KEY)).unwrap();
    assert_eq!(codes(&preview), ["encrypted", "decryption"]);
    assert_eq!(preview.name_id.as_ref().unwrap().value, "jane@example.com", "the values built are still shown");
}

#[test]
fn decrypt_not_rsa_key() {
    let preview = preview(&with_sp_key(encrypted_request(), EC_KEY)).unwrap();
    let message = &warning(&preview, "decryption").message;
    assert!(message.starts_with("the key is not an RSA key (its PKCS#8 algorithm is 1.2.840.10045.2.1)"), "{message}");
}

#[test]
fn decrypt_not_a_key() {
    let preview = preview(&with_sp_key(encrypted_request(), "my password")).unwrap();
    let message = &warning(&preview, "decryption").message;
    assert!(message.starts_with("not an RSA private key in PEM"), "{message}");
}

#[test]
fn decrypt_messages_hide_key() {
    let body = key_body(OTHER_KEY);
    let request = with_sp_key(encrypted_request(), OTHER_KEY);
    let debug = format!("{request:?}");
    let preview = preview(&request).unwrap();
    let json = serde_json::to_string(&preview).unwrap();
    assert!(!json.contains(&body[..40]), "the preview output must not contain the key");
    assert!(!debug.contains(&body[..40]), "the request's Debug output must not contain the key");
}

#[test]
fn decrypt_blank_key_ignored() {
    let preview = preview(&with_sp_key(encrypted_request(), " \n ")).unwrap();
    assert_eq!(codes(&preview), ["encrypted"], "a blank field is no key");
}

#[test]
fn decrypt_key_unencrypted_app() {
    let preview = preview(&with_sp_key(request(), SP_KEY)).unwrap();
    assert!(preview.warnings.is_empty(), "{:?}", preview.warnings);
    assert!(preview.decrypted.is_none());
}

/// Returns the inspection of `message` with the SP key `sp_key` and the test IdP certificate.
fn inspect_with_key(message: &str, sp_key: &str) -> Inspection {
    let request = InspectRequest {
        message: message.to_owned(),
        certificate_pem: Some(key().certificate_pem.clone()),
        now: NOW.to_owned(),
        config: Some(encrypted_request().config),
        app: Some("amion".to_owned()),
        sp_private_key_pem: SecretPem::new(sp_key.to_owned()),
    };
    inspect(&request).unwrap()
}

fn check<'a>(inspection: &'a Inspection, name: &str) -> &'a inspect::InspectCheck {
    inspection.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no {name:?} check in {:?}", inspection.checks))
}

#[test]
fn inspect_decrypts_with_key() {
    let xml = preview(&encrypted_request()).unwrap().xml;
    let inspection = inspect_with_key(&xml, SP_KEY);
    assert!(inspection.content_verified, "{:?}", inspection.checks);
    assert!(check(&inspection, "decryption").passed);
    assert_eq!(inspection.attributes[0].values, ["jane@example.com"]);
    assert!(inspection.decrypted.as_ref().unwrap().readable_assertion.contains("jane@example.com"));
}

#[test]
fn inspect_wrong_key_fails_decryption() {
    let xml = preview(&encrypted_request()).unwrap().xml;
    let inspection = inspect_with_key(&xml, OTHER_KEY);
    let decryption = check(&inspection, "decryption");
    assert!(!decryption.passed);
    assert!(decryption.detail.starts_with("sp_private_key_pem: the EncryptedAssertion could not be decrypted: RSA-OAEP decryption of the EncryptedKey failed"), "{}", decryption.detail);
    assert!(inspection.decrypted.is_none());
}

#[test]
fn inspect_tampered_ciphertext_fails() {
    let xml = preview(&encrypted_request()).unwrap().xml;
    // The EncryptedData's own CipherValue is the last one: the EncryptedKey's comes first,
    // inside the EncryptedData's KeyInfo.
    let start = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len() + 40;
    let original = &xml[start..=start];
    let replacement = if original == "A" { "B" } else { "A" };
    let tampered = format!("{}{replacement}{}", &xml[..start], &xml[start + 1..]);
    let inspection = inspect_with_key(&tampered, SP_KEY);
    let decryption = check(&inspection, "decryption");
    assert!(!decryption.passed, "a modified ciphertext must not decrypt");
    assert!(decryption.detail.contains("aes256-gcm authentication failed"), "{}", decryption.detail);
    assert!(inspection.decrypted.is_none());
}

#[test]
fn inspect_encrypted_without_key() {
    let xml = preview(&encrypted_request()).unwrap().xml;
    let inspection = inspect_with_key(&xml, "");
    let field = inspection.fields.iter().find(|f| f.label == "EncryptedAssertion").unwrap();
    assert!(field.value.contains("paste the SP's private key (sp_private_key_pem)"), "{}", field.value);
    assert!(inspection.checks.iter().all(|c| c.name != "decryption"), "no key, no decryption check");
}
