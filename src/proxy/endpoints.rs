//! The SAML endpoints: metadata, IdP-initiated and SP-initiated login.
//!
//! Everything here is independent of proxy-wasm: the host layer supplies the request, a
//! way to read the identity, and the platform, and sends the [`Outcome`]'s reply.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::filter_config::FilterConfig;
use super::identity::Identity;
use super::outcome::{Event, Outcome, Rejection, RequestCheck};
use super::reply::Reply;
use super::routing::SamlEndpoint;
use crate::config::{AppConfig, MAX_RELAY_STATE_BYTES};
use crate::platform::Platform;
use crate::saml::authn_request::{
    decode_post, decode_redirect, AuthnRequest, AuthnRequestError, Binding, DecodeLimits, ErrorReply, RequestErrorKind,
    RequestPolicy, SamlStatus,
};
use crate::saml::post_form::post_form;
use crate::saml::response::{build_error_response, build_response, ErrorStatus, Login};

/// The largest HTTP-POST binding body the filter reads. A signed AuthnRequest with an
/// embedded certificate is under 16 KiB in base64; Envoy's buffer limit for the SSO route
/// must be at least this (the shipped configurations use the same 64 KiB).
pub const MAX_POST_BODY_BYTES: usize = 64 * 1024;

/// One request to a SAML endpoint.
pub struct SamlRequest<'a> {
    pub endpoint: SamlEndpoint<'a>,
    /// `:path` with its query, as received; the original URL for a login redirect.
    pub path_and_query: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The request body (HTTP-POST binding only; empty otherwise).
    pub body: &'a [u8],
}

/// Handles a request to a SAML endpoint. `identity` is called at most once, and only for a
/// login endpoint whose app exists.
pub fn handle(
    config: &FilterConfig,
    request: &SamlRequest<'_>,
    identity: &mut dyn FnMut() -> Option<Identity>,
    platform: &mut dyn Platform,
) -> Outcome {
    match request.endpoint {
        SamlEndpoint::Metadata => Outcome { reply: Reply::metadata(&config.metadata), event: Event::MetadataServed },
        SamlEndpoint::AppMetadata { app } => match config.app_metadata.get(app) {
            Some(xml) => Outcome { reply: Reply::metadata(xml), event: Event::MetadataServed },
            None => unknown_app(app),
        },
        SamlEndpoint::Init { app } => init(config, app, request, identity, platform),
        SamlEndpoint::SsoRedirect { app } => sso(config, app, Binding::Redirect, request, identity, platform),
        SamlEndpoint::SsoPost { app } => sso(config, app, Binding::Post, request, identity, platform),
        SamlEndpoint::MethodNotAllowed { allow } => rejected(
            None,
            Rejection::MethodNotAllowed,
            "method not allowed on this endpoint",
            Reply::text(405, "Method not allowed.").with_header("allow", allow),
        ),
    }
}

/// Returns the rejection of a POST body larger than [`MAX_POST_BODY_BYTES`].
pub fn body_too_large(app: &str) -> Outcome {
    rejected(
        Some(app),
        Rejection::BodyTooLarge,
        &format!("request body over {MAX_POST_BODY_BYTES} bytes"),
        Reply::text(413, "The request body is too large for a SAML request."),
    )
}

/// IdP-initiated login: an unsolicited Response to the app's default ACS URL, with the
/// app's default RelayState or, where the app allows it, the `RelayState` query parameter.
fn init(
    config: &FilterConfig,
    app_name: &str,
    request: &SamlRequest<'_>,
    identity: &mut dyn FnMut() -> Option<Identity>,
    platform: &mut dyn Platform,
) -> Outcome {
    let Some(app) = config.saml.app(app_name) else {
        return unknown_app(app_name);
    };
    let relay_state = match init_relay_state(app, request.query) {
        Ok(relay_state) => relay_state,
        Err(detail) => {
            return rejected(
                Some(app_name),
                Rejection::RelayState,
                &detail,
                Reply::text(400, "The RelayState parameter is not accepted for this app."),
            )
        }
    };
    let Some(identity) = identity() else {
        return no_identity(config, app, request.path_and_query, false);
    };
    issue(config, app, &identity, &app.default_acs_url, None, relay_state.as_deref(), platform)
}

