//! MeshConfig and meshNetworks: the mesh-wide settings istiod runs with.
//!
//! The types follow istio.io/api `mesh/v1alpha1` (config.proto, proxy.proto,
//! network.proto) with their camelCase JSON names, so an unknown key in the
//! `istio` ConfigMap or in `--mesh-config` is reported like any other unknown
//! field. Every field is optional on input; the accessors fall back to Istio's
//! built-in defaults (pkg/config/mesh DefaultMeshConfig and DefaultProxyConfig),
//! so a config read from the ConfigMap or `--mesh-config` is "laid over" the
//! defaults by [`MeshConfig::overlay`]. Messages shared with the networking API
//! (TLS settings, connection pools, retries...) reuse the types of `istio.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::istio::{self as ist, api_struct};
use super::meta::LabelSelector;

/// Builds `Ty { field: top.field.or(base.field), ... }`: the top layer wins
/// wherever it sets a field. The compiler checks that no field is forgotten.
macro_rules! overlay_fields {
    ($base:ident, $top:ident, $ty:ident { $($field:ident),* $(,)? } $($extra:tt)*) => {
        $ty {
            $($field: $top.$field.or($base.$field),)*
            $($extra)*
        }
    };
}

api_struct!(
    /// `mesh.v1alpha1.MeshConfig`.
    MeshConfig {
        proxy_listen_port: Option<i32>,
        proxy_inbound_listen_port: Option<i32>,
        proxy_http_port: Option<i32>,
        connect_timeout: Option<String>,
        hbone_idle_timeout: Option<String>,
        protocol_detection_timeout: Option<String>,
        tcp_keepalive: Option<ist::TcpKeepalive>,
        ingress_class: Option<String>,
        ingress_service: Option<String>,
        ingress_controller_mode: Option<String>,
        ingress_selector: Option<String>,
        enable_tracing: Option<bool>,
        access_log_file: Option<String>,
        access_log_format: Option<String>,
        access_log_encoding: Option<String>,
        enable_envoy_access_log_service: Option<bool>,
        disable_envoy_listener_log: Option<bool>,
        /// Proxy settings every proxy starts from.
        default_config: Option<MeshProxyConfig>,
        outbound_traffic_policy: Option<OutboundTrafficPolicy>,
        inbound_traffic_policy: Option<InboundTrafficPolicy>,
        config_sources: Option<Vec<ConfigSource>>,
        enable_auto_mtls: Option<bool>,
        trust_domain: Option<String>,
        trust_domain_aliases: Option<Vec<String>>,
        ca_certificates: Option<Vec<CertificateData>>,
        default_service_export_to: Option<Vec<String>>,
        default_virtual_service_export_to: Option<Vec<String>>,
        default_destination_rule_export_to: Option<Vec<String>>,
        root_namespace: Option<String>,
        locality_lb_setting: Option<ist::LocalityLbSetting>,
        zone_aware_lb_setting: Option<ist::ZoneAwareLbSetting>,
        dns_refresh_rate: Option<String>,
        h2_upgrade_policy: Option<String>,
        inbound_cluster_stat_name: Option<String>,
        outbound_cluster_stat_name: Option<String>,
        /// Deprecated.
        certificates: Option<Vec<Certificate>>,
        service_settings: Option<Vec<ServiceSettings>>,
        service_scope_configs: Option<Vec<ServiceScopeConfigs>>,
        enable_prometheus_merge: Option<bool>,
        /// Deprecated.
        verify_certificate_at_client: Option<bool>,
        ca: Option<CaConfig>,
        extension_providers: Option<Vec<ExtensionProvider>>,
        default_providers: Option<DefaultProviders>,
        discovery_selectors: Option<Vec<LabelSelector>>,
        path_normalization: Option<PathNormalization>,
        default_http_retry_policy: Option<ist::HttpRetry>,
        #[serde(rename = "meshMTLS")]
        mesh_mtls: Option<TlsConfig>,
        tls_defaults: Option<TlsConfig>,
        default_traffic_policy: Option<DefaultTrafficPolicy>,
        service_entry_visibility: Option<ServiceEntryVisibility>,
    }
);

api_struct!(OutboundTrafficPolicy { mode: Option<String>, tls: Option<ist::ClientTlsSettings> });

api_struct!(InboundTrafficPolicy { mode: Option<String> });

