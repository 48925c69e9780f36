//! Request routing on `:path` and `:method`.
//!
//! Envoy 1.40 accepts no per-route configuration for Wasm filters, so the filter receives every
//! request on the listener and picks its own. A path that is not one of the endpoints below
//! passes through untouched; to keep the filter off a route entirely, give the route
//! `envoy.config.route.v3.FilterConfig{disabled: true}`.

use super::filter_config::FilterConfig;

/// The filter's decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// Not ours: continue to the next filter unchanged.
    PassThrough,
    /// A SAML IdP endpoint under `saml_prefix`.
    Saml(SamlEndpoint<'a>),
    /// A request under a prefix that the SCIM bearer-token gate guards.
    Scim,
}

/// A SAML endpoint and the app it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlEndpoint<'a> {
    /// `GET {prefix}/metadata`: every app's SSO endpoints.
    Metadata,
    /// `GET {prefix}/{app}/metadata`: one app's SSO endpoints.
    AppMetadata { app: &'a str },
    /// `GET {prefix}/{app}/sso`: SP-initiated login, HTTP-Redirect binding.
    SsoRedirect { app: &'a str },
    /// `POST {prefix}/{app}/sso`: SP-initiated login, HTTP-POST binding. Needs the body.
    SsoPost { app: &'a str },
    /// `GET {prefix}/{app}/init`: IdP-initiated login.
    Init { app: &'a str },
    /// An endpoint path with a method it does not serve; `allow` is the Allow header value.
    MethodNotAllowed { allow: &'static str },
}

/// A request's `:path` split at the first `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathAndQuery<'a> {
    pub path: &'a str,
    /// The raw query string, still percent-encoded (a Redirect-binding signature covers it
    /// byte for byte), or `None` when there is no `?`.
    pub query: Option<&'a str>,
}

impl<'a> PathAndQuery<'a> {
    pub fn split(path_and_query: &'a str) -> Self {
        match path_and_query.split_once('?') {
            Some((path, query)) => Self { path, query: Some(query) },
            None => Self { path: path_and_query, query: None },
        }
    }
}

/// Routes a request by method and `:path`. The SCIM gate's prefixes come first, because
/// they match the normalized path (`/saml/../scim/v2/Users` is under `/scim/v2`) while the
/// SAML endpoints match the path as sent. In the other order, a path that the upstream
/// normalizes into the SCIM API could pass through as not ours.
pub fn route_request<'a>(config: &FilterConfig, method: &str, path_and_query: &'a str) -> Route<'a> {
    if config.scim.as_ref().is_some_and(|gate| gate.guards(path_and_query)) {
        return Route::Scim;
    }
    route(&config.saml.saml_prefix, method, PathAndQuery::split(path_and_query).path)
}

/// Routes a request by method and path (without the query).
pub fn route<'a>(saml_prefix: &str, method: &str, path: &'a str) -> Route<'a> {
    let Some(rest) = path.strip_prefix(saml_prefix).and_then(|rest| rest.strip_prefix('/')) else {
        return Route::PassThrough;
    };
    let segments: Vec<&'a str> = rest.split('/').collect();
    let endpoint = match segments.as_slice() {
        ["metadata"] => read_only(method, SamlEndpoint::Metadata),
        [app, "metadata"] => read_only(method, SamlEndpoint::AppMetadata { app }),
        [app, "sso"] => match method {
            "GET" => SamlEndpoint::SsoRedirect { app },
            "POST" => SamlEndpoint::SsoPost { app },
            _ => SamlEndpoint::MethodNotAllowed { allow: "GET, POST" },
        },
        [app, "init"] => match method {
            "GET" => SamlEndpoint::Init { app },
            _ => SamlEndpoint::MethodNotAllowed { allow: "GET" },
        },
        _ => return Route::PassThrough,
    };
    Route::Saml(endpoint)
}

fn read_only<'a>(method: &str, endpoint: SamlEndpoint<'a>) -> SamlEndpoint<'a> {
    match method {
        "GET" | "HEAD" => endpoint,
        _ => SamlEndpoint::MethodNotAllowed { allow: "GET, HEAD" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_routes() {
        assert_eq!(route("/saml", "GET", "/saml/metadata"), Route::Saml(SamlEndpoint::Metadata));
        assert_eq!(route("/saml", "HEAD", "/saml/metadata"), Route::Saml(SamlEndpoint::Metadata));
        assert_eq!(
            route("/saml", "GET", "/saml/amion/metadata"),
            Route::Saml(SamlEndpoint::AppMetadata { app: "amion" })
        );
    }

    #[test]
    fn sso_routes_by_method() {
        assert_eq!(route("/saml", "GET", "/saml/amion/sso"), Route::Saml(SamlEndpoint::SsoRedirect { app: "amion" }));
        assert_eq!(route("/saml", "POST", "/saml/amion/sso"), Route::Saml(SamlEndpoint::SsoPost { app: "amion" }));
        assert_eq!(
            route("/saml", "PUT", "/saml/amion/sso"),
            Route::Saml(SamlEndpoint::MethodNotAllowed { allow: "GET, POST" })
        );
    }

    #[test]
    fn init_is_get_only() {
        assert_eq!(route("/idp", "GET", "/idp/doximity/init"), Route::Saml(SamlEndpoint::Init { app: "doximity" }));
        assert_eq!(
            route("/idp", "POST", "/idp/doximity/init"),
            Route::Saml(SamlEndpoint::MethodNotAllowed { allow: "GET" })
        );
    }

    #[test]
    fn other_paths_pass_through() {
        for path in ["/", "/saml", "/saml/", "/samlx/metadata", "/saml/amion", "/saml/amion/acs", "/saml/a/b/sso", "/other"] {
            assert_eq!(route("/saml", "GET", path), Route::PassThrough, "{path}");
        }
    }

    #[test]
    fn query_split_at_first_question_mark() {
        let split = PathAndQuery::split("/saml/amion/sso?SAMLRequest=a%3F&RelayState=b?c");
        assert_eq!(split.path, "/saml/amion/sso");
        assert_eq!(split.query, Some("SAMLRequest=a%3F&RelayState=b?c"));
        assert_eq!(PathAndQuery::split("/saml/metadata").query, None);
    }
}
