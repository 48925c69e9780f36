//! What a handled request produced: the reply, and the event that the filter logs and counts.

use super::identity::IdentitySourceKind;
use super::reply::Reply;

/// The reply to send and what happened, for the log line and the metrics.
#[derive(Debug)]
pub struct Outcome {
    pub reply: Reply,
    pub event: Event,
}

/// One request's result. Fields hold nothing secret: no assertion, key, token or NameID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MetadataServed,
    /// A signed Response went to the browser.
    Issued {
        app: String,
        /// The first 16 hex digits of the NameID's SHA-256: enough to correlate log lines.
        /// NOTE: a guessable NameID (an email address) can be recovered from it by trying
        /// candidates, so the log still counts as personal data.
        name_id_sha256: String,
        in_response_to: Option<String>,
        source: IdentitySourceKind,
    },
    /// The request was refused before a Response was built.
    Rejected { app: Option<String>, reason: Rejection, detail: String },
    /// No identity was established; the user got a 401 or a redirect to the login URL.
    NoIdentity { app: String, redirected: bool },
    /// Building the Response failed (an expression gave nothing, say).
    Failed { app: String, detail: String },
}

/// Why a request was refused. Each has its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    UnknownApp,
    MethodNotAllowed,
    /// An `/init` RelayState the app does not allow, or one that is too long or unprintable.
    RelayState,
    BodyTooLarge,
    /// SP-initiated login is not available in this build.
    Unsupported,
}

impl Rejection {
    pub const ALL: [Rejection; 5] =
        [Self::UnknownApp, Self::MethodNotAllowed, Self::RelayState, Self::BodyTooLarge, Self::Unsupported];

    /// The reason as it appears in metric names and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownApp => "unknown_app",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RelayState => "relay_state",
            Self::BodyTooLarge => "body_too_large",
            Self::Unsupported => "unsupported",
        }
    }
}
