//! Istio kinds (networking, security, telemetry, extensions), as served by
//! Istio 1.31. Field names follow istio.io/api as its CRDs serve them
//! (camelCase JSON names).
//!
//! Every message is typed down to its leaves so that a field the real API
//! does not have is reported by the loader rather than dropped; only fields
//! that are free-form in the API itself (EnvoyFilter patch values, WasmPlugin
//! configuration, `google.protobuf.Struct`) are JSON values. Durations stay
//! strings ("5s") and enums stay strings: judging them is a later stage's job,
//! and an odd value must not make a whole object fail to load. No defaults are
//! applied here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::meta::kube_kind;

/// Declares a plain API message: every field optional on input (the struct's
/// `Default` fills what is missing, and `field:` with no value counts as
/// missing, as the API server reads it), camelCase on the wire. Shared by the
/// Istio, Gateway API and MeshConfig models.
macro_rules! api_struct {
    ($(#[$attr:meta])* $name:ident { $($(#[$fattr:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(default, rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$fattr])*
                #[serde(deserialize_with = "crate::model::meta::nullable")]
                pub $field: $ty,
            )*
        }
    };
}
pub(crate) use api_struct;

type Labels = BTreeMap<String, String>;

// ---------------------------------------------------------------------------
// Shared messages

api_struct!(
    /// `networking.v1.WorkloadSelector`: `labels` (Sidecar, EnvoyFilter, ServiceEntry).
    WorkloadSelector { labels: Labels }
);

api_struct!(
    /// `type.v1beta1.WorkloadSelector`: `matchLabels` (security, telemetry,
    /// extensions, ProxyConfig, DestinationRule).
    MatchLabelsSelector { match_labels: Labels }
);

api_struct!(
    /// `type.v1beta1.PolicyTargetReference`.
    PolicyTargetReference { group: Option<String>, kind: Option<String>, name: String, namespace: Option<String> }
);

api_struct!(
    /// `networking.PortSelector`.
    PortSelector { number: Option<u32> }
);

api_struct!(
    /// A port of a Gateway server, ServiceEntry or Sidecar listener.
    Port { number: Option<u32>, protocol: Option<String>, name: Option<String>, target_port: Option<u32> }
);

api_struct!(
    /// Where traffic goes: a host in the registry, a subset, a port.
    Destination { host: String, subset: Option<String>, port: Option<PortSelector> }
);

api_struct!(
    /// `StringMatch`: one of exact, prefix, regex.
    StringMatch { exact: Option<String>, prefix: Option<String>, regex: Option<String> }
);

api_struct!(Percent { value: Option<f64> });

// ---------------------------------------------------------------------------
// VirtualService

kube_kind!(
    /// networking.istio.io VirtualService.
    VirtualService { spec: VirtualServiceSpec, status: Option<Value> }
);

api_struct!(VirtualServiceSpec {
    hosts: Vec<String>,
    gateways: Vec<String>,
    http: Vec<HttpRoute>,
    tls: Vec<TlsRoute>,
    tcp: Vec<TcpRoute>,
    export_to: Vec<String>,
});

api_struct!(HttpRoute {
    name: Option<String>,
    r#match: Vec<HttpMatchRequest>,
    route: Vec<HttpRouteDestination>,
    redirect: Option<HttpRedirect>,
    direct_response: Option<HttpDirectResponse>,
    delegate: Option<Delegate>,
    rewrite: Option<HttpRewrite>,
    timeout: Option<String>,
    retries: Option<HttpRetry>,
    fault: Option<HttpFaultInjection>,
    mirror: Option<Destination>,
    mirrors: Vec<HttpMirrorPolicy>,
    /// Deprecated; `mirrorPercentage` replaces it.
    mirror_percent: Option<u32>,
    /// The same, spelled as the CRD also serves it.
    #[serde(rename = "mirror_percent")]
    mirror_percent_snake: Option<u32>,
    mirror_percentage: Option<Percent>,
    cors_policy: Option<CorsPolicy>,
    headers: Option<Headers>,
});

