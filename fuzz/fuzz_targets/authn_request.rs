//! Decodes arbitrary text as an HTTP-Redirect query string or an HTTP-POST form body and
//! checks it against a fixed app policy with the test-only SP certificate.
#![no_main]

use edgeidp::saml::authn_request::{decode_post, decode_redirect, DecodeLimits, RequestPolicy};
use edgeidp::saml::keys::X509;
use libfuzzer_sys::fuzz_target;

const CERTIFICATE: &str = include_str!("../../tests/fixtures/authn_requests/sp.cert.pem");

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let limits = DecodeLimits::default();
    let encoded = if flags & 1 == 0 { decode_redirect(text, &limits) } else { decode_post(text, &limits) };
    let Ok(encoded) = encoded else { return };
    let policy = RequestPolicy {
        sp_entity_id: "https://sp.example.test/metadata".into(),
        acs_urls: vec!["https://sp.example.test/acs".into()],
        default_acs_url: "https://sp.example.test/acs".into(),
        sso_url: "http://127.0.0.1:10000/saml/amion/sso".into(),
        now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        max_skew_seconds: u64::MAX,
        require_signature: flags & 2 != 0,
        sp_certificate: X509::from_pem(CERTIFICATE).ok(),
        allow_sha1: flags & 4 != 0,
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        authn_context_class_ref: Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into()),
    };
    let _ = encoded.check(&policy, &limits);
});
