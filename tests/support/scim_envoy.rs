//! Real Envoy with the SCIM gate in front of a real SCIM service, for tests/envoy_scim.rs.
//!
//! The chain is: test client → Envoy (`envoy/scim.yaml` with the built filter) → [`Relay`]
//! → `scim2-server`, all on 127.0.0.1 with free ports. The relay records every byte that
//! Envoy sends upstream, so a test can tell exactly what the SCIM service received, headers
//! included. Every process is started under a shell that stops it when the test process
//! goes away, and is stopped by its PID when its handle drops.
//!
//! Prerequisites: Envoy (`scripts/install-envoy`), the filter (`scripts/build-filter`), and
//! scim2-server with scim2-cli (`scripts/install-scim-server`); `scripts/test` runs all
//! three. A missing one fails the test with the command to run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::envoy::{envoy_binary, root, scratch_dir, wasm_path};

/// How long Envoy or scim2-server may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts with fresh ports when another process took one between choosing and binding.
const START_ATTEMPTS: usize = 3;
/// How often Envoy writes its log file. Its default of 10 seconds would leave the last
/// requests' lines out of a log that a test reads right after them.
const LOG_FLUSH_MILLISECONDS: u32 = 100;
/// How long a test waits for an expected log line.
const LOG_WAIT: Duration = Duration::from_secs(10);
/// Read timeout of the test client: a request the gate left hanging fails the test.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Returns the path of a command in the project's `.venv`, installed by
/// `scripts/install-scim-server`.
pub fn venv_command(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-scim-server (or scripts/test) to install scim2-server and scim2-cli",
        path.display()
    );
    path
}

/// Returns a loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    listener.local_addr().map(|address| address.port()).unwrap_or_else(|e| panic!("no local address: {e}"))
}

/// Runs a program under a shell that prints its PID, stops it when the shell's stdin
/// closes (the test process exited or died), and exits with its status.
const SUPERVISOR: &str = r#"exec 3<&0
"$0" "$@" </dev/null >>"$SUPERVISED_OUTPUT" 2>&1 &
child=$!
echo "$child"
( read -r _ <&3; kill -TERM "$child" 2>/dev/null ) &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status""#;

/// A process started by a test and stopped by its PID when dropped.
pub struct Supervised {
    pid: u32,
    supervisor: Child,
    supervisor_stdin: Option<ChildStdin>,
}

impl Supervised {
    /// Starts `program` with `args`, appending its stdout and stderr to `output`.
    pub fn spawn(program: &Path, args: &[String], output: &Path) -> Self {
        let mut supervisor = Command::new("sh")
            .arg("-c")
            .arg(SUPERVISOR)
            .arg(program)
            .args(args)
            .env("SUPERVISED_OUTPUT", output)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sh for {}: {e}", program.display()));
        let mut first_line = String::new();
        if let Some(stdout) = supervisor.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut first_line);
        }
        let pid = first_line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no PID for {} from its supervisor: {first_line:?}", program.display()));
        let supervisor_stdin = supervisor.stdin.take();
        Self { pid, supervisor, supervisor_stdin }
    }

    /// Returns the exit status if the process has ended.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.supervisor.try_wait().ok().flatten()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).stderr(Stdio::null()).status();
        if let Some(mut stdin) = self.supervisor_stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.supervisor.wait();
    }
}

/// Polls `ready` until it holds, the process exits, or [`START_TIMEOUT`] passes.
fn wait_until(process: &mut Supervised, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(status) = process.exit_status() {
            return Err(format!("exited ({status})"));
        }
        if ready() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("not ready within {START_TIMEOUT:?}"))
}

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `scim2-server` with an in-memory store, serving `/v2` on loopback. It trusts the
/// `X-Forwarded-*` headers that Envoy's route sets, to build its `meta.location` URLs.
pub struct ScimServer {
    pub port: u16,
    log: PathBuf,
    _process: Supervised,
}

