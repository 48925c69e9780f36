//! Signature and digest algorithms, with their XML-DSig identifiers.

use std::fmt;

pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";

/// An RSA PKCS#1 v1.5 signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSA with SHA-1: broken for collision resistance, accepted only behind a legacy switch.
    RsaSha1,
    RsaSha256,
    RsaSha512,
}

/// A digest algorithm for XML-DSig References.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl SignatureAlgorithm {
    /// Parses the configuration name (`rsa-sha256`, `rsa-sha512`, `rsa-sha1`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "rsa-sha1" => Some(Self::RsaSha1),
            "rsa-sha256" => Some(Self::RsaSha256),
            "rsa-sha512" => Some(Self::RsaSha512),
            _ => None,
        }
    }

    /// Parses an XML-DSig `SignatureMethod` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            RSA_SHA1 => Some(Self::RsaSha1),
            RSA_SHA256 => Some(Self::RsaSha256),
            RSA_SHA512 => Some(Self::RsaSha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RsaSha1 => "rsa-sha1",
            Self::RsaSha256 => "rsa-sha256",
            Self::RsaSha512 => "rsa-sha512",
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha1 => RSA_SHA1,
            Self::RsaSha256 => RSA_SHA256,
            Self::RsaSha512 => RSA_SHA512,
        }
    }

    /// The hash the signature is computed over.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            Self::RsaSha1 => DigestAlgorithm::Sha1,
            Self::RsaSha256 => DigestAlgorithm::Sha256,
            Self::RsaSha512 => DigestAlgorithm::Sha512,
        }
    }
}

impl DigestAlgorithm {
    /// Parses the configuration name (`sha256`, `sha512`, `sha1`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Parses an XML-DSig `DigestMethod` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            SHA1 => Some(Self::Sha1),
            SHA256 => Some(Self::Sha256),
            SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha1 => SHA1,
            Self::Sha256 => SHA256,
            Self::Sha512 => SHA512,
        }
    }

    /// Hashes `data` with this algorithm.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
