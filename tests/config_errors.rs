//! Every configuration error names the JSON path of the value at fault.

mod support;

use edgeidp::config::Config;
use serde_json::{json, Value};
use support::*;

/// Applies `mutate` to the reference configuration and returns the error message.
fn error_for(mutate: impl FnOnce(&mut Value)) -> String {
    let mut config = reference_config_json();
    mutate(&mut config);
    let json = serde_json::to_vec(&config).expect("serializes");
    match Config::from_json(&json, NOW) {
        Ok(_) => panic!("the configuration should have been rejected"),
        Err(e) => e.to_string(),
    }
}

fn assert_names(message: &str, path: &str) {
    assert!(message.starts_with(&format!("{path}: ")), "expected the message to start with {path:?}: {message}");
}

#[test]
fn reference_configuration_loads() {
    let config = load_config(&reference_config_json());
    assert_eq!(config.apps.len(), 2);
}

#[test]
fn acs_url_not_https() {
    let message = error_for(|c| c["apps"]["amion"]["acs_urls"][0] = json!("http://sp.example.test/acs"));
    assert_names(&message, "apps.amion.acs_urls[0]");
    assert!(message.contains("not an absolute https URL"), "{message}");
}

#[test]
fn acs_url_relative() {
    let message = error_for(|c| c["apps"]["amion"]["acs_urls"][0] = json!("/acs"));
    assert_names(&message, "apps.amion.acs_urls[0]");
}

#[test]
fn acs_urls_empty() {
    let message = error_for(|c| c["apps"]["amion"]["acs_urls"] = json!([]));
    assert_names(&message, "apps.amion.acs_urls");
}

#[test]
fn default_acs_url_not_listed() {
    let message = error_for(|c| c["apps"]["amion"]["default_acs_url"] = json!("https://other.test/acs"));
    assert_names(&message, "apps.amion.default_acs_url");
}

#[test]
fn unknown_field() {
    let message = error_for(|c| c["apps"]["amion"]["acs_url"] = json!("https://sp.example.test/acs"));
    assert_names(&message, "apps.amion.acs_url");
    assert!(message.contains("unknown field `acs_url`"), "{message}");
}

#[test]
fn wrong_type() {
    let message = error_for(|c| c["apps"]["amion"]["attributes"][2]["value"] = json!(5));
    assert_names(&message, "apps.amion.attributes[2].value");
}

#[test]
fn missing_entity_id() {
    let message = error_for(|c| c["idp"]["entity_id"] = json!(" "));
    assert_names(&message, "idp.entity_id");
}

#[test]
fn base_url_with_query() {
    let message = error_for(|c| c["idp"]["base_url"] = json!("https://idp.test/?x=1"));
    assert_names(&message, "idp.base_url");
}

#[test]
fn private_key_not_pem() {
    let message = error_for(|c| c["idp"]["signing_key_pem"] = json!("not a key"));
    assert_names(&message, "idp.signing_key_pem");
    assert!(message.contains("PKCS#8"), "{message}");
}

#[test]
fn private_key_message_hides_key() {
    let key = read_fixture("keys/next.key.pem");
    let message = error_for(|c| c["idp"]["signing_key_pem"] = json!(key));
    let key_body_line = key.lines().nth(1).expect("PEM body");
    assert!(!message.contains(key_body_line), "the key must not be echoed: {message}");
}

#[test]
fn key_does_not_match_certificate() {
    let message = error_for(|c| c["idp"]["signing_key_pem"] = json!(read_fixture("keys/next.key.pem")));
    assert_names(&message, "idp.signing_key_pem");
    assert!(message.contains("does not belong to the certificate"), "{message}");
}

#[test]
fn pkcs1_key_accepted() {
    let mut config = reference_config_json();
    config["idp"]["signing_key_pem"] = json!(read_fixture("keys/idp.pkcs1.key.pem"));
    load_config(&config);
}

