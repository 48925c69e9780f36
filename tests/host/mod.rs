//! A deterministic proxy-wasm host on wasmtime: loads the release filter that Envoy loads
//! and drives it through the ABI as Envoy 1.40 does, with a clock and a random source the
//! test controls.
//!
//! ```text
//! let host = Host::release();
//! let mut vm = host.vm();
//! assert!(vm.configure(&config));
//! let outcome = vm.request(&Request::get("/saml/amion/init").jwt_payload(&claims));
//! assert_eq!(outcome.status(), Some(200));
//! ```
//!
//! Every VM of one [`Host`] shares its clock, random source, shared data and stats, as
//! Envoy's worker threads do. An import the host does not implement traps with its name,
//! and a trap in the filter makes [`Vm::request`] fail the test.

#![allow(dead_code)]

pub mod abi;
pub mod guest;
pub mod http;
pub mod property;
pub mod store;
pub mod stream;
pub mod wasi;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use time::{Duration, OffsetDateTime};
use wasmtime::{Config, Engine, Instance, Linker, Module, Store, Val, WasmParams, WasmResults};

#[allow(unused_imports)]
pub use http::{
    Action, Callback, ClientResponse, Flow, HeaderChange, LocalResponse, LogLevel, LogLine, Outcome, Request,
    UpstreamRequest, UpstreamResponse,
};
pub use property::Property;
pub use store::Metric;

use http::StreamState;
use store::{RandomSource, Shared};

/// The release build of the filter, relative to the crate root.
pub const RELEASE_WASM: &str = "target/wasm32-wasip1/release/edgeidp.wasm";
/// The command that builds [`RELEASE_WASM`].
pub const BUILD_COMMAND: &str =
    "cargo build --release --target wasm32-wasip1 --no-default-features --features proxy --lib";

/// Fuel (roughly, wasm instructions) allowed per call into the filter, so that a filter
/// stuck in a loop fails the test instead of hanging it. A signed Response takes well under
/// a tenth of this.
const FUEL_PER_CALL: u64 = 20_000_000_000;

/// The clock of a new host, until a test sets it.
pub const DEFAULT_TIME: OffsetDateTime = time::macros::datetime!(2026-12-04 12:00 UTC);

/// Envoy's default per-connection buffer limit (1 MiB), which caps a body the filter buffers.
const DEFAULT_BUFFER_LIMIT: usize = 1024 * 1024;

/// The Envoy root id of the shipped configurations, returned as `plugin_root_id`.
const ROOT_ID: &str = "edgeidp";

/// A compiled filter and the proxy around it.
#[derive(Clone)]
pub struct Host {
    compiled: Arc<Compiled>,
    shared: Arc<Mutex<Shared>>,
}

struct Compiled {
    engine: Engine,
    module: Module,
    linker: Linker<VmState>,
    /// Imports defined as trap stubs, as "module.name".
    stubs: Vec<String>,
}

impl Host {
    /// Loads the release filter, failing with the build command when it is missing or
    /// older than a source file.
    pub fn release() -> Host {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join(RELEASE_WASM);
        let Ok(built) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
            panic!(
                "the filter {} is not built; run scripts/build-filter, which runs `{BUILD_COMMAND}`",
                path.display()
            );
        };
        let stale = [root.join("src"), root.join("Cargo.toml")].iter().any(|source| changed_since(source, built));
        if stale {
            panic!(
                "the filter {} is older than the sources; run scripts/build-filter, which runs `{BUILD_COMMAND}`",
                path.display()
            );
        }
        Host::new(path)
    }

    /// Loads and compiles the filter at `wasm_path`; each path is compiled once per process.
    pub fn new(wasm_path: impl AsRef<Path>) -> Host {
        let compiled = compile_once(wasm_path.as_ref());
        Host { compiled, shared: Arc::new(Mutex::new(Shared::new(DEFAULT_TIME))) }
    }

    /// Starts a new VM (an Envoy worker's copy of the filter): `_initialize`, the root
    /// context and `proxy_on_vm_start`. Panics if the filter rejects the start.
    pub fn vm(&self) -> Vm {
        match Vm::start(self) {
            Ok(vm) => vm,
            Err(trap) => panic!("the filter failed to start: {trap}"),
        }
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn now(&self) -> OffsetDateTime {
        self.shared().clock
    }

    pub fn set_time(&self, now: OffsetDateTime) {
        self.shared().clock = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut shared = self.shared();
        shared.clock += by;
    }

    /// Sets the environment variables that VMs started from now on see, as Envoy's
    /// `vm_config.environment_variables` does for a new VM.
    pub fn set_environment(&self, variables: &[(&str, &str)]) {
        self.shared().environment = variables.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    }

    /// Restarts the random source from `seed`, forgetting the draws so far.
    pub fn seed_random(&self, seed: [u8; 32]) {
        self.shared().random = RandomSource::new(seed);
    }

    /// Returns the length of every `random_get` since the last seed.
    pub fn random_draws(&self) -> Vec<usize> {
        self.shared().random.draws.clone()
    }

    pub fn shared_data(&self) -> BTreeMap<String, Vec<u8>> {
        self.shared().data.snapshot()
    }

    /// Returns a metric's value by the name the filter defined it with (Envoy shows it with the
    /// `wasmcustom.` prefix); 0 when it was never defined.
    pub fn counter(&self, name: &str) -> i64 {
        self.shared().metrics.get(name).map_or(0, |metric| metric.value)
    }

    pub fn metrics(&self) -> BTreeMap<String, Metric> {
        self.shared().metrics.all().clone()
    }

    /// Returns the filter's imports that this host defines as trap stubs, as "module.name".
    pub fn unimplemented_imports(&self) -> &[String] {
        &self.compiled.stubs
    }
}

