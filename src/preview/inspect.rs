//! The Inspect tab: a pasted SAMLResponse or AuthnRequest decoded from whatever form an
//! administrator copied it in, checked with the core verifier and the AuthnRequest decoder
//! against the configured app, and described field by field.
//!
//! Accepted forms: XML; a base64 SAMLResponse; a base64 SAMLRequest, DEFLATE-compressed
//! (HTTP-Redirect) or not (HTTP-POST); a full redirect URL or query string with SAMLRequest;
//! and a form body or query string with SAMLResponse.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::decrypt::{self, DecryptedView, DecryptionError, SecretPem};
use super::{parse_time, pretty, PreviewError, SpAttribute};
use crate::config::{AppConfig, Config};
use crate::saml::authn_request::{
    decode_post, decode_redirect, Binding, DecodeLimits, EncodedRequest, RequestErrorKind, RequestPolicy, SAMLP_NS,
    SAML_NS,
};
use crate::saml::encryption::DecryptedAssertion;
use crate::saml::inspect::{inspect_decrypted_response, inspect_response, Expectations, ResponseReport, SignatureCheck};
use crate::saml::keys::X509;
use crate::saml::response::ASSERTION_NS;
use crate::saml::xml::{text_content, Document, Limits};

/// Base64 as SAML bindings carry it; some encoders leave the padding out.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A message to inspect and what to check it against.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    /// The pasted message, in any of the accepted forms.
    pub message: String,
    /// The certificate that signed it: the IdP's for a Response, the SP's for an AuthnRequest.
    /// Default: the app's `sp_certificate_pem` for AuthnRequests, none for Responses.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// The clock to check validity times against, RFC 3339.
    pub now: String,
    /// The filter configuration holding the app to compare with. Default: none, which skips
    /// the audience, recipient and AuthnRequest checks.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// The app (a key under `apps`) to compare with.
    #[serde(default)]
    pub app: Option<String>,
    /// The SP's RSA private key (PEM), to decrypt a Response's EncryptedAssertion (and its
    /// EncryptedID). Default: none, which leaves an encrypted Assertion unread.
    #[serde(default)]
    pub sp_private_key_pem: SecretPem,
}

/// The description of an inspected message that the page shows.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// `response` or `authn_request`.
    pub kind: &'static str,
    /// The binding an AuthnRequest was decoded from: `redirect` or `post`.
    pub binding: Option<&'static str>,
    /// A one-line verdict: the signature outcome for a Response, the decoder's outcome for an
    /// AuthnRequest.
    pub headline: String,
    /// Labelled values read from the message, in display order.
    pub fields: Vec<Field>,
    pub checks: Vec<InspectCheck>,
    pub attributes: Vec<SpAttribute>,
    /// Whether a valid signature covers the fields and attributes shown.
    pub content_verified: bool,
    /// An AuthnRequest's NameIDPolicy Format, so the preview can compare it with the app's.
    pub requested_name_id_format: Option<String>,
    /// The decoded XML, indented for reading.
    pub readable_xml: String,
    /// Whether the message is a Response with an EncryptedAssertion.
    pub encrypted: bool,
    /// The Assertion decrypted with `sp_private_key_pem`, when the Response had an
    /// EncryptedAssertion and it decrypted.
    pub decrypted: Option<DecryptedView>,
}

#[derive(Debug, Serialize)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

/// One check and why it passed or failed.
#[derive(Debug, Serialize)]
pub struct InspectCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// A message taken out of its transport encoding.
enum Decoded {
    Response { xml: String },
    Request(EncodedRequest),
}

/// Decodes, checks and describes `request.message`.
pub fn inspect(request: &InspectRequest) -> Result<Inspection, PreviewError> {
    let now = parse_time("now", &request.now)?;
    let certificate = match request.certificate_pem.as_deref().map(str::trim) {
        Some(pem) if !pem.is_empty() => {
            Some(X509::from_pem(pem).map_err(|e| PreviewError::Key(format!("certificate: {e}")))?)
        }
        _ => None,
    };
    let app = configured_app(request, now);

    match decode(&request.message)? {
        Decoded::Response { xml } => {
            let sp_key = request.sp_private_key_pem.pem();
            inspect_saml_response(&xml, certificate.as_ref(), sp_key, &app, now)
        }
        Decoded::Request(encoded) => inspect_authn_request(&encoded, certificate, &app, now),
    }
}

