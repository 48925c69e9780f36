//! edgeidp: a SAML 2.0 identity provider and a SCIM 2.0 bearer-token gate that run inside
//! Envoy as one proxy-wasm module, with a wasm-bindgen build of the same core for the
//! in-browser assertion previewer.
//!
//! The core ([`config`], [`saml`], [`scim`]) knows nothing of proxy-wasm or the browser.
//! Time and randomness reach it through [`platform::Platform`], so that the filter, the
//! previewer and the command line produce the same bytes for the same inputs.

// The one exception is the filter's read of Envoy's header map (proxy::header_map), an FFI
// call that the proxy-wasm SDK offers only in a form that can panic.
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod config;
pub mod platform;
pub mod preview;
pub mod saml;
pub mod scim;

#[cfg(feature = "proxy")]
pub mod proxy;
#[cfg(feature = "web")]
pub mod web;
