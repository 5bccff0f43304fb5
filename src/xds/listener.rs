//! `envoy.config.listener.v3` plus the two network filters istioctl looks
//! into: the HTTP connection manager and the TCP proxy.

use super::any::Any;
use super::core::{Address, CidrRange, Metadata};
use super::proto::{Opaque, message, proto_enum};
use super::route::RouteConfiguration;

/// The HTTP connection manager's filter name.
pub const HTTP_CONNECTION_MANAGER: &str = "envoy.filters.network.http_connection_manager";
/// The TCP proxy's filter name.
pub const TCP_PROXY: &str = "envoy.filters.network.tcp_proxy";

proto_enum! {
    /// `envoy.config.core.v3.TrafficDirection`.
    pub enum TrafficDirection { Unspecified = "UNSPECIFIED", Inbound = "INBOUND", Outbound = "OUTBOUND" }
}

message! {
    /// `envoy.config.listener.v3.Listener`.
    pub struct Listener {
        name: String = "name" | "name",
        address: Option<Address> = "address" | "address",
        additional_addresses: Vec<AdditionalAddress> = "additional_addresses" | "additionalAddresses",
        stat_prefix: String = "stat_prefix" | "statPrefix",
        filter_chains: Vec<FilterChain> = "filter_chains" | "filterChains",
        filter_chain_matcher: Option<Opaque> = "filter_chain_matcher" | "filterChainMatcher",
        /// A `BoolValue`.
        use_original_dst: Option<bool> = "use_original_dst" | "useOriginalDst",
        default_filter_chain: Option<FilterChain> = "default_filter_chain" | "defaultFilterChain",
        metadata: Option<Metadata> = "metadata" | "metadata",
        listener_filters: Vec<ListenerFilter> = "listener_filters" | "listenerFilters",
        traffic_direction: TrafficDirection = "traffic_direction" | "trafficDirection",
        /// A `BoolValue`.
        bind_to_port: Option<bool> = "bind_to_port" | "bindToPort",
        internal_listener: Option<Opaque> = "internal_listener" | "internalListener",
    }
}

message! {
    /// `envoy.config.listener.v3.AdditionalAddress`.
    pub struct AdditionalAddress {
        address: Option<Address> = "address" | "address",
    }
}

message! {
    /// `envoy.config.listener.v3.ListenerFilter`.
    pub struct ListenerFilter {
        name: String = "name" | "name",
        typed_config: Option<Any> = "typed_config" | "typedConfig",
    }
}

message! {
    /// `envoy.config.listener.v3.FilterChain`.
    pub struct FilterChain {
        filter_chain_match: Option<FilterChainMatch> = "filter_chain_match" | "filterChainMatch",
        filters: Vec<Filter> = "filters" | "filters",
        metadata: Option<Metadata> = "metadata" | "metadata",
        transport_socket: Option<TransportSocket> = "transport_socket" | "transportSocket",
        name: String = "name" | "name",
    }
}

message! {
    /// `envoy.config.listener.v3.FilterChainMatch`.
    pub struct FilterChainMatch {
        /// A `UInt32Value`: set (even to 0) or not.
        destination_port: Option<u32> = "destination_port" | "destinationPort",
        prefix_ranges: Vec<CidrRange> = "prefix_ranges" | "prefixRanges",
        server_names: Vec<String> = "server_names" | "serverNames",
        transport_protocol: String = "transport_protocol" | "transportProtocol",
        application_protocols: Vec<String> = "application_protocols" | "applicationProtocols",
    }
}

message! {
    /// `envoy.config.core.v3.TransportSocket`.
    pub struct TransportSocket {
        name: String = "name" | "name",
        typed_config: Option<Any> = "typed_config" | "typedConfig",
    }
}

message! {
    /// `envoy.config.listener.v3.Filter`: a network filter.
    pub struct Filter {
        name: String = "name" | "name",
        typed_config: Option<Any> = "typed_config" | "typedConfig",
    }
}

message! {
    /// `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`.
    pub struct HttpConnectionManager {
        stat_prefix: String = "stat_prefix" | "statPrefix",
        rds: Option<Rds> = "rds" | "rds",
        route_config: Option<RouteConfiguration> = "route_config" | "routeConfig",
        http_filters: Vec<HttpFilter> = "http_filters" | "httpFilters",
    }
}

message! {
    /// `HttpConnectionManager`'s `Rds`: where the routes come from.
    pub struct Rds {
        config_source: Option<Opaque> = "config_source" | "configSource",
        route_config_name: String = "route_config_name" | "routeConfigName",
    }
}

message! {
    /// `HttpFilter`.
    pub struct HttpFilter {
        name: String = "name" | "name",
        typed_config: Option<Any> = "typed_config" | "typedConfig",
        is_optional: bool = "is_optional" | "isOptional",
        disabled: bool = "disabled" | "disabled",
    }
}

message! {
    /// `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`.
    pub struct TcpProxy {
        stat_prefix: String = "stat_prefix" | "statPrefix",
        cluster: Option<String> = "cluster" | "cluster",
        weighted_clusters: Option<Opaque> = "weighted_clusters" | "weightedClusters",
    }
}

impl TcpProxy {
    /// Whether any text in the proxy's config names `BlackHoleCluster`:
    /// istioctl does not count such proxies (it searches the encoded bytes).
    pub fn mentions_blackhole(&self) -> bool {
        const BLACKHOLE: &str = "BlackHoleCluster";
        self.stat_prefix.contains(BLACKHOLE)
            || self
                .cluster
                .as_deref()
                .is_some_and(|c| c.contains(BLACKHOLE))
            || self
                .weighted_clusters
                .as_ref()
                .is_some_and(|w| w.unknown.text_contains(BLACKHOLE))
            || self.unknown.text_contains(BLACKHOLE)
    }
}
