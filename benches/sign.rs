//! Times one RSA signature with each signing backend, natively or inside a wasm runtime.
//!
//! Usage: `sign [BACKEND] [BITS] [ITERATIONS]`. BITS is 2048 (default), 3072 or 4096, and
//! ITERATIONS 50 by default. BACKEND is one of:
//!
//! - `fast`: FastRsaSigner with the kernel it prefers on this engine;
//! - `lanes`: FastRsaSigner with its SIMD lane kernel;
//! - `rsa`: RsaCrateSigner;
//! - with the feature `bench-candidates`, `crypto-bigint` (the two CRT exponentiations with
//!   crypto-bigint's fixed-size constant-time Montgomery arithmetic, without blinding or
//!   recombination: a lower bound for a signer built on it) and `rsa010` (the `rsa` crate
//!   0.10, unblinded signing);
//! - `all` (default): each of these.
//!
//! Prints one line per backend: `sign backend=.. bits=.. n=.. min_ms=.. median_ms=..`.
//! Built for wasm32-wasip1 it runs under wasmtime or Node.js (see `benches/run`).

use std::time::Instant;

use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::rsa_fast::{FastRsaSigner, Kernel};
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use rand_core::SeedableRng;
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;

const KEYS: [(u32, &str); 3] = [
    (2048, include_str!("../src/saml/rsa_fast/testdata/rsa2048.pem")),
    (3072, include_str!("../src/saml/rsa_fast/testdata/rsa3072.pem")),
    (4096, include_str!("../src/saml/rsa_fast/testdata/rsa4096.pem")),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map(String::as_str).unwrap_or("all");
    let bits: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2048);
    let iterations: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50);

    let Some((_, pem)) = KEYS.iter().find(|(size, _)| *size == bits) else {
        eprintln!("no test key of {bits} bits; use 2048, 3072 or 4096");
        std::process::exit(2);
    };
    let key = RsaPrivateKey::from_pkcs8_pem(pem).unwrap_or_else(|e| {
        eprintln!("test key does not parse: {e}");
        std::process::exit(2);
    });

    for (name, kernel) in [("fast", Kernel::preferred()), ("lanes", Kernel::Lanes)] {
        if backend == "all" || backend == name {
            match FastRsaSigner::with_kernel(&key, kernel) {
                Ok(signer) => report(&format!("{name} kernel={:?}", signer.kernel()), bits, &time(&signer, iterations)),
                Err(e) => eprintln!("fast signer rejected the key: {e}"),
            }
        }
    }
    if backend == "all" || backend == "rsa" {
        report("rsa", bits, &time(&RsaCrateSigner::new(key.clone()), iterations));
    }
    #[cfg(feature = "bench-candidates")]
    candidates::run(backend, bits, pem, iterations);
}

/// The crates that the signer was measured against before it was written.
#[cfg(feature = "bench-candidates")]
mod candidates {
    use std::time::Instant;

    use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
    use crypto_bigint::{NonZero, Odd, U1024, U2048};
    use rsa::traits::PrivateKeyParts;

    pub fn run(backend: &str, bits: u32, pem: &str, iterations: usize) {
        if (backend == "all" || backend == "crypto-bigint") && bits == 2048 {
            super::report("crypto-bigint", bits, &crypto_bigint_crt(pem, iterations));
        }
        if backend == "all" || backend == "rsa010" {
            super::report("rsa010", bits, &rsa010(pem, iterations));
        }
    }

    fn sorted(mut durations: Vec<f64>) -> Vec<f64> {
        durations.sort_by(f64::total_cmp);
        durations
    }

    fn uint1024(value: &rsa::BigUint) -> U1024 {
        let bytes = value.to_bytes_be();
        let mut padded = [0u8; 128];
        padded[128 - bytes.len()..].copy_from_slice(&bytes);
        U1024::from_be_slice(&padded)
    }

    /// `m^dp mod p` and `m^dq mod q` for a fixed 2048-bit m, with the reductions of m.
    fn crypto_bigint_crt(pem: &str, iterations: usize) -> Vec<f64> {
        use rsa::pkcs8::DecodePrivateKey;
        let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) else {
            return Vec::new();
        };
        let [p, q] = [&key.primes()[0], &key.primes()[1]];
        let one = rsa::BigUint::from(1u8);
        let (dp, dq) = (uint1024(&(key.d() % (p - &one))), uint1024(&(key.d() % (q - &one))));
        let params = [p, q].map(|prime| {
            let odd = Odd::new(uint1024(prime)).expect("a prime is odd");
            FixedMontyParams::new(odd)
        });
        let moduli = [p, q].map(|prime| {
            let wide: U2048 = uint1024(prime).resize();
            NonZero::new(wide).expect("a prime is not zero")
        });
        let message = U2048::from_be_slice(&[0x5au8; 256]);
        let mut durations = Vec::with_capacity(iterations);
        for round in 0..=iterations {
            let start = Instant::now();
            for ((params, modulus), exponent) in params.iter().zip(&moduli).zip([&dp, &dq]) {
                let reduced: U1024 = message.rem(modulus).resize();
                std::hint::black_box(FixedMontyForm::new(&reduced, params).pow(exponent).retrieve());
            }
            if round > 0 {
                durations.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        sorted(durations)
    }

    fn rsa010(pem: &str, iterations: usize) -> Vec<f64> {
        use rsa010::pkcs8::DecodePrivateKey;
        use rsa010::signature::Signer;
        let Ok(key) = rsa010::PrivateKey::from_pkcs8_pem(pem) else {
            return Vec::new();
        };
        let signing_key = rsa010::pkcs1v15::SigningKey::<sha2_011::Sha256>::new(key);
        let message = [0x3cu8; 600];
        let mut durations = Vec::with_capacity(iterations);
        for round in 0..=iterations {
            let start = Instant::now();
            std::hint::black_box(signing_key.try_sign(&message).expect("rsa 0.10 signs"));
            if round > 0 {
                durations.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        sorted(durations)
    }
}

/// Signs a SignedInfo-sized message `iterations` times after one warm-up signature and
/// returns the sorted durations in milliseconds.
fn time(signer: &dyn Signer, iterations: usize) -> Vec<f64> {
    let message = [0x3cu8; 600];
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    let sign = |rng: &mut rand_chacha::ChaCha20Rng| {
        if let Err(e) = signer.sign(SignatureAlgorithm::RsaSha256, &message, rng) {
            eprintln!("signing failed: {e}");
            std::process::exit(1);
        }
    };
    sign(&mut rng);
    let mut durations: Vec<f64> = (0..iterations.max(1))
        .map(|_| {
            let start = Instant::now();
            sign(&mut rng);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    durations.sort_by(f64::total_cmp);
    durations
}

fn report(backend: &str, bits: u32, sorted: &[f64]) {
    let min = sorted.first().copied().unwrap_or(f64::NAN);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    println!("sign backend={backend} bits={bits} n={} min_ms={min:.4} median_ms={median:.4}", sorted.len());
}