api_struct!(HttpMatchRequest {
    name: Option<String>,
    uri: Option<StringMatch>,
    scheme: Option<StringMatch>,
    method: Option<StringMatch>,
    authority: Option<StringMatch>,
    headers: BTreeMap<String, StringMatch>,
    port: Option<u32>,
    source_labels: Labels,
    gateways: Vec<String>,
    query_params: BTreeMap<String, StringMatch>,
    ignore_uri_case: Option<bool>,
    without_headers: BTreeMap<String, StringMatch>,
    source_namespace: Option<String>,
    stat_prefix: Option<String>,
});

api_struct!(HttpRouteDestination { destination: Destination, weight: Option<i32>, headers: Option<Headers> });

api_struct!(Headers { request: Option<HeaderOperations>, response: Option<HeaderOperations> });

api_struct!(HeaderOperations { set: Labels, add: Labels, remove: Vec<String> });

api_struct!(HttpRedirect {
    uri: Option<String>,
    authority: Option<String>,
    port: Option<u32>,
    derive_port: Option<String>,
    scheme: Option<String>,
    redirect_code: Option<u32>,
    prefix_rewrite: Option<String>,
});

api_struct!(HttpDirectResponse { status: Option<u32>, body: Option<HttpBody> });

api_struct!(HttpBody { string: Option<String>, bytes: Option<String> });

api_struct!(Delegate { name: Option<String>, namespace: Option<String> });

api_struct!(HttpRewrite { uri: Option<String>, authority: Option<String>, uri_regex_rewrite: Option<RegexRewrite> });

