//! The SAML core: Responses, Assertions, signatures and metadata.

pub mod algorithm;
pub mod expression;
pub mod keys;
pub mod signer;

pub mod authn_request;
pub mod c14n;
pub mod verify;
pub mod xml;
