//! One HTTP stream's life through a [`Vm`], in the order Envoy 1.40's Wasm filter makes the
//! calls: context creation, request headers, request body chunks, the response (the
//! filter's local response, the proxy's own, or the upstream's) through the response
//! callbacks, then `proxy_on_log`, `proxy_on_done` and `proxy_on_delete`.

use time::OffsetDateTime;

use super::http::{HeaderMap, StreamState};
use super::{
    Action, Callback, ClientResponse, Flow, LocalResponse, Outcome, Property, Request, Trap, UpstreamRequest,
    UpstreamResponse, Vm,
};

impl Vm {
    /// Runs one request through the filter (see [`Vm::try_request`]). Panics on a trap or
    /// on ABI misuse.
    pub fn request(&mut self, request: &Request) -> Outcome {
        let errors_before = self.store.data().host_errors.len();
        let outcome = self.try_request(request).unwrap_or_else(|trap| panic!("{trap}"));
        let errors = &self.store.data().host_errors[errors_before..];
        assert!(errors.is_empty(), "the filter misused the ABI: {errors:#?}");
        outcome
    }

    /// Runs one request through the filter as Envoy does, and returns what the filter did.
    /// A trap stops the VM and is returned.
    pub fn try_request(&mut self, request: &Request) -> Result<Outcome, Trap> {
        self.check_alive()?;
        let id = self.next_context_id;
        self.next_context_id += 1;
        let first_log = self.store.data().logs.len();
        let now = self.store.data().shared().clock;
        let root = self.store.data().root_context_id;
        self.store.data_mut().stream = Some(StreamState {
            context_id: id,
            request_headers: request.headers.clone(),
            properties: request_properties(request, now),
            ..StreamState::default()
        });
        self.store.data_mut().active_context = id;

        let mut outcome = Outcome {
            context_id: id,
            request: request.clone(),
            calls: Vec::new(),
            flow: Flow::Continued,
            local_response: None,
            upstream: None,
            response: None,
            logs: Vec::new(),
        };
        let result = self.run_stream(id, root, request, &mut outcome);
        self.store.data_mut().stream = None;
        self.store.data_mut().active_context = root;
        result?;
        outcome.logs = self.store.data().logs[first_log..].to_vec();
        Ok(outcome)
    }

    fn run_stream(&mut self, id: u32, root: u32, request: &Request, outcome: &mut Outcome) -> Result<(), Trap> {
        self.call::<(i32, i32), ()>("proxy_on_context_create", (id as i32, root as i32))?;
        outcome.flow = self.run_request_phase(id, request, outcome)?;

        let response = match outcome.flow {
            Flow::Continued => Some(upstream_reply(&request.upstream_response)),
            Flow::Answered => outcome.local_response.as_ref().map(local_reply),
            Flow::ProxyAnswered => Some(payload_too_large()),
            Flow::Paused { .. } => None,
        };
        if let Some((headers, body)) = response {
            outcome.response = self.run_response_phase(id, headers, body, request.is_head(), outcome)?;
        }

        if self.exports("proxy_on_log") {
            self.with_stream(|s| s.access_log_phase = true);
            self.call::<i32, ()>("proxy_on_log", id as i32)?;
            self.with_stream(|s| s.access_log_phase = false);
        }
        if self.exports("proxy_on_done") {
            self.call::<i32, i32>("proxy_on_done", id as i32)?;
        }
        self.call::<i32, ()>("proxy_on_delete", id as i32)?;
        Ok(())
    }

