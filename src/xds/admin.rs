//! `envoy.admin.v3`: what Envoy's admin endpoints print, `/config_dump` and
//! `/clusters?format=json`, and the bootstrap they carry.

use super::any::Any;
use super::core::{Address, Locality, Node};
use super::endpoint::HealthStatus;
use super::proto::{Opaque, U64, message, proto_enum};

message! {
    /// `/config_dump`: one `Any` per section, in Envoy's order.
    pub struct ConfigDump {
        configs: Vec<Any> = "configs" | "configs",
    }
}

message! {
    /// `envoy.admin.v3.BootstrapConfigDump`.
    pub struct BootstrapConfigDump {
        bootstrap: Option<Bootstrap> = "bootstrap" | "bootstrap",
        /// A `Timestamp` in its JSON form.
        last_updated: Option<String> = "last_updated" | "lastUpdated",
    }
}

message! {
    /// `envoy.config.bootstrap.v3.Bootstrap` (only the node is modelled).
    pub struct Bootstrap {
        node: Option<Node> = "node" | "node",
    }
}

message! {
    /// `envoy.admin.v3.ClustersConfigDump`.
    pub struct ClustersConfigDump {
        version_info: String = "version_info" | "versionInfo",
        static_clusters: Vec<StaticResource> = "static_clusters" | "staticClusters",
        dynamic_active_clusters: Vec<DynamicResource> = "dynamic_active_clusters" | "dynamicActiveClusters",
        dynamic_warming_clusters: Vec<DynamicResource> = "dynamic_warming_clusters" | "dynamicWarmingClusters",
    }
}

message! {
    /// A static cluster, listener or route configuration of a dump section
    /// (the payload field is named after the resource).
    pub struct StaticResource {
        cluster: Option<Any> = "cluster" | "cluster",
        listener: Option<Any> = "listener" | "listener",
        route_config: Option<Any> = "route_config" | "routeConfig",
        endpoint_config: Option<Any> = "endpoint_config" | "endpointConfig",
        last_updated: Option<String> = "last_updated" | "lastUpdated",
    }
}

message! {
    /// A dynamic (xDS-delivered) resource of a dump section.
    pub struct DynamicResource {
        version_info: String = "version_info" | "versionInfo",
        cluster: Option<Any> = "cluster" | "cluster",
        route_config: Option<Any> = "route_config" | "routeConfig",
        endpoint_config: Option<Any> = "endpoint_config" | "endpointConfig",
        last_updated: Option<String> = "last_updated" | "lastUpdated",
    }
}

message! {
    /// `envoy.admin.v3.ListenersConfigDump`.
    pub struct ListenersConfigDump {
        version_info: String = "version_info" | "versionInfo",
        static_listeners: Vec<StaticResource> = "static_listeners" | "staticListeners",
        dynamic_listeners: Vec<DynamicListener> = "dynamic_listeners" | "dynamicListeners",
    }
}

message! {
    /// `ListenersConfigDump.DynamicListener`: a listener's states by name.
    pub struct DynamicListener {
        name: String = "name" | "name",
        active_state: Option<DynamicListenerState> = "active_state" | "activeState",
        warming_state: Option<DynamicListenerState> = "warming_state" | "warmingState",
        draining_state: Option<DynamicListenerState> = "draining_state" | "drainingState",
        error_state: Option<Opaque> = "error_state" | "errorState",
    }
}

message! {
    /// `ListenersConfigDump.DynamicListenerState`.
    pub struct DynamicListenerState {
        version_info: String = "version_info" | "versionInfo",
        listener: Option<Any> = "listener" | "listener",
        last_updated: Option<String> = "last_updated" | "lastUpdated",
    }
}

message! {
    /// `envoy.admin.v3.RoutesConfigDump`.
    pub struct RoutesConfigDump {
        static_route_configs: Vec<StaticResource> = "static_route_configs" | "staticRouteConfigs",
        dynamic_route_configs: Vec<DynamicResource> = "dynamic_route_configs" | "dynamicRouteConfigs",
    }
}

message! {
    /// `envoy.admin.v3.EndpointsConfigDump`.
    pub struct EndpointsConfigDump {
        static_endpoint_configs: Vec<StaticResource> = "static_endpoint_configs" | "staticEndpointConfigs",
        dynamic_endpoint_configs: Vec<DynamicResource> = "dynamic_endpoint_configs" | "dynamicEndpointConfigs",
    }
}

