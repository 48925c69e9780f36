//! One HTTP stream as a test describes it ([`Request`]) and as the filter left it
//! ([`Outcome`]), plus the stream state the host functions read and change.

use serde_json::Value;

use super::property::Property;

/// A header map: names are lowercase, values are raw bytes because Envoy passes obs-text
/// (bytes 0x80 to 0xFF) through.
pub type HeaderMap = Vec<(Vec<u8>, Vec<u8>)>;

/// Dynamic metadata namespace that Envoy's `jwt_authn` filter writes.
pub const JWT_AUTHN_NAMESPACE: &str = "envoy.filters.http.jwt_authn";

/// A request from the client, with the upstream's reply should the filter let it through.
#[derive(Debug, Clone)]
pub struct Request {
    pub headers: HeaderMap,
    /// Body chunks as Envoy delivers them; the last one carries end of stream unless
    /// trailers follow.
    pub body: Vec<Vec<u8>>,
    /// Request trailers; empty for none.
    pub trailers: HeaderMap,
    /// Request properties (`source.address`, `metadata.filter_metadata…`) under their
    /// top-level names.
    pub properties: Property,
    pub upstream_response: UpstreamResponse,
}

/// The upstream's response to a request that reaches it.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Default for UpstreamResponse {
    fn default() -> Self {
        Self { status: 200, headers: vec![("content-type".into(), "text/plain".into())], body: b"upstream\n".to_vec() }
    }
}

impl Request {
    /// Creates a request with the pseudo-headers Envoy gives an HTTP/1.1 request to
    /// `idp.example.test` from the client address 198.51.100.20.
    pub fn new(method: &str, path: &str) -> Self {
        let mut request = Self {
            headers: Vec::new(),
            body: Vec::new(),
            trailers: Vec::new(),
            properties: Property::Map(Vec::new()),
            upstream_response: UpstreamResponse::default(),
        };
        request = request
            .header(":authority", "idp.example.test")
            .header(":path", path)
            .header(":method", method)
            .header(":scheme", "https");
        request.source_address("198.51.100.20:51234")
    }

    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// Adds a header; the name is lowercased as Envoy's codecs do.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.header_bytes(name.as_bytes(), value.as_bytes())
    }

    /// Adds a header with arbitrary bytes, for malformed input.
    pub fn header_bytes(mut self, name: &[u8], value: &[u8]) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_vec()));
        self
    }

    /// Replaces every header called `name`, or adds it.
    pub fn set_header(mut self, name: &str, value: &str) -> Self {
        let name = name.to_ascii_lowercase().into_bytes();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.as_bytes().to_vec()));
        self
    }

    /// Removes every header called `name`.
    pub fn without_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase().into_bytes();
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    /// Appends one body chunk.
    pub fn chunk(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body.push(bytes.into());
        self
    }

    /// Sets the whole body as one chunk.
    pub fn body(self, bytes: impl Into<Vec<u8>>) -> Self {
        Self { body: vec![bytes.into()], ..self }
    }

    /// Adds a trailer, which ends the stream after the body.
    pub fn trailer(mut self, name: &str, value: &str) -> Self {
        self.trailers.push((name.to_ascii_lowercase().into_bytes(), value.as_bytes().to_vec()));
        self
    }

    /// Sets `path` (top-level name first) to `value`.
    pub fn property(mut self, path: &[&str], value: Property) -> Self {
        self.properties.insert(path, value);
        self
    }

    /// Sets `source.address` and `source.port` from "ip:port".
    pub fn source_address(self, address: &str) -> Self {
        let port = address.rsplit_once(':').and_then(|(_, port)| port.parse::<i64>().ok()).unwrap_or(0);
        self.property(&["source", "address"], Property::String(address.to_owned()))
            .property(&["source", "port"], Property::Int(port))
    }

    /// Sets the dynamic metadata of `namespace` as Envoy stores a `Struct`.
    pub fn dynamic_metadata(self, namespace: &str, value: &Value) -> Self {
        self.property(&["metadata", "filter_metadata", namespace], Property::from_json(value))
    }

    /// Sets the verified JWT payload as `jwt_authn` stores it with
    /// `payload_in_metadata: jwt_payload`.
    pub fn jwt_payload(self, payload: &Value) -> Self {
        let metadata = serde_json::json!({ "jwt_payload": payload });
        self.dynamic_metadata(JWT_AUTHN_NAMESPACE, &metadata)
    }

    pub fn upstream_response(self, upstream_response: UpstreamResponse) -> Self {
        Self { upstream_response, ..self }
    }

    /// Returns the first value of header `name`, as text.
    pub fn header_value(&self, name: &str) -> Option<String> {
        first(&self.headers, name)
    }

    pub(crate) fn is_head(&self) -> bool {
        self.header_value(":method").as_deref() == Some("HEAD")
    }
}

/// A proxy-wasm filter's return value from a stream callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
    /// A value the 0.2.1 ABI allows but the Rust SDK never returns.
    Other(u32),
}

