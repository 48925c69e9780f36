//! Property: random profiles build, sign and parse back to the same attribute values.

mod support;

use edgeidp::platform::FixedPlatform;
use edgeidp::saml::expression::Profile;
use edgeidp::saml::response::{build_response, Login};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;

/// Characters XML 1.0 can carry, with markup characters and whitespace well represented.
fn xml_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec!['<', '>', '&', '"', '\'', ']', ' ', '\t', '\n', '\r', 'é', '李', '😀']),
        5 => prop::char::range('a', 'z'),
        2 => any::<char>().prop_filter("XML 1.0 Char", |c| {
            matches!(*c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        }),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop::collection::vec(xml_char(), 1..24).prop_map(|chars| chars.into_iter().collect())
}

fn profile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => value_text().prop_map(Value::String),
        1 => prop::collection::vec(value_text(), 1..4).prop_map(|v| json!(v)),
        1 => any::<i32>().prop_map(|n| json!(n)),
    ]
}

fn values_of(xml: &str, name: &str) -> Vec<String> {
    let document = roxmltree::Document::parse(xml).expect("the Response parses");
    document
        .descendants()
        .filter(|n| n.has_tag_name("Attribute") && n.attribute("Name") == Some(name))
        .flat_map(|n| n.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or("").to_owned()))
        .collect()
}

fn expected_values(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        other => vec![other.to_string()],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn attributes_round_trip(values in prop::collection::vec(profile_value(), 1..6), seed in any::<[u8; 32]>()) {
        let mut config = reference_config_json();
        let mut profile = Profile::new();
        profile.insert("email".into(), json!("someone@example.test"));
        let mut attributes = Vec::new();
        for (i, value) in values.iter().enumerate() {
            profile.insert(format!("key{i}"), value.clone());
            attributes.push(json!({"name": format!("attribute {i}"), "value": format!("user.key{i}")}));
        }
        config["apps"]["amion"]["attributes"] = json!(attributes);
        let config = load_config(&config);
        let app = config.app("amion").expect("amion");
        let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant: None };
        let issued = build_response(&config.idp, &login, &mut FixedPlatform::new(NOW, seed)).expect("build");

        for (i, value) in values.iter().enumerate() {
            prop_assert_eq!(values_of(&issued.xml, &format!("attribute {i}")), expected_values(value));
        }
    }
}

#[test]
fn round_trip_signature_holds_for_awkward_values() {
    // One fixed awkward profile checked by xmlsec1, since the property test does not shell out.
    let mut config = reference_config_json();
    config["apps"]["amion"]["attributes"] = json!([{"name": "v", "value": "user.v"}]);
    let config = load_config(&config);
    let app = config.app("amion").expect("amion");
    let mut profile = Profile::new();
    profile.insert("email".into(), json!("x@example.test"));
    profile.insert("v".into(), json!(["\r\n\t <&>\"' ]]> ", "😀\u{FFFD}"]));
    let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant: None };
    let issued = build_response(&config.idp, &login, &mut FixedPlatform::new(NOW, SEED)).expect("build");
    assert_eq!(values_of(&issued.xml, "v"), vec!["\r\n\t <&>\"' ]]> ", "😀\u{FFFD}"]);
    assert_eq!(xmlsec_verify(&issued.xml, &read_fixture("keys/idp.cert.pem"), &issued.assertion_id), Ok(()));
    assert_eq!(xmlsec_verify(&issued.xml, &read_fixture("keys/idp.cert.pem"), &issued.response_id), Ok(()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn concatenations_round_trip(first in value_text(), second in value_text(), separator in "[a-z|/ ]{0,3}") {
        let mut config = reference_config_json();
        let expression = format!("user.first + {} + String.toUpperCase(user.second)", serde_json::to_string(&separator).expect("literal"));
        config["apps"]["amion"]["attributes"] = json!([{"name": "joined", "value": expression}]);
        let config = load_config(&config);
        let app = config.app("amion").expect("amion");
        let mut profile = Profile::new();
        profile.insert("email".into(), json!("someone@example.test"));
        profile.insert("first".into(), json!(first));
        profile.insert("second".into(), json!(second));
        let login = Login { app, profile: &profile, acs_url: &app.default_acs_url, in_response_to: None, authn_instant: None };
        let issued = build_response(&config.idp, &login, &mut FixedPlatform::new(NOW, SEED)).expect("build");

        let expected = format!("{first}{separator}{}", second.to_uppercase());
        prop_assert_eq!(values_of(&issued.xml, "joined"), vec![expected]);
    }
}