    /// Delivers the request headers and body; returns where the request ended up.
    fn run_request_phase(&mut self, id: u32, request: &Request, outcome: &mut Outcome) -> Result<Flow, Trap> {
        let has_trailers = !request.trailers.is_empty();
        self.with_stream(|s| s.request_headers_visible = true);
        let headers_end_stream = request.body.is_empty() && !has_trailers;
        let action =
            self.stream_callback(Callback::RequestHeaders, id, request.headers.len(), headers_end_stream, outcome)?;
        if self.answered(outcome) {
            return Ok(Flow::Answered);
        }
        // Envoy 1.40 turns a Pause from on_request_headers into StopAllIterationAndWatermark
        // (allow_on_headers_stop_iteration is false by default): no body callback runs until
        // the filter resumes the stream.
        if !self.proceeds(action) {
            return Ok(Flow::Paused { at: Callback::RequestHeaders });
        }
        self.with_stream(|s| s.request_headers_visible = false);

        // While the filter pauses a body callback, Envoy buffers the body and hands the
        // filter all of it with the next chunk. A buffer over the limit gets 413.
        let mut forwarded = Vec::new();
        let mut buffering = false;
        for (index, chunk) in request.body.iter().enumerate() {
            let end_of_stream = index + 1 == request.body.len() && !has_trailers;
            let size = self.with_stream(|s| {
                if !buffering {
                    s.request_body.clear();
                }
                s.request_body.extend_from_slice(chunk);
                s.request_body_visible = true;
                s.request_body.len()
            });
            if buffering && size > self.buffer_limit {
                return Ok(Flow::ProxyAnswered);
            }
            let action = self.stream_callback(Callback::RequestBody, id, size, end_of_stream, outcome)?;
            if self.answered(outcome) {
                return Ok(Flow::Answered);
            }
            buffering = !self.proceeds(action);
            if buffering && end_of_stream {
                return Ok(Flow::Paused { at: Callback::RequestBody });
            }
            if !buffering {
                forwarded.extend(self.with_stream(|s| {
                    s.request_body_visible = false;
                    std::mem::take(&mut s.request_body)
                }));
            }
        }

        if has_trailers {
            self.with_stream(|s| s.request_trailers_visible = true);
            let action = self.trailers_callback(id, request.trailers.len(), outcome)?;
            if self.answered(outcome) {
                return Ok(Flow::Answered);
            }
            if !self.proceeds(action) {
                return Ok(Flow::Paused { at: Callback::RequestTrailers });
            }
            // Continuing from the trailers releases a body that was still buffered.
            forwarded.extend(self.with_stream(|s| {
                s.request_trailers_visible = false;
                s.request_body_visible = false;
                std::mem::take(&mut s.request_body)
            }));
        }

        let (headers, trailers) = self.with_stream(|s| (s.request_headers.clone(), s.request_trailers.clone()));
        outcome.upstream = Some(UpstreamRequest { headers, body: forwarded, trailers });
        Ok(Flow::Continued)
    }

    /// Passes a response through the filter's response callbacks, as Envoy passes both the
    /// upstream's response and local replies through every encoder filter. Returns what the
    /// client receives, or `None` when the filter paused the response.
    fn run_response_phase(
        &mut self,
        id: u32,
        headers: HeaderMap,
        body: Vec<u8>,
        is_head: bool,
        outcome: &mut Outcome,
    ) -> Result<Option<ClientResponse>, Trap> {
        let header_count = headers.len();
        let end_of_stream = body.is_empty();
        self.with_stream(|s| {
            s.response_headers = headers;
            s.response_headers_visible = true;
        });
        let action = self.stream_callback(Callback::ResponseHeaders, id, header_count, end_of_stream, outcome)?;
        if !self.proceeds(action) {
            outcome.flow = Flow::Paused { at: Callback::ResponseHeaders };
            return Ok(None);
        }
        self.with_stream(|s| s.response_headers_visible = false);

        let mut sent_body = Vec::new();
        if !body.is_empty() {
            let size = body.len();
            self.with_stream(|s| {
                s.response_body = body;
                s.response_body_visible = true;
            });
            let action = self.stream_callback(Callback::ResponseBody, id, size, true, outcome)?;
            if !self.proceeds(action) {
                outcome.flow = Flow::Paused { at: Callback::ResponseBody };
                return Ok(None);
            }
            sent_body = self.with_stream(|s| std::mem::take(&mut s.response_body));
        }
        // Envoy sends no body in the response to a HEAD request.
        if is_head {
            sent_body.clear();
        }
        let headers = self.with_stream(|s| s.response_headers.clone());
        Ok(Some(client_response(&headers, sent_body)))
    }

    /// Calls a stream callback with (context id, header count or body size, end of stream)
    /// and records the filter's action.
    fn stream_callback(
        &mut self,
        callback: Callback,
        id: u32,
        size: usize,
        end_of_stream: bool,
        outcome: &mut Outcome,
    ) -> Result<Action, Trap> {
        let export = match callback {
            Callback::RequestHeaders => "proxy_on_request_headers",
            Callback::RequestBody => "proxy_on_request_body",
            Callback::RequestTrailers => "proxy_on_request_trailers",
            Callback::ResponseHeaders => "proxy_on_response_headers",
            Callback::ResponseBody => "proxy_on_response_body",
        };
        // As in Envoy's proxy-wasm host, a callback the module does not export is not called
        // and counts as Continue.
        if !self.exports(export) {
            return Ok(Action::Continue);
        }
        let action = self.call::<(i32, i32, i32), i32>(export, (id as i32, size as i32, i32::from(end_of_stream)))?;
        let action = Action::from_abi(action);
        outcome.calls.push((callback, action));
        Ok(action)
    }

