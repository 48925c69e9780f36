//! AuthnRequest failures and the SAML status each one maps to.

use std::fmt;

use crate::saml::verify::VerifyError;
use crate::saml::xml::XmlError;

/// A SAML status (SAML 2.0 core, section 3.2.2.2) to return for a rejected request: a
/// top-level code and, for most, a second-level one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SamlStatus {
    Requester,
    RequestDenied,
    InvalidNameIdPolicy,
    NoPassive,
    NoAuthnContext,
    UnsupportedBinding,
    VersionMismatch,
}

impl SamlStatus {
    /// Returns the top-level StatusCode URI.
    pub fn top_level(self) -> &'static str {
        match self {
            Self::NoPassive | Self::NoAuthnContext => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            Self::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
            _ => "urn:oasis:names:tc:SAML:2.0:status:Requester",
        }
    }

    /// Returns the second-level StatusCode URI, if the status has one.
    pub fn second_level(self) -> Option<&'static str> {
        match self {
            Self::Requester | Self::VersionMismatch => None,
            Self::RequestDenied => Some("urn:oasis:names:tc:SAML:2.0:status:RequestDenied"),
            Self::InvalidNameIdPolicy => Some("urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"),
            Self::NoPassive => Some("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
            Self::NoAuthnContext => Some("urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"),
            Self::UnsupportedBinding => Some("urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding"),
        }
    }
}

