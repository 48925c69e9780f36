//! Real Envoy for the integration tests: the shipped demo configuration (`envoy/demo.yaml`)
//! rendered with free loopback ports, the built filter and a test JWKS.
//!
//! Prerequisites are built beforehand (`scripts/test` does it): Envoy from `scripts/install-envoy`
//! and the filter from `scripts/build-filter`. A missing or stale one fails the test with the
//! command to run, rather than skipping it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// The demo tokens' issuer and audience, which the rendered `jwt_authn` provider expects.
pub const JWT_ISSUER: &str = "https://login.example.com/edgeidp-tests";
pub const JWT_AUDIENCE: &str = "edgeidp-tests";

/// How long Envoy may take to compile the filter and start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts with fresh ports when another process took a port between choosing and binding.
const START_ATTEMPTS: usize = 3;

/// Returns the reference deployment's five attributes (`email`, `first_name`, `last_name`,
/// `name`, `jobTitle`) as an app's `attributes` in the filter configuration.
pub fn reference_attributes() -> Value {
    serde_json::json!([
        {"name": "email", "name_format": "unspecified", "value": "user.email"},
        {"name": "first_name", "name_format": "unspecified", "value": "user.firstName"},
        {"name": "last_name", "name_format": "unspecified", "value": "user.lastName"},
        {"name": "name", "name_format": "unspecified", "value": "user.login"},
        {"name": "jobTitle", "name_format": "unspecified", "value": "user.title"}
    ])
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory for one test's files, under Cargo's scratch directory for integration tests.
pub fn scratch_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("envoy-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The Envoy binary: `$EDGEIDP_ENVOY`, or the one `scripts/install-envoy` put in `.venv`.
pub fn envoy_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("EDGEIDP_ENVOY") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "EDGEIDP_ENVOY is {}, which is not a file", path.display());
        return path;
    }
    let lib = root().join(".venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("site-packages/envoy/_bin/envoy"))
            .find(|path| path.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "Envoy is not installed under {}: run scripts/install-envoy (or scripts/test), or set EDGEIDP_ENVOY",
            lib.display()
        )
    })
}

/// The built filter, checked to be newer than every source file it is built from.
pub fn wasm_path() -> PathBuf {
    let wasm = root().join("target/wasm32-wasip1/release/edgeidp.wasm");
    let built = std::fs::metadata(&wasm).and_then(|m| m.modified()).unwrap_or_else(|_| {
        panic!("the filter {} is not built: run scripts/build-filter (or scripts/test)", wasm.display())
    });
    let newest = newest_source(&root().join("src")).max(modified(&root().join("Cargo.toml")));
    assert!(
        built >= newest,
        "the filter {} is older than the sources: run scripts/build-filter (or scripts/test)",
        wasm.display()
    );
    wasm
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().filter_map(Result::ok) {
        let path = entry.path();
        let time = if path.is_dir() { newest_source(&path) } else { modified(&path) };
        newest = newest.max(time);
    }
    newest
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Test keys, made once per test process with openssl: the IdP's signing key and
/// certificate, and the JWT signing key with its JWKS.
pub struct Keys {
    pub idp_key_pem: String,
    pub idp_cert_pem: String,
    pub jwt_key: PathBuf,
    pub jwks: PathBuf,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = scratch_dir("keys");
        let idp_key = dir.join("idp.key.pem");
        let idp_cert = dir.join("idp.cert.pem");
        let jwt_key = dir.join("jwt.key.pem");
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=edgeidp test IdP"])
            .arg("-keyout")
            .arg(&idp_key)
            .arg("-out")
            .arg(&idp_cert));
        run(Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
            .arg(&jwt_key));
        let jwks = dir.join("jwks.json");
        let output = run(Command::new(edgeidp_cli()).args(["dev-jwt", "jwks", "--key"]).arg(&jwt_key));
        std::fs::write(&jwks, output).unwrap_or_else(|e| panic!("cannot write {}: {e}", jwks.display()));
        Keys {
            idp_key_pem: read(&idp_key),
            idp_cert_pem: read(&idp_cert),
            jwt_key,
            jwks,
        }
    })
}

pub fn edgeidp_cli() -> &'static str {
    env!("CARGO_BIN_EXE_edgeidp")
}