api_struct!(ConfigSource {
    address: Option<String>,
    tls_settings: Option<ist::ClientTlsSettings>,
    subscribed_resources: Vec<String>,
});

api_struct!(CertificateData {
    pem: Option<String>,
    spiffe_bundle_url: Option<String>,
    cert_signers: Vec<String>,
    trust_domains: Vec<String>,
});

api_struct!(Certificate { secret_name: Option<String>, dns_names: Vec<String> });

api_struct!(ServiceSettings { settings: Option<ServiceSettingsFlags>, hosts: Vec<String> });

api_struct!(ServiceSettingsFlags { cluster_local: Option<bool> });

api_struct!(ServiceScopeConfigs {
    namespace_selector: Option<LabelSelector>,
    services_selector: Option<LabelSelector>,
    scope: Option<String>,
});

api_struct!(CaConfig {
    address: Option<String>,
    tls_settings: Option<ist::ClientTlsSettings>,
    request_timeout: Option<String>,
    istiod_side: Option<bool>,
});

api_struct!(
    /// Providers Telemetry uses when it names none; each list is set or not.
    DefaultProviders {
        tracing: Option<Vec<String>>,
        metrics: Option<Vec<String>>,
        access_logging: Option<Vec<String>>,
    }
);

api_struct!(PathNormalization { normalization: Option<String> });

api_struct!(TlsConfig {
    min_protocol_version: Option<String>,
    ecdh_curves: Vec<String>,
    cipher_suites: Vec<String>,
});

api_struct!(DefaultTrafficPolicy {
    connection_pool: Option<ist::ConnectionPoolSettings>,
    outlier_detection: Option<ist::OutlierDetection>,
});

api_struct!(ServiceEntryVisibility {
    default_visibility: Option<String>,
    apply_to_sidecars: Option<bool>,
    policies: Vec<VisibilityPolicy>,
});

api_struct!(VisibilityPolicy { visibility: Option<String>, matching_rules: Vec<VisibilityMatchRule> });

api_struct!(VisibilityMatchRule { namespace_selector: Option<LabelSelector> });

// ---------------------------------------------------------------------------
// Extension providers

api_struct!(
    /// A named provider; exactly one of the provider fields is meant to be set.
    ExtensionProvider {
        name: String,
        envoy_ext_authz_http: Option<ExtAuthzHttpProvider>,
        envoy_ext_authz_grpc: Option<ExtAuthzGrpcProvider>,
        zipkin: Option<ZipkinProvider>,
        /// Deprecated.
        lightstep: Option<LightstepProvider>,
        datadog: Option<DatadogProvider>,
        stackdriver: Option<StackdriverProvider>,
        /// Deprecated.
        opencensus: Option<OpenCensusAgentProvider>,
        skywalking: Option<SkyWalkingProvider>,
        opentelemetry: Option<OpenTelemetryProvider>,
        prometheus: Option<PrometheusProvider>,
        envoy_file_access_log: Option<FileAccessLogProvider>,
        envoy_http_als: Option<HttpGrpcLogProvider>,
        envoy_tcp_als: Option<TcpGrpcLogProvider>,
        envoy_otel_als: Option<OtelLogProvider>,
        sds: Option<SdsProvider>,
    }
);

impl ExtensionProvider {
    /// The JSON name of the provider type that is set (`zipkin`,
    /// `envoyFileAccessLog`...), `None` when none is.
    pub fn provider_type(&self) -> Option<&'static str> {
        let set = [
            (self.envoy_ext_authz_http.is_some(), "envoyExtAuthzHttp"),
            (self.envoy_ext_authz_grpc.is_some(), "envoyExtAuthzGrpc"),
            (self.zipkin.is_some(), "zipkin"),
            (self.lightstep.is_some(), "lightstep"),
            (self.datadog.is_some(), "datadog"),
            (self.stackdriver.is_some(), "stackdriver"),
            (self.opencensus.is_some(), "opencensus"),
            (self.skywalking.is_some(), "skywalking"),
            (self.opentelemetry.is_some(), "opentelemetry"),
            (self.prometheus.is_some(), "prometheus"),
            (self.envoy_file_access_log.is_some(), "envoyFileAccessLog"),
            (self.envoy_http_als.is_some(), "envoyHttpAls"),
            (self.envoy_tcp_als.is_some(), "envoyTcpAls"),
            (self.envoy_otel_als.is_some(), "envoyOtelAls"),
            (self.sds.is_some(), "sds"),
        ];
        set.iter().find(|(on, _)| *on).map(|(_, name)| *name)
    }
}