impl ScimServer {
    pub fn start(name: &str) -> Self {
        let program = venv_command("scim2-server");
        let dir = scratch_dir(&format!("scim2-server-{name}"));
        let mut last_error = String::new();
        for attempt in 0..START_ATTEMPTS {
            let port = free_port();
            let log = dir.join(format!("server-{attempt}.log"));
            let args = vec!["--port".to_owned(), port.to_string(), "--reverse-proxy".to_owned()];
            let mut process = Supervised::spawn(&program, &args, &log);
            let ready = || read_text(&log).contains("Serving SCIM on") && TcpStream::connect(("127.0.0.1", port)).is_ok();
            match wait_until(&mut process, ready) {
                Ok(()) => return Self { port, log, _process: process },
                Err(error) => last_error = format!("scim2-server {error}:\n{}", read_text(&log)),
            }
        }
        panic!("scim2-server did not start after {START_ATTEMPTS} attempts: {last_error}");
    }

    /// Returns the service root, without a trailing `/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    /// Counts the requests the server has served, from its access log: one line
    /// `127.0.0.1 - - [date] "METHOD /path HTTP/1.1" status size` per request.
    pub fn requests_served(&self) -> usize {
        read_text(&self.log).lines().filter(|line| line.starts_with("127.0.0.1 - - [")).count()
    }
}

/// The bytes one connection carried towards the SCIM service.
type Recording = Arc<Mutex<Vec<u8>>>;

/// A TCP relay between Envoy and the SCIM service that records what Envoy sends.
pub struct Relay {
    pub port: u16,
    /// The bytes Envoy sent, one entry per upstream connection.
    received: Arc<Mutex<Vec<Recording>>>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    pub fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind the relay: {e}"));
        let port = listener.local_addr().map(|address| address.port()).unwrap_or_else(|e| panic!("{e}"));
        let received: Arc<Mutex<Vec<Recording>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (connections, stopped) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || {
            for downstream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(downstream) = downstream else { continue };
                let record: Recording = Arc::default();
                if let Ok(mut list) = connections.lock() {
                    list.push(Arc::clone(&record));
                }
                relay_connection(downstream, upstream_port, record);
            }
        });
        Self { port, received, stop }
    }

    /// Returns every request Envoy sent upstream, each as its raw bytes (head and body).
    pub fn requests(&self) -> Vec<String> {
        let connections: Vec<Vec<u8>> = self
            .received
            .lock()
            .map(|list| list.iter().map(|record| record.lock().map(|bytes| bytes.clone()).unwrap_or_default()).collect())
            .unwrap_or_default();
        connections.iter().flat_map(|bytes| split_requests(bytes)).collect()
    }

    /// Returns the requests that contain `marker` anywhere, head or body.
    pub fn requests_with(&self, marker: &str) -> Vec<String> {
        self.requests().into_iter().filter(|request| request.contains(marker)).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies one connection both ways in two threads, recording what the downstream sends.
fn relay_connection(downstream: TcpStream, upstream_port: u16, record: Recording) {
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else { return };
    let (Ok(mut downstream_reader), Ok(mut upstream_writer)) = (downstream.try_clone(), upstream.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(count) = downstream_reader.read(&mut buffer) {
            let Some(chunk) = buffer.get(..count).filter(|chunk| !chunk.is_empty()) else { break };
            if let Ok(mut bytes) = record.lock() {
                bytes.extend_from_slice(chunk);
            }
            if upstream_writer.write_all(chunk).is_err() {
                break;
            }
        }
        let _ = upstream_writer.shutdown(Shutdown::Write);
    });
    let (mut upstream_reader, mut downstream_writer) = (upstream, downstream);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream_reader, &mut downstream_writer);
        let _ = downstream_writer.shutdown(Shutdown::Both);
    });
}

