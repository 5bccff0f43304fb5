//! `envoy.config.route.v3`: route configurations, virtual hosts and routes.

use super::core::Metadata;
use super::proto::{Opaque, message};

message! {
    /// `envoy.config.route.v3.RouteConfiguration`.
    pub struct RouteConfiguration {
        name: String = "name" | "name",
        virtual_hosts: Vec<VirtualHost> = "virtual_hosts" | "virtualHosts",
        /// A `BoolValue`.
        validate_clusters: Option<bool> = "validate_clusters" | "validateClusters",
    }
}

message! {
    /// `envoy.config.route.v3.VirtualHost`.
    pub struct VirtualHost {
        name: String = "name" | "name",
        domains: Vec<String> = "domains" | "domains",
        routes: Vec<Route> = "routes" | "routes",
    }
}

message! {
    /// `envoy.config.route.v3.Route`.
    pub struct Route {
        name: String = "name" | "name",
        r#match: Option<RouteMatch> = "match" | "match",
        route: Option<RouteAction> = "route" | "route",
        redirect: Option<Opaque> = "redirect" | "redirect",
        direct_response: Option<Opaque> = "direct_response" | "directResponse",
        metadata: Option<Metadata> = "metadata" | "metadata",
        decorator: Option<Opaque> = "decorator" | "decorator",
    }
}

message! {
    /// `envoy.config.route.v3.RouteMatch`; the path specifier is a oneof.
    pub struct RouteMatch {
        prefix: Option<String> = "prefix" | "prefix",
        path: Option<String> = "path" | "path",
        safe_regex: Option<RegexMatcher> = "safe_regex" | "safeRegex",
        connect_matcher: Option<Opaque> = "connect_matcher" | "connectMatcher",
        path_separated_prefix: Option<String> = "path_separated_prefix" | "pathSeparatedPrefix",
        path_match_policy: Option<Opaque> = "path_match_policy" | "pathMatchPolicy",
    }
}

message! {
    /// `envoy.type.matcher.v3.RegexMatcher`.
    pub struct RegexMatcher {
        regex: String = "regex" | "regex",
    }
}

message! {
    /// `envoy.config.route.v3.RouteAction`; the cluster specifier is a oneof.
    pub struct RouteAction {
        cluster: Option<String> = "cluster" | "cluster",
        cluster_header: Option<String> = "cluster_header" | "clusterHeader",
        weighted_clusters: Option<Opaque> = "weighted_clusters" | "weightedClusters",
        /// A `Duration`, in its JSON form.
        timeout: Option<String> = "timeout" | "timeout",
    }
}
