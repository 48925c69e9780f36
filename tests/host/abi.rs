//! The host side of the proxy-wasm ABI 0.2.1, as Envoy 1.40 implements the calls the
//! filter makes. Callouts (HTTP, gRPC), shared queues, foreign functions, `proxy_done` and
//! `proxy_get_status` are not here: the filter does not use them, so they stay trap stubs
//! (see [`super::stub_unimplemented`]) that fail the test with their name.

use wasmtime::{Caller, Linker, Result};

use super::guest::{copy_out, decode_pairs, encode_pairs, read, read_string, write_u32, write_u64};
use super::http::{HeaderMap, LocalResponse, LogLevel, LogLine};
use super::property::{split_path, Property, PropertyError};
use super::store::MetricKind;
use super::VmState;

/// proxy-wasm status codes (`WasmResult` in proxy-wasm-cpp-host).
pub mod status {
    pub const OK: i32 = 0;
    pub const NOT_FOUND: i32 = 1;
    pub const BAD_ARGUMENT: i32 = 2;
    pub const SERIALIZATION_FAILURE: i32 = 3;
    pub const CAS_MISMATCH: i32 = 8;
    pub const INTERNAL_FAILURE: i32 = 10;
}
use status::*;

const BUFFER_REQUEST_BODY: i32 = 0;
const BUFFER_RESPONSE_BODY: i32 = 1;
const BUFFER_VM_CONFIGURATION: i32 = 6;
const BUFFER_PLUGIN_CONFIGURATION: i32 = 7;

const MAP_REQUEST_HEADERS: i32 = 0;
const MAP_REQUEST_TRAILERS: i32 = 1;
const MAP_RESPONSE_HEADERS: i32 = 2;

const STREAM_REQUEST: i32 = 0;
const STREAM_RESPONSE: i32 = 1;

/// Registers `$function` as `env.$name`. A status injected with [`super::Vm::inject_status`]
/// is returned instead of calling the function.
macro_rules! register {
    ($linker:ident, $names:ident, $name:literal, $function:ident ( $($arg:ident : $ty:ty),* )) => {
        $names.push($name);
        $linker.func_wrap("env", $name, |mut caller: Caller<'_, VmState>, $($arg: $ty),*| -> Result<i32> {
            caller.data_mut().crossings.push($name);
            if let Some(status) = caller.data().injected_status($name) {
                return Ok(status);
            }
            $function(&mut caller, $($arg),*)
        })?;
    };
}

/// Defines every implemented `env.proxy_*` function and returns their names.
pub fn link(linker: &mut Linker<VmState>) -> Result<Vec<&'static str>> {
    let mut names = Vec::new();
    register!(linker, names, "proxy_log", log(level: i32, ptr: i32, len: i32));
    register!(linker, names, "proxy_get_log_level", get_log_level(ret: i32));
    register!(linker, names, "proxy_get_current_time_nanoseconds", get_current_time(ret: i32));
    register!(linker, names, "proxy_set_tick_period_milliseconds", set_tick_period(period: i32));
    register!(linker, names, "proxy_get_buffer_bytes", get_buffer_bytes(kind: i32, start: i32, max: i32, ptr_ptr: i32, size_ptr: i32));
    register!(linker, names, "proxy_set_buffer_bytes", set_buffer_bytes(kind: i32, start: i32, len: i32, ptr: i32, size: i32));
    register!(linker, names, "proxy_get_header_map_pairs", get_header_map_pairs(kind: i32, ptr_ptr: i32, size_ptr: i32));
    register!(linker, names, "proxy_set_header_map_pairs", set_header_map_pairs(kind: i32, ptr: i32, size: i32));
    register!(linker, names, "proxy_get_header_map_value", get_header_map_value(kind: i32, key: i32, key_len: i32, ptr_ptr: i32, size_ptr: i32));
    register!(linker, names, "proxy_replace_header_map_value", replace_header_map_value(kind: i32, key: i32, key_len: i32, value: i32, value_len: i32));
    register!(linker, names, "proxy_add_header_map_value", add_header_map_value(kind: i32, key: i32, key_len: i32, value: i32, value_len: i32));
    register!(linker, names, "proxy_remove_header_map_value", remove_header_map_value(kind: i32, key: i32, key_len: i32));
    register!(linker, names, "proxy_get_property", get_property(path: i32, path_len: i32, ptr_ptr: i32, size_ptr: i32));
    register!(linker, names, "proxy_set_property", set_property(path: i32, path_len: i32, value: i32, value_len: i32));
    register!(linker, names, "proxy_get_shared_data", get_shared_data(key: i32, key_len: i32, ptr_ptr: i32, size_ptr: i32, cas_ptr: i32));
    register!(linker, names, "proxy_set_shared_data", set_shared_data(key: i32, key_len: i32, value: i32, value_len: i32, cas: i32));
    register!(linker, names, "proxy_continue_stream", continue_stream(kind: i32));
    register!(linker, names, "proxy_close_stream", close_stream(kind: i32));
    register!(linker, names, "proxy_send_local_response", send_local_response(code: i32, details: i32, details_len: i32, body: i32, body_len: i32, headers: i32, headers_len: i32, grpc_status: i32));
    register!(linker, names, "proxy_set_effective_context", set_effective_context(context_id: i32));
    register!(linker, names, "proxy_define_metric", define_metric(kind: i32, name: i32, name_len: i32, ret: i32));
    register!(linker, names, "proxy_increment_metric", increment_metric(id: i32, offset: i64));
    register!(linker, names, "proxy_record_metric", record_metric(id: i32, value: i64));
    register!(linker, names, "proxy_get_metric", get_metric(id: i32, ret: i32));
    Ok(names)
}

