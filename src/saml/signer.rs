//! The signing interface between the XML-DSig code and the RSA implementation.
//!
//! The builder and canonicalizer only ever call [`Signer::sign`], so the RSA backend can be
//! replaced (for a faster wasm implementation, say) without touching them.

use rsa::pkcs1v15::SigningKey;
use rsa::signature::RandomizedSigner;
use rsa::signature::SignatureEncoding;
use rsa::RsaPrivateKey;

use super::algorithm::SignatureAlgorithm;
use crate::platform::CryptoRngCore;

/// A failed private-key operation. The message never includes key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningError(pub String);

impl std::fmt::Display for SigningError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signing failed: {}", self.0)
    }
}

impl std::error::Error for SigningError {}

/// An RSA PKCS#1 v1.5 signer.
pub trait Signer: Send + Sync {
    /// Signs `message` (the canonical SignedInfo bytes): hashes it with the algorithm's
    /// digest and returns the PKCS#1 v1.5 signature. `rng` is used for blinding only; the
    /// signature itself is deterministic.
    fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Vec<u8>, SigningError>;
}

/// The reference backend: the `rsa` crate, with base blinding from the caller's generator.
pub struct RsaCrateSigner {
    key: RsaPrivateKey,
}

impl RsaCrateSigner {
    pub fn new(key: RsaPrivateKey) -> Self {
        Self { key }
    }
}

impl Signer for RsaCrateSigner {
    fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Vec<u8>, SigningError> {
        let mut rng = RngRef(rng);
        let signature = match algorithm {
            SignatureAlgorithm::RsaSha1 => SigningKey::<sha1::Sha1>::new(self.key.clone())
                .try_sign_with_rng(&mut rng, message)
                .map(|s| s.to_vec()),
            SignatureAlgorithm::RsaSha256 => SigningKey::<sha2::Sha256>::new(self.key.clone())
                .try_sign_with_rng(&mut rng, message)
                .map(|s| s.to_vec()),
            SignatureAlgorithm::RsaSha512 => SigningKey::<sha2::Sha512>::new(self.key.clone())
                .try_sign_with_rng(&mut rng, message)
                .map(|s| s.to_vec()),
        };
        signature.map_err(|e| SigningError(e.to_string()))
    }
}

/// Adapts `&mut dyn CryptoRngCore` to the sized generator the `rsa` crate expects.
pub(crate) struct RngRef<'a>(pub(crate) &'a mut dyn CryptoRngCore);

impl rand_core::RngCore for RngRef<'_> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl rand_core::CryptoRng for RngRef<'_> {}
