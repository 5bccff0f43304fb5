//! Proto-JSON machinery shared by every Envoy type in this module.
//!
//! Envoy's `/config_dump` writes proto field names (snake_case) in field-number
//! order; istioctl reads both snake_case and lowerCamelCase, and prints
//! lowerCamelCase in declaration order with unset fields left out. The
//! [`message!`] macro gives each type exactly that: a reader that takes either
//! spelling (from text, or moved out of a JSON tree: [`FromJson`]), a writer
//! in declaration order, and an [`Unknown`] bag that keeps every field the
//! type does not model as the JSON it was read as, so a round trip loses
//! nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A proto message: read from a JSON object's entries, written as entries of
/// a JSON object (an `Any` writes `@type` first, then the message's entries).
pub trait Message: Sized {
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
    /// The same from the entries of an object the caller owns: the values
    /// move into place.
    fn from_entries(
        entries: impl Iterator<Item = (String, Value)>,
    ) -> Result<Self, serde_json::Error>;
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Reading from a JSON tree the caller owns, the way generated configuration
/// reaches the views: strings and unmodelled subtrees move into place instead
/// of being printed and read again (most of a large proxy's dump is
/// unmodelled). What serde would read from the tree's text.
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, serde_json::Error>;
}

/// The error for a JSON value of the wrong kind.
pub fn wrong_kind(expected: &str, found: &Value) -> serde_json::Error {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    de::Error::custom(format!("invalid type: {kind}, expected {expected}"))
}

impl<T: Message> FromJson for T {
    fn from_json(value: Value) -> Result<T, serde_json::Error> {
        match value {
            Value::Object(map) => T::from_entries(map.into_iter()),
            other => Err(wrong_kind("an object", &other)),
        }
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: Value) -> Result<Option<T>, serde_json::Error> {
        match value {
            Value::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }
}

/// Lists this long (a large proxy's clusters, listeners, routes or
/// endpoints) are read on every core.
const PARALLEL_LIST: usize = 1024;

impl<T: FromJson + Send> FromJson for Vec<T> {
    fn from_json(value: Value) -> Result<Vec<T>, serde_json::Error> {
        match value {
            Value::Array(items) if items.len() >= PARALLEL_LIST => {
                crate::parallel::map_vec(items, T::from_json)
                    .into_iter()
                    .collect()
            }
            Value::Array(items) => items.into_iter().map(T::from_json).collect(),
            other => Err(wrong_kind("an array", &other)),
        }
    }
}

impl<T: FromJson> FromJson for BTreeMap<String, T> {
    fn from_json(value: Value) -> Result<BTreeMap<String, T>, serde_json::Error> {
        match value {
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| Ok((k, T::from_json(v)?)))
                .collect(),
            other => Err(wrong_kind("a map", &other)),
        }
    }
}

/// Scalars and small types: serde reads them from the tree as it would
/// from text.
macro_rules! from_json_by_serde {
    ($($ty:ty),*) => {
        $(impl FromJson for $ty {
            fn from_json(value: Value) -> Result<$ty, serde_json::Error> {
                serde_json::from_value(value)
            }
        })*
    };
}
from_json_by_serde!(String, bool, u32, U64, Struct);

/// Whether a field holds its proto3 default, which proto-JSON leaves out.
pub trait Field {
    fn is_unset(&self) -> bool;
}

impl Field for String {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

impl Field for bool {
    fn is_unset(&self) -> bool {
        !*self
    }
}

macro_rules! numeric_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn is_unset(&self) -> bool {
                *self == 0
            }
        }
    )*};
}
numeric_field!(u32, i32, i64);

impl<T> Field for Option<T> {
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

impl<T> Field for Vec<T> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Field for BTreeMap<K, V> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

/// Serde visitor that reads any [`Message`].
pub struct MessageVisitor<T>(PhantomData<T>);

impl<T> MessageVisitor<T> {
    pub fn new() -> Self {
        MessageVisitor(PhantomData)
    }
}

impl<T> Default for MessageVisitor<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de, T: Message> Visitor<'de> for MessageVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// Define an Envoy message: fields in proto declaration order, each with its
/// proto name and its JSON (lowerCamelCase) name.
macro_rules! message {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $proto:literal | $json:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Fields this type does not model, as the input wrote them.
            pub unknown: $crate::xds::proto::Unknown,
        }

