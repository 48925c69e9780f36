//! Attribute value expressions (placeholder until the full language lands): only `user.KEY`.

use serde_json::Value;

/// A user profile: the JSON object an expression reads as `user`.
pub type Profile = serde_json::Map<String, Value>;

/// A parse error, with the 0-based character position where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionError {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ExpressionError {}

#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    source: String,
    key: String,
}

impl Expression {
    pub fn parse(source: &str) -> Result<Self, ExpressionError> {
        let key = source
            .trim()
            .strip_prefix("user.")
            .ok_or(ExpressionError { position: 0, message: "expected user.KEY".into() })?;
        Ok(Self { source: source.to_owned(), key: key.to_owned() })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `profile`. An empty result means the value is missing.
    pub fn evaluate(&self, profile: &Profile) -> Vec<String> {
        let found = profile.iter().find(|(k, _)| k.eq_ignore_ascii_case(&self.key)).map(|(_, v)| v);
        match found {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other.to_string()],
        }
    }
}
