//! Writing `xenc:EncryptedData` with its `xenc:EncryptedKey`.
//!
//! The output is in exclusive canonical form, like the rest of the builder's output, because
//! a Response signature is computed over the Response that contains it. So namespace
//! declarations sit on the first element that uses their prefix, and empty elements are
//! start-end pairs.

use base64::Engine;

use super::algorithm::{mgf1_uri, KeyTransport};
use super::cipher::{encrypt_content, encrypt_key, CipherError, ContentKey};
use super::{ELEMENT_TYPE, XENC11_NS, XENC_NS};
use crate::config::EncryptionConfig;
use crate::platform::CryptoRngCore;
use crate::saml::escape::{push_attribute, push_text};
use crate::saml::signature::DS_NS;

/// Encrypts `plaintext` (one standalone XML element) with a fresh content key and returns
/// the `xenc:EncryptedData` element, whose KeyInfo carries the content key encrypted to the
/// SP's certificate.
///
/// Randomness is drawn in a fixed order: the content key, the IV or nonce, then the RSA-OAEP
/// seed.
pub(super) fn write_encrypted_data(
    plaintext: &str,
    config: &EncryptionConfig,
    recipient: &str,
    rng: &mut dyn CryptoRngCore,
) -> Result<String, CipherError> {
    let algorithm = config.content_algorithm;
    let content_key = ContentKey::generate(algorithm, rng);
    let cipher_value = encrypt_content(algorithm, &content_key, plaintext.as_bytes())?;
    let encrypted_key =
        encrypt_key(config.certificate.public_key(), config.key_transport.oaep(), &content_key.key, rng)?;

    let engine = &base64::engine::general_purpose::STANDARD;
    let mut out = String::with_capacity(cipher_value.len() * 4 / 3 + 3000);
    out.push_str("<xenc:EncryptedData xmlns:xenc=\"");
    out.push_str(XENC_NS);
    out.push_str("\" Type=\"");
    out.push_str(ELEMENT_TYPE);
    out.push_str("\"><xenc:EncryptionMethod Algorithm=\"");
    out.push_str(algorithm.uri());
    out.push_str("\"></xenc:EncryptionMethod><ds:KeyInfo xmlns:ds=\"");
    out.push_str(DS_NS);
    out.push_str("\">");
    write_encrypted_key(&mut out, config, recipient, &engine.encode(encrypted_key));
    out.push_str("</ds:KeyInfo>");
    push_cipher_data(&mut out, &engine.encode(cipher_value));
    out.push_str("</xenc:EncryptedData>");
    Ok(out)
}

/// Writes `xenc:EncryptedKey` inside the EncryptedData's `ds:KeyInfo`, where the `ds` and
/// `xenc` prefixes are already declared.
fn write_encrypted_key(out: &mut String, config: &EncryptionConfig, recipient: &str, cipher_value: &str) {
    out.push_str("<xenc:EncryptedKey Recipient=\"");
    push_attribute(out, recipient);
    out.push_str("\">");
    write_key_transport_method(out, config.key_transport);
    write_recipient_key_info(out, config);
    push_cipher_data(out, cipher_value);
    out.push_str("</xenc:EncryptedKey>");
}

/// Writes the EncryptedKey's EncryptionMethod. The OAEP digest is always named, although
/// SHA-1 is the default, because some SPs read it rather than assume it. `rsa-oaep-mgf1p`
/// implies MGF1 with SHA-1, while `xenc11#rsa-oaep` names its MGF in an `xenc11:MGF` child.
fn write_key_transport_method(out: &mut String, key_transport: KeyTransport) {
    let oaep = key_transport.oaep();
    out.push_str("<xenc:EncryptionMethod Algorithm=\"");
    out.push_str(key_transport.uri());
    out.push_str("\"><ds:DigestMethod Algorithm=\"");
    out.push_str(oaep.digest.uri());
    out.push_str("\"></ds:DigestMethod>");
    if key_transport == KeyTransport::RsaOaepSha256 {
        out.push_str("<xenc11:MGF xmlns:xenc11=\"");
        out.push_str(XENC11_NS);
        out.push_str("\" Algorithm=\"");
        out.push_str(mgf1_uri(oaep.mgf_digest));
        out.push_str("\"></xenc11:MGF>");
    }
    out.push_str("</xenc:EncryptionMethod>");
}

/// Writes the KeyInfo that names the SP key the content key is encrypted to, so that an SP
/// with several keys (during a rollover, say) picks the right one. Nothing is written when
/// the configuration requests neither a key name nor the certificate.
fn write_recipient_key_info(out: &mut String, config: &EncryptionConfig) {
    if config.key_name.is_none() && !config.include_certificate {
        return;
    }
    out.push_str("<ds:KeyInfo>");
    if let Some(key_name) = &config.key_name {
        out.push_str("<ds:KeyName>");
        push_text(out, key_name);
        out.push_str("</ds:KeyName>");
    }
    if config.include_certificate {
        out.push_str("<ds:X509Data><ds:X509Certificate>");
        out.push_str(&config.certificate.base64());
        out.push_str("</ds:X509Certificate></ds:X509Data>");
    }
    out.push_str("</ds:KeyInfo>");
}

fn push_cipher_data(out: &mut String, cipher_value: &str) {
    out.push_str("<xenc:CipherData><xenc:CipherValue>");
    out.push_str(cipher_value);
    out.push_str("</xenc:CipherValue></xenc:CipherData>");
}
