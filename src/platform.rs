//! The host services the core needs: the current time and a cryptographic random source.
//!
//! The filter reads Envoy's clock and WASI's `random_get`, the previewer the browser's clock
//! and `crypto.getRandomValues`, and tests a fixed clock with a seeded generator. Everything
//! time- or randomness-dependent in a Response goes through this trait, which is what makes
//! the three front ends byte-identical for the same inputs.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use time::OffsetDateTime;

/// The clock and random source that a Response is built with.
pub trait Platform {
    /// Returns the current time in UTC.
    fn now(&self) -> OffsetDateTime;

    /// Returns the cryptographically secure random generator for IDs, keys and blinding.
    fn rng(&mut self) -> &mut dyn CryptoRngCore;
}

/// A cryptographically secure random generator usable as a trait object.
pub trait CryptoRngCore: RngCore + CryptoRng {}
impl<T: RngCore + CryptoRng> CryptoRngCore for T {}

/// The operating system's clock and random source: used by the command line and, on
/// `wasm32-wasip1`, by the filter (WASI `random_get` backs `getrandom`).
pub struct SystemPlatform {
    rng: rand_core::OsRng,
}

impl SystemPlatform {
    pub fn new() -> Self {
        Self { rng: rand_core::OsRng }
    }
}

impl Default for SystemPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl Platform for SystemPlatform {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn rng(&mut self) -> &mut dyn CryptoRngCore {
        &mut self.rng
    }
}

/// A pinned clock and a ChaCha20 generator seeded from a 32-byte seed.
///
/// Used by tests, golden files, `edgeidp sign --now --seed` and the previewer's parity mode.
/// Never use a fixed seed for a deployment: every ID and content key would repeat.
pub struct FixedPlatform {
    now: OffsetDateTime,
    rng: ChaCha20Rng,
}

impl FixedPlatform {
    pub fn new(now: OffsetDateTime, seed: [u8; 32]) -> Self {
        Self { now, rng: ChaCha20Rng::from_seed(seed) }
    }

    /// Parses a seed written as 64 hexadecimal digits, as `edgeidp sign --seed` and the
    /// previewer take it. Returns `None` for any other text.
    pub fn seed_from_hex(hex: &str) -> Option<[u8; 32]> {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut seed = [0u8; 32];
        for (i, byte) in seed.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2)?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(seed)
    }

    /// Moves the pinned clock, keeping the random stream where it is.
    pub fn set_now(&mut self, now: OffsetDateTime) {
        self.now = now;
    }
}

impl Platform for FixedPlatform {
    fn now(&self) -> OffsetDateTime {
        self.now
    }

    fn rng(&mut self) -> &mut dyn CryptoRngCore {
        &mut self.rng
    }
}

/// Platform wrapper that reads time from a caller-supplied value and randomness from any
/// generator, for hosts (Envoy, the browser) that supply their own clock.
pub struct HostPlatform<R: RngCore + CryptoRng> {
    pub now: OffsetDateTime,
    pub rng: R,
}

impl<R: RngCore + CryptoRng> Platform for HostPlatform<R> {
    fn now(&self) -> OffsetDateTime {
        self.now
    }

    fn rng(&mut self) -> &mut dyn CryptoRngCore {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_from_hex_reads_bytes() {
        let hex = "00ff".repeat(16);
        let seed = FixedPlatform::seed_from_hex(&hex).unwrap();
        assert_eq!(seed[..2], [0x00, 0xff]);
    }

    #[test]
    fn seed_from_hex_rejects_wrong_length() {
        assert_eq!(FixedPlatform::seed_from_hex("00"), None);
    }

    #[test]
    fn seed_from_hex_rejects_signs() {
        let hex = format!("+f{}", "0".repeat(62));
        assert_eq!(FixedPlatform::seed_from_hex(&hex), None, "from_str_radix alone accepts a leading +");
    }
}
