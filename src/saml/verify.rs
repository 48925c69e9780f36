//! XML-DSig verification of one element's enveloped signature, restricted to the profile
//! SAML uses and hardened against signature wrapping.
//!
//! The caller names the element it is about to read (the Response, or the Assertion inside
//! it) and gets back a [`SignedElement`] for that same element only if its own Signature
//! child covers it. Reading through the returned handle, never by searching the document
//! again, is what defeats wrapping: the attacks work by making the signed element and the
//! element a consumer reads two different elements.
//!
//! Accepted profile, each rule enforced here:
//! - no two elements in the document share an `ID`, `Id` or `id` value;
//! - exactly one `ds:Signature` child, holding only SignedInfo, SignatureValue and KeyInfo,
//!   and no element outside the XML-DSig namespace but InclusiveNamespaces;
//! - exactly one Reference, whose URI is `#` followed by the element's own ID;
//! - transforms exactly enveloped-signature then exclusive canonicalization (without
//!   comments, optionally with an InclusiveNamespaces PrefixList); SignedInfo is
//!   canonicalized the same way;
//! - RSA-SHA256 or RSA-SHA512 with SHA-256 or SHA-512 digests, SHA-1 only when allowed.
//!
//! KeyInfo is ignored: the key always comes from the caller's configuration.

use std::fmt;

use base64::Engine;
use roxmltree::Node;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use subtle::ConstantTimeEq;

use super::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use super::c14n::{canonicalize_node, C14nError, C14nOptions, EXC_C14N};
use super::xml::{element_id, text_content, Document};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Verification settings chosen by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept RSA-SHA1 signatures and SHA-1 digests. Default: false.
    pub allow_sha1: bool,
}

