//! The string functions an expression can call, each applied to one value per argument.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Function {
    ToLowerCase,
    ToUpperCase,
    Trim,
    RemoveSpaces,
    SubstringBefore,
    SubstringAfter,
    Replace,
    Append,
}

impl Function {
    const ALL: [Function; 8] = [
        Self::ToLowerCase,
        Self::ToUpperCase,
        Self::Trim,
        Self::RemoveSpaces,
        Self::SubstringBefore,
        Self::SubstringAfter,
        Self::Replace,
        Self::Append,
    ];

    /// Finds a function by its name, with or without the `String.` prefix.
    pub(super) fn find(name: &str) -> Option<Self> {
        let bare = name.strip_prefix("String.").unwrap_or(name);
        Self::ALL.into_iter().find(|function| function.bare_name() == bare)
    }

    /// Lists every function by its full name, for error messages.
    pub(super) fn list_all() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|function| function.name()).collect();
        names.join(", ")
    }

    pub(super) fn name(self) -> String {
        format!("String.{}", self.bare_name())
    }

    fn bare_name(self) -> &'static str {
        match self {
            Self::ToLowerCase => "toLowerCase",
            Self::ToUpperCase => "toUpperCase",
            Self::Trim => "trim",
            Self::RemoveSpaces => "removeSpaces",
            Self::SubstringBefore => "substringBefore",
            Self::SubstringAfter => "substringAfter",
            Self::Replace => "replace",
            Self::Append => "append",
        }
    }

    pub(super) fn parameters(self) -> &'static [&'static str] {
        match self {
            Self::ToLowerCase | Self::ToUpperCase | Self::Trim | Self::RemoveSpaces => &["input"],
            Self::SubstringBefore | Self::SubstringAfter => &["input", "separator"],
            Self::Replace => &["input", "match", "replacement"],
            Self::Append => &["input", "suffix"],
        }
    }

    /// Applies the function to one value per parameter. Returns `None` when the result would be
    /// longer than `max_len` bytes, or when `arguments` does not match the parameters (the
    /// parser checks the count, so that does not happen).
    pub(super) fn apply(self, arguments: &[&str], max_len: usize) -> Option<String> {
        let result = match (self, arguments) {
            (Self::ToLowerCase, [input]) => input.to_lowercase(),
            (Self::ToUpperCase, [input]) => input.to_uppercase(),
            (Self::Trim, [input]) => input.trim().to_owned(),
            (Self::RemoveSpaces, [input]) => input.chars().filter(|&c| c != ' ').collect(),
            (Self::SubstringBefore, [input, separator]) => {
                input.split_once(separator).map(|(before, _)| before).unwrap_or_default().to_owned()
            }
            (Self::SubstringAfter, [input, separator]) => {
                input.split_once(separator).map(|(_, after)| after).unwrap_or_default().to_owned()
            }
            (Self::Replace, [input, pattern, replacement]) => replace_within(input, pattern, replacement, max_len)?,
            (Self::Append, [input, suffix]) => {
                if input.len().saturating_add(suffix.len()) > max_len {
                    return None;
                }
                [*input, *suffix].concat()
            }
            _ => return None,
        };
        (result.len() <= max_len).then_some(result)
    }
}

/// Replaces every occurrence of `pattern` in `input`, after checking that the result fits in
/// `max_len` bytes, since a long replacement can multiply the input's length. An empty pattern
/// matches before and after every character.
fn replace_within(input: &str, pattern: &str, replacement: &str, max_len: usize) -> Option<String> {
    let count = input.matches(pattern).count();
    let removed = count.saturating_mul(pattern.len());
    let added = count.saturating_mul(replacement.len());
    let len = input.len().saturating_sub(removed).saturating_add(added);
    (len <= max_len).then(|| input.replace(pattern, replacement))
}
