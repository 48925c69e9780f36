//! Inspection of a SAML Response from anyone: signatures checked with the core verifier,
//! then the Assertion's subject, conditions and attributes read back, each check with a reason.
//!
//! Used by `edgeidp verify` and the previewer's Inspect tab. Content is read only from the
//! element a signature verified: the Assertion itself when its own signature verifies, or the
//! Assertion inside a verified Response. When neither verifies, the content is still shown
//! but [`ResponseReport::content_verified`] is false.

use roxmltree::Node;
use rsa::RsaPublicKey;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::response::{ASSERTION_NS, PROTOCOL_NS, STATUS_SUCCESS};
use super::verify::{verify_if_signed, Checked, VerifyOptions};
use super::xml::{text_content, Document, Limits};

/// The outcome of one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid { algorithm: String },
    Absent,
    Invalid { reason: String },
}

/// One named check with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// The reason it passed or failed, in a sentence.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedAttribute {
    pub name: String,
    pub name_format: Option<String>,
    pub values: Vec<String>,
}

/// Everything read from a Response, and what was checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseReport {
    pub response_signature: Option<SignatureCheck>,
    pub assertion_signature: Option<SignatureCheck>,
    /// True when the Assertion was read from an element whose signature verified.
    pub content_verified: bool,
    pub encrypted: bool,
    /// True when the Assertion was read from a decryption of the EncryptedAssertion.
    pub decrypted: bool,
    pub issuer: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub status: Option<String>,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    pub recipient: Option<String>,
    pub audiences: Vec<String>,
    pub not_before: Option<String>,
    pub not_on_or_after: Option<String>,
    pub attributes: Vec<InspectedAttribute>,
    pub checks: Vec<Check>,
}

/// The audience, ACS URL and clock tolerance the inspected Response is checked against.
#[derive(Debug, Clone, Default)]
pub struct Expectations<'a> {
    pub audience: Option<&'a str>,
    pub acs_url: Option<&'a str>,
    pub allowed_skew_seconds: u64,
    pub allow_sha1: bool,
}

/// The reason a document could not be inspected at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    NotXml(String),
    NotResponse { root: String },
    /// The decrypted element is not a `saml:Assertion`.
    NotAssertion { root: String },
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotXml(e) => write!(f, "the document is not acceptable XML: {e}"),
            Self::NotResponse { root } => {
                write!(f, "the document element is <{root}>, expected a samlp:Response")
            }
            Self::NotAssertion { root } => {
                write!(f, "the decrypted element is <{root}>, expected a saml:Assertion")
            }
        }
    }
}

impl std::error::Error for InspectError {}

/// An Assertion recovered from a Response's EncryptedAssertion, each element standalone XML.
#[derive(Debug, Clone, Copy)]
pub struct DecryptedParts<'a> {
    /// The `saml:Assertion`, signature included.
    pub assertion_xml: &'a str,
    /// The `saml:NameID` decrypted from the Assertion's `saml:EncryptedID`, if it has one.
    pub name_id_xml: Option<&'a str>,
}

/// Inspects `xml`, a SAML Response, with `key` as the IdP's signing key and `now` as the clock.
pub fn inspect_response(
    xml: &str,
    key: &RsaPublicKey,
    now: OffsetDateTime,
    expected: &Expectations<'_>,
) -> Result<ResponseReport, InspectError> {
    inspect(xml, None, key, now, expected)
}

/// Inspects `xml` like [`inspect_response`], reading the Assertion from `decrypted`, the
/// decryption of its EncryptedAssertion. The Assertion's own signature is checked in the
/// decrypted document. A valid Response signature also covers the content, because it
/// covers the ciphertext that the Assertion was decrypted from.
pub fn inspect_decrypted_response(
    xml: &str,
    decrypted: DecryptedParts<'_>,
    key: &RsaPublicKey,
    now: OffsetDateTime,
    expected: &Expectations<'_>,
) -> Result<ResponseReport, InspectError> {
    inspect(xml, Some(decrypted), key, now, expected)
}