/// Returns whether `path`, or any file below it, was modified after `time`.
fn changed_since(path: &Path, time: SystemTime) -> bool {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|m| m > time);
    let entries = std::fs::read_dir(path).into_iter().flatten().filter_map(Result::ok);
    modified || entries.into_iter().any(|entry| changed_since(&entry.path(), time))
}

fn compile_once(path: &Path) -> Arc<Compiled> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Compiled>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(compiled) = cache.get(path) {
        return Arc::clone(compiled);
    }
    let compiled =
        Arc::new(compile(path).unwrap_or_else(|e| panic!("cannot load the filter {}: {e:?}", path.display())));
    cache.insert(path.to_owned(), Arc::clone(&compiled));
    compiled
}

fn compile(path: &Path) -> wasmtime::Result<Compiled> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, path)?;
    let mut linker = Linker::new(&engine);
    let proxy = abi::link(&mut linker)?;
    let wasi = wasi::link(&mut linker)?;
    let implemented: Vec<(&str, &str)> =
        proxy.into_iter().map(|name| ("env", name)).chain(wasi.into_iter().map(|name| (wasi::MODULE, name))).collect();
    let stubs = stub_unimplemented(&mut linker, &module, &implemented)?;
    Ok(Compiled { engine, module, linker, stubs })
}

/// Defines every import that [`abi`] and [`wasi`] leave out as a function that records its
/// name and traps, so a filter that starts to use one fails the test with the name.
/// Returns the stubbed names.
fn stub_unimplemented(
    linker: &mut Linker<VmState>,
    module: &Module,
    implemented: &[(&str, &str)],
) -> wasmtime::Result<Vec<String>> {
    let mut stubs = Vec::new();
    for import in module.imports() {
        let key = (import.module().to_owned(), import.name().to_owned());
        if implemented.contains(&(import.module(), import.name())) {
            continue;
        }
        let wasmtime::ExternType::Func(ty) = import.ty() else {
            return Err(wasmtime::Error::msg(format!(
                "the filter imports {}.{}, which is not a function",
                key.0, key.1
            )));
        };
        let name = format!("{}.{}", key.0, key.1);
        stubs.push(name.clone());
        linker.func_new(&key.0, &key.1, ty, move |mut caller, _params: &[Val], _results: &mut [Val]| {
            caller.data_mut().unimplemented_calls.push(name.clone());
            Err(wasmtime::Error::msg(format!("the filter called {name}, which this host does not implement")))
        })?;
    }
    Ok(stubs)
}

/// A trap in the filter (a panic, an unimplemented import, fuel exhausted), with the
/// critical lines it logged first: the filter's panic hook logs the panic message there.
#[derive(Debug, Clone)]
pub struct Trap {
    pub callback: &'static str,
    pub message: String,
    pub critical_logs: Vec<String>,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trap in {}: {}", self.callback, self.message)?;
        for line in &self.critical_logs {
            write!(f, "\n  logged: {line}")?;
        }
        Ok(())
    }
}

