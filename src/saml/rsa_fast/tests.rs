//! Differential tests of [`FastRsaSigner`] against the `rsa` crate and OpenSSL, and
//! Wycheproof's PKCS#1 v1.5 vectors for the encoding.
//!
//! PKCS#1 v1.5 signatures are deterministic, so every comparison is byte for byte.
//! `EDGEIDP_RSA_MESSAGES=N` sets the number of random messages for the 2048-bit key in the
//! `rsa` crate comparison (half as many for 3072 bits, a quarter for 4096): by default 200
//! in optimized builds and 20 in debug builds, where this module runs about 50 times slower.
//! The long run, natively and on the wasm SIMD path under Node.js:
//!
//! ```text
//! EDGEIDP_RSA_MESSAGES=4000 cargo test --release --lib rsa_fast::tests
//! EDGEIDP_RSA_MESSAGES=4000 cargo test --release --target wasm32-wasip1 --no-default-features --lib rsa_fast::tests
//! ```

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs8::DecodePrivateKey;
use rsa::{BigUint, RsaPrivateKey};

use super::*;
use crate::saml::signer::RsaCrateSigner;

pub(super) const KEY_2048: &str = include_str!("testdata/rsa2048.pem");
const KEY_2048_E3: &str = include_str!("testdata/rsa2048-e3.pem");
const KEY_3000: &str = include_str!("testdata/rsa3000.pem");
const KEY_3072: &str = include_str!("testdata/rsa3072.pem");
const KEY_4096: &str = include_str!("testdata/rsa4096.pem");

/// Primes of 992 and 1064 bits (from `openssl prime -generate`), for a key whose primes
/// differ in size.
const UNEQUAL_P: &str = "E797C49B1469CC78FDBEA66435609223D69DA3B827C544145545F10F865BA2A21B2747A4B8CE608D426951C7EA48A8F7172FFBA65F02070ADB3A913BF2F146035FC92FAF9D6471BC8E252F2BF741C5A119E5D2D977ABACE59F540CF200EAF340FBF2F1562A30EF297A62773002C512ED24A379BA9F50D5CE26888031";
/// A 256-bit prime (from `openssl prime -generate`), the third prime of a multi-prime key.
const THIRD_PRIME: &str = "EB316ACADFCE47817CC285E5FF7D09778C00D3F57428A5662C74EC3268FE8423";
const UNEQUAL_Q: &str = "E34B3F3816E65C879649E4A2A1542680068FB242B2A35CA005495B707EF15D8B2313524DD550973C8B9BE255074188B536D66DF37C2EF1FBBD2736598D00D1E418D7F1BC31B0B62D2AD8525296725010C0F13C73E4516B7EE3E3AE0F4D49FC92B9114F90FF5E3A8A245A37E173ECFC33E36EAEC0CC722F7DBB4B1735316FC9F2D6448A1B05";

const ALGORITHMS: [SignatureAlgorithm; 3] =
    [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha512];

pub(super) fn key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("test key fixture parses")
}

fn prime(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).expect("hex prime")
}

fn unequal_key(swapped: bool) -> RsaPrivateKey {
    let (p, q) = (prime(UNEQUAL_P), prime(UNEQUAL_Q));
    let (first, second) = if swapped { (q, p) } else { (p, q) };
    RsaPrivateKey::from_p_q(first, second, BigUint::from(65537u32)).expect("key from two primes")
}