api_struct!(ExtAuthzRequestBody {
    max_request_bytes: Option<u32>,
    allow_partial_message: Option<bool>,
    pack_as_bytes: Option<bool>,
});

api_struct!(ExtAuthzHttpProvider {
    service: String,
    port: Option<u32>,
    timeout: Option<String>,
    path_prefix: Option<String>,
    fail_open: Option<bool>,
    clear_route_cache: Option<bool>,
    status_on_error: Option<String>,
    /// Deprecated; `includeRequestHeadersInCheck` replaces it.
    include_headers_in_check: Vec<String>,
    include_request_headers_in_check: Vec<String>,
    include_additional_headers_in_check: BTreeMap<String, String>,
    include_request_body_in_check: Option<ExtAuthzRequestBody>,
    headers_to_upstream_on_allow: Vec<String>,
    headers_to_downstream_on_deny: Vec<String>,
    headers_to_downstream_on_allow: Vec<String>,
});

api_struct!(ExtAuthzGrpcProvider {
    service: String,
    port: Option<u32>,
    timeout: Option<String>,
    fail_open: Option<bool>,
    clear_route_cache: Option<bool>,
    status_on_error: Option<String>,
    include_request_body_in_check: Option<ExtAuthzRequestBody>,
});

api_struct!(ZipkinProvider {
    service: String,
    port: Option<u32>,
    max_tag_length: Option<u32>,
    enable_64bit_trace_id: Option<bool>,
    path: Option<String>,
    trace_context_option: Option<String>,
    timeout: Option<String>,
    headers: Vec<ProviderHeader>,
});

api_struct!(LightstepProvider {
    service: String,
    port: Option<u32>,
    access_token: Option<String>,
    max_tag_length: Option<u32>,
});

api_struct!(DatadogProvider { service: String, port: Option<u32>, max_tag_length: Option<u32> });

api_struct!(SkyWalkingProvider { service: String, port: Option<u32>, access_token: Option<String> });

api_struct!(StackdriverProvider {
    /// Deprecated.
    debug: Option<bool>,
    /// Deprecated.
    max_number_of_attributes: Option<i64>,
    /// Deprecated.
    max_number_of_annotations: Option<i64>,
    /// Deprecated.
    max_number_of_message_events: Option<i64>,
    max_tag_length: Option<u32>,
    logging: Option<StackdriverLogging>,
});

api_struct!(StackdriverLogging { labels: BTreeMap<String, String> });

api_struct!(OpenCensusAgentProvider {
    service: String,
    port: Option<u32>,
    context: Vec<String>,
    max_tag_length: Option<u32>,
});

api_struct!(
    /// Prometheus takes no settings.
    PrometheusProvider {}
);

api_struct!(FileAccessLogProvider {
    path: Option<String>,
    log_format: Option<AccessLogFormat>,
    omit_empty_values: Option<bool>,
});

api_struct!(
    /// `text` or `labels` (a JSON object of format strings).
    AccessLogFormat { text: Option<String>, labels: Option<Value> }
);

api_struct!(HttpGrpcLogProvider {
    service: String,
    port: Option<u32>,
    log_name: Option<String>,
    filter_state_objects_to_log: Vec<String>,
    additional_request_headers_to_log: Vec<String>,
    additional_response_headers_to_log: Vec<String>,
    additional_response_trailers_to_log: Vec<String>,
});

api_struct!(TcpGrpcLogProvider {
    service: String,
    port: Option<u32>,
    log_name: Option<String>,
    filter_state_objects_to_log: Vec<String>,
});

api_struct!(OtelLogProvider {
    service: String,
    port: Option<u32>,
    log_name: Option<String>,
    log_format: Option<AccessLogFormat>,
});

api_struct!(OpenTelemetryProvider {
    service: String,
    port: Option<u32>,
    max_tag_length: Option<u32>,
    http: Option<ProviderHttpService>,
    grpc: Option<ProviderGrpcService>,
    resource_detectors: Option<ResourceDetectors>,
    service_attribute_enrichment: Option<String>,
    dynatrace_sampler: Option<DynatraceSampler>,
});

