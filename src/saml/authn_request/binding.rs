//! The HTTP-Redirect and HTTP-POST bindings (SAML 2.0 bindings, sections 3.4 and 3.5):
//! from a query string or form body to the request's XML text.

use std::borrow::Cow;
use std::io::Read;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::error::RequestErrorKind;

/// Size limits for the encoded and decoded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Maximum length of the encoded SAMLRequest value. Default: 64 KiB.
    pub max_encoded_bytes: usize,
    /// Maximum size of the request XML after base64 and DEFLATE. Default: 128 KiB.
    pub max_xml_bytes: usize,
    /// Maximum RelayState length after URL decoding. Default: 4096 bytes, as the app
    /// configuration allows for its own RelayState.
    pub max_relay_state_bytes: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_encoded_bytes: 64 * 1024,
            max_xml_bytes: 128 * 1024,
            max_relay_state_bytes: 4096,
        }
    }
}

/// The binding a request arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Redirect,
    Post,
}

/// The detached signature of an HTTP-Redirect request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSignature {
    /// `SAMLRequest=…[&RelayState=…]&SigAlg=…` with each value exactly as received.
    pub signed_bytes: String,
    /// The SigAlg URI, URL-decoded.
    pub sig_alg: String,
    pub signature: Vec<u8>,
}

/// A request taken off its binding but not yet parsed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    pub binding: Binding,
    pub xml: String,
    pub relay_state: Option<String>,
    /// Present for a signed HTTP-Redirect request.
    pub redirect_signature: Option<RedirectSignature>,
}

/// Base64 that tolerates missing padding, which some SP libraries omit.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes an HTTP-Redirect query string (without the leading `?`).
///
/// The signature input is rebuilt from the raw parameter values in the order the binding
/// fixes (SAMLRequest, RelayState, SigAlg), never re-encoded, because SPs differ in how they
/// percent-encode and the signature covers their bytes.
pub fn decode_redirect(query: &str, limits: &DecodeLimits) -> Result<EncodedRequest, RequestErrorKind> {
    let parameters = RawParameters::parse(query)?;
    let saml_request = parameters.saml_request(limits)?;

    let compressed = decode_base64(&percent_decode(saml_request, false, "SAMLRequest")?, "SAMLRequest")?;
    let xml = inflate(&compressed, limits.max_xml_bytes)?;
    let relay_state = relay_state(parameters.get("RelayState"), limits)?;

    let redirect_signature = match (parameters.get("Signature"), parameters.get("SigAlg")) {
        (None, _) => None,
        (Some(_), None) => return Err(RequestErrorKind::MissingSigAlg),
        (Some(signature), Some(sig_alg)) => {
            let mut signed_bytes = format!("SAMLRequest={saml_request}");
            if let Some(raw) = parameters.get("RelayState") {
                signed_bytes.push_str("&RelayState=");
                signed_bytes.push_str(raw);
            }
            signed_bytes.push_str("&SigAlg=");
            signed_bytes.push_str(sig_alg);
            Some(RedirectSignature {
                signed_bytes,
                sig_alg: percent_decode(sig_alg, true, "SigAlg")?.into_owned(),
                signature: decode_base64(&percent_decode(signature, false, "Signature")?, "Signature")?,
            })
        }
    };
    Ok(EncodedRequest { binding: Binding::Redirect, xml, relay_state, redirect_signature })
}

/// Decodes an HTTP-POST form body (`application/x-www-form-urlencoded`).
pub fn decode_post(body: &str, limits: &DecodeLimits) -> Result<EncodedRequest, RequestErrorKind> {
    let parameters = RawParameters::parse(body)?;
    let saml_request = parameters.saml_request(limits)?;
    let decoded = decode_base64(&percent_decode(saml_request, false, "SAMLRequest")?, "SAMLRequest")?;
    if decoded.len() > limits.max_xml_bytes {
        return Err(RequestErrorKind::InflatedTooLarge { max: limits.max_xml_bytes });
    }
    let xml = String::from_utf8(decoded).map_err(|_| RequestErrorKind::NotUtf8)?;
    let relay_state = relay_state(parameters.get("RelayState"), limits)?;
    Ok(EncodedRequest { binding: Binding::Post, xml, relay_state, redirect_signature: None })
}