fn message_count() -> usize {
    let default = if cfg!(debug_assertions) { 20 } else { 200 };
    std::env::var("EDGEIDP_RSA_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Both kernels, each of which every differential test runs.
const KERNELS: [Kernel; 2] = [Kernel::Lanes, Kernel::Fused];

/// Builds the signer with `kernel` and checks that it runs that kernel: every key here fits both.
fn signer(key: &RsaPrivateKey, kernel: Kernel) -> FastRsaSigner {
    let signer = FastRsaSigner::with_kernel(key, kernel).expect("fast signer accepts the key");
    assert_eq!(signer.kernel(), kernel, "the signer runs the kernel it was asked for");
    signer
}

/// Signs `count` random messages of random length with the `rsa` crate and with each kernel,
/// cycling through the algorithms, and requires identical bytes.
fn assert_matches_rsa_crate(name: &str, key: &RsaPrivateKey, count: usize) {
    let reference = RsaCrateSigner::new(key.clone());
    for kernel in KERNELS {
        let fast = signer(key, kernel);
        let mut messages = ChaCha20Rng::from_seed([1; 32]);
        let mut blinding = ChaCha20Rng::from_seed([2; 32]);
        for index in 0..count {
            let mut message = vec![0u8; (messages.next_u32() % 300) as usize];
            messages.fill_bytes(&mut message);
            let algorithm = ALGORITHMS[index % ALGORITHMS.len()];
            let expected = reference.sign(algorithm, &message, &mut blinding).expect("rsa crate signs");
            let actual = fast.sign(algorithm, &message, &mut blinding).expect("fast signer signs");
            assert_eq!(actual, expected, "{name}, {kernel:?} kernel: message {index} ({algorithm}) differs from the rsa crate");
        }
    }
}

#[test]
fn rsa_crate_2048() {
    assert_matches_rsa_crate("2048-bit key", &key(KEY_2048), message_count());
}

#[test]
fn rsa_crate_3072() {
    assert_matches_rsa_crate("3072-bit key", &key(KEY_3072), message_count() / 2);
}

#[test]
fn rsa_crate_4096() {
    assert_matches_rsa_crate("4096-bit key", &key(KEY_4096), message_count() / 4);
}

#[test]
fn rsa_crate_3000() {
    assert_matches_rsa_crate("3000-bit key", &key(KEY_3000), message_count() / 4);
}

#[test]
fn rsa_crate_exponent_three() {
    assert_matches_rsa_crate("2048-bit key with e = 3", &key(KEY_2048_E3), message_count() / 4);
}

/// Keys whose primes differ in size, checked with the `rsa` crate's verification: the
/// `rsa` crate's own signing (0.9.10) does not finish for the key whose first prime is the
/// smaller one, because its CRT step adds p to a negative difference one p at a time.
#[test]
fn rsa_crate_verifies_unequal_primes() {
    let keys = [("992/1064-bit primes", unequal_key(false)), ("1064/992-bit primes", unequal_key(true))];
    for ((name, key), kernel) in keys.iter().flat_map(|key| KERNELS.map(|kernel| (key, kernel))) {
        let fast = signer(key, kernel);
        let public = key.to_public_key();
        let mut messages = ChaCha20Rng::from_seed([7; 32]);
        for index in 0..message_count() / 4 {
            let mut message = vec![0u8; 64];
            messages.fill_bytes(&mut message);
            let signature = fast.sign(SignatureAlgorithm::RsaSha256, &message, &mut messages).expect("fast signer signs");
            let hashed = SignatureAlgorithm::RsaSha256.digest().hash(&message);
            let verified = public.verify(Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, &signature);
            assert!(verified.is_ok(), "{name}, {kernel:?} kernel: signature {index} does not verify");
        }
    }
}

#[test]
fn key_loading_rejects_unequal_primes() {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    for swapped in [false, true] {
        let pem = unequal_key(swapped).to_pkcs8_pem(LineEnding::LF).expect("PEM");
        let error = crate::saml::keys::private_key_from_pem(&pem).expect_err("unequal primes must be rejected");
        assert_eq!(error, crate::saml::keys::KeyError::UnbalancedPrimes { smaller: 992, larger: 1064 }, "swapped = {swapped}");
    }
}

#[test]
fn new_rejects_three_primes() {
    let primes = vec![prime(UNEQUAL_P), prime(UNEQUAL_Q), prime(THIRD_PRIME)];
    let key = RsaPrivateKey::from_primes(primes, BigUint::from(65537u32)).expect("three-prime key");
    let Err(error) = FastRsaSigner::new(&key) else {
        panic!("a three-prime key must be rejected");
    };
    assert!(error.0.contains("3 primes"), "the error names the prime count: {error}");
}

#[test]
fn sign_ignores_blinding_randomness() {
    let fast = FastRsaSigner::new(&key(KEY_2048)).expect("fast signer accepts the key");
    let first = fast.sign(SignatureAlgorithm::RsaSha256, b"message", &mut ChaCha20Rng::from_seed([3; 32]));
    let second = fast.sign(SignatureAlgorithm::RsaSha256, b"message", &mut ChaCha20Rng::from_seed([4; 32]));
    assert_eq!(first, second, "different blinding factors give the same deterministic signature");
}

#[test]
fn emsa_layout() {
    let encoded = emsa_pkcs1_v15(&[0xaa, 0xbb], &[0xcc; 4], 20).expect("fits");
    let mut expected = vec![0x00, 0x01];
    expected.extend([0xff; 11]);
    expected.extend([0x00, 0xaa, 0xbb, 0xcc, 0xcc, 0xcc, 0xcc]);
    assert_eq!(encoded, expected, "00 01 ff.. 00 prefix digest");
}

#[test]
fn emsa_rejects_short_modulus() {
    assert!(emsa_pkcs1_v15(&[0xaa, 0xbb], &[0xcc; 4], 16).is_err(), "fewer than 8 padding bytes is an error");
}

/// Wycheproof's PKCS#1 v1.5 verification vectors: for every valid signature, `s^e mod n` is
/// exactly the encoding this signer produces for the message; for every invalid one it is
/// not, so the encoder never emits one of the malformed variants (missing NULL, BER lengths,
/// wrong hash, short padding) that lenient verifiers accept.
#[test]
fn wycheproof_encoding() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    use wycheproof::TestResult;

    let sets = [
        (TestName::Rsa2048Sha256, SignatureAlgorithm::RsaSha256),
        (TestName::Rsa2048Sha512, SignatureAlgorithm::RsaSha512),
        (TestName::Rsa3072Sha256, SignatureAlgorithm::RsaSha256),
        (TestName::Rsa3072Sha512, SignatureAlgorithm::RsaSha512),
        (TestName::Rsa4096Sha256, SignatureAlgorithm::RsaSha256),
        (TestName::Rsa4096Sha512, SignatureAlgorithm::RsaSha512),
    ];
    let prefix = |algorithm| match algorithm {
        SignatureAlgorithm::RsaSha256 => Pkcs1v15Sign::new::<sha2::Sha256>().prefix,
        _ => Pkcs1v15Sign::new::<sha2::Sha512>().prefix,
    };
    for (name, algorithm) in sets {
        let mut valid = 0;
        let set = TestSet::load(name).expect("wycheproof set loads");
        for group in set.test_groups {
            let n = BigUint::from_bytes_be(&group.key.n);
            let e = BigUint::from_bytes_be(&group.key.e);
            let length = n.bits().div_ceil(8);
            for test in group.tests {
                let s = BigUint::from_bytes_be(&test.sig);
                if test.sig.len() != length || s >= n {
                    assert_ne!(test.result, TestResult::Valid, "test {}: a valid signature has the modulus length", test.tc_id);
                    continue;
                }
                let recovered = s.modpow(&e, &n).to_bytes_be();
                let mut padded = vec![0u8; length - recovered.len()];
                padded.extend(recovered);
                let digest = algorithm.digest().hash(&test.msg);
                let ours = emsa_pkcs1_v15(&prefix(algorithm), &digest, length).expect("encoding fits");
                match test.result {
                    TestResult::Valid => {
                        valid += 1;
                        assert_eq!(ours, padded, "{name:?} test {}: {}", test.tc_id, test.comment);
                    }
                    TestResult::Invalid => {
                        assert_ne!(ours, padded, "{name:?} test {}: {}", test.tc_id, test.comment);
                    }
                    TestResult::Acceptable => {}
                }
            }
        }
        assert!(valid > 0, "{name:?} holds valid vectors to compare against");
    }
}

/// OpenSSL's `openssl dgst -sign` on the same key and message gives the same bytes, for a
/// tenth of [`message_count`] messages per key.
#[cfg(not(target_family = "wasm"))]
#[test]
fn openssl_dgst_sign() {
    use std::process::Command;

    let directory = std::env::temp_dir().join(format!("edgeidp-rsa-fast-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temporary directory");
    let mut messages = ChaCha20Rng::from_seed([5; 32]);
    let mut blinding = ChaCha20Rng::from_seed([6; 32]);
    for (name, pem) in [("2048", KEY_2048), ("3072", KEY_3072), ("4096", KEY_4096)] {
        let key_path = directory.join(format!("rsa{name}.pem"));
        std::fs::write(&key_path, pem).expect("write key");
        let kernels = KERNELS.map(|kernel| signer(&key(pem), kernel));
        for index in 0..message_count().div_ceil(10) {
            let algorithm = ALGORITHMS[index % ALGORITHMS.len()];
            let mut message = vec![0u8; 1 + (messages.next_u32() % 500) as usize];
            messages.fill_bytes(&mut message);
            let message_path = directory.join("message");
            std::fs::write(&message_path, &message).expect("write message");
            let digest_flag = format!("-{}", algorithm.digest().name());
            let output = Command::new("openssl")
                .args(["dgst", &digest_flag, "-sign"])
                .arg(&key_path)
                .arg(&message_path)
                .output()
                .expect("openssl runs; install it with `apt-get install openssl`");
            assert!(output.status.success(), "openssl dgst failed: {}", String::from_utf8_lossy(&output.stderr));
            for fast in &kernels {
                let actual = fast.sign(algorithm, &message, &mut blinding).expect("fast signer signs");
                let kernel = fast.kernel();
                assert_eq!(actual, output.stdout, "rsa{name}, {kernel:?} kernel: message {index} ({algorithm}) differs from openssl dgst -sign");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
}


/// The blinding pair is squared after each signature and renewed after 32; signatures before
/// and after the renewal stay exact.
#[test]
fn blinding_renewal_keeps_signatures_exact() {
    let key = key(KEY_2048);
    let reference = RsaCrateSigner::new(key.clone());
    let fast = signer(&key, Kernel::Fused);
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    for index in 0..34u32 {
        let message = index.to_be_bytes();
        let expected = reference.sign(SignatureAlgorithm::RsaSha256, &message, &mut rng).expect("rsa crate signs");
        let actual = fast.sign(SignatureAlgorithm::RsaSha256, &message, &mut rng).expect("fast signer signs");
        assert_eq!(actual, expected, "signature {index} differs from the rsa crate");
    }
}