/// A rejected signature or signed element, one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Two elements carry the same ID value, so a Reference could match either.
    DuplicateId { id: String },
    /// The element to verify has no `ID`, `Id` or `id` attribute.
    MissingId { element: String },
    /// The element has more than one of `ID`, `Id` and `id`.
    AmbiguousId { element: String, attributes: Vec<&'static str> },
    MissingSignature { element: String },
    MultipleSignatures { element: String, count: usize },
    /// A required child of a signature element is missing.
    MissingElement { parent: &'static str, child: &'static str },
    /// A child that this profile does not accept, such as `ds:Object`.
    UnexpectedElement { parent: &'static str, found: String },
    MultipleReferences { count: usize },
    ReferenceUri { expected: String, found: String },
    UnsupportedCanonicalization { algorithm: String },
    /// The Transforms are not exactly enveloped-signature followed by exclusive c14n.
    UnsupportedTransforms { found: Vec<String> },
    UnsupportedSignatureAlgorithm { algorithm: String },
    UnsupportedDigestAlgorithm { algorithm: String },
    /// A SHA-1 signature or digest while the caller did not allow SHA-1.
    Sha1NotAllowed { algorithm: String },
    InvalidBase64 { element: &'static str },
    /// The digest of the element does not equal DigestValue: the content was changed.
    DigestMismatch { id: String },
    /// The SignatureValue does not verify with the configured key.
    InvalidSignature { id: String },
    Canonicalization(C14nError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateId { id } => {
                write!(f, "the ID \"{id}\" appears on more than one element; a signed document needs unique IDs")
            }
            Self::MissingId { element } => write!(f, "<{element}> has no ID attribute to sign"),
            Self::AmbiguousId { element, attributes } => {
                write!(f, "<{element}> has several ID attributes ({}); expected one", attributes.join(", "))
            }
            Self::MissingSignature { element } => write!(f, "<{element}> is not signed: it has no ds:Signature child"),
            Self::MultipleSignatures { element, count } => {
                write!(f, "<{element}> has {count} ds:Signature children; expected exactly one")
            }
            Self::MissingElement { parent, child } => write!(f, "ds:{parent} has no ds:{child} child"),
            Self::UnexpectedElement { parent, found } => {
                write!(f, "ds:{parent} contains <{found}>, which this verifier does not accept")
            }
            Self::MultipleReferences { count } => {
                write!(f, "ds:SignedInfo has {count} ds:Reference elements; expected exactly one")
            }
            Self::ReferenceUri { expected, found } => {
                write!(f, "ds:Reference URI is \"{found}\" but the signed element's is \"{expected}\"")
            }
            Self::UnsupportedCanonicalization { algorithm } => write!(
                f,
                "CanonicalizationMethod \"{algorithm}\" is not supported; expected exclusive c14n ({EXC_C14N})"
            ),
            Self::UnsupportedTransforms { found } => write!(
                f,
                "ds:Transforms are [{}]; expected enveloped-signature then exclusive c14n",
                found.join(", ")
            ),
            Self::UnsupportedSignatureAlgorithm { algorithm } => {
                write!(f, "SignatureMethod \"{algorithm}\" is not supported; expected RSA-SHA256 or RSA-SHA512")
            }
            Self::UnsupportedDigestAlgorithm { algorithm } => {
                write!(f, "DigestMethod \"{algorithm}\" is not supported; expected SHA-256 or SHA-512")
            }
            Self::Sha1NotAllowed { algorithm } => {
                write!(f, "\"{algorithm}\" uses SHA-1, which is not allowed for this partner")
            }
            Self::InvalidBase64 { element } => write!(f, "ds:{element} is not valid base64"),
            Self::DigestMismatch { id } => {
                write!(f, "the digest of the element with ID \"{id}\" does not match: its content was changed")
            }
            Self::InvalidSignature { id } => write!(
                f,
                "the signature over the element with ID \"{id}\" does not verify with the configured certificate"
            ),
            Self::Canonicalization(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<C14nError> for VerifyError {
    fn from(e: C14nError) -> Self {
        Self::Canonicalization(e)
    }
}

/// An element whose enveloped signature verified. Read the element's data through
/// [`SignedElement::node`] only, and skip its ds:Signature child, which the digest excludes.
#[derive(Debug, Clone, Copy)]
pub struct SignedElement<'a, 'input> {
    node: Node<'a, 'input>,
    signature: Node<'a, 'input>,
    signature_algorithm: SignatureAlgorithm,
    digest_algorithm: DigestAlgorithm,
}

impl<'a, 'input> SignedElement<'a, 'input> {
    /// Returns the verified element. Its ds:Signature child is not covered by the digest.
    pub fn node(&self) -> Node<'a, 'input> {
        self.node
    }

    /// Returns the ds:Signature child that was verified.
    pub fn signature(&self) -> Node<'a, 'input> {
        self.signature
    }

    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.signature_algorithm
    }

    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.digest_algorithm
    }
}

/// The result of [`verify_if_signed`].
#[derive(Debug, Clone, Copy)]
pub enum Checked<'a, 'input> {
    Signed(SignedElement<'a, 'input>),
    /// The element has no Signature child; nothing in it is authenticated.
    Unsigned(Node<'a, 'input>),
}

/// Verifies `element`'s enveloped signature with `key`; an unsigned element is an error.
pub fn verify_element<'a, 'input>(
    document: &'a Document<'input>,
    element: Node<'a, 'input>,
    key: &RsaPublicKey,
    options: &VerifyOptions,
) -> Result<SignedElement<'a, 'input>, VerifyError> {
    match verify_if_signed(document, element, key, options)? {
        Checked::Signed(signed) => Ok(signed),
        Checked::Unsigned(node) => Err(VerifyError::MissingSignature { element: qname(node) }),
    }
}

/// Verifies `element`'s enveloped signature if it has one. Use only where the partner's
/// configuration makes signing optional, and treat [`Checked::Unsigned`] as unauthenticated.
pub fn verify_if_signed<'a, 'input>(
    document: &'a Document<'input>,
    element: Node<'a, 'input>,
    key: &RsaPublicKey,
    options: &VerifyOptions,
) -> Result<Checked<'a, 'input>, VerifyError> {
    if let Some(id) = document.duplicate_id() {
        return Err(VerifyError::DuplicateId { id: id.to_string() });
    }
    let signatures: Vec<Node<'a, 'input>> = element.children().filter(|n| is_dsig(*n, "Signature")).collect();
    let signature = match signatures.as_slice() {
        [] => return Ok(Checked::Unsigned(element)),
        [one] => *one,
        many => return Err(VerifyError::MultipleSignatures { element: qname(element), count: many.len() }),
    };
    let id = match element_id(element) {
        Ok(Some(id)) => id,
        Ok(None) => return Err(VerifyError::MissingId { element: qname(element) }),
        Err(attributes) => return Err(VerifyError::AmbiguousId { element: qname(element), attributes }),
    };

    let parts = SignatureParts::read(signature, options)?;
    let expected_uri = format!("#{id}");
    if parts.reference_uri != expected_uri {
        return Err(VerifyError::ReferenceUri { expected: expected_uri, found: parts.reference_uri.to_string() });
    }

    let reference_options = C14nOptions { with_comments: false, inclusive_prefixes: parts.reference_prefixes.clone() };
    let canonical = canonicalize_node(document, element, &reference_options, Some(signature))?;
    let digest = parts.digest_algorithm.hash(&canonical);
    if !bool::from(digest.ct_eq(&parts.digest_value)) {
        return Err(VerifyError::DigestMismatch { id: id.to_string() });
    }

    let signed_info_options = C14nOptions { with_comments: false, inclusive_prefixes: parts.signed_info_prefixes.clone() };
    let signed_info = canonicalize_node(document, parts.signed_info, &signed_info_options, None)?;
    if !rsa_verify(key, parts.signature_algorithm, &signed_info, &parts.signature_value) {
        return Err(VerifyError::InvalidSignature { id: id.to_string() });
    }

    Ok(Checked::Signed(SignedElement {
        node: element,
        signature,
        signature_algorithm: parts.signature_algorithm,
        digest_algorithm: parts.digest_algorithm,
    }))
}

/// The checked contents of one ds:Signature.
struct SignatureParts<'a, 'input> {
    signed_info: Node<'a, 'input>,
    signed_info_prefixes: Vec<String>,
    signature_algorithm: SignatureAlgorithm,
    reference_uri: &'a str,
    reference_prefixes: Vec<String>,
    digest_algorithm: DigestAlgorithm,
    digest_value: Vec<u8>,
    signature_value: Vec<u8>,
}

impl<'a, 'input> SignatureParts<'a, 'input> {
    fn read(signature: Node<'a, 'input>, options: &VerifyOptions) -> Result<Self, VerifyError> {
        for child in signature.children().filter(|n| n.is_element()) {
            if !["SignedInfo", "SignatureValue", "KeyInfo"].iter().any(|name| is_dsig(child, name)) {
                return Err(VerifyError::UnexpectedElement { parent: "Signature", found: qname(child) });
            }
        }
        // The Signature is outside the digest, so foreign elements in it (a saml:NameID in
        // KeyInfo, say) would be unsigned content inside the returned element.
        let foreign = signature.descendants().filter(|n| n.is_element()).find(|n| {
            let namespace = n.tag_name().namespace();
            namespace != Some(DSIG_NS)
                && !(namespace == Some(EXC_C14N) && n.tag_name().name() == "InclusiveNamespaces")
        });
        if let Some(foreign) = foreign {
            return Err(VerifyError::UnexpectedElement { parent: "Signature", found: qname(foreign) });
        }
        let signed_info = required_child(signature, "Signature", "SignedInfo")?;
        let signature_value = decode_base64(required_child(signature, "Signature", "SignatureValue")?, "SignatureValue")?;

        let c14n_method = required_child(signed_info, "SignedInfo", "CanonicalizationMethod")?;
        let signed_info_prefixes = exclusive_c14n_prefixes(c14n_method)
            .ok_or_else(|| VerifyError::UnsupportedCanonicalization { algorithm: algorithm(c14n_method).to_string() })?;

        let method = algorithm(required_child(signed_info, "SignedInfo", "SignatureMethod")?);
        let signature_algorithm = SignatureAlgorithm::from_uri(method)
            .ok_or_else(|| VerifyError::UnsupportedSignatureAlgorithm { algorithm: method.to_string() })?;
        if signature_algorithm == SignatureAlgorithm::RsaSha1 && !options.allow_sha1 {
            return Err(VerifyError::Sha1NotAllowed { algorithm: method.to_string() });
        }

        let references: Vec<_> = signed_info.children().filter(|n| is_dsig(*n, "Reference")).collect();
        let reference = match references.as_slice() {
            [] => return Err(VerifyError::MissingElement { parent: "SignedInfo", child: "Reference" }),
            [one] => *one,
            many => return Err(VerifyError::MultipleReferences { count: many.len() }),
        };
        let reference_uri = reference.attribute("URI").unwrap_or("");
        let reference_prefixes = read_transforms(reference)?;

        let digest_method = algorithm(required_child(reference, "Reference", "DigestMethod")?);
        let digest_algorithm = DigestAlgorithm::from_uri(digest_method)
            .ok_or_else(|| VerifyError::UnsupportedDigestAlgorithm { algorithm: digest_method.to_string() })?;
        if digest_algorithm == DigestAlgorithm::Sha1 && !options.allow_sha1 {
            return Err(VerifyError::Sha1NotAllowed { algorithm: digest_method.to_string() });
        }
        let digest_value = decode_base64(required_child(reference, "Reference", "DigestValue")?, "DigestValue")?;

        Ok(Self {
            signed_info,
            signed_info_prefixes,
            signature_algorithm,
            reference_uri,
            reference_prefixes,
            digest_algorithm,
            digest_value,
            signature_value,
        })
    }
}

/// Checks that the Reference's transforms are exactly enveloped-signature then exclusive
/// c14n, and returns the latter's PrefixList.
fn read_transforms(reference: Node<'_, '_>) -> Result<Vec<String>, VerifyError> {
    let transforms: Vec<Node<'_, '_>> = reference
        .children()
        .filter(|n| is_dsig(*n, "Transforms"))
        .flat_map(|t| t.children().filter(|n| n.is_element()))
        .collect();
    let unsupported = || VerifyError::UnsupportedTransforms {
        found: transforms.iter().map(|t| algorithm(*t).to_string()).collect(),
    };
    match transforms.as_slice() {
        [enveloped, c14n]
            if is_dsig(*enveloped, "Transform")
                && is_dsig(*c14n, "Transform")
                && algorithm(*enveloped) == ENVELOPED_SIGNATURE =>
        {
            exclusive_c14n_prefixes(*c14n).ok_or_else(unsupported)
        }
        _ => Err(unsupported()),
    }
}

/// Returns the PrefixList of a `CanonicalizationMethod` or `Transform` whose algorithm is
/// exclusive c14n without comments, or `None` for any other algorithm.
fn exclusive_c14n_prefixes(method: Node<'_, '_>) -> Option<Vec<String>> {
    if algorithm(method) != EXC_C14N {
        return None;
    }
    let list = method
        .children()
        .find(|n| n.tag_name().namespace() == Some(EXC_C14N) && n.tag_name().name() == "InclusiveNamespaces")
        .and_then(|n| n.attribute("PrefixList"))
        .unwrap_or("");
    Some(list.split_ascii_whitespace().map(String::from).collect())
}

/// Checks an RSA PKCS#1 v1.5 signature over `message`.
pub(crate) fn rsa_verify(key: &RsaPublicKey, algorithm: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    let key = key.clone();
    match algorithm {
        SignatureAlgorithm::RsaSha1 => VerifyingKey::<sha1::Sha1>::new(key).verify(message, &signature).is_ok(),
        SignatureAlgorithm::RsaSha256 => VerifyingKey::<sha2::Sha256>::new(key).verify(message, &signature).is_ok(),
        SignatureAlgorithm::RsaSha512 => VerifyingKey::<sha2::Sha512>::new(key).verify(message, &signature).is_ok(),
    }
}

fn is_dsig(node: Node<'_, '_>, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(DSIG_NS) && node.tag_name().name() == local
}

fn required_child<'a, 'input>(
    parent: Node<'a, 'input>,
    parent_name: &'static str,
    child: &'static str,
) -> Result<Node<'a, 'input>, VerifyError> {
    parent
        .children()
        .find(|n| is_dsig(*n, child))
        .ok_or(VerifyError::MissingElement { parent: parent_name, child })
}

fn algorithm<'a>(node: Node<'a, '_>) -> &'a str {
    node.attribute("Algorithm").unwrap_or("")
}

/// Decodes base64 element text, ignoring the whitespace and line breaks signers insert.
fn decode_base64(node: Node<'_, '_>, element: &'static str) -> Result<Vec<u8>, VerifyError> {
    let text: String = text_content(node).chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| VerifyError::InvalidBase64 { element })
}

fn qname(node: Node<'_, '_>) -> String {
    super::xml::element_qname(node).to_string()
}