api_struct!(DynatraceSampler {
    tenant: Option<String>,
    cluster_id: Option<i32>,
    root_spans_per_minute: Option<u32>,
    http_service: Option<DynatraceApi>,
});

api_struct!(DynatraceApi { service: String, port: Option<u32>, http: Option<ProviderHttpService> });

api_struct!(ResourceDetectors { environment: Option<EmptyConfig>, dynatrace: Option<EmptyConfig> });

api_struct!(
    /// A message without fields (presence is the setting).
    EmptyConfig {}
);

api_struct!(SdsProvider { name: Option<String>, service: String, port: Option<u32> });

api_struct!(ProviderHttpService { path: Option<String>, timeout: Option<String>, headers: Vec<ProviderHeader> });

api_struct!(ProviderGrpcService { timeout: Option<String>, initial_metadata: Vec<ProviderHeader> });

api_struct!(
    /// A header with a literal value or one read from an environment variable.
    ProviderHeader { name: String, value: Option<String>, env_name: Option<String> }
);

// ---------------------------------------------------------------------------
// defaultConfig: mesh.v1alpha1.ProxyConfig

api_struct!(
    /// `mesh.v1alpha1.ProxyConfig`: MeshConfig `defaultConfig` and the pod
    /// annotation `proxy.istio.io/config`. (The ProxyConfig *kind* is a
    /// different, much smaller message: see `istio::ProxyConfigSpec`.)
    MeshProxyConfig {
        config_path: Option<String>,
        binary_path: Option<String>,
        service_cluster: Option<String>,
        tracing_service_name: Option<String>,
        drain_duration: Option<String>,
        discovery_address: Option<String>,
        /// Deprecated.
        discovery_refresh_delay: Option<String>,
        /// Deprecated.
        zipkin_address: Option<String>,
        statsd_udp_address: Option<String>,
        /// Deprecated.
        envoy_metrics_service_address: Option<String>,
        proxy_admin_port: Option<i32>,
        /// Deprecated.
        availability_zone: Option<String>,
        control_plane_auth_policy: Option<String>,
        custom_config_file: Option<String>,
        stat_name_length: Option<i32>,
        concurrency: Option<i32>,
        proxy_bootstrap_template_path: Option<String>,
        interception_mode: Option<String>,
        tracing: Option<TracingConfig>,
        /// Deprecated.
        sds: Option<SdsConfig>,
        envoy_access_log_service: Option<RemoteService>,
        envoy_metrics_service: Option<RemoteService>,
        proxy_metadata: Option<BTreeMap<String, String>>,
        runtime_values: Option<BTreeMap<String, String>>,
        status_port: Option<i32>,
        extra_stat_tags: Option<Vec<String>>,
        gateway_topology: Option<Topology>,
        termination_drain_duration: Option<String>,
        mesh_id: Option<String>,
        readiness_probe: Option<ist::ReadinessProbe>,
        proxy_stats_matcher: Option<ProxyStatsMatcher>,
        hold_application_until_proxy_starts: Option<bool>,
        ca_certificates_pem: Option<Vec<String>>,
        image: Option<ist::ProxyImage>,
        private_key_provider: Option<PrivateKeyProvider>,
        proxy_headers: Option<ProxyHeaders>,
        file_flush_interval: Option<String>,
        file_flush_min_size_kb: Option<u32>,
        stats_compression: Option<bool>,
        connection_settings: Option<ConnectionSettings>,
    }
);

api_struct!(
    /// The proxy's tracer: one of zipkin, lightstep, datadog, stackdriver,
    /// openCensusAgent, plus common settings.
    TracingConfig {
        zipkin: Option<TracerAddress>,
        lightstep: Option<LightstepTracer>,
        datadog: Option<TracerAddress>,
        stackdriver: Option<StackdriverTracer>,
        open_census_agent: Option<OpenCensusAgentTracer>,
        custom_tags: BTreeMap<String, TracingCustomTag>,
        max_path_tag_length: Option<u32>,
        sampling: Option<f64>,
        tls_settings: Option<ist::ClientTlsSettings>,
        enable_istio_tags: Option<bool>,
    }
);

api_struct!(TracerAddress { address: Option<String> });

api_struct!(LightstepTracer { address: Option<String>, access_token: Option<String> });

api_struct!(StackdriverTracer {
    debug: Option<bool>,
    max_number_of_attributes: Option<i64>,
    max_number_of_annotations: Option<i64>,
    max_number_of_message_events: Option<i64>,
});

