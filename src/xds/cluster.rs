//! `envoy.config.cluster.v3.Cluster`: the upstream clusters of CDS.

use super::core::Metadata;
use super::endpoint::ClusterLoadAssignment;
use super::proto::{Opaque, message, proto_enum};

proto_enum! {
    /// `Cluster.DiscoveryType`.
    pub enum DiscoveryType {
        Static = "STATIC",
        StrictDns = "STRICT_DNS",
        LogicalDns = "LOGICAL_DNS",
        Eds = "EDS",
        OriginalDst = "ORIGINAL_DST",
    }
}

proto_enum! {
    /// `Cluster.LbPolicy`.
    pub enum LbPolicy {
        RoundRobin = "ROUND_ROBIN",
        LeastRequest = "LEAST_REQUEST",
        RingHash = "RING_HASH",
        Random = "RANDOM",
        Maglev = "MAGLEV",
        ClusterProvided = "CLUSTER_PROVIDED",
        LoadBalancingPolicyConfig = "LOAD_BALANCING_POLICY_CONFIG",
    }
}

message! {
    /// `envoy.config.cluster.v3.Cluster` (modelled fields in declaration order).
    pub struct Cluster {
        name: String = "name" | "name",
        alt_stat_name: String = "alt_stat_name" | "altStatName",
        /// `type` in the `cluster_discovery_type` oneof.
        r#type: DiscoveryType = "type" | "type",
        /// A custom cluster type (e.g. aggregate), the oneof's other member.
        cluster_type: Option<Opaque> = "cluster_type" | "clusterType",
        eds_cluster_config: Option<Opaque> = "eds_cluster_config" | "edsClusterConfig",
        /// A `Duration`, in its JSON form (`"10s"`).
        connect_timeout: Option<String> = "connect_timeout" | "connectTimeout",
        lb_policy: LbPolicy = "lb_policy" | "lbPolicy",
        load_assignment: Option<ClusterLoadAssignment> = "load_assignment" | "loadAssignment",
        metadata: Option<Metadata> = "metadata" | "metadata",
    }
}
