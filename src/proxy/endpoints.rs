//! The SAML endpoints: metadata, IdP-initiated and SP-initiated login.
//!
//! Everything here is independent of proxy-wasm: the host layer supplies the request, a
//! way to read the identity, and the platform, and sends the [`Outcome`]'s reply.

use sha2::{Digest, Sha256};

use super::filter_config::FilterConfig;
use super::identity::Identity;
use super::outcome::{Event, Outcome, Rejection};
use super::reply::Reply;
use super::routing::SamlEndpoint;
use crate::config::{AppConfig, MAX_RELAY_STATE_BYTES};
use crate::platform::Platform;
use crate::saml::post_form::post_form;
use crate::saml::response::{build_response, Login};

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

/// Answers a request to a SAML endpoint. `identity` is called at most once, and only for a
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
        SamlEndpoint::SsoRedirect { app } | SamlEndpoint::SsoPost { app } => {
            if config.saml.app(app).is_none() {
                return unknown_app(app);
            }
            rejected(
                Some(app),
                Rejection::Unsupported,
                "SP-initiated login is not available in this build",
                Reply::text(501, "SP-initiated login is not available; use the app's IdP-initiated URL."),
            )
        }
        SamlEndpoint::MethodNotAllowed { allow } => rejected(
            None,
            Rejection::MethodNotAllowed,
            "method not allowed on this endpoint",
            Reply::text(405, "Method not allowed.").with_header("allow", allow),
        ),
    }
}

/// The reply to a POST body larger than [`MAX_POST_BODY_BYTES`].
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
        &format!("no app named {:?}", truncate(app, 64)),
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

/// Shortens request data before it reaches a log line.
pub fn truncate(value: &str, max_chars: usize) -> String {
    value.chars().take(max_chars).collect()
}