        impl $crate::xds::proto::Message for $name {
            fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                let mut out = Self::default();
                while let Some(key) = map.next_key::<$crate::xds::proto::Key<'de>>()? {
                    #[allow(unreachable_patterns, reason = "one-word fields have a single name")]
                    match key.as_str() {
                        $( $proto | $json => out.$field = map.next_value()?, )*
                        _ => {
                            let raw = map.next_value()?;
                            out.unknown.push(key.into_string(), raw);
                        }
                    }
                }
                Ok(out)
            }

            fn from_entries(
                entries: impl Iterator<Item = (String, serde_json::Value)>,
            ) -> Result<Self, serde_json::Error> {
                let mut out = Self::default();
                for (key, value) in entries {
                    #[allow(unreachable_patterns, reason = "one-word fields have a single name")]
                    match key.as_str() {
                        $( $proto | $json => out.$field = $crate::xds::proto::FromJson::from_json(value)?, )*
                        _ => out.unknown.push(key, value),
                    }
                }
                Ok(out)
            }

            #[allow(unused_imports, reason = "a message may have no modelled field")]
            fn serialize_fields<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                use $crate::xds::proto::Field as _;
                $( if !self.$field.is_unset() { map.serialize_entry($json, &self.$field)?; } )*
                self.unknown.serialize_fields(map)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut map = s.serialize_map(None)?;
                $crate::xds::proto::Message::serialize_fields(self, &mut map)?;
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_map($crate::xds::proto::MessageVisitor::<Self>::new())
            }
        }
    };
}
pub(crate) use message;

message! {
    /// A message meshsim carries but does not model: all of it is [`Unknown`].
    pub struct Opaque {}
}

/// Define a proto enum: its values by name; the first is the default (0).
/// Names not listed are kept as [`Other`](#variant.Other) text.
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $first:ident = $first_name:literal $(, $variant:ident = $vname:literal)* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub enum $name {
            #[default]
            $first,
            $($variant,)*
            /// A value this enum does not list (a newer name, or a number).
            Other(String),
        }

        impl $name {
            /// The enum value's proto name.
            pub fn name(&self) -> &str {
                match self {
                    $name::$first => $first_name,
                    $($name::$variant => $vname,)*
                    $name::Other(s) => s,
                }
            }

            fn from_name(s: &str) -> Self {
                match s {
                    $first_name => $name::$first,
                    $($vname => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl $crate::xds::proto::Field for $name {
            fn is_unset(&self) -> bool {
                *self == $name::$first
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl $crate::xds::proto::FromJson for $name {
            fn from_json(value: serde_json::Value) -> Result<Self, serde_json::Error> {
                serde_json::from_value(value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = $crate::xds::proto::EnumValue::deserialize(d)?;
                Ok(match v {
                    $crate::xds::proto::EnumValue::Name(s) => $name::from_name(&s),
                    $crate::xds::proto::EnumValue::Number(n) => {
                        const NAMES: &[&str] = &[$first_name $(, $vname)*];
                        // Envoy's enums used here number their values 0..n.
                        match usize::try_from(n).ok().and_then(|i| NAMES.get(i)) {
                            Some(name) => $name::from_name(name),
                            None => $name::Other(n.to_string()),
                        }
                    }
                })
            }
        }
    };
}
pub(crate) use proto_enum;

/// An enum value as JSON may hold it.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum EnumValue {
    Name(String),
    Number(i64),
}

/// An object key, borrowed from the input when it has no escapes.
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Fields a type does not model, in input order, each as the JSON tree it
/// was read as.
///
/// Trees rather than raw text: a generated configuration is handed to the
/// views as `serde_json::Value`s, from which a tree moves here without being
/// printed and read again (most of a large proxy's dump is unmodelled).
/// Written out under their lowerCamelCase names (see [`json_name`]), after the
/// modelled fields: declaration order is only known for modelled fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unknown(Vec<(String, Value)>);

impl Unknown {
    pub fn push(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }

    /// The entries of an object, moved.
    pub fn from_entries(entries: impl Iterator<Item = (String, Value)>) -> Unknown {
        Unknown(entries.collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any string in the values (or any key) contains `needle`.
    pub fn text_contains(&self, needle: &str) -> bool {
        fn within(v: &Value, needle: &str) -> bool {
            match v {
                Value::String(s) => s.contains(needle),
                Value::Array(items) => items.iter().any(|v| within(v, needle)),
                Value::Object(map) => map
                    .iter()
                    .any(|(k, v)| k.contains(needle) || within(v, needle)),
                _ => false,
            }
        }
        self.0.iter().any(|(_, v)| within(v, needle))
    }

    /// The fields as one JSON object.
    pub fn to_object(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    pub fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (key, value) in &self.0 {
            let mut value = value.clone();
            camelize(&mut value);
            map.serialize_entry(json_name(key).as_ref(), &value)?;
        }
        Ok(())
    }
}

/// Objects whose keys are data (proto maps, Structs), not field names.
const DATA_KEYED: &[&str] = &[
    "filter_metadata",
    "filterMetadata",
    "key_values",
    "keyValues",
    "static_layer",
    "staticLayer",
];

/// The proto-JSON name of a proto field name: `typed_config` → `typedConfig`.
/// Only lower-case snake_case names are converted, so map keys such as
/// `ISTIO_VERSION` or `build.type` met in unmodelled parts stay as they are.
pub fn json_name(key: &str) -> Cow<'_, str> {
    let snake = key.contains('_')
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !snake {
        return Cow::Borrowed(key);
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Rename the field names of an unmodelled JSON tree to proto-JSON names.
fn camelize(value: &mut Value) {
    rename_fields(value, &["google.protobuf.Struct"], &|k| {
        json_name(k).into_owned()
    });
}

/// Rename the field names of a JSON tree with `rename`, leaving alone map
/// keys and the `value` of `Any`s whose type ends with one of `structs`.
fn rename_fields(value: &mut Value, structs: &[&str], rename: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            let is_struct_any = map
                .get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| structs.iter().any(|s| t.ends_with(s)));
            let old = std::mem::take(map);
            for (k, mut v) in old {
                let data_keyed =
                    DATA_KEYED.contains(&k.as_str()) || (is_struct_any && k == "value");
                if !data_keyed {
                    rename_fields(&mut v, structs, rename);
                }
                map.insert(rename(&k), v);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rename_fields(v, structs, rename)),
        _ => {}
    }
}

/// Rename the lowerCamelCase field names of proto-JSON written by hand
/// (an EnvoyFilter patch value) to proto field names; `@type`, map keys
/// and Struct contents stay as written.
pub fn snake_case_fields(value: &mut Value) {
    rename_fields(
        value,
        &["google.protobuf.Struct", "TypedStruct"],
        &proto_name,
    );
}

/// `typedConfig` → `typed_config`; anything but a lowerCamelCase
/// identifier (map keys such as `envoy.filters.http.lua`) is kept.
fn proto_name(key: &str) -> String {
    let camel = key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.bytes().all(|b| b.is_ascii_alphanumeric())
        && key.bytes().any(|b| b.is_ascii_uppercase());
    if !camel {
        return key.to_string();
    }
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `google.protobuf.Struct`: a JSON object, written with sorted keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Struct(pub Map<String, Value>);

impl Struct {
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }
}

impl Serialize for Struct {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        let mut entries: Vec<_> = self.0.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in entries {
            map.serialize_entry(k, &SortedValue(v))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Struct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(Struct)
    }
}

/// A `google.protobuf.Value` inside a Struct: objects written with sorted keys.
struct SortedValue<'a>(&'a Value);

impl Serialize for SortedValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in entries {
                    map.serialize_entry(k, &SortedValue(v))?;
                }
                map.end()
            }
            Value::Array(items) => s.collect_seq(items.iter().map(SortedValue)),
            other => other.serialize(s),
        }
    }
}

