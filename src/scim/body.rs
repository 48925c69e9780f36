//! Request bodies: media type, JSON syntax, and the operations a User, Group or PatchOp
//! body requires.
//!
//! SCIM attribute names are case-insensitive (RFC 7643 §2.1), and clients differ: Entra ID
//! sends `"op":"Replace"` and `"value":"False"`, Okta `{"op":"replace","value":{"active":false}}`.
//! The gate therefore matches attribute names in any letter case, and rejects an object with
//! two attributes whose names differ only in case (or not at all), because the upstream
//! service might read the one the gate did not.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::operation::{BodyKind, Operation, OperationSet};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The reason a body was rejected. Messages are fixed texts: they never quote the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not UTF-8 JSON (`scimType` `invalidSyntax`).
    Syntax,
    /// An object has two attributes whose names are equal ignoring case.
    DuplicateAttribute,
    /// Valid JSON that is not the resource or message the endpoint needs
    /// (`scimType` `invalidValue`); the text names what was expected.
    InvalidValue(&'static str),
    /// A PatchOp `remove` without `path` (`scimType` `noTarget`, RFC 7644 §3.5.2.2).
    NoTarget,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax => f.write_str("the request body is not valid UTF-8 JSON"),
            Self::DuplicateAttribute => {
                f.write_str("the request body has an attribute twice (attribute names are case-insensitive)")
            }
            Self::InvalidValue(expected) => write!(f, "the request body is not {expected}"),
            Self::NoTarget => f.write_str("a PATCH \"remove\" operation has no \"path\""),
        }
    }
}

/// Returns whether a `Content-Type` value is JSON: `application/scim+json` or `application/json`,
/// in any letter case, with any parameters, except a `charset` other than UTF-8.
pub fn is_json_media_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim();
    let json =
        essence.eq_ignore_ascii_case("application/scim+json") || essence.eq_ignore_ascii_case("application/json");
    json && parts.all(charset_is_utf8)
}

fn charset_is_utf8(parameter: &str) -> bool {
    let Some((name, value)) = parameter.split_once('=') else { return true };
    if !name.trim().eq_ignore_ascii_case("charset") {
        return true;
    }
    let value = value.trim().trim_matches('"');
    value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
}

/// Reads `body` as the `kind` of document its endpoint needs and returns the operations it
/// requires.
pub fn classify_body(kind: BodyKind, body: &[u8]) -> Result<OperationSet, BodyError> {
    let value = parse_strict(body)?;
    let Value::Object(object) = value else {
        return Err(BodyError::InvalidValue("a JSON object"));
    };

    match kind {
        BodyKind::CreateUser => {
            require_schema(&object, USER_SCHEMA, "a SCIM User")?;
            active_value(&object)?;
            Ok(OperationSet::of(Operation::CreateUsers))
        }
        BodyKind::ReplaceUser => {
            require_schema(&object, USER_SCHEMA, "a SCIM User")?;
            if active_value(&object)? == Some(false) {
                // NOTE: a PUT with `active` false replaces every other attribute as well, and
                // needs only deactivate_users: it is how Okta's wizard-built apps deactivate.
                Ok(OperationSet::of(Operation::DeactivateUsers))
            } else {
                Ok(OperationSet::of(Operation::UpdateUsers))
            }
        }
        BodyKind::PatchUser => patch_user(&object),
        BodyKind::Group => {
            require_schema(&object, GROUP_SCHEMA, "a SCIM Group")?;
            Ok(OperationSet::of(Operation::PushGroups))
        }
        BodyKind::PatchGroup => {
            for operation in patch_operations(&object)? {
                patch_operation_parts(operation)?;
            }
            Ok(OperationSet::of(Operation::PushGroups))
        }
        BodyKind::Search => Ok(OperationSet::of(Operation::Read)),
    }
}

fn patch_user(object: &Map<String, Value>) -> Result<OperationSet, BodyError> {
    let mut required = OperationSet::EMPTY;
    for operation in patch_operations(object)? {
        let (op, path, value) = patch_operation_parts(operation)?;
        let touched = match (op, path) {
            (PatchVerb::Remove, Some(path)) if path_is_active(path) => OperationSet::of(Operation::DeactivateUsers),
            (PatchVerb::Remove, Some(_)) => OperationSet::of(Operation::UpdateUsers),
            (PatchVerb::Remove, None) => return Err(BodyError::NoTarget),
            (_, Some(path)) if path_is_active(path) => activity_operation(scim_bool(value))?,
            (_, Some(_)) => OperationSet::of(Operation::UpdateUsers),
            (_, None) => patch_value_operations(value)?,
        };
        required = required.union(touched);
    }
    Ok(required)
}

