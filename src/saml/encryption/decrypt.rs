//! Decrypting an EncryptedAssertion with the SP's private key, for the previewer and tests.
//!
//! The input is untrusted: it is parsed by the core's limit-checked parser (no DTD, bounded
//! size, depth and node count), and every algorithm is checked against the supported list
//! before any key is used.

use base64::Engine;
use roxmltree::Node;
use rsa::RsaPrivateKey;
use zeroize::Zeroizing;

use super::algorithm::{
    mgf1_from_uri, quoted_names, ContentAlgorithm, KeyTransport, OaepParams, RSA_1_5, RSA_1_5_REJECTED, RSA_OAEP,
    RSA_OAEP_MGF1P,
};
use super::cipher::{decrypt_content, decrypt_key, CipherError};
use super::{ELEMENT_TYPE, XENC11_NS, XENC_NS};
use crate::saml::algorithm::DigestAlgorithm;
use crate::saml::keys::{private_key_from_pem, KeyError};
use crate::saml::response::ASSERTION_NS;
use crate::saml::signature::DS_NS;
use crate::saml::xml::{text_content, Document, Limits, XmlError};

/// An Assertion recovered from an EncryptedAssertion.
#[derive(Debug, Clone)]
pub struct DecryptedAssertion {
    /// The `saml:Assertion` element exactly as it was encrypted, signature included.
    pub xml: String,
    pub content_algorithm: ContentAlgorithm,
    /// The RSA-OAEP parameters the content key was transported with.
    pub oaep: OaepParams,
    /// The `saml:NameID` element, when the Assertion's Subject contains a `saml:EncryptedID`.
    pub name_id_xml: Option<String>,
}

/// An error from decrypting an EncryptedAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptError {
    PrivateKey(KeyError),
    /// The document, or a decrypted element, is not well-formed XML or exceeds a limit.
    Xml {
        what: &'static str,
        error: XmlError,
    },
    /// The decrypted bytes are not UTF-8.
    NotUtf8,
    Missing {
        element: &'static str,
    },
    Multiple {
        element: &'static str,
        count: usize,
    },
    /// An algorithm or attribute value that this decryptor does not support.
    Unsupported {
        element: &'static str,
        value: String,
        supported: String,
    },
    Base64 {
        element: &'static str,
    },
    Cipher(CipherError),
    /// The decrypted element is not the one its container is for.
    WrongElement {
        expected: &'static str,
        found: String,
    },
}

impl std::fmt::Display for DecryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKey(e) => write!(f, "SP private key: {e}"),
            Self::Xml { what, error } => write!(f, "{what}: {error}"),
            Self::NotUtf8 => {
                f.write_str("the decrypted element is not UTF-8 text; the content key or algorithm is wrong")
            }
            Self::Missing { element } => write!(f, "{element} is missing"),
            Self::Multiple { element, count } => {
                write!(f, "the document contains {count} {element} elements; decrypt one at a time")
            }
            Self::Unsupported { element, value, supported } => {
                write!(f, "{element} {value:?} is not supported; supported: {supported}")
            }
            Self::Base64 { element } => write!(f, "{element} is not valid base64"),
            Self::Cipher(e) => e.fmt(f),
            Self::WrongElement { expected, found } => {
                write!(f, "the decrypted element is {found}, not {expected}")
            }
        }
    }
}

impl std::error::Error for DecryptError {}

impl From<CipherError> for DecryptError {
    fn from(e: CipherError) -> Self {
        Self::Cipher(e)
    }
}

/// Decrypts the one `saml:EncryptedAssertion` in `xml` (a Response, or the
/// EncryptedAssertion alone) with the SP's RSA private key in PKCS#8 or PKCS#1 PEM, and
/// decrypts its EncryptedID too when it has one.
pub fn decrypt_assertion(xml: &str, sp_private_key_pem: &str) -> Result<DecryptedAssertion, DecryptError> {
    let key = private_key_from_pem(sp_private_key_pem).map_err(DecryptError::PrivateKey)?;
    decrypt_assertion_with_key(xml, &key)
}

