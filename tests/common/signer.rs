//! A small enveloped-signature signer for tests, built on the crate's canonicalizer and
//! `RsaCrateSigner`, so tests can produce signatures that xmlsec1 and our verifier check.

use base64::Engine;
use edgeidp::saml::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use edgeidp::saml::c14n::{canonicalize_node, C14nOptions};
use edgeidp::saml::keys::private_key_from_pem;
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use edgeidp::saml::xml::{Document, Limits};
use rand_core::SeedableRng;

pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// What to sign with.
pub struct Spec<'a> {
    pub algorithm: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    /// The exclusive c14n PrefixList for the Reference transform and SignedInfo.
    pub prefix_list: Option<&'a str>,
    /// The base64 certificate for KeyInfo, if any.
    pub certificate: Option<String>,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Self { algorithm: SignatureAlgorithm::RsaSha256, digest: DigestAlgorithm::Sha256, prefix_list: None, certificate: None }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn inclusive(prefix_list: Option<&str>) -> String {
    prefix_list.map_or(String::new(), |list| {
        format!(r#"<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{list}"/>"#)
    })
}

fn options(prefix_list: Option<&str>) -> C14nOptions {
    C14nOptions {
        with_comments: false,
        inclusive_prefixes: prefix_list.map_or(vec![], |l| l.split_whitespace().map(String::from).collect()),
    }
}

/// Inserts an enveloped signature over the element whose ID is `id`, after its Issuer child
/// when it has one, else as its first child.
pub fn sign(xml: &str, id: &str, key_pem: &str, spec: &Spec) -> String {
    let document = Document::parse(xml, &Limits::default()).unwrap();
    let element = document.element_by_id(id).unwrap();
    let canonical = canonicalize_node(&document, element, &options(spec.prefix_list), None).unwrap();
    let digest = b64(&spec.digest.hash(&canonical));

    let first = element.first_element_child().unwrap();
    let at = if first.tag_name().name() == "Issuer" { first.range().end } else { first.range().start };
    let ec = inclusive(spec.prefix_list);
    let key_info = spec.certificate.as_ref().map_or(String::new(), |c| {
        format!("<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>")
    });
    let signature = format!(
        concat!(
            r#"<ds:Signature xmlns:ds="{dsig}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{ec}</ds:CanonicalizationMethod>"#,
            r##"<ds:SignatureMethod Algorithm="{alg}"/><ds:Reference URI="#{id}"><ds:Transforms>"##,
            r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">{ec}</ds:Transform></ds:Transforms>"#,
            r#"<ds:DigestMethod Algorithm="{dig}"/><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"#,
            r#"<ds:SignatureValue>SIGNATURE-VALUE</ds:SignatureValue>{key_info}</ds:Signature>"#
        ),
        dsig = DSIG,
        ec = ec,
        alg = spec.algorithm.uri(),
        id = id,
        dig = spec.digest.uri(),
        digest = digest,
        key_info = key_info,
    );
    let with_template = format!("{}{}{}", &xml[..at], signature, &xml[at..]);

    let document = Document::parse(&with_template, &Limits::default()).unwrap();
    let signed_info = document
        .element_by_id(id)
        .unwrap()
        .children()
        .find(|n| n.tag_name().name() == "Signature")
        .and_then(|s| s.first_element_child())
        .unwrap();
    let canonical = canonicalize_node(&document, signed_info, &options(spec.prefix_list), None).unwrap();
    let signer = RsaCrateSigner::new(private_key_from_pem(key_pem).unwrap());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let value = signer.sign(spec.algorithm, &canonical, &mut rng).unwrap();
    with_template.replacen("SIGNATURE-VALUE", &b64(&value), 1)
}
