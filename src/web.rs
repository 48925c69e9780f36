//! The wasm-bindgen API behind the in-browser previewer (feature `web`, target
//! `wasm32-unknown-unknown`).
//!
//! Each function takes and returns JSON text and turns the core's errors into JavaScript
//! `Error`s carrying the core's message. Nothing here makes a network request: the private
//! keys the page passes in (the IdP's signing key, and the SP's key that decrypts an encrypted
//! Assertion) stay in the page's memory.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsError;

use crate::platform::SystemPlatform;
use crate::preview::{self, InspectRequest, KeyRequest, PreviewError, PreviewRequest};

/// Builds and signs a Response and describes it. Takes a `PreviewRequest` as JSON and returns
/// a `Preview` as JSON.
#[wasm_bindgen]
pub fn preview(request: &str) -> Result<String, JsError> {
    let request: PreviewRequest = parse_request("preview", request)?;
    to_json(preview::preview(&request))
}

/// Generates an RSA key and a self-signed certificate with the browser's
/// `crypto.getRandomValues`. Takes a `KeyRequest` as JSON and returns a `NewKey` as JSON.
#[wasm_bindgen(js_name = generateKey)]
pub fn generate_key(request: &str) -> Result<String, JsError> {
    let request: KeyRequest = parse_request("key generation", request)?;
    to_json(preview::generate_key(&request, &mut SystemPlatform::new()))
}

/// Decodes a pasted SAMLResponse or AuthnRequest and checks it with the core verifier and
/// AuthnRequest decoder. Takes an `InspectRequest` as JSON and returns an `Inspection` as JSON.
#[wasm_bindgen]
pub fn inspect(request: &str) -> Result<String, JsError> {
    let request: InspectRequest = parse_request("inspect", request)?;
    to_json(preview::inspect(&request))
}

/// Describes a PEM certificate (expiry and key size) as JSON.
#[wasm_bindgen(js_name = certificateInfo)]
pub fn certificate_info(pem: &str) -> Result<String, JsError> {
    to_json(preview::certificate_info(pem))
}

fn parse_request<T: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<T, JsError> {
    serde_json::from_str(json).map_err(|e| error(&PreviewError::Request { what, cause: e.to_string() }))
}

fn to_json<T: serde::Serialize>(result: Result<T, PreviewError>) -> Result<String, JsError> {
    let value = result.map_err(|e| error(&e))?;
    serde_json::to_string(&value).map_err(|e| JsError::new(&format!("failed to encode the result as JSON: {e}")))
}

fn error(error: &PreviewError) -> JsError {
    JsError::new(&error.to_string())
}
