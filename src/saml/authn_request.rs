//! AuthnRequest decoding and checking for the SSO endpoint.
//!
//! [`decode_redirect`] and [`decode_post`] take the request off its binding;
//! [`EncodedRequest::check`] parses it as untrusted XML, verifies its signature when the app
//! requires one or one is present, and checks it against a [`RequestPolicy`]. Every failure
//! is an [`AuthnRequestError`] that names its SAML status and whether an error Response may
//! be posted back.

mod binding;
mod error;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use binding::{decode_post, decode_redirect, Binding, DecodeLimits, EncodedRequest, RedirectSignature};
pub use error::{AuthnRequestError, ErrorReply, RequestErrorKind, SamlStatus};

use super::algorithm::SignatureAlgorithm;
use super::keys::X509;
use super::verify::{rsa_verify, verify_if_signed, Checked, VerifyOptions};
use super::xml::{text_content, Document, Limits};

pub const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const HTTP_POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub const UNSPECIFIED_NAME_ID_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// An app's request rules, mapped from its configuration by the caller.
#[derive(Debug, Clone)]
pub struct RequestPolicy {
    /// The Issuer every request must carry.
    pub sp_entity_id: String,
    /// The allowed AssertionConsumerServiceURL values.
    pub acs_urls: Vec<String>,
    /// The ACS URL used when the request names none (or names one by index).
    pub default_acs_url: String,
    /// This IdP's SSO URL for the app; a request's Destination, if present, must equal it.
    pub sso_url: String,
    pub now: OffsetDateTime,
    /// Maximum distance between IssueInstant and `now`, either way.
    pub max_skew_seconds: u64,
    pub require_signature: bool,
    /// Checks request signatures; without it, signatures are ignored unless required.
    pub sp_certificate: Option<X509>,
    pub allow_sha1: bool,
    /// The NameID format URI the app sends; NameIDPolicy may ask for it or for unspecified.
    pub name_id_format: String,
    /// The AuthnContextClassRef the app asserts. When set, a RequestedAuthnContext must list
    /// it; when `None`, RequestedAuthnContext is not checked.
    pub authn_context_class_ref: Option<String>,
}