/// Query or form parameters as raw `name=value` slices, in order, with duplicates of the
/// SAML parameters rejected.
struct RawParameters<'q> {
    pairs: Vec<(&'q str, &'q str)>,
}

impl<'q> RawParameters<'q> {
    const SAML_NAMES: [&'static str; 4] = ["SAMLRequest", "RelayState", "SigAlg", "Signature"];

    fn parse(query: &'q str) -> Result<Self, RequestErrorKind> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if Self::SAML_NAMES.contains(&name) && pairs.iter().any(|(n, _)| *n == name) {
                return Err(RequestErrorKind::DuplicateParameter { name: name.to_string() });
            }
            pairs.push((name, value));
        }
        Ok(Self { pairs })
    }

    fn get(&self, name: &str) -> Option<&'q str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Returns the raw SAMLRequest value, checked against the encoded size limit.
    fn saml_request(&self, limits: &DecodeLimits) -> Result<&'q str, RequestErrorKind> {
        let value = self.get("SAMLRequest").ok_or(RequestErrorKind::MissingParameter { name: "SAMLRequest" })?;
        if value.len() > limits.max_encoded_bytes {
            return Err(RequestErrorKind::EncodedTooLarge {
                name: "SAMLRequest",
                bytes: value.len(),
                max: limits.max_encoded_bytes,
            });
        }
        Ok(value)
    }
}

/// URL-decodes a parameter value. `plus_is_space` applies the form rule that `+` is a space;
/// it is off for base64 values, where an unencoded `+` can only mean `+`.
fn percent_decode<'v>(value: &'v str, plus_is_space: bool, name: &'static str) -> Result<Cow<'v, str>, RequestErrorKind> {
    let value: Cow<'v, str> = if plus_is_space && value.contains('+') {
        Cow::Owned(value.replace('+', " "))
    } else {
        Cow::Borrowed(value)
    };
    let decoded = percent_encoding::percent_decode_str(&value)
        .decode_utf8()
        .map_err(|_| RequestErrorKind::InvalidPercentEncoding { name })?;
    Ok(Cow::Owned(decoded.into_owned()))
}

/// Decodes base64, ignoring the line breaks and spaces some encoders insert.
fn decode_base64(text: &str, name: &'static str) -> Result<Vec<u8>, RequestErrorKind> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64.decode(compact).map_err(|_| RequestErrorKind::InvalidBase64 { name })
}

/// Inflates raw DEFLATE data (RFC 1951, no zlib header), stopping past `max` bytes so a
/// small compressed request cannot expand without bound.
fn inflate(compressed: &[u8], max: usize) -> Result<String, RequestErrorKind> {
    let decoder = flate2::read::DeflateDecoder::new(compressed);
    let mut inflated = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|e| RequestErrorKind::InvalidDeflate { cause: e.to_string() })?;
    if inflated.len() > max {
        return Err(RequestErrorKind::InflatedTooLarge { max });
    }
    String::from_utf8(inflated).map_err(|_| RequestErrorKind::NotUtf8)
}

fn relay_state(raw: Option<&str>, limits: &DecodeLimits) -> Result<Option<String>, RequestErrorKind> {
    let Some(raw) = raw else { return Ok(None) };
    let decoded = percent_decode(raw, true, "RelayState")?;
    if decoded.len() > limits.max_relay_state_bytes {
        return Err(RequestErrorKind::RelayStateTooLong { bytes: decoded.len(), max: limits.max_relay_state_bytes });
    }
    Ok(Some(decoded.into_owned()))
}