type Ctx<'a, 'b> = &'a mut Caller<'b, VmState>;

fn log(caller: Ctx, level: i32, ptr: i32, len: i32) -> Result<i32> {
    let message = read_string(caller, "proxy_log", ptr, len)?;
    let Some(level) = LogLevel::from_abi(level) else {
        return Ok(BAD_ARGUMENT);
    };
    let context_id = caller.data().active_context;
    caller.data_mut().logs.push(LogLine { level, context_id, message });
    Ok(OK)
}

fn get_log_level(caller: Ctx, ret: i32) -> Result<i32> {
    let level = caller.data().log_level as u32;
    write_u32(caller, "proxy_get_log_level", ret, level)?;
    Ok(OK)
}

fn get_current_time(caller: Ctx, ret: i32) -> Result<i32> {
    let nanos = caller.data().shared().clock_nanos();
    write_u64(caller, "proxy_get_current_time_nanoseconds", ret, nanos)?;
    Ok(OK)
}

fn set_tick_period(caller: Ctx, period: i32) -> Result<i32> {
    caller.data_mut().tick_period_ms = period as u32;
    Ok(OK)
}

fn get_buffer_bytes(caller: Ctx, kind: i32, start: i32, max: i32, ptr_ptr: i32, size_ptr: i32) -> Result<i32> {
    let Some(buffer) = readable_buffer(caller.data(), kind) else {
        return Ok(NOT_FOUND);
    };
    let start = start as u32 as usize;
    let Some(available) = buffer.len().checked_sub(start) else {
        return Ok(BAD_ARGUMENT);
    };
    let length = available.min(max as u32 as usize);
    if length > 0 {
        let bytes = buffer[start..start + length].to_vec();
        copy_out(caller, "proxy_get_buffer_bytes", &bytes, ptr_ptr, size_ptr)?;
    }
    Ok(OK)
}

fn readable_buffer(state: &VmState, kind: i32) -> Option<Vec<u8>> {
    let stream = state.stream.as_ref();
    match kind {
        BUFFER_REQUEST_BODY => stream.filter(|s| s.request_body_visible).map(|s| s.request_body.clone()),
        BUFFER_RESPONSE_BODY => stream.filter(|s| s.response_body_visible).map(|s| s.response_body.clone()),
        BUFFER_VM_CONFIGURATION => Some(state.vm_configuration.clone()),
        BUFFER_PLUGIN_CONFIGURATION => state.plugin_configuration.clone(),
        _ => None,
    }
}