#[test]
fn key_too_small() {
    let message = error_for(|c| {
        c["idp"]["signing_key_pem"] = json!(read_fixture("keys/small.key.pem"));
        c["idp"]["certificate_pem"] = json!(read_fixture("keys/small.cert.pem"));
    });
    assert_names(&message, "idp.certificate_pem");
    assert!(message.contains("1024 bits"), "{message}");
}

#[test]
fn certificate_not_rsa() {
    let message = error_for(|c| c["idp"]["certificate_pem"] = json!(read_fixture("keys/ec.cert.pem")));
    assert_names(&message, "idp.certificate_pem");
    assert!(message.contains("not RSA"), "{message}");
}

#[test]
fn next_certificate_invalid() {
    let message = error_for(|c| c["idp"]["next_certificate_pem"] = json!("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"));
    assert_names(&message, "idp.next_certificate_pem");
}

#[test]
fn sha1_needs_legacy_switch() {
    let message = error_for(|c| c["idp"]["signature_algorithm"] = json!("rsa-sha1"));
    assert_names(&message, "idp.signature_algorithm");
    assert!(message.contains("allow_legacy_sha1"), "{message}");
    let message = error_for(|c| c["apps"]["doximity"]["digest_algorithm"] = json!("sha1"));
    assert_names(&message, "apps.doximity.digest_algorithm");
}

#[test]
fn sha1_allowed_with_legacy_switch() {
    let mut config = reference_config_json();
    config["idp"]["allow_legacy_sha1"] = json!(true);
    config["apps"]["amion"]["signature_algorithm"] = json!("rsa-sha1");
    config["apps"]["amion"]["digest_algorithm"] = json!("sha1");
    load_config(&config);
}

#[test]
fn unknown_algorithm() {
    let message = error_for(|c| c["apps"]["amion"]["signature_algorithm"] = json!("ecdsa-sha256"));
    assert_names(&message, "apps.amion.signature_algorithm");
}

#[test]
fn lifetime_out_of_range() {
    let message = error_for(|c| c["idp"]["assertion_lifetime_seconds"] = json!(0));
    assert_names(&message, "idp.assertion_lifetime_seconds");
    let message = error_for(|c| c["apps"]["amion"]["assertion_lifetime_seconds"] = json!(999_999));
    assert_names(&message, "apps.amion.assertion_lifetime_seconds");
}

#[test]
fn skew_negative() {
    let message = error_for(|c| c["idp"]["not_before_skew_seconds"] = json!(-5));
    assert_names(&message, "idp.not_before_skew_seconds");
}

#[test]
fn sign_unknown() {
    let message = error_for(|c| c["apps"]["amion"]["sign"] = json!("everything"));
    assert_names(&message, "apps.amion.sign");
}

#[test]
fn name_id_format_unknown() {
    let message = error_for(|c| c["apps"]["amion"]["name_id"]["format"] = json!("email"));
    assert_names(&message, "apps.amion.name_id.format");
}

#[test]
fn name_id_expression_invalid() {
    let message = error_for(|c| c["apps"]["amion"]["name_id"]["value"] = json!("user.email +"));
    assert_names(&message, "apps.amion.name_id.value");
    assert!(message.contains("position"), "{message}");
}

#[test]
fn attribute_expression_invalid() {
    let message = error_for(|c| c["apps"]["doximity"]["attributes"][3]["value"] = json!("(user.login"));
    assert_names(&message, "apps.doximity.attributes[3].value");
}

#[test]
fn attribute_name_format_unknown() {
    let message = error_for(|c| c["apps"]["amion"]["attributes"][0]["name_format"] = json!("URI"));
    assert_names(&message, "apps.amion.attributes[0].name_format");
}

#[test]
fn attribute_name_empty() {
    let message = error_for(|c| c["apps"]["amion"]["attributes"][1]["name"] = json!(""));
    assert_names(&message, "apps.amion.attributes[1].name");
}

