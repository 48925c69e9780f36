//! The proxy-wasm contexts: with the Envoy side of [`super::scim`], the only code that calls
//! Envoy.
//!
//! Nothing here may panic on a request path. A panic aborts the Wasm VM of the worker; with
//! `failure_policy: FAIL_RELOAD` Envoy fails that one request and starts a fresh VM, with
//! `FAIL_CLOSED` every later request on the worker gets 503 until the configuration changes.

use std::collections::HashMap;
use std::rc::Rc;

use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType, Status};
use time::OffsetDateTime;

use super::endpoints::{self, SamlRequest, MAX_POST_BODY_BYTES};
use super::filter_config::FilterConfig;
use super::header_map::{self, first_value};
use super::identity::{self, IdentityHost, PropertyRead};
use super::metrics;
use super::outcome::{Event, Outcome, Rejection};
use super::reply::Reply;
use super::routing::{route_request, PathAndQuery, Route, SamlEndpoint};
use super::scim::{self, AwaitingBody, EnvoyHost};
use crate::scim::ScimGate;
use crate::platform::HostPlatform;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Registers the root context, the log level and the panic hook. Called once per VM.
pub fn start() {
    // The SDK drops every log line until a level is set. Per-request successes log at info,
    // so Info keeps them; debug lines need a rebuild with Debug here.
    proxy_wasm::set_log_level(LogLevel::Info);
    // Replaces the SDK's hook (installed by set_log_level) to name the filter in the line.
    std::panic::set_hook(Box::new(|info| {
        let _ = hostcalls::log(LogLevel::Critical, &format!("panic, the Wasm VM stops: {info}"));
    }));
    proxy_wasm::set_root_context(|context_id| Box::new(Root { context_id, state: None }));
}

/// The state that every request on the worker shares once the configuration is loaded.
struct State {
    config: FilterConfig,
    metrics: Metrics,
}

