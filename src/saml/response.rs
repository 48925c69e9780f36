//! The SAML 2.0 Response and its Assertion (SAML 2.0 Core, sections 2 and 3.2.2).
//!
//! Output is compact (no whitespace between elements) and written directly in exclusive
//! canonical form: namespace declarations sit on the first element that uses their prefix,
//! attributes are in canonical order and empty elements are written as start-end pairs. The
//! signer still canonicalizes before digesting, so this is a property of the output, not an
//! assumption the signature depends on.

use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::encryption::{encrypt_assertion, encrypt_name_id, EncryptError};
use super::escape::{check_xml_chars, push_attribute, push_text, InvalidXmlChar};
use super::expression::Profile;
use super::signature::{sign_enveloped, SignError, SigningParams};
use crate::config::{AppConfig, IdpConfig, MissingValue, NameIdFormat, SignWhat};
use crate::platform::Platform;

pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XS_NS: &str = "http://www.w3.org/2001/XMLSchema";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// Random bytes in every ID: 160 bits, above the 128 the SAML core spec requires
/// (SAML 2.0 Core, section 1.3.4).
const ID_RANDOM_BYTES: usize = 20;

/// One login to answer: who, for which app, where to, and in answer to what.
pub struct Login<'a> {
    pub app: &'a AppConfig,
    pub profile: &'a Profile,
    /// The ACS URL; it must be one of the app's `acs_urls`.
    pub acs_url: &'a str,
    /// The AuthnRequest's ID for SP-initiated logins; `None` for unsolicited Responses, which
    /// then carry no InResponseTo attribute at all (mod_auth_mellon rejects an empty one).
    pub in_response_to: Option<&'a str>,
    /// When the user authenticated (a JWT's `auth_time` or `iat`); defaults to now.
    pub authn_instant: Option<OffsetDateTime>,
}

/// A signed Response and what went into it, for logs and the previewer.
#[derive(Debug, Clone)]
pub struct IssuedResponse {
    /// The Response XML exactly as signed.
    pub xml: String,
    pub response_id: String,
    pub assertion_id: String,
    pub name_id: String,
    pub name_id_format: NameIdFormat,
    /// Attribute names with their values, in the order sent.
    pub attributes: Vec<(String, Vec<String>)>,
    /// Attributes left out because their expression evaluated to nothing.
    pub omitted_attributes: Vec<String>,
    pub issue_instant: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
}

impl IssuedResponse {
    /// The `SAMLResponse` form value: the Response in base64.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.xml.as_bytes())
    }
}