api_struct!(OpenCensusAgentTracer { address: Option<String>, context: Vec<String> });

api_struct!(TracingCustomTag {
    literal: Option<ist::TagValue>,
    environment: Option<ist::TagSource>,
    header: Option<ist::TagSource>,
});

api_struct!(SdsConfig { enabled: Option<bool>, k8s_sa_jwt_path: Option<String> });

api_struct!(RemoteService {
    address: Option<String>,
    tls_settings: Option<ist::ClientTlsSettings>,
    tcp_keepalive: Option<ist::TcpKeepalive>,
});

api_struct!(
    /// Where a gateway sits: trusted proxies in front, XFCC handling, PROXY protocol.
    Topology {
        num_trusted_proxies: Option<u32>,
        forward_client_cert_details: Option<String>,
        proxy_protocol: Option<EmptyConfig>,
    }
);

api_struct!(ProxyStatsMatcher {
    inclusion_prefixes: Vec<String>,
    inclusion_suffixes: Vec<String>,
    inclusion_regexps: Vec<String>,
});

api_struct!(PrivateKeyProvider { cryptomb: Option<PrivateKeyProviderConfig>, qat: Option<PrivateKeyProviderConfig> });

api_struct!(PrivateKeyProviderConfig { poll_delay: Option<String>, fallback: Option<bool> });

api_struct!(ProxyHeaders {
    forwarded_client_cert: Option<String>,
    set_current_client_cert_details: Option<SetCurrentClientCertDetails>,
    request_id: Option<HeaderToggle>,
    server: Option<ServerHeader>,
    attempt_count: Option<HeaderToggle>,
    envoy_debug_headers: Option<HeaderToggle>,
    metadata_exchange_headers: Option<MetadataExchangeHeaders>,
    preserve_http1_header_case: Option<bool>,
    x_forwarded_host: Option<HeaderEnable>,
    x_forwarded_port: Option<HeaderEnable>,
});

api_struct!(SetCurrentClientCertDetails {
    subject: Option<bool>,
    cert: Option<bool>,
    chain: Option<bool>,
    dns: Option<bool>,
    uri: Option<bool>,
});

api_struct!(HeaderToggle { disabled: Option<bool> });

api_struct!(HeaderEnable { enabled: Option<bool> });

api_struct!(ServerHeader { disabled: Option<bool>, value: Option<String> });

api_struct!(MetadataExchangeHeaders { mode: Option<String> });

api_struct!(ConnectionSettings {
    profile: Option<String>,
    listener_per_connection_buffer_limit_bytes: Option<i32>,
    cluster_per_connection_buffer_limit_bytes: Option<i32>,
    http_idle_timeout: Option<String>,
    http_max_connection_duration: Option<String>,
    http_drain_timeout: Option<String>,
    http_request_timeout: Option<String>,
    http_request_headers_timeout: Option<String>,
    http_stream_idle_timeout: Option<String>,
    http_max_stream_duration: Option<String>,
    http_max_concurrent_streams: Option<i32>,
    http2_initial_stream_window_size: Option<i32>,
    http2_initial_connection_window_size: Option<i32>,
    http_headers_with_underscores_action: Option<String>,
    http_merge_slashes: Option<bool>,
    http_path_with_escaped_slashes_action: Option<String>,
    listener_connection_limit: Option<i32>,
    global_downstream_connection_limit: Option<i32>,
});

// ---------------------------------------------------------------------------
// Overlay and defaults

