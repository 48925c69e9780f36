//! XML Encryption algorithms: content encryption (AES) and key transport (RSA-OAEP), with
//! their identifiers from XML Encryption 1.0 (`xmlenc#`) and 1.1 (`xmlenc11#`).

use std::fmt;

use crate::saml::algorithm::DigestAlgorithm;

pub const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
pub const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
pub const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
pub const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
pub const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
pub const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
pub const MGF1_SHA512: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha512";

/// The reason RSA PKCS#1 v1.5 key transport is rejected, for configuration errors and decryption.
pub const RSA_1_5_REJECTED: &str = "RSA PKCS#1 v1.5 key transport (rsa-1_5) is open to padding-oracle attacks (Bleichenbacher's attack recovers the content key from an SP that reveals decryption failures) and is not supported; use \"rsa-oaep-mgf1p\" or \"rsa-oaep\"";

/// The block cipher mode and key size that encrypt the Assertion itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentAlgorithm {
    Aes128Gcm,
    Aes256Gcm,
    /// AES-CBC has no integrity protection; offered only for SPs that cannot decrypt GCM.
    Aes128Cbc,
    Aes256Cbc,
}

impl ContentAlgorithm {
    pub const ALL: [ContentAlgorithm; 4] = [Self::Aes256Gcm, Self::Aes128Gcm, Self::Aes128Cbc, Self::Aes256Cbc];

    /// Parses a configuration name (`aes256-gcm`) or the algorithm URI.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name || a.uri() == name)
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "aes128-gcm",
            Self::Aes256Gcm => "aes256-gcm",
            Self::Aes128Cbc => "aes128-cbc",
            Self::Aes256Cbc => "aes256-cbc",
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::Aes128Gcm => AES128_GCM,
            Self::Aes256Gcm => AES256_GCM,
            Self::Aes128Cbc => AES128_CBC,
            Self::Aes256Cbc => AES256_CBC,
        }
    }

    /// Returns the content key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes128Cbc => 16,
            Self::Aes256Gcm | Self::Aes256Cbc => 32,
        }
    }

    /// Returns the length in bytes of the IV (CBC) or nonce (GCM) that precedes the
    /// ciphertext in `CipherValue`: 96 bits for GCM, as XML Encryption 1.1 requires, and one
    /// block for CBC.
    pub fn iv_len(self) -> usize {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => 12,
            Self::Aes128Cbc | Self::Aes256Cbc => 16,
        }
    }

    pub fn is_gcm(self) -> bool {
        matches!(self, Self::Aes128Gcm | Self::Aes256Gcm)
    }
}

/// The key transport algorithm that encrypts the content key to the SP's RSA public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyTransport {
    /// `xmlenc#rsa-oaep-mgf1p` with SHA-1 as both the OAEP digest and the MGF1 digest: the
    /// value most SPs accept. OAEP's security rests on SHA-1 as a random oracle, not on its
    /// collision resistance, so SHA-1's collisions do not weaken it.
    RsaOaepMgf1p,
    /// `xmlenc11#rsa-oaep` with SHA-256 as the OAEP digest and MGF1 with SHA-256.
    RsaOaepSha256,
}

impl KeyTransport {
    pub const ALL: [KeyTransport; 2] = [Self::RsaOaepMgf1p, Self::RsaOaepSha256];

    /// Parses a configuration name (`rsa-oaep-mgf1p`, `rsa-oaep`) or the algorithm URI.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name || a.uri() == name)
    }

    /// Returns whether `name` is RSA PKCS#1 v1.5 key transport, by name or URI.
    pub fn is_rsa_1_5(name: &str) -> bool {
        name == "rsa-1_5" || name == RSA_1_5
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RsaOaepMgf1p => "rsa-oaep-mgf1p",
            Self::RsaOaepSha256 => "rsa-oaep",
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaOaepMgf1p => RSA_OAEP_MGF1P,
            Self::RsaOaepSha256 => RSA_OAEP,
        }
    }

    pub fn oaep(self) -> OaepParams {
        match self {
            Self::RsaOaepMgf1p => OaepParams { digest: DigestAlgorithm::Sha1, mgf_digest: DigestAlgorithm::Sha1 },
            Self::RsaOaepSha256 => OaepParams { digest: DigestAlgorithm::Sha256, mgf_digest: DigestAlgorithm::Sha256 },
        }
    }
}

/// The two hash functions of RSA-OAEP (RFC 8017): the one that hashes the label and the one
/// inside the MGF1 mask generation function. The label is always empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OaepParams {
    pub digest: DigestAlgorithm,
    pub mgf_digest: DigestAlgorithm,
}

/// Returns the `xenc11:MGF` algorithm URI for MGF1 with `digest`.
pub fn mgf1_uri(digest: DigestAlgorithm) -> &'static str {
    match digest {
        DigestAlgorithm::Sha1 => MGF1_SHA1,
        DigestAlgorithm::Sha256 => MGF1_SHA256,
        DigestAlgorithm::Sha512 => MGF1_SHA512,
    }
}

/// Parses an `xenc11:MGF` algorithm URI.
pub fn mgf1_from_uri(uri: &str) -> Option<DigestAlgorithm> {
    [DigestAlgorithm::Sha1, DigestAlgorithm::Sha256, DigestAlgorithm::Sha512].into_iter().find(|d| mgf1_uri(*d) == uri)
}

/// Lists the names of `items` for error messages: `"a", "b" or "c"`.
pub(crate) fn quoted_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl fmt::Display for ContentAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for KeyTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_algorithm_parses_name_and_uri() {
        for algorithm in ContentAlgorithm::ALL {
            assert_eq!(ContentAlgorithm::from_name(algorithm.name()), Some(algorithm));
            assert_eq!(ContentAlgorithm::from_name(algorithm.uri()), Some(algorithm));
        }
    }

    #[test]
    fn key_transport_parses_name_and_uri() {
        for transport in KeyTransport::ALL {
            assert_eq!(KeyTransport::from_name(transport.name()), Some(transport));
            assert_eq!(KeyTransport::from_name(transport.uri()), Some(transport));
        }
    }

    #[test]
    fn rsa_1_5_is_not_a_key_transport() {
        assert_eq!(KeyTransport::from_name("rsa-1_5"), None);
        assert!(KeyTransport::is_rsa_1_5(RSA_1_5));
    }

    #[test]
    fn quoted_names_joins_with_or() {
        assert_eq!(quoted_names(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
        assert_eq!(quoted_names(&["a"]), "\"a\"");
    }
}
