//! The cryptographic operations behind XML Encryption, with RustCrypto's `aes-gcm`, `aes`
//! and `cbc` crates for the content and the `rsa` crate's OAEP for key transport.
//!
//! `CipherValue` layouts, as XML Encryption 1.1 defines them: AES-GCM is the 96-bit nonce,
//! the ciphertext, then the 128-bit tag. AES-CBC is the 128-bit IV, then the padded
//! ciphertext.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::digest::DynDigest;
use zeroize::Zeroizing;

use super::algorithm::{ContentAlgorithm, OaepParams};
use crate::platform::CryptoRngCore;
use crate::saml::algorithm::DigestAlgorithm;
use crate::saml::signer::RngRef;

/// AES block size; also the CBC IV length.
const BLOCK_LEN: usize = 16;
/// AES-GCM authentication tag length.
const TAG_LEN: usize = 16;

/// A failed cryptographic operation. Messages never include keys or plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CipherError {
    /// The content key has the wrong length for the algorithm.
    KeyLength { algorithm: ContentAlgorithm, expected: usize, actual: usize },
    /// The IV or nonce has the wrong length for the algorithm.
    IvLength { algorithm: ContentAlgorithm, expected: usize, actual: usize },
    /// The ciphertext is shorter than the IV (and tag), or not whole blocks.
    Truncated { algorithm: ContentAlgorithm, bytes: usize },
    /// The AES-GCM tag did not match.
    Authentication { algorithm: ContentAlgorithm },
    /// The last CBC block does not end in valid XML Encryption padding.
    Padding { algorithm: ContentAlgorithm },
    /// Encryption of the content or of the content key failed.
    Encryption(String),
    /// RSA-OAEP decryption of the content key failed.
    KeyDecryption,
}

impl std::fmt::Display for CipherError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::KeyLength { algorithm, expected, actual } => write!(
                f,
                "{algorithm} needs a {expected}-byte content key, but the EncryptedKey contains {actual} bytes; the EncryptionMethod does not match the key"
            ),
            Self::IvLength { algorithm, expected, actual } => {
                write!(f, "{algorithm} needs a {expected}-byte IV or nonce, not {actual} bytes")
            }
            Self::Truncated { algorithm, bytes } => write!(
                f,
                "the {algorithm} CipherValue has {bytes} bytes, too few or not whole blocks; the ciphertext is truncated"
            ),
            Self::Authentication { algorithm } => write!(
                f,
                "{algorithm} authentication failed: the ciphertext was modified or the content key is wrong"
            ),
            Self::Padding { algorithm } => write!(
                f,
                "{algorithm} decryption gave invalid padding: the ciphertext was modified or the content key is wrong"
            ),
            Self::Encryption(cause) => write!(f, "encryption failed: {cause}"),
            Self::KeyDecryption => f.write_str(
                "RSA-OAEP decryption of the EncryptedKey failed: the private key is not the one the SP certificate belongs to, or the key transport parameters differ",
            ),
        }
    }
}

impl std::error::Error for CipherError {}

/// A fresh content key and IV or nonce for one EncryptedData.
pub(super) struct ContentKey {
    pub(super) key: Zeroizing<Vec<u8>>,
    pub(super) iv: Vec<u8>,
}

impl ContentKey {
    /// Draws a key, then an IV or nonce, from `rng`.
    pub(super) fn generate(algorithm: ContentAlgorithm, rng: &mut dyn CryptoRngCore) -> Self {
        let mut key = Zeroizing::new(vec![0u8; algorithm.key_len()]);
        rng.fill_bytes(&mut key);
        let mut iv = vec![0u8; algorithm.iv_len()];
        rng.fill_bytes(&mut iv);
        Self { key, iv }
    }
}

/// Encrypts `plaintext` and returns the `CipherValue` bytes: the IV or nonce, the
/// ciphertext and, for GCM, the tag. CBC uses PKCS#7 padding, a special case of the
/// XML Encryption padding rule that every decryptor accepts.
pub(super) fn encrypt_content(
    algorithm: ContentAlgorithm,
    content_key: &ContentKey,
    plaintext: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let key = content_key.key.as_slice();
    let iv = content_key.iv.as_slice();
    let ciphertext = match algorithm {
        ContentAlgorithm::Aes128Gcm => gcm_encrypt::<Aes128Gcm>(algorithm, key, iv, plaintext)?,
        ContentAlgorithm::Aes256Gcm => gcm_encrypt::<Aes256Gcm>(algorithm, key, iv, plaintext)?,
        ContentAlgorithm::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| key_length(algorithm, key))?
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
        ContentAlgorithm::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| key_length(algorithm, key))?
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext),
    };
    let mut cipher_value = Vec::with_capacity(iv.len() + ciphertext.len());
    cipher_value.extend_from_slice(iv);
    cipher_value.extend_from_slice(&ciphertext);
    Ok(cipher_value)
}