/// Changes a body as Envoy's `Buffer::copyFrom` does: at start 0, drop `len` bytes and
/// prepend; at or past the end, append; anywhere else, `BadArgument`.
fn set_buffer_bytes(caller: Ctx, kind: i32, start: i32, len: i32, ptr: i32, size: i32) -> Result<i32> {
    let data = read(caller, "proxy_set_buffer_bytes", ptr, size)?;
    let Some(stream) = caller.data_mut().stream.as_mut() else {
        return Ok(NOT_FOUND);
    };
    let body = match kind {
        BUFFER_REQUEST_BODY if stream.request_body_visible => &mut stream.request_body,
        BUFFER_RESPONSE_BODY if stream.response_body_visible => &mut stream.response_body,
        BUFFER_REQUEST_BODY | BUFFER_RESPONSE_BODY => return Ok(NOT_FOUND),
        _ => return Ok(BAD_ARGUMENT),
    };
    let (start, len) = (start as u32 as usize, len as u32 as usize);
    if start == 0 {
        body.drain(..len.min(body.len()));
        body.splice(0..0, data);
    } else if start >= body.len() {
        body.extend_from_slice(&data);
    } else {
        return Ok(BAD_ARGUMENT);
    }
    Ok(OK)
}

/// Returns the header map `kind` when the stream's current phase exposes it.
fn header_map(state: &mut VmState, kind: i32) -> Option<&mut HeaderMap> {
    let stream = state.stream.as_mut()?;
    match kind {
        MAP_REQUEST_HEADERS if stream.request_headers_visible || stream.access_log_phase => {
            Some(&mut stream.request_headers)
        }
        MAP_REQUEST_TRAILERS if stream.request_trailers_visible => Some(&mut stream.request_trailers),
        MAP_RESPONSE_HEADERS if stream.response_headers_visible || stream.access_log_phase => {
            Some(&mut stream.response_headers)
        }
        _ => None,
    }
}

fn get_header_map_pairs(caller: Ctx, kind: i32, ptr_ptr: i32, size_ptr: i32) -> Result<i32> {
    // Envoy returns no pairs, not an error, for an unavailable map.
    let pairs = header_map(caller.data_mut(), kind).map(|map| map.clone()).unwrap_or_default();
    copy_out(caller, "proxy_get_header_map_pairs", &encode_pairs(&pairs), ptr_ptr, size_ptr)?;
    Ok(OK)
}

fn set_header_map_pairs(caller: Ctx, kind: i32, ptr: i32, size: i32) -> Result<i32> {
    let raw = read(caller, "proxy_set_header_map_pairs", ptr, size)?;
    let Some(pairs) = decode_pairs(&raw) else {
        return Ok(BAD_ARGUMENT);
    };
    let Some(map) = header_map(caller.data_mut(), kind) else {
        return Ok(BAD_ARGUMENT);
    };
    *map = pairs.into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect();
    Ok(OK)
}

fn get_header_map_value(caller: Ctx, kind: i32, key: i32, key_len: i32, ptr_ptr: i32, size_ptr: i32) -> Result<i32> {
    let name = read(caller, "proxy_get_header_map_value", key, key_len)?.to_ascii_lowercase();
    let access_log_phase = caller.data().stream.as_ref().is_some_and(|s| s.access_log_phase);
    let Some(map) = header_map(caller.data_mut(), kind) else {
        return Ok(if access_log_phase { NOT_FOUND } else { BAD_ARGUMENT });
    };
    // Envoy returns the first value only, even when the header repeats.
    let Some(value) = map.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()) else {
        return Ok(NOT_FOUND);
    };
    copy_out(caller, "proxy_get_header_map_value", &value, ptr_ptr, size_ptr)?;
    Ok(OK)
}

/// Envoy's `setCopy`: every value of the header is removed and the new one appended.
fn replace_header_map_value(caller: Ctx, kind: i32, key: i32, key_len: i32, value: i32, value_len: i32) -> Result<i32> {
    let name = read(caller, "proxy_replace_header_map_value", key, key_len)?.to_ascii_lowercase();
    let value = read(caller, "proxy_replace_header_map_value", value, value_len)?;
    let Some(map) = header_map(caller.data_mut(), kind) else {
        return Ok(BAD_ARGUMENT);
    };
    map.retain(|(n, _)| *n != name);
    map.push((name, value));
    Ok(OK)
}

