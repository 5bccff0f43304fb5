//! `envoy.config.endpoint.v3`: the endpoints of a cluster (EDS).

use super::core::{Address, Locality, Metadata};
use super::proto::{Opaque, message, proto_enum};

message! {
    /// `envoy.config.endpoint.v3.ClusterLoadAssignment`.
    pub struct ClusterLoadAssignment {
        cluster_name: String = "cluster_name" | "clusterName",
        endpoints: Vec<LocalityLbEndpoints> = "endpoints" | "endpoints",
        policy: Option<Policy> = "policy" | "policy",
    }
}

message! {
    /// `ClusterLoadAssignment.Policy`.
    pub struct Policy {
        /// A `UInt32Value`.
        overprovisioning_factor: Option<u32> = "overprovisioning_factor" | "overprovisioningFactor",
    }
}

message! {
    /// `envoy.config.endpoint.v3.LocalityLbEndpoints`.
    pub struct LocalityLbEndpoints {
        locality: Option<Locality> = "locality" | "locality",
        metadata: Option<Metadata> = "metadata" | "metadata",
        lb_endpoints: Vec<LbEndpoint> = "lb_endpoints" | "lbEndpoints",
        /// A `UInt32Value`.
        load_balancing_weight: Option<u32> = "load_balancing_weight" | "loadBalancingWeight",
        priority: u32 = "priority" | "priority",
    }
}

proto_enum! {
    /// `envoy.config.core.v3.HealthStatus`.
    pub enum HealthStatus {
        Unknown = "UNKNOWN",
        Healthy = "HEALTHY",
        Unhealthy = "UNHEALTHY",
        Draining = "DRAINING",
        Timeout = "TIMEOUT",
        Degraded = "DEGRADED",
    }
}

message! {
    /// `envoy.config.endpoint.v3.LbEndpoint`.
    pub struct LbEndpoint {
        endpoint: Option<Endpoint> = "endpoint" | "endpoint",
        endpoint_name: Option<String> = "endpoint_name" | "endpointName",
        health_status: HealthStatus = "health_status" | "healthStatus",
        metadata: Option<Metadata> = "metadata" | "metadata",
        /// A `UInt32Value`.
        load_balancing_weight: Option<u32> = "load_balancing_weight" | "loadBalancingWeight",
    }
}

message! {
    /// `envoy.config.endpoint.v3.Endpoint`.
    pub struct Endpoint {
        address: Option<Address> = "address" | "address",
        health_check_config: Option<Opaque> = "health_check_config" | "healthCheckConfig",
        hostname: String = "hostname" | "hostname",
        additional_addresses: Vec<AdditionalAddress> = "additional_addresses" | "additionalAddresses",
    }
}

message! {
    /// `Endpoint.AdditionalAddress`.
    pub struct AdditionalAddress {
        address: Option<Address> = "address" | "address",
    }
}