/// The configured app, or why it cannot be compared with.
type ConfiguredApp = Result<(Config, String), String>;

fn configured_app(request: &InspectRequest, now: OffsetDateTime) -> ConfiguredApp {
    let (Some(config), Some(app)) = (&request.config, &request.app) else {
        return Err("no app is configured".to_owned());
    };
    let json = serde_json::to_vec(config).map_err(|e| e.to_string())?;
    let (config, _) = Config::from_json(&json, now).map_err(|e| format!("the configuration is invalid ({e})"))?;
    if config.app(app).is_none() {
        return Err(format!("app {app:?} is not in the configuration"));
    }
    Ok((config, app.clone()))
}

fn app_of(configured: &ConfiguredApp) -> Option<(&Config, &AppConfig)> {
    let (config, name) = configured.as_ref().ok()?;
    Some((config, config.app(name)?))
}

// ---- Decoding ----

fn decode(message: &str) -> Result<Decoded, PreviewError> {
    let message = message.trim();
    if message.is_empty() {
        return Err(invalid_message("the message is empty; paste a SAMLResponse or an AuthnRequest"));
    }
    if message.starts_with('<') {
        return classify_xml(message.to_owned(), None);
    }
    if let Some(query) = parameters_containing(message, "SAMLRequest=") {
        return decode_request_parameters(query);
    }
    if let Some(query) = parameters_containing(message, "SAMLResponse=") {
        return decode_response_parameters(query);
    }
    decode_base64_value(message)
}

/// Returns the query or form part of `message` when it carries the parameter `name=`: the
/// text after `?` for a URL, without any fragment, or the message itself.
fn parameters_containing<'m>(message: &'m str, name: &str) -> Option<&'m str> {
    if !message.contains(name) {
        return None;
    }
    let query = message.split_once('?').map_or(message, |(_, query)| query);
    Some(query.split_once('#').map_or(query, |(query, _)| query))
}

fn decode_request_parameters(query: &str) -> Result<Decoded, PreviewError> {
    let limits = DecodeLimits::default();
    let encoded = match decode_redirect(query, &limits) {
        // Not DEFLATE data: the parameters are an HTTP-POST form body.
        Err(RequestErrorKind::InvalidDeflate { .. }) => decode_post(query, &limits),
        other => other,
    }
    .map_err(|e| invalid_message(&e.to_string()))?;
    Ok(Decoded::Request(encoded))
}

fn decode_response_parameters(query: &str) -> Result<Decoded, PreviewError> {
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "SAMLResponse")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let bytes = decode_base64(&value, "SAMLResponse")?;
    let xml = String::from_utf8(bytes).map_err(|_| invalid_message("the decoded SAMLResponse is not UTF-8 text"))?;
    Ok(Decoded::Response { xml })
}

/// Decodes a bare base64 value: XML inside means a SAMLResponse or an HTTP-POST SAMLRequest,
/// anything else is taken as a DEFLATE-compressed HTTP-Redirect SAMLRequest.
fn decode_base64_value(value: &str) -> Result<Decoded, PreviewError> {
    let bytes = decode_base64(value, "the message")?;
    let text = String::from_utf8(bytes).ok().filter(|text| text.trim_start_matches('\u{feff}').trim_start().starts_with('<'));
    match text {
        Some(xml) => classify_xml(xml, Some(Binding::Post)),
        None => decode_request_parameters(&format!("SAMLRequest={}", compact(value))),
    }
}

fn decode_base64(value: &str, what: &str) -> Result<Vec<u8>, PreviewError> {
    BASE64
        .decode(compact(value))
        .map_err(|e| invalid_message(&format!("{what} is not XML, a URL or valid base64 ({e})")))
}