/// Splits one connection's bytes into requests, by `Content-Length`. A request without
/// one runs to the end of the connection.
fn split_requests(bytes: &[u8]) -> Vec<String> {
    let mut requests = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(head_end) = find(rest, b"\r\n\r\n").map(|at| at + 4) else {
            requests.push(String::from_utf8_lossy(rest).into_owned());
            break;
        };
        let head = String::from_utf8_lossy(rest.get(..head_end).unwrap_or_default()).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse::<usize>().ok());
        let end = length.map_or(rest.len(), |length| (head_end + length).min(rest.len()));
        requests.push(String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned());
        rest = rest.get(end..).unwrap_or_default();
    }
    requests
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// How to run Envoy.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    /// Worker threads; above 1, the gate's shared state crosses VMs.
    pub concurrency: u32,
    /// `--log-level` and `--component-log-level` arguments.
    pub log_arguments: Vec<String>,
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        Self { concurrency: 1, log_arguments: vec!["--log-level".into(), "info".into()] }
    }
}

/// Envoy running `envoy/scim.yaml` with the built filter.
pub struct GateEnvoy {
    pub port: u16,
    pub admin_port: u16,
    log: PathBuf,
    _process: Supervised,
}

impl GateEnvoy {
    /// Starts Envoy in front of the SCIM service on `upstream_port` and waits until it
    /// serves. Panics with Envoy's log if it does not.
    pub fn start(name: &str, plugin_config: &Value, upstream_port: u16, options: &EnvoyOptions) -> Self {
        let dir = scratch_dir(&format!("scim-{name}"));
        let mut last_error = String::new();
        for attempt in 0..START_ATTEMPTS {
            let (port, admin_port) = (free_port(), free_port());
            let config_path = dir.join(format!("envoy-{attempt}.yaml"));
            let rendered = render_scim_template(port, admin_port, upstream_port, plugin_config);
            std::fs::write(&config_path, rendered)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));

            let log = dir.join(format!("envoy-{attempt}.log"));
            let mut args = vec!["--config-path".to_owned(), config_path.display().to_string()];
            args.extend(["--log-path".to_owned(), log.display().to_string()]);
            args.extend(options.log_arguments.iter().cloned());
            args.extend(["--concurrency".to_owned(), options.concurrency.to_string(), "--disable-hot-restart".to_owned()]);
            args.extend(["--file-flush-interval-msec".to_owned(), LOG_FLUSH_MILLISECONDS.to_string()]);
            let mut process = Supervised::spawn(&envoy_binary(), &args, &dir.join(format!("envoy-{attempt}.out")));

