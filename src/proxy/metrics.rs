//! Names of the counters the filter keeps. Envoy shows each as `wasmcustom.<name>` in its
//! stats (`/stats` on the admin port).

/// Plugin configurations accepted by `on_configure`, one per worker and load.
pub const CONFIG_LOADED: &str = "edgeidp.config.loaded";
/// Plugin configurations rejected by `on_configure`.
pub const CONFIG_REJECTED: &str = "edgeidp.config.rejected";
/// Metadata documents served.
pub const METADATA_SERVED: &str = "edgeidp.saml.metadata_served";
/// Responses that could not be built (an expression gave no value, say).
pub const RESPONSE_FAILURES: &str = "edgeidp.saml.response_failures";

/// Signed Responses sent for `app`.
pub fn responses_issued(app: &str) -> String {
    format!("edgeidp.saml.responses_issued.{app}")
}

/// Login requests for `app` that came with no identity.
pub fn no_identity(app: &str) -> String {
    format!("edgeidp.saml.no_identity.{app}")
}

/// Requests rejected before any AuthnRequest was read, for `reason` (unknown app, say).
pub fn requests_rejected(reason: &str) -> String {
    format!("edgeidp.saml.requests_rejected.{reason}")
}

/// AuthnRequests rejected for `reason` (a [`super::outcome::RequestCheck`] name).
pub fn authn_requests_rejected(reason: &str) -> String {
    format!("edgeidp.saml.authn_requests_rejected.{reason}")
}