/// Removes the line breaks and spaces that mail clients and logs insert into base64.
fn compact(value: &str) -> String {
    value.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// Classifies `xml` as a Response or an AuthnRequest by its document element.
fn classify_xml(xml: String, binding: Option<Binding>) -> Result<Decoded, PreviewError> {
    let root = {
        let document = Document::parse(&xml, &Limits::default()).map_err(|e| invalid_message(&e.to_string()))?;
        let root = document.root_element();
        (root.tag_name().namespace().map(str::to_owned), root.tag_name().name().to_owned())
    };
    match (root.0.as_deref(), root.1.as_str()) {
        (Some(SAMLP_NS), "Response") => Ok(Decoded::Response { xml }),
        (Some(SAMLP_NS), "AuthnRequest") => Ok(Decoded::Request(EncodedRequest {
            binding: binding.unwrap_or(Binding::Post),
            xml,
            relay_state: None,
            redirect_signature: None,
        })),
        (_, name) => Err(invalid_message(&format!(
            "the document element is <{name}>; expected a samlp:Response or a samlp:AuthnRequest"
        ))),
    }
}

fn invalid_message(reason: &str) -> PreviewError {
    PreviewError::Request { what: "inspect", cause: reason.to_owned() }
}

// ---- Responses ----

fn inspect_saml_response(
    xml: &str,
    certificate: Option<&X509>,
    sp_key: Option<&str>,
    configured: &ConfiguredApp,
    now: OffsetDateTime,
) -> Result<Inspection, PreviewError> {
    let readable_xml = readable(xml);
    let Some(certificate) = certificate else {
        return Ok(Inspection {
            kind: "response",
            binding: None,
            headline: "Response: signature not checked, because no certificate was given".to_owned(),
            fields: Vec::new(),
            checks: vec![failed("signature", "paste the IdP's signing certificate to check the signature")],
            attributes: Vec::new(),
            content_verified: false,
            requested_name_id_format: None,
            encrypted: has_encrypted_assertion(xml),
            readable_xml,
            decrypted: None,
        });
    };

    let app = app_of(configured);
    let expected = Expectations {
        audience: app.map(|(_, app)| app.sp_entity_id.as_str()),
        // NOTE: an app with several ACS URLs is compared with its default one only.
        acs_url: app.map(|(_, app)| app.default_acs_url.as_str()),
        allowed_skew_seconds: app.map_or(0, |(config, _)| config.idp.clock_skew_seconds),
        allow_sha1: app.is_some_and(|(config, _)| config.idp.allow_legacy_sha1),
    };
    let decryption = match sp_key {
        Some(pem) if has_encrypted_assertion(xml) => {
            Some(decrypt::load_key(pem, None).and_then(|key| decrypt::decrypt(xml, &key)))
        }
        _ => None,
    };
    let report = match &decryption {
        Some(Ok(decrypted)) => {
            inspect_decrypted_response(xml, decrypt::parts(decrypted), certificate.public_key(), now, &expected)
        }
        _ => inspect_response(xml, certificate.public_key(), now, &expected),
    }
    .map_err(|e| invalid_message(&e.to_string()))?;

    let mut checks: Vec<InspectCheck> = report
        .checks
        .iter()
        .map(|check| InspectCheck { name: check.name.to_owned(), passed: check.passed, detail: check.detail.clone() })
        .collect();
    if let Err(reason) = configured {
        checks.push(failed("app", &format!("audience and recipient were not compared: {reason}")));
    }
    let mut fields = response_fields(&report);
    if report.encrypted {
        let (field, check) = describe_decryption(decryption.as_ref());
        fields.push(field);
        checks.extend(check);
    }
    Ok(Inspection {
        kind: "response",
        binding: None,
        headline: response_headline(&report),
        fields,
        checks,
        attributes: report.attributes.iter().cloned().map(SpAttribute::from).collect(),
        content_verified: report.content_verified,
        requested_name_id_format: None,
        readable_xml,
        encrypted: report.encrypted,
        decrypted: match &decryption {
            Some(Ok(decrypted)) => Some(DecryptedView::new(decrypted, &report)),
            _ => None,
        },
    })
}

/// Returns whether `xml` is a Response with an EncryptedAssertion child.
fn has_encrypted_assertion(xml: &str) -> bool {
    Document::parse(xml, &Limits::default()).is_ok_and(|document| {
        document.root_element().children().any(|n| n.has_tag_name((ASSERTION_NS, "EncryptedAssertion")))
    })
}

/// Describes the outcome of decrypting an EncryptedAssertion: a field, and a check unless no
/// key was given.
fn describe_decryption(
    decryption: Option<&Result<DecryptedAssertion, DecryptionError>>,
) -> (Field, Option<InspectCheck>) {
    let label = "EncryptedAssertion";
    match decryption {
        None => {
            let value = format!("present; paste the SP's private key ({}) to decrypt it", decrypt::FIELD);
            (Field { label, value }, None)
        }
        Some(Ok(decrypted)) => {
            let value = format!(
                "decrypted with {} ({}); the fields and attributes are read from the decrypted Assertion",
                decrypt::FIELD,
                decrypted.content_algorithm.name()
            );
            let check = InspectCheck { name: "decryption".into(), passed: true, detail: value.clone() };
            (Field { label, value }, Some(check))
        }
        Some(Err(error)) => {
            let value = "present; decryption failed (see the decryption check)".to_owned();
            (Field { label, value }, Some(failed("decryption", &error.to_string())))
        }
    }
}

fn response_headline(report: &ResponseReport) -> String {
    let signatures = [&report.response_signature, &report.assertion_signature];
    if report.content_verified {
        let algorithm = signatures.iter().find_map(|check| match check {
            Some(SignatureCheck::Valid { algorithm }) => Some(algorithm.as_str()),
            _ => None,
        });
        return format!("Response: signature valid ({})", algorithm.unwrap_or("verified"));
    }
    let reason = signatures.iter().find_map(|check| match check {
        Some(SignatureCheck::Invalid { reason }) => Some(reason.as_str()),
        _ => None,
    });
    match reason {
        Some(reason) => format!("Response: signature invalid: {reason}"),
        None => "Response: not signed, so an SP must reject it".to_owned(),
    }
}

fn response_fields(report: &ResponseReport) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut push = |label: &'static str, value: Option<&str>| {
        if let Some(value) = value {
            fields.push(Field { label, value: value.to_owned() });
        }
    };
    push("Response signature", Some(&describe_signature(&report.response_signature)));
    push("Assertion signature", Some(&describe_signature(&report.assertion_signature)));
    push("Issuer", report.issuer.as_deref());
    push("Destination", report.destination.as_deref());
    push("InResponseTo", report.in_response_to.as_deref());
    push("Status", report.status.as_deref());
    push("NameID", report.name_id.as_deref());
    push("NameID format", report.name_id_format.as_deref());
    push("Recipient", report.recipient.as_deref());
    push("Audience", Some(&report.audiences.join(", ")).filter(|a| !a.is_empty()).map(String::as_str));
    push("NotBefore", report.not_before.as_deref());
    push("NotOnOrAfter", report.not_on_or_after.as_deref());
    fields
}