            match wait_until(&mut process, || admin_ready(admin_port)) {
                Ok(()) => return Self { port, admin_port, log, _process: process },
                Err(error) => {
                    last_error = format!("Envoy {error}:\n{}", read_text(&log));
                    if !last_error.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("{last_error}");
    }

    /// Starts Envoy with a plugin configuration it must reject, and returns its log once it
    /// has exited. Panics if Envoy starts serving instead.
    pub fn start_rejected(name: &str, plugin_config: &Value) -> String {
        let dir = scratch_dir(&format!("scim-{name}"));
        let (port, admin_port) = (free_port(), free_port());
        let config_path = dir.join("envoy.yaml");
        let rendered = render_scim_template(port, admin_port, free_port(), plugin_config);
        std::fs::write(&config_path, rendered).unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        let log = dir.join("envoy.log");
        let args = [
            "--config-path".to_owned(),
            config_path.display().to_string(),
            "--log-path".to_owned(),
            log.display().to_string(),
            "--disable-hot-restart".to_owned(),
            "--file-flush-interval-msec".to_owned(),
            LOG_FLUSH_MILLISECONDS.to_string(),
        ];
        let mut process = Supervised::spawn(&envoy_binary(), &args, &dir.join("envoy.out"));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = process.exit_status() {
                assert!(!status.success(), "Envoy exited with success on an invalid configuration");
                return read_text(&log);
            }
            assert!(!admin_ready(admin_port), "Envoy accepted a configuration it should have rejected:\n{}", read_text(&log));
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Envoy neither exited nor started within {START_TIMEOUT:?}:\n{}", read_text(&log));
    }

    /// Envoy's log so far.
    pub fn log(&self) -> String {
        read_text(&self.log)
    }

    /// Waits up to [`LOG_WAIT`] for the log to satisfy `ready`, and returns it either way.
    pub fn log_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let log = self.log();
            if ready(&log) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Returns the value of the counter `wasmcustom.<name>`, 0 when absent.
    pub fn counter(&self, name: &str) -> u64 {
        let stats = admin_get(self.admin_port, "/stats?filter=%5Ewasmcustom%5C.").unwrap_or_default();
        let prefix = format!("wasmcustom.{name}: ");
        stats.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    }

    /// Returns the URL of the gate's SCIM root.
    pub fn scim_url(&self) -> String {
        format!("http://127.0.0.1:{}/scim/v2", self.port)
    }
}

fn admin_ready(admin_port: u16) -> bool {
    admin_get(admin_port, "/ready").is_some_and(|body| body.trim() == "LIVE")
}

fn admin_get(admin_port: u16, path: &str) -> Option<String> {
    let response = try_send(admin_port, &RawRequest::new("GET", path)).ok()?;
    (response.status == 200).then(|| response.text())
}

/// Renders `envoy/scim.yaml`, filling every placeholder.
fn render_scim_template(port: u16, admin_port: u16, upstream_port: u16, plugin_config: &Value) -> String {
    let template = read_text(&root().join("envoy/scim.yaml"));
    let plugin_config = serde_json::to_string(&plugin_config.to_string()).unwrap_or_default();
    let values = [
        ("EDGEIDP_PORT", port.to_string()),
        ("EDGEIDP_ADMIN_PORT", admin_port.to_string()),
        ("EDGEIDP_WASM", wasm_path().display().to_string()),
        ("EDGEIDP_SCIM_UPSTREAM_PORT", upstream_port.to_string()),
        ("EDGEIDP_PLUGIN_CONFIG", plugin_config),
    ];
    let mut rendered = template;
    for (name, value) in values {
        rendered = rendered.replace(&format!("${{{name}}}"), &value);
    }
    let leftover = rendered.lines().find(|line| !line.trim_start().starts_with('#') && line.contains("${EDGEIDP_"));
    assert!(leftover.is_none(), "envoy/scim.yaml has a placeholder the tests do not fill: {leftover:?}");
    rendered
}

/// An HTTP/1.1 request written byte for byte, so that a test can send what a client
/// library would not: repeated headers, a chunked body, a pause between head and body.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Sends the body with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
}

impl RawRequest {
    pub fn new(method: &str, path: &str) -> Self {
        Self { method: method.into(), path: path.into(), headers: Vec::new(), body: None, chunked: false }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Self {
        self.body = Some(body.to_vec());
        self
    }

    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    fn head(&self, port: u16) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n", self.method, self.path);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match (&self.body, self.chunked) {
            (Some(_), true) => head.push_str("transfer-encoding: chunked\r\n"),
            (Some(body), false) => head.push_str(&format!("content-length: {}\r\n", body.len())),
            (None, _) => {}
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn encoded_body(&self) -> Vec<u8> {
        let Some(body) = &self.body else { return Vec::new() };
        if !self.chunked {
            return body.clone();
        }
        let mut encoded = Vec::new();
        for chunk in body.chunks(8 * 1024) {
            encoded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            encoded.extend_from_slice(chunk);
            encoded.extend_from_slice(b"\r\n");
        }
        encoded.extend_from_slice(b"0\r\n\r\n");
        encoded
    }
}

/// A response, whatever its status.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON, giving `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Returns whether the SCIM service produced the response, rather than Envoy or the gate:
    /// Envoy's router adds `x-envoy-upstream-service-time` to upstream responses only.
    pub fn is_from_upstream(&self) -> bool {
        self.header("x-envoy-upstream-service-time").is_some()
    }
}