/// A 64-bit integer field: a quoted decimal in proto-JSON, read from either form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct U64(pub u64);

impl Field for U64 {
    fn is_unset(&self) -> bool {
        self.0 == 0
    }
}

impl Serialize for U64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for U64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(u64),
            S(String),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(U64(n)),
            Either::S(s) => s.parse().map(U64).map_err(de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names() {
        assert_eq!(json_name("typed_config"), "typedConfig");
        assert_eq!(
            json_name("tls_certificate_sds_secret_configs"),
            "tlsCertificateSdsSecretConfigs"
        );
        assert_eq!(json_name("name"), "name");
        assert_eq!(json_name("ISTIO_VERSION"), "ISTIO_VERSION");
        assert_eq!(json_name("@type"), "@type");
    }

    #[test]
    fn proto_names() {
        let mut v = serde_json::json!({
            "typedConfig": {"@type": "x.Lua", "inlineCode": "f", "defaultSourceCode": {"inlineString": "x"}},
            "metadata": {"filterMetadata": {"myKey": {"someField": 1}}},
            "listItems": [{"portValue": 1}],
            "t": {"@type": "udpa.type.v1.TypedStruct", "typeUrl": "u", "value": {"keepMe": 1}},
            "envoy.filters.http.Lua": 1,
        });
        snake_case_fields(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "typed_config": {"@type": "x.Lua", "inline_code": "f", "default_source_code": {"inline_string": "x"}},
                "metadata": {"filter_metadata": {"myKey": {"someField": 1}}},
                "list_items": [{"port_value": 1}],
                "t": {"@type": "udpa.type.v1.TypedStruct", "type_url": "u", "value": {"keepMe": 1}},
                "envoy.filters.http.Lua": 1,
            })
        );
    }
}
