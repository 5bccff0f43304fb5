//! `envoy.config.core.v3` and friends: the small messages every resource uses
//! (addresses, metadata, data sources, node identity).

use std::collections::BTreeMap;

use super::any::Any;
use super::proto::{Struct, message, proto_enum};

message! {
    /// `envoy.config.core.v3.Address`: one of a socket, a pipe or an internal address.
    pub struct Address {
        socket_address: Option<SocketAddress> = "socket_address" | "socketAddress",
        pipe: Option<Pipe> = "pipe" | "pipe",
        envoy_internal_address: Option<EnvoyInternalAddress> = "envoy_internal_address" | "envoyInternalAddress",
    }
}

impl Address {
    /// A TCP socket address.
    pub fn socket(address: &str, port: u32) -> Address {
        Address {
            socket_address: Some(SocketAddress {
                address: address.to_string(),
                port_value: port,
                ..SocketAddress::default()
            }),
            ..Address::default()
        }
    }
}

proto_enum! {
    /// `SocketAddress.Protocol`.
    pub enum Protocol { Tcp = "TCP", Udp = "UDP" }
}

message! {
    /// `envoy.config.core.v3.SocketAddress`.
    pub struct SocketAddress {
        protocol: Protocol = "protocol" | "protocol",
        address: String = "address" | "address",
        port_value: u32 = "port_value" | "portValue",
        named_port: String = "named_port" | "namedPort",
        resolver_name: String = "resolver_name" | "resolverName",
        ipv4_compat: bool = "ipv4_compat" | "ipv4Compat",
    }
}

message! {
    /// `envoy.config.core.v3.Pipe`: a Unix domain socket.
    pub struct Pipe {
        path: String = "path" | "path",
        mode: u32 = "mode" | "mode",
    }
}

message! {
    /// `envoy.config.core.v3.EnvoyInternalAddress`.
    pub struct EnvoyInternalAddress {
        server_listener_name: String = "server_listener_name" | "serverListenerName",
        endpoint_id: String = "endpoint_id" | "endpointId",
    }
}

message! {
    /// `envoy.config.core.v3.CidrRange`.
    pub struct CidrRange {
        address_prefix: String = "address_prefix" | "addressPrefix",
        /// A `UInt32Value`.
        prefix_len: Option<u32> = "prefix_len" | "prefixLen",
    }
}

message! {
    /// `envoy.config.core.v3.Locality`.
    pub struct Locality {
        region: String = "region" | "region",
        zone: String = "zone" | "zone",
        sub_zone: String = "sub_zone" | "subZone",
    }
}

message! {
    /// `envoy.config.core.v3.Metadata`: per-filter Structs and Anys.
    pub struct Metadata {
        filter_metadata: BTreeMap<String, Struct> = "filter_metadata" | "filterMetadata",
        typed_filter_metadata: BTreeMap<String, Any> = "typed_filter_metadata" | "typedFilterMetadata",
    }
}

impl Metadata {
    /// `filter_metadata[filter][key]` when it is a string.
    pub fn filter_str(&self, filter: &str, key: &str) -> Option<&str> {
        self.filter_metadata.get(filter)?.get_str(key)
    }
}

message! {
    /// `envoy.config.core.v3.DataSource` (`inline_bytes` is base64 text in JSON).
    pub struct DataSource {
        filename: Option<String> = "filename" | "filename",
        inline_bytes: Option<String> = "inline_bytes" | "inlineBytes",
        inline_string: Option<String> = "inline_string" | "inlineString",
        environment_variable: Option<String> = "environment_variable" | "environmentVariable",
    }
}

message! {
    /// `envoy.config.core.v3.TypedExtensionConfig`.
    pub struct TypedExtensionConfig {
        name: String = "name" | "name",
        typed_config: Option<Any> = "typed_config" | "typedConfig",
    }
}

message! {
    /// `envoy.config.core.v3.Node`: the proxy's identity, sent in its bootstrap.
    pub struct Node {
        id: String = "id" | "id",
        cluster: String = "cluster" | "cluster",
        metadata: Option<Struct> = "metadata" | "metadata",
        locality: Option<Locality> = "locality" | "locality",
        user_agent_name: String = "user_agent_name" | "userAgentName",
        user_agent_version: Option<String> = "user_agent_version" | "userAgentVersion",
        user_agent_build_version: Option<BuildVersion> = "user_agent_build_version" | "userAgentBuildVersion",
    }
}

message! {
    /// `envoy.config.core.v3.BuildVersion`.
    pub struct BuildVersion {
        version: Option<SemanticVersion> = "version" | "version",
        metadata: Option<Struct> = "metadata" | "metadata",
    }
}

message! {
    /// `envoy.type.v3.SemanticVersion`.
    pub struct SemanticVersion {
        major_number: u32 = "major_number" | "majorNumber",
        minor_number: u32 = "minor_number" | "minorNumber",
        patch: u32 = "patch" | "patch",
    }
}