/// Mints a JWT for `claims` with the test key; `iss` and `aud` are added. `now` (RFC 3339)
/// backdates the token, which then expires an hour after it.
pub fn mint_jwt(claims: &Value, now: Option<&str>) -> String {
    let mut claims = claims.clone();
    claims["iss"] = Value::from(JWT_ISSUER);
    claims["aud"] = Value::from(JWT_AUDIENCE);
    let mut command = Command::new(edgeidp_cli());
    command.args(["dev-jwt", "mint", "--key"]).arg(&keys().jwt_key).arg("--claims").arg(claims.to_string());
    if let Some(now) = now {
        command.args(["--now", now]);
    }
    run(&mut command).trim().to_owned()
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A running Envoy. Dropping it stops Envoy by its PID; if the test process dies first,
/// the wrapper shell sees its stdin close and stops Envoy itself.
pub struct Envoy {
    pub port: u16,
    pub admin_port: u16,
    /// The plugin configuration Envoy runs with.
    pub plugin_config: Value,
    pub dir: PathBuf,
    pid: u32,
    wrapper: Child,
    wrapper_stdin: Option<ChildStdin>,
}

/// Starts Envoy under a shell that prints Envoy's PID, stops Envoy when its own stdin
/// closes, and exits with Envoy's status.
const WRAPPER: &str = r#"exec 3<&0
"$0" "$@" </dev/null &
pid=$!
echo "$pid"
( read -r _ <&3; kill -TERM "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
exit "$status""#;

impl Envoy {
    /// Starts Envoy with `envoy/demo.yaml` and `plugin_config`, and waits until it serves.
    /// Panics with Envoy's log if it does not.
    pub fn start(name: &str, plugin_config: &Value) -> Envoy {
        Envoy::start_with(name, plugin_config, render_demo)
    }

    /// Starts Envoy with the YAML that `render` makes for the listener port, the admin port
    /// and `plugin_config`, and waits until it serves.
    pub fn start_with(name: &str, plugin_config: &Value, render: impl Fn(u16, u16, &Value) -> String) -> Envoy {
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            let (port, admin_port) = free_ports();
            let yaml = render(port, admin_port, plugin_config);
            let mut envoy = Envoy::spawn(name, port, admin_port, &yaml, plugin_config.clone());
            match envoy.wait_ready() {
                Ok(()) => return envoy,
                Err(log) if log.contains("Address already in use") => last_log = log,
                Err(log) => panic!("Envoy did not start:\n{log}"),
            }
        }
        panic!("Envoy did not start after {START_ATTEMPTS} attempts (ports taken):\n{last_log}");
    }

    /// Starts Envoy with a plugin configuration it must reject, and returns its log once it
    /// has exited. Panics if Envoy starts serving instead.
    pub fn start_rejected(name: &str, plugin_config: Value) -> String {
        let (port, admin_port) = free_ports();
        let yaml = render_demo(port, admin_port, &plugin_config);
        let mut envoy = Envoy::spawn(name, port, admin_port, &yaml, plugin_config);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = envoy.wrapper.try_wait() {
                assert!(!status.success(), "Envoy exited with success on an invalid configuration");
                return envoy.log();
            }
            if envoy.is_ready() {
                panic!("Envoy accepted a configuration it should have rejected:\n{}", envoy.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Envoy neither exited nor started within {START_TIMEOUT:?}:\n{}", envoy.log());
    }

    fn spawn(name: &str, port: u16, admin_port: u16, yaml: &str, plugin_config: Value) -> Envoy {
        let dir = scratch_dir(name);
        let config_path = dir.join("envoy.yaml");
        std::fs::write(&config_path, yaml)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));

        let mut wrapper = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg(envoy_binary())
            .arg("--config-path")
            .arg(&config_path)
            .arg("--log-path")
            .arg(dir.join("envoy.log"))
            .args(["--log-level", "info", "--concurrency", "1", "--disable-hot-restart"])
            // Envoy writes its log file every 10 s by default, as long as tests wait for a log line.
            .args(["--file-flush-interval-msec", "200"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sh for Envoy: {e}"));
        let mut first_line = String::new();
        if let Some(stdout) = wrapper.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut first_line);
        }
        let pid = first_line.trim().parse().unwrap_or_else(|_| panic!("no Envoy PID from the wrapper: {first_line:?}"));
        let wrapper_stdin = wrapper.stdin.take();
        Envoy { port, admin_port, plugin_config, dir, pid, wrapper, wrapper_stdin }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.wrapper.try_wait() {
                return Err(format!("Envoy exited ({status}):\n{}", self.log()));
            }
            if self.is_ready() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("Envoy was not ready within {START_TIMEOUT:?}:\n{}", self.log()))
    }

    fn is_ready(&self) -> bool {
        let ready = get(&format!("http://127.0.0.1:{}/ready", self.admin_port), &[]);
        ready.is_some_and(|r| r.status == 200 && r.body.trim() == "LIVE")
    }

    /// The URL of `path` on the listener.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Envoy's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("envoy.log")).unwrap_or_default()
    }

    /// The value of the counter `wasmcustom.<name>` from the admin stats, 0 when absent.
    pub fn counter(&self, name: &str) -> u64 {
        let url = format!("http://127.0.0.1:{}/stats?filter=^wasmcustom\\.", self.admin_port);
        let stats = get(&url, &[]).map(|r| r.body).unwrap_or_default();
        let prefix = format!("wasmcustom.{name}: ");
        stats.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).stderr(Stdio::null()).status();
        if let Some(mut stdin) = self.wrapper_stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.wrapper.wait();
    }
}

