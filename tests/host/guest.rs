//! The guest's linear memory as host functions see it: bounds-checked reads and writes,
//! memory the host allocates inside the guest, and the pairs encoding of header maps.
//!
//! A pointer or length out of bounds is a bug in the filter or in this host, so it traps
//! with the host function's name instead of returning a status the SDK would ignore.

use wasmtime::{Caller, Extern, Memory, Result};

use super::VmState;

/// Returns the guest's exported memory.
pub fn memory(caller: &mut Caller<'_, VmState>, function: &str) -> Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(wasmtime::Error::msg(format!("{function}: the module exports no memory named \"memory\""))),
    }
}

/// Copies `len` bytes at guest address `ptr`.
pub fn read(caller: &mut Caller<'_, VmState>, function: &str, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let memory = memory(caller, function)?;
    let (start, end) = range(function, ptr, len)?;
    match memory.data(&*caller).get(start..end) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(out_of_bounds(function, ptr, len)),
    }
}

/// Reads a string argument; invalid UTF-8 is replaced, since the host only compares names.
pub fn read_string(caller: &mut Caller<'_, VmState>, function: &str, ptr: i32, len: i32) -> Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, function, ptr, len)?).into_owned())
}

/// Writes `bytes` at guest address `ptr`.
pub fn write(caller: &mut Caller<'_, VmState>, function: &str, ptr: i32, bytes: &[u8]) -> Result<()> {
    let memory = memory(caller, function)?;
    let len = i32::try_from(bytes.len()).map_err(|_| out_of_bounds(function, ptr, i32::MAX))?;
    let (start, end) = range(function, ptr, len)?;
    match memory.data_mut(&mut *caller).get_mut(start..end) {
        Some(target) => {
            target.copy_from_slice(bytes);
            Ok(())
        }
        None => Err(out_of_bounds(function, ptr, len)),
    }
}

pub fn write_u32(caller: &mut Caller<'_, VmState>, function: &str, ptr: i32, value: u32) -> Result<()> {
    write(caller, function, ptr, &value.to_le_bytes())
}

pub fn write_u64(caller: &mut Caller<'_, VmState>, function: &str, ptr: i32, value: u64) -> Result<()> {
    write(caller, function, ptr, &value.to_le_bytes())
}

/// Hands `bytes` to the guest the way proxy-wasm returns data: memory allocated with the
/// guest's `proxy_on_memory_allocate`, its address written at `ptr_ptr` and its length at
/// `size_ptr`. Empty data gets a null pointer without an allocation, as in Envoy.
pub fn copy_out(
    caller: &mut Caller<'_, VmState>,
    function: &str,
    bytes: &[u8],
    ptr_ptr: i32,
    size_ptr: i32,
) -> Result<()> {
    let size = u32::try_from(bytes.len())
        .map_err(|_| wasmtime::Error::msg(format!("{function}: {} bytes do not fit a wasm32 length", bytes.len())))?;
    let mut address = 0;
    if size > 0 {
        address = allocate(caller, function, size)?;
        write(caller, function, address as i32, bytes)?;
    }
    write_u32(caller, function, ptr_ptr, address)?;
    write_u32(caller, function, size_ptr, size)
}

fn allocate(caller: &mut Caller<'_, VmState>, function: &str, size: u32) -> Result<u32> {
    let Some(Extern::Func(allocator)) = caller.get_export("proxy_on_memory_allocate") else {
        return Err(wasmtime::Error::msg(format!("{function}: the module exports no proxy_on_memory_allocate")));
    };
    let allocator = allocator.typed::<i32, i32>(&*caller)?;
    caller.data_mut().crossings.push("proxy_on_memory_allocate");
    let address = allocator.call(&mut *caller, size as i32)? as u32;
    if address == 0 {
        return Err(wasmtime::Error::msg(format!("{function}: proxy_on_memory_allocate({size}) returned null")));
    }
    Ok(address)
}

fn range(function: &str, ptr: i32, len: i32) -> Result<(usize, usize)> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize).ok_or_else(|| out_of_bounds(function, ptr, len))?;
    Ok((start, end))
}

fn out_of_bounds(function: &str, ptr: i32, len: i32) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "{function}: the filter passed {} bytes at address {:#x}, outside its linear memory",
        len as u32, ptr as u32
    ))
}

/// Encodes pairs as proxy-wasm does: a u32 count, a (u32 key length, u32 value length) per
/// pair, then every key and value followed by a NUL byte. Integers are little-endian.
pub fn encode_pairs(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (key, value) in pairs {
        bytes.extend_from_slice(&(key.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (key, value) in pairs {
        bytes.extend_from_slice(key);
        bytes.push(0);
        bytes.extend_from_slice(value);
        bytes.push(0);
    }
    bytes
}

/// Decodes the pairs encoding; `None` when the sizes do not match the data.
pub fn decode_pairs(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let word = |at: usize| -> Option<usize> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(raw) as usize)
    };
    let count = word(0)?;
    let mut data = 4usize.checked_add(count.checked_mul(8)?)?;
    let mut pairs = Vec::with_capacity(count.min(1024));
    for index in 0..count {
        let key_len = word(4 + index * 8)?;
        let value_len = word(8 + index * 8)?;
        let key = bytes.get(data..data.checked_add(key_len)?)?.to_vec();
        data += key_len + 1;
        let value = bytes.get(data..data.checked_add(value_len)?)?.to_vec();
        data += value_len + 1;
        pairs.push((key, value));
    }
    Some(pairs)
}
