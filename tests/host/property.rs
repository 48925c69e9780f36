//! Envoy's properties (`proxy_get_property`): a tree of typed values, navigated by path
//! segments and serialized as Envoy 1.40's `serializeValue` does.

use serde_json::Value;

use super::guest::encode_pairs;

/// A property value with the type Envoy's expression layer gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Property {
    String(String),
    Bytes(Vec<u8>),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// A value Envoy cannot serialize, such as a JSON `null` in dynamic metadata.
    Null,
    Map(Vec<(String, Property)>),
    List(Vec<Property>),
}

impl Default for Property {
    fn default() -> Self {
        Property::Map(Vec::new())
    }
}

/// Why a property read failed, as a proxy-wasm status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyError {
    NotFound,
    SerializationFailure,
}

impl Property {
    /// Converts JSON as Envoy converts a `google.protobuf.Struct`: every number becomes a
    /// double, and `null` stays a null that cannot be serialized.
    pub fn from_json(value: &Value) -> Property {
        match value {
            Value::Null => Property::Null,
            Value::Bool(b) => Property::Bool(*b),
            Value::Number(n) => Property::Double(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Property::String(s.clone()),
            Value::Array(items) => Property::List(items.iter().map(Property::from_json).collect()),
            Value::Object(map) => Property::Map(map.iter().map(|(k, v)| (k.clone(), Property::from_json(v))).collect()),
        }
    }

    /// Returns the value at `path` below this one: a map by key, a list by decimal index.
    pub fn find(&self, path: &[&str]) -> Option<&Property> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match self {
            Property::Map(entries) => entries.iter().find(|(key, _)| key == first).map(|(_, value)| value),
            Property::List(items) => first.parse::<usize>().ok().and_then(|index| items.get(index)),
            _ => None,
        }?;
        child.find(rest)
    }

    /// Inserts or replaces the value at `path`, creating maps on the way.
    pub fn insert(&mut self, path: &[&str], value: Property) {
        let Some((first, rest)) = path.split_first() else {
            *self = value;
            return;
        };
        if !matches!(self, Property::Map(_)) {
            *self = Property::Map(Vec::new());
        }
        let Property::Map(entries) = self else { return };
        let index = match entries.iter().position(|(key, _)| key == first) {
            Some(index) => index,
            None => {
                entries.push(((*first).to_owned(), Property::Map(Vec::new())));
                entries.len() - 1
            }
        };
        if let Some((_, child)) = entries.get_mut(index) {
            child.insert(rest, value);
        }
    }

    /// Returns the bytes `proxy_get_property` returns: strings raw, numbers as 8 little-endian
    /// bytes, a bool as one byte, maps as pairs of serialized keys and values, lists as pairs
    /// with empty values.
    ///
    /// NOTE: Envoy returns a protobuf message (such as `metadata` itself, or
    /// `metadata.filter_metadata`) as serialized protobuf, which this host returns as pairs.
    /// Only `Struct` values and below (`…filter_metadata.NAMESPACE…`) match Envoy byte for byte.
    pub fn serialize(&self) -> Result<Vec<u8>, PropertyError> {
        match self {
            Property::String(s) => Ok(s.as_bytes().to_vec()),
            Property::Bytes(b) => Ok(b.clone()),
            Property::Int(i) => Ok(i.to_le_bytes().to_vec()),
            Property::Double(d) => Ok(d.to_le_bytes().to_vec()),
            Property::Bool(b) => Ok(vec![u8::from(*b)]),
            Property::Null => Err(PropertyError::SerializationFailure),
            Property::Map(entries) => {
                let pairs = entries
                    .iter()
                    .map(|(key, value)| Ok((key.as_bytes().to_vec(), value.serialize()?)))
                    .collect::<Result<Vec<_>, PropertyError>>()?;
                Ok(encode_pairs(&pairs))
            }
            Property::List(items) => {
                let pairs = items
                    .iter()
                    .map(|item| Ok((item.serialize()?, Vec::new())))
                    .collect::<Result<Vec<_>, PropertyError>>()?;
                Ok(encode_pairs(&pairs))
            }
        }
    }
}

/// Splits a serialized property path: segments separated by NUL bytes.
pub fn split_path(raw: &[u8]) -> Vec<String> {
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|byte| *byte == 0).map(|segment| String::from_utf8_lossy(segment).into_owned()).collect()
}
