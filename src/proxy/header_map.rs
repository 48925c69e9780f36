//! The request header map, read from Envoy in one host call.
//!
//! Each call between Envoy and the Wasm VM costs 2 to 5 µs on a request path, measured with
//! Envoy 1.40's V8 on a 2-core machine. The same call repeated in a loop takes 0.1 to 0.8 µs,
//! so most of the cost is cold caches. A call that returns data costs more, because Envoy
//! calls back into the VM to allocate the bytes. Routing and the SCIM gate therefore share
//! one read of the whole map.
//!
//! The SDK's own reader (`get_http_request_headers_bytes`) panics when a header name is
//! not UTF-8, and a panic stops the worker's VM. This module decodes the host's
//! serialization itself: a little-endian `u32` count, then a `u32` name length and a `u32`
//! value length per header, then each name and value followed by a NUL byte. Bytes that
//! are not UTF-8 become U+FFFD, which no header name or token contains, so such a header
//! can never be mistaken for one the filter reads. Names and values that are UTF-8, which
//! is nearly all of them, borrow the host's bytes instead of being copied.

use std::borrow::Cow;

/// One header as Envoy listed it: lowercase name and value, repeated names kept in order.
pub type Header<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Decodes the host's serialized header map. Returns `None` when the lengths do not match
/// the bytes, which only a faulty host produces.
pub fn decode_pairs(bytes: &[u8]) -> Option<Vec<Header<'_>>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = usize::try_from(read_u32(bytes, 0)?).ok()?;
    // Each header takes at least 8 bytes of lengths and 2 NUL bytes, which bounds the
    // allocation by the input's size whatever the count field contains.
    if count > bytes.len() / 10 {
        return None;
    }
    let mut headers = Vec::with_capacity(count);
    let mut data = count.checked_mul(8)?.checked_add(4)?;
    for index in 0..count {
        let lengths = 4 + index * 8;
        let name_length = usize::try_from(read_u32(bytes, lengths)?).ok()?;
        let value_length = usize::try_from(read_u32(bytes, lengths + 4)?).ok()?;
        let (name, after_name) = take_terminated(bytes, data, name_length)?;
        let (value, after_value) = take_terminated(bytes, after_name, value_length)?;
        headers.push((text(name), text(value)));
        data = after_value;
    }
    (data == bytes.len()).then_some(headers)
}

/// Returns the value of the first header named `name`, or "" when there is none.
pub fn first_value<'a>(headers: &'a [Header<'_>], name: &str) -> &'a str {
    headers.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value)
}

/// Borrows `bytes` as text when they are UTF-8, and replaces each invalid sequence with
/// U+FFFD otherwise. `str::from_utf8` checks the common case faster than the lossy decoder.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}

/// Returns the `length` bytes at `start`, which must be followed by a NUL byte, and the
/// position after that byte.
fn take_terminated(bytes: &[u8], start: usize, length: usize) -> Option<(&[u8], usize)> {
    let end = start.checked_add(length)?;
    let field = bytes.get(start..end)?;
    (bytes.get(end) == Some(&0)).then_some((field, end + 1))
}

#[cfg(target_arch = "wasm32")]
pub use envoy::request_header_bytes;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod envoy {

    /// `MapType::HttpRequestHeaders` in the proxy-wasm ABI.
    const REQUEST_HEADERS: u32 = 0;
    const STATUS_OK: u32 = 0;

    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_get_header_map_pairs(map_type: u32, return_data: *mut *mut u8, return_size: *mut usize) -> u32;
    }

    /// Reads the current request's headers, serialized; [`super::decode_pairs`] decodes
    /// them. Returns `None` when Envoy rejects the call, which it does outside the
    /// request-headers phase.
    pub fn request_header_bytes() -> Option<Vec<u8>> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: both pointers are valid for one write of their type. The status is read
        // as a plain u32, so an unknown value cannot form an invalid enum.
        let status = unsafe { proxy_get_header_map_pairs(REQUEST_HEADERS, &mut data, &mut size) };
        if status != STATUS_OK {
            return None;
        }
        if data.is_null() {
            return Some(Vec::new());
        }
        // SAFETY: on success the host has filled `size` bytes that it allocated through the
        // SDK's exported `proxy_on_memory_allocate`. That function returns a boxed slice of
        // exactly `size` bytes from this module's allocator, so the Vec can own and free it.
        Some(unsafe { Vec::from_raw_parts(data, size, size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serializes headers as the host does.
    fn encode(headers: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = u32::try_from(headers.len()).unwrap().to_le_bytes().to_vec();
        for (name, value) in headers {
            out.extend(u32::try_from(name.len()).unwrap().to_le_bytes());
            out.extend(u32::try_from(value.len()).unwrap().to_le_bytes());
        }
        for (name, value) in headers {
            out.extend(*name);
            out.push(0);
            out.extend(*value);
            out.push(0);
        }
        out
    }

    fn owned(headers: &[(&'static str, &'static str)]) -> Vec<Header<'static>> {
        headers.iter().map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(*v))).collect()
    }

    #[test]
    fn decode_keeps_order_and_repeats() {
        let bytes = encode(&[(b":method", b"GET"), (b"x-a", b"1"), (b"x-a", b"2"), (b"empty", b"")]);
        let expected = owned(&[(":method", "GET"), ("x-a", "1"), ("x-a", "2"), ("empty", "")]);
        assert_eq!(decode_pairs(&bytes), Some(expected));
    }

    #[test]
    fn decode_empty_map() {
        assert_eq!(decode_pairs(&[]), Some(Vec::new()), "no bytes at all");
        assert_eq!(decode_pairs(&encode(&[])), Some(Vec::new()), "a count of zero");
    }

    /// The case the SDK's reader panics on.
    #[test]
    fn decode_replaces_invalid_utf8_in_names() {
        let bytes = encode(&[(b"x-\xff", b"v\xfe"), (b"authorization", b"Bearer t")]);
        let expected = owned(&[("x-\u{fffd}", "v\u{fffd}"), ("authorization", "Bearer t")]);
        assert_eq!(decode_pairs(&bytes), Some(expected));
    }

    #[test]
    fn decode_rejects_inconsistent_lengths() {
        let good = encode(&[(b"name", b"value")]);
        let mut missing_nul = good.clone();
        missing_nul[4 + 8 + 4] = b'x';
        let mut trailing = good.clone();
        trailing.push(0);
        let mut long_value = good.clone();
        long_value[8] = 200;
        let cases: [(&str, &[u8]); 5] = [
            ("truncated", &good[..good.len() - 1]),
            ("no NUL after the name", &missing_nul),
            ("bytes after the last value", &trailing),
            ("value length past the end", &long_value),
            ("count larger than the bytes allow", &[255, 255, 255, 255, 0, 0]),
        ];
        for (case, bytes) in cases {
            assert_eq!(decode_pairs(bytes), None, "{case}");
        }
    }

    #[test]
    fn first_value_takes_the_first() {
        let headers = owned(&[("x-a", "1"), ("x-a", "2")]);
        assert_eq!(first_value(&headers, "x-a"), "1");
        assert_eq!(first_value(&headers, "x-b"), "", "an absent header reads as empty");
    }
}