pub(super) fn describe_signature(check: &Option<SignatureCheck>) -> String {
    match check {
        Some(SignatureCheck::Valid { algorithm }) => format!("valid ({algorithm})"),
        Some(SignatureCheck::Invalid { reason }) => format!("invalid: {reason}"),
        Some(SignatureCheck::Absent) => "absent".to_owned(),
        None => "no element to sign".to_owned(),
    }
}

// ---- AuthnRequests ----

fn inspect_authn_request(
    encoded: &EncodedRequest,
    certificate: Option<X509>,
    configured: &ConfiguredApp,
    now: OffsetDateTime,
) -> Result<Inspection, PreviewError> {
    let summary = RequestSummary::read(&encoded.xml)?;
    let binding = match encoded.binding {
        Binding::Redirect => "redirect",
        Binding::Post => "post",
    };

    let (headline, checks, signed) = match app_of(configured) {
        None => {
            let reason = configured.as_ref().err().cloned().unwrap_or_default();
            let detail = format!("the request was decoded but not checked: {reason}");
            ("AuthnRequest: decoded, not checked".to_owned(), vec![failed("app", &detail)], false)
        }
        Some((config, app)) => check_request(encoded, config, app, certificate, now),
    };

    let mut fields = vec![Field { label: "Binding", value: binding.to_owned() }];
    fields.extend(summary.fields());
    if let Some(relay_state) = &encoded.relay_state {
        fields.push(Field { label: "RelayState", value: relay_state.clone() });
    }
    Ok(Inspection {
        kind: "authn_request",
        binding: Some(binding),
        headline,
        fields,
        checks,
        attributes: Vec::new(),
        content_verified: signed,
        requested_name_id_format: summary.name_id_format,
        readable_xml: readable(&encoded.xml),
        encrypted: false,
        decrypted: None,
    })
}

