//! Request paths: which ones the gate guards, and which it can classify.
//!
//! The gate must see every request that an upstream server could route to the SCIM
//! service. Envoy normalizes paths only when `normalize_path` and `merge_slashes` are set,
//! and servers differ in what they decode (Java servlet containers drop `;parameters`,
//! some servers match case-insensitively). So [`canonical`] decodes all of that before the
//! prefix match, and a guarded path that is not already [`is_regular`] is rejected rather
//! than classified.

/// Splits a `:path` into the path and its query, without the `?`.
pub fn split_query(path: &str) -> (&str, Option<&str>) {
    match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    }
}

/// Returns the form of a `:path` used for prefix matching: the query dropped,
/// percent-decoded once, `\` read as `/`, `;parameters` dropped from each segment, dot
/// segments resolved (RFC 3986 §5.2.4), repeated `/` merged, ASCII lowercase.
pub fn canonical(path: &str) -> String {
    let (path, _) = split_query(path);
    if let Some(simple) = simple_canonical(path) {
        return simple;
    }
    resolved_canonical(path)
}

/// Returns the canonical form of a path that needs no decoding and no resolution (no `%`,
/// `\` or `;`, no empty, `.` or `..` segment before a trailing `/`), as most paths are. It
/// equals [`resolved_canonical`] with one allocation instead of four, and every request
/// that reaches the filter is routed through it.
fn simple_canonical(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains(['%', '\\', ';']) {
        return None;
    }
    let body = path.strip_suffix('/').unwrap_or(path);
    if body.split('/').skip(1).any(|segment| matches!(segment, "" | "." | "..")) {
        return None;
    }
    let mut canonical = body.to_ascii_lowercase();
    if canonical.is_empty() {
        canonical.push('/');
    }
    Some(canonical)
}

fn resolved_canonical(path: &str) -> String {
    let decoded = percent_decode(path).replace('\\', "/");

    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        let segment = segment.split(';').next().unwrap_or("");
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }

    let mut canonical = String::with_capacity(decoded.len() + 1);
    for segment in &segments {
        canonical.push('/');
        canonical.push_str(segment);
    }
    if canonical.is_empty() {
        canonical.push('/');
    }
    canonical.make_ascii_lowercase();
    canonical
}

/// Whether `prefix` (lowercase, starting with `/`, no trailing `/`) covers the canonical
/// path: equal, or followed by `/`. `/scim/v2` covers `/scim/v2/Users` but not `/scim/v2x`.
pub fn has_prefix(canonical_path: &str, prefix: &str) -> bool {
    match canonical_path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Whether a path (without its query) is already normalized, so that what the gate
/// classifies is what the upstream serves: no `.` or `..` segment, no empty segment other
/// than a trailing `/`, no `\` or `;`, and no percent-encoded `/`, `\`, `;`, `%` or
/// unreserved character (RFC 3986 §2.3 says those must not be encoded).
pub fn is_regular(path: &str) -> bool {
    if !path.starts_with('/') || path.contains(['\\', ';']) {
        return false;
    }
    let body = path.strip_suffix('/').unwrap_or(path);
    let segments_ok = body.split('/').skip(1).all(|segment| !matches!(segment, "" | "." | ".."));
    let root = path == "/";
    (segments_ok || root) && !has_forbidden_escape(path)
}

fn has_forbidden_escape(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().filter(|(_, byte)| **byte == b'%').any(|(i, _)| {
        let decoded = bytes.get(i + 1..i + 3).and_then(hex_pair);
        match decoded {
            Some(byte) => byte.is_ascii_alphanumeric() || b"-._~/\\;%".contains(&byte),
            None => true,
        }
    })
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(pair).ok()?;
    u8::from_str_radix(text, 16).ok()
}

/// Decodes `%XX` escapes once; an invalid escape stays as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = if byte == b'%' { bytes.get(i + 1..i + 3).and_then(hex_pair) } else { None };
        match escaped {
            Some(value) => {
                decoded.push(value);
                i += 3;
            }
            None => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Whether a query string has an `access_token` parameter (RFC 6750 §2.3).
pub fn has_access_token_parameter(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        percent_decode(name) == "access_token"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut must agree with the full resolution on every path it accepts.
    #[test]
    fn simple_canonical_agrees() {
        let paths = ["/", "/Scim/V2/Users/", "/scim/v2", "/a/b/c", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..",
            "/.", "//", "", "a/b", "/a;b", "/a%2fb", "/a\\b", "/ü/Ä", "/a/b//", "/...", "/.a/b."];
        for path in paths {
            if let Some(simple) = simple_canonical(path) {
                assert_eq!(simple, resolved_canonical(path), "{path:?}");
            }
        }
        assert_eq!(simple_canonical("/Scim/V2/Users/").as_deref(), Some("/scim/v2/users"), "the common case takes it");
    }

    proptest::proptest! {
        #[test]
        fn simple_canonical_agrees_on_random_paths(path in "[/a-zA-Z.%;\\\\]{0,24}") {
            if let Some(simple) = simple_canonical(&path) {
                proptest::prop_assert_eq!(simple, resolved_canonical(&path));
            }
        }
    }

    #[test]
    fn canonical_table() {
        let cases = [
            ("/scim/v2/Users?filter=x", "/scim/v2/users"),
            ("//scim//v2/Users", "/scim/v2/users"),
            ("/other/../scim/v2/Users", "/scim/v2/users"),
            ("/scim/./v2", "/scim/v2"),
            ("/scim%2Fv2/Users", "/scim/v2/users"),
            ("/%73cim/v2", "/scim/v2"),
            ("/scim;jsessionid=1/v2", "/scim/v2"),
            ("\\scim\\v2", "/scim/v2"),
            ("/SCIM/V2", "/scim/v2"),
            ("/", "/"),
            ("/..", "/"),
        ];
        for (path, expected) in cases {
            assert_eq!(canonical(path), expected, "canonical({path:?})");
        }
    }

    #[test]
    fn prefix_boundary() {
        assert!(has_prefix("/scim/v2", "/scim/v2"));
        assert!(has_prefix("/scim/v2/users", "/scim/v2"));
        assert!(!has_prefix("/scim/v2x", "/scim/v2"), "a prefix ends at a segment boundary");
    }

    #[test]
    fn regular_paths() {
        let regular = ["/scim/v2/Users", "/scim/v2/Users/", "/scim/v2/Users/a%20b", "/scim/v2/Users/.search", "/"];
        for path in regular {
            assert!(is_regular(path), "{path:?} is regular");
        }
    }

    #[test]
    fn irregular_paths() {
        let irregular = [
            "/scim/v2/../admin",
            "/scim/v2/./Users",
            "/scim//v2/Users",
            "/scim/v2/Users%2F1",
            "/scim/v2/%55sers",
            "/scim/v2/Users/%2e%2e",
            "/scim/v2;x=1/Users",
            "/scim/v2\\Users",
            "/scim/v2/Users/%zz",
            "/scim/v2/Users/%2",
            "scim/v2",
        ];
        for path in irregular {
            assert!(!is_regular(path), "{path:?} is irregular");
        }
    }

    #[test]
    fn access_token_parameter() {
        assert!(has_access_token_parameter("a=1&access_token=x"));
        assert!(has_access_token_parameter("access%5Ftoken=x"));
        assert!(!has_access_token_parameter("filter=access_token"));
    }
}
