//! Bearer tokens: the `Authorization` header (RFC 6750 §2.1), lookup by SHA-256 digest,
//! and generation.
//!
//! The configuration holds only digests. A presented token is hashed and compared with
//! every configured digest in constant time, without stopping at a match, so neither the
//! comparison nor the position of the matching entry shows in the response time.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use super::config::TokenEntry;
use super::error::RejectReason;
use super::operation::OperationSet;
use crate::platform::CryptoRngCore;

/// The start of every generated token, so that secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "edgeidp_scim_";

/// Random bytes in a generated token: 256 bits.
pub const TOKEN_RANDOM_BYTES: usize = 32;

/// Maximum length of a token accepted in a request, in bytes. Generated tokens have 56,
/// and the bound only keeps hashing cheap for garbage.
pub const MAX_TOKEN_CHARS: usize = 4096;

/// The SHA-256 digest of a token's exact characters, as configured in `scim.tokens[].sha256`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of_token(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Parses 64 hexadecimal digits, in either case.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// Lowercase hexadecimal, as the configuration entry shows it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

/// Never prints the digest: logs must not carry one.
impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(…)")
    }
}

/// Extracts the bearer token from the values of every `Authorization` header of a request.
///
/// The scheme matches in any letter case (RFC 9110 §11.1). Exactly one header is allowed.
/// A comma means several credentials were joined into one value, which is what Envoy does
/// with repeated headers that it stores inline, and is not part of the token syntax anyway.
pub fn bearer_token<'a>(authorization: &[&'a str]) -> Result<&'a str, RejectReason> {
    let value = match authorization {
        [] => return Err(RejectReason::MissingCredentials),
        [value] => value.trim_matches([' ', '\t']),
        _ => return Err(RejectReason::MultipleAuthorization),
    };
    let joined_bearer = value.split(',').skip(1).any(|piece| starts_with_scheme(piece.trim_start(), "bearer"));
    if joined_bearer {
        return Err(RejectReason::MultipleAuthorization);
    }

    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(RejectReason::NotBearer);
    }
    let token = rest.trim_start_matches([' ', '\t']);
    if token.is_empty() {
        return Err(RejectReason::EmptyToken);
    }
    if token.eq_ignore_ascii_case("bearer") || starts_with_scheme(token, "bearer") {
        return Err(RejectReason::DoubledPrefix);
    }
    if token.contains(',') {
        return Err(RejectReason::MultipleAuthorization);
    }
    if token.len() > MAX_TOKEN_CHARS || !is_b64token(token) {
        return Err(RejectReason::MalformedToken);
    }
    Ok(token)
}

/// Returns whether `text` starts with `scheme` followed by a space or tab.
fn starts_with_scheme(text: &str, scheme: &str) -> bool {
    match (text.get(..scheme.len()), text.get(scheme.len()..)) {
        (Some(head), Some(rest)) => head.eq_ignore_ascii_case(scheme) && rest.starts_with([' ', '\t']),
        _ => false,
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte))
}

/// Returns the configured token whose digest matches `token`, comparing with every entry.
pub fn find_token<'t>(tokens: &'t [TokenEntry], token: &str) -> Option<&'t TokenEntry> {
    let digest = TokenDigest::of_token(token);
    let mut found = None;
    for entry in tokens {
        if bool::from(entry.digest.ct_eq(&digest)) {
            found = Some(entry);
        }
    }
    found
}

/// Generates a token: [`TOKEN_PREFIX`] followed by 256 random bits in unpadded base64url.
/// Returns the token and the lowercase hex SHA-256 digest to configure.
pub fn generate_token(rng: &mut dyn CryptoRngCore) -> (String, String) {
    let mut random = [0u8; TOKEN_RANDOM_BYTES];
    rng.fill_bytes(&mut random);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
    let digest = TokenDigest::of_token(&token).to_hex();
    (token, digest)
}

