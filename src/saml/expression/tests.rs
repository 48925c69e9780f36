use serde_json::{json, Value};

use super::*;

fn profile(value: Value) -> Profile {
    match value {
        Value::Object(map) => map,
        other => panic!("test profile must be a JSON object, got {other}"),
    }
}

/// Parses `source` and evaluates it against the profile `value`.
fn eval(source: &str, value: Value) -> Vec<String> {
    match Expression::parse(source) {
        Ok(expression) => expression.evaluate(&profile(value)),
        Err(error) => panic!("{source:?} should parse, but failed {error}"),
    }
}

/// Parses `source`, which must fail, and returns the error.
fn error(source: &str) -> ExpressionError {
    match Expression::parse(source) {
        Ok(expression) => panic!("{source:?} should be rejected, but parsed as {expression:?}"),
        Err(error) => error,
    }
}

/// Asserts that `source` fails at `position` with a message containing `fragment`.
fn assert_error(source: &str, position: usize, fragment: &str) {
    let error = error(source);
    assert_eq!(error.position, position, "position of the error in {source:?}: {error}");
    assert!(error.message.contains(fragment), "message for {source:?} should contain {fragment:?}: {error}");
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

// Profile paths.

#[test]
fn path_reads_string() {
    assert_eq!(eval("user.email", json!({"email": "ada@example.com"})), strings(&["ada@example.com"]));
}

#[test]
fn path_ignores_key_case() {
    assert_eq!(eval("user.Login", json!({"login": "ada"})), strings(&["ada"]));
    assert_eq!(eval("user.TITLE", json!({"title": "Nurse"})), strings(&["Nurse"]));
}

#[test]
fn path_prefers_exact_case() {
    let value = json!({"login": "lower", "Login": "upper"});
    assert_eq!(eval("user.Login", value.clone()), strings(&["upper"]));
    assert_eq!(eval("user.login", value), strings(&["lower"]));
}

#[test]
fn path_missing_key_is_missing() {
    assert_eq!(eval("user.title", json!({"email": "a"})), Vec::<String>::new());
}

#[test]
fn path_null_is_missing() {
    assert_eq!(eval("user.title", json!({"title": null})), Vec::<String>::new());
}

#[test]
fn path_number_is_json_text() {
    assert_eq!(eval("user.id", json!({"id": 42})), strings(&["42"]));
    assert_eq!(eval("user.ratio", json!({"ratio": 1.5})), strings(&["1.5"]));
}

#[test]
fn path_bool_is_json_text() {
    assert_eq!(eval("user.active", json!({"active": true})), strings(&["true"]));
}

#[test]
fn path_object_is_missing() {
    assert_eq!(eval("user.address", json!({"address": {"locality": "Paris"}})), Vec::<String>::new());
}

#[test]
fn path_list_is_multivalued() {
    let value = json!({"groups": ["a", null, 7, false, {"x": 1}, ["b"], "c"]});
    assert_eq!(eval("user.groups", value), strings(&["a", "7", "false", "c"]));
}

#[test]
fn path_empty_list_is_missing() {
    assert_eq!(eval("user.groups", json!({"groups": []})), Vec::<String>::new());
}

#[test]
fn path_reads_nested_object() {
    let value = json!({"address": {"Locality": "Paris"}});
    assert_eq!(eval("user.address.locality", value), strings(&["Paris"]));
}

#[test]
fn path_through_scalar_is_missing() {
    assert_eq!(eval("user.email.domain", json!({"email": "a@b"})), Vec::<String>::new());
}

#[test]
fn path_bracket_key() {
    assert_eq!(eval("user[\"custom:role\"]", json!({"custom:role": "admin"})), strings(&["admin"]));
    assert_eq!(eval("user['first-name']", json!({"First-Name": "Ada"})), strings(&["Ada"]));
}

#[test]
fn path_mixes_brackets_and_dots() {
    let value = json!({"org": {"x-y": {"name": "Lab"}}});
    assert_eq!(eval("user.org[\"x-y\"].name", value), strings(&["Lab"]));
}

#[test]
fn path_allows_underscore_and_dollar() {
    assert_eq!(eval("user._id$2", json!({"_id$2": "z"})), strings(&["z"]));
}

// String literals.

#[test]
fn literal_double_quoted() {
    assert_eq!(eval("\"Staff\"", json!({})), strings(&["Staff"]));
}

#[test]
fn literal_single_quoted() {
    assert_eq!(eval("'Staff'", json!({})), strings(&["Staff"]));
}

#[test]
fn literal_empty() {
    assert_eq!(eval("\"\"", json!({})), strings(&[""]));
}

#[test]
fn literal_escapes() {
    let source = r#""\\ \" \' \n \r \t""#;
    assert_eq!(eval(source, json!({})), strings(&["\\ \" ' \n \r \t"]));
}

#[test]
fn literal_doubled_quote() {
    assert_eq!(eval("'It''s'", json!({})), strings(&["It's"]));
    assert_eq!(eval("\"say \"\"hi\"\"\"", json!({})), strings(&["say \"hi\""]));
}

#[test]
fn literal_unicode_escape() {
    assert_eq!(eval(r#""caf\u00E9""#, json!({})), strings(&["café"]));
}

#[test]
fn literal_surrogate_pair() {
    assert_eq!(eval(r#""\uD83D\uDE00""#, json!({})), strings(&["\u{1F600}"]));
}

#[test]
fn literal_keeps_raw_unicode() {
    assert_eq!(eval("\"日本 😀\"", json!({})), strings(&["日本 😀"]));
}

// Concatenation, parentheses and whitespace.

#[test]
fn concat_joins_values() {
    let value = json!({"firstName": "Ada", "lastName": "Lovelace"});
    assert_eq!(eval("user.firstName + \" \" + user.lastName", value), strings(&["Ada Lovelace"]));
}

#[test]
fn concat_with_missing_is_missing() {
    let value = json!({"firstName": "Ada", "lastName": null});
    assert_eq!(eval("user.firstName + \" \" + user.lastName", value), Vec::<String>::new());
}

#[test]
fn concat_with_list_is_per_element() {
    let value = json!({"groups": ["a", "b"]});
    assert_eq!(eval("\"group:\" + user.groups", value), strings(&["group:a", "group:b"]));
}

#[test]
fn concat_two_lists_is_product() {
    let value = json!({"x": ["1", "2"], "y": ["a", "b"]});
    assert_eq!(eval("user.x + user.y", value), strings(&["1a", "1b", "2a", "2b"]));
}

#[test]
fn concat_with_number() {
    assert_eq!(eval("\"E\" + user.id", json!({"id": 7})), strings(&["E7"]));
}

#[test]
fn parentheses_group() {
    let value = json!({"a": "x"});
    assert_eq!(eval("((\"<\" + (user.a)) + \">\")", value), strings(&["<x>"]));
}

#[test]
fn whitespace_ignored() {
    let value = json!({"a": "x", "b": "y"});
    assert_eq!(eval("\t user . a\n+\r\n user.b  ", value), strings(&["xy"]));
}

// Functions.

#[test]
fn function_to_lower_case() {
    assert_eq!(
        eval("String.toLowerCase(user.email)", json!({"email": "Ada@Example.COM"})),
        strings(&["ada@example.com"])
    );
}

#[test]
fn function_to_upper_case() {
    assert_eq!(eval("String.toUpperCase(\"straße\")", json!({})), strings(&["STRASSE"]));
}

#[test]
fn function_trim() {
    assert_eq!(eval("String.trim(\" \\t ada \\n\")", json!({})), strings(&["ada"]));
}

#[test]
fn function_remove_spaces() {
    assert_eq!(eval("String.removeSpaces(\"a b  c\")", json!({})), strings(&["abc"]));
}

#[test]
fn function_substring_before() {
    let value = json!({"email": "ada@example.com"});
    assert_eq!(eval("String.substringBefore(user.email, \"@\")", value), strings(&["ada"]));
}

#[test]
fn function_substring_before_not_found() {
    assert_eq!(eval("String.substringBefore(\"ada\", \"@\")", json!({})), strings(&[""]));
}

#[test]
fn function_substring_after() {
    let value = json!({"email": "ada@example.com"});
    assert_eq!(eval("String.substringAfter(user.email, \"@\")", value), strings(&["example.com"]));
}

#[test]
fn function_substring_after_not_found() {
    assert_eq!(eval("String.substringAfter(\"ada\", \"@\")", json!({})), strings(&[""]));
}

#[test]
fn function_replace() {
    assert_eq!(eval("String.replace(\"This is a test\", \"is\", \"at\")", json!({})), strings(&["That at a test"]));
}

#[test]
fn function_replace_is_literal() {
    assert_eq!(eval("String.replace(\"a.b.c\", \".\", \"\")", json!({})), strings(&["abc"]));
}

#[test]
fn function_replace_empty_match() {
    assert_eq!(eval("String.replace(\"ab\", \"\", \"-\")", json!({})), strings(&["-a-b-"]));
}

#[test]
fn function_append() {
    assert_eq!(eval("String.append(\"This is\", \" a test\")", json!({})), strings(&["This is a test"]));
}

#[test]
fn function_without_prefix() {
    assert_eq!(eval("toLowerCase(\"ABC\")", json!({})), strings(&["abc"]));
    assert_eq!(eval("substringAfter(\"a@b\", \"@\")", json!({})), strings(&["b"]));
}

#[test]
fn function_applies_per_value() {
    let value = json!({"groups": ["Admins", "Staff"]});
    assert_eq!(eval("String.toLowerCase(user.groups)", value), strings(&["admins", "staff"]));
}

#[test]
fn function_missing_argument_is_missing() {
    assert_eq!(eval("String.substringBefore(user.email, \"@\")", json!({})), Vec::<String>::new());
    assert_eq!(eval("String.append(\"a\", user.suffix)", json!({})), Vec::<String>::new());
}

#[test]
fn function_nested() {
    let value = json!({"login": "Ada.Lovelace@Example.com"});
    let source = "String.toLowerCase(String.substringBefore(user.login, \"@\"))";
    assert_eq!(eval(source, value), strings(&["ada.lovelace"]));
}

// The fallback operator.

#[test]
fn fallback_uses_left_when_present() {
    assert_eq!(eval("user.title ?: \"Staff\"", json!({"title": "Nurse"})), strings(&["Nurse"]));
}

#[test]
fn fallback_on_null() {
    assert_eq!(eval("user.title ?: \"Staff\"", json!({"title": null})), strings(&["Staff"]));
}

#[test]
fn fallback_on_absent() {
    assert_eq!(eval("user.title ?: \"Staff\"", json!({})), strings(&["Staff"]));
}

#[test]
fn fallback_on_empty_string() {
    assert_eq!(eval("user.title ?: \"Staff\"", json!({"title": ""})), strings(&["Staff"]));
}

#[test]
fn fallback_keeps_list_with_a_value() {
    let value = json!({"groups": ["", "a"]});
    assert_eq!(eval("user.groups ?: \"none\"", value), strings(&["", "a"]));
}

#[test]
fn fallback_chain_takes_first_present() {
    let value = json!({"b": "second", "c": "third"});
    assert_eq!(eval("user.a ?: user.b ?: user.c", value), strings(&["second"]));
}

#[test]
fn fallback_chain_all_missing() {
    assert_eq!(eval("user.a ?: user.b", json!({})), Vec::<String>::new());
    assert_eq!(eval("user.a ?: \"\"", json!({})), strings(&[""]));
}

#[test]
fn fallback_binds_looser_than_concat() {
    let value = json!({"login": "ada"});
    assert_eq!(eval("user.nickName + \"!\" ?: user.login", value), strings(&["ada"]));
}

#[test]
fn fallback_after_substring_before() {
    let source = "String.substringBefore(user.login, \"@\") ?: user.login";
    assert_eq!(eval(source, json!({"login": "ada"})), strings(&["ada"]));
    assert_eq!(eval(source, json!({"login": "ada@x"})), strings(&["ada"]));
}

#[test]
fn fallback_inside_parentheses() {
    let value = json!({"first": "Ada"});
    assert_eq!(eval("(user.nick ?: user.first) + \"!\"", value), strings(&["Ada!"]));
}

// Evaluation limits.

#[test]
fn limit_values_from_long_list() {
    let groups: Vec<String> = (0..MAX_VALUES + 500).map(|i| format!("g{i}")).collect();
    let values = eval("user.groups", json!({ "groups": groups }));
    assert_eq!(values.len(), MAX_VALUES);
    assert_eq!(values.last().map(String::as_str), Some("g999"));
}

#[test]
fn limit_values_from_product() {
    let list: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let values = eval("user.x + user.x + user.x", json!({ "x": list }));
    assert_eq!(values.len(), MAX_VALUES);
    assert_eq!(values.first().map(String::as_str), Some("000"));
}

#[test]
fn limit_bytes_drops_oversized_value() {
    let big = "x".repeat(MAX_RESULT_BYTES + 1);
    assert_eq!(eval("user.big", json!({ "big": big })), Vec::<String>::new());
}

#[test]
fn limit_bytes_stops_long_concat() {
    let half = "x".repeat(MAX_RESULT_BYTES / 2 + 1);
    assert_eq!(eval("user.half + user.half", json!({ "half": half })), Vec::<String>::new());
}

#[test]
fn limit_bytes_stops_replace_growth() {
    let source = "String.replace(user.a, \"\", user.a)";
    assert_eq!(eval(source, json!({ "a": "y".repeat(2000) })), Vec::<String>::new());
}

#[test]
fn limit_bytes_keeps_values_that_fit() {
    let chunk = "x".repeat(MAX_RESULT_BYTES / 4);
    let values =
        eval("user.list", json!({ "list": [chunk.clone(), chunk.clone(), chunk.clone(), chunk.clone(), chunk] }));
    assert_eq!(values.len(), 4);
}

// The public interface.

#[test]
fn source_returns_text() {
    let text = " user.email ?: 'x' ";
    let parsed = Expression::parse(text).map(|expression| expression.source().to_owned());
    assert_eq!(parsed, Ok(text.to_owned()));
}

#[test]
fn error_display_names_position() {
    assert_eq!(
        error("(user.email").to_string(),
        "at position 11: expected a closing ')' for the '(' at position 0, found the end of the expression"
    );
}

#[test]
fn depth_limit_accepts_max() {
    let source = format!("{}\"x\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(eval(&source, json!({})), strings(&["x"]));
}

#[test]
fn depth_limit_rejects_deeper() {
    let source = format!("{}\"x\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_error(&source, MAX_DEPTH, "more than 32 deep");
}

#[test]
fn depth_limit_counts_calls() {
    let source = format!("{}\"x\"{}", "trim(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_error(&source, MAX_DEPTH * 5 + 4, "more than 32 deep");
}

#[test]
fn length_limit_accepts_max() {
    let source = format!("\"{}\"", "a".repeat(MAX_SOURCE_CHARS - 2));
    assert!(Expression::parse(&source).is_ok(), "an expression of exactly {MAX_SOURCE_CHARS} characters");
}

#[test]
fn length_limit_rejects_longer() {
    let source = format!("\"{}\"", "é".repeat(MAX_SOURCE_CHARS - 1));
    assert_error(&source, MAX_SOURCE_CHARS, "more than the maximum of 4096");
}

// Parse errors, each with its position.

#[test]
fn error_empty() {
    assert_error("", 0, "expected a string, a profile path such as user.email, a function call or '(', found the end");
    assert_error("   ", 3, "found the end of the expression");
}

#[test]
fn error_dangling_plus() {
    assert_error("user.email +", 12, "expected a string");
}

#[test]
fn error_dangling_fallback() {
    assert_error("user.email ?: ", 14, "expected a string");
}

#[test]
fn error_unclosed_paren() {
    assert_error("(user.email + \"x\"", 17, "expected a closing ')' for the '(' at position 0");
}

#[test]
fn error_unclosed_paren_before_token() {
    assert_error("(user.email user.login", 12, "expected a closing ')' for the '(' at position 0, found 'user'");
}

#[test]
fn error_unmatched_close_paren() {
    assert_error("user.email)", 10, "expected '+', '?:' or the end of the expression, found ')'");
}

#[test]
fn error_lone_close_paren() {
    assert_error(")", 0, "found ')'");
}

#[test]
fn error_trailing_operand() {
    assert_error("user.email user.login", 11, "expected '+', '?:' or the end of the expression, found 'user'");
}

#[test]
fn error_unclosed_call() {
    assert_error("String.toLowerCase(user.email", 29, "expected ',' or a closing ')' for the '(' at position 18");
}

#[test]
fn error_call_bad_separator() {
    assert_error(
        "String.append(\"a\" \"b\")",
        18,
        "expected ',' or a closing ')' for the '(' at position 13, found a string",
    );
}

#[test]
fn error_call_trailing_comma() {
    assert_error("String.append(\"a\",)", 18, "expected a string");
}

#[test]
fn error_too_few_arguments() {
    assert_error(
        "  String.substringBefore(user.email)",
        2,
        "String.substringBefore takes 2 arguments (input, separator), but 1 was given",
    );
}

#[test]
fn error_no_arguments() {
    assert_error("String.trim()", 0, "String.trim takes 1 argument (input), but 0 were given");
}

#[test]
fn error_too_many_arguments() {
    assert_error("toUpperCase(\"a\", \"b\")", 0, "String.toUpperCase takes 1 argument (input), but 2 were given");
}

#[test]
fn error_unknown_function() {
    assert_error("user.a + String.len(user.a)", 9, "unknown function 'String.len'; use one of String.toLowerCase");
}

#[test]
fn error_unknown_class() {
    assert_error("Arrays.contains(user.groups, \"a\")", 0, "unknown function 'Arrays.contains'");
}

#[test]
fn error_function_name_case() {
    assert_error("String.tolowercase(\"A\")", 0, "unknown function 'String.tolowercase'");
}

#[test]
fn error_unknown_variable() {
    assert_error("appuser.email", 0, "unknown name 'appuser'; profile paths start with 'user.'");
}

#[test]
fn error_keyword_literal() {
    assert_error("user.title ?: null", 14, "unknown name 'null'");
}

#[test]
fn error_bare_user() {
    assert_error("user + \"x\"", 5, "expected '.' and a profile attribute name after 'user'");
}

#[test]
fn error_name_missing_after_dot() {
    assert_error("user.", 5, "expected a name after '.', found the end of the expression");
    assert_error("user. + \"x\"", 6, "expected a name after '.', found '+'");
}

#[test]
fn error_bracket_unquoted() {
    assert_error("user[email]", 5, "expected a quoted attribute name after '['");
}

#[test]
fn error_bracket_unclosed() {
    assert_error("user[\"a\" + \"b\"", 9, "expected a closing ']' for the '[' at position 4, found '+'");
}

#[test]
fn error_unterminated_double_quote() {
    assert_error("user.a + \"abc", 13, "expected a closing '\"' for the string that starts at position 9");
}

#[test]
fn error_unterminated_single_quote() {
    assert_error("'abc", 4, "expected a closing \"'\" for the string that starts at position 0");
}

#[test]
fn error_unterminated_after_backslash() {
    assert_error("\"abc\\", 5, "expected a closing '\"'");
}

#[test]
fn error_unknown_escape() {
    assert_error("\"a\\qb\"", 2, "unknown escape sequence '\\q'");
}

#[test]
fn error_short_unicode_escape() {
    assert_error("\"x\\u12G4\"", 2, "expected four hexadecimal digits after '\\u'");
}

#[test]
fn error_lone_high_surrogate() {
    assert_error("\"\\uD800x\"", 1, "'\\uD800' is half of a UTF-16 surrogate pair");
}

#[test]
fn error_lone_low_surrogate() {
    assert_error("\"\\uDC00\"", 1, "'\\uDC00' is half of a UTF-16 surrogate pair");
}

#[test]
fn error_high_surrogate_pairs_with_non_low() {
    assert_error("\"\\uD800\\u0041\"", 1, "half of a UTF-16 surrogate pair");
}

#[test]
fn error_conditional_operator() {
    assert_error(
        "user.title ? user.title : \"Staff\"",
        11,
        "conditional expressions such as 'a ? b : c' are not supported",
    );
}

#[test]
fn error_comparison() {
    assert_error("user.title == \"x\"", 11, "unexpected character '='");
}

#[test]
fn error_number() {
    assert_error("user.a + 42", 9, "numbers are not supported");
}

#[test]
fn error_non_ascii_identifier() {
    assert_error("user.prénom", 7, "unexpected character 'é'");
}

#[test]
fn error_position_counts_characters() {
    assert_error("\"日本\" + ", 7, "expected a string");
}

#[test]
fn error_control_character_shown_escaped() {
    assert_error("user.a \u{7}", 7, "unexpected character '\\u{7}'");
}
