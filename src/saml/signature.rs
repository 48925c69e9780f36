//! Enveloped XML-DSig signatures over elements the builder wrote.
//!
//! The Reference digest is taken over the exclusive canonical form (exc-c14n 1.0, without
//! comments, `InclusiveNamespaces PrefixList="xs"` so the `xs` declaration used by `xsi:type`
//! values is signed) of the element without its Signature, then SignedInfo is canonicalized
//! and signed with RSA PKCS#1 v1.5. The resulting `ds:Signature` goes right after the
//! element's `saml:Issuer`, where the SAML schema places it.

use base64::Engine;

use super::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use super::c14n;
use super::keys::X509;
use super::signer::{Signer, SigningError};
use crate::platform::CryptoRngCore;

pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// Prefixes treated as inclusive by the Reference's exc-c14n transform.
pub const INCLUSIVE_PREFIXES: &str = "xs";

/// The key material and algorithms for one signature.
pub struct SigningParams<'a> {
    pub signer: &'a dyn Signer,
    pub certificate: &'a X509,
    pub signature_algorithm: SignatureAlgorithm,
    pub digest_algorithm: DigestAlgorithm,
}

/// Why an element could not be signed.
#[derive(Debug)]
pub enum SignError {
    /// The element has no `saml:Issuer` child to place the Signature after.
    NoIssuer,
    Canonicalization(String),
    Signing(SigningError),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoIssuer => f.write_str("the element to sign has no saml:Issuer to place the Signature after"),
            Self::Canonicalization(e) => write!(f, "canonicalization of the element to sign failed: {e}"),
            Self::Signing(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SignError {}

/// Signs `element` (a complete, standalone XML element whose root carries `ID="{id}"` and
/// declares every namespace it uses) and returns it with the `ds:Signature` inserted after
/// its first `</saml:Issuer>`.
pub fn sign_enveloped(
    element: &str,
    id: &str,
    params: &SigningParams<'_>,
    rng: &mut dyn CryptoRngCore,
) -> Result<String, SignError> {
    let options = c14n::C14nOptions { with_comments: false, inclusive_prefixes: vec![INCLUSIVE_PREFIXES.to_owned()] };
    let canonical = c14n::canonicalize(element, &options).map_err(|e| SignError::Canonicalization(e.to_string()))?;
    let digest = params.digest_algorithm.hash(&canonical);

    let signed_info = signed_info(id, params, &digest);
    let canonical_signed_info = c14n::canonicalize(&signed_info_standalone(&signed_info), &c14n::C14nOptions::default())
        .map_err(|e| SignError::Canonicalization(e.to_string()))?;
    let signature_value = params
        .signer
        .sign(params.signature_algorithm, &canonical_signed_info, &mut signer_rng(rng))
        .map_err(SignError::Signing)?;

    let signature = signature_element(&signed_info, &signature_value, params.certificate);
    insert_after_issuer(element, &signature)
}

/// A generator for one signature's blinding, seeded with 32 bytes from `rng`.
///
/// Signers draw different amounts of randomness (the `rsa` crate for every signature,
/// [`FastRsaSigner`](super::rsa_fast::FastRsaSigner) only when it renews its blinding), and
/// what is drawn after signing, such as an encrypted Assertion's content key, would then
/// depend on the signer. Drawing a fixed seed keeps every later value the same whichever
/// signer runs, so the filter, the command line and the previewer stay byte-identical for a
/// seeded platform.
fn signer_rng(rng: &mut dyn CryptoRngCore) -> rand_chacha::ChaCha20Rng {
    use rand_core::SeedableRng;
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    rand_chacha::ChaCha20Rng::from_seed(seed)
}

/// Writes `<ds:SignedInfo>` as it appears inside `ds:Signature` (without its own `xmlns:ds`).
fn signed_info(id: &str, params: &SigningParams<'_>, digest: &[u8]) -> String {
    let mut out = String::with_capacity(900);
    out.push_str("<ds:SignedInfo>");
    push_algorithm(&mut out, "ds:CanonicalizationMethod", EXC_C14N);
    push_algorithm(&mut out, "ds:SignatureMethod", params.signature_algorithm.uri());
    out.push_str("<ds:Reference URI=\"#");
    super::escape::push_attribute(&mut out, id);
    out.push_str("\"><ds:Transforms>");
    push_algorithm(&mut out, "ds:Transform", ENVELOPED);
    out.push_str("<ds:Transform Algorithm=\"");
    out.push_str(EXC_C14N);
    out.push_str("\"><ec:InclusiveNamespaces xmlns:ec=\"");
    out.push_str(EXC_C14N);
    out.push_str("\" PrefixList=\"");
    out.push_str(INCLUSIVE_PREFIXES);
    out.push_str("\"></ec:InclusiveNamespaces></ds:Transform></ds:Transforms>");
    push_algorithm(&mut out, "ds:DigestMethod", params.digest_algorithm.uri());
    out.push_str("<ds:DigestValue>");
    out.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
    out.push_str("</ds:DigestValue></ds:Reference></ds:SignedInfo>");
    out
}

/// SignedInfo as a standalone document: exc-c14n of the SignedInfo subtree renders the `ds`
/// declaration inherited from `ds:Signature` on SignedInfo itself.
fn signed_info_standalone(signed_info: &str) -> String {
    signed_info.replacen("<ds:SignedInfo>", &format!("<ds:SignedInfo xmlns:ds=\"{DS_NS}\">"), 1)
}

fn push_algorithm(out: &mut String, element: &str, algorithm: &str) {
    out.push('<');
    out.push_str(element);
    out.push_str(" Algorithm=\"");
    out.push_str(algorithm);
    out.push_str("\"></");
    out.push_str(element);
    out.push('>');
}

fn signature_element(signed_info: &str, signature_value: &[u8], certificate: &X509) -> String {
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut out = String::with_capacity(signed_info.len() + 2400);
    out.push_str("<ds:Signature xmlns:ds=\"");
    out.push_str(DS_NS);
    out.push_str("\">");
    out.push_str(signed_info);
    out.push_str("<ds:SignatureValue>");
    out.push_str(&engine.encode(signature_value));
    out.push_str("</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
    out.push_str(&certificate.base64());
    out.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");
    out
}

fn insert_after_issuer(element: &str, signature: &str) -> Result<String, SignError> {
    const ISSUER_END: &str = "</saml:Issuer>";
    let at = element.find(ISSUER_END).ok_or(SignError::NoIssuer)? + ISSUER_END.len();
    let mut out = String::with_capacity(element.len() + signature.len());
    out.push_str(&element[..at]);
    out.push_str(signature);
    out.push_str(&element[at..]);
    Ok(out)
}