fn inspect(
    xml: &str,
    decrypted: Option<DecryptedParts<'_>>,
    key: &RsaPublicKey,
    now: OffsetDateTime,
    expected: &Expectations<'_>,
) -> Result<ResponseReport, InspectError> {
    let document = Document::parse(xml, &Limits::default()).map_err(|e| InspectError::NotXml(e.to_string()))?;
    let response = document.root_element();
    if !is(response, PROTOCOL_NS, "Response") {
        return Err(InspectError::NotResponse { root: response.tag_name().name().to_owned() });
    }
    let options = VerifyOptions { allow_sha1: expected.allow_sha1 };
    let mut report = ResponseReport {
        issuer: child(response, ASSERTION_NS, "Issuer").map(|n| text_content(n).into_owned()),
        destination: response.attribute("Destination").map(str::to_owned),
        in_response_to: response.attribute("InResponseTo").map(str::to_owned),
        status: status_code(response),
        encrypted: child(response, ASSERTION_NS, "EncryptedAssertion").is_some(),
        ..ResponseReport::default()
    };

    let (response_check, response_verified) = check_signature(&document, response, key, &options);
    report.response_signature = Some(response_check);

    if let Some(decrypted) = decrypted {
        read_decrypted(decrypted, key, &options, response_verified, &mut report)?;
        add_checks(&mut report, now, expected);
        return Ok(report);
    }
    let assertions: Vec<Node> = response.children().filter(|n| is(*n, ASSERTION_NS, "Assertion")).collect();
    let assertion = match assertions.as_slice() {
        [one] => Some(*one),
        [] => None,
        many => {
            report.checks.push(Check {
                name: "one assertion",
                passed: false,
                detail: format!("the Response has {} Assertions; SPs accept exactly one", many.len()),
            });
            None
        }
    };
    if let Some(assertion) = assertion {
        let (assertion_check, assertion_verified) = check_signature(&document, assertion, key, &options);
        report.assertion_signature = Some(assertion_check);
        report.content_verified = response_verified || assertion_verified;
        read_assertion(assertion, &mut report);
    }
    add_checks(&mut report, now, expected);
    Ok(report)
}

/// Checks the decrypted Assertion's signature and reads it, and its decrypted NameID, into
/// `report`.
fn read_decrypted(
    decrypted: DecryptedParts<'_>,
    key: &RsaPublicKey,
    options: &VerifyOptions,
    response_verified: bool,
    report: &mut ResponseReport,
) -> Result<(), InspectError> {
    let document = Document::parse(decrypted.assertion_xml, &Limits::default())
        .map_err(|e| InspectError::NotXml(format!("the decrypted Assertion: {e}")))?;
    let assertion = document.root_element();
    if !is(assertion, ASSERTION_NS, "Assertion") {
        return Err(InspectError::NotAssertion { root: assertion.tag_name().name().to_owned() });
    }
    let (assertion_check, assertion_verified) = check_signature(&document, assertion, key, options);
    report.assertion_signature = Some(assertion_check);
    report.content_verified = response_verified || assertion_verified;
    report.decrypted = true;
    read_assertion(assertion, report);

    if let Some(name_id_xml) = decrypted.name_id_xml {
        let name_id = Document::parse(name_id_xml, &Limits::default())
            .map_err(|e| InspectError::NotXml(format!("the decrypted NameID: {e}")))?;
        let root = name_id.root_element();
        report.name_id = Some(text_content(root).into_owned());
        report.name_id_format = root.attribute("Format").map(str::to_owned);
    }
    Ok(())
}

fn check_signature(document: &Document<'_>, element: Node<'_, '_>, key: &RsaPublicKey, options: &VerifyOptions) -> (SignatureCheck, bool) {
    match verify_if_signed(document, element, key, options) {
        Ok(Checked::Signed(signed)) => {
            let algorithm = format!("{} with {} digest", signed.signature_algorithm(), signed.digest_algorithm());
            (SignatureCheck::Valid { algorithm }, true)
        }
        Ok(Checked::Unsigned(_)) => (SignatureCheck::Absent, false),
        Err(e) => (SignatureCheck::Invalid { reason: e.to_string() }, false),
    }
}

