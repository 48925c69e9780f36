//! The RSA private-key operation: base blinding, the two CRT exponentiations in one pass,
//! Garner's recombination, and the check with the public exponent before release.

use num_bigint_dig::ModInverse;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};

use super::float_lanes::{fused_multiply_add_available, V2};
use super::fused::{self, FusedMontgomery};
use super::lanes::Limb2;
use super::limbs::{self, Limbs};
use super::montgomery::{window_digits, ModulusError, Montgomery, Num, MAX_LIMBS};
use crate::platform::CryptoRngCore;

/// Signatures per blinding pair: each signature squares the pair for the next, and after
/// this many a fresh pair is drawn (OpenSSL's RSA blinding uses the same count).
const BLINDING_USES: u32 = 32;

/// Tries at drawing an invertible blinding factor before giving up. A uniformly random value
/// modulo n = p * q fails only if it shares a factor with n (probability below 2^-1000 for
/// 2048-bit keys), so a second try already means a broken random generator.
const BLINDING_ATTEMPTS: usize = 4;

/// An error preparing a key or computing a private-key operation; carries no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CrtError {
    /// The key has more than two primes.
    MultiPrime { primes: usize },
    /// A prime is even or too large for the fixed-size buffers.
    Modulus(ModulusError),
    /// The public exponent does not fit in 64 bits.
    PublicExponent,
    /// The random generator produced no usable blinding factor.
    Blinding,
    /// The message representative is not below the modulus.
    MessageTooLarge,
    /// The result failed the check with the public exponent: a fault in the computation.
    Fault,
}

impl std::fmt::Display for CrtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MultiPrime { primes } => {
                write!(f, "the RSA key has {primes} primes; only two-prime keys are supported, generate a standard two-prime key")
            }
            Self::Modulus(ModulusError::Even) => f.write_str("an RSA prime of the key is even; the key is corrupt"),
            Self::Modulus(ModulusError::TooLarge { bits }) => write!(
                f,
                "an RSA prime of the key has {bits} bits, more than this signer's buffers hold; use a key of at most 4096 bits with primes of equal size"
            ),
            Self::PublicExponent => f.write_str("the RSA public exponent does not fit in 64 bits; use e = 65537"),
            Self::Blinding => {
                f.write_str("no invertible blinding factor after several draws; the random generator is broken")
            }
            Self::MessageTooLarge => f.write_str("the encoded message is not below the RSA modulus"),
            Self::Fault => f.write_str(
                "the computed signature failed verification with the public key and was withheld; this indicates a hardware or memory fault",
            ),
        }
    }
}

/// The arithmetic that runs the secret exponentiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// 28-bit limbs multiplied with `u64x2.extmul_low_u32x4` ([`super::montgomery`]): any
    /// engine with SIMD, and the portable code elsewhere.
    Lanes,
    /// 52-bit limbs multiplied with fused `f64x2.relaxed_madd` ([`super::fused`]): engines
    /// with relaxed SIMD that fuse it, such as V8 in Envoy on CPUs with FMA.
    Fused,
}

impl Kernel {
    /// Returns the fastest kernel this build and engine run correctly: [`Kernel::Fused`] on `wasm32`
    /// built with `relaxed-simd` when the engine fuses the multiply-add, else [`Kernel::Lanes`].
    /// Natively the fused kernel is exact too, but its `f64::mul_add` may run in software.
    pub fn preferred() -> Self {
        if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) && fused_multiply_add_available() {
            Self::Fused
        } else {
            Self::Lanes
        }
    }
}

/// The fused kernel's constants and the exponents' window digits in its lanes.
struct FusedPower {
    montgomery: FusedMontgomery,
    digits: Vec<V2>,
}

/// Bytes that hold any value of [`MAX_LIMBS`] 28-bit limbs, and so any value below a prime.
const PRIME_BYTES: usize = MAX_LIMBS * 28 / 8;

