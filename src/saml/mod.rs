//! The SAML core: Responses, Assertions, signatures, encryption and metadata.

pub mod algorithm;
pub mod authn_request;
pub mod c14n;
pub mod encryption;
pub mod escape;
pub mod expression;
pub mod keys;
pub mod metadata;
pub mod post_form;
pub mod response;
pub mod signature;
pub mod signer;
pub mod verify;
pub mod xml;
pub mod inspect;
