//! The `apps.NAME.encryption` section: defaults, and every rejection names its field.

mod support;

use edgeidp::config::Config;
use edgeidp::saml::encryption::algorithm::{ContentAlgorithm, KeyTransport};
use edgeidp::saml::keys::X509;
use serde_json::{json, Value};
use support::*;

const PATH: &str = "apps.amion.encryption";

fn with_encryption(encryption: Value) -> Value {
    let mut config = reference_config_json();
    config["apps"]["amion"]["encryption"] = encryption;
    config
}

fn sp_certificate() -> String {
    read_fixture("keys/sp.cert.pem")
}

fn error_at(config: &Value, now: time::OffsetDateTime) -> String {
    let json = serde_json::to_vec(config).expect("serializes");
    match Config::from_json(&json, now) {
        Ok(_) => panic!("the configuration should have been rejected"),
        Err(e) => e.to_string(),
    }
}

fn error_for(encryption: Value) -> String {
    error_at(&with_encryption(encryption), NOW)
}

fn assert_names(message: &str, path: &str) {
    assert!(message.starts_with(&format!("{path}: ")), "expected the message to start with {path:?}: {message}");
}

#[test]
fn defaults_apply() {
    let config = load_config(&with_encryption(json!({"certificate_pem": sp_certificate()})));
    let encryption = config.app("amion").and_then(|app| app.encryption.as_ref()).expect("encryption is configured");
    assert_eq!(encryption.content_algorithm, ContentAlgorithm::Aes256Gcm);
    assert_eq!(encryption.key_transport, KeyTransport::RsaOaepMgf1p);
    assert!(!encryption.encrypt_name_id, "the NameID is not encrypted by default");
    assert!(encryption.include_certificate, "the certificate is in KeyInfo by default");
    assert_eq!(encryption.key_name, None);
}

#[test]
fn section_absent_means_no_encryption() {
    let config = load_config(&reference_config_json());
    assert!(config.app("amion").and_then(|app| app.encryption.as_ref()).is_none());
}

#[test]
fn every_algorithm_loads_by_name_and_uri() {
    for (content, transport) in support::encryption::algorithm_pairs() {
        for (content_name, transport_name) in [(content.name(), transport.name()), (content.uri(), transport.uri())] {
            let config = load_config(&with_encryption(json!({
                "certificate_pem": sp_certificate(),
                "content_algorithm": content_name,
                "key_transport": transport_name
            })));
            let encryption = config.app("amion").and_then(|app| app.encryption.clone()).expect("configured");
            assert_eq!((encryption.content_algorithm, encryption.key_transport), (content, transport));
        }
    }
}

#[test]
fn expired_certificate_rejected() {
    let not_after = X509::from_pem(&sp_certificate()).expect("fixture loads").not_after();
    let config = with_encryption(json!({"certificate_pem": sp_certificate()}));
    let message = error_at(&config, not_after + time::Duration::days(1));
    assert_names(&message, &format!("{PATH}.certificate_pem"));
    assert!(message.contains("has expired"), "{message}");
}

#[test]
fn certificate_expiring_soon_warns() {
    let not_after = X509::from_pem(&sp_certificate()).expect("fixture loads").not_after();
    let json = serde_json::to_vec(&with_encryption(json!({"certificate_pem": sp_certificate()}))).expect("serializes");
    let (_, warnings) = Config::from_json(&json, not_after - time::Duration::days(3)).expect("still valid");
    let paths: Vec<&str> = warnings.iter().map(|w| w.path.as_str()).collect();
    assert!(paths.contains(&"apps.amion.encryption.certificate_pem"), "{warnings:?}");
}

#[test]
fn non_rsa_certificate_rejected() {
    let message = error_for(json!({"certificate_pem": read_fixture("keys/ec.cert.pem")}));
    assert_names(&message, &format!("{PATH}.certificate_pem"));
    assert!(message.contains("not RSA"), "{message}");
}

#[test]
fn small_key_rejected() {
    let message = error_for(json!({"certificate_pem": read_fixture("keys/small.cert.pem")}));
    assert_names(&message, &format!("{PATH}.certificate_pem"));
    assert!(message.contains("1024 bits"), "{message}");
}

#[test]
fn certificate_not_pem_rejected() {
    let message = error_for(json!({"certificate_pem": "MIIB..."}));
    assert_names(&message, &format!("{PATH}.certificate_pem"));
}

#[test]
fn certificate_missing_rejected() {
    let message = error_for(json!({"content_algorithm": "aes256-gcm"}));
    assert_names(&message, &format!("{PATH}.certificate_pem"));
    assert!(message.contains("missing field"), "{message}");
}

#[test]
fn unknown_content_algorithm_rejected() {
    let message = error_for(json!({"certificate_pem": sp_certificate(), "content_algorithm": "aes192-gcm"}));
    assert_names(&message, &format!("{PATH}.content_algorithm"));
    assert!(message.contains("\"aes256-gcm\""), "the message lists the choices: {message}");
}

#[test]
fn rsa_1_5_rejected_with_reason() {
    for name in ["rsa-1_5", "http://www.w3.org/2001/04/xmlenc#rsa-1_5"] {
        let message = error_for(json!({"certificate_pem": sp_certificate(), "key_transport": name}));
        assert_names(&message, &format!("{PATH}.key_transport"));
        assert!(message.contains("padding-oracle"), "{message}");
    }
}

#[test]
fn unknown_key_transport_rejected() {
    let message = error_for(json!({"certificate_pem": sp_certificate(), "key_transport": "rsa-oaep-sha512"}));
    assert_names(&message, &format!("{PATH}.key_transport"));
    assert!(message.contains("\"rsa-oaep-mgf1p\""), "the message lists the choices: {message}");
}

#[test]
fn empty_key_name_rejected() {
    let message = error_for(json!({"certificate_pem": sp_certificate(), "key_name": " "}));
    assert_names(&message, &format!("{PATH}.key_name"));
}

#[test]
fn unknown_field_rejected() {
    let message = error_for(json!({"certificate_pem": sp_certificate(), "algorithm": "aes256-gcm"}));
    assert_names(&message, &format!("{PATH}.algorithm"));
}