impl Action {
    pub fn from_abi(value: i32) -> Self {
        match value {
            0 => Action::Continue,
            1 => Action::Pause,
            other => Action::Other(other as u32),
        }
    }
}

/// The stream callbacks the host makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
}

/// A local response that the filter sent with `proxy_send_local_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    pub status: u32,
    /// The response code details that Envoy writes to its access log.
    pub details: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// -1 when the filter set none.
    pub grpc_status: i32,
}

/// Where the request ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The request reached the upstream.
    Continued,
    /// The filter paused and neither resumed nor sent a response.
    Paused { at: Callback },
    /// The filter sent a local response.
    Answered,
    /// The proxy replied itself: a request body over the buffer limit gets 413.
    ProxyAnswered,
}

/// The request as it reached the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub trailers: HeaderMap,
}

/// The response as the client receives it, after the filter's response callbacks and before
/// the headers that Envoy's connection manager adds (`date`, `server`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A line the filter logged with `proxy_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub context_id: u32,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    pub fn from_abi(value: i32) -> Option<Self> {
        match value {
            0 => Some(Self::Trace),
            1 => Some(Self::Debug),
            2 => Some(Self::Info),
            3 => Some(Self::Warn),
            4 => Some(Self::Error),
            5 => Some(Self::Critical),
            _ => None,
        }
    }
}

/// A header added or removed on the way upstream, compared with the client's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderChange {
    Added(String, String),
    Removed(String, String),
}

/// What the filter did with one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub context_id: u32,
    pub request: Request,
    /// Each stream callback and the filter's return value, in call order.
    pub calls: Vec<(Callback, Action)>,
    pub flow: Flow,
    pub local_response: Option<LocalResponse>,
    pub upstream: Option<UpstreamRequest>,
    pub response: Option<ClientResponse>,
    /// Lines logged from the stream's creation to its deletion.
    pub logs: Vec<LogLine>,
}

impl Outcome {
    pub fn continued(&self) -> bool {
        self.flow == Flow::Continued
    }

    pub fn paused(&self) -> bool {
        matches!(self.flow, Flow::Paused { .. })
    }

    /// Returns the status the client received.
    pub fn status(&self) -> Option<u32> {
        self.response.as_ref().map(|r| r.status)
    }

    /// Returns the first value of response header `name` as the client received it.
    pub fn header(&self, name: &str) -> Option<&str> {
        let response = self.response.as_ref()?;
        response.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Returns the response body the client received, as text.
    pub fn body_text(&self) -> String {
        self.response.as_ref().map(|r| String::from_utf8_lossy(&r.body).into_owned()).unwrap_or_default()
    }

    /// Returns the first value of header `name` as the upstream received it.
    pub fn upstream_header(&self, name: &str) -> Option<String> {
        first(&self.upstream.as_ref()?.headers, name)
    }

    /// Headers the filter added or removed on the way upstream (a replaced value is both).
    pub fn header_changes(&self) -> Vec<HeaderChange> {
        let Some(upstream) = &self.upstream else { return Vec::new() };
        let text = |(n, v): &(Vec<u8>, Vec<u8>)| {
            (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned())
        };
        let mut changes = Vec::new();
        for pair in &self.request.headers {
            if !upstream.headers.contains(pair) {
                let (n, v) = text(pair);
                changes.push(HeaderChange::Removed(n, v));
            }
        }
        for pair in &upstream.headers {
            if !self.request.headers.contains(pair) {
                let (n, v) = text(pair);
                changes.push(HeaderChange::Added(n, v));
            }
        }
        changes
    }

    /// Returns every logged message, one per line.
    pub fn log_text(&self) -> String {
        self.logs.iter().map(|line| format!("{:?} {}\n", line.level, line.message)).collect()
    }
}

fn first(headers: &HeaderMap, name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    headers.iter().find(|(n, _)| *n == name.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// The live state of the stream whose callback runs, as the host functions see it.
///
/// The `*_visible` flags follow Envoy 1.40's `Context`. Request headers are readable during
/// `on_request_headers` and, when the filter paused, until it resumes. After a `Continue`
/// they are gone: reading them returns `BadArgument`, which the Rust SDK turns into a
/// panic. Bodies and response headers work the same way.
#[derive(Debug, Default)]
pub struct StreamState {
    pub context_id: u32,
    pub request_headers: HeaderMap,
    pub request_headers_visible: bool,
    pub request_body: Vec<u8>,
    pub request_body_visible: bool,
    pub request_trailers: HeaderMap,
    pub request_trailers_visible: bool,
    pub response_headers: HeaderMap,
    pub response_headers_visible: bool,
    pub response_body: Vec<u8>,
    pub response_body_visible: bool,
    /// Request headers, response headers and stream info that `on_log` reads.
    pub access_log_phase: bool,
    pub properties: Property,
    pub local_response: Option<LocalResponse>,
    pub continue_requested: bool,
    pub close_requested: bool,
}