/// Bytes for any value of [`fused::MAX_LIMBS`] 52-bit limbs: the fused kernel's results.
const FUSED_BYTES: usize = (fused::MAX_LIMBS * 52).div_ceil(8);

impl FusedPower {
    /// Returns `base^d` in [`Montgomery`]'s form, computed by the fused kernel: `base` (in
    /// that form, below 2m) goes to canonical limbs, into the fused kernel's Montgomery form
    /// and back. The fused kernel works modulo a multiple of each prime, so its result goes
    /// back through [`Montgomery::to_montgomery`], which reduces it modulo the prime. The
    /// conversions loop over lengths only.
    fn pow(&self, ctx: &Montgomery, base: &Num) -> Num {
        let canonical = limbs::unpack(&ctx.to_canonical(base));
        let mut bytes = [0u8; PRIME_BYTES];
        let mut lanes = [[0u64; fused::MAX_LIMBS]; 2];
        for (lane, value) in lanes.iter_mut().zip(&canonical) {
            limbs::to_bytes(value, &mut bytes);
            fused::from_bytes(&bytes, lane);
        }
        let ours = &self.montgomery;
        let powered = ours.out_of_montgomery(&ours.pow_secret(&ours.to_montgomery(&lanes), &self.digits));
        let mut bytes = [0u8; FUSED_BYTES];
        let mut back = [[0u32; 2 * MAX_LIMBS]; 2];
        for (lane, value) in back.iter_mut().zip(&powered) {
            fused::to_bytes(value, &mut bytes);
            limbs::from_bytes(&bytes, lane);
        }
        // Below the working modulus, so below 2^52 * m, far below R * m.
        ctx.to_montgomery(&limbs::interleave(&back[0], &back[1]))
    }
}

/// A blinding pair per prime, in Montgomery form: `r^e` and `r^-1`.
#[derive(Clone, Copy)]
struct Blinding {
    factor: Num,
    inverse: Num,
    uses: u32,
}

/// An RSA key prepared for the lane arithmetic: lane 0 works modulo p, lane 1 modulo q.
pub(super) struct CrtKey {
    /// The blinding pair for the next signature; `None` until the first.
    blinding: std::sync::Mutex<Option<Blinding>>,
    montgomery: Montgomery,
    /// Window digits of `dp` (lane 0) and `dq` (lane 1), most significant first.
    digits: Vec<Limb2>,
    /// The fused kernel, when it was chosen and the primes fit it.
    fused: Option<FusedPower>,
    /// Lane 0: `qinv * R mod p`, the CRT coefficient in Montgomery form. Lane 1: zero.
    qinv: Num,
    /// The limbs of q, for Garner's final product.
    q: [u32; MAX_LIMBS],
    e: u64,
    n: BigUint,
    modulus_len: usize,
}