/// SP-initiated login: decode and check the AuthnRequest, then issue the Response to it.
fn sso(
    config: &FilterConfig,
    app_name: &str,
    binding: Binding,
    request: &SamlRequest<'_>,
    identity: &mut dyn FnMut() -> Option<Identity>,
    platform: &mut dyn Platform,
) -> Outcome {
    let Some(app) = config.saml.app(app_name) else {
        return unknown_app(app_name);
    };
    let limits = DecodeLimits::default();
    let decoded = match binding {
        Binding::Redirect => decode_redirect(request.query.unwrap_or(""), &limits),
        Binding::Post => match std::str::from_utf8(request.body) {
            Ok(body) => decode_post(body, &limits),
            Err(_) => Err(RequestErrorKind::NotUtf8),
        },
    };
    let encoded = match decoded {
        Ok(encoded) => encoded,
        Err(kind) => return authn_request_rejected(config, app, &Rejected::from(&kind.into()), None, platform),
    };
    let policy = request_policy(config, app, platform.now());
    let authn_request = match encoded.check(&policy, &limits) {
        Ok(authn_request) => authn_request,
        Err(error) => {
            let relay_state = encoded.relay_state.as_deref();
            return authn_request_rejected(config, app, &Rejected::from(&error), relay_state, platform);
        }
    };

    let Some(identity) = identity() else {
        if authn_request.is_passive {
            // IsPassive forbids the IdP to interact with the user, so no login redirect.
            let relay_state = authn_request.relay_state.as_deref();
            return authn_request_rejected(config, app, &Rejected::passive(&authn_request), relay_state, platform);
        }
        return no_identity(config, app, request.path_and_query, binding == Binding::Post);
    };
    // NOTE: ForceAuthn is accepted but not enforced: the user authenticated with the proxy,
    // not with this filter. The assertion's AuthnInstant gives the SP the time of that login.
    issue(
        config,
        app,
        &identity,
        &authn_request.acs_url,
        Some(&authn_request.id),
        authn_request.relay_state.as_deref(),
        platform,
    )
}

/// Returns the core's request rules for `app` at `now`.
fn request_policy(config: &FilterConfig, app: &AppConfig, now: time::OffsetDateTime) -> RequestPolicy {
    let idp = &config.saml.idp;
    RequestPolicy {
        sp_entity_id: app.sp_entity_id.clone(),
        acs_urls: app.acs_urls.clone(),
        default_acs_url: app.default_acs_url.clone(),
        sso_url: config.saml.sso_url(&app.name),
        now,
        max_skew_seconds: idp.clock_skew_seconds,
        require_signature: app.authn_requests_signed || idp.want_authn_requests_signed,
        sp_certificate: app.sp_certificate.clone(),
        allow_sha1: idp.allow_legacy_sha1,
        name_id_format: app.name_id.format.uri().to_owned(),
        authn_context_class_ref: Some(app.authn_context_class_ref.clone()),
    }
}

/// A rejected AuthnRequest: why, the SAML status to report, and where an error Response may
/// go (only to an Issuer and ACS URL the core found trustworthy).
struct Rejected {
    check: RequestCheck,
    cause: String,
    status: SamlStatus,
    reply: Option<ErrorReply>,
}

impl Rejected {
    fn from(error: &AuthnRequestError) -> Self {
        Self {
            check: RequestCheck::of(&error.kind),
            cause: error.to_string(),
            status: error.status(),
            reply: error.reply().cloned(),
        }
    }

    /// IsPassive without an identity, for a request that passed every check.
    fn passive(authn_request: &AuthnRequest) -> Self {
        Self {
            check: RequestCheck::Passive,
            cause: "IsPassive is set and the proxy has authenticated no user".to_owned(),
            status: SamlStatus::NoPassive,
            reply: Some(ErrorReply { acs_url: authn_request.acs_url.clone(), in_response_to: authn_request.id.clone() }),
        }
    }
}

