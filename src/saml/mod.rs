//! The SAML core: Responses, Assertions, signatures, encryption and metadata.

pub mod algorithm;
pub mod expression;
pub mod keys;
pub mod signer;
pub mod c14n;
pub mod encryption;
pub mod escape;
pub mod response;
pub mod signature;
pub mod metadata;
pub mod post_form;