/// Renders the `scim.tokens[]` entry for a token, with the reference default operations,
/// as pretty-printed JSON.
pub fn token_config_entry(id: &str, tenant: &str, digest_hex: &str) -> String {
    let entry = serde_json::json!({
        "id": id,
        "sha256": digest_hex,
        "tenant": tenant,
        "operations": OperationSet::reference_default().names(),
    });
    serde_json::to_string_pretty(&entry).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn bearer_accepted_forms() {
        let cases = [
            ("Bearer abc", "abc"),
            ("bearer abc", "abc"),
            ("BEARER  abc", "abc"),
            (" Bearer abc= ", "abc="),
            ("Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g=="),
        ];
        for (header, expected) in cases {
            assert_eq!(bearer_token(&[header]), Ok(expected), "header {header:?}");
        }
    }

    #[test]
    fn bearer_rejected_forms() {
        let cases = [
            ("Basic dXNlcjpwYXNz", RejectReason::NotBearer),
            ("abc", RejectReason::NotBearer),
            ("Bearer", RejectReason::EmptyToken),
            ("Bearer   ", RejectReason::EmptyToken),
            ("Bearer Bearer abc", RejectReason::DoubledPrefix),
            ("Bearer bearer abc", RejectReason::DoubledPrefix),
            ("Bearer Bearer", RejectReason::DoubledPrefix),
            ("Bearer abc,Bearer def", RejectReason::MultipleAuthorization),
            ("Basic x, Bearer def", RejectReason::MultipleAuthorization),
            ("Bearer abc,def", RejectReason::MultipleAuthorization),
            ("Bearer abc def", RejectReason::MalformedToken),
            ("Bearer =abc", RejectReason::MalformedToken),
            ("Bearer abc=d", RejectReason::MalformedToken),
            ("Bearer \"abc\"", RejectReason::MalformedToken),
        ];
        for (header, expected) in cases {
            assert_eq!(bearer_token(&[header]), Err(expected), "header {header:?}");
        }
    }

    #[test]
    fn bearer_missing() {
        assert_eq!(bearer_token(&[]), Err(RejectReason::MissingCredentials));
    }

    #[test]
    fn bearer_two_headers() {
        assert_eq!(bearer_token(&["Bearer a", "Bearer a"]), Err(RejectReason::MultipleAuthorization));
    }

    #[test]
    fn bearer_too_long() {
        let header = format!("Bearer {}", "a".repeat(MAX_TOKEN_CHARS + 1));
        assert_eq!(bearer_token(&[header.as_str()]), Err(RejectReason::MalformedToken));
    }

    #[test]
    fn digest_hex_round_trip() {
        let digest = TokenDigest::of_token("abc");
        let hex = digest.to_hex();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 test vector");
        assert_eq!(TokenDigest::from_hex(&hex.to_uppercase()), Some(digest));
    }

    #[test]
    fn digest_hex_invalid() {
        assert_eq!(TokenDigest::from_hex("abc"), None);
        assert_eq!(TokenDigest::from_hex(&"g".repeat(64)), None);
        assert_eq!(TokenDigest::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn digest_debug_hidden() {
        let shown = format!("{:?}", TokenDigest::of_token("abc"));
        assert!(!shown.contains("ba78"), "{shown}");
    }

    #[test]
    fn generated_token_shape() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let (token, digest) = generate_token(&mut rng);
        let random = token.strip_prefix(TOKEN_PREFIX).unwrap_or("");
        assert_eq!(random.len(), 43, "32 bytes are 43 base64url characters");
        assert!(random.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
        assert_eq!(digest, TokenDigest::of_token(&token).to_hex());
        assert_eq!(bearer_token(&[format!("Bearer {token}").as_str()]), Ok(token.as_str()));
    }

    #[test]
    fn generated_tokens_differ() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let (first, _) = generate_token(&mut rng);
        let (second, _) = generate_token(&mut rng);
        assert_ne!(first, second);
    }

    #[test]
    fn config_entry_json() {
        let entry = token_config_entry("okta-2026", "acme", "00ff");
        let value: serde_json::Value = serde_json::from_str(&entry).unwrap_or_default();
        assert_eq!(value["sha256"], "00ff");
        assert_eq!(
            value["operations"],
            serde_json::json!(["read", "create_users", "update_users", "deactivate_users"])
        );
    }
}