/// The ACS the SP asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsRequest {
    Url(String),
    /// An index into the SP's metadata, which the IdP does not hold; the default ACS URL
    /// is used.
    Index(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameIdPolicy {
    pub format: Option<String>,
    pub allow_create: Option<bool>,
    pub sp_name_qualifier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Exact,
    Minimum,
    Maximum,
    Better,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedAuthnContext {
    pub comparison: Comparison,
    pub class_refs: Vec<String>,
    pub decl_refs: Vec<String>,
}

/// A checked AuthnRequest, with owned values read from the signed element when signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub binding: Binding,
    pub id: String,
    pub issue_instant: OffsetDateTime,
    pub destination: Option<String>,
    pub issuer: String,
    pub acs: Option<AcsRequest>,
    /// The ACS URL to respond to: the requested one (on the allowlist) or the default.
    pub acs_url: String,
    pub protocol_binding: Option<String>,
    pub name_id_policy: Option<NameIdPolicy>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub requested_authn_context: Option<RequestedAuthnContext>,
    pub relay_state: Option<String>,
    /// Whether a signature was verified (embedded for POST, detached for Redirect).
    pub signed: bool,
}

impl EncodedRequest {
    /// Parses, verifies and checks the request against `policy`.
    pub fn check(&self, policy: &RequestPolicy, limits: &DecodeLimits) -> Result<AuthnRequest, AuthnRequestError> {
        let xml_limits = Limits { max_bytes: limits.max_xml_bytes, ..Limits::default() };
        let document = Document::parse(&self.xml, &xml_limits).map_err(RequestErrorKind::Xml)?;
        let root = document.root_element();
        if root.tag_name().namespace() != Some(SAMLP_NS) || root.tag_name().name() != "AuthnRequest" {
            let found = super::xml::element_qname(root).to_string();
            return Err(RequestErrorKind::NotAuthnRequest { found }.into());
        }

        // The Issuer and ACS decide whether an error may be posted back, so they come first.
        let id = required_attribute(root, "ID")?;
        let issuer = issuer(root);
        let acs = acs_request(root)?;
        let acs_url = match &acs {
            Some(AcsRequest::Url(url)) => url.clone(),
            _ => policy.default_acs_url.clone(),
        };
        let trusted_target = issuer.as_deref() == Some(policy.sp_entity_id.as_str()) && policy.acs_urls.contains(&acs_url);
        let reply = trusted_target.then(|| ErrorReply { acs_url: acs_url.clone(), in_response_to: id.to_string() });
        let fail = |kind: RequestErrorKind| AuthnRequestError::new(kind, reply.clone());

        let issuer = issuer.ok_or_else(|| fail(RequestErrorKind::MissingIssuer))?;
        if issuer != policy.sp_entity_id {
            return Err(fail(RequestErrorKind::UnknownIssuer { found: issuer, expected: policy.sp_entity_id.clone() }));
        }
        if !policy.acs_urls.contains(&acs_url) {
            return Err(fail(RequestErrorKind::AcsUrlNotAllowed { url: acs_url }));
        }

        // An unauthenticated request gets no signed answer at all: posting an error Response
        // back would hand anyone an IdP-signed document with an InResponseTo of their choice.
        let signed = self.verify_signature(&document, policy).map_err(AuthnRequestError::from)?;
        let request = read_request(root, self, issuer, acs, acs_url, signed).map_err(fail)?;
        check_policy(&request, policy).map_err(fail)?;
        Ok(request)
    }

    /// Verifies the detached (Redirect) or embedded (POST) signature. Returns whether one
    /// was verified; an unverifiable signature is ignored only when none is required.
    fn verify_signature(&self, document: &Document<'_>, policy: &RequestPolicy) -> Result<bool, RequestErrorKind> {
        let present = match self.binding {
            Binding::Redirect => self.redirect_signature.is_some(),
            Binding::Post => document.root_element().children().any(|n| {
                n.tag_name().namespace() == Some(super::verify::DSIG_NS) && n.tag_name().name() == "Signature"
            }),
        };
        let certificate = match (&policy.sp_certificate, present, policy.require_signature) {
            (_, false, true) => return Err(RequestErrorKind::SignatureRequired),
            (_, false, false) => return Ok(false),
            (None, true, true) => return Err(RequestErrorKind::NoSpCertificate),
            (None, true, false) => return Ok(false),
            (Some(certificate), true, _) => certificate,
        };

        match (&self.redirect_signature, self.binding) {
            (Some(signature), Binding::Redirect) => verify_redirect(signature, certificate, policy.allow_sha1).map(|()| true),
            _ => {
                let options = VerifyOptions { allow_sha1: policy.allow_sha1 };
                match verify_if_signed(document, document.root_element(), certificate.public_key(), &options) {
                    Ok(Checked::Signed(_)) => Ok(true),
                    Ok(Checked::Unsigned(_)) => Err(RequestErrorKind::SignatureRequired),
                    Err(e) => Err(RequestErrorKind::EmbeddedSignature(e)),
                }
            }
        }
    }
}

/// Verifies an HTTP-Redirect signature over the raw `SAMLRequest…&SigAlg=…` bytes.
fn verify_redirect(signature: &RedirectSignature, certificate: &X509, allow_sha1: bool) -> Result<(), RequestErrorKind> {
    let algorithm = SignatureAlgorithm::from_uri(&signature.sig_alg)
        .ok_or_else(|| RequestErrorKind::UnsupportedSigAlg { algorithm: signature.sig_alg.clone() })?;
    if algorithm == SignatureAlgorithm::RsaSha1 && !allow_sha1 {
        return Err(RequestErrorKind::Sha1NotAllowed);
    }
    let message = signature.signed_bytes.as_bytes();
    if rsa_verify(certificate.public_key(), algorithm, message, &signature.signature) {
        Ok(())
    } else {
        Err(RequestErrorKind::InvalidRedirectSignature)
    }
}

type Node<'a, 'input> = roxmltree::Node<'a, 'input>;

fn required_attribute<'a>(node: Node<'a, '_>, name: &'static str) -> Result<&'a str, RequestErrorKind> {
    node.attribute(name).ok_or(RequestErrorKind::MissingAttribute { name })
}

fn child<'a, 'input>(node: Node<'a, 'input>, namespace: &str, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.tag_name().namespace() == Some(namespace) && n.tag_name().name() == name)
}

fn issuer(root: Node<'_, '_>) -> Option<String> {
    child(root, SAML_NS, "Issuer").map(|n| text_content(n).trim().to_string())
}

fn acs_request(root: Node<'_, '_>) -> Result<Option<AcsRequest>, RequestErrorKind> {
    let url = root.attribute("AssertionConsumerServiceURL");
    let index = root.attribute("AssertionConsumerServiceIndex");
    match (url, index) {
        (Some(_), Some(_)) => Err(RequestErrorKind::AcsUrlAndIndex),
        (Some(url), None) => Ok(Some(AcsRequest::Url(url.to_string()))),
        (None, Some(index)) => index
            .parse()
            .map(|i| Some(AcsRequest::Index(i)))
            .map_err(|_| RequestErrorKind::InvalidAttribute { name: "AssertionConsumerServiceIndex", value: index.to_string() }),
        (None, None) => Ok(None),
    }
}

/// Parses an `xs:boolean`: `true`, `false`, `1` or `0`.
fn boolean(node: Node<'_, '_>, name: &'static str) -> Result<Option<bool>, RequestErrorKind> {
    match node.attribute(name).map(str::trim) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(RequestErrorKind::InvalidAttribute { name, value: other.to_string() }),
    }
}

