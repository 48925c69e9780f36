//! An RSA PKCS#1 v1.5 signer written for WebAssembly: [`FastRsaSigner`].
//!
//! The `rsa` crate (0.9) needs about 12 ms per RSA-2048 signature inside V8 and wasmtime,
//! because its big integers use 64-bit digits that wasm can only multiply as 64×64→64 bits.
//! This signer needs about 1.05 ms inside Envoy 1.40's V8 (`benches/envoy-sign`, on the
//! machine that `BENCHMARKS.md` names):
//!
//! - CRT: two exponentiations of half size instead of one of full size.
//! - Both CRT halves run in one instruction stream, one per 64-bit lane of a 128-bit vector.
//! - Two kernels for the exponentiation ([`Kernel`]). The fused kernel (`fused`) keeps 52-bit
//!   limbs in `f64` lanes and gets each exact 104-bit product from two fused multiply-adds
//!   (`f64x2.relaxed_madd`), about 860 products per 1024-bit Montgomery multiplication. It
//!   works modulo a multiple of each prime that makes quotient digits free. It runs where the
//!   engine fuses that instruction, which is checked at run time. The lane kernel (`lanes`,
//!   `montgomery`) uses 28-bit limbs and `u64x2.extmul_low_u32x4`, about 2,700 products, at
//!   about 2.2 ms per signature; it runs everywhere else.
//! - Montgomery multiplication and squaring without final subtractions, fixed-window
//!   exponentiation with 5-bit windows, and every buffer a fixed-size array on the stack: no
//!   allocation inside the exponentiation. The moduli's Montgomery constants and the
//!   exponents' window digits are computed once, in [`FastRsaSigner::new`].
//! - Blinding pairs reused by squaring (see below) instead of a modular inversion for
//!   every signature.
//!
//! The `rsa` crate still parses and validates keys, and the tests use it as the reference.
//!
//! # Threat model
//!
//! The attacker sends login requests, chooses or predicts the signed bytes, receives the
//! signatures, and measures response times over the network or from a co-located process.
//! The goal is the private key. The defences:
//!
//! - **Timing and cache access.** The exponentiation's loops run over the limb count and a
//!   fixed number of windows (set by the prime size), never over the exponent's value; window
//!   entries are selected by reading all 32 under masks; comparisons and subtractions use
//!   masks instead of branches. Code here does not branch on or index by a secret value.
//!   The fused kernel's floating-point operands are integers below 2^53 and sums with the
//!   offsets 2^104 and 1.5 * 2^52, never subnormal numbers, the inputs for which x86
//!   floating-point instructions can take longer.
//!   Limits: the compiler or the wasm engine could in principle turn a mask back into a
//!   branch (the tests include a statistical timing test, `dudect` style, to catch that), and
//!   the setup in [`FastRsaSigner::new`] runs once, with variable-time `num-bigint-dig`
//!   arithmetic on the key, which one observation cannot exploit. The blinding factors are
//!   also handled with `num-bigint-dig` (products, inversion, conversion to limbs), whose
//!   time can show their magnitude but not the key.
//! - **Base blinding.** Each signature multiplies the message by `r^e` and divides `r` out
//!   after the exponentiation, so the exponentiation never works on a value the attacker knows.
//!   A fresh uniformly random `r` comes from the caller's generator every 32 signatures; in
//!   between, each signature squares the previous pair (`r^2`, then `r^4`, ...), as OpenSSL
//!   does, because a fresh pair costs about as much as a fifth of a signature. `r^-1` comes
//!   from a variable-time inversion, applied to `r * k` for a second random `k` so that its
//!   time depends on nothing the attacker could link to `r`.
//! - **Faults.** A fault in one CRT half would yield a signature s that is correct modulo
//!   one prime only, so `gcd(s^e - m, n)` would reveal that prime. Every result is raised to
//!   `e` and compared with the message modulo p and modulo q (equivalent, by the CRT, to
//!   checking it modulo n) before it leaves; a mismatch returns an error and withholds the
//!   signature.
//!
//! Out of scope: an attacker who reads the process's memory (the key sits in the
//! configuration too), power and electromagnetic analysis, and faults injected precisely
//! into both the exponentiation and the check.

mod crt;
mod float_lanes;
mod fused;
mod lanes;
mod limbs;
mod montgomery;

use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::RsaPrivateKey;

use super::algorithm::SignatureAlgorithm;
use super::signer::{Signer, SigningError};
use crate::platform::CryptoRngCore;
use crt::CrtKey;
pub use crt::Kernel;