/// [`decrypt_assertion`] with a loaded key.
pub fn decrypt_assertion_with_key(xml: &str, key: &RsaPrivateKey) -> Result<DecryptedAssertion, DecryptError> {
    let document = parse(xml, "the document")?;
    let encrypted_assertions: Vec<Node<'_, '_>> =
        document.root().descendants().filter(|n| n.has_tag_name((ASSERTION_NS, "EncryptedAssertion"))).collect();
    let encrypted_assertion = match encrypted_assertions.as_slice() {
        [one] => *one,
        [] => return Err(DecryptError::Missing { element: "saml:EncryptedAssertion" }),
        many => return Err(DecryptError::Multiple { element: "saml:EncryptedAssertion", count: many.len() }),
    };

    let decrypted = decrypt_element(encrypted_assertion, key)?;
    let xml = into_element(decrypted.plaintext, "saml:Assertion", "Assertion")?;
    let assertion = parse(&xml, "the decrypted Assertion")?;
    let encrypted_id = assertion
        .root_element()
        .children()
        .find(|n| n.has_tag_name((ASSERTION_NS, "Subject")))
        .and_then(|subject| subject.children().find(|n| n.has_tag_name((ASSERTION_NS, "EncryptedID"))));
    let name_id_xml = match encrypted_id {
        Some(encrypted_id) => {
            let name_id = decrypt_element(encrypted_id, key)?;
            Some(into_element(name_id.plaintext, "saml:NameID", "NameID")?)
        }
        None => None,
    };

    Ok(DecryptedAssertion { xml, content_algorithm: decrypted.content_algorithm, oaep: decrypted.oaep, name_id_xml })
}

fn parse<'a>(xml: &'a str, what: &'static str) -> Result<Document<'a>, DecryptError> {
    Document::parse(xml, &Limits::default()).map_err(|error| DecryptError::Xml { what, error })
}

/// Checks that `plaintext` is one standalone SAML element named `local_name` and returns it.
fn into_element(
    plaintext: Zeroizing<Vec<u8>>,
    expected: &'static str,
    local_name: &str,
) -> Result<String, DecryptError> {
    let text = String::from_utf8(plaintext.to_vec()).map_err(|_| DecryptError::NotUtf8)?;
    let document = parse(&text, "the decrypted element")?;
    let root = document.root_element();
    if !root.has_tag_name((ASSERTION_NS, local_name)) {
        let found = format!("{{{}}}{}", root.tag_name().namespace().unwrap_or(""), root.tag_name().name());
        return Err(DecryptError::WrongElement { expected, found });
    }
    drop(document);
    Ok(text)
}

struct Decrypted {
    plaintext: Zeroizing<Vec<u8>>,
    content_algorithm: ContentAlgorithm,
    oaep: OaepParams,
}