/// Decrypts `CipherValue` bytes laid out as [`encrypt_content`] writes them.
pub(super) fn decrypt_content(
    algorithm: ContentAlgorithm,
    key: &[u8],
    cipher_value: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    if key.len() != algorithm.key_len() {
        return Err(key_length(algorithm, key));
    }
    let truncated = CipherError::Truncated { algorithm, bytes: cipher_value.len() };
    let min_len = algorithm.iv_len() + if algorithm.is_gcm() { TAG_LEN } else { BLOCK_LEN };
    if cipher_value.len() < min_len {
        return Err(truncated);
    }
    let (iv, ciphertext) = cipher_value.split_at(algorithm.iv_len());
    match algorithm {
        ContentAlgorithm::Aes128Gcm => gcm_decrypt::<Aes128Gcm>(algorithm, key, iv, ciphertext),
        ContentAlgorithm::Aes256Gcm => gcm_decrypt::<Aes256Gcm>(algorithm, key, iv, ciphertext),
        ContentAlgorithm::Aes128Cbc => {
            let decryptor =
                cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv).map_err(|_| key_length(algorithm, key))?;
            let padded = decryptor.decrypt_padded_vec_mut::<NoPadding>(ciphertext).map_err(|_| truncated)?;
            unpad(algorithm, padded)
        }
        ContentAlgorithm::Aes256Cbc => {
            let decryptor =
                cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).map_err(|_| key_length(algorithm, key))?;
            let padded = decryptor.decrypt_padded_vec_mut::<NoPadding>(ciphertext).map_err(|_| truncated)?;
            unpad(algorithm, padded)
        }
    }
}

fn gcm_encrypt<C: KeyInit + Aead>(
    algorithm: ContentAlgorithm,
    key: &[u8],
    nonce: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let cipher = C::new_from_slice(key).map_err(|_| key_length(algorithm, key))?;
    let nonce = GenericArray::from_exact_iter(nonce.iter().copied()).ok_or_else(|| iv_length(algorithm, nonce))?;
    // AES-GCM refuses only plaintexts longer than 64 GiB.
    cipher
        .encrypt(&nonce, plaintext)
        .map_err(|_| CipherError::Encryption(format!("{algorithm} cannot encrypt {} bytes", plaintext.len())))
}

fn gcm_decrypt<C: KeyInit + Aead>(
    algorithm: ContentAlgorithm,
    key: &[u8],
    nonce: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    let cipher = C::new_from_slice(key).map_err(|_| key_length(algorithm, key))?;
    let nonce = GenericArray::from_exact_iter(nonce.iter().copied()).ok_or_else(|| iv_length(algorithm, nonce))?;
    cipher
        .decrypt(&nonce, ciphertext_and_tag)
        .map(Zeroizing::new)
        .map_err(|_| CipherError::Authentication { algorithm })
}

/// Removes XML Encryption padding. The last byte counts the padding bytes (1 to 16), and XML
/// Encryption leaves the other padding bytes arbitrary, so only the count is checked.
fn unpad(algorithm: ContentAlgorithm, padded: Vec<u8>) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    let mut padded = Zeroizing::new(padded);
    let count = usize::from(padded.last().copied().unwrap_or(0));
    if count == 0 || count > BLOCK_LEN || count > padded.len() {
        return Err(CipherError::Padding { algorithm });
    }
    let len = padded.len() - count;
    padded.truncate(len);
    Ok(padded)
}

fn key_length(algorithm: ContentAlgorithm, key: &[u8]) -> CipherError {
    CipherError::KeyLength { algorithm, expected: algorithm.key_len(), actual: key.len() }
}

fn iv_length(algorithm: ContentAlgorithm, iv: &[u8]) -> CipherError {
    CipherError::IvLength { algorithm, expected: algorithm.iv_len(), actual: iv.len() }
}

/// Encrypts the content key to the SP's public key with RSA-OAEP and an empty label.
pub(super) fn encrypt_key(
    public_key: &RsaPublicKey,
    params: OaepParams,
    content_key: &[u8],
    rng: &mut dyn CryptoRngCore,
) -> Result<Vec<u8>, CipherError> {
    public_key
        .encrypt(&mut RngRef(rng), oaep(params), content_key)
        .map_err(|e| CipherError::Encryption(format!("RSA-OAEP encryption of the content key: {e}")))
}

