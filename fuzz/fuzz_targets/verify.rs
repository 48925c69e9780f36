//! Verifies every element of arbitrary text that carries a ds:Signature child, against the
//! test-only SP certificate, with and without SHA-1 allowed.
#![no_main]

use edgeidp::saml::keys::X509;
use edgeidp::saml::verify::{verify_if_signed, VerifyOptions};
use edgeidp::saml::xml::{Document, Limits};
use libfuzzer_sys::fuzz_target;

const CERTIFICATE: &str = include_str!("../../tests/fixtures/authn_requests/sp.cert.pem");

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else { return };
    let Ok(document) = Document::parse(xml, &Limits::default()) else { return };
    let certificate = X509::from_pem(CERTIFICATE).expect("the fixture certificate parses");
    for element in document.root().descendants().filter(|n| n.is_element()).take(32) {
        for allow_sha1 in [false, true] {
            let _ = verify_if_signed(&document, element, certificate.public_key(), &VerifyOptions { allow_sha1 });
        }
    }
});
