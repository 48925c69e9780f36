//! Attribute value expressions: the language that computes a SAML attribute's values, and the
//! NameID, from the user's profile.
//!
//! The syntax follows the Okta Expression Language, so that an expression an SP's setup guide
//! gives for Okta, such as `String.toLowerCase(user.firstName + "." + user.lastName)`, works
//! here unchanged when it uses only the subset described below. The one addition is the
//! fallback operator `?:`.
//!
//! # Examples
//!
//! | expression | profile | values |
//! |---|---|---|
//! | `user.email` | `{"email": "ada@example.com"}` | `ada@example.com` |
//! | `user.Login` | `{"login": "ada"}` | `ada` |
//! | `user.firstName + " " + user.lastName` | `{"firstName": "Ada", "lastName": "Lovelace"}` | `Ada Lovelace` |
//! | `String.substringBefore(user.email, "@")` | `{"email": "ada@example.com"}` | `ada` |
//! | `user.title ?: "Staff"` | `{"title": null}` | `Staff` |
//! | `"group:" + user.groups` | `{"groups": ["a", "b"]}` | `group:a`, `group:b` |
//! | `user["custom:role"]` | `{"custom:role": "admin"}` | `admin` |
//! | `user.address.locality` | `{"address": {"locality": "Paris"}}` | `Paris` |
//!
//! # Grammar
//!
//! ```text
//! expression = concat { "?:" concat } ;
//! concat     = operand { "+" operand } ;
//! operand    = string | path | call | "(" expression ")" ;
//! path       = "user" key { key } ;
//! key        = "." name | "[" string "]" ;
//! call       = [ "String." ] name "(" [ expression { "," expression } ] ")" ;
//! name       = ( letter | "_" | "$" ) { letter | digit | "_" | "$" } ;   (ASCII only)
//! string     = '"' { character } '"' | "'" { character } "'" ;
//! ```
//!
//! Whitespace between tokens is ignored. `+` binds tighter than `?:`, so
//! `user.nickName + "!" ?: user.login` falls back on the login when the nickname is missing.
//!
//! Inside a string, a backslash starts an escape sequence: `\\`, `\"`, `\'`, `\n`, `\r`, `\t`,
//! or `\uXXXX` with four hexadecimal digits (a character outside the Basic Multilingual Plane
//! is written as its UTF-16 surrogate pair, `\uD83D\uDE00`, or as itself). As in SpEL, a quote
//! doubled inside a string of the same quotes is one literal quote: `'It''s'` is `It's`.
//!
//! Numbers, booleans, `null`, comparisons, the conditional operator `a ? b : c` and variables
//! other than `user` (such as Okta's `appuser` or `org`) are not supported, and are rejected
//! with a parse error.
//!
//! # Profile paths
//!
//! `user.KEY` reads the key `KEY` of the profile, the JSON object that describes the user. Each
//! key matches exactly when the profile has it, and otherwise matches the first key in the
//! profile's order that is equal to it ignoring case: `user.Login` reads `login`, because SP
//! guides often capitalize Okta's attribute names. A key that is not a name, such as
//! `custom:role`, is written in brackets: `user["custom:role"]`. Further keys read inside a
//! nested object: `user.address.locality`.
//!
//! # Values
//!
//! An expression yields a list of values. An empty list means the value is missing, and the
//! caller then leaves the attribute out.
//!
//! - A profile string is one value, and a number or boolean is one value, its JSON text
//!   (`42`, `true`).
//! - A null, a missing key, and an object are missing.
//! - A list is one value per element. Its string, number and boolean elements count, and its
//!   null, list and object elements are skipped.
//!
//! `+` and the functions work on one value from each operand at a time:
//!
//! - When any operand is missing, the result is missing. It is never the text `null`.
//! - Otherwise the result has one value per combination of the operands' values, in order, with
//!   the rightmost operand varying fastest. So `"group:" + user.groups` yields one value per
//!   group, and `user.a + user.b` with two values each yields four.
//!
//! `a ?: b` yields `a` when `a` has at least one value that is not the empty string, and
//! otherwise `b`. As with SpEL's Elvis operator, an empty string counts as missing. A chain
//! `a ?: b ?: c` tries each alternative in turn and yields the last one when none has a value.
//!
//! # Functions
//!
//! Each name may be written with or without the `String.` prefix: `toLowerCase(user.email)`
//! equals `String.toLowerCase(user.email)`. Names are case-sensitive.
//!
//! | function | result |
//! |---|---|
//! | `String.toLowerCase(input)` | `input` in lower case (Unicode rules) |
//! | `String.toUpperCase(input)` | `input` in upper case (Unicode rules) |
//! | `String.trim(input)` | `input` without leading and trailing Unicode whitespace |
//! | `String.removeSpaces(input)` | `input` without any space character (U+0020) |
//! | `String.substringBefore(input, separator)` | the text before the first `separator`, or `""` when `input` does not contain it |
//! | `String.substringAfter(input, separator)` | the text after the first `separator`, or `""` when `input` does not contain it |
//! | `String.replace(input, match, replacement)` | `input` with every occurrence of the text `match` replaced (`match` is plain text, not a regular expression) |
//! | `String.append(input, suffix)` | `input + suffix` |
//!
//! Because a separator that is not found yields `""`, the expression
//! `String.substringBefore(user.login, "@") ?: user.login` yields the login itself when it has
//! no `@`.
//!
//! # Limits
//!
//! An expression may have at most [`MAX_SOURCE_CHARS`] characters and nest parentheses and
//! function calls at most [`MAX_DEPTH`] deep, so that a hostile configuration cannot exhaust
//! the stack. Each step of an evaluation keeps at most [`MAX_VALUES`] values and
//! [`MAX_RESULT_BYTES`] bytes in total, and drops the values past either limit, so that a
//! large profile list or a long chain of combinations cannot exhaust memory.

mod evaluation;
mod functions;
mod lexer;
mod parser;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde_json::Value;

/// A user profile: the JSON object an expression reads as `user`.
pub type Profile = serde_json::Map<String, Value>;

/// The maximum length of an expression, in characters.
pub const MAX_SOURCE_CHARS: usize = 4096;

/// The maximum number of parentheses and function calls that may enclose one another.
pub const MAX_DEPTH: usize = 32;

/// The maximum number of values an evaluation step keeps.
pub const MAX_VALUES: usize = 1000;

/// The maximum total length, in bytes, of the values an evaluation step keeps.
pub const MAX_RESULT_BYTES: usize = 1 << 20;

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

/// A parsed attribute value expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    source: String,
    root: parser::Node,
}

impl Expression {
    /// Parses `source`, rejecting it with the position and cause of the first error.
    pub fn parse(source: &str) -> Result<Self, ExpressionError> {
        let length = source.chars().count();
        if length > MAX_SOURCE_CHARS {
            return Err(ExpressionError {
                position: MAX_SOURCE_CHARS,
                message: format!(
                    "the expression has {length} characters, more than the maximum of \
                     {MAX_SOURCE_CHARS}; shorten it"
                ),
            });
        }
        let root = parser::parse(source)?;
        Ok(Self { source: source.to_owned(), root })
    }

    /// Returns the text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `profile`. An empty result means the value is missing.
    pub fn evaluate(&self, profile: &Profile) -> Vec<String> {
        evaluation::evaluate(&self.root, profile)
    }
}