/// Answers a rejected AuthnRequest: a signed error Response posted to the ACS URL when one
/// may go there, a plain error page otherwise.
fn authn_request_rejected(
    config: &FilterConfig,
    app: &AppConfig,
    rejection: &Rejected,
    relay_state: Option<&str>,
    platform: &mut dyn Platform,
) -> Outcome {
    let reason = Rejection::AuthnRequest(rejection.check);
    let cause = loggable(&rejection.cause);
    let Some(reply) = &rejection.reply else {
        let page = Reply::text(400, "The sign-in request from the application was rejected.");
        return rejected(Some(&app.name), reason, &format!("{cause}; answered with an error page"), page);
    };

    let status = ErrorStatus {
        top: status_name(rejection.status.top_level()),
        second: rejection.status.second_level().map(status_name),
    };
    let built = build_error_response(&config.saml.idp, app, &reply.acs_url, Some(&reply.in_response_to), status, platform);
    match built {
        Ok(xml) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
            let form = post_form(&reply.acs_url, "SAMLResponse", &encoded, relay_state);
            let detail = format!("{cause}; error Response with status {} posted to the ACS URL", status_label(&status));
            rejected(Some(&app.name), reason, &detail, Reply::post_form(form))
        }
        Err(build_error) => {
            let page = Reply::text(400, "The sign-in request from the application was rejected.");
            let detail = format!("{cause}; the error Response could not be built ({build_error})");
            rejected(Some(&app.name), reason, &detail, page)
        }
    }
}

/// The status name after the `urn:oasis:names:tc:SAML:2.0:status:` prefix, as
/// [`ErrorStatus`] takes it.
fn status_name(uri: &'static str) -> &'static str {
    uri.strip_prefix("urn:oasis:names:tc:SAML:2.0:status:").unwrap_or(uri)
}

fn status_label(status: &ErrorStatus) -> String {
    match status.second {
        Some(second) => format!("{}/{second}", status.top),
        None => status.top.to_owned(),
    }
}

/// Picks the RelayState for `/init`. Returns the reason for the log when the query's
/// RelayState is not acceptable.
fn init_relay_state(app: &AppConfig, query: Option<&str>) -> Result<Option<String>, String> {
    let values: Vec<String> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(name, _)| name == "RelayState")
        .map(|(_, value)| value.into_owned())
        .collect();
    match values.as_slice() {
        [] => Ok(app.default_relay_state.clone()),
        [_] if !app.allow_relay_state_override => {
            Err("RelayState in the query, but allow_relay_state_override is false for this app".to_owned())
        }
        [value] => check_relay_state(value).map(|()| Some(value.clone())),
        _ => Err(format!("{} RelayState parameters; send one", values.len())),
    }
}

/// Checks a RelayState from the request: at most [`MAX_RELAY_STATE_BYTES`] and no control
/// characters. It is HTML-escaped in the form either way.
pub fn check_relay_state(value: &str) -> Result<(), String> {
    if value.len() > MAX_RELAY_STATE_BYTES {
        return Err(format!("RelayState of {} bytes, over the limit of {MAX_RELAY_STATE_BYTES}", value.len()));
    }
    if value.chars().any(char::is_control) {
        return Err("RelayState contains control characters".to_owned());
    }
    Ok(())
}