/// Decrypts the `xenc:EncryptedData` child of `container` (an EncryptedAssertion or
/// EncryptedID). SAML allows the EncryptedKey in the EncryptedData's KeyInfo or beside the
/// EncryptedData, so both places are searched. When several are present, the first one that
/// the private key decrypts is used.
fn decrypt_element(container: Node<'_, '_>, key: &RsaPrivateKey) -> Result<Decrypted, DecryptError> {
    let encrypted_data =
        child(container, XENC_NS, "EncryptedData").ok_or(DecryptError::Missing { element: "xenc:EncryptedData" })?;
    if let Some(kind) = encrypted_data.attribute("Type") {
        if kind != ELEMENT_TYPE {
            return Err(DecryptError::Unsupported {
                element: "xenc:EncryptedData Type",
                value: kind.to_owned(),
                supported: ELEMENT_TYPE.to_owned(),
            });
        }
    }
    let content_algorithm = content_algorithm(encrypted_data)?;
    let cipher_value = cipher_value(encrypted_data, "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")?;

    let inline_keys = child(encrypted_data, DS_NS, "KeyInfo")
        .into_iter()
        .flat_map(|key_info| key_info.children().filter(|n| n.has_tag_name((XENC_NS, "EncryptedKey"))));
    let sibling_keys = container.children().filter(|n| n.has_tag_name((XENC_NS, "EncryptedKey")));
    let mut last_error = DecryptError::Missing { element: "xenc:EncryptedKey" };
    for encrypted_key in inline_keys.chain(sibling_keys) {
        match decrypt_content_key(encrypted_key, key) {
            Ok((content_key, oaep)) => {
                let plaintext = decrypt_content(content_algorithm, &content_key, &cipher_value)?;
                return Ok(Decrypted { plaintext, content_algorithm, oaep });
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn content_algorithm(encrypted_data: Node<'_, '_>) -> Result<ContentAlgorithm, DecryptError> {
    let uri = algorithm_attribute(encrypted_data, "xenc:EncryptedData/xenc:EncryptionMethod")?;
    ContentAlgorithm::from_uri(uri).ok_or_else(|| {
        let uris: Vec<&str> = ContentAlgorithm::ALL.iter().map(|a| a.uri()).collect();
        DecryptError::Unsupported {
            element: "xenc:EncryptedData/xenc:EncryptionMethod Algorithm",
            value: uri.to_owned(),
            supported: quoted_names(&uris),
        }
    })
}

fn decrypt_content_key(
    encrypted_key: Node<'_, '_>,
    key: &RsaPrivateKey,
) -> Result<(Zeroizing<Vec<u8>>, OaepParams), DecryptError> {
    let oaep = oaep_params(encrypted_key)?;
    let cipher_value = cipher_value(encrypted_key, "xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")?;
    let content_key = decrypt_key(key, oaep, &cipher_value)?;
    Ok((content_key, oaep))
}

/// Reads the RSA-OAEP parameters of an EncryptedKey. Both URIs default to SHA-1 for the
/// digest. `rsa-oaep-mgf1p` always uses MGF1 with SHA-1, while `xenc11#rsa-oaep` names its
/// MGF and defaults to MGF1 with SHA-1.
fn oaep_params(encrypted_key: Node<'_, '_>) -> Result<OaepParams, DecryptError> {
    const ELEMENT: &str = "xenc:EncryptedKey/xenc:EncryptionMethod";
    let method = child(encrypted_key, XENC_NS, "EncryptionMethod").ok_or(DecryptError::Missing { element: ELEMENT })?;
    let uri = method
        .attribute("Algorithm")
        .ok_or(DecryptError::Missing { element: "xenc:EncryptedKey/xenc:EncryptionMethod Algorithm" })?;
    let unsupported = |element: &'static str, value: &str, supported: String| DecryptError::Unsupported {
        element,
        value: value.to_owned(),
        supported,
    };
    if uri == RSA_1_5 {
        return Err(unsupported("xenc:EncryptedKey/xenc:EncryptionMethod Algorithm", uri, RSA_1_5_REJECTED.to_owned()));
    }
    if uri != RSA_OAEP_MGF1P && uri != RSA_OAEP {
        let uris: Vec<&str> = KeyTransport::ALL.iter().map(|a| a.uri()).collect();
        return Err(unsupported("xenc:EncryptedKey/xenc:EncryptionMethod Algorithm", uri, quoted_names(&uris)));
    }
    if let Some(params) = child(method, XENC_NS, "OAEPparams") {
        let label = text_content(params);
        let label = label.trim();
        if !label.is_empty() {
            return Err(unsupported("xenc:OAEPparams", label, "an empty OAEP label only".to_owned()));
        }
    }

    let digest = match child(method, DS_NS, "DigestMethod").and_then(|m| m.attribute("Algorithm")) {
        None => DigestAlgorithm::Sha1,
        Some(uri) => DigestAlgorithm::from_uri(uri).ok_or_else(|| {
            let uris = [DigestAlgorithm::Sha1.uri(), DigestAlgorithm::Sha256.uri(), DigestAlgorithm::Sha512.uri()];
            unsupported("ds:DigestMethod Algorithm", uri, quoted_names(&uris))
        })?,
    };
    let mgf = child(method, XENC11_NS, "MGF").and_then(|m| m.attribute("Algorithm"));
    let mgf_digest = match (uri, mgf) {
        (RSA_OAEP, Some(mgf_uri)) => mgf1_from_uri(mgf_uri).ok_or_else(|| {
            unsupported("xenc11:MGF Algorithm", mgf_uri, "mgf1sha1, mgf1sha256 or mgf1sha512".to_owned())
        })?,
        _ => DigestAlgorithm::Sha1,
    };
    Ok(OaepParams { digest, mgf_digest })
}

fn algorithm_attribute<'a>(parent: Node<'a, '_>, element: &'static str) -> Result<&'a str, DecryptError> {
    child(parent, XENC_NS, "EncryptionMethod")
        .and_then(|method| method.attribute("Algorithm"))
        .ok_or(DecryptError::Missing { element })
}

/// Decodes `parent/xenc:CipherData/xenc:CipherValue`, ignoring the line breaks that some
/// encoders insert into base64.
fn cipher_value(parent: Node<'_, '_>, element: &'static str) -> Result<Vec<u8>, DecryptError> {
    let cipher_data = child(parent, XENC_NS, "CipherData").ok_or(DecryptError::Missing { element })?;
    if child(cipher_data, XENC_NS, "CipherReference").is_some() {
        return Err(DecryptError::Unsupported {
            element: "xenc:CipherReference",
            value: "(a reference to external data)".to_owned(),
            supported: "xenc:CipherValue only".to_owned(),
        });
    }
    let text = child(cipher_data, XENC_NS, "CipherValue").map(text_content).ok_or(DecryptError::Missing { element })?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| DecryptError::Base64 { element })
}

fn child<'a, 'input>(parent: Node<'a, 'input>, namespace: &str, name: &str) -> Option<Node<'a, 'input>> {
    parent.children().find(|n| n.has_tag_name((namespace, name)))
}