/// The reason a Response could not be issued.
#[derive(Debug)]
pub enum ResponseError {
    /// The ACS URL is not on the app's allowlist.
    AcsNotAllowed { acs_url: String },
    /// The NameID expression evaluated to nothing for this user.
    MissingNameId { expression: String },
    /// The NameID expression gave several values.
    MultipleNameIds { expression: String, count: usize },
    /// An attribute's expression evaluated to nothing and the app's `missing_value` is `error`.
    MissingAttribute { name: String, expression: String },
    /// A value contains a character XML cannot carry.
    InvalidCharacter { field: String, error: InvalidXmlChar },
    Signature(SignError),
    Encryption(EncryptError),
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AcsNotAllowed { acs_url } => {
                write!(f, "ACS URL {acs_url:?} is not in the app's acs_urls; add it there if the SP really uses it")
            }
            Self::MissingNameId { expression } => write!(
                f,
                "the NameID expression {expression:?} evaluated to nothing for this user; check the profile has that value"
            ),
            Self::MultipleNameIds { expression, count } => write!(
                f,
                "the NameID expression {expression:?} gave {count} values; a NameID needs exactly one"
            ),
            Self::MissingAttribute { name, expression } => write!(
                f,
                "attribute {name:?}: expression {expression:?} evaluated to nothing and missing_value is \"error\""
            ),
            Self::InvalidCharacter { field, error } => write!(f, "{field}: {error}"),
            Self::Signature(e) => e.fmt(f),
            Self::Encryption(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ResponseError {}

/// Builds and signs the Response for `login`, encrypting the Assertion (after signing it)
/// when the app has an `encryption` section.
///
/// Randomness is drawn in a fixed order (Response ID, Assertion ID, SessionIndex, then any
/// transient NameID, then the EncryptedID's keys, signature blinding, the EncryptedAssertion's
/// keys), so a seeded platform gives the same bytes on every front end.
pub fn build_response(
    idp: &IdpConfig,
    login: &Login<'_>,
    platform: &mut dyn Platform,
) -> Result<IssuedResponse, ResponseError> {
    let app = login.app;
    if !app.allows_acs_url(login.acs_url) {
        return Err(ResponseError::AcsNotAllowed { acs_url: login.acs_url.to_owned() });
    }

    let now = platform.now().replace_nanosecond(0).unwrap_or_else(|_| platform.now());
    let response_id = new_id(platform);
    let assertion_id = new_id(platform);
    let session_index = new_id(platform);
    let subject = evaluate_subject(app, login.profile, platform)?;
    let (attributes, omitted_attributes) = evaluate_attributes(app, login.profile)?;

    let times = Times::new(now, login.authn_instant, app.assertion_lifetime_seconds, idp.not_before_skew_seconds);
    let assertion = write_assertion(idp, login, &assertion_id, &session_index, &subject, &attributes, &times)?;
    let assertion = match &app.encryption {
        Some(encryption) if encryption.encrypt_name_id => {
            encrypt_name_id(&assertion, encryption, &app.sp_entity_id, platform.rng()).map_err(ResponseError::Encryption)?
        }
        _ => assertion,
    };

    let params = SigningParams {
        signer: idp.signer.as_ref(),
        certificate: &idp.certificate,
        signature_algorithm: app.signature_algorithm,
        digest_algorithm: app.digest_algorithm,
    };
    let assertion = match app.sign {
        SignWhat::Assertion | SignWhat::Both => {
            sign_enveloped(&assertion, &assertion_id, &params, platform.rng()).map_err(ResponseError::Signature)?
        }
        SignWhat::Response => assertion,
    };
    let assertion = match &app.encryption {
        Some(encryption) => encrypt_assertion(&assertion, encryption, &app.sp_entity_id, platform.rng())
            .map_err(ResponseError::Encryption)?,
        None => assertion,
    };

    let response = write_response(idp, login, &response_id, &times, &assertion);
    let response = match app.sign {
        SignWhat::Response | SignWhat::Both => {
            sign_enveloped(&response, &response_id, &params, platform.rng()).map_err(ResponseError::Signature)?
        }
        SignWhat::Assertion => response,
    };

    Ok(IssuedResponse {
        xml: response,
        response_id,
        assertion_id,
        name_id: subject.value,
        name_id_format: subject.format,
        attributes,
        omitted_attributes,
        issue_instant: times.issue_instant,
        not_on_or_after: times.not_on_or_after,
    })
}

/// Returns a new XML ID: `_` followed by 160 random bits in hex. The leading underscore
/// makes it a valid NCName whatever the digits are.
pub fn new_id(platform: &mut dyn Platform) -> String {
    let mut bytes = [0u8; ID_RANDOM_BYTES];
    platform.rng().fill_bytes(&mut bytes);
    let mut id = String::with_capacity(1 + 2 * ID_RANDOM_BYTES);
    id.push('_');
    for byte in bytes {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// Formats a time as SAML's `xs:dateTime` in UTC with second precision.
pub fn format_instant(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(instant);
    utc.format(&Rfc3339).unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}

struct Times {
    issue_instant: OffsetDateTime,
    authn_instant: OffsetDateTime,
    not_before: OffsetDateTime,
    not_on_or_after: OffsetDateTime,
}

impl Times {
    fn new(now: OffsetDateTime, authn_instant: Option<OffsetDateTime>, lifetime: u64, skew: u64) -> Self {
        let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        Self {
            issue_instant: now,
            authn_instant: authn_instant.filter(|t| *t <= now).unwrap_or(now),
            not_before: now - seconds(skew),
            not_on_or_after: now + seconds(lifetime),
        }
    }
}

struct Subject {
    format: NameIdFormat,
    value: String,
}

fn evaluate_subject(app: &AppConfig, profile: &Profile, platform: &mut dyn Platform) -> Result<Subject, ResponseError> {
    let format = app.name_id.format;
    if format == NameIdFormat::Transient {
        // A transient NameID is a fresh opaque value for each login, whatever the expression.
        return Ok(Subject { format, value: new_id(platform) });
    }
    let expression = app.name_id.value.source().to_owned();
    let mut values = app.name_id.value.evaluate(profile);
    match values.len() {
        0 => Err(ResponseError::MissingNameId { expression }),
        1 => {
            let value = values.remove(0);
            check_xml_chars(&value)
                .map_err(|error| ResponseError::InvalidCharacter { field: "NameID".to_owned(), error })?;
            Ok(Subject { format, value })
        }
        count => Err(ResponseError::MultipleNameIds { expression, count }),
    }
}

type Attributes = Vec<(String, Vec<String>)>;

fn evaluate_attributes(app: &AppConfig, profile: &Profile) -> Result<(Attributes, Vec<String>), ResponseError> {
    let mut attributes = Vec::with_capacity(app.attributes.len());
    let mut omitted = Vec::new();
    for attribute in &app.attributes {
        let values = attribute.value.evaluate(profile);
        if values.is_empty() {
            if app.missing_value == MissingValue::Error {
                return Err(ResponseError::MissingAttribute {
                    name: attribute.name.clone(),
                    expression: attribute.value.source().to_owned(),
                });
            }
            omitted.push(attribute.name.clone());
            continue;
        }
        for value in &values {
            check_xml_chars(value).map_err(|error| ResponseError::InvalidCharacter {
                field: format!("attribute {:?}", attribute.name),
                error,
            })?;
        }
        attributes.push((attribute.name.clone(), values));
    }
    Ok((attributes, omitted))
}

fn write_assertion(
    idp: &IdpConfig,
    login: &Login<'_>,
    assertion_id: &str,
    session_index: &str,
    subject: &Subject,
    attributes: &Attributes,
    times: &Times,
) -> Result<String, ResponseError> {
    let app = login.app;
    let mut out = String::with_capacity(2048);

    out.push_str("<saml:Assertion xmlns:saml=\"");
    out.push_str(ASSERTION_NS);
    out.push_str("\" ID=\"");
    out.push_str(assertion_id);
    out.push_str("\" IssueInstant=\"");
    out.push_str(&format_instant(times.issue_instant));
    out.push_str("\" Version=\"2.0\"><saml:Issuer>");
    push_text(&mut out, &idp.entity_id);
    out.push_str("</saml:Issuer>");

    out.push_str("<saml:Subject><saml:NameID Format=\"");
    out.push_str(subject.format.uri());
    out.push_str("\">");
    push_text(&mut out, &subject.value);
    out.push_str("</saml:NameID><saml:SubjectConfirmation Method=\"");
    out.push_str(BEARER);
    out.push_str("\"><saml:SubjectConfirmationData");
    if let Some(request_id) = login.in_response_to {
        out.push_str(" InResponseTo=\"");
        push_attribute(&mut out, request_id);
        out.push('"');
    }
    out.push_str(" NotOnOrAfter=\"");
    out.push_str(&format_instant(times.not_on_or_after));
    out.push_str("\" Recipient=\"");
    push_attribute(&mut out, login.acs_url);
    out.push_str("\"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>");

    out.push_str("<saml:Conditions NotBefore=\"");
    out.push_str(&format_instant(times.not_before));
    out.push_str("\" NotOnOrAfter=\"");
    out.push_str(&format_instant(times.not_on_or_after));
    out.push_str("\"><saml:AudienceRestriction><saml:Audience>");
    push_text(&mut out, &app.sp_entity_id);
    out.push_str("</saml:Audience></saml:AudienceRestriction></saml:Conditions>");

    out.push_str("<saml:AuthnStatement AuthnInstant=\"");
    out.push_str(&format_instant(times.authn_instant));
    out.push_str("\" SessionIndex=\"");
    out.push_str(session_index);
    out.push_str("\"><saml:AuthnContext><saml:AuthnContextClassRef>");
    push_text(&mut out, &app.authn_context_class_ref);
    out.push_str("</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>");

    write_attribute_statement(&mut out, app, attributes);
    out.push_str("</saml:Assertion>");
    Ok(out)
}

/// Writes the AttributeStatement, or nothing when no attribute has a value: the schema
/// requires at least one statement child.
fn write_attribute_statement(out: &mut String, app: &AppConfig, attributes: &Attributes) {
    if attributes.is_empty() {
        return;
    }
    out.push_str("<saml:AttributeStatement>");
    for (name, values) in attributes {
        let format = app
            .attributes
            .iter()
            .find(|a| &a.name == name)
            .map(|a| a.name_format.uri())
            .unwrap_or(crate::config::NameFormat::Unspecified.uri());
        out.push_str("<saml:Attribute Name=\"");
        push_attribute(out, name);
        out.push_str("\" NameFormat=\"");
        out.push_str(format);
        out.push_str("\">");
        for value in values {
            // xmlns:xs is declared here and signed through the InclusiveNamespaces PrefixList.
            out.push_str("<saml:AttributeValue xmlns:xs=\"");
            out.push_str(XS_NS);
            out.push_str("\" xmlns:xsi=\"");
            out.push_str(XSI_NS);
            out.push_str("\" xsi:type=\"xs:string\">");
            push_text(out, value);
            out.push_str("</saml:AttributeValue>");
        }
        out.push_str("</saml:Attribute>");
    }
    out.push_str("</saml:AttributeStatement>");
}

fn write_response(idp: &IdpConfig, login: &Login<'_>, response_id: &str, times: &Times, assertion: &str) -> String {
    let mut out = String::with_capacity(assertion.len() + 1024);
    out.push_str("<samlp:Response xmlns:samlp=\"");
    out.push_str(PROTOCOL_NS);
    out.push_str("\" Destination=\"");
    push_attribute(&mut out, login.acs_url);
    out.push_str("\" ID=\"");
    out.push_str(response_id);
    out.push('"');
    if let Some(request_id) = login.in_response_to {
        out.push_str(" InResponseTo=\"");
        push_attribute(&mut out, request_id);
        out.push('"');
    }
    out.push_str(" IssueInstant=\"");
    out.push_str(&format_instant(times.issue_instant));
    out.push_str("\" Version=\"2.0\"><saml:Issuer xmlns:saml=\"");
    out.push_str(ASSERTION_NS);
    out.push_str("\">");
    push_text(&mut out, &idp.entity_id);
    out.push_str("</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"");
    out.push_str(STATUS_SUCCESS);
    out.push_str("\"></samlp:StatusCode></samlp:Status>");
    out.push_str(assertion);
    out.push_str("</samlp:Response>");
    out
}

/// A non-success top-level status and its optional second-level code
/// (SAML 2.0 Core, section 3.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorStatus {
    /// `Requester`, `Responder` or `VersionMismatch`.
    pub top: &'static str,
    /// For example `RequestDenied`, `InvalidNameIDPolicy`, `NoPassive`, `UnsupportedBinding`.
    pub second: Option<&'static str>,
}

/// Builds a signed Response that carries an error status and no Assertion, to post back to an
/// ACS URL already checked against the app's allowlist.
pub fn build_error_response(
    idp: &IdpConfig,
    app: &AppConfig,
    acs_url: &str,
    in_response_to: Option<&str>,
    status: ErrorStatus,
    platform: &mut dyn Platform,
) -> Result<String, ResponseError> {
    if !app.allows_acs_url(acs_url) {
        return Err(ResponseError::AcsNotAllowed { acs_url: acs_url.to_owned() });
    }
    let now = platform.now().replace_nanosecond(0).unwrap_or_else(|_| platform.now());
    let response_id = new_id(platform);
    let mut out = String::with_capacity(1024);
    out.push_str("<samlp:Response xmlns:samlp=\"");
    out.push_str(PROTOCOL_NS);
    out.push_str("\" Destination=\"");
    push_attribute(&mut out, acs_url);
    out.push_str("\" ID=\"");
    out.push_str(&response_id);
    out.push('"');
    if let Some(request_id) = in_response_to {
        out.push_str(" InResponseTo=\"");
        push_attribute(&mut out, request_id);
        out.push('"');
    }
    out.push_str(" IssueInstant=\"");
    out.push_str(&format_instant(now));
    out.push_str("\" Version=\"2.0\"><saml:Issuer xmlns:saml=\"");
    out.push_str(ASSERTION_NS);
    out.push_str("\">");
    push_text(&mut out, &idp.entity_id);
    out.push_str("</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:");
    out.push_str(status.top);
    out.push_str("\">");
    if let Some(second) = status.second {
        out.push_str("<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:");
        out.push_str(second);
        out.push_str("\"></samlp:StatusCode>");
    }
    out.push_str("</samlp:StatusCode></samlp:Status></samlp:Response>");

    let params = SigningParams {
        signer: idp.signer.as_ref(),
        certificate: &idp.certificate,
        signature_algorithm: app.signature_algorithm,
        digest_algorithm: app.digest_algorithm,
    };
    sign_enveloped(&out, &response_id, &params, platform.rng()).map_err(ResponseError::Signature)
}