/// Decrypts an EncryptedKey's `CipherValue` with the SP's private key.
///
/// NOTE: the `rsa` crate's decryption is not constant-time (RUSTSEC-2023-0071, the Marvin
/// attack). That matters for a service that decrypts attacker-chosen ciphertexts and reveals
/// the outcome. The IdP decrypts only in the previewer and tests, with the operator's key.
pub(super) fn decrypt_key(
    private_key: &RsaPrivateKey,
    params: OaepParams,
    encrypted_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    private_key.decrypt(oaep(params), encrypted_key).map(Zeroizing::new).map_err(|_| CipherError::KeyDecryption)
}

fn oaep(params: OaepParams) -> Oaep {
    Oaep { digest: dyn_digest(params.digest), mgf_digest: dyn_digest(params.mgf_digest), label: None }
}

fn dyn_digest(algorithm: DigestAlgorithm) -> Box<dyn DynDigest + Send + Sync> {
    match algorithm {
        DigestAlgorithm::Sha1 => Box::new(<sha1::Sha1 as sha2::Digest>::new()),
        DigestAlgorithm::Sha256 => Box::new(<sha2::Sha256 as sha2::Digest>::new()),
        DigestAlgorithm::Sha512 => Box::new(<sha2::Sha512 as sha2::Digest>::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn roundtrip(algorithm: ContentAlgorithm, plaintext: &[u8]) -> Vec<u8> {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let content_key = ContentKey::generate(algorithm, &mut rng);
        let cipher_value = encrypt_content(algorithm, &content_key, plaintext).expect("encrypts");
        decrypt_content(algorithm, &content_key.key, &cipher_value).expect("decrypts").to_vec()
    }

    #[test]
    fn content_roundtrips_every_algorithm() {
        for algorithm in ContentAlgorithm::ALL {
            for len in [0, 1, 15, 16, 17, 1000] {
                let plaintext = vec![b'x'; len];
                assert_eq!(roundtrip(algorithm, &plaintext), plaintext, "{algorithm}, {len} bytes");
            }
        }
    }

    #[test]
    fn cipher_value_starts_with_iv() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        for algorithm in ContentAlgorithm::ALL {
            let content_key = ContentKey::generate(algorithm, &mut rng);
            let cipher_value = encrypt_content(algorithm, &content_key, b"abc").expect("encrypts");
            assert_eq!(cipher_value.get(..algorithm.iv_len()), Some(content_key.iv.as_slice()), "{algorithm}");
        }
    }

    #[test]
    fn gcm_rejects_flipped_bit() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let algorithm = ContentAlgorithm::Aes256Gcm;
        let content_key = ContentKey::generate(algorithm, &mut rng);
        let mut cipher_value = encrypt_content(algorithm, &content_key, b"<a/>").expect("encrypts");
        cipher_value[13] ^= 1;
        let result = decrypt_content(algorithm, &content_key.key, &cipher_value);
        assert_eq!(result.err(), Some(CipherError::Authentication { algorithm }));
    }

    #[test]
    fn cbc_accepts_arbitrary_padding_bytes() {
        let algorithm = ContentAlgorithm::Aes128Cbc;
        let key = [9u8; 16];
        let iv = [4u8; 16];
        // "abc" plus 13 padding bytes whose values other than the last are arbitrary.
        let mut block = *b"abc\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d";
        let encryptor = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv).expect("lengths are right");
        let ciphertext = encryptor.encrypt_padded_mut::<NoPadding>(&mut block, 16).expect("one block").to_vec();
        let cipher_value = [iv.as_slice(), &ciphertext].concat();
        let plaintext = decrypt_content(algorithm, &key, &cipher_value).expect("decrypts");
        assert_eq!(plaintext.as_slice(), b"abc");
    }

    #[test]
    fn truncated_cipher_value_is_rejected() {
        let result = decrypt_content(ContentAlgorithm::Aes128Gcm, &[0; 16], &[0; 27]);
        assert!(matches!(result, Err(CipherError::Truncated { bytes: 27, .. })), "{result:?}");
    }

    #[test]
    fn wrong_key_length_is_rejected() {
        let result = decrypt_content(ContentAlgorithm::Aes256Gcm, &[0; 16], &[0; 64]);
        assert!(matches!(result, Err(CipherError::KeyLength { expected: 32, actual: 16, .. })), "{result:?}");
    }
}