impl CrtKey {
    pub(super) fn new(key: &RsaPrivateKey, kernel: Kernel) -> Result<Self, CrtError> {
        let [p, q] = match key.primes() {
            [p, q] => [p, q],
            primes => return Err(CrtError::MultiPrime { primes: primes.len() }),
        };
        let e_bytes = key.e().to_bytes_be();
        if e_bytes.len() > 8 {
            return Err(CrtError::PublicExponent);
        }
        let e = e_bytes.iter().fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));

        let montgomery = Montgomery::new([p, q]).map_err(CrtError::Modulus)?;
        let one = BigUint::from(1u8);
        let dp = key.d() % (p - &one);
        let dq = key.d() % (q - &one);
        let exponent_bits = p.bits().max(q.bits());
        let digits = window_digits([&dp, &dq], exponent_bits);

        // crt_coefficient is None only if q has no inverse modulo p, which validated keys exclude.
        let qinv = key.crt_coefficient().ok_or(CrtError::Modulus(ModulusError::Even))?;
        let r = BigUint::from(1u8) << (super::lanes::LIMB_BITS as usize * montgomery.limbs());
        let qinv_montgomery = (qinv * r) % p;
        let mut qinv_limbs = [0u32; MAX_LIMBS];
        limbs::from_bytes(&qinv_montgomery.to_bytes_be(), &mut qinv_limbs);
        let mut q_limbs = [0u32; MAX_LIMBS];
        limbs::from_bytes(&q.to_bytes_be(), &mut q_limbs);

        let fused = match kernel {
            Kernel::Fused => FusedMontgomery::new([p, q])
                .map(|montgomery| FusedPower { montgomery, digits: fused::digits_of(&digits) }),
            Kernel::Lanes => None,
        };

        Ok(Self {
            blinding: std::sync::Mutex::new(None),
            qinv: limbs::pack(&qinv_limbs, &[0u32; MAX_LIMBS]),
            montgomery,
            digits,
            fused,
            q: q_limbs,
            e,
            n: key.n().clone(),
            modulus_len: key.size(),
        })
    }

    /// Returns the kernel that runs the secret exponentiation.
    pub(super) fn kernel(&self) -> Kernel {
        if self.fused.is_some() {
            Kernel::Fused
        } else {
            Kernel::Lanes
        }
    }

    /// The modulus length in bytes: the length of every signature.
    pub(super) fn modulus_len(&self) -> usize {
        self.modulus_len
    }

    /// Returns `message^d mod n` as `modulus_len` big-endian bytes, for a big-endian
    /// `message` below n, with base blinding from `rng` and the result checked against
    /// `message` with the public exponent before it is returned.
    pub(super) fn private_op(&self, message: &[u8], rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>, CrtError> {
        if message.len() > self.modulus_len || BigUint::from_bytes_be(message) >= self.n {
            return Err(CrtError::MessageTooLarge);
        }
        let ctx = &self.montgomery;
        let blinding = self.next_blinding(rng)?;

        // Into the lanes, in Montgomery form: m mod p and m mod q.
        let message_mont = ctx.to_montgomery(&limbs::broadcast(&limbs_of_bytes(message)));

        // c = m * r^e; c^d = m^d * r; multiplying by r^-1 leaves m^d, per prime.
        let blinded = ctx.mul(&message_mont, &blinding.factor);
        let powered = match &self.fused {
            Some(fused) => fused.pow(ctx, &blinded),
            None => ctx.pow_secret(&blinded, &self.digits),
        };
        let per_prime = ctx.to_canonical(&ctx.mul(&powered, &blinding.inverse));

        let signature = self.recombine(&per_prime);
        self.check(&signature, &message_mont)?;

        let mut out = vec![0u8; self.modulus_len];
        limbs::to_bytes(&signature, &mut out);
        Ok(out)
    }

    /// Returns the blinding pair for this signature and leaves the next one: the square of
    /// this pair (`(r^2)^e` and `(r^2)^-1` are again a pair), or a fresh one from `rng` after
    /// [`BLINDING_USES`] signatures. Squaring costs two multiplications where a fresh pair
    /// costs a random draw, an exponentiation by e and a modular inversion.
    ///
    /// A poisoned lock (a panic while it was held) discards the stored pair. A pair left
    /// inconsistent could only produce a wrong signature, which [`Self::check`] withholds.
    fn next_blinding(&self, rng: &mut dyn CryptoRngCore) -> Result<Blinding, CrtError> {
        let mut state = self.blinding.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = None;
            guard
        });
        let current = match *state {
            Some(pair) if pair.uses < BLINDING_USES => pair,
            _ => self.fresh_blinding(rng)?,
        };
        let ctx = &self.montgomery;
        *state = Some(Blinding {
            factor: ctx.square(&current.factor),
            inverse: ctx.square(&current.inverse),
            uses: current.uses + 1,
        });
        Ok(current)
    }

    /// Draws a new blinding pair from a uniformly random r.
    fn fresh_blinding(&self, rng: &mut dyn CryptoRngCore) -> Result<Blinding, CrtError> {
        let ctx = &self.montgomery;
        let (r, r_inverse) = self.blinding_pair(rng)?;
        let r_mont = ctx.to_montgomery(&limbs::broadcast(&limbs_of_bytes(&r.to_bytes_be())));
        Ok(Blinding {
            factor: ctx.pow_public(&r_mont, self.e),
            inverse: ctx.to_montgomery(&limbs::broadcast(&limbs_of_bytes(&r_inverse.to_bytes_be()))),
            uses: 0,
        })
    }

    /// Draws a uniformly random r in [1, n) and computes r^-1 mod n.
    ///
    /// The inverse comes from `num-bigint-dig`'s variable-time extended Euclid, so it is taken
    /// of `r * k` for a second random `k` and multiplied by `k` afterwards: the time then
    /// depends on a value that is independent of r, and n is public.
    fn blinding_pair(&self, rng: &mut dyn CryptoRngCore) -> Result<(BigUint, BigUint), CrtError> {
        for _ in 0..BLINDING_ATTEMPTS {
            let r = self.random_below_n(rng)?;
            let k = self.random_below_n(rng)?;
            let masked = (&r * &k) % &self.n;
            let Some(masked_inverse) = (&masked).mod_inverse(&self.n).and_then(|inverse| inverse.to_biguint()) else {
                continue;
            };
            let r_inverse = (masked_inverse * k) % &self.n;
            return Ok((r, r_inverse));
        }
        Err(CrtError::Blinding)
    }

    /// Draws a uniformly random value in [1, n) by rejection sampling; each draw is accepted
    /// with probability above 1/2.
    fn random_below_n(&self, rng: &mut dyn CryptoRngCore) -> Result<BigUint, CrtError> {
        let bits = self.n.bits();
        let mut bytes = vec![0u8; bits.div_ceil(8)];
        let top_mask = 0xffu8 >> ((8 - bits % 8) % 8);
        for _ in 0..64 {
            rng.fill_bytes(&mut bytes);
            if let Some(top) = bytes.first_mut() {
                *top &= top_mask;
            }
            let candidate = BigUint::from_bytes_be(&bytes);
            if candidate < self.n && candidate.bits() > 0 {
                return Ok(candidate);
            }
        }
        Err(CrtError::Blinding)
    }

    /// Garner's recombination of `s mod p` (lane 0) and `s mod q` (lane 1), both canonical:
    /// `s = s_q + q * ((s_p - s_q) * qinv mod p)`, which is below n.
    fn recombine(&self, per_prime: &Num) -> Limbs {
        let ctx = &self.montgomery;
        let l = ctx.limbs();
        let [_, s_q] = limbs::unpack(per_prime);

        // s_q mod p in lane 0: (s_q * R^-1) * R^2 * R^-1.
        let s_q_mod_p = ctx.reduce_once(&ctx.mul(&ctx.reduce_wide(&limbs::into_first_lane(&s_q)), ctx.r2()));
        let difference = ctx.sub_mod(per_prime, &s_q_mod_p);
        let h = ctx.reduce_once(&ctx.mul(&difference, &self.qinv));
        let [h, _] = limbs::unpack(&h);

        limbs::mul_add(&self.q, &h, &s_q, l)
    }

    /// Checks `s^e = m` modulo p and modulo q, which by the CRT is `s^e = m (mod n)`: the
    /// verification with the public key. It starts from the recombined s, so a fault in
    /// either exponentiation, the unblinding or the recombination makes it fail.
    fn check(&self, signature: &Limbs, message_mont: &Num) -> Result<(), CrtError> {
        let ctx = &self.montgomery;
        let s = ctx.to_montgomery(&limbs::broadcast(signature));
        let recovered = ctx.to_canonical(&ctx.pow_public(&s, self.e));
        let expected = ctx.to_canonical(message_mont);
        if ctx.equal(&recovered, &expected) {
            Ok(())
        } else {
            Err(CrtError::Fault)
        }
    }
}

fn limbs_of_bytes(bytes: &[u8]) -> Limbs {
    let mut out = [0u32; 2 * MAX_LIMBS];
    limbs::from_bytes(bytes, &mut out);
    out
}