/// Runs `envoy --mode validate` on `yaml`, which also loads the filter and runs its
/// configuration check. Returns Envoy's output, as `Err` when it rejects the configuration.
pub fn validate(name: &str, yaml: &str) -> Result<String, String> {
    let dir = scratch_dir(name);
    let config_path = dir.join("envoy.yaml");
    std::fs::write(&config_path, yaml).unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
    let output = Command::new(envoy_binary())
        .args(["--mode", "validate", "--disable-hot-restart", "--config-path"])
        .arg(&config_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run Envoy: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn free_ports() -> (u16, u16) {
    let first = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    let second = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
    let port = |listener: &TcpListener| listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"));
    (port(&first), port(&second))
}

/// Renders `envoy/demo.yaml` the way `scripts/render-envoy-config` does.
pub fn render_demo(port: u16, admin_port: u16, plugin_config: &Value) -> String {
    let template = read(&root().join("envoy/demo.yaml"));
    let plugin_config = serde_json::to_string(&plugin_config.to_string()).unwrap_or_default();
    let values = [
        ("EDGEIDP_PORT", port.to_string()),
        ("EDGEIDP_ADMIN_PORT", admin_port.to_string()),
        ("EDGEIDP_WASM", wasm_path().display().to_string()),
        ("EDGEIDP_JWKS", keys().jwks.display().to_string()),
        ("EDGEIDP_JWT_ISSUER", JWT_ISSUER.to_owned()),
        ("EDGEIDP_JWT_AUDIENCE", JWT_AUDIENCE.to_owned()),
        ("EDGEIDP_PLUGIN_CONFIG", plugin_config),
    ];
    let mut rendered = template;
    for (name, value) in values {
        rendered = rendered.replace(&format!("${{{name}}}"), &value);
    }
    if let Some(start) = rendered.find("${EDGEIDP_") {
        let placeholder: String = rendered[start..].chars().take_while(|c| *c != '}').collect();
        panic!("envoy/demo.yaml has a placeholder the tests do not fill: {placeholder}}}");
    }
    rendered
}

/// An HTTP response, whatever its status.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(30)).build()
}

/// Sends a GET with `headers`; `None` only when no connection could be made.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Option<HttpResponse> {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    into_response(request.call())
}

/// Sends a POST with a form-encoded body.
pub fn post_form(url: &str, headers: &[(&str, &str)], body: &str) -> Option<HttpResponse> {
    let mut request = agent().post(url).set("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.set(name, value);
    }
    into_response(request.send_string(body))
}

fn into_response(result: Result<ureq::Response, ureq::Error>) -> Option<HttpResponse> {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(_)) => return None,
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .flat_map(|name| {
            let values: Vec<String> = response.all(&name).into_iter().map(str::to_owned).collect();
            values.into_iter().map(move |value| (name.clone(), value))
        })
        .collect();
    let body = response.into_string().unwrap_or_default();
    Some(HttpResponse { status, headers, body })
}