/// An RSA PKCS#1 v1.5 signer for two-prime keys of up to 4096 bits, constant-time and blinded
/// (see the module documentation). Its signatures are byte-identical to the `rsa` crate's:
/// PKCS#1 v1.5 signing is deterministic.
///
/// It is fast only on `wasm32` with `simd128` (and `relaxed-simd` for the fused kernel).
/// Natively the portable lanes take about 3.6 ms per RSA-2048 signature, against about 2.0 ms
/// for [`RsaCrateSigner`](super::signer::RsaCrateSigner).
pub struct FastRsaSigner {
    key: CrtKey,
    /// DER `DigestInfo` prefixes (RFC 8017, section 9.2) for SHA-1, SHA-256 and SHA-512.
    prefixes: [Box<[u8]>; 3],
}

impl FastRsaSigner {
    /// Prepares `key`: validates it, precomputes the Montgomery constants and window digits,
    /// and signs one test message whose signature the `rsa` crate then verifies. A key that
    /// this signer mishandles therefore fails here, at configuration load, not at a login.
    pub fn new(key: &RsaPrivateKey) -> Result<Self, SigningError> {
        Self::with_kernel(key, Kernel::preferred())
    }

    /// [`Self::new`] with a chosen [`Kernel`]. [`Kernel::Fused`] falls back to
    /// [`Kernel::Lanes`] for primes too large for it, and [`Self::kernel`] returns the one that runs.
    pub fn with_kernel(key: &RsaPrivateKey, kernel: Kernel) -> Result<Self, SigningError> {
        key.validate().map_err(|e| SigningError(format!("the RSA key is invalid: {e}")))?;
        let prepared = CrtKey::new(key, kernel).map_err(|e| SigningError(e.to_string()))?;
        let signer = Self {
            key: prepared,
            prefixes: [
                Pkcs1v15Sign::new::<sha1::Sha1>().prefix,
                Pkcs1v15Sign::new::<sha2::Sha256>().prefix,
                Pkcs1v15Sign::new::<sha2::Sha512>().prefix,
            ],
        };
        signer.self_test(key)?;
        Ok(signer)
    }

    /// Returns the kernel that runs the secret exponentiation.
    pub fn kernel(&self) -> Kernel {
        self.key.kernel()
    }

    fn self_test(&self, key: &RsaPrivateKey) -> Result<(), SigningError> {
        use rand_core::SeedableRng;
        let message = b"edgeidp signer self-test";
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
        let signature = self.sign(SignatureAlgorithm::RsaSha256, message, &mut rng)?;
        let hashed = SignatureAlgorithm::RsaSha256.digest().hash(message);
        key.to_public_key().verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, &signature).map_err(|_| {
            SigningError(
                "the fast RSA signer's self-test signature did not verify with the key; use RsaCrateSigner for this key"
                    .to_owned(),
            )
        })
    }

    fn prefix(&self, algorithm: SignatureAlgorithm) -> &[u8] {
        let [sha1, sha256, sha512] = &self.prefixes;
        match algorithm {
            SignatureAlgorithm::RsaSha1 => sha1,
            SignatureAlgorithm::RsaSha256 => sha256,
            SignatureAlgorithm::RsaSha512 => sha512,
        }
    }
}

impl Signer for FastRsaSigner {
    fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        rng: &mut dyn CryptoRngCore,
    ) -> Result<Vec<u8>, SigningError> {
        let digest = algorithm.digest().hash(message);
        let encoded = emsa_pkcs1_v15(self.prefix(algorithm), &digest, self.key.modulus_len())?;
        self.key.private_op(&encoded, rng).map_err(|e| SigningError(e.to_string()))
    }
}

/// EMSA-PKCS1-v1_5 encoding (RFC 8017, section 9.2) of a digest into `length` bytes:
/// `0x00 0x01 0xff.. 0x00 DigestInfo`, with at least 8 bytes of `0xff` padding.
fn emsa_pkcs1_v15(prefix: &[u8], digest: &[u8], length: usize) -> Result<Vec<u8>, SigningError> {
    let digest_info_len = prefix.len() + digest.len();
    if length < digest_info_len + 11 {
        return Err(SigningError(format!(
            "a {length}-byte RSA modulus is too short for a {digest_info_len}-byte DigestInfo; use a larger key"
        )));
    }
    let mut encoded = Vec::with_capacity(length);
    encoded.extend_from_slice(&[0x00, 0x01]);
    encoded.resize(length - digest_info_len - 1, 0xff);
    encoded.push(0x00);
    encoded.extend_from_slice(prefix);
    encoded.extend_from_slice(digest);
    Ok(encoded)
}

#[cfg(test)]
mod tests;