message! {
    /// `envoy.admin.v3.SecretsConfigDump`.
    pub struct SecretsConfigDump {
        static_secrets: Vec<SecretEntry> = "static_secrets" | "staticSecrets",
        dynamic_active_secrets: Vec<SecretEntry> = "dynamic_active_secrets" | "dynamicActiveSecrets",
        dynamic_warming_secrets: Vec<SecretEntry> = "dynamic_warming_secrets" | "dynamicWarmingSecrets",
    }
}

message! {
    /// A static or dynamic secret of `SecretsConfigDump`.
    pub struct SecretEntry {
        name: String = "name" | "name",
        version_info: String = "version_info" | "versionInfo",
        last_updated: Option<String> = "last_updated" | "lastUpdated",
        secret: Option<Any> = "secret" | "secret",
    }
}

message! {
    /// `envoy.admin.v3.EcdsConfigDump` (Envoy prints one per extension type).
    pub struct EcdsConfigDump {
        ecds_filters: Vec<EcdsFilterConfig> = "ecds_filters" | "ecdsFilters",
    }
}

message! {
    /// `EcdsConfigDump.EcdsFilterConfig`.
    pub struct EcdsFilterConfig {
        version_info: String = "version_info" | "versionInfo",
        ecds_filter: Option<Any> = "ecds_filter" | "ecdsFilter",
        last_updated: Option<String> = "last_updated" | "lastUpdated",
    }
}

message! {
    /// `/clusters?format=json`: Envoy's runtime view of every cluster's hosts.
    pub struct Clusters {
        cluster_statuses: Vec<ClusterStatus> = "cluster_statuses" | "clusterStatuses",
    }
}

message! {
    /// `envoy.admin.v3.ClusterStatus`.
    pub struct ClusterStatus {
        name: String = "name" | "name",
        added_via_api: bool = "added_via_api" | "addedViaApi",
        success_rate_ejection_threshold: Option<Opaque> = "success_rate_ejection_threshold" | "successRateEjectionThreshold",
        host_statuses: Vec<HostStatus> = "host_statuses" | "hostStatuses",
        local_origin_success_rate_ejection_threshold: Option<Opaque> = "local_origin_success_rate_ejection_threshold" | "localOriginSuccessRateEjectionThreshold",
        circuit_breakers: Option<Opaque> = "circuit_breakers" | "circuitBreakers",
        observability_name: String = "observability_name" | "observabilityName",
        eds_service_name: String = "eds_service_name" | "edsServiceName",
    }
}

message! {
    /// `envoy.admin.v3.HostStatus`.
    pub struct HostStatus {
        address: Option<Address> = "address" | "address",
        stats: Vec<SimpleMetric> = "stats" | "stats",
        health_status: Option<HostHealthStatus> = "health_status" | "healthStatus",
        success_rate: Option<Opaque> = "success_rate" | "successRate",
        weight: u32 = "weight" | "weight",
        hostname: String = "hostname" | "hostname",
        priority: u32 = "priority" | "priority",
        local_origin_success_rate: Option<Opaque> = "local_origin_success_rate" | "localOriginSuccessRate",
        locality: Option<Locality> = "locality" | "locality",
    }
}

proto_enum! {
    /// `SimpleMetric.Type`.
    pub enum MetricType { Counter = "COUNTER", Gauge = "GAUGE" }
}

message! {
    /// `envoy.admin.v3.SimpleMetric`.
    pub struct SimpleMetric {
        r#type: MetricType = "type" | "type",
        value: U64 = "value" | "value",
        name: String = "name" | "name",
    }
}

message! {
    /// `envoy.admin.v3.HostHealthStatus`.
    pub struct HostHealthStatus {
        failed_active_health_check: bool = "failed_active_health_check" | "failedActiveHealthCheck",
        failed_outlier_check: bool = "failed_outlier_check" | "failedOutlierCheck",
        failed_active_degraded_check: bool = "failed_active_degraded_check" | "failedActiveDegradedCheck",
        pending_dynamic_removal: bool = "pending_dynamic_removal" | "pendingDynamicRemoval",
        pending_active_hc: bool = "pending_active_hc" | "pendingActiveHc",
        excluded_via_immediate_hc_fail: bool = "excluded_via_immediate_hc_fail" | "excludedViaImmediateHcFail",
        active_hc_timeout: bool = "active_hc_timeout" | "activeHcTimeout",
        eds_health_status: HealthStatus = "eds_health_status" | "edsHealthStatus",
    }
}