#[test]
fn attribute_duplicate() {
    let message = error_for(|c| c["apps"]["amion"]["attributes"][4]["name"] = json!("email"));
    assert_names(&message, "apps.amion.attributes[4].name");
}

#[test]
fn missing_value_unknown() {
    let message = error_for(|c| c["apps"]["amion"]["missing_value"] = json!("skip"));
    assert_names(&message, "apps.amion.missing_value");
}

#[test]
fn app_name_not_url_safe() {
    let message = error_for(|c| {
        let app = c["apps"]["amion"].take();
        c["apps"]["am ion"] = app;
        c["apps"].as_object_mut().expect("apps").remove("amion");
    });
    assert_names(&message, "apps.am ion");
}

#[test]
fn saml_prefix_trailing_slash() {
    let message = error_for(|c| c["saml_prefix"] = json!("/saml/"));
    assert_names(&message, "saml_prefix");
}

#[test]
fn signed_requests_need_certificate() {
    let message = error_for(|c| c["apps"]["amion"]["authn_requests_signed"] = json!(true));
    assert_names(&message, "apps.amion.sp_certificate_pem");
}

#[test]
fn relay_state_too_long() {
    let message = error_for(|c| c["apps"]["amion"]["default_relay_state"] = json!("x".repeat(5000)));
    assert_names(&message, "apps.amion.default_relay_state");
}

#[test]
fn login_url_invalid() {
    let message = error_for(|c| c["apps"]["amion"]["login_url"] = json!("login"));
    assert_names(&message, "apps.amion.login_url");
}

#[test]
fn not_json() {
    let message = match Config::from_json(b"{\"idp\": ", NOW) {
        Ok(_) => panic!("truncated JSON must be rejected"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("EOF"), "{message}");
}

#[test]
fn expired_certificate_warns() {
    let config = reference_config_json();
    let json = serde_json::to_vec(&config).expect("serializes");
    let far_future = NOW + time::Duration::days(365 * 200);
    let (_, warnings) = Config::from_json(&json, far_future).expect("an expired certificate only warns");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].path, "idp.certificate_pem");
    assert!(warnings[0].message.contains("expired"), "{}", warnings[0]);
}

#[test]
fn signing_key_from_environment() {
    let mut config = reference_config_json();
    let key = config["idp"]["signing_key_pem"].take();
    config["idp"].as_object_mut().expect("idp").remove("signing_key_pem");
    config["idp"]["signing_key_env"] = json!("EDGEIDP_TEST_SIGNING_KEY_FROM_ENV");
    std::env::set_var("EDGEIDP_TEST_SIGNING_KEY_FROM_ENV", key.as_str().expect("PEM string"));
    load_config(&config);
}

#[test]
fn signing_key_env_unset() {
    let message = error_for(|c| {
        c["idp"].as_object_mut().expect("idp").remove("signing_key_pem");
        c["idp"]["signing_key_env"] = json!("EDGEIDP_TEST_VARIABLE_THAT_IS_NOT_SET");
    });
    assert_names(&message, "idp.signing_key_env");
    assert!(message.contains("host_env_keys"), "{message}");
}

#[test]
fn signing_key_both_sources() {
    let message = error_for(|c| c["idp"]["signing_key_env"] = json!("EDGEIDP_SIGNING_KEY"));
    assert_names(&message, "idp.signing_key_env");
}

#[test]
fn signing_key_missing() {
    let message = error_for(|c| {
        c["idp"].as_object_mut().expect("idp").remove("signing_key_pem");
    });
    assert_names(&message, "idp.signing_key_pem");
}

#[test]
fn missing_required_field_named() {
    let message = error_for(|c| {
        c["apps"]["amion"].as_object_mut().expect("app").remove("sp_entity_id");
    });
    assert_names(&message, "apps.amion.sp_entity_id");
    assert!(message.contains("missing field"), "{message}");
}
