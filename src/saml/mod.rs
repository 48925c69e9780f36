//! The SAML core: Responses, Assertions, signatures and metadata.

pub mod algorithm;
pub mod expression;
pub mod keys;
pub mod signer;
pub mod xml;
pub mod c14n;
pub mod verify;
pub mod authn_request;
