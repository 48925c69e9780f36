//! The SCIM bearer-token gate inside the filter: Envoy's request callbacks in front of
//! [`ScimGate`].
//!
//! The request-headers callback asks the gate for a decision. A rejection becomes a local
//! reply. An accepted request gets its header changes (the tenant header, and the removal
//! of `Authorization` if configured) and continues. A request whose operation depends on
//! its body also gets its header changes in the headers callback, because headers that
//! have continued belong to the next filter, and then waits in the body callback (`Pause`)
//! until the end of the stream, when the gate decides from the whole body.
//!
//! The headers callback must return `Continue` even for those requests: the proxy-wasm host
//! in Envoy turns a `Pause` there into `StopAllIterationAndWatermark`, after which Envoy
//! does not call the body callback until the filter resumes, so the request would hang.
//! Headers that have continued travel on to the next filter. Measured on Envoy 1.40.0: with
//! the router next, the upstream receives the request headers while the body is still
//! arriving, before the gate has decided. `envoy/scim.yaml` therefore puts Envoy's buffer
//! filter (`envoy.filters.http.buffer`) right after this filter: it holds the headers until
//! the whole body has passed this filter, so nothing of a request reaches the upstream
//! before the gate's decision. The filter cannot check that the buffer filter is there.
//!
//! Only [`EnvoyHost`] touches proxy-wasm, and it is built for `wasm32` alone; the flow
//! above is tested natively through [`ScimHost`].

use log::Level;
use time::OffsetDateTime;

use super::header_map::{first_value, Header};
use crate::scim::config::UNKNOWN_TOKEN_ID;
use crate::scim::{
    Accepted, BodyDecision, GateHost, HeaderChanges, HeadersDecision, PendingBody, RejectReason, Rejection, RequestHead,
    ScimGate,
};

/// The filter's verdict to Envoy at the end of a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop here: a local reply was sent, or the body is still arriving.
    Pause,
}

/// The result of one callback: what to return to Envoy, and the request to keep when the
/// gate is waiting for its body.
#[derive(Debug)]
pub struct Step {
    pub flow: Flow,
    pub awaiting_body: Option<AwaitingBody>,
}

impl Step {
    fn done(flow: Flow) -> Self {
        Self { flow, awaiting_body: None }
    }
}

/// A request whose headers have continued and whose body the gate still needs.
#[derive(Debug)]
pub struct AwaitingBody {
    pending: PendingBody,
    method: String,
    path: String,
    /// The body size at the last body callback, because a trailers callback reports none.
    buffered_bytes: usize,
}

/// Envoy's side of one request, as the gate's glue uses it. [`GateHost`] is the part that
/// the gate's headers decision reads.
pub trait ScimHost: GateHost {
    /// Returns this host as a [`GateHost`]. Rust before 1.86 cannot convert the trait object
    /// itself, and the crate supports 1.82.
    fn gate_host(&mut self) -> &mut dyn GateHost;
    fn now(&self) -> OffsetDateTime;
    fn remove_request_header(&mut self, name: &str);
    fn add_request_header(&mut self, name: &str, value: &str);
    /// Returns the first `size` bytes of the body buffered so far.
    fn request_body(&self, size: usize) -> Vec<u8>;
    fn send_reply(&mut self, status: u16, headers: &[(String, String)], body: &[u8]);
    fn log(&self, level: Level, line: &str);
    /// Returns whether a line at `level` would be logged, so that dropped lines are not
    /// built.
    fn log_enabled(&self, level: Level) -> bool;
    /// Adds one to the counter `metric`.
    fn count(&self, metric: &str);
}

/// Builds the configuration-loaded log line: the guarded prefixes and the token ids.
pub fn describe(gate: &ScimGate) -> String {
    let config = gate.config();
    let prefixes: Vec<&str> = config.prefixes.iter().map(|rule| rule.prefix.as_str()).collect();
    let tokens: Vec<&str> = config.tokens.iter().map(|token| token.id.as_str()).collect();
    format!("SCIM gate on {} with tokens {}", prefixes.join(", "), tokens.join(", "))
}

/// Returns the name of the counter of requests accepted with the token `token_id`.
pub fn accepted_metric(token_id: &str) -> String {
    format!("edgeidp.scim.accepted.{token_id}")
}

