//! Loading the IdP's RSA signing key and X.509 certificates from PEM.

use der::{Decode, DecodePem, Encode};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{RsaPrivateKey, RsaPublicKey};
use time::OffsetDateTime;
use x509_cert::Certificate;

/// The RSA modulus sizes accepted for signing keys, in bits.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 4096;

/// Why a key or certificate could not be loaded. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Neither a PKCS#8 `PRIVATE KEY` nor a PKCS#1 `RSA PRIVATE KEY` PEM block.
    PrivateKeyPem,
    /// Not a PEM `CERTIFICATE` block holding an X.509 certificate.
    CertificatePem(String),
    /// The certificate's public key is not RSA.
    NotRsa,
    /// The modulus size is outside 2048–4096 bits.
    KeySize { bits: usize },
    /// The key's primes differ in size by more than [`MAX_PRIME_BITS_DIFFERENCE`] bits.
    UnbalancedPrimes { smaller: usize, larger: usize },
    /// The private key's public half is not the certificate's public key.
    Mismatch,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKeyPem => f.write_str(
                "not an RSA private key in PEM; expected a \"BEGIN PRIVATE KEY\" (PKCS#8) or \"BEGIN RSA PRIVATE KEY\" (PKCS#1) block",
            ),
            Self::CertificatePem(cause) => {
                write!(f, "not an X.509 certificate in PEM ({cause}); expected a \"BEGIN CERTIFICATE\" block")
            }
            Self::NotRsa => f.write_str("the certificate's public key is not RSA; use an RSA certificate"),
            Self::KeySize { bits } => write!(
                f,
                "the RSA key has {bits} bits; use a key of {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"
            ),
            Self::UnbalancedPrimes { smaller, larger } => write!(
                f,
                "the RSA key's primes have {smaller} and {larger} bits; generate a new key, whose primes are of equal size"
            ),
            Self::Mismatch => f.write_str(
                "the private key does not belong to the certificate; pair the key with the certificate issued for it",
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// An X.509 certificate with the parts the IdP uses: its DER bytes (for `ds:X509Certificate`
/// and metadata) and its RSA public key.
#[derive(Clone, Debug)]
pub struct X509 {
    der: Vec<u8>,
    public_key: RsaPublicKey,
    not_after: OffsetDateTime,
}

impl X509 {
    /// Parses one PEM `CERTIFICATE` block whose public key is RSA of an accepted size.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let certificate =
            Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        Self::from_certificate(&certificate)
    }

    /// Parses a DER-encoded certificate (the content of a `ds:X509Certificate`).
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let certificate = Certificate::from_der(der).map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        Self::from_certificate(&certificate)
    }

    fn from_certificate(certificate: &Certificate) -> Result<Self, KeyError> {
        let der = certificate.to_der().map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        let spki_der = spki.to_der().map_err(|e| KeyError::CertificatePem(e.to_string()))?;
        let public_key = RsaPublicKey::from_public_key_der(&spki_der).map_err(|_| KeyError::NotRsa)?;
        let bits = public_key.n().bits();
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::KeySize { bits });
        }
        let not_after_unix = certificate.tbs_certificate.validity.not_after.to_unix_duration().as_secs();
        let not_after = OffsetDateTime::from_unix_timestamp(i64::try_from(not_after_unix).unwrap_or(i64::MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(Self { der, public_key, not_after })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER bytes in base64, as `ds:X509Certificate` carries them.
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
}

/// Parses an RSA private key from a PKCS#8 or PKCS#1 PEM block and checks its size.
pub fn private_key_from_pem(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    let pem = pem.trim();
    let key = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| KeyError::PrivateKeyPem)?;
    let bits = key.n().bits();
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(KeyError::KeySize { bits });
    }
    check_prime_sizes(&key)?;
    Ok(key)
}

/// The largest difference in bits between the two primes of an accepted key. Key generators
/// (OpenSSL, the `rsa` crate, `edgeidp keygen`) make primes of equal size.
pub const MAX_PRIME_BITS_DIFFERENCE: usize = 8;