impl MeshConfig {
    /// `other` laid over `self`, the way istiod lays the ConfigMap over its
    /// defaults: `other`'s fields win where set and replace whole, except
    /// that `defaultConfig` and `defaultProviders` merge field by field,
    /// `extensionProviders` merge by name (a provider of the same name is
    /// replaced in place, others appended) and `trustDomainAliases` are
    /// united (sorted, without duplicates).
    pub fn overlay(self, other: MeshConfig) -> MeshConfig {
        let (mut base, mut top) = (self, other);
        let default_config = match (base.default_config.take(), top.default_config.take()) {
            (Some(below), Some(above)) => Some(below.overlay(above)),
            (below, above) => above.or(below),
        };
        let default_providers = match (base.default_providers.take(), top.default_providers.take())
        {
            (Some(below), Some(above)) => Some(DefaultProviders {
                tracing: above.tracing.or(below.tracing),
                metrics: above.metrics.or(below.metrics),
                access_logging: above.access_logging.or(below.access_logging),
            }),
            (below, above) => above.or(below),
        };
        let extension_providers = match (
            base.extension_providers.take(),
            top.extension_providers.take(),
        ) {
            (Some(below), Some(above)) => Some(merge_providers(below, above)),
            (below, above) => above.or(below),
        };
        let trust_domain_aliases = match (
            base.trust_domain_aliases.take(),
            top.trust_domain_aliases.take(),
        ) {
            (Some(below), Some(above)) => {
                let all: BTreeSet<String> = below.into_iter().chain(above).collect();
                Some(all.into_iter().collect())
            }
            (below, above) => above.or(below),
        };
        overlay_fields!(base, top, MeshConfig {
            proxy_listen_port,
            proxy_inbound_listen_port,
            proxy_http_port,
            connect_timeout,
            hbone_idle_timeout,
            protocol_detection_timeout,
            tcp_keepalive,
            ingress_class,
            ingress_service,
            ingress_controller_mode,
            ingress_selector,
            enable_tracing,
            access_log_file,
            access_log_format,
            access_log_encoding,
            enable_envoy_access_log_service,
            disable_envoy_listener_log,
            outbound_traffic_policy,
            inbound_traffic_policy,
            config_sources,
            enable_auto_mtls,
            trust_domain,
            ca_certificates,
            default_service_export_to,
            default_virtual_service_export_to,
            default_destination_rule_export_to,
            root_namespace,
            locality_lb_setting,
            zone_aware_lb_setting,
            dns_refresh_rate,
            h2_upgrade_policy,
            inbound_cluster_stat_name,
            outbound_cluster_stat_name,
            certificates,
            service_settings,
            service_scope_configs,
            enable_prometheus_merge,
            verify_certificate_at_client,
            ca,
            discovery_selectors,
            path_normalization,
            default_http_retry_policy,
            mesh_mtls,
            tls_defaults,
            default_traffic_policy,
            service_entry_visibility,
        } default_config, default_providers, extension_providers, trust_domain_aliases,)
    }

    pub fn root_namespace(&self) -> &str {
        self.root_namespace.as_deref().unwrap_or("istio-system")
    }

    pub fn trust_domain(&self) -> &str {
        self.trust_domain.as_deref().unwrap_or("cluster.local")
    }

    pub fn trust_domain_aliases(&self) -> &[String] {
        self.trust_domain_aliases.as_deref().unwrap_or(&[])
    }

    /// `ALLOW_ANY` unless set (`REGISTRY_ONLY`).
    pub fn outbound_traffic_policy_mode(&self) -> &str {
        self.outbound_traffic_policy
            .as_ref()
            .and_then(|p| p.mode.as_deref())
            .unwrap_or("ALLOW_ANY")
    }

    /// `PASSTHROUGH` unless set (`LOCALHOST`).
    pub fn inbound_traffic_policy_mode(&self) -> &str {
        self.inbound_traffic_policy
            .as_ref()
            .and_then(|p| p.mode.as_deref())
            .unwrap_or("PASSTHROUGH")
    }

    pub fn enable_auto_mtls(&self) -> bool {
        self.enable_auto_mtls.unwrap_or(true)
    }

    pub fn ingress_class(&self) -> &str {
        self.ingress_class.as_deref().unwrap_or("istio")
    }

    /// `STRICT` unless set (`DEFAULT`, `OFF`).
    pub fn ingress_controller_mode(&self) -> &str {
        self.ingress_controller_mode.as_deref().unwrap_or("STRICT")
    }

    pub fn ingress_service(&self) -> &str {
        self.ingress_service
            .as_deref()
            .unwrap_or("istio-ingressgateway")
    }

    /// The value of label `istio` that Ingress-generated Gateways select:
    /// `ingressSelector`, else a non-default `ingressService`, else
    /// `ingressgateway`.
    pub fn ingress_selector(&self) -> &str {
        if let Some(s) = self.ingress_selector.as_deref().filter(|s| !s.is_empty()) {
            return s;
        }
        match self.ingress_service.as_deref() {
            Some(svc) if !svc.is_empty() && svc != "istio-ingressgateway" => svc,
            _ => "ingressgateway",
        }
    }

