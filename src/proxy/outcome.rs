//! The result of a handled request: the reply, and the event that the filter logs and counts.

use super::identity::IdentitySourceKind;
use super::metrics;
use super::reply::Reply;
use crate::saml::authn_request::RequestErrorKind;

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
    /// The request was rejected before a Response was built.
    Rejected { app: Option<String>, reason: Rejection, detail: String },
    /// No identity was established; the user got a 401 or a redirect to the login URL.
    NoIdentity { app: String, redirected: bool },
    /// Building the Response failed (an expression gave nothing, say).
    Failed { app: String, detail: String },
}

/// The reason a request was rejected, with one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    UnknownApp,
    MethodNotAllowed,
    /// An `/init` RelayState the app does not allow, or one that is too long or unprintable.
    RelayState,
    BodyTooLarge,
    /// An AuthnRequest that failed decoding or a check.
    AuthnRequest(RequestCheck),
}

/// The AuthnRequest check that failed, grouped as operators act on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCheck {
    /// Not decodable: parameters, base64, DEFLATE, size limits, XML.
    Malformed,
    /// Decodable, but not a valid AuthnRequest (wrong element, version, attributes).
    Invalid,
    Issuer,
    AcsUrl,
    Destination,
    IssueInstant,
    ProtocolBinding,
    NameIdPolicy,
    /// IsPassive could not be honoured.
    Passive,
    AuthnContext,
    /// The app requires a signature and the request has none.
    SignatureMissing,
    /// A signature that is unverifiable, of a rejected algorithm, or wrong.
    Signature,
}

impl RequestCheck {
    pub const ALL: [RequestCheck; 12] = [
        Self::Malformed,
        Self::Invalid,
        Self::Issuer,
        Self::AcsUrl,
        Self::Destination,
        Self::IssueInstant,
        Self::ProtocolBinding,
        Self::NameIdPolicy,
        Self::Passive,
        Self::AuthnContext,
        Self::SignatureMissing,
        Self::Signature,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::Issuer => "issuer",
            Self::AcsUrl => "acs_url",
            Self::Destination => "destination",
            Self::IssueInstant => "issue_instant",
            Self::ProtocolBinding => "protocol_binding",
            Self::NameIdPolicy => "name_id_policy",
            Self::Passive => "passive",
            Self::AuthnContext => "authn_context",
            Self::SignatureMissing => "signature_missing",
            Self::Signature => "signature",
        }
    }

    /// Groups a decoding or check failure.
    pub fn of(kind: &RequestErrorKind) -> Self {
        use RequestErrorKind as K;
        match kind {
            K::MissingParameter { .. }
            | K::DuplicateParameter { .. }
            | K::InvalidPercentEncoding { .. }
            | K::InvalidBase64 { .. }
            | K::EncodedTooLarge { .. }
            | K::InflatedTooLarge { .. }
            | K::InvalidDeflate { .. }
            | K::NotUtf8
            | K::RelayStateTooLong { .. }
            | K::Xml(_) => Self::Malformed,
            K::NotAuthnRequest { .. }
            | K::VersionMismatch { .. }
            | K::MissingAttribute { .. }
            | K::InvalidAttribute { .. }
            | K::MissingIssuer
            | K::AcsUrlAndIndex => Self::Invalid,
            K::UnknownIssuer { .. } => Self::Issuer,
            K::AcsUrlNotAllowed { .. } => Self::AcsUrl,
            K::DestinationMismatch { .. } => Self::Destination,
            K::IssueInstantOutOfRange { .. } => Self::IssueInstant,
            K::UnsupportedBinding { .. } => Self::ProtocolBinding,
            K::UnsupportedNameIdFormat { .. } => Self::NameIdPolicy,
            K::NoPassive => Self::Passive,
            K::AuthnContextNotSatisfied { .. } => Self::AuthnContext,
            K::SignatureRequired => Self::SignatureMissing,
            K::NoSpCertificate
            | K::MissingSigAlg
            | K::UnsupportedSigAlg { .. }
            | K::Sha1NotAllowed
            | K::InvalidRedirectSignature
            | K::EmbeddedSignature(_) => Self::Signature,
        }
    }
}

impl Rejection {
    /// Returns every reason, for defining the counters up front.
    pub fn all() -> Vec<Rejection> {
        let mut all = vec![Self::UnknownApp, Self::MethodNotAllowed, Self::RelayState, Self::BodyTooLarge];
        all.extend(RequestCheck::ALL.into_iter().map(Self::AuthnRequest));
        all
    }

    /// Returns the reason as it appears in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownApp => "unknown_app",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RelayState => "relay_state",
            Self::BodyTooLarge => "body_too_large",
            Self::AuthnRequest(check) => check.name(),
        }
    }

    /// Returns the name of the counter this reason increments.
    pub fn metric(self) -> String {
        match self {
            Self::AuthnRequest(check) => metrics::authn_requests_rejected(check.name()),
            other => metrics::requests_rejected(other.name()),
        }
    }
}