fn add_header_map_value(caller: Ctx, kind: i32, key: i32, key_len: i32, value: i32, value_len: i32) -> Result<i32> {
    let name = read(caller, "proxy_add_header_map_value", key, key_len)?.to_ascii_lowercase();
    let value = read(caller, "proxy_add_header_map_value", value, value_len)?;
    let Some(map) = header_map(caller.data_mut(), kind) else {
        return Ok(BAD_ARGUMENT);
    };
    map.push((name, value));
    Ok(OK)
}

fn remove_header_map_value(caller: Ctx, kind: i32, key: i32, key_len: i32) -> Result<i32> {
    let name = read(caller, "proxy_remove_header_map_value", key, key_len)?.to_ascii_lowercase();
    let Some(map) = header_map(caller.data_mut(), kind) else {
        return Ok(BAD_ARGUMENT);
    };
    map.retain(|(n, _)| *n != name);
    Ok(OK)
}

/// Looks a path up in the stream's properties, then in the VM's (`plugin_name`, `node`).
fn get_property(caller: Ctx, path: i32, path_len: i32, ptr_ptr: i32, size_ptr: i32) -> Result<i32> {
    let raw = read(caller, "proxy_get_property", path, path_len)?;
    let segments = split_path(&raw);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if segments.is_empty() {
        return Ok(NOT_FOUND);
    }
    let state = caller.data();
    let stream_value = state.stream.as_ref().and_then(|s| s.properties.find(&segments));
    let Some(value) = stream_value.or_else(|| state.vm_properties.find(&segments)) else {
        return Ok(NOT_FOUND);
    };
    match value.serialize() {
        Ok(bytes) => {
            copy_out(caller, "proxy_get_property", &bytes, ptr_ptr, size_ptr)?;
            Ok(OK)
        }
        Err(PropertyError::SerializationFailure) => Ok(SERIALIZATION_FAILURE),
        Err(PropertyError::NotFound) => Ok(NOT_FOUND),
    }
}

/// Stores a property on the stream, where Envoy keeps it as filter state. The root context
/// has no filter state, so it gets `NotFound` as in Envoy.
fn set_property(caller: Ctx, path: i32, path_len: i32, value: i32, value_len: i32) -> Result<i32> {
    let raw = read(caller, "proxy_set_property", path, path_len)?;
    let value = read(caller, "proxy_set_property", value, value_len)?;
    let segments = split_path(&raw);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some(stream) = caller.data_mut().stream.as_mut() else {
        return Ok(NOT_FOUND);
    };
    stream.properties.insert(&segments, Property::Bytes(value));
    Ok(OK)
}

fn get_shared_data(caller: Ctx, key: i32, key_len: i32, ptr_ptr: i32, size_ptr: i32, cas_ptr: i32) -> Result<i32> {
    let key = read_string(caller, "proxy_get_shared_data", key, key_len)?;
    let Some((value, cas)) = caller.data().shared().data.get(&key) else {
        return Ok(NOT_FOUND);
    };
    copy_out(caller, "proxy_get_shared_data", &value, ptr_ptr, size_ptr)?;
    write_u32(caller, "proxy_get_shared_data", cas_ptr, cas)?;
    Ok(OK)
}

fn set_shared_data(caller: Ctx, key: i32, key_len: i32, value: i32, value_len: i32, cas: i32) -> Result<i32> {
    let key = read_string(caller, "proxy_set_shared_data", key, key_len)?;
    let value = read(caller, "proxy_set_shared_data", value, value_len)?;
    match caller.data().shared().data.set(&key, value, cas as u32) {
        Ok(()) => Ok(OK),
        Err(()) => Ok(CAS_MISMATCH),
    }
}

/// Resumes a paused stream. Envoy runs the resumption after the callback returns and stops
/// exposing the request headers and body, which the host mirrors.
fn continue_stream(caller: Ctx, kind: i32) -> Result<i32> {
    let Some(stream) = caller.data_mut().stream.as_mut() else {
        return Ok(OK);
    };
    match kind {
        STREAM_REQUEST => {
            stream.continue_requested = true;
            stream.request_headers_visible = false;
            stream.request_body_visible = false;
        }
        STREAM_RESPONSE => stream.continue_requested = true,
        _ => return Ok(BAD_ARGUMENT),
    }
    Ok(OK)
}