struct Root {
    context_id: u32,
    state: Option<Rc<State>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let now = OffsetDateTime::from(self.get_current_time());
        let Some(json) = self.get_plugin_configuration() else {
            error!("the plugin configuration is empty; set it to the filter's JSON configuration");
            count_once(metrics::CONFIG_REJECTED);
            return false;
        };
        match FilterConfig::from_json(&json, now) {
            Ok((config, warnings)) => {
                for warning in warnings {
                    warn!("configuration warning: {warning}");
                }
                info!(
                    "edgeidp {VERSION}: configuration loaded (root context {}): {} app(s) under {}, identity from {}",
                    self.context_id,
                    config.saml.apps.len(),
                    config.saml.saml_prefix,
                    identity_sources(&config),
                );
                if let Some(gate) = &config.scim {
                    info!("{}", scim::describe(gate));
                }
                let metrics = Metrics::define(&config);
                self.state = Some(Rc::new(State { config, metrics }));
                count_once(metrics::CONFIG_LOADED);
                true
            }
            Err(error) => {
                error!("invalid plugin configuration, rejected: {error}");
                count_once(metrics::CONFIG_REJECTED);
                false
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http { context_id, state: self.state.clone(), pending_post: None, scim: None }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

fn identity_sources(config: &FilterConfig) -> String {
    let mut sources = Vec::new();
    if config.identity.jwt_authn.is_some() {
        sources.push("jwt_authn");
    }
    if config.identity.ext_authz_headers.is_some() {
        sources.push("ext_authz_headers");
    }
    sources.join(" and ")
}

/// Counter ids by name, defined once per worker.
struct Metrics {
    ids: HashMap<String, u32>,
}

impl Metrics {
    fn define(config: &FilterConfig) -> Self {
        let mut names = vec![metrics::METADATA_SERVED.to_owned(), metrics::RESPONSE_FAILURES.to_owned()];
        for app in config.saml.apps.keys() {
            names.push(metrics::responses_issued(app));
            names.push(metrics::no_identity(app));
        }
        names.extend(Rejection::all().into_iter().map(Rejection::metric));

        let mut ids = HashMap::new();
        for name in names {
            match hostcalls::define_metric(MetricType::Counter, &name) {
                Ok(id) => {
                    ids.insert(name, id);
                }
                Err(status) => warn!("cannot define metric {name}: {status:?}"),
            }
        }
        Self { ids }
    }

    fn increment(&self, name: &str) {
        if let Some(id) = self.ids.get(name) {
            let _ = hostcalls::increment_metric(*id, 1);
        }
    }

    fn record(&self, event: &Event) {
        match event {
            Event::MetadataServed => self.increment(metrics::METADATA_SERVED),
            Event::Issued { app, .. } => self.increment(&metrics::responses_issued(app)),
            Event::Rejected { reason, .. } => self.increment(&reason.metric()),
            Event::NoIdentity { app, .. } => self.increment(&metrics::no_identity(app)),
            Event::Failed { .. } => self.increment(metrics::RESPONSE_FAILURES),
        }
    }
}

/// Counts a configuration load outcome; defined on the spot because it happens before (or
/// instead of) [`Metrics::define`].
fn count_once(name: &str) {
    if let Ok(id) = hostcalls::define_metric(MetricType::Counter, name) {
        let _ = hostcalls::increment_metric(id, 1);
    }
}

/// A POST to an SSO endpoint whose body is still arriving.
struct PendingPost {
    app: String,
    path_and_query: String,
}

struct Http {
    context_id: u32,
    /// `None` only if Envoy created a request context without an accepted configuration,
    /// which it does not do; the filter then fails closed.
    state: Option<Rc<State>>,
    pending_post: Option<PendingPost>,
    /// A SCIM request whose headers have continued while the gate waits for its body.
    scim: Option<AwaitingBody>,
}

impl Context for Http {}

/// The request callbacks only. scripts/build-filter removes the exports of the response,
/// access-log and done callbacks, so that Envoy does not call into the VM for them. A callback
/// implemented here must come off that script's list.
impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(state) = self.state.clone() else {
            error!("[{}] no accepted configuration; failing closed", self.context_id);
            self.send(Reply::text(503, "The identity provider is not configured."));
            return Action::Pause;
        };
        // One read of the whole map serves routing and the SCIM gate; see header_map.
        let bytes = header_map::request_header_bytes();
        let Some(headers) = bytes.as_deref().and_then(header_map::decode_pairs) else {
            error!("[{}] reading the request headers failed; answering 500 (failing closed)", self.context_id);
            self.send(Reply::text(500, "The request headers could not be read."));
            return Action::Pause;
        };
        let method = first_value(&headers, ":method");
        let path_and_query = first_value(&headers, ":path");
        let split = PathAndQuery::split(path_and_query);

        match route_request(&state.config, method, path_and_query) {
            Route::PassThrough => Action::Continue,
            Route::Scim => self.scim_step(|gate, host| scim::on_request_headers(gate, host, &headers, end_of_stream)),
            Route::Saml(SamlEndpoint::SsoPost { app }) if !end_of_stream => {
                // Continue here and Pause in the body callback: pausing the headers would
                // stop Envoy from ever delivering the body to this filter.
                self.pending_post = Some(PendingPost { app: app.to_owned(), path_and_query: path_and_query.to_owned() });
                Action::Continue
            }
            Route::Saml(endpoint) => {
                let request = SamlRequest { endpoint, path_and_query, query: split.query, body: &[] };
                self.answer(&state, &request);
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let Some(awaiting) = self.scim.take() {
            return self.scim_step(|gate, host| scim::on_request_body(gate, host, awaiting, body_size, end_of_stream));
        }
        let Some(pending) = self.pending_post.take() else {
            return Action::Continue;
        };
        if !end_of_stream && body_size <= MAX_POST_BODY_BYTES {
            self.pending_post = Some(pending);
            return Action::Pause;
        }
        self.answer_post(pending, body_size)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        if let Some(awaiting) = self.scim.take() {
            return self.scim_step(|gate, host| scim::on_request_trailers(gate, host, awaiting));
        }
        // Trailers end the stream without a body callback marked end_of_stream, so an SSO
        // POST still waiting for its body is answered here rather than passed upstream.
        match self.pending_post.take() {
            Some(pending) => {
                let buffered = self.get_http_request_body(0, MAX_POST_BODY_BYTES + 1).map_or(0, |b| b.len());
                self.answer_post(pending, buffered)
            }
            None => Action::Continue,
        }
    }
}

impl Http {
    /// Answers an SSO POST once its whole body (`body_size` bytes) is buffered.
    fn answer_post(&mut self, pending: PendingPost, body_size: usize) -> Action {
        let Some(state) = self.state.clone() else {
            error!("[{}] no accepted configuration; failing closed", self.context_id);
            self.send(Reply::text(503, "The identity provider is not configured."));
            return Action::Pause;
        };
        if body_size > MAX_POST_BODY_BYTES {
            self.finish(&state, endpoints::body_too_large(&pending.app));
            return Action::Pause;
        }

        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        let split = PathAndQuery::split(&pending.path_and_query);
        let request = SamlRequest {
            endpoint: SamlEndpoint::SsoPost { app: &pending.app },
            path_and_query: &pending.path_and_query,
            query: split.query,
            body: &body,
        };
        self.answer(&state, &request);
        Action::Pause
    }

    /// Runs one SCIM gate callback and keeps the request if the gate still waits for its body.
    fn scim_step(&mut self, callback: impl FnOnce(&ScimGate, &mut EnvoyHost) -> scim::Step) -> Action {
        let Some(state) = self.state.clone() else {
            self.send(Reply::text(503, "The SCIM gate is not configured."));
            return Action::Pause;
        };
        let Some(gate) = &state.config.scim else {
            self.send(Reply::text(503, "The SCIM gate is not configured."));
            return Action::Pause;
        };
        let step = callback(gate, &mut EnvoyHost::new(self, self.context_id));
        self.scim = step.awaiting_body;
        step.flow.into()
    }

    fn answer(&self, state: &State, request: &SamlRequest<'_>) {
        let mut platform = HostPlatform { now: OffsetDateTime::from(self.get_current_time()), rng: rand_core::OsRng };
        let host = RequestHost(self);
        let mut read_identity = || identity::extract(&state.config.identity, &host);
        let outcome = endpoints::handle(&state.config, request, &mut read_identity, &mut platform);
        self.finish(state, outcome);
    }

    fn finish(&self, state: &State, outcome: Outcome) {
        self.log(&outcome.event);
        state.metrics.record(&outcome.event);
        self.send(outcome.reply);
    }

    fn send(&self, reply: Reply) {
        let headers: Vec<(&str, &str)> = reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        self.send_http_response(reply.status, headers, Some(&reply.body));
    }

    fn log(&self, event: &Event) {
        let id = self.context_id;
        match event {
            Event::MetadataServed => debug!("[{id}] metadata served"),
            Event::Issued { app, name_id_sha256, in_response_to, source } => info!(
                "[{id}] SAML Response issued: app={app} name_id_sha256={name_id_sha256} in_response_to={} identity={}",
                in_response_to.as_deref().map_or_else(|| "none (IdP-initiated)".to_owned(), |v| format!("{v:?}")),
                source.name(),
            ),
            Event::Rejected { app, reason, detail } => warn!(
                "[{id}] request rejected: reason={} app={} {detail}",
                reason.name(),
                app.as_deref().unwrap_or("-"),
            ),
            Event::NoIdentity { app, redirected } => info!(
                "[{id}] no identity for app={app}: {}",
                if *redirected { "redirected to its login_url" } else { "answered 401" },
            ),
            Event::Failed { app, detail } => error!("[{id}] Response for app={app} not built: {detail}"),
        }
    }
}

/// Identity extraction's view of the request: Envoy properties and request headers.
struct RequestHost<'a>(&'a Http);

impl IdentityHost for RequestHost<'_> {
    fn property(&self, path: &[&str]) -> PropertyRead {
        // Not the SDK's `Context::get_property`, which panics on SerializationFailure: Envoy
        // 1.40 returns that for a JSON null in dynamic metadata, such as a JWT claim of null.
        match hostcalls::get_property(path.to_vec()) {
            Ok(Some(value)) => PropertyRead::Value(value),
            Err(Status::SerializationFailure) => PropertyRead::Unserializable,
            Ok(None) | Err(_) => PropertyRead::Absent,
        }
    }

    /// Returns a header that is valid UTF-8. Envoy passes bytes 0x80 to 0xFF in header values
    /// through (seen with Envoy 1.40.0), on which the SDK's `get_http_request_header` panics.
    /// Such a value reads as absent, so it never becomes part of an identity.
    fn request_header(&self, name: &str) -> Option<String> {
        self.0.get_http_request_header_bytes(name).and_then(|bytes| String::from_utf8(bytes).ok())
    }
}