fn read_assertion(assertion: Node<'_, '_>, report: &mut ResponseReport) {
    if let Some(subject) = child(assertion, ASSERTION_NS, "Subject") {
        if let Some(name_id) = child(subject, ASSERTION_NS, "NameID") {
            report.name_id = Some(text_content(name_id).into_owned());
            report.name_id_format = name_id.attribute("Format").map(str::to_owned);
        }
        let data = child(subject, ASSERTION_NS, "SubjectConfirmation")
            .and_then(|c| child(c, ASSERTION_NS, "SubjectConfirmationData"));
        report.recipient = data.and_then(|d| d.attribute("Recipient")).map(str::to_owned);
    }
    if let Some(conditions) = child(assertion, ASSERTION_NS, "Conditions") {
        report.not_before = conditions.attribute("NotBefore").map(str::to_owned);
        report.not_on_or_after = conditions.attribute("NotOnOrAfter").map(str::to_owned);
        report.audiences = conditions
            .children()
            .filter(|n| is(*n, ASSERTION_NS, "AudienceRestriction"))
            .flat_map(|r| r.children().filter(|n| is(*n, ASSERTION_NS, "Audience")))
            .map(|a| text_content(a).into_owned())
            .collect();
    }
    for statement in assertion.children().filter(|n| is(*n, ASSERTION_NS, "AttributeStatement")) {
        for attribute in statement.children().filter(|n| is(*n, ASSERTION_NS, "Attribute")) {
            report.attributes.push(InspectedAttribute {
                name: attribute.attribute("Name").unwrap_or_default().to_owned(),
                name_format: attribute.attribute("NameFormat").map(str::to_owned),
                values: attribute
                    .children()
                    .filter(|n| is(*n, ASSERTION_NS, "AttributeValue"))
                    .map(|v| text_content(v).into_owned())
                    .collect(),
            });
        }
    }
}

fn add_checks(report: &mut ResponseReport, now: OffsetDateTime, expected: &Expectations<'_>) {
    let signed = report.content_verified;
    let signature_detail = if signed {
        "the Assertion is covered by a signature that verifies with the certificate".to_owned()
    } else {
        describe_unsigned(report)
    };
    report.checks.push(Check { name: "signature", passed: signed, detail: signature_detail });

    let success = report.status.as_deref() == Some(STATUS_SUCCESS);
    let status_detail = format!("status is {}", report.status.as_deref().unwrap_or("missing"));
    report.checks.push(Check { name: "status", passed: success, detail: status_detail });

    let skew = Duration::seconds(i64::try_from(expected.allowed_skew_seconds).unwrap_or(0));
    report.checks.push(time_check("not before", report.not_before.as_deref(), |t| now + skew >= t, now));
    report.checks.push(time_check("not on or after", report.not_on_or_after.as_deref(), |t| now - skew < t, now));

    if let Some(audience) = expected.audience {
        let passed = report.audiences.iter().any(|a| a == audience);
        let detail = format!("Audience {:?}, expected {audience:?}", report.audiences);
        report.checks.push(Check { name: "audience", passed, detail });
    }
    if let Some(acs_url) = expected.acs_url {
        let passed = report.recipient.as_deref() == Some(acs_url);
        let detail = format!("Recipient {:?}, expected {acs_url:?}", report.recipient.as_deref().unwrap_or("missing"));
        report.checks.push(Check { name: "recipient", passed, detail });
        let passed = report.destination.as_deref() == Some(acs_url);
        let detail = format!("Destination {:?}, expected {acs_url:?}", report.destination.as_deref().unwrap_or("missing"));
        report.checks.push(Check { name: "destination", passed, detail });
    }
}

fn describe_unsigned(report: &ResponseReport) -> String {
    let describe = |check: &Option<SignatureCheck>| match check {
        Some(SignatureCheck::Invalid { reason }) => format!("invalid: {reason}"),
        Some(SignatureCheck::Absent) | None => "absent".to_owned(),
        Some(SignatureCheck::Valid { .. }) => "valid".to_owned(),
    };
    format!(
        "no verified signature covers the Assertion (Response signature {}; Assertion signature {})",
        describe(&report.response_signature),
        describe(&report.assertion_signature)
    )
}

fn time_check(
    name: &'static str,
    value: Option<&str>,
    holds: impl Fn(OffsetDateTime) -> bool,
    now: OffsetDateTime,
) -> Check {
    let now_text = super::response::format_instant(now);
    match value.map(|v| (v, OffsetDateTime::parse(v, &Rfc3339))) {
        None => Check { name, passed: false, detail: "the Conditions do not give this time".to_owned() },
        Some((v, Err(_))) => Check { name, passed: false, detail: format!("{v:?} is not an xs:dateTime") },
        Some((v, Ok(t))) => Check { name, passed: holds(t), detail: format!("{v}, checked at {now_text}") },
    }
}

fn is(node: Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(namespace) && node.tag_name().name() == name
}

fn child<'a, 'input>(node: Node<'a, 'input>, namespace: &str, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| is(*n, namespace, name))
}

fn status_code(response: Node<'_, '_>) -> Option<String> {
    child(response, PROTOCOL_NS, "Status")
        .and_then(|s| child(s, PROTOCOL_NS, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .map(str::to_owned)
}