/// The host's per-VM state, which the host functions read and change.
pub struct VmState {
    shared: Arc<Mutex<Shared>>,
    pub root_context_id: u32,
    /// The context whose callback runs, which `proxy_log` lines are attributed to.
    pub active_context: u32,
    pub log_level: LogLevel,
    /// The plugin configuration, readable only during `proxy_on_configure` as in Envoy.
    pub plugin_configuration: Option<Vec<u8>>,
    pub vm_configuration: Vec<u8>,
    /// WASI environment variables, as Envoy passes them from
    /// `vm_config.environment_variables`.
    pub environment: Vec<(String, String)>,
    /// Properties of the plugin rather than the stream (`plugin_root_id`, `node`).
    pub vm_properties: Property,
    pub stream: Option<StreamState>,
    pub logs: Vec<LogLine>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub tick_period_ms: u32,
    /// ABI misuse that Envoy tolerates but a test should see, such as a second local response.
    pub host_errors: Vec<String>,
    pub unimplemented_calls: Vec<String>,
    /// Every crossing between host and VM in order: the callbacks and allocations the host
    /// calls in the VM, and the `proxy_*` functions the VM calls in the host. In Envoy's V8
    /// each one costs microseconds, so tests count them.
    pub crossings: Vec<&'static str>,
    injected: BTreeMap<String, i32>,
}

impl VmState {
    pub fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn injected_status(&self, function: &str) -> Option<i32> {
        self.injected.get(function).copied()
    }
}

/// One instance of the filter: an Envoy worker's VM with its root context.
pub struct Vm {
    pub(crate) store: Store<VmState>,
    instance: Instance,
    pub(crate) next_context_id: u32,
    /// The body size above which the proxy replies 413 instead of buffering.
    pub buffer_limit: usize,
    failed: Option<Trap>,
}

impl Vm {
    fn start(host: &Host) -> Result<Vm, Trap> {
        let state = VmState {
            shared: Arc::clone(&host.shared),
            root_context_id: 1,
            active_context: 1,
            log_level: LogLevel::Info,
            plugin_configuration: None,
            vm_configuration: Vec::new(),
            environment: host.shared().environment.clone(),
            vm_properties: vm_properties(),
            stream: None,
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            tick_period_ms: 0,
            host_errors: Vec::new(),
            unimplemented_calls: Vec::new(),
            crossings: Vec::new(),
            injected: BTreeMap::new(),
        };
        let compiled = &host.compiled;
        let mut store = Store::new(&compiled.engine, state);
        let instance = compiled.linker.instantiate(&mut store, &compiled.module).map_err(|e| Trap {
            callback: "instantiate",
            message: format!("{e:?}"),
            critical_logs: Vec::new(),
        })?;
        let mut vm = Vm { store, instance, next_context_id: 2, buffer_limit: DEFAULT_BUFFER_LIMIT, failed: None };

        if vm.instance.get_func(&mut vm.store, "proxy_abi_version_0_2_1").is_none() {
            return Err(vm.trap("start", "the module does not export proxy_abi_version_0_2_1"));
        }
        if vm.instance.get_func(&mut vm.store, "_initialize").is_some() {
            vm.call::<(), ()>("_initialize", ())?;
        }
        vm.call::<(i32, i32), ()>("proxy_on_context_create", (1, 0))?;
        let vm_configuration_size = vm.store.data().vm_configuration.len() as i32;
        if vm.call::<(i32, i32), i32>("proxy_on_vm_start", (1, vm_configuration_size))? == 0 {
            return Err(vm.trap("proxy_on_vm_start", "the filter returned false"));
        }
        Ok(vm)
    }

    /// Calls `proxy_on_configure` with `json` as the plugin configuration; returns what the
    /// filter returned. Panics on a trap.
    pub fn configure(&mut self, json: &str) -> bool {
        self.try_configure(json.as_bytes()).unwrap_or_else(|trap| panic!("{trap}"))
    }

    pub fn try_configure(&mut self, configuration: &[u8]) -> Result<bool, Trap> {
        self.check_alive()?;
        let root = self.store.data().root_context_id;
        self.store.data_mut().active_context = root;
        self.store.data_mut().plugin_configuration = Some(configuration.to_vec());
        let result = self.call::<(i32, i32), i32>("proxy_on_configure", (root as i32, configuration.len() as i32));
        self.store.data_mut().plugin_configuration = None;
        Ok(result? != 0)
    }

