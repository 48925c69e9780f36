//! Times RSA-2048 signatures inside Envoy's own V8: a minimal proxy-wasm module that, when
//! Envoy starts its VM, signs with each signing backend and writes one log line per backend,
//! `sign backend=.. kernel=.. bits=2048 n=.. min_ms=.. median_ms=..`, the format of
//! `benches/sign.rs`. `benches/envoy-sign` builds it, runs Envoy on loopback and reads the
//! lines back.
//!
//! It speaks the proxy-wasm ABI directly (five exports, two host calls) instead of through
//! the SDK, because the library built with the SDK already exports the filter's own entry
//! points. The number of signatures comes from the VM configuration (default 200).
//! Natively the file compiles to nothing, so that `cargo test`, which builds the examples,
//! has no proxy-wasm imports to link.

#![cfg(target_arch = "wasm32")]

use edgeidp::saml::algorithm::SignatureAlgorithm;
use edgeidp::saml::rsa_fast::{FastRsaSigner, Kernel};
use edgeidp::saml::signer::{RsaCrateSigner, Signer};
use rand_core::SeedableRng;
use rsa::pkcs8::DecodePrivateKey;

const KEY_2048: &str = include_str!("../src/saml/rsa_fast/testdata/rsa2048.pem");
/// Envoy's `warn` level, which its default log level shows.
const LOG_WARN: u32 = 3;
/// `WasmBufferType::VmConfiguration` in the proxy-wasm ABI.
const BUFFER_VM_CONFIGURATION: u32 = 6;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message: *const u8, length: usize) -> u32;
    fn proxy_get_current_time_nanoseconds(out: *mut u64) -> u32;
    fn proxy_get_buffer_bytes(buffer: u32, start: usize, length: usize, out: *mut *mut u8, out_length: *mut usize) -> u32;
}

fn log(message: &str) {
    // SAFETY: the host reads `length` bytes from `message`, which this borrow keeps alive.
    unsafe { proxy_log(LOG_WARN, message.as_ptr(), message.len()) };
}

fn now_nanoseconds() -> u64 {
    let mut now = 0u64;
    // SAFETY: the host writes one u64 through the pointer, which points to `now`.
    unsafe { proxy_get_current_time_nanoseconds(&mut now) };
    now
}

/// Reads the VM configuration as text, or returns an empty string.
fn vm_configuration(size: usize) -> String {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut length = 0usize;
    // SAFETY: the host allocates the copy with `proxy_on_memory_allocate` and writes its
    // address and length through the two pointers; the copy is then owned here.
    let status = unsafe { proxy_get_buffer_bytes(BUFFER_VM_CONFIGURATION, 0, size, &mut data, &mut length) };
    if status != 0 || data.is_null() {
        return String::new();
    }
    // SAFETY: `data` came from `proxy_on_memory_allocate` below, a Vec<u8> of `length` bytes.
    let bytes = unsafe { Vec::from_raw_parts(data, length, length) };
    String::from_utf8_lossy(&bytes).into_owned()
}

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    let mut buffer = std::mem::ManuallyDrop::new(vec![0u8; size]);
    buffer.as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(_context_id: u32, _parent_id: u32) {}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_context_id: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(_context_id: u32, configuration_size: usize) -> u32 {
    let iterations = vm_configuration(configuration_size).trim().parse().unwrap_or(200usize);
    let key = match rsa::RsaPrivateKey::from_pkcs8_pem(KEY_2048) {
        Ok(key) => key,
        Err(e) => {
            log(&format!("sign failed: the test key does not parse: {e}"));
            return 0;
        }
    };
    for (name, kernel) in [("fast", Kernel::preferred()), ("lanes", Kernel::Lanes)] {
        match FastRsaSigner::with_kernel(&key, kernel) {
            Ok(signer) => report(&format!("{name} kernel={:?}", signer.kernel()), &time(&signer, iterations)),
            Err(e) => log(&format!("sign failed: the fast signer rejected the key: {e}")),
        }
    }
    report("rsa", &time(&RsaCrateSigner::new(key), iterations.div_ceil(4)));
    1
}

/// Signs a SignedInfo-sized message `iterations` times after one warm-up signature and
/// returns the sorted durations in milliseconds.
fn time(signer: &dyn Signer, iterations: usize) -> Vec<f64> {
    let message = [0x3cu8; 600];
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    let mut durations = Vec::with_capacity(iterations);
    for round in 0..=iterations {
        let start = now_nanoseconds();
        if let Err(e) = signer.sign(SignatureAlgorithm::RsaSha256, &message, &mut rng) {
            log(&format!("sign failed: {e}"));
            return Vec::new();
        }
        if round > 0 {
            durations.push(now_nanoseconds().saturating_sub(start) as f64 / 1e6);
        }
    }
    durations.sort_by(f64::total_cmp);
    durations
}

fn report(backend: &str, sorted: &[f64]) {
    let min = sorted.first().copied().unwrap_or(f64::NAN);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    log(&format!("sign backend={backend} bits=2048 n={} min_ms={min:.4} median_ms={median:.4}", sorted.len()));
}
