//! XML Encryption 1.1 of Assertions and NameIDs (SAML 2.0 Core's EncryptedAssertion and
//! EncryptedID) for SPs that require it.
//!
//! The Assertion is signed first and then encrypted, so the SP decrypts, then verifies. The
//! plaintext is the Assertion as a standalone element: it declares every namespace it uses,
//! so it parses the same inside or outside the Response. Each `xenc:EncryptedData` gets a
//! fresh content key and IV or nonce from the platform's CSPRNG, and carries the content key
//! in an `xenc:EncryptedKey` inside its own `ds:KeyInfo`.

pub mod algorithm;
mod cipher;
mod decrypt;
mod write;

use roxmltree::Node;

pub use cipher::CipherError;
pub use decrypt::{decrypt_assertion, decrypt_assertion_with_key, DecryptError, DecryptedAssertion};

use crate::config::EncryptionConfig;
use crate::platform::CryptoRngCore;
use crate::saml::escape::{push_attribute, push_text};
use crate::saml::response::ASSERTION_NS;
use crate::saml::xml::text_content;

pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
pub const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";
/// The EncryptedData `Type` of an encrypted element (as opposed to element content).
pub const ELEMENT_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#Element";

/// An error from encrypting an Assertion or NameID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncryptError {
    /// The Assertion handed in has no NameID to encrypt, or is not one the builder wrote.
    Input(String),
    Cipher(CipherError),
}

impl std::fmt::Display for EncryptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Input(problem) => write!(f, "cannot encrypt the NameID: {problem}"),
            Self::Cipher(e) => write!(f, "cannot encrypt for the SP: {e}"),
        }
    }
}

impl std::error::Error for EncryptError {}

impl From<CipherError> for EncryptError {
    fn from(e: CipherError) -> Self {
        Self::Cipher(e)
    }
}

/// Encrypts a signed `saml:Assertion` (a standalone element) and returns the
/// `saml:EncryptedAssertion` that replaces it in the Response. `recipient` (the SP's entity
/// ID) becomes the EncryptedKey's `Recipient`.
pub fn encrypt_assertion(
    assertion: &str,
    config: &EncryptionConfig,
    recipient: &str,
    rng: &mut dyn CryptoRngCore,
) -> Result<String, EncryptError> {
    let encrypted_data = write::write_encrypted_data(assertion, config, recipient, rng)?;
    let mut out = String::with_capacity(encrypted_data.len() + 150);
    out.push_str("<saml:EncryptedAssertion xmlns:saml=\"");
    out.push_str(ASSERTION_NS);
    out.push_str("\">");
    out.push_str(&encrypted_data);
    out.push_str("</saml:EncryptedAssertion>");
    Ok(out)
}

/// Replaces the Subject's `saml:NameID` in an unsigned Assertion with a `saml:EncryptedID`
/// and returns the new Assertion, which is then signed as usual.
pub fn encrypt_name_id(
    assertion: &str,
    config: &EncryptionConfig,
    recipient: &str,
    rng: &mut dyn CryptoRngCore,
) -> Result<String, EncryptError> {
    let document = roxmltree::Document::parse(assertion).map_err(|e| EncryptError::Input(e.to_string()))?;
    let root = document.root_element();
    if root.lookup_prefix(ASSERTION_NS) != Some("saml") {
        return Err(EncryptError::Input("the Assertion does not bind the saml prefix on its root".to_owned()));
    }
    let name_id = root
        .children()
        .find(|n| n.has_tag_name((ASSERTION_NS, "Subject")))
        .and_then(|subject| subject.children().find(|n| n.has_tag_name((ASSERTION_NS, "NameID"))))
        .ok_or_else(|| EncryptError::Input("the Assertion has no saml:Subject/saml:NameID".to_owned()))?;

    let plaintext = standalone_name_id(name_id)?;
    let encrypted_data = write::write_encrypted_data(&plaintext, config, recipient, rng)?;

    let range = name_id.range();
    let (before, after) = (assertion.get(..range.start), assertion.get(range.end..));
    let (Some(before), Some(after)) = (before, after) else {
        return Err(EncryptError::Input("the NameID's position is outside the Assertion".to_owned()));
    };
    let mut out = String::with_capacity(assertion.len() + encrypted_data.len());
    out.push_str(before);
    out.push_str("<saml:EncryptedID>");
    out.push_str(&encrypted_data);
    out.push_str("</saml:EncryptedID>");
    out.push_str(after);
    Ok(out)
}

/// Writes `name_id` as a standalone element that declares the `saml` namespace itself.
fn standalone_name_id(name_id: Node<'_, '_>) -> Result<String, EncryptError> {
    let mut out = String::with_capacity(256);
    out.push_str("<saml:NameID xmlns:saml=\"");
    out.push_str(ASSERTION_NS);
    out.push('"');
    for attribute in name_id.attributes() {
        if attribute.namespace().is_some() {
            return Err(EncryptError::Input(format!(
                "the NameID attribute {:?} has a namespace, which the builder never writes",
                attribute.name()
            )));
        }
        out.push(' ');
        out.push_str(attribute.name());
        out.push_str("=\"");
        push_attribute(&mut out, attribute.value());
        out.push('"');
    }
    out.push('>');
    push_text(&mut out, &text_content(name_id));
    out.push_str("</saml:NameID>");
    Ok(out)
}

#[cfg(test)]
mod tests;
