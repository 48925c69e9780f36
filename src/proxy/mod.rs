//! The proxy-wasm filter: Envoy's side of the SAML IdP and the SCIM gate.
//!
//! The root context parses the plugin configuration once per worker ([`FilterConfig`]); each
//! request gets an HTTP context that routes on `:path` ([`routing`]), reads the identity
//! that Envoy's own authentication established ([`identity`]), and serves the SAML
//! endpoints itself ([`endpoints`]), or passes requests for the SCIM API through the
//! bearer-token gate ([`scim`]). Only [`host`] and the Envoy sides of [`scim`] and
//! [`header_map`] touch proxy-wasm, and they are built for `wasm32` alone, so everything else
//! is tested natively.

pub mod endpoints;
pub mod filter_config;
pub mod header_map;
pub mod identity;
pub mod metrics;
pub mod outcome;
pub mod reply;
pub mod routing;
pub mod scim;

#[cfg(target_arch = "wasm32")]
mod host;

pub use filter_config::FilterConfig;

// The SDK's entry point exports `_initialize`, which registers the root context.
#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    host::start();
}}