/// Returns the name of the counter of requests rejected for `reason` (a
/// [`RejectReason::label`]) with the token `token_id`, or `unknown` before a token was
/// identified.
pub fn rejected_metric(reason: &str, token_id: Option<&str>) -> String {
    format!("edgeidp.scim.rejected.{reason}.{}", token_id.unwrap_or(UNKNOWN_TOKEN_ID))
}

/// Handles the request-headers callback of a request under a guarded prefix. `headers` are
/// every request header, repeated names included, in Envoy's order.
pub fn on_request_headers(
    gate: &ScimGate,
    host: &mut dyn ScimHost,
    headers: &[Header<'_>],
    end_of_stream: bool,
) -> Step {
    let method = first_value(headers, ":method");
    let path = first_value(headers, ":path");
    let now = host.now();
    let head = RequestHead { method, path, headers };

    match gate.on_request_headers(&head, now, host.gate_host()) {
        HeadersDecision::Reject(rejection) => reject(host, &rejection, method, path),
        HeadersDecision::Forward { changes, accepted } => {
            apply(host, &changes);
            accept(host, &accepted, method, path)
        }
        HeadersDecision::NeedBody { changes, pending } => {
            apply(host, &changes);
            let awaiting =
                AwaitingBody { pending, method: method.to_owned(), path: path.to_owned(), buffered_bytes: 0 };
            if end_of_stream {
                decide(gate, host, &awaiting, &[])
            } else {
                Step { flow: Flow::Continue, awaiting_body: Some(awaiting) }
            }
        }
    }
}

/// Handles a request-body callback: `body_size` is what Envoy has buffered so far.
pub fn on_request_body(
    gate: &ScimGate,
    host: &mut dyn ScimHost,
    mut awaiting: AwaitingBody,
    body_size: usize,
    end_of_stream: bool,
) -> Step {
    if u64::try_from(body_size).map_or(true, |size| size > gate.max_body_bytes()) {
        let rejection = gate.body_too_large(&awaiting.pending);
        return reject(host, &rejection, &awaiting.method, &awaiting.path);
    }
    if !end_of_stream {
        awaiting.buffered_bytes = body_size;
        return Step { flow: Flow::Pause, awaiting_body: Some(awaiting) };
    }
    let body = host.request_body(body_size);
    decide(gate, host, &awaiting, &body)
}

/// Handles the request-trailers callback, which ends a stream that has trailers: the body
/// buffered by then is the whole body. Continuing from here without a decision would
/// pass the unchecked body upstream.
pub fn on_request_trailers(gate: &ScimGate, host: &mut dyn ScimHost, awaiting: AwaitingBody) -> Step {
    let body = host.request_body(awaiting.buffered_bytes);
    decide(gate, host, &awaiting, &body)
}

fn decide(gate: &ScimGate, host: &mut dyn ScimHost, awaiting: &AwaitingBody, body: &[u8]) -> Step {
    match gate.on_request_body(&awaiting.pending, body) {
        BodyDecision::Forward(accepted) => accept(host, &accepted, &awaiting.method, &awaiting.path),
        BodyDecision::Reject(rejection) => reject(host, &rejection, &awaiting.method, &awaiting.path),
    }
}

fn apply(host: &mut dyn ScimHost, changes: &HeaderChanges) {
    for name in &changes.remove {
        host.remove_request_header(name);
    }
    for (name, value) in &changes.set {
        host.add_request_header(name, value);
    }
}

fn accept(host: &mut dyn ScimHost, accepted: &Accepted, method: &str, path: &str) -> Step {
    host.count(&accepted_metric(&accepted.token_id));
    if host.log_enabled(Level::Debug) {
        host.log(Level::Debug, &accepted.log_line(method, path));
    }
    Step::done(Flow::Continue)
}

/// Sends the rejection, logs its one line and counts it. Throttling and rate limits log at
/// info, because a client that keeps retrying would otherwise fill the log with warnings.
/// Their counters still count every one.
fn reject(host: &mut dyn ScimHost, rejection: &Rejection, method: &str, path: &str) -> Step {
    let level = match rejection.reason {
        RejectReason::AuthThrottled { .. } | RejectReason::RateLimited { .. } => Level::Info,
        _ => Level::Warn,
    };
    host.log(level, &rejection.log_line(method, path));
    host.count(&rejected_metric(rejection.reason.label(), rejection.token_id.as_deref()));
    host.send_reply(rejection.status, &rejection.headers, &rejection.body);
    Step::done(Flow::Pause)
}

#[cfg(target_arch = "wasm32")]
pub use envoy::EnvoyHost;

/// [`ScimHost`] over a proxy-wasm HTTP context, and the shared data of all workers.
#[cfg(target_arch = "wasm32")]
mod envoy {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use log::Level;
    use proxy_wasm::hostcalls;
    use proxy_wasm::traits::HttpContext;
    use proxy_wasm::types::{Action, MetricType, Status};
    use time::OffsetDateTime;

    use super::{Flow, ScimHost};
    use crate::scim::{GateHost, SharedStore, StoreError};

    impl From<Flow> for Action {
        fn from(flow: Flow) -> Self {
            match flow {
                Flow::Continue => Action::Continue,
                Flow::Pause => Action::Pause,
            }
        }
    }

    thread_local! {
        /// Counter ids by name. Each worker's VM is single-threaded and defines a counter
        /// on first use. The configured token ids and the rejection reasons bound the names.
        static METRIC_IDS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
    }

    /// Envoy's shared data, kept per `vm_id`, so the VMs of all workers read the same values.
    struct SharedData;

    impl SharedStore for SharedData {
        fn get(&self, key: &str) -> Option<(Vec<u8>, u32)> {
            match hostcalls::get_shared_data(key) {
                Ok((Some(value), Some(cas))) => Some((value, cas)),
                _ => None,
            }
        }

        fn set(&mut self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
            match hostcalls::set_shared_data(key, Some(value), cas) {
                Ok(()) => Ok(()),
                Err(Status::CasMismatch) => Err(StoreError::CasMismatch),
                Err(_) => Err(StoreError::Unavailable),
            }
        }
    }

    /// One request's view of Envoy.
    pub struct EnvoyHost<'a> {
        context: &'a dyn HttpContext,
        context_id: u32,
        store: SharedData,
    }

    impl<'a> EnvoyHost<'a> {
        pub fn new(context: &'a dyn HttpContext, context_id: u32) -> Self {
            Self { context, context_id, store: SharedData }
        }
    }

    impl GateHost for EnvoyHost<'_> {
        fn store(&mut self) -> &mut dyn SharedStore {
            &mut self.store
        }

        /// Envoy's `source.address`: the peer of the downstream connection, or the address
        /// that the connection manager took from `X-Forwarded-For` when it is configured to
        /// trust that many hops (`xff_num_trusted_hops`). A client cannot set it otherwise.
        fn client_address(&self) -> Option<String> {
            // Not the SDK's `Context::get_property`, which panics on any error status. An
            // address that cannot be read reads as absent, which shares one failure slot.
            let address = hostcalls::get_property(vec!["source", "address"]).ok().flatten()?;
            Some(String::from_utf8_lossy(&address).into_owned())
        }
    }

    impl ScimHost for EnvoyHost<'_> {
        fn gate_host(&mut self) -> &mut dyn GateHost {
            self
        }

        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::from(self.context.get_current_time())
        }

        fn remove_request_header(&mut self, name: &str) {
            self.context.set_http_request_header(name, None);
        }

        fn add_request_header(&mut self, name: &str, value: &str) {
            self.context.add_http_request_header(name, value);
        }

        fn request_body(&self, size: usize) -> Vec<u8> {
            self.context.get_http_request_body(0, size).unwrap_or_default()
        }

        fn send_reply(&mut self, status: u16, headers: &[(String, String)], body: &[u8]) {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            self.context.send_http_response(u32::from(status), headers, Some(body));
        }

        fn log(&self, level: Level, line: &str) {
            log::log!(level, "[{}] {line}", self.context_id);
        }

        fn log_enabled(&self, level: Level) -> bool {
            level <= log::max_level()
        }

        fn count(&self, metric: &str) {
            let id = METRIC_IDS.with(|ids| {
                let mut ids = ids.borrow_mut();
                if let Some(id) = ids.get(metric) {
                    return Some(*id);
                }
                let id = hostcalls::define_metric(MetricType::Counter, metric).ok()?;
                ids.insert(metric.to_owned(), id);
                Some(id)
            });
            if let Some(id) = id {
                let _ = hostcalls::increment_metric(id, 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::config::Config;
    use crate::scim::{MemoryStore, SharedStore, TokenDigest};

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00:00 UTC);
    const TOKEN: &str = "edgeidp_scim_glue-test-token-0123456789abcdefghijklmnopqrstu";

    fn gate() -> ScimGate {
        let section = json!({
            "max_body_bytes": 2048,
            "failed_auth_limit": {"max_failures": 2, "window_seconds": 60},
            "tokens": [{"id": "okta", "sha256": TokenDigest::of_token(TOKEN).to_hex(), "tenant": "acme"}]
        });
        match ScimGate::from_config(&section, NOW) {
            Ok((gate, _)) => gate,
            Err(error) => panic!("test configuration rejected: {error}"),
        }
    }

    /// A local reply: status, headers and body.
    type SentReply = (u16, Vec<(String, String)>, Vec<u8>);

    /// Records what the glue asks of Envoy.
    #[derive(Default)]
    struct FakeHost {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        store: MemoryStore,
        reply: Option<SentReply>,
        lines: RefCell<Vec<(Level, String)>>,
        metrics: RefCell<Vec<String>>,
    }

    impl FakeHost {
        fn request(method: &str, path: &str, extra: &[(&str, &str)]) -> Self {
            let mut headers = vec![(":method".to_owned(), method.to_owned()), (":path".to_owned(), path.to_owned())];
            headers.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
            Self { headers, ..Self::default() }
        }

        fn header(&self, name: &str) -> Vec<&str> {
            self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
        }

        fn status(&self) -> Option<u16> {
            self.reply.as_ref().map(|(status, _, _)| *status)
        }
    }

    /// Runs the request-headers callback on the headers the fake host holds.
    fn headers_step(gate: &ScimGate, host: &mut FakeHost, end_of_stream: bool) -> Step {
        let owned = host.headers.clone();
        let headers: Vec<Header<'_>> = owned.iter().map(|(n, v)| (n.into(), v.into())).collect();
        on_request_headers(gate, host, &headers, end_of_stream)
    }

    impl GateHost for FakeHost {
        fn store(&mut self) -> &mut dyn SharedStore {
            &mut self.store
        }

        fn client_address(&self) -> Option<String> {
            Some("192.0.2.7:5555".to_owned())
        }
    }

    impl ScimHost for FakeHost {
        fn gate_host(&mut self) -> &mut dyn GateHost {
            self
        }

        fn now(&self) -> OffsetDateTime {
            NOW
        }

        fn remove_request_header(&mut self, name: &str) {
            self.headers.retain(|(n, _)| n != name);
        }

        fn add_request_header(&mut self, name: &str, value: &str) {
            self.headers.push((name.to_owned(), value.to_owned()));
        }

        fn request_body(&self, size: usize) -> Vec<u8> {
            self.body.iter().take(size).copied().collect()
        }

        fn send_reply(&mut self, status: u16, headers: &[(String, String)], body: &[u8]) {
            assert!(self.reply.is_none(), "a second reply for one request");
            self.reply = Some((status, headers.to_vec(), body.to_vec()));
        }

        fn log(&self, level: Level, line: &str) {
            self.lines.borrow_mut().push((level, line.to_owned()));
        }

        fn log_enabled(&self, _level: Level) -> bool {
            true
        }

        fn count(&self, metric: &str) {
            self.metrics.borrow_mut().push(metric.to_owned());
        }
    }

    fn bearer() -> String {
        format!("Bearer {TOKEN}")
    }

    const USER: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dana"}"#;

    fn post_user(host_body: &str) -> FakeHost {
        let bearer = bearer();
        let mut host = FakeHost::request(
            "POST",
            "/scim/v2/Users",
            &[("authorization", &bearer), ("content-type", "application/scim+json; charset=utf-8")],
        );
        host.body = host_body.as_bytes().to_vec();
        host
    }

    #[test]
    fn get_forwarded_with_tenant() {
        let bearer = bearer();
        let mut host = FakeHost::request("GET", "/scim/v2/Users?count=2", &[("authorization", &bearer), ("x-edgeidp-tenant", "forged")]);
        let step = headers_step(&gate(), &mut host, true);
        assert_eq!(step.flow, Flow::Continue);
        assert!(step.awaiting_body.is_none(), "a GET needs no body");
        assert_eq!(host.header("x-edgeidp-tenant"), ["acme"], "the forged tenant must be replaced");
        assert_eq!(host.status(), None, "no local reply");
    }

    #[test]
    fn missing_token_rejected() {
        let mut host = FakeHost::request("GET", "/scim/v2/Users", &[]);
        let step = headers_step(&gate(), &mut host, true);
        assert_eq!(step.flow, Flow::Pause);
        assert_eq!(host.status(), Some(401));
        let headers = host.reply.as_ref().map(|(_, headers, _)| headers.clone()).unwrap_or_default();
        assert!(headers.contains(&("www-authenticate".to_owned(), "Bearer realm=\"scim\"".to_owned())), "{headers:?}");
    }

    #[test]
    fn post_waits_for_body() {
        let mut host = post_user(USER);
        let gate = gate();
        let step = headers_step(&gate, &mut host, false);
        assert_eq!(step.flow, Flow::Continue, "the headers must continue, or Envoy never delivers the body");
        assert_eq!(host.header("x-edgeidp-tenant"), ["acme"], "header changes happen before the headers continue");
        let Some(awaiting) = step.awaiting_body else { panic!("a POST waits for its body") };

        let step = on_request_body(&gate, &mut host, awaiting, 10, false);
        assert_eq!(step.flow, Flow::Pause, "a partial body must wait");
        let Some(awaiting) = step.awaiting_body else { panic!("still waiting after a partial body") };

        let step = on_request_body(&gate, &mut host, awaiting, USER.len(), true);
        assert_eq!(step.flow, Flow::Continue);
        assert!(step.awaiting_body.is_none());
        assert_eq!(host.status(), None, "no local reply for a valid User");
    }

    #[test]
    fn invalid_body_rejected() {
        let mut host = post_user("{\"userName\": 5");
        let gate = gate();
        let awaiting = headers_step(&gate, &mut host, false).awaiting_body;
        let Some(awaiting) = awaiting else { panic!("a POST waits for its body") };
        let step = on_request_body(&gate, &mut host, awaiting, 14, true);
        assert_eq!(step.flow, Flow::Pause);
        assert_eq!(host.status(), Some(400));
    }

    #[test]
    fn body_over_limit_rejected_early() {
        let mut host = post_user(USER);
        let gate = gate();
        let Some(awaiting) = headers_step(&gate, &mut host, false).awaiting_body else {
            panic!("a POST waits for its body")
        };
        let step = on_request_body(&gate, &mut host, awaiting, 2049, false);
        assert_eq!(step.flow, Flow::Pause);
        assert!(step.awaiting_body.is_none(), "the request is decided before its end");
        assert_eq!(host.status(), Some(413));
    }

    #[test]
    fn trailers_decide_request() {
        let mut host = post_user("not json");
        let gate = gate();
        let Some(awaiting) = headers_step(&gate, &mut host, false).awaiting_body else {
            panic!("a POST waits for its body")
        };
        let Some(awaiting) = on_request_body(&gate, &mut host, awaiting, 8, false).awaiting_body else {
            panic!("still waiting after a partial body")
        };
        let step = on_request_trailers(&gate, &mut host, awaiting);
        assert_eq!(step.flow, Flow::Pause, "trailers must not let an unchecked body through");
        assert_eq!(host.status(), Some(400));
    }

    #[test]
    fn headers_only_post_rejected() {
        let mut host = post_user("");
        let step = headers_step(&gate(), &mut host, true);
        assert_eq!(step.flow, Flow::Pause);
        assert_eq!(host.status(), Some(400), "a POST without a body is not a User");
    }

    #[test]
    fn throttle_shared_through_store() {
        let gate = gate();
        let mut store = MemoryStore::default();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let mut host = FakeHost::request("GET", "/scim/v2/Users", &[("authorization", "Bearer wrong")]);
            std::mem::swap(&mut host.store, &mut store);
            headers_step(&gate, &mut host, true);
            std::mem::swap(&mut host.store, &mut store);
            statuses.push(host.status());
        }
        assert_eq!(statuses, [Some(401), Some(401), Some(429)], "the third failure from one address is throttled");
    }

    #[test]
    fn rejection_logged_once() {
        let mut host = FakeHost::request("DELETE", "/scim/v2/Users/42?x=1", &[("authorization", "Bearer Bearer abc")]);
        headers_step(&gate(), &mut host, true);
        let logs = host.lines.borrow();
        assert_eq!(logs.len(), 1, "one line per rejection: {logs:?}");
        let (level, line) = &logs[0];
        assert_eq!(*level, Level::Warn);
        for part in ["token=unknown", "reason=\"doubled_prefix\"", "method=DELETE", "path=/scim/v2/Users/42"] {
            assert!(line.contains(part), "{part} missing from {line}");
        }
        assert!(!line.contains("abc"), "the presented token must not be logged: {line}");
    }

    #[test]
    fn accepted_log_has_no_token() {
        let mut host = post_user(USER);
        let gate = gate();
        let Some(awaiting) = headers_step(&gate, &mut host, false).awaiting_body else {
            panic!("a POST waits for its body")
        };
        on_request_body(&gate, &mut host, awaiting, USER.len(), true);
        let logs = host.lines.borrow();
        assert!(logs.iter().all(|(_, line)| !line.contains(TOKEN) && !line.contains("dana")), "{logs:?}");
    }

    #[test]
    fn metrics_per_token_outcome() {
        let bearer = bearer();
        let gate = gate();
        let mut accepted = FakeHost::request("GET", "/scim/v2/Users", &[("authorization", &bearer)]);
        headers_step(&gate, &mut accepted, true);
        assert_eq!(*accepted.metrics.borrow(), ["edgeidp.scim.accepted.okta"]);

        let mut forbidden = FakeHost::request("DELETE", "/scim/v2/Users/42", &[("authorization", &bearer)]);
        headers_step(&gate, &mut forbidden, true);
        assert_eq!(*forbidden.metrics.borrow(), ["edgeidp.scim.rejected.not_permitted.okta"]);

        let mut unknown = FakeHost::request("GET", "/scim/v2/Users", &[]);
        headers_step(&gate, &mut unknown, true);
        assert_eq!(*unknown.metrics.borrow(), ["edgeidp.scim.rejected.missing_credentials.unknown"]);
    }

    fn config_with_scim(saml_prefix: &str, scim_prefix: &str) -> Config {
        let value = config_with_scim_json(saml_prefix, scim_prefix);
        match Config::from_json(value.to_string().as_bytes(), NOW) {
            Ok((config, _)) => config,
            Err(error) => panic!("test configuration rejected: {error}"),
        }
    }

    fn config_with_scim_json(saml_prefix: &str, scim_prefix: &str) -> serde_json::Value {
        json!({
            "saml_prefix": saml_prefix,
            "idp": {
                "entity_id": "https://idp.example.test/saml/metadata",
                "base_url": "https://idp.example.test",
                "signing_key_pem": include_str!("../../tests/fixtures/keys/idp.key.pem"),
                "certificate_pem": include_str!("../../tests/fixtures/keys/idp.cert.pem")
            },
            "scim": {"prefixes": [scim_prefix]}
        })
    }

    #[test]
    fn load_rejects_overlap() {
        for (saml, scim) in [("/saml", "/saml"), ("/saml", "/SAML/scim"), ("/api/saml", "/api")] {
            let error = ScimGate::for_config(&config_with_scim(saml, scim), NOW).err();
            assert_eq!(error.map(|e| e.path), Some("scim.prefixes".to_owned()), "{scim} overlaps {saml}");
        }
    }

    #[test]
    fn load_accepts_disjoint() {
        let loaded = ScimGate::for_config(&config_with_scim("/saml", "/samlx/scim"), NOW);
        assert!(matches!(loaded, Ok((Some(_), _))), "{:?}", loaded.err());
    }

    #[test]
    fn scim_routed_before_saml() {
        use crate::proxy::routing::{route_request, Route};
        use crate::proxy::FilterConfig;

        let json = config_with_scim_json("/saml", "/scim/v2");
        let config = match FilterConfig::from_json(json.to_string().as_bytes(), NOW) {
            Ok((config, _)) => config,
            Err(error) => panic!("test configuration rejected: {error}"),
        };
        assert_eq!(route_request(&config, "GET", "/saml/../scim/v2/Users?x=1"), Route::Scim);
        assert_eq!(route_request(&config, "GET", "/SCIM/v2"), Route::Scim);
        assert_ne!(route_request(&config, "GET", "/saml/metadata"), Route::Scim);
        assert_eq!(route_request(&config, "GET", "/scim/v2x"), Route::PassThrough);
    }
}