/// Runs the filter's own AuthnRequest checks with the app's policy. Returns the headline, the
/// checks and whether a signature was verified.
fn check_request(
    encoded: &EncodedRequest,
    config: &Config,
    app: &AppConfig,
    certificate: Option<X509>,
    now: OffsetDateTime,
) -> (String, Vec<InspectCheck>, bool) {
    let policy = RequestPolicy {
        sp_entity_id: app.sp_entity_id.clone(),
        acs_urls: app.acs_urls.clone(),
        default_acs_url: app.default_acs_url.clone(),
        sso_url: config.sso_url(&app.name),
        now,
        max_skew_seconds: config.idp.clock_skew_seconds,
        require_signature: app.authn_requests_signed,
        sp_certificate: certificate.or_else(|| app.sp_certificate.clone()),
        allow_sha1: config.idp.allow_legacy_sha1,
        name_id_format: app.name_id.format.uri().to_owned(),
        authn_context_class_ref: Some(app.authn_context_class_ref.clone()),
    };
    match encoded.check(&policy, &DecodeLimits::default()) {
        Ok(request) => {
            let signature = if request.signed {
                InspectCheck { name: "signature".into(), passed: true, detail: "verified with the SP certificate".into() }
            } else {
                InspectCheck {
                    name: "signature".into(),
                    passed: true,
                    detail: "not checked: the request is unsigned, or no SP certificate was given, and the app does not require signed requests".into(),
                }
            };
            let accepted = InspectCheck {
                name: "request".into(),
                passed: true,
                detail: format!("the filter accepts it for app {:?} and answers at {}", app.name, request.acs_url),
            };
            let headline = if request.signed { "AuthnRequest: accepted, signature valid" } else { "AuthnRequest: accepted" };
            (headline.to_owned(), vec![accepted, signature], request.signed)
        }
        Err(error) => {
            let detail = format!("{error}; the filter answers with status {}", error.status().top_level());
            let headline = format!("AuthnRequest: rejected: {error}");
            (headline, vec![failed("request", &detail)], false)
        }
    }
}

/// The fields of an AuthnRequest shown whether or not it passes the checks.
struct RequestSummary {
    id: Option<String>,
    issue_instant: Option<String>,
    issuer: Option<String>,
    destination: Option<String>,
    acs_url: Option<String>,
    name_id_format: Option<String>,
}

impl RequestSummary {
    fn read(xml: &str) -> Result<Self, PreviewError> {
        let document = Document::parse(xml, &Limits::default()).map_err(|e| invalid_message(&e.to_string()))?;
        let root = document.root_element();
        let child = |namespace: &str, name: &str| {
            root.children().find(|n| n.tag_name().namespace() == Some(namespace) && n.tag_name().name() == name)
        };
        let attribute = |name: &str| root.attribute(name).map(str::to_owned);
        Ok(Self {
            id: attribute("ID"),
            issue_instant: attribute("IssueInstant"),
            issuer: child(SAML_NS, "Issuer").map(|n| text_content(n).trim().to_owned()),
            destination: attribute("Destination"),
            acs_url: attribute("AssertionConsumerServiceURL"),
            name_id_format: child(SAMLP_NS, "NameIDPolicy").and_then(|n| n.attribute("Format")).map(str::to_owned),
        })
    }

    fn fields(&self) -> Vec<Field> {
        let entries = [
            ("ID", &self.id),
            ("IssueInstant", &self.issue_instant),
            ("Issuer", &self.issuer),
            ("Destination", &self.destination),
            ("AssertionConsumerServiceURL", &self.acs_url),
            ("NameIDPolicy Format", &self.name_id_format),
        ];
        entries
            .into_iter()
            .filter_map(|(label, value)| value.clone().map(|value| Field { label, value }))
            .collect()
    }
}

fn failed(name: &str, detail: &str) -> InspectCheck {
    InspectCheck { name: name.to_owned(), passed: false, detail: detail.to_owned() }
}

/// Indents `xml` for reading, or returns it unchanged when it does not parse.
pub(super) fn readable(xml: &str) -> String {
    match Document::parse(xml, &Limits::default()) {
        Ok(document) => pretty::indent(document.tree()),
        Err(_) => xml.to_owned(),
    }
}

#[cfg(test)]
mod tests;
