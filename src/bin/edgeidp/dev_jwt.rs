//! Development JWTs: an RSA key, its JWKS for Envoy's `jwt_authn`, and RS256 tokens signed
//! with it (RFC 7515, RFC 7517, RFC 7519). The demo and the Envoy tests use these in place of
//! a real OpenID Connect provider.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use edgeidp::platform::CryptoRngCore;
use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::signer::{RsaCrateSigner, Signer};

/// Returns the key ID: the RFC 7638 thumbprint of the public key (SHA-256 over the required members
/// in lexicographic order, base64url).
pub fn key_id(key: &RsaPrivateKey) -> String {
    let (n, e) = public_members(key);
    let canonical = format!("{{\"e\":\"{e}\",\"kty\":\"RSA\",\"n\":\"{n}\"}}");
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Returns the JWKS document with the key's public half.
pub fn jwks(key: &RsaPrivateKey) -> String {
    let (n, e) = public_members(key);
    let document = json!({
        "keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": key_id(key), "n": n, "e": e}]
    });
    document.to_string()
}

fn public_members(key: &RsaPrivateKey) -> (String, String) {
    (URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()), URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()))
}

/// Signs `claims` as an RS256 JWT. `iat` and `exp` (`now + expires_in_seconds`) are added
/// unless `claims` sets them.
pub fn mint(
    key: RsaPrivateKey,
    claims: Map<String, Value>,
    now: OffsetDateTime,
    expires_in_seconds: i64,
    rng: &mut dyn CryptoRngCore,
) -> Result<String, String> {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key_id(&key)});
    let mut payload = claims;
    let issued_at = now.unix_timestamp();
    payload.entry("iat").or_insert(json!(issued_at));
    payload.entry("exp").or_insert(json!(issued_at.saturating_add(expires_in_seconds)));

    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(payload).to_string())
    );
    let signature = RsaCrateSigner::new(key)
        .sign(SignatureAlgorithm::RsaSha256, signing_input.as_bytes(), rng)
        .map_err(|e| e.to_string())?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