    pub fn default_service_export_to(&self) -> Vec<&str> {
        export_to(self.default_service_export_to.as_deref())
    }

    pub fn default_virtual_service_export_to(&self) -> Vec<&str> {
        export_to(self.default_virtual_service_export_to.as_deref())
    }

    pub fn default_destination_rule_export_to(&self) -> Vec<&str> {
        export_to(self.default_destination_rule_export_to.as_deref())
    }

    /// Empty: no access log unless set (commonly `/dev/stdout`).
    pub fn access_log_file(&self) -> &str {
        self.access_log_file.as_deref().unwrap_or("")
    }

    /// Empty: Envoy's default format, Istio's when the encoding is TEXT.
    pub fn access_log_format(&self) -> &str {
        self.access_log_format.as_deref().unwrap_or("")
    }

    /// `TEXT` unless set (`JSON`).
    pub fn access_log_encoding(&self) -> &str {
        self.access_log_encoding.as_deref().unwrap_or("TEXT")
    }

    /// `0s` (protocol sniffing never times out) unless set.
    pub fn protocol_detection_timeout(&self) -> &str {
        self.protocol_detection_timeout.as_deref().unwrap_or("0s")
    }

    pub fn connect_timeout(&self) -> &str {
        self.connect_timeout.as_deref().unwrap_or("10s")
    }

    pub fn dns_refresh_rate(&self) -> &str {
        self.dns_refresh_rate.as_deref().unwrap_or("60s")
    }

    pub fn enable_tracing(&self) -> bool {
        self.enable_tracing.unwrap_or(true)
    }

    pub fn enable_prometheus_merge(&self) -> bool {
        self.enable_prometheus_merge.unwrap_or(true)
    }

    /// The outbound capture port (virtualOutbound).
    pub fn proxy_listen_port(&self) -> i32 {
        self.proxy_listen_port.unwrap_or(15001)
    }

    /// The inbound capture port (virtualInbound).
    pub fn proxy_inbound_listen_port(&self) -> i32 {
        self.proxy_inbound_listen_port.unwrap_or(15006)
    }

    /// Locality load balancing is on unless `localityLbSetting.enabled: false`.
    pub fn locality_lb_enabled(&self) -> bool {
        self.locality_lb_setting
            .as_ref()
            .and_then(|l| l.enabled)
            .unwrap_or(true)
    }

    /// Istio's built-in providers (`prometheus`, `stackdriver`, `envoy`
    /// logging to /dev/stdout) with the configured ones merged in by name.
    pub fn extension_providers(&self) -> Vec<ExtensionProvider> {
        let configured = self.extension_providers.clone().unwrap_or_default();
        merge_providers(default_extension_providers(), configured)
    }

    /// Providers Telemetry uses when it names none. Unset, it is what
    /// Istio's Helm charts (and `istioctl install`) write: Prometheus
    /// metrics, which puts `istio.stats` filters on every proxy.
    pub fn default_providers(&self) -> DefaultProviders {
        self.default_providers
            .clone()
            .unwrap_or_else(|| DefaultProviders {
                metrics: Some(vec!["prometheus".to_string()]),
                ..DefaultProviders::default()
            })
    }

    /// `defaultConfig` (empty when unset); its accessors supply the defaults.
    pub fn default_config(&self) -> MeshProxyConfig {
        self.default_config.clone().unwrap_or_default()
    }
}

/// `above` merged into `below` by name: same name replaces in place, new
/// names are appended in order.
fn merge_providers(
    mut below: Vec<ExtensionProvider>,
    above: Vec<ExtensionProvider>,
) -> Vec<ExtensionProvider> {
    for p in above {
        match below.iter_mut().find(|e| e.name == p.name) {
            Some(e) => *e = p,
            None => below.push(p),
        }
    }
    below
}

fn export_to(set: Option<&[String]>) -> Vec<&str> {
    match set {
        Some(v) => v.iter().map(String::as_str).collect(),
        None => vec!["*"],
    }
}

fn default_extension_providers() -> Vec<ExtensionProvider> {
    vec![
        ExtensionProvider {
            name: "prometheus".to_string(),
            prometheus: Some(PrometheusProvider {}),
            ..ExtensionProvider::default()
        },
        ExtensionProvider {
            name: "stackdriver".to_string(),
            stackdriver: Some(StackdriverProvider::default()),
            ..ExtensionProvider::default()
        },
        ExtensionProvider {
            name: "envoy".to_string(),
            envoy_file_access_log: Some(FileAccessLogProvider {
                path: Some("/dev/stdout".to_string()),
                ..FileAccessLogProvider::default()
            }),
            ..ExtensionProvider::default()
        },
    ]
}