fn close_stream(caller: Ctx, kind: i32) -> Result<i32> {
    if !(0..=3).contains(&kind) {
        return Ok(BAD_ARGUMENT);
    }
    if let Some(stream) = caller.data_mut().stream.as_mut() {
        stream.close_requested = true;
    }
    Ok(OK)
}

#[allow(clippy::too_many_arguments)]
fn send_local_response(
    caller: Ctx,
    code: i32,
    details: i32,
    details_len: i32,
    body: i32,
    body_len: i32,
    headers: i32,
    headers_len: i32,
    grpc_status: i32,
) -> Result<i32> {
    const NAME: &str = "proxy_send_local_response";
    let details = read_string(caller, NAME, details, details_len)?;
    let body = read(caller, NAME, body, body_len)?;
    let raw_headers = read(caller, NAME, headers, headers_len)?;
    let Some(pairs) = decode_pairs(&raw_headers) else {
        return Ok(BAD_ARGUMENT);
    };
    let headers = pairs
        .into_iter()
        .map(|(n, v)| (String::from_utf8_lossy(&n).to_ascii_lowercase(), String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let response = LocalResponse { status: code as u32, details, headers, body, grpc_status };
    let state = caller.data_mut();
    match state.stream.as_mut() {
        Some(stream) if stream.local_response.is_none() => stream.local_response = Some(response),
        Some(_) => state.host_errors.push(format!("{NAME}: a second local response for one stream: {response:?}")),
        // Envoy ignores a local response from the root context.
        None => state.host_errors.push(format!("{NAME}: called outside a stream: {response:?}")),
    }
    Ok(OK)
}

fn set_effective_context(caller: Ctx, context_id: i32) -> Result<i32> {
    let context_id = context_id as u32;
    let state = caller.data_mut();
    let known =
        context_id == state.root_context_id || state.stream.as_ref().is_some_and(|s| s.context_id == context_id);
    if !known {
        return Ok(BAD_ARGUMENT);
    }
    state.active_context = context_id;
    Ok(OK)
}

fn define_metric(caller: Ctx, kind: i32, name: i32, name_len: i32, ret: i32) -> Result<i32> {
    let name = read_string(caller, "proxy_define_metric", name, name_len)?;
    let Some(kind) = MetricKind::from_abi(kind) else {
        return Ok(BAD_ARGUMENT);
    };
    let defined = caller.data().shared().metrics.define(kind, &name);
    match defined {
        Ok(id) => {
            write_u32(caller, "proxy_define_metric", ret, id)?;
            Ok(OK)
        }
        Err(message) => {
            caller.data_mut().host_errors.push(format!("proxy_define_metric: {message}"));
            Ok(BAD_ARGUMENT)
        }
    }
}

/// Adds to a counter (positive offsets only, as in Envoy) or a gauge.
fn increment_metric(caller: Ctx, id: i32, offset: i64) -> Result<i32> {
    let state = caller.data();
    let mut shared = state.shared();
    let Some(metric) = shared.metrics.get_mut(id as u32) else {
        return Ok(NOT_FOUND);
    };
    match metric.kind {
        MetricKind::Counter if offset > 0 => metric.value += offset,
        MetricKind::Gauge => metric.value += offset,
        MetricKind::Counter | MetricKind::Histogram => return Ok(BAD_ARGUMENT),
    }
    Ok(OK)
}

fn record_metric(caller: Ctx, id: i32, value: i64) -> Result<i32> {
    let state = caller.data();
    let mut shared = state.shared();
    let Some(metric) = shared.metrics.get_mut(id as u32) else {
        return Ok(NOT_FOUND);
    };
    match metric.kind {
        MetricKind::Counter => metric.value += value,
        MetricKind::Gauge => metric.value = value,
        MetricKind::Histogram => metric.recorded.push(value as u64),
    }
    Ok(OK)
}

fn get_metric(caller: Ctx, id: i32, ret: i32) -> Result<i32> {
    let value = {
        let state = caller.data();
        let mut shared = state.shared();
        match shared.metrics.get_mut(id as u32) {
            None => return Ok(NOT_FOUND),
            Some(metric) if metric.kind == MetricKind::Histogram => return Ok(BAD_ARGUMENT),
            Some(metric) => metric.value as u64,
        }
    };
    write_u64(caller, "proxy_get_metric", ret, value)?;
    Ok(OK)
}