    /// Calls `proxy_on_tick` on the root context, as Envoy does once per tick period.
    pub fn tick(&mut self) -> Result<(), Trap> {
        self.check_alive()?;
        let root = self.store.data().root_context_id;
        self.call::<i32, ()>("proxy_on_tick", root as i32)
    }

    /// Makes every later call of host function `function` (such as
    /// "proxy_get_header_map_value") return `status` without doing anything.
    pub fn inject_status(&mut self, function: &str, status: i32) {
        self.store.data_mut().injected.insert(function.to_owned(), status);
    }

    pub fn clear_injected(&mut self) {
        self.store.data_mut().injected.clear();
    }

    /// Sets a property of the plugin, such as `plugin_name` or `node.metadata.…`.
    pub fn set_vm_property(&mut self, path: &[&str], value: Property) {
        self.store.data_mut().vm_properties.insert(path, value);
    }

    pub fn logs(&self) -> &[LogLine] {
        &self.store.data().logs
    }

    /// Returns every logged message so far, one per line.
    pub fn log_text(&self) -> String {
        self.logs().iter().map(|line| format!("{:?} {}\n", line.level, line.message)).collect()
    }

    /// Returns the crossings recorded since the last call, and starts a new record.
    pub fn take_crossings(&mut self) -> Vec<&'static str> {
        std::mem::take(&mut self.store.data_mut().crossings)
    }

    pub fn clear_logs(&mut self) {
        self.store.data_mut().logs.clear();
    }

    pub fn stdout(&self) -> &[u8] {
        &self.store.data().stdout
    }

    pub fn stderr(&self) -> &[u8] {
        &self.store.data().stderr
    }

    pub fn host_errors(&self) -> &[String] {
        &self.store.data().host_errors
    }

    /// Returns the size of the filter's linear memory in bytes. Wasm memory never shrinks, so this
    /// is the high-water mark of everything the filter has allocated.
    pub fn memory_bytes(&mut self) -> usize {
        match self.instance.get_memory(&mut self.store, "memory") {
            Some(memory) => memory.data_size(&self.store),
            None => 0,
        }
    }

    /// Returns the trap that stopped this VM, if one did.
    pub fn failure(&self) -> Option<&Trap> {
        self.failed.as_ref()
    }

    pub(crate) fn check_alive(&self) -> Result<(), Trap> {
        match &self.failed {
            Some(trap) => Err(trap.clone()),
            None => Ok(()),
        }
    }

    /// Calls export `name` with a fresh fuel budget; any error stops the VM.
    /// Returns whether the module exports a function named `name`.
    pub(crate) fn exports(&mut self, name: &str) -> bool {
        self.instance.get_func(&mut self.store, name).is_some()
    }

    pub(crate) fn call<P: WasmParams, R: WasmResults>(&mut self, name: &'static str, params: P) -> Result<R, Trap> {
        let function = match self.instance.get_typed_func::<P, R>(&mut self.store, name) {
            Ok(function) => function,
            Err(e) => return Err(self.trap(name, &format!("{e:?}"))),
        };
        self.store.data_mut().crossings.push(name);
        if let Err(e) = self.store.set_fuel(FUEL_PER_CALL) {
            return Err(self.trap(name, &format!("cannot set fuel: {e:?}")));
        }
        match function.call(&mut self.store, params) {
            Ok(result) => Ok(result),
            Err(e) => Err(self.trap(name, &format!("{e:?}"))),
        }
    }

    fn trap(&mut self, callback: &'static str, message: &str) -> Trap {
        let critical_logs = self
            .logs()
            .iter()
            .filter(|line| line.level == LogLevel::Critical)
            .map(|line| line.message.clone())
            .collect();
        let trap = Trap { callback, message: message.to_owned(), critical_logs };
        self.failed = Some(trap.clone());
        trap
    }
}

fn vm_properties() -> Property {
    let mut properties = Property::Map(Vec::new());
    properties.insert(&["plugin_name"], Property::String(ROOT_ID.to_owned()));
    properties.insert(&["plugin_root_id"], Property::String(ROOT_ID.to_owned()));
    properties.insert(&["plugin_vm_id"], Property::String(ROOT_ID.to_owned()));
    properties
}