fn read_request(
    root: Node<'_, '_>,
    encoded: &EncodedRequest,
    issuer: String,
    acs: Option<AcsRequest>,
    acs_url: String,
    signed: bool,
) -> Result<AuthnRequest, RequestErrorKind> {
    let version = required_attribute(root, "Version")?;
    if version != "2.0" {
        return Err(RequestErrorKind::VersionMismatch { found: version.to_string() });
    }
    let instant = required_attribute(root, "IssueInstant")?;
    let issue_instant = OffsetDateTime::parse(instant, &Rfc3339)
        .map_err(|_| RequestErrorKind::InvalidAttribute { name: "IssueInstant", value: instant.to_string() })?;

    Ok(AuthnRequest {
        binding: encoded.binding,
        id: required_attribute(root, "ID")?.to_string(),
        issue_instant,
        destination: root.attribute("Destination").map(String::from),
        issuer,
        acs,
        acs_url,
        protocol_binding: root.attribute("ProtocolBinding").map(String::from),
        name_id_policy: name_id_policy(root)?,
        force_authn: boolean(root, "ForceAuthn")?.unwrap_or(false),
        is_passive: boolean(root, "IsPassive")?.unwrap_or(false),
        requested_authn_context: requested_authn_context(root)?,
        relay_state: encoded.relay_state.clone(),
        signed,
    })
}

fn name_id_policy(root: Node<'_, '_>) -> Result<Option<NameIdPolicy>, RequestErrorKind> {
    let Some(policy) = child(root, SAMLP_NS, "NameIDPolicy") else { return Ok(None) };
    Ok(Some(NameIdPolicy {
        format: policy.attribute("Format").map(String::from),
        allow_create: boolean(policy, "AllowCreate")?,
        sp_name_qualifier: policy.attribute("SPNameQualifier").map(String::from),
    }))
}

fn requested_authn_context(root: Node<'_, '_>) -> Result<Option<RequestedAuthnContext>, RequestErrorKind> {
    let Some(context) = child(root, SAMLP_NS, "RequestedAuthnContext") else { return Ok(None) };
    let comparison = match context.attribute("Comparison") {
        None | Some("exact") => Comparison::Exact,
        Some("minimum") => Comparison::Minimum,
        Some("maximum") => Comparison::Maximum,
        Some("better") => Comparison::Better,
        Some(other) => {
            return Err(RequestErrorKind::InvalidAttribute { name: "Comparison", value: other.to_string() })
        }
    };
    let refs = |name: &str| -> Vec<String> {
        context
            .children()
            .filter(|n| n.tag_name().namespace() == Some(SAML_NS) && n.tag_name().name() == name)
            .map(|n| text_content(n).trim().to_string())
            .collect()
    };
    Ok(Some(RequestedAuthnContext {
        comparison,
        class_refs: refs("AuthnContextClassRef"),
        decl_refs: refs("AuthnContextDeclRef"),
    }))
}

/// Checks Destination, IssueInstant, ProtocolBinding, NameIDPolicy, IsPassive and
/// RequestedAuthnContext against the policy.
fn check_policy(request: &AuthnRequest, policy: &RequestPolicy) -> Result<(), RequestErrorKind> {
    if let Some(destination) = &request.destination {
        if *destination != policy.sso_url {
            return Err(RequestErrorKind::DestinationMismatch {
                found: destination.clone(),
                expected: policy.sso_url.clone(),
            });
        }
    }

    let skew = time::Duration::seconds(i64::try_from(policy.max_skew_seconds).unwrap_or(i64::MAX));
    if (request.issue_instant - policy.now).abs() > skew {
        return Err(RequestErrorKind::IssueInstantOutOfRange {
            issue_instant: request.issue_instant.format(&Rfc3339).unwrap_or_default(),
            skew_seconds: policy.max_skew_seconds,
        });
    }

    if let Some(binding) = request.protocol_binding.as_deref().filter(|b| *b != HTTP_POST_BINDING) {
        return Err(RequestErrorKind::UnsupportedBinding { binding: binding.to_string() });
    }

    let format = request.name_id_policy.as_ref().and_then(|p| p.format.as_deref());
    if let Some(format) = format.filter(|f| *f != UNSPECIFIED_NAME_ID_FORMAT && *f != policy.name_id_format) {
        return Err(RequestErrorKind::UnsupportedNameIdFormat {
            requested: format.to_string(),
            supported: policy.name_id_format.clone(),
        });
    }

    if request.is_passive && request.force_authn {
        return Err(RequestErrorKind::NoPassive);
    }

    if let (Some(requested), Some(provided)) = (&request.requested_authn_context, &policy.authn_context_class_ref) {
        // NOTE: the comparison is treated as exact: the IdP asserts one class and has no
        // ranking of classes to decide minimum, maximum or better.
        if !requested.class_refs.is_empty() && !requested.class_refs.contains(provided) {
            return Err(RequestErrorKind::AuthnContextNotSatisfied {
                requested: requested.class_refs.clone(),
                provided: provided.clone(),
            });
        }
    }
    Ok(())
}