/// Sends `request` to 127.0.0.1:`port` and reads the whole response.
pub fn send(port: u16, request: &RawRequest) -> RawResponse {
    try_send(port, request).unwrap_or_else(|e| panic!("{} {} failed: {e}", request.method, request.path))
}

/// Sends the head, then the body in pieces of `piece_bytes` (as encoded on the wire), each
/// after a pause: a slow client whose body reaches Envoy in several reads.
pub fn send_slowly(port: u16, request: &RawRequest, pause: Duration, piece_bytes: usize) -> RawResponse {
    let result = exchange(port, request, pause, piece_bytes);
    result.unwrap_or_else(|e| panic!("{} {} failed: {e}", request.method, request.path))
}

fn try_send(port: u16, request: &RawRequest) -> std::io::Result<RawResponse> {
    exchange(port, request, Duration::ZERO, usize::MAX)
}

fn exchange(port: u16, request: &RawRequest, pause: Duration, piece_bytes: usize) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.write_all(&request.head(port))?;
    for piece in request.encoded_body().chunks(piece_bytes.max(1)) {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        // The gate may reply and close before the whole body is sent; the reply still counts.
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    let mut raw = Vec::new();
    if let Err(error) = stream.read_to_end(&mut raw) {
        if raw.is_empty() {
            return Err(error);
        }
    }
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not an HTTP response: {:?}", String::from_utf8_lossy(&raw)))
    })
}

fn parse_response(raw: &[u8]) -> Option<RawResponse> {
    let head_end = find(raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(raw.get(..head_end)?).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let rest = raw.get(head_end + 4..)?;
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { decode_chunked(rest)? } else { rest.to_vec() };
    Some(RawResponse { status, headers, body })
}

fn decode_chunked(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n")?;
        let size_text = String::from_utf8_lossy(rest.get(..line_end)?).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(line_end + 2..line_end + 2 + size)?);
        rest = rest.get(line_end + 2 + size + 2..)?;
    }
}

/// The result of one `scim2 ... test` run: how many checks ended with each status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conformance {
    pub succeeded: bool,
    /// `(status, count)` sorted by status: SUCCESS, ERROR, CRITICAL and so on.
    pub statuses: Vec<(String, usize)>,
    pub output: String,
}

impl Conformance {
    pub fn count(&self, status: &str) -> usize {
        self.statuses.iter().find(|(name, _)| name == status).map_or(0, |(_, count)| *count)
    }
}

/// Statuses scim2-tester prints at the start of a result line.
const CHECK_STATUSES: [&str; 7] = ["SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED"];

/// Runs scim2-cli's conformance check (scim2-tester) against `url`, sending `headers` with
/// every request. The headers go through the environment, not the command line, because
/// other users of the machine can read command lines.
pub fn run_conformance(url: &str, headers: &[(&str, &str)]) -> Conformance {
    let header_list: Vec<String> = headers.iter().map(|(name, value)| format!("{name}: {value}")).collect();
    let output = Command::new(venv_command("scim2"))
        .args(["--url", url, "test"])
        .env("SCIM_CLI_HEADERS", header_list.join(";"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run scim2: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let mut statuses: Vec<(String, usize)> = Vec::new();
    for line in text.lines() {
        let Some(status) = CHECK_STATUSES.iter().find(|status| line.starts_with(&format!("{status} "))) else {
            continue;
        };
        match statuses.iter_mut().find(|(name, _)| name == status) {
            Some((_, count)) => *count += 1,
            None => statuses.push(((*status).to_owned(), 1)),
        }
    }
    statuses.sort();
    Conformance { succeeded: output.status.success(), statuses, output: text }
}