/// Rejects keys whose primes differ much in size: the `rsa` crate 0.9.10 does not finish
/// signing with such a key when the first prime is the smaller, which would hang a worker.
fn check_prime_sizes(key: &RsaPrivateKey) -> Result<(), KeyError> {
    let mut sizes: Vec<usize> = key.primes().iter().map(|p| p.bits()).collect();
    sizes.sort_unstable();
    if let (Some(&smaller), Some(&larger)) = (sizes.first(), sizes.last()) {
        if larger - smaller > MAX_PRIME_BITS_DIFFERENCE {
            return Err(KeyError::UnbalancedPrimes { smaller, larger });
        }
    }
    Ok(())
}

/// Checks that `key` is the private half of `certificate`'s public key.
pub fn check_pair(key: &RsaPrivateKey, certificate: &X509) -> Result<(), KeyError> {
    if &key.to_public_key() == certificate.public_key() {
        Ok(())
    } else {
        Err(KeyError::Mismatch)
    }
}

/// A new RSA key and self-signed certificate, both PEM.
pub struct GeneratedKey {
    /// PKCS#8 `PRIVATE KEY` PEM.
    pub private_key_pem: String,
    pub certificate_pem: String,
}

/// Generates an RSA key of `bits` bits and a self-signed certificate for `common_name`, valid
/// from `now` for `validity_days` days, signed with RSA-SHA256.
pub fn generate_self_signed(
    bits: usize,
    common_name: &str,
    now: OffsetDateTime,
    validity_days: u32,
    rng: &mut dyn crate::platform::CryptoRngCore,
) -> Result<GeneratedKey, GenerateError> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::EncodePem;
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::Validity;

    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(GenerateError(KeyError::KeySize { bits }.to_string()));
    }
    if common_name.is_empty() || common_name.contains([',', '=', '+', '"', '\\', '<', '>', ';']) {
        return Err(GenerateError(format!(
            "common name {common_name:?} is empty or contains one of , = + \" \\ < > ; — use letters, digits, spaces, dots or dashes"
        )));
    }
    let mut rng = crate::saml::signer::RngRef(rng);
    let key = RsaPrivateKey::new(&mut rng, bits).map_err(|e| GenerateError(e.to_string()))?;

    let public_der = key.to_public_key().to_public_key_der().map_err(|e| GenerateError(e.to_string()))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(public_der.as_bytes()).map_err(|e| GenerateError(e.to_string()))?;
    let mut serial = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rng, &mut serial);
    serial[0] &= 0x7f; // a positive INTEGER
    serial[0] |= 0x01; // and no leading zero byte
    let serial = SerialNumber::new(&serial).map_err(|e| GenerateError(e.to_string()))?;
    let validity = Validity {
        not_before: x509_time(now)?,
        not_after: x509_time(now + time::Duration::days(i64::from(validity_days)))?,
    };
    let subject = Name::from_str(&format!("CN={common_name}")).map_err(|e| GenerateError(e.to_string()))?;
    let signing_key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signing_key)
        .map_err(|e| GenerateError(e.to_string()))?;
    let certificate = builder
        .build_with_rng::<rsa::pkcs1v15::Signature>(&mut rng)
        .map_err(|e| GenerateError(e.to_string()))?;

    let private_key_pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| GenerateError(e.to_string()))?.to_string();
    let certificate_pem = certificate.to_pem(der::pem::LineEnding::LF).map_err(|e| GenerateError(e.to_string()))?;
    Ok(GeneratedKey { private_key_pem, certificate_pem })
}

fn x509_time(at: OffsetDateTime) -> Result<x509_cert::time::Time, GenerateError> {
    let seconds = u64::try_from(at.unix_timestamp()).map_err(|_| GenerateError("time before 1970".into()))?;
    let since_epoch = std::time::Duration::from_secs(seconds);
    // RFC 5280, section 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if at.year() < 2050 {
        der::asn1::UtcTime::from_unix_duration(since_epoch)
            .map(x509_cert::time::Time::UtcTime)
            .map_err(|e| GenerateError(e.to_string()))
    } else {
        der::asn1::GeneralizedTime::from_unix_duration(since_epoch)
            .map(x509_cert::time::Time::GeneralTime)
            .map_err(|e| GenerateError(e.to_string()))
    }
}

/// Key or certificate generation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError(pub String);

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key generation failed: {}", self.0)
    }
}

impl std::error::Error for GenerateError {}