/// Builds, signs and posts the Response for an authenticated user.
fn issue(
    config: &FilterConfig,
    app: &AppConfig,
    identity: &Identity,
    acs_url: &str,
    in_response_to: Option<&str>,
    relay_state: Option<&str>,
    platform: &mut dyn Platform,
) -> Outcome {
    let login = Login {
        app,
        profile: &identity.profile,
        acs_url,
        in_response_to,
        authn_instant: identity.authn_instant,
    };
    match build_response(&config.saml.idp, &login, platform) {
        Ok(issued) => {
            let form = post_form(acs_url, "SAMLResponse", &issued.base64(), relay_state);
            let event = Event::Issued {
                app: app.name.clone(),
                name_id_sha256: short_digest(&issued.name_id),
                in_response_to: in_response_to.map(str::to_owned),
                source: identity.source,
            };
            Outcome { reply: Reply::post_form(form), event }
        }
        Err(error) => Outcome {
            reply: Reply::text(
                500,
                "The sign-in response could not be built. The administrator can find the cause in the proxy's log.",
            ),
            event: Event::Failed { app: app.name.clone(), detail: error.to_string() },
        },
    }
}

/// No identity: a redirect to the app's login URL with the original URL (GET only, since a
/// redirect would lose a POST body), or 401.
fn no_identity(config: &FilterConfig, app: &AppConfig, path_and_query: &str, is_post: bool) -> Outcome {
    let location = match (&app.login_url, is_post) {
        (Some(login_url), false) => login_redirect(config, login_url, path_and_query),
        _ => None,
    };
    let event = Event::NoIdentity { app: app.name.clone(), redirected: location.is_some() };
    if let Some(location) = location {
        return Outcome { reply: Reply::redirect(&location), event };
    }
    let mut reply = Reply::text(
        401,
        "Sign-in required: this endpoint answers only for a user that the proxy has authenticated.",
    );
    if config.identity.jwt_authn.is_some() {
        reply = reply.with_header("www-authenticate", "Bearer realm=\"edgeidp\"");
    }
    Outcome { reply, event }
}

/// The login URL with the original URL appended. The original URL is rebuilt from the
/// configured `idp.base_url`, never from the request's Host header, so a client cannot make
/// the login page return the user elsewhere.
fn login_redirect(config: &FilterConfig, login_url: &str, path_and_query: &str) -> Option<String> {
    let mut url = url::Url::parse(login_url).ok()?;
    let return_to = format!("{}{}", config.saml.idp.base_url, path_and_query);
    url.query_pairs_mut().append_pair(&config.identity.return_to_parameter, &return_to);
    Some(url.into())
}

fn unknown_app(app: &str) -> Outcome {
    rejected(
        None,
        Rejection::UnknownApp,
        &format!("no app named \"{}\"", loggable(app)),
        Reply::text(404, "No such app."),
    )
}

fn rejected(app: Option<&str>, reason: Rejection, detail: &str, reply: Reply) -> Outcome {
    Outcome { reply, event: Event::Rejected { app: app.map(str::to_owned), reason, detail: detail.to_owned() } }
}

/// The first 16 hex digits of the SHA-256 of `value`.
fn short_digest(value: &str) -> String {
    Sha256::digest(value.as_bytes()).iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}

/// Prepares text that quotes request data for a log line: at most 300 characters, with
/// control characters escaped so that a request cannot forge extra log lines.
fn loggable(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars().take(300) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loggable_escapes_line_breaks() {
        assert_eq!(loggable("a\nb\r\u{1b}[31m\"c\""), "a\\nb\\r\\u{1b}[31m\"c\"");
    }

    #[test]
    fn loggable_shortens() {
        assert_eq!(loggable(&"x".repeat(1000)).len(), 300);
    }

    #[test]
    fn status_name_strips_prefix() {
        assert_eq!(status_name(SamlStatus::NoPassive.top_level()), "Responder");
        assert_eq!(status_name(SamlStatus::NoPassive.second_level().unwrap_or_default()), "NoPassive");
    }

    #[test]
    fn relay_state_with_control_characters_rejected() {
        assert!(check_relay_state("line\nbreak").is_err());
        assert!(check_relay_state("<b>&\"'</b>").is_ok());
    }

    #[test]
    fn relay_state_over_limit_rejected() {
        assert!(check_relay_state(&"r".repeat(MAX_RELAY_STATE_BYTES + 1)).is_err());
        assert!(check_relay_state(&"r".repeat(MAX_RELAY_STATE_BYTES)).is_ok());
    }
}