/// Returns the operations of an `add` or `replace` without `path`, whose value is an object of
/// attributes (RFC 7644 §3.5.2.1).
fn patch_value_operations(value: Option<&Value>) -> Result<OperationSet, BodyError> {
    let Some(Value::Object(attributes)) = value else {
        return Err(BodyError::InvalidValue("a PatchOp whose operations without \"path\" have an object \"value\""));
    };
    let mut required = match active_value(attributes)? {
        Some(active) => activity_operation(Some(active))?,
        None => OperationSet::EMPTY,
    };
    let other_attributes =
        attributes.iter().any(|(name, nested)| !is_active_name(name) && !is_core_user_object(name, nested));
    let nested_other = core_user_object(attributes).is_some_and(|core| core.keys().any(|name| !is_active_name(name)));
    if other_attributes || nested_other || required.is_empty() {
        required = required.with(Operation::UpdateUsers);
    }
    Ok(required)
}

/// Deactivation when `active` becomes false; reactivation counts as an update.
fn activity_operation(active: Option<bool>) -> Result<OperationSet, BodyError> {
    match active {
        Some(false) => Ok(OperationSet::of(Operation::DeactivateUsers)),
        Some(true) => Ok(OperationSet::of(Operation::UpdateUsers)),
        None => Err(BodyError::InvalidValue("a PatchOp whose \"active\" value is true or false")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchVerb {
    Add,
    Replace,
    Remove,
}

type PatchParts<'a> = (PatchVerb, Option<&'a str>, Option<&'a Value>);

/// Returns the `Operations` of a PatchOp message (RFC 7644 §3.5.2).
fn patch_operations(object: &Map<String, Value>) -> Result<&Vec<Value>, BodyError> {
    require_schema(object, PATCH_OP_SCHEMA, "a SCIM PatchOp")?;
    match get(object, "Operations") {
        Some(Value::Array(operations)) if !operations.is_empty() => Ok(operations),
        _ => Err(BodyError::InvalidValue("a SCIM PatchOp with a non-empty \"Operations\" array")),
    }
}

fn patch_operation_parts(operation: &Value) -> Result<PatchParts<'_>, BodyError> {
    let Value::Object(operation) = operation else {
        return Err(BodyError::InvalidValue("a SCIM PatchOp whose operations are objects"));
    };
    let verb = match get(operation, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => PatchVerb::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => PatchVerb::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => PatchVerb::Remove,
        _ => return Err(BodyError::InvalidValue("a SCIM PatchOp whose \"op\" values are add, replace or remove")),
    };
    let path = match get(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) => Some(path.as_str()),
        Some(_) => return Err(BodyError::InvalidValue("a SCIM PatchOp whose \"path\" values are strings")),
    };
    if verb != PatchVerb::Remove && get(operation, "value").is_none() {
        return Err(BodyError::InvalidValue("a SCIM PatchOp whose add and replace operations have a \"value\""));
    }
    Ok((verb, path, get(operation, "value")))
}

/// Returns whether a PATCH path names the User's `active` attribute: `active`, or the same with
/// the core User schema URN in front (RFC 7644 §3.10). Filters and sub-attributes
/// (`emails[type eq "work"].value`) name other attributes.
fn path_is_active(path: &str) -> bool {
    let path = path.trim();
    let attribute = strip_prefix_ignore_case(path, USER_SCHEMA).and_then(|rest| rest.strip_prefix(':')).unwrap_or(path);
    let name = attribute.split(['.', '[']).next().unwrap_or("");
    name.trim().eq_ignore_ascii_case("active")
}

/// Returns the User's `active` value: a JSON boolean, or the string `"True"` or `"False"`
/// in any case, as Entra ID sends it. It may appear as `active`, with the core schema URN
/// in front, or inside an object named by that URN. A value of another type is invalid.
fn active_value(object: &Map<String, Value>) -> Result<Option<bool>, BodyError> {
    let mut values = object.iter().filter(|(name, _)| is_active_name(name)).map(|(_, value)| value).collect::<Vec<_>>();
    if let Some(core) = core_user_object(object) {
        values.extend(core.iter().filter(|(name, _)| is_active_name(name)).map(|(_, value)| value));
    }

    let mut result = None;
    for value in values {
        let active = match value {
            Value::Null => continue,
            other => scim_bool(Some(other))
                .ok_or(BodyError::InvalidValue("a SCIM User whose \"active\" is true or false"))?,
        };
        // Two spellings that disagree are ambiguous. Deactivation wins, so that the policy
        // requires the stronger permission.
        result = Some(result.unwrap_or(true) && active);
    }
    Ok(result)
}

fn is_active_name(name: &str) -> bool {
    let qualified = strip_prefix_ignore_case(name, USER_SCHEMA).and_then(|rest| rest.strip_prefix(':'));
    name.eq_ignore_ascii_case("active") || qualified.is_some_and(|rest| rest.eq_ignore_ascii_case("active"))
}

fn is_core_user_object(name: &str, value: &Value) -> bool {
    name.eq_ignore_ascii_case(USER_SCHEMA) && value.is_object()
}

fn core_user_object(object: &Map<String, Value>) -> Option<&Map<String, Value>> {
    object.iter().find(|(name, _)| name.eq_ignore_ascii_case(USER_SCHEMA)).and_then(|(_, value)| value.as_object())
}

fn scim_bool(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Requires `schemas` to be an array that lists `schema`. URNs compare case-insensitively.
fn require_schema(object: &Map<String, Value>, schema: &str, expected: &'static str) -> Result<(), BodyError> {
    let listed = match get(object, "schemas") {
        Some(Value::Array(schemas)) => {
            schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema)))
        }
        _ => false,
    };
    if listed {
        Ok(())
    } else {
        Err(BodyError::InvalidValue(expected))
    }
}