    /// Calls `proxy_on_request_trailers`, which takes no end-of-stream flag.
    fn trailers_callback(&mut self, id: u32, count: usize, outcome: &mut Outcome) -> Result<Action, Trap> {
        let action = self.call::<(i32, i32), i32>("proxy_on_request_trailers", (id as i32, count as i32))?;
        let action = Action::from_abi(action);
        outcome.calls.push((Callback::RequestTrailers, action));
        Ok(action)
    }

    /// Moves a local response the filter sent during the last callback into `outcome`.
    fn answered(&mut self, outcome: &mut Outcome) -> bool {
        match self.with_stream(|s| s.local_response.take()) {
            Some(local) => {
                outcome.local_response = Some(local);
                true
            }
            None => false,
        }
    }

    /// Whether the stream goes on after the filter returned `action`: it continued, or it
    /// paused and resumed the stream during the same callback.
    fn proceeds(&mut self, action: Action) -> bool {
        let resumed = self.with_stream(|s| std::mem::take(&mut s.continue_requested));
        action == Action::Continue || resumed
    }

    fn with_stream<R>(&mut self, f: impl FnOnce(&mut StreamState) -> R) -> R {
        let state = self.store.data_mut();
        let stream = state.stream.get_or_insert_with(StreamState::default);
        f(stream)
    }
}

/// Returns the request's own properties plus the `request.*` attributes Envoy derives from it.
fn request_properties(request: &Request, now: OffsetDateTime) -> Property {
    let mut properties = request.properties.clone();
    let header = |name: &str| Property::String(request.header_value(name).unwrap_or_default());
    let path = request.header_value(":path").unwrap_or_default();
    let url_path = path.split('?').next().unwrap_or_default().to_owned();
    let headers = request
        .headers
        .iter()
        .map(|(n, v)| {
            (String::from_utf8_lossy(n).into_owned(), Property::String(String::from_utf8_lossy(v).into_owned()))
        })
        .collect();
    let derived = [
        ("path", header(":path")),
        ("url_path", Property::String(url_path)),
        ("host", header(":authority")),
        ("scheme", header(":scheme")),
        ("method", header(":method")),
        ("protocol", Property::String("HTTP/1.1".to_owned())),
        ("time", Property::Int(i64::try_from(now.unix_timestamp_nanos()).unwrap_or(0))),
        ("headers", Property::Map(headers)),
    ];
    for (name, value) in derived {
        if properties.find(&["request", name]).is_none() {
            properties.insert(&["request", name], value);
        }
    }
    properties
}

fn upstream_reply(reply: &UpstreamResponse) -> (HeaderMap, Vec<u8>) {
    let mut headers: HeaderMap = vec![(b":status".to_vec(), reply.status.to_string().into_bytes())];
    headers.extend(reply.headers.iter().map(|(n, v)| (n.to_ascii_lowercase().into_bytes(), v.clone().into_bytes())));
    headers.push((b"content-length".to_vec(), reply.body.len().to_string().into_bytes()));
    (headers, reply.body.clone())
}

/// Builds the headers Envoy's `sendLocalReply` sends: `:status`, the filter's headers, and for a
/// non-empty body `content-length` and, if the filter set none, `content-type: text/plain`.
fn local_reply(local: &LocalResponse) -> (HeaderMap, Vec<u8>) {
    let mut headers: HeaderMap = vec![(b":status".to_vec(), local.status.to_string().into_bytes())];
    headers.extend(local.headers.iter().map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes())));
    if !local.body.is_empty() {
        headers.retain(|(n, _)| n != b"content-length");
        headers.push((b"content-length".to_vec(), local.body.len().to_string().into_bytes()));
        if !headers.iter().any(|(n, _)| n == b"content-type") {
            headers.push((b"content-type".to_vec(), b"text/plain".to_vec()));
        }
    }
    (headers, local.body.clone())
}

/// Envoy's reply to a buffered request body over the buffer limit.
fn payload_too_large() -> (HeaderMap, Vec<u8>) {
    let local = LocalResponse {
        status: 413,
        details: "request_payload_too_large".to_owned(),
        headers: Vec::new(),
        body: b"Payload Too Large".to_vec(),
        grpc_status: -1,
    };
    local_reply(&local)
}

fn client_response(headers: &HeaderMap, body: Vec<u8>) -> ClientResponse {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let status = headers.iter().find(|(n, _)| n == b":status").and_then(|(_, v)| text(v).parse().ok()).unwrap_or(0);
    let headers = headers.iter().filter(|(n, _)| n != b":status").map(|(n, v)| (text(n), text(v))).collect();
    ClientResponse { status, headers, body }
}