/// An AuthnRequest failure, one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestErrorKind {
    // Binding-level decoding.
    MissingParameter { name: &'static str },
    DuplicateParameter { name: String },
    InvalidPercentEncoding { name: &'static str },
    InvalidBase64 { name: &'static str },
    EncodedTooLarge { name: &'static str, bytes: usize, max: usize },
    InflatedTooLarge { max: usize },
    InvalidDeflate { cause: String },
    NotUtf8,
    RelayStateTooLong { bytes: usize, max: usize },
    Xml(XmlError),

    // The request's content.
    NotAuthnRequest { found: String },
    VersionMismatch { found: String },
    MissingAttribute { name: &'static str },
    InvalidAttribute { name: &'static str, value: String },
    MissingIssuer,
    /// Both AssertionConsumerServiceURL and AssertionConsumerServiceIndex, which the schema
    /// makes mutually exclusive.
    AcsUrlAndIndex,

    // Checks against the app.
    UnknownIssuer { found: String, expected: String },
    AcsUrlNotAllowed { url: String },
    DestinationMismatch { found: String, expected: String },
    IssueInstantOutOfRange { issue_instant: String, skew_seconds: u64 },
    UnsupportedBinding { binding: String },
    UnsupportedNameIdFormat { requested: String, supported: String },
    /// IsPassive together with ForceAuthn: fresh authentication cannot be passive.
    NoPassive,
    AuthnContextNotSatisfied { requested: Vec<String>, provided: String },

    // Signatures.
    SignatureRequired,
    /// The request is signed, but the app has no SP certificate to check it with.
    NoSpCertificate,
    MissingSigAlg,
    UnsupportedSigAlg { algorithm: String },
    Sha1NotAllowed,
    InvalidRedirectSignature,
    EmbeddedSignature(VerifyError),
}

impl RequestErrorKind {
    /// Returns the SAML status a Response reporting this failure carries.
    pub fn status(&self) -> SamlStatus {
        match self {
            Self::VersionMismatch { .. } => SamlStatus::VersionMismatch,
            Self::UnsupportedBinding { .. } => SamlStatus::UnsupportedBinding,
            Self::UnsupportedNameIdFormat { .. } => SamlStatus::InvalidNameIdPolicy,
            Self::NoPassive => SamlStatus::NoPassive,
            Self::AuthnContextNotSatisfied { .. } => SamlStatus::NoAuthnContext,
            Self::UnknownIssuer { .. }
            | Self::AcsUrlNotAllowed { .. }
            | Self::DestinationMismatch { .. }
            | Self::IssueInstantOutOfRange { .. }
            | Self::SignatureRequired
            | Self::NoSpCertificate
            | Self::MissingSigAlg
            | Self::UnsupportedSigAlg { .. }
            | Self::Sha1NotAllowed
            | Self::InvalidRedirectSignature
            | Self::EmbeddedSignature(_) => SamlStatus::RequestDenied,
            _ => SamlStatus::Requester,
        }
    }
}

impl fmt::Display for RequestErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingParameter { name } => write!(f, "the {name} parameter is missing"),
            Self::DuplicateParameter { name } => write!(f, "the {name} parameter appears more than once"),
            Self::InvalidPercentEncoding { name } => write!(f, "the {name} parameter is not valid UTF-8 after URL decoding"),
            Self::InvalidBase64 { name } => write!(f, "the {name} parameter is not valid base64"),
            Self::EncodedTooLarge { name, bytes, max } => {
                write!(f, "the {name} parameter is {bytes} bytes long, over the limit of {max}")
            }
            Self::InflatedTooLarge { max } => write!(f, "SAMLRequest inflates to more than the limit of {max} bytes"),
            Self::InvalidDeflate { cause } => write!(f, "SAMLRequest is not raw DEFLATE data: {cause}"),
            Self::NotUtf8 => f.write_str("the decoded SAMLRequest is not UTF-8 text"),
            Self::RelayStateTooLong { bytes, max } => {
                write!(f, "RelayState is {bytes} bytes long, over the limit of {max}")
            }
            Self::Xml(e) => write!(f, "SAMLRequest: {e}"),
            Self::NotAuthnRequest { found } => {
                write!(f, "SAMLRequest contains <{found}>; expected a samlp:AuthnRequest")
            }
            Self::VersionMismatch { found } => write!(f, "AuthnRequest Version is \"{found}\"; expected \"2.0\""),
            Self::MissingAttribute { name } => write!(f, "AuthnRequest has no {name} attribute"),
            Self::InvalidAttribute { name, value } => write!(f, "AuthnRequest {name} \"{value}\" is invalid"),
            Self::MissingIssuer => f.write_str("AuthnRequest has no saml:Issuer; the SP cannot be identified"),
            Self::AcsUrlAndIndex => f.write_str(
                "AuthnRequest has both AssertionConsumerServiceURL and AssertionConsumerServiceIndex; send one",
            ),
            Self::UnknownIssuer { found, expected } => {
                write!(f, "AuthnRequest Issuer \"{found}\" is not this app's SP entity ID \"{expected}\"")
            }
            Self::AcsUrlNotAllowed { url } => {
                write!(f, "AssertionConsumerServiceURL \"{url}\" is not on the app's ACS URL list")
            }
            Self::DestinationMismatch { found, expected } => {
                write!(f, "AuthnRequest Destination \"{found}\" is not this IdP's SSO URL \"{expected}\"")
            }
            Self::IssueInstantOutOfRange { issue_instant, skew_seconds } => write!(
                f,
                "AuthnRequest IssueInstant {issue_instant} is more than {skew_seconds} s from the current time; check both clocks"
            ),
            Self::UnsupportedBinding { binding } => {
                write!(f, "ProtocolBinding \"{binding}\" is not supported; only HTTP-POST responses are sent")
            }
            Self::UnsupportedNameIdFormat { requested, supported } => {
                write!(f, "NameIDPolicy Format \"{requested}\" is not supported; this app sends \"{supported}\"")
            }
            Self::NoPassive => f.write_str("AuthnRequest asks for both IsPassive and ForceAuthn"),
            Self::AuthnContextNotSatisfied { requested, provided } => write!(
                f,
                "RequestedAuthnContext [{}] does not include this app's \"{provided}\"",
                requested.join(", ")
            ),
            Self::SignatureRequired => f.write_str("the app requires signed AuthnRequests and this one is unsigned"),
            Self::NoSpCertificate => {
                f.write_str("the AuthnRequest is signed but the app has no SP certificate to verify it with")
            }
            Self::MissingSigAlg => f.write_str("the Signature parameter came without SigAlg"),
            Self::UnsupportedSigAlg { algorithm } => {
                write!(f, "SigAlg \"{algorithm}\" is not supported; expected RSA-SHA256 or RSA-SHA512")
            }
            Self::Sha1NotAllowed => f.write_str("the AuthnRequest is signed with SHA-1, which this app does not allow"),
            Self::InvalidRedirectSignature => {
                f.write_str("the Signature parameter does not verify with the app's SP certificate")
            }
            Self::EmbeddedSignature(e) => write!(f, "AuthnRequest signature: {e}"),
        }
    }
}

/// The target for an error Response. It exists only once the Issuer is the app's SP and the
/// ACS URL is on the app's list, so a forged request cannot aim an IdP page elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub acs_url: String,
    /// The request's ID, for the Response's InResponseTo.
    pub in_response_to: String,
}

/// A rejected AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequestError {
    pub kind: RequestErrorKind,
    reply: Option<ErrorReply>,
}

impl AuthnRequestError {
    pub(super) fn new(kind: RequestErrorKind, reply: Option<ErrorReply>) -> Self {
        Self { kind, reply }
    }

    pub fn status(&self) -> SamlStatus {
        self.kind.status()
    }

    /// Returns where an error Response may be posted, or `None` when the failure must be
    /// shown to the user instead (the SP or its ACS URL could not be trusted).
    pub fn reply(&self) -> Option<&ErrorReply> {
        self.reply.as_ref()
    }
}

impl From<RequestErrorKind> for AuthnRequestError {
    fn from(kind: RequestErrorKind) -> Self {
        Self { kind, reply: None }
    }
}

impl fmt::Display for AuthnRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for AuthnRequestError {}
