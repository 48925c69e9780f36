//! Evaluates a syntax tree against a profile. Every node yields a list of values, and an empty
//! list means the value is missing.

use serde_json::{Map, Value};

use super::parser::Node;
use super::{Profile, MAX_RESULT_BYTES, MAX_VALUES};

pub(super) fn evaluate(node: &Node, profile: &Profile) -> Vec<String> {
    match node {
        Node::Literal(text) => {
            let mut result = Collector::default();
            result.push(text.clone());
            result.values
        }
        Node::Path(keys) => lookup(profile, keys),
        Node::Call { function, arguments } => {
            let Some(lists) = evaluate_all(arguments, profile) else {
                return Vec::new();
            };
            combine(&lists, |parts, room| function.apply(parts, room))
        }
        Node::Concat(operands) => {
            let Some(lists) = evaluate_all(operands, profile) else {
                return Vec::new();
            };
            combine(&lists, concat_within)
        }
        Node::Fallback(alternatives) => fallback(alternatives, profile),
    }
}

/// Evaluates each node in turn. Returns `None` as soon as one is missing, since the caller's
/// result is then missing too.
fn evaluate_all(nodes: &[Node], profile: &Profile) -> Option<Vec<Vec<String>>> {
    let mut lists = Vec::with_capacity(nodes.len());
    for node in nodes {
        let values = evaluate(node, profile);
        if values.is_empty() {
            return None;
        }
        lists.push(values);
    }
    Some(lists)
}

/// Returns the first alternative with a non-empty value, or else the last alternative's values.
fn fallback(alternatives: &[Node], profile: &Profile) -> Vec<String> {
    let mut values = Vec::new();
    for alternative in alternatives {
        values = evaluate(alternative, profile);
        if values.iter().any(|value| !value.is_empty()) {
            return values;
        }
    }
    values
}

/// Applies `join` to every combination of one value from each list, in order with the last list
/// varying fastest, and stops at the result limits.
fn combine(lists: &[Vec<String>], mut join: impl FnMut(&[&str], usize) -> Option<String>) -> Vec<String> {
    let mut result = Collector::default();
    if lists.iter().any(Vec::is_empty) {
        return result.values;
    }

    let mut indices = vec![0usize; lists.len()];
    loop {
        let parts: Vec<&str> =
            lists.iter().zip(&indices).filter_map(|(list, &i)| list.get(i)).map(String::as_str).collect();
        let Some(value) = join(&parts, result.remaining_bytes()) else {
            return result.values;
        };
        if !result.push(value) || !advance(&mut indices, lists) {
            return result.values;
        }
    }
}

/// Steps `indices` to the next combination, like an odometer. Returns false after the last one.
fn advance(indices: &mut [usize], lists: &[Vec<String>]) -> bool {
    for (index, list) in indices.iter_mut().zip(lists).rev() {
        *index += 1;
        if *index < list.len() {
            return true;
        }
        *index = 0;
    }
    false
}

fn concat_within(parts: &[&str], max_len: usize) -> Option<String> {
    let len = parts.iter().fold(0usize, |len, part| len.saturating_add(part.len()));
    (len <= max_len).then(|| parts.concat())
}

/// Resolves a profile path. Each key matches exactly if it can, and otherwise matches the first
/// key in the object's order that is equal to it ignoring case.
fn lookup(profile: &Profile, keys: &[String]) -> Vec<String> {
    let Some((first, rest)) = keys.split_first() else {
        return Vec::new();
    };
    let mut value = find_key(profile, first);
    for key in rest {
        value = value.and_then(Value::as_object).and_then(|object| find_key(object, key));
    }
    value.map(values_of).unwrap_or_default()
}

fn find_key<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| {
        let lower = || key.chars().flat_map(char::to_lowercase);
        object
            .iter()
            .find(|(candidate, _)| candidate.chars().flat_map(char::to_lowercase).eq(lower()))
            .map(|(_, value)| value)
    })
}

/// Converts a profile value to expression values: a string is itself, a number or boolean is
/// its JSON text, and a list yields each of its string, number and boolean elements. Null, an
/// object, and null, object or list elements of a list yield nothing.
fn values_of(value: &Value) -> Vec<String> {
    let mut result = Collector::default();
    match value {
        Value::Array(elements) => {
            for element in elements {
                if let Some(text) = scalar_text(element) {
                    if !result.push(text) {
                        break;
                    }
                }
            }
        }
        other => {
            if let Some(text) = scalar_text(other) {
                result.push(text);
            }
        }
    }
    result.values
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The values of one result, kept within [`MAX_VALUES`] and [`MAX_RESULT_BYTES`].
#[derive(Default)]
struct Collector {
    values: Vec<String>,
    bytes: usize,
}

impl Collector {
    /// Returns how many bytes the next value may have.
    fn remaining_bytes(&self) -> usize {
        MAX_RESULT_BYTES.saturating_sub(self.bytes)
    }

    /// Adds `value` if it fits. Returns false once the result is full, so the caller stops.
    // NOTE: values past a limit are dropped without a trace, because `Expression::evaluate`
    // has no error to return; the module documentation states the limits for administrators.
    fn push(&mut self, value: String) -> bool {
        if self.values.len() >= MAX_VALUES || value.len() > self.remaining_bytes() {
            return false;
        }
        self.bytes += value.len();
        self.values.push(value);
        self.values.len() < MAX_VALUES
    }
}
