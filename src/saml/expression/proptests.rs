use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;

/// The profile keys generated expressions read, so that most paths find a value.
const KEYS: [&str; 5] = ["email", "firstName", "login", "groups", "address"];

const FUNCTIONS: [(&str, usize); 8] = [
    ("String.toLowerCase", 1),
    ("toUpperCase", 1),
    ("String.trim", 1),
    ("String.removeSpaces", 1),
    ("String.substringBefore", 2),
    ("substringAfter", 2),
    ("String.replace", 3),
    ("String.append", 2),
];

/// Writes `text` as a double-quoted literal with backslash escapes.
fn quote_with_backslashes(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Writes `text` as a single-quoted literal, doubling quotes as SpEL does and escaping every
/// non-ASCII character as UTF-16 `\uXXXX` units.
fn quote_with_units(text: &str) -> String {
    let mut quoted = String::from('\'');
    for c in text.chars() {
        match c {
            '\'' => quoted.push_str("''"),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => quoted.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    quoted.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    quoted.push('\'');
    quoted
}

fn literal() -> impl Strategy<Value = String> {
    "\\PC{0,12}".prop_map(|text| quote_with_backslashes(&text))
}

fn path() -> impl Strategy<Value = String> {
    (proptest::sample::select(KEYS.to_vec()), any::<bool>(), proptest::option::of("[a-z]{1,6}")).prop_map(
        |(key, upper, nested)| {
            let key = if upper { key.to_uppercase() } else { key.to_owned() };
            match nested {
                Some(inner) => format!("user.{key}.{inner}"),
                None => format!("user.{key}"),
            }
        },
    )
}

/// Generates valid expressions, as source text, of every construct.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![literal(), path(), Just("user[\"login\"]".to_owned())];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|operands| operands.join(" + ")),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|alternatives| alternatives.join(" ?: ")),
            inner.clone().prop_map(|operand| format!("({operand})")),
            (proptest::sample::select(FUNCTIONS.to_vec()), proptest::collection::vec(inner, 3)).prop_map(
                |((name, arity), arguments)| {
                    let arguments: Vec<String> = arguments.into_iter().take(arity).collect();
                    format!("{name}({})", arguments.join(", "))
                }
            ),
        ]
    })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
        "[@. a-zA-Z]{0,16}".prop_map(Value::String),
    ]
}

fn profile_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn profile() -> impl Strategy<Value = Profile> {
    proptest::collection::vec((proptest::sample::select(KEYS.to_vec()), any::<bool>(), profile_value()), 0..8).prop_map(
        |entries| {
            let mut profile = Map::new();
            for (key, upper, value) in entries {
                let key = if upper { key.to_uppercase() } else { key.to_owned() };
                profile.insert(key, value);
            }
            profile
        },
    )
}

/// Generates text made of the language's tokens and near misses, which reaches deeper into the
/// parser than arbitrary characters do.
fn token_soup() -> impl Strategy<Value = String> {
    let pieces = [
        "user",
        ".",
        "email",
        "Login",
        "String",
        "toLowerCase",
        "substringBefore",
        "(",
        ")",
        "[",
        "]",
        ",",
        "+",
        "?:",
        "?",
        ":",
        "\"a\"",
        "'b'",
        "\"",
        "'",
        "\\",
        "\\u",
        "D800",
        " ",
        "appuser",
        "null",
        "1",
    ];
    proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn parse_never_panics_on_printable(source in "\\PC{0,300}") {
        let _ = Expression::parse(&source);
    }

    #[test]
    fn parse_never_panics_on_tokens(source in token_soup()) {
        if let Err(error) = Expression::parse(&source) {
            let length = source.chars().count();
            prop_assert!(error.position <= length, "error position {} past the end ({length}) of {source:?}", error.position);
        }
    }

    #[test]
    fn generated_expressions_evaluate(source in expression(), profile in profile()) {
        let parsed = Expression::parse(&source);
        prop_assert!(parsed.is_ok(), "generated {source:?} failed to parse: {parsed:?}");
        if let Ok(expression) = parsed {
            let values = expression.evaluate(&profile);
            prop_assert!(values.len() <= MAX_VALUES, "{source:?} yielded {} values", values.len());
        }
    }

    #[test]
    fn literal_round_trips_with_backslashes(text in any::<String>()) {
        let parsed = Expression::parse(&quote_with_backslashes(&text));
        let values = parsed.map(|expression| expression.evaluate(&Profile::new()));
        prop_assert_eq!(values, Ok(vec![text]));
    }

    #[test]
    fn literal_round_trips_with_units(text in any::<String>()) {
        let parsed = Expression::parse(&quote_with_units(&text));
        let values = parsed.map(|expression| expression.evaluate(&Profile::new()));
        prop_assert_eq!(values, Ok(vec![text]));
    }
}
