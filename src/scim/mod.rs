//! The SCIM 2.0 bearer-token gate.
//!
//! In front of an application's SCIM API, the gate checks the bearer token that a
//! provisioning client (Okta, Entra ID) sends, classifies the request into the operation
//! it performs, and either forwards it with the token's tenant in a header or rejects
//! it with a SCIM error document (RFC 7644 §3.12) and an RFC 6750 challenge.
//!
//! Nothing here knows proxy-wasm: the host supplies the request, the time and a
//! [`SharedStore`] for the rate-limit state, and applies the decision. See [`gate`] for
//! the calling sequence.
//!
//! Non-features, each rejected explicitly rather than half-supported: bulk requests and
//! `/Me` (501), tokens in the query string (400), and methods other than `GET` and `HEAD`
//! on endpoints the gate does not know (403). Methods that RFC 7644 does not define on a
//! known endpoint get 405 from the gate, as they would from a conforming server.

pub mod body;
pub mod config;
pub mod error;
pub mod gate;
pub mod operation;
pub mod path;
pub mod policy;
pub mod rate_limit;
pub mod token;

pub use config::ScimConfig;
pub use error::{RejectReason, Rejection};
pub use gate::{Accepted, BodyDecision, GateHost, HeaderChanges, HeadersDecision, PendingBody, RequestHead, ScimGate};
pub use operation::{Operation, OperationSet};
pub use rate_limit::{MemoryStore, SharedStore, StoreError};
pub use token::{generate_token, token_config_entry, TokenDigest, TOKEN_PREFIX};