api_struct!(RegexRewrite { r#match: Option<String>, rewrite: Option<String> });

api_struct!(HttpRetry {
    attempts: Option<i32>,
    per_try_timeout: Option<String>,
    retry_on: Option<String>,
    retry_remote_localities: Option<bool>,
    retry_ignore_previous_hosts: Option<bool>,
    backoff: Option<String>,
});

api_struct!(HttpFaultInjection { delay: Option<FaultDelay>, abort: Option<FaultAbort> });

api_struct!(FaultDelay {
    fixed_delay: Option<String>,
    exponential_delay: Option<String>,
    percentage: Option<Percent>,
    /// Deprecated integer percentage.
    percent: Option<i32>,
});

api_struct!(FaultAbort {
    http_status: Option<i32>,
    grpc_status: Option<String>,
    http2_error: Option<String>,
    percentage: Option<Percent>,
});

api_struct!(HttpMirrorPolicy { destination: Destination, percentage: Option<Percent> });

api_struct!(CorsPolicy {
    /// Deprecated exact-match list; `allowOrigins` replaces it.
    allow_origin: Vec<String>,
    allow_origins: Vec<StringMatch>,
    allow_methods: Vec<String>,
    allow_headers: Vec<String>,
    expose_headers: Vec<String>,
    max_age: Option<String>,
    allow_credentials: Option<bool>,
    unmatched_preflights: Option<String>,
});

api_struct!(TlsRoute { r#match: Vec<TlsMatchAttributes>, route: Vec<RouteDestination> });

api_struct!(TlsMatchAttributes {
    sni_hosts: Vec<String>,
    destination_subnets: Vec<String>,
    port: Option<u32>,
    source_labels: Labels,
    gateways: Vec<String>,
    source_namespace: Option<String>,
});

api_struct!(TcpRoute { r#match: Vec<L4MatchAttributes>, route: Vec<RouteDestination> });

api_struct!(L4MatchAttributes {
    destination_subnets: Vec<String>,
    port: Option<u32>,
    source_subnet: Option<String>,
    source_labels: Labels,
    gateways: Vec<String>,
    source_namespace: Option<String>,
});

api_struct!(RouteDestination { destination: Destination, weight: Option<i32> });

// ---------------------------------------------------------------------------
// DestinationRule

kube_kind!(
    /// networking.istio.io DestinationRule.
    DestinationRule { spec: DestinationRuleSpec, status: Option<Value> }
);

api_struct!(DestinationRuleSpec {
    host: String,
    traffic_policy: Option<TrafficPolicy>,
    subsets: Vec<Subset>,
    export_to: Vec<String>,
    workload_selector: Option<MatchLabelsSelector>,
});

api_struct!(Subset { name: String, labels: Labels, traffic_policy: Option<TrafficPolicy> });

api_struct!(TrafficPolicy {
    load_balancer: Option<LoadBalancerSettings>,
    connection_pool: Option<ConnectionPoolSettings>,
    outlier_detection: Option<OutlierDetection>,
    tls: Option<ClientTlsSettings>,
    port_level_settings: Vec<PortTrafficPolicy>,
    tunnel: Option<TunnelSettings>,
    proxy_protocol: Option<ProxyProtocol>,
    retry_budget: Option<RetryBudget>,
});

impl TrafficPolicy {
    /// Whether it hashes consistently anywhere (top level or a port's
    /// settings): the only part of a DestinationRule that routes read.
    pub fn hashes(&self) -> bool {
        self.any_load_balancer(|lb| lb.consistent_hash.is_some())
    }

    /// Whether it balances load by the original destination anywhere
    /// (top level or a port's settings).
    pub fn passes_through(&self) -> bool {
        self.any_load_balancer(LoadBalancerSettings::passes_through)
    }

    fn any_load_balancer(&self, f: impl Fn(&LoadBalancerSettings) -> bool) -> bool {
        let port_level = self.port_level_settings.iter().map(|p| &p.load_balancer);
        std::iter::once(&self.load_balancer)
            .chain(port_level)
            .flatten()
            .any(f)
    }
}

api_struct!(PortTrafficPolicy {
    port: Option<PortSelector>,
    load_balancer: Option<LoadBalancerSettings>,
    connection_pool: Option<ConnectionPoolSettings>,
    outlier_detection: Option<OutlierDetection>,
    tls: Option<ClientTlsSettings>,
});

api_struct!(LoadBalancerSettings {
    simple: Option<String>,
    consistent_hash: Option<ConsistentHashLb>,
    locality_lb_setting: Option<LocalityLbSetting>,
    zone_aware_lb_setting: Option<ZoneAwareLbSetting>,
    warmup_duration_secs: Option<String>,
    warmup: Option<Warmup>,
    backend_utilization: Option<BackendUtilization>,
});

impl LoadBalancerSettings {
    /// Whether it balances by the original destination (`PASSTHROUGH`).
    pub fn passes_through(&self) -> bool {
        self.simple.as_deref() == Some("PASSTHROUGH")
    }
}

api_struct!(ConsistentHashLb {
    http_header_name: Option<String>,
    http_cookie: Option<HttpCookie>,
    use_source_ip: Option<bool>,
    http_query_parameter_name: Option<String>,
    ring_hash: Option<RingHash>,
    maglev: Option<Maglev>,
    /// Deprecated; `ringHash.minimumRingSize` replaces it.
    minimum_ring_size: Option<u64>,
});

api_struct!(HttpCookie { name: String, path: Option<String>, ttl: Option<String>, attributes: Vec<CookieAttribute> });

api_struct!(CookieAttribute { name: String, value: Option<String> });

api_struct!(RingHash { minimum_ring_size: Option<u64> });

api_struct!(Maglev { table_size: Option<u64> });

api_struct!(LocalityLbSetting {
    distribute: Vec<LocalityDistribute>,
    failover: Vec<LocalityFailover>,
    failover_priority: Vec<String>,
    enabled: Option<bool>,
});

api_struct!(LocalityDistribute { from: Option<String>, to: BTreeMap<String, u32> });

api_struct!(LocalityFailover { from: Option<String>, to: Option<String> });

api_struct!(ZoneAwareLbSetting {
    enabled: Option<bool>,
    failover: Vec<LocalityFailover>,
    failover_priority: Vec<String>,
    min_cluster_size: Option<u64>,
});

api_struct!(
    /// Client-side weighted round robin from backends' reported utilization.
    BackendUtilization {
        error_utilization_penalty_percent: Option<u32>,
        metric_names_for_computing_utilization: Vec<String>,
        weight_expiration_period: Option<String>,
        weight_stabilization_period: Option<String>,
        weight_update_period: Option<String>,
    }
);

api_struct!(Warmup { duration: Option<String>, minimum_percent: Option<f64>, aggression: Option<f64> });

api_struct!(ConnectionPoolSettings { tcp: Option<TcpSettings>, http: Option<HttpSettings> });

api_struct!(TcpSettings {
    max_connections: Option<i32>,
    connect_timeout: Option<String>,
    tcp_keepalive: Option<TcpKeepalive>,
    max_connection_duration: Option<String>,
    idle_timeout: Option<String>,
});

api_struct!(TcpKeepalive { probes: Option<u32>, time: Option<String>, interval: Option<String> });

api_struct!(HttpSettings {
    http1_max_pending_requests: Option<i32>,
    http2_max_requests: Option<i32>,
    max_requests_per_connection: Option<i32>,
    max_retries: Option<i32>,
    idle_timeout: Option<String>,
    h2_upgrade_policy: Option<String>,
    use_client_protocol: Option<bool>,
    max_concurrent_streams: Option<i32>,
    http2_keep_alive: Option<Http2KeepAlive>,
});

api_struct!(Http2KeepAlive { interval: Option<String>, timeout: Option<String> });

api_struct!(OutlierDetection {
    split_external_local_origin_errors: Option<bool>,
    consecutive_local_origin_failures: Option<u32>,
    consecutive_gateway_errors: Option<u32>,
    consecutive_5xx_errors: Option<u32>,
    /// Deprecated; `consecutive5xxErrors` replaces it.
    consecutive_errors: Option<i32>,
    interval: Option<String>,
    base_ejection_time: Option<String>,
    max_ejection_percent: Option<i32>,
    min_health_percent: Option<i32>,
    outlier_detection_http_error_codes: Vec<u32>,
});

api_struct!(
    /// Upstream (client-side) TLS of a DestinationRule.
    ClientTlsSettings {
        mode: Option<String>,
        client_certificate: Option<String>,
        private_key: Option<String>,
        ca_certificates: Option<String>,
        credential_name: Option<String>,
        subject_alt_names: Vec<String>,
        sni: Option<String>,
        insecure_skip_verify: Option<bool>,
        ca_crl: Option<String>,
    }
);

api_struct!(TunnelSettings { protocol: Option<String>, target_host: String, target_port: Option<u32> });

api_struct!(ProxyProtocol { version: Option<String> });

api_struct!(RetryBudget { percent: Option<f64>, min_retry_concurrency: Option<u32>, budget_interval: Option<String> });

// ---------------------------------------------------------------------------
// Gateway

kube_kind!(
    /// networking.istio.io Gateway.
    Gateway { spec: GatewaySpec, status: Option<Value> }
);

api_struct!(GatewaySpec { servers: Vec<Server>, selector: Labels });

api_struct!(Server {
    port: Option<Port>,
    bind: Option<String>,
    hosts: Vec<String>,
    tls: Option<ServerTlsSettings>,
    default_endpoint: Option<String>,
    name: Option<String>,
});

api_struct!(
    /// Downstream (server-side) TLS of a Gateway server or Sidecar ingress listener.
    ServerTlsSettings {
        https_redirect: Option<bool>,
        mode: Option<String>,
        server_certificate: Option<String>,
        private_key: Option<String>,
        ca_certificates: Option<String>,
        ca_crl: Option<String>,
        credential_name: Option<String>,
        credential_names: Vec<String>,
        tls_certificates: Vec<TlsCertificate>,
        subject_alt_names: Vec<String>,
        verify_certificate_spki: Vec<String>,
        verify_certificate_hash: Vec<String>,
        min_protocol_version: Option<String>,
        max_protocol_version: Option<String>,
        cipher_suites: Vec<String>,
        ecdh_curves: Vec<String>,
        ca_cert_credential_name: Option<String>,
        insecure_skip_verify: Option<bool>,
    }
);

api_struct!(TlsCertificate {
    server_certificate: Option<String>,
    private_key: Option<String>,
    ca_certificates: Option<String>,
});

// ---------------------------------------------------------------------------
// ServiceEntry, WorkloadEntry, WorkloadGroup

kube_kind!(
    /// networking.istio.io ServiceEntry.
    ServiceEntry { spec: ServiceEntrySpec, status: Option<Value> }
);

api_struct!(ServiceEntrySpec {
    hosts: Vec<String>,
    addresses: Vec<String>,
    ports: Vec<Port>,
    location: Option<String>,
    resolution: Option<String>,
    endpoints: Vec<WorkloadEntrySpec>,
    workload_selector: Option<WorkloadSelector>,
    export_to: Vec<String>,
    subject_alt_names: Vec<String>,
});

kube_kind!(
    /// networking.istio.io WorkloadEntry: a VM or other non-Kubernetes workload.
    WorkloadEntry { spec: WorkloadEntrySpec, status: Option<Value> }
);

api_struct!(
    /// Also a ServiceEntry endpoint and a WorkloadGroup template.
    WorkloadEntrySpec {
        address: Option<String>,
        /// Port name → port number on this workload.
        ports: BTreeMap<String, u32>,
        labels: Labels,
        network: Option<String>,
        locality: Option<String>,
        weight: Option<u32>,
        service_account: Option<String>,
    }
);

kube_kind!(
    /// networking.istio.io WorkloadGroup: the template of auto-registered WorkloadEntries.
    WorkloadGroup { spec: WorkloadGroupSpec, status: Option<Value> }
);

api_struct!(WorkloadGroupSpec {
    metadata: Option<WorkloadGroupMeta>,
    template: Option<WorkloadEntrySpec>,
    probe: Option<ReadinessProbe>,
});

api_struct!(WorkloadGroupMeta {
    labels: Labels,
    annotations: Labels
});

api_struct!(ReadinessProbe {
    initial_delay_seconds: Option<i32>,
    timeout_seconds: Option<i32>,
    period_seconds: Option<i32>,
    success_threshold: Option<i32>,
    failure_threshold: Option<i32>,
    http_get: Option<HttpHealthCheck>,
    tcp_socket: Option<TcpHealthCheck>,
    exec: Option<ExecHealthCheck>,
    grpc: Option<GrpcHealthCheck>,
});

api_struct!(HttpHealthCheck {
    path: Option<String>,
    port: Option<u32>,
    host: Option<String>,
    scheme: Option<String>,
    http_headers: Vec<HttpHeader>,
});

api_struct!(HttpHeader { name: String, value: Option<String> });

api_struct!(TcpHealthCheck { host: Option<String>, port: Option<u32> });

api_struct!(ExecHealthCheck { command: Vec<String> });

api_struct!(GrpcHealthCheck { port: Option<u32>, service: Option<String> });

// ---------------------------------------------------------------------------
// Sidecar

kube_kind!(
    /// networking.istio.io Sidecar.
    Sidecar { spec: SidecarSpec, status: Option<Value> }
);

api_struct!(SidecarSpec {
    workload_selector: Option<WorkloadSelector>,
    ingress: Vec<IngressListener>,
    egress: Vec<EgressListener>,
    inbound_connection_pool: Option<ConnectionPoolSettings>,
    outbound_traffic_policy: Option<OutboundTrafficPolicy>,
});

api_struct!(IngressListener {
    port: Option<Port>,
    bind: Option<String>,
    capture_mode: Option<String>,
    default_endpoint: Option<String>,
    tls: Option<ServerTlsSettings>,
    connection_pool: Option<ConnectionPoolSettings>,
});

api_struct!(EgressListener {
    port: Option<Port>,
    bind: Option<String>,
    capture_mode: Option<String>,
    hosts: Vec<String>,
});

api_struct!(OutboundTrafficPolicy { mode: Option<String>, egress_proxy: Option<Destination> });

// ---------------------------------------------------------------------------
// EnvoyFilter

kube_kind!(
    /// networking.istio.io EnvoyFilter (v1alpha3 only).
    EnvoyFilter { spec: EnvoyFilterSpec, status: Option<Value> }
);

api_struct!(EnvoyFilterSpec {
    workload_selector: Option<WorkloadSelector>,
    target_refs: Vec<PolicyTargetReference>,
    config_patches: Vec<EnvoyConfigObjectPatch>,
    priority: Option<i32>,
});

api_struct!(EnvoyConfigObjectPatch {
    apply_to: Option<String>,
    r#match: Option<EnvoyConfigObjectMatch>,
    patch: Option<Patch>,
});

api_struct!(
    /// The patch itself: `value` is Envoy configuration, free-form.
    Patch { operation: Option<String>, value: Option<Value>, filter_class: Option<String> }
);

api_struct!(EnvoyConfigObjectMatch {
    context: Option<String>,
    proxy: Option<ProxyMatch>,
    listener: Option<ListenerMatch>,
    route_configuration: Option<RouteConfigurationMatch>,
    cluster: Option<ClusterMatch>,
    waypoint: Option<WaypointMatch>,
});

api_struct!(ProxyMatch { proxy_version: Option<String>, metadata: Labels });

api_struct!(ListenerMatch {
    port_number: Option<u32>,
    port_name: Option<String>,
    filter_chain: Option<FilterChainMatch>,
    listener_filter: Option<String>,
    name: Option<String>,
});

api_struct!(FilterChainMatch {
    name: Option<String>,
    sni: Option<String>,
    transport_protocol: Option<String>,
    transport_socket: Option<String>,
    application_protocols: Option<String>,
    filter: Option<FilterMatch>,
    destination_port: Option<u32>,
});

api_struct!(FilterMatch { name: Option<String>, sub_filter: Option<SubFilterMatch> });

api_struct!(SubFilterMatch { name: Option<String> });

api_struct!(RouteConfigurationMatch {
    port_number: Option<u32>,
    port_name: Option<String>,
    gateway: Option<String>,
    vhost: Option<VirtualHostMatch>,
    name: Option<String>,
});

api_struct!(VirtualHostMatch { name: Option<String>, domain_name: Option<String>, route: Option<RouteMatch> });

api_struct!(RouteMatch { name: Option<String>, action: Option<String> });

api_struct!(ClusterMatch {
    port_number: Option<u32>,
    service: Option<String>,
    subset: Option<String>,
    name: Option<String>,
});

api_struct!(WaypointMatch { filter: Option<FilterMatch>, route: Option<WaypointRouteMatch>, port_number: Option<u32> });

api_struct!(WaypointRouteMatch { name: Option<String> });

// ---------------------------------------------------------------------------
// ProxyConfig

kube_kind!(
    /// networking.istio.io ProxyConfig (v1beta1): per-workload bootstrap knobs.
    ProxyConfig { spec: ProxyConfigSpec, status: Option<Value> }
);

api_struct!(ProxyConfigSpec {
    selector: Option<MatchLabelsSelector>,
    concurrency: Option<i32>,
    environment_variables: Labels,
    image: Option<ProxyImage>,
});

api_struct!(ProxyImage { image_type: Option<String> });

// ---------------------------------------------------------------------------
// Security

kube_kind!(
    /// security.istio.io AuthorizationPolicy.
    AuthorizationPolicy { spec: AuthorizationPolicySpec, status: Option<Value> }
);

api_struct!(AuthorizationPolicySpec {
    selector: Option<MatchLabelsSelector>,
    target_ref: Option<PolicyTargetReference>,
    target_refs: Vec<PolicyTargetReference>,
    rules: Vec<AuthorizationRule>,
    action: Option<String>,
    provider: Option<ExtensionProviderRef>,
});

api_struct!(ExtensionProviderRef { name: Option<String> });

api_struct!(AuthorizationRule { from: Vec<RuleFrom>, to: Vec<RuleTo>, when: Vec<Condition> });

api_struct!(RuleFrom { source: Option<Source> });

api_struct!(Source {
    principals: Vec<String>,
    not_principals: Vec<String>,
    request_principals: Vec<String>,
    not_request_principals: Vec<String>,
    namespaces: Vec<String>,
    not_namespaces: Vec<String>,
    service_accounts: Vec<String>,
    not_service_accounts: Vec<String>,
    trust_domains: Vec<String>,
    not_trust_domains: Vec<String>,
    ip_blocks: Vec<String>,
    not_ip_blocks: Vec<String>,
    remote_ip_blocks: Vec<String>,
    not_remote_ip_blocks: Vec<String>,
});

api_struct!(RuleTo { operation: Option<Operation> });

api_struct!(Operation {
    hosts: Vec<String>,
    not_hosts: Vec<String>,
    ports: Vec<String>,
    not_ports: Vec<String>,
    methods: Vec<String>,
    not_methods: Vec<String>,
    paths: Vec<String>,
    not_paths: Vec<String>,
});

api_struct!(Condition { key: String, values: Vec<String>, not_values: Vec<String> });

kube_kind!(
    /// security.istio.io RequestAuthentication.
    RequestAuthentication { spec: RequestAuthenticationSpec, status: Option<Value> }
);

api_struct!(RequestAuthenticationSpec {
    selector: Option<MatchLabelsSelector>,
    target_ref: Option<PolicyTargetReference>,
    target_refs: Vec<PolicyTargetReference>,
    jwt_rules: Vec<JwtRule>,
});

api_struct!(JwtRule {
    issuer: Option<String>,
    audiences: Vec<String>,
    jwks_uri: Option<String>,
    /// The same, spelled as the CRD also serves it.
    #[serde(rename = "jwks_uri")]
    jwks_uri_snake: Option<String>,
    jwks: Option<String>,
    from_headers: Vec<JwtHeader>,
    from_params: Vec<String>,
    from_cookies: Vec<String>,
    output_payload_to_header: Option<String>,
    forward_original_token: Option<bool>,
    output_claim_to_headers: Vec<ClaimToHeader>,
    timeout: Option<String>,
    space_delimited_claims: Vec<String>,
    /// `OPTIONAL` or `REQUIRED` (new in 1.31).
    presence: Option<String>,
});

api_struct!(JwtHeader { name: String, prefix: Option<String> });

api_struct!(ClaimToHeader {
    header: String,
    claim: String
});

kube_kind!(
    /// security.istio.io PeerAuthentication.
    PeerAuthentication { spec: PeerAuthenticationSpec, status: Option<Value> }
);

api_struct!(PeerAuthenticationSpec {
    selector: Option<MatchLabelsSelector>,
    mtls: Option<MutualTls>,
    /// Port number → mode.
    port_level_mtls: BTreeMap<PortKey, MutualTls>,
});

/// A port number used as a map key: YAML writes it `9080:` or `"9080":`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PortKey(pub u32);

impl<'de> Deserialize<'de> for PortKey {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = PortKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a port number")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortKey, E> {
                u32::try_from(v).map(PortKey).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortKey, E> {
                u32::try_from(v).map(PortKey).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PortKey, E> {
                v.parse()
                    .map(PortKey)
                    .map_err(|_| E::custom(format!("`{v}` is not a port number")))
            }
        }
        de.deserialize_any(Visit)
    }
}

api_struct!(MutualTls { mode: Option<String> });

// ---------------------------------------------------------------------------
// Telemetry

kube_kind!(
    /// telemetry.istio.io Telemetry.
    Telemetry { spec: TelemetrySpec, status: Option<Value> }
);

api_struct!(TelemetrySpec {
    selector: Option<MatchLabelsSelector>,
    target_ref: Option<PolicyTargetReference>,
    target_refs: Vec<PolicyTargetReference>,
    tracing: Vec<Tracing>,
    metrics: Vec<Metrics>,
    access_logging: Vec<AccessLogging>,
});

api_struct!(ProviderRef { name: String });

api_struct!(WorkloadModeSelector { mode: Option<String> });

api_struct!(Tracing {
    r#match: Option<WorkloadModeSelector>,
    providers: Vec<ProviderRef>,
    random_sampling_percentage: Option<f64>,
    disable_span_reporting: Option<bool>,
    custom_tags: BTreeMap<String, CustomTag>,
    use_request_id_for_trace_sampling: Option<bool>,
    enable_istio_tags: Option<bool>,
    disable_context_propagation: Option<bool>,
});

api_struct!(CustomTag {
    literal: Option<TagValue>,
    environment: Option<TagSource>,
    header: Option<TagSource>,
    formatter: Option<TagValue>,
});

api_struct!(TagValue { value: Option<String> });

api_struct!(TagSource { name: String, default_value: Option<String> });

api_struct!(Metrics {
    providers: Vec<ProviderRef>,
    overrides: Vec<MetricsOverrides>,
    reporting_interval: Option<String>,
});

api_struct!(MetricsOverrides {
    r#match: Option<MetricSelector>,
    disabled: Option<bool>,
    tag_overrides: BTreeMap<String, TagOverride>,
});

api_struct!(MetricSelector { metric: Option<String>, custom_metric: Option<String>, mode: Option<String> });

api_struct!(TagOverride { operation: Option<String>, value: Option<String> });

api_struct!(AccessLogging {
    r#match: Option<WorkloadModeSelector>,
    providers: Vec<ProviderRef>,
    disabled: Option<bool>,
    filter: Option<AccessLogFilter>,
});

api_struct!(AccessLogFilter { expression: Option<String> });

// ---------------------------------------------------------------------------
// Extensions

kube_kind!(
    /// extensions.istio.io WasmPlugin.
    WasmPlugin { spec: WasmPluginSpec, status: Option<Value> }
);

api_struct!(WasmPluginSpec {
    selector: Option<MatchLabelsSelector>,
    target_ref: Option<PolicyTargetReference>,
    target_refs: Vec<PolicyTargetReference>,
    url: Option<String>,
    sha256: Option<String>,
    image_pull_policy: Option<String>,
    image_pull_secret: Option<String>,
    verification_key: Option<String>,
    /// Handed to the plugin as is.
    plugin_config: Option<Value>,
    plugin_name: Option<String>,
    phase: Option<String>,
    priority: Option<i32>,
    fail_strategy: Option<String>,
    vm_config: Option<VmConfig>,
    r#match: Vec<TrafficSelector>,
    r#type: Option<String>,
});

api_struct!(VmConfig { env: Vec<VmEnvVar> });

api_struct!(VmEnvVar { name: String, value_from: Option<String>, value: Option<String> });

api_struct!(TrafficSelector { mode: Option<String>, ports: Vec<PortSelector> });

kube_kind!(
    /// extensions.istio.io TrafficExtension: a Wasm or Lua filter (what
    /// WasmPlugins are translated into since Istio 1.30).
    TrafficExtension { spec: TrafficExtensionSpec, status: Option<Value> }
);

api_struct!(TrafficExtensionSpec {
    selector: Option<MatchLabelsSelector>,
    target_refs: Vec<PolicyTargetReference>,
    phase: Option<String>,
    priority: Option<i32>,
    r#match: Vec<TrafficSelector>,
    wasm: Option<WasmConfig>,
    lua: Option<LuaConfig>,
});

api_struct!(WasmConfig {
    url: Option<String>,
    sha256: Option<String>,
    image_pull_policy: Option<String>,
    image_pull_secret: Option<String>,
    verification_key: Option<String>,
    plugin_config: Option<Value>,
    plugin_name: Option<String>,
    fail_strategy: Option<String>,
    vm_config: Option<VmConfig>,
    r#type: Option<String>,
});

api_struct!(LuaConfig { inline_code: Option<String> });