/// Looks up an attribute by name in any letter case. [`parse_strict`] has made names unique.
fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Parses JSON, rejecting objects with two names that are equal ignoring ASCII case.
/// serde_json bounds nesting depth at 128.
pub fn parse_strict(body: &[u8]) -> Result<Value, BodyError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = StrictValue::deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(StrictValue(value)) => Ok(value),
        Err(error) if error.to_string().starts_with(DUPLICATE_MARKER) => Err(BodyError::DuplicateAttribute),
        Err(_) => Err(BodyError::Syntax),
    }
}

const DUPLICATE_MARKER: &str = "duplicate attribute";

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if object.keys().any(|existing| existing.eq_ignore_ascii_case(&name)) {
                return Err(de::Error::custom(DUPLICATE_MARKER));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(kind: BodyKind, body: &str) -> Result<String, BodyError> {
        classify_body(kind, body.as_bytes()).map(|set| set.to_string())
    }

    fn patch(operations: &str) -> String {
        format!(r#"{{"schemas":["{PATCH_OP_SCHEMA}"],"Operations":{operations}}}"#)
    }

    #[test]
    fn media_types() {
        let accepted = [
            "application/scim+json",
            "application/scim+json; charset=utf-8",
            "Application/SCIM+JSON;charset=\"UTF-8\"",
            "application/json",
            "application/json; charset=utf8",
        ];
        for value in accepted {
            assert!(is_json_media_type(value), "{value:?} must be accepted");
        }
        let rejected =
            ["text/plain", "application/xml", "", "application/json; charset=iso-8859-1", "application/jsonx"];
        for value in rejected {
            assert!(!is_json_media_type(value), "{value:?} must be rejected");
        }
    }

    #[test]
    fn strict_rejects_duplicates() {
        let result = parse_strict(br#"{"active":true,"Active":false}"#);
        assert_eq!(result, Err(BodyError::DuplicateAttribute));
    }

    #[test]
    fn strict_rejects_nested_duplicates() {
        let result = parse_strict(br#"{"name":{"givenName":"a","givenName":"b"}}"#);
        assert_eq!(result, Err(BodyError::DuplicateAttribute));
    }

    #[test]
    fn strict_rejects_trailing_data() {
        assert_eq!(parse_strict(br#"{"a":1} {"a":2}"#), Err(BodyError::Syntax));
    }

    #[test]
    fn strict_rejects_invalid_utf8() {
        assert_eq!(parse_strict(b"{\"a\":\"\xff\"}"), Err(BodyError::Syntax));
    }

    #[test]
    fn create_user_requires_schema() {
        let result = ops(BodyKind::CreateUser, r#"{"userName":"a"}"#);
        assert_eq!(result, Err(BodyError::InvalidValue("a SCIM User")));
    }

    #[test]
    fn create_user_inactive() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"userName":"a","active":false}}"#);
        assert_eq!(ops(BodyKind::CreateUser, &body).as_deref(), Ok("create_users"));
    }

    #[test]
    fn put_active_false_deactivates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"id":"1","userName":"a","active":false}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn put_active_string_false_deactivates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"userName":"a","Active":"False"}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn put_active_nested_false_deactivates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"{USER_SCHEMA}":{{"active":false}}}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn put_active_qualified_false_deactivates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"{USER_SCHEMA}:active":false}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn put_spellings_disagree_deactivates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"active":true,"{USER_SCHEMA}:active":false}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn put_active_true_updates() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"active":true,"password":"x","groups":[]}}"#);
        assert_eq!(ops(BodyKind::ReplaceUser, &body).as_deref(), Ok("update_users"));
    }

    #[test]
    fn put_active_invalid() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"active":"no"}}"#);
        let result = ops(BodyKind::ReplaceUser, &body);
        assert_eq!(result, Err(BodyError::InvalidValue("a SCIM User whose \"active\" is true or false")));
    }

    #[test]
    fn patch_okta_deactivate() {
        let body = patch(r#"[{"op":"replace","value":{"active":false}}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn patch_entra_deactivate() {
        let body = patch(r#"[{"op":"Replace","path":"active","value":"False"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn patch_qualified_path_deactivate() {
        let body = patch(&format!(r#"[{{"op":"replace","path":"{USER_SCHEMA}:active","value":false}}]"#));
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn patch_reactivate_updates() {
        let body = patch(r#"[{"op":"Replace","path":"active","value":"True"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("update_users"));
    }

    #[test]
    fn patch_remove_active_deactivates() {
        let body = patch(r#"[{"op":"remove","path":"active"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("deactivate_users"));
    }

    #[test]
    fn patch_mixed_needs_both() {
        let body = patch(r#"[{"op":"replace","value":{"active":false,"displayName":"x"}}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("update_users deactivate_users"));
    }

    #[test]
    fn patch_attribute_path_updates() {
        let body = patch(r#"[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@example.com"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("update_users"));
    }

    #[test]
    fn patch_path_active_lookalike_updates() {
        let body = patch(r#"[{"op":"replace","path":"activeSince","value":"2024"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body).as_deref(), Ok("update_users"));
    }

    #[test]
    fn patch_remove_without_path() {
        let body = patch(r#"[{"op":"remove"}]"#);
        assert_eq!(ops(BodyKind::PatchUser, &body), Err(BodyError::NoTarget));
    }

    #[test]
    fn patch_unknown_op() {
        let body = patch(r#"[{"op":"move","path":"x","value":1}]"#);
        assert!(matches!(ops(BodyKind::PatchUser, &body), Err(BodyError::InvalidValue(_))));
    }

    #[test]
    fn patch_empty_operations() {
        let body = patch("[]");
        assert!(matches!(ops(BodyKind::PatchUser, &body), Err(BodyError::InvalidValue(_))));
    }

    #[test]
    fn patch_value_not_object() {
        let body = patch(r#"[{"op":"replace","value":false}]"#);
        assert!(matches!(ops(BodyKind::PatchUser, &body), Err(BodyError::InvalidValue(_))));
    }

    #[test]
    fn patch_active_number_invalid() {
        let body = patch(r#"[{"op":"replace","path":"active","value":0}]"#);
        assert!(matches!(ops(BodyKind::PatchUser, &body), Err(BodyError::InvalidValue(_))));
    }

    #[test]
    fn patch_without_schema() {
        let body = r#"{"Operations":[{"op":"replace","path":"active","value":false}]}"#;
        assert_eq!(ops(BodyKind::PatchUser, body), Err(BodyError::InvalidValue("a SCIM PatchOp")));
    }

    #[test]
    fn patch_group_membership() {
        let body = patch(r#"[{"op":"add","path":"members","value":[{"value":"u1"}]}]"#);
        assert_eq!(ops(BodyKind::PatchGroup, &body).as_deref(), Ok("push_groups"));
    }

    #[test]
    fn group_requires_group_schema() {
        let body = format!(r#"{{"schemas":["{USER_SCHEMA}"],"displayName":"g"}}"#);
        assert_eq!(ops(BodyKind::Group, &body), Err(BodyError::InvalidValue("a SCIM Group")));
    }

    #[test]
    fn search_requires_object() {
        assert_eq!(ops(BodyKind::Search, "[]"), Err(BodyError::InvalidValue("a JSON object")));
    }
}
