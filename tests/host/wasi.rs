//! The WASI (`wasi_snapshot_preview1`) functions a `wasm32-wasip1` filter imports, as Envoy
//! provides them: no arguments, the environment of the VM's configuration, stdout and
//! stderr captured, the host's clock and random source. Any other WASI import stays a trap
//! stub.

use wasmtime::{Caller, Linker, Result};

use super::guest::{read, write, write_u32, write_u64};
use super::VmState;

pub const MODULE: &str = "wasi_snapshot_preview1";

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;

/// Defines the implemented WASI functions and returns their names.
pub fn link(linker: &mut Linker<VmState>) -> Result<Vec<&'static str>> {
    linker.func_wrap(MODULE, "random_get", random_get)?;
    linker.func_wrap(MODULE, "environ_sizes_get", environ_sizes_get)?;
    linker.func_wrap(MODULE, "environ_get", environ_get)?;
    linker.func_wrap(MODULE, "args_sizes_get", empty_sizes)?;
    linker.func_wrap(MODULE, "args_get", |_: Caller<'_, VmState>, _: i32, _: i32| ERRNO_SUCCESS)?;
    linker.func_wrap(MODULE, "fd_write", fd_write)?;
    linker.func_wrap(MODULE, "clock_time_get", clock_time_get)?;
    linker.func_wrap(MODULE, "sched_yield", |_: Caller<'_, VmState>| ERRNO_SUCCESS)?;
    linker.func_wrap(MODULE, "proc_exit", proc_exit)?;
    Ok(vec![
        "random_get",
        "environ_sizes_get",
        "environ_get",
        "args_sizes_get",
        "args_get",
        "fd_write",
        "clock_time_get",
        "sched_yield",
        "proc_exit",
    ])
}

fn random_get(mut caller: Caller<'_, VmState>, ptr: i32, len: i32) -> Result<i32> {
    let mut bytes = vec![0; len as u32 as usize];
    caller.data().shared().random.fill(&mut bytes);
    write(&mut caller, "random_get", ptr, &bytes)?;
    Ok(ERRNO_SUCCESS)
}

/// No arguments: a count of 0 and a buffer size of 0.
fn empty_sizes(mut caller: Caller<'_, VmState>, count_ptr: i32, size_ptr: i32) -> Result<i32> {
    write_u32(&mut caller, "args_sizes_get", count_ptr, 0)?;
    write_u32(&mut caller, "args_sizes_get", size_ptr, 0)?;
    Ok(ERRNO_SUCCESS)
}

/// Returns the environment as WASI hands it over: a `KEY=VALUE` string with a NUL per variable.
fn environment_strings(caller: &Caller<'_, VmState>) -> Vec<Vec<u8>> {
    let entry = |(key, value): &(String, String)| format!("{key}={value}\0").into_bytes();
    caller.data().environment.iter().map(entry).collect()
}

fn environ_sizes_get(mut caller: Caller<'_, VmState>, count_ptr: i32, size_ptr: i32) -> Result<i32> {
    let strings = environment_strings(&caller);
    let size: usize = strings.iter().map(Vec::len).sum();
    write_u32(&mut caller, "environ_sizes_get", count_ptr, strings.len() as u32)?;
    write_u32(&mut caller, "environ_sizes_get", size_ptr, size as u32)?;
    Ok(ERRNO_SUCCESS)
}

/// Writes a pointer to each string at `pointers` and the strings one after another at
/// `buffer`, which the guest sized with `environ_sizes_get`.
fn environ_get(mut caller: Caller<'_, VmState>, pointers: i32, buffer: i32) -> Result<i32> {
    let mut address = buffer;
    for (index, string) in environment_strings(&caller).iter().enumerate() {
        write_u32(&mut caller, "environ_get", pointers.wrapping_add(4 * index as i32), address as u32)?;
        write(&mut caller, "environ_get", address, string)?;
        address = address.wrapping_add(string.len() as i32);
    }
    Ok(ERRNO_SUCCESS)
}

/// Captures stdout and stderr; every other descriptor is closed.
fn fd_write(mut caller: Caller<'_, VmState>, fd: i32, iovs: i32, iovs_len: i32, written_ptr: i32) -> Result<i32> {
    if fd != 1 && fd != 2 {
        return Ok(ERRNO_BADF);
    }
    let mut data = Vec::new();
    for index in 0..iovs_len {
        let iov = read(&mut caller, "fd_write", iovs.wrapping_add(index.wrapping_mul(8)), 8)?;
        let word = |at: usize| iov.get(at..at + 4).and_then(|w| w.try_into().ok()).map(u32::from_le_bytes).unwrap_or(0);
        data.extend(read(&mut caller, "fd_write", word(0) as i32, word(4) as i32)?);
    }
    let written = data.len() as u32;
    let state = caller.data_mut();
    if fd == 1 { &mut state.stdout } else { &mut state.stderr }.extend(data);
    write_u32(&mut caller, "fd_write", written_ptr, written)?;
    Ok(ERRNO_SUCCESS)
}

/// Both clocks read the host's controlled clock, so time does not pass unless a test moves it.
fn clock_time_get(mut caller: Caller<'_, VmState>, clock: i32, _precision: i64, ret: i32) -> Result<i32> {
    if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC {
        return Ok(ERRNO_INVAL);
    }
    let nanos = caller.data().shared().clock_nanos();
    write_u64(&mut caller, "clock_time_get", ret, nanos)?;
    Ok(ERRNO_SUCCESS)
}

fn proc_exit(_: Caller<'_, VmState>, code: i32) -> Result<()> {
    Err(wasmtime::Error::msg(format!("the filter called proc_exit({code})")))
}