impl MeshProxyConfig {
    /// `other`'s fields win where set; each field is replaced whole.
    pub fn overlay(self, other: MeshProxyConfig) -> MeshProxyConfig {
        let (base, top) = (self, other);
        overlay_fields!(
            base,
            top,
            MeshProxyConfig {
                config_path,
                binary_path,
                service_cluster,
                tracing_service_name,
                drain_duration,
                discovery_address,
                discovery_refresh_delay,
                zipkin_address,
                statsd_udp_address,
                envoy_metrics_service_address,
                proxy_admin_port,
                availability_zone,
                control_plane_auth_policy,
                custom_config_file,
                stat_name_length,
                concurrency,
                proxy_bootstrap_template_path,
                interception_mode,
                tracing,
                sds,
                envoy_access_log_service,
                envoy_metrics_service,
                proxy_metadata,
                runtime_values,
                status_port,
                extra_stat_tags,
                gateway_topology,
                termination_drain_duration,
                mesh_id,
                readiness_probe,
                proxy_stats_matcher,
                hold_application_until_proxy_starts,
                ca_certificates_pem,
                image,
                private_key_provider,
                proxy_headers,
                file_flush_interval,
                file_flush_min_size_kb,
                stats_compression,
                connection_settings,
            }
        )
    }

    /// Worker threads; `None` lets the agent choose (from the CPU limit, 2 without one).
    pub fn concurrency(&self) -> Option<i32> {
        self.concurrency
    }

    pub fn discovery_address(&self) -> &str {
        self.discovery_address
            .as_deref()
            .unwrap_or("istiod.istio-system.svc:15012")
    }

    pub fn proxy_admin_port(&self) -> i32 {
        self.proxy_admin_port.unwrap_or(15000)
    }

    pub fn status_port(&self) -> i32 {
        self.status_port.unwrap_or(15020)
    }

    pub fn drain_duration(&self) -> &str {
        self.drain_duration.as_deref().unwrap_or("45s")
    }

    pub fn termination_drain_duration(&self) -> &str {
        self.termination_drain_duration.as_deref().unwrap_or("5s")
    }

    pub fn stat_name_length(&self) -> i32 {
        self.stat_name_length.unwrap_or(189)
    }

    pub fn service_cluster(&self) -> &str {
        self.service_cluster.as_deref().unwrap_or("istio-proxy")
    }

    /// `REDIRECT` unless set (`TPROXY`, `NONE`).
    pub fn interception_mode(&self) -> &str {
        self.interception_mode.as_deref().unwrap_or("REDIRECT")
    }

    pub fn control_plane_auth_policy(&self) -> &str {
        self.control_plane_auth_policy
            .as_deref()
            .unwrap_or("MUTUAL_TLS")
    }

    /// Trusted proxies in front of a gateway (XFF hops); 0 unless set.
    pub fn num_trusted_proxies(&self) -> u32 {
        self.gateway_topology
            .as_ref()
            .and_then(|t| t.num_trusted_proxies)
            .unwrap_or(0)
    }

    /// The tracer; none unless set (Istio's built-in defaults name none).
    pub fn tracing(&self) -> Option<&TracingConfig> {
        self.tracing.as_ref()
    }

    pub fn proxy_metadata(&self) -> BTreeMap<String, String> {
        self.proxy_metadata.clone().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------
// meshNetworks

api_struct!(
    /// meshNetworks: which endpoints sit on which network, and its gateways.
    MeshNetworks { networks: BTreeMap<String, Network> }
);

api_struct!(Network { endpoints: Vec<NetworkEndpoints>, gateways: Vec<NetworkGateway> });

api_struct!(
    /// Endpoints of a network: those in a CIDR, or those of a registry (cluster).
    NetworkEndpoints { from_cidr: Option<String>, from_registry: Option<String> }
);

api_struct!(
    /// A gateway into a network: a Service in a registry or a fixed address.
    NetworkGateway {
        registry_service_name: Option<String>,
        address: Option<String>,
        port: Option<u32>,
        locality: Option<String>,
    }
);
