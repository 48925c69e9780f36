//! Placeholder: the builder already writes canonical exc-c14n, so this returns the input.
//! Replaced by the general canonicalizer.

#[derive(Debug, Clone, Default)]
pub struct C14nOptions {
    pub with_comments: bool,
    pub inclusive_prefixes: Vec<String>,
}

#[derive(Debug)]
pub struct C14nError(pub String);

impl std::fmt::Display for C14nError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn canonicalize(xml: &str, _options: &C14nOptions) -> Result<Vec<u8>, C14nError> {
    Ok(xml.as_bytes().to_vec())
}
