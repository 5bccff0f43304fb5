//! `google.protobuf.Any` over the Envoy types meshsim models.
//!
//! Known type URLs decode into their typed message; any other type keeps its
//! fields unparsed, so nothing is lost. In proto-JSON an Any is the packed
//! message's own object with `@type` first.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::admin::{
    Bootstrap, BootstrapConfigDump, ClustersConfigDump, EcdsConfigDump, EndpointsConfigDump,
    ListenersConfigDump, RoutesConfigDump, SecretsConfigDump,
};
use super::cluster::Cluster;
use super::core::TypedExtensionConfig;
use super::endpoint::ClusterLoadAssignment;
use super::listener::{HttpConnectionManager, Listener, TcpProxy};
use serde_json::{Map, Value};

use super::proto::{FromJson, Key, Message, Unknown, wrong_kind};
use super::route::RouteConfiguration;
use super::secret::{Secret, SpiffeCertValidatorConfig};

const PREFIX: &str = "type.googleapis.com/";

macro_rules! any_types {
    ($( $variant:ident($ty:ty) = $url:literal ),* $(,)?) => {
        /// An `Any`: a typed message, or an unmodelled one kept as it was read.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Any {
            $( $variant(Box<$ty>), )*
            Other { type_url: String, fields: Unknown },
        }

        impl Any {
            /// The full type URL (`type.googleapis.com/...`).
            pub fn type_url(&self) -> std::borrow::Cow<'_, str> {
                match self {
                    $( Any::$variant(_) => std::borrow::Cow::Owned(format!("{PREFIX}{}", $url)), )*
                    Any::Other { type_url, .. } => std::borrow::Cow::Borrowed(type_url),
                }
            }

            fn read_typed<'de, A: MapAccess<'de>>(type_url: String, map: A) -> Result<Any, A::Error> {
                match type_url.strip_prefix(PREFIX).unwrap_or(&type_url) {
                    $( $url => Ok(Any::$variant(Box::new(<$ty>::from_map(map)?))), )*
                    _ => Ok(Any::Other { type_url, fields: Unknown::from_map(map)? }),
                }
            }

            fn from_entries(
                type_url: String,
                entries: impl Iterator<Item = (String, Value)>,
            ) -> Result<Any, serde_json::Error> {
                match type_url.strip_prefix(PREFIX).unwrap_or(&type_url) {
                    $( $url => Ok(Any::$variant(Box::new(<$ty>::from_entries(entries)?))), )*
                    _ => Ok(Any::Other { type_url, fields: Unknown::from_entries(entries) }),
                }
            }

            fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self {
                    $( Any::$variant(m) => m.serialize_fields(map), )*
                    Any::Other { fields, .. } => fields.serialize_fields(map),
                }
            }
        }
    };
}

any_types! {
    BootstrapConfigDump(BootstrapConfigDump) = "envoy.admin.v3.BootstrapConfigDump",
    ClustersConfigDump(ClustersConfigDump) = "envoy.admin.v3.ClustersConfigDump",
    EcdsConfigDump(EcdsConfigDump) = "envoy.admin.v3.EcdsConfigDump",
    EndpointsConfigDump(EndpointsConfigDump) = "envoy.admin.v3.EndpointsConfigDump",
    ListenersConfigDump(ListenersConfigDump) = "envoy.admin.v3.ListenersConfigDump",
    RoutesConfigDump(RoutesConfigDump) = "envoy.admin.v3.RoutesConfigDump",
    SecretsConfigDump(SecretsConfigDump) = "envoy.admin.v3.SecretsConfigDump",
    Bootstrap(Bootstrap) = "envoy.config.bootstrap.v3.Bootstrap",
    Cluster(Cluster) = "envoy.config.cluster.v3.Cluster",
    ClusterLoadAssignment(ClusterLoadAssignment) = "envoy.config.endpoint.v3.ClusterLoadAssignment",
    Listener(Listener) = "envoy.config.listener.v3.Listener",
    RouteConfiguration(RouteConfiguration) = "envoy.config.route.v3.RouteConfiguration",
    HttpConnectionManager(HttpConnectionManager) = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    TcpProxy(TcpProxy) = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    Secret(Secret) = "envoy.extensions.transport_sockets.tls.v3.Secret",
    SpiffeCertValidatorConfig(SpiffeCertValidatorConfig) = "envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig",
    TypedExtensionConfig(TypedExtensionConfig) = "envoy.config.core.v3.TypedExtensionConfig",
}

impl Unknown {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Unknown, A::Error> {
        let mut out = Unknown::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value()?;
            out.push(key.into_string(), value);
        }
        Ok(out)
    }

    /// Read these fields again as a message of type `T` (istioctl decodes an
    /// HTTP connection manager by filter name, whatever its type URL).
    pub fn reparse<T: Message>(&self) -> Result<T, serde_json::Error> {
        self.to_object()
            .deserialize_map(super::proto::MessageVisitor::<T>::new())
    }
}

impl FromJson for Any {
    fn from_json(value: Value) -> Result<Any, serde_json::Error> {
        let Value::Object(mut map) = value else {
            return Err(wrong_kind("an Any object with @type", &value));
        };
        // `@type` comes first in what Envoy and meshsim write, and is then
        // taken off the entries without touching the others.
        let elsewhere = map
            .keys()
            .next()
            .is_none_or(|k| k != "@type")
            .then(|| map.shift_remove("@type"));
        let mut entries = map.into_iter();
        let url = match elsewhere {
            Some(url) => url,
            None => entries.next().map(|(_, url)| url),
        };
        let type_url = url.map(String::from_json).transpose()?.unwrap_or_default();
        Any::from_entries(type_url, entries)
    }
}

impl Serialize for Any {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("@type", self.type_url().as_ref())?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AnyVisitor;
        impl<'de> Visitor<'de> for AnyVisitor {
            type Value = Any;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an Any object with @type")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
                let Some(first) = map.next_key::<Key<'de>>()? else {
                    return Ok(Any::Other {
                        type_url: String::new(),
                        fields: Unknown::default(),
                    });
                };
                if first.as_str() == "@type" {
                    let type_url: String = map.next_value()?;
                    return Any::read_typed(type_url, map);
                }
                // `@type` not first (hand-written input): collect, then re-read.
                let mut rest = Map::new();
                rest.insert(first.into_string(), map.next_value()?);
                let mut type_url = String::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.as_str() == "@type" {
                        type_url = map.next_value()?;
                    } else {
                        rest.insert(key.into_string(), map.next_value()?);
                    }
                }
                Value::Object(rest)
                    .deserialize_map(TypedVisitor(type_url))
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_map(AnyVisitor)
    }
}

/// Reads the fields of an Any whose type URL is already known.
struct TypedVisitor(String);

impl<'de> Visitor<'de> for TypedVisitor {
    type Value = Any;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Any, A::Error> {
        Any::read_typed(self.0, map)
    }
}
