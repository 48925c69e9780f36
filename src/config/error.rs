//! Configuration errors: each names the JSON path of the value at fault and the fix.

use std::fmt;

/// A rejected configuration value, with the JSON path that locates it
/// (`apps.amion.acs_urls[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub kind: ConfigErrorKind,
}

/// What was wrong with the value at [`ConfigError::path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The JSON could not be read into the configuration's shape (wrong type, unknown field,
    /// missing required field, or not JSON at all).
    Syntax(String),
    /// A required value is absent or empty.
    Missing { expected: &'static str },
    /// The value is present but not acceptable; `reason` says why and what to use instead.
    Invalid { value: String, reason: String },
    /// A name used in one place is not defined where it must be.
    UnknownReference { name: String, defined: String },
}

impl ConfigError {
    pub fn syntax(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), kind: ConfigErrorKind::Syntax(message.into()) }
    }

    pub fn missing(path: impl Into<String>, expected: &'static str) -> Self {
        Self { path: path.into(), kind: ConfigErrorKind::Missing { expected } }
    }

    /// Builds an error for a present but unacceptable value. The value is shown in the
    /// message, so never pass a secret (a private key or a token) as `value`.
    pub fn invalid(path: impl Into<String>, value: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind: ConfigErrorKind::Invalid { value: value.into(), reason: reason.into() },
        }
    }

    pub fn unknown_reference(path: impl Into<String>, name: impl Into<String>, defined: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind: ConfigErrorKind::UnknownReference { name: name.into(), defined: defined.into() },
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(configuration)" } else { self.path.as_str() };
        match &self.kind {
            ConfigErrorKind::Syntax(message) => write!(f, "{path}: {message}"),
            ConfigErrorKind::Missing { expected } => write!(f, "{path}: missing; set it to {expected}"),
            ConfigErrorKind::Invalid { value, reason } => {
                let shown = shorten(value, 80);
                write!(f, "{path}: invalid value {shown:?}: {reason}")
            }
            ConfigErrorKind::UnknownReference { name, defined } => {
                write!(f, "{path}: {name:?} is not defined; define it under {defined}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

fn shorten(value: &str, max_chars: usize) -> String {
    if value.chars().count() <= max_chars {
        return value.to_owned();
    }
    let mut short: String = value.chars().take(max_chars).collect();
    short.push('…');
    short
}

/// A warning found while loading a valid configuration (an expired certificate, say).
/// The front end logs it; it does not reject the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Joins a JSON path and a child key: `join("apps", "amion")` is `apps.amion`.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Joins a JSON path and an array index: `index("apps.amion.acs_urls", 0)` is
/// `apps.amion.acs_urls[0]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
