//! Telemetry on a proxy's listeners (istiod-gateway-security.md §4.1;
//! istiod's `model/telemetry.go`, `telemetry_logging.go` and
//! `networking/core/{accesslog,tracing}.go`): the `istio.stats` filters,
//! access logs and HCM tracing of one listener class, from the proxy's
//! Telemetries over MeshConfig's `defaultProviders` and
//! `extensionProviders`; an aspect no Telemetry configures falls back to
//! the legacy MeshConfig settings (`accessLogFile`, `enableTracing`).
//!
//! Sidecar inbound listeners are the SERVER side, outbound and gateway
//! ones the CLIENT side, for every `match.mode`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::filters::{ListenerClass, named};
use super::json::{any, duration, object};
use super::{Context, Proxy};
use crate::model::istio::{
    AccessLogging, CustomTag, Metrics, MetricsOverrides, TagOverride, TagSource, TagValue,
};
use crate::model::mesh_config::{
    AccessLogFormat, ExtensionProvider, FileAccessLogProvider, MeshConfig, ProviderHeader,
    TracingCustomTag,
};
use crate::registry::ProxyType;
use crate::registry::catalog::Catalog;
use crate::registry::config::telemetry::{TelemetryEntry, find_provider};

/// What one listener class of a proxy carries for telemetry.
#[derive(Debug, Clone, Default)]
pub struct ClassTelemetry {
    /// `istio.stats` HTTP filters (one per Prometheus provider in use).
    pub http_stats: Vec<Value>,
    /// The same as network filters, for TCP chains.
    pub tcp_stats: Vec<Value>,
    /// `access_log` of HTTP connection managers.
    pub http_access_log: Vec<Value>,
    /// `access_log` of TCP proxies.
    pub tcp_access_log: Vec<Value>,
    /// `access_log` of listeners: connections no filter chain took (`NR`).
    pub listener_access_log: Vec<Value>,
    /// An HTTP connection manager's `tracing`, when on.
    pub tracing: Option<Value>,
    /// The UUID request ID extension's `use_request_id_for_trace_sampling`.
    pub use_request_id_for_trace_sampling: bool,
}

/// istiod's `PILOT_TRACE_SAMPLING` default (Istio's Helm charts set the same).
const PILOT_TRACE_SAMPLING: f64 = 1.0;

/// The text format of Istio's access logs (istiod's `EnvoyTextLogFormat`).
pub const TEXT_LOG_FORMAT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

/// The labels of Istio's JSON access logs (`EnvoyJSONLogFormatIstio`).
const JSON_LOG_LABELS: [(&str, &str); 24] = [
    ("authority", "%REQ(:AUTHORITY)%"),
    ("bytes_received", "%BYTES_RECEIVED%"),
    ("bytes_sent", "%BYTES_SENT%"),
    (
        "connection_termination_details",
        "%CONNECTION_TERMINATION_DETAILS%",
    ),
    ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
    ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
    ("duration", "%DURATION%"),
    ("method", "%REQ(:METHOD)%"),
    ("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
    ("protocol", "%PROTOCOL%"),
    ("request_id", "%REQ(X-REQUEST-ID)%"),
    ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
    ("response_code", "%RESPONSE_CODE%"),
    ("response_code_details", "%RESPONSE_CODE_DETAILS%"),
    ("response_flags", "%RESPONSE_FLAGS%"),
    ("route_name", "%ROUTE_NAME%"),
    ("start_time", "%START_TIME%"),
    ("upstream_cluster", "%UPSTREAM_CLUSTER_RAW%"),
    ("upstream_host", "%UPSTREAM_HOST%"),
    ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
    (
        "upstream_service_time",
        "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    ),
    (
        "upstream_transport_failure_reason",
        "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
    ),
    ("user_agent", "%REQ(USER-AGENT)%"),
    ("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
];

/// Istio metric names and their Prometheus names, sorted by Istio name
/// (the order `ALL_METRICS` expands in).
const METRICS: [(&str, &str); 10] = [
    ("GRPC_REQUEST_MESSAGES", "request_messages_total"),
    ("GRPC_RESPONSE_MESSAGES", "response_messages_total"),
    ("REQUEST_COUNT", "requests_total"),
    ("REQUEST_DURATION", "request_duration_milliseconds"),
    ("REQUEST_SIZE", "request_bytes"),
    ("RESPONSE_SIZE", "response_bytes"),
    ("TCP_CLOSED_CONNECTIONS", "tcp_connections_closed_total"),
    ("TCP_OPENED_CONNECTIONS", "tcp_connections_opened_total"),
    ("TCP_RECEIVED_BYTES", "tcp_received_bytes_total"),
    ("TCP_SENT_BYTES", "tcp_sent_bytes_total"),
];

/// Filter state the metadata exchange filters record, for gRPC logs.
const PEER_STATE: [&str; 2] = ["upstream_peer", "downstream_peer"];
/// The same with the keys of older proxies, for OpenTelemetry logs.
const PEER_STATE_WITH_WASM: [&str; 6] = [
    "upstream_peer",
    "downstream_peer",
    "wasm.upstream_peer",
    "wasm.upstream_peer_id",
    "wasm.downstream_peer",
    "wasm.downstream_peer_id",
];

/// The workload side a listener class serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Client,
    Server,
}

impl Mode {
    fn of(class: ListenerClass) -> Mode {
        match class {
            ListenerClass::SidecarInbound => Mode::Server,
            ListenerClass::SidecarOutbound | ListenerClass::Gateway => Mode::Client,
        }
    }

    /// The modes a `match.mode` selects (unset and CLIENT_AND_SERVER: both).
    fn selected(mode: Option<&str>) -> &'static [Mode] {
        match mode {
            Some("CLIENT") => &[Mode::Client],
            Some("SERVER") => &[Mode::Server],
            _ => &[Mode::Client, Mode::Server],
        }
    }
}

/// The telemetry of `proxy`'s listeners of `class`.
pub fn for_class(ctx: &Context, proxy: &Proxy, class: ListenerClass) -> ClassTelemetry {
    let applied = ctx
        .config
        .telemetries
        .for_workload(&proxy.namespace, &proxy.labels);
    resolve(&ctx.mesh.mesh_config, ctx.catalog, proxy, &applied, class)
}

/// The testable core: telemetry from resolved inputs (`applied` weakest
/// first).
pub fn resolve(
    mesh: &MeshConfig,
    catalog: &Catalog,
    proxy: &Proxy,
    applied: &[&TelemetryEntry],
    class: ListenerClass,
) -> ClassTelemetry {
    let r = Resolver {
        mesh,
        catalog,
        providers: mesh.extension_providers(),
        proxy,
        applied,
        mode: Mode::of(class),
    };
    let stats = r.stats(class);
    let (http_access_log, tcp_access_log, listener_access_log) = r.access_logs();
    let (tracing, use_request_id_for_trace_sampling) = r.tracing();
    ClassTelemetry {
        tcp_stats: stats.clone(),
        http_stats: stats,
        http_access_log,
        tcp_access_log,
        listener_access_log,
        tracing,
        use_request_id_for_trace_sampling,
    }
}

struct Resolver<'a> {
    mesh: &'a MeshConfig,
    catalog: &'a Catalog,
    providers: Vec<ExtensionProvider>,
    proxy: &'a Proxy,
    applied: &'a [&'a TelemetryEntry],
    mode: Mode,
}

// ---------------------------------------------------------------------------
// Metrics

/// One metric's accumulated override.
#[derive(Debug, Default)]
struct MetricOverride {
    disabled: Option<bool>,
    tags: BTreeMap<String, TagOverride>,
}

/// A provider's metrics settings: per mode, whether all metrics are off and
/// the overrides per metric.
#[derive(Debug, Default)]
struct ProviderMetrics {
    modes: BTreeMap<Mode, BTreeMap<String, MetricOverride>>,
    disabled: BTreeSet<Mode>,
    reporting_interval: Option<String>,
}

/// No metric named (or `ALL_METRICS`): every metric.
fn all_metrics(o: &MetricsOverrides) -> bool {
    let m = o.r#match.as_ref();
    m.and_then(|m| m.custom_metric.as_ref()).is_none()
        && m.and_then(|m| m.metric.as_deref())
            .is_none_or(|n| n == "ALL_METRICS")
}

fn metric_names(o: &MetricsOverrides) -> Vec<String> {
    let m = o.r#match.as_ref();
    if let Some(custom) = m.and_then(|m| m.custom_metric.as_ref()) {
        return vec![custom.clone()];
    }
    match m.and_then(|m| m.metric.as_deref()) {
        Some(name) if name != "ALL_METRICS" => vec![name.to_string()],
        _ => METRICS.iter().map(|(n, _)| n.to_string()).collect(),
    }
}

fn provider_names(refs: &[crate::model::istio::ProviderRef]) -> Vec<String> {
    refs.iter().map(|r| r.name.clone()).collect()
}

/// istiod's `mergeMetrics`: later Telemetries' provider lists replace
/// earlier ones (the last non-empty list decides which providers are in
/// scope), overrides accumulate per provider, mode and metric, and
/// disabling all metrics of a mode drops its filter until a later override
/// of that mode.
fn merge_metrics(metrics: &[&Metrics], defaults: &[String]) -> BTreeMap<String, ProviderMetrics> {
    let mut out: BTreeMap<String, ProviderMetrics> = BTreeMap::new();
    if metrics.is_empty() {
        for p in defaults {
            out.entry(p.clone()).or_default();
        }
        return out;
    }
    let mut in_scope: Vec<String> = defaults.to_vec();
    for m in metrics {
        if !m.providers.is_empty() {
            in_scope = provider_names(&m.providers);
        }
    }
    let mut parent: Vec<String> = defaults.to_vec();
    for m in metrics {
        let names = if m.providers.is_empty() {
            parent.clone()
        } else {
            provider_names(&m.providers)
        };
        parent = names.clone();
        for name in names.iter().filter(|n| in_scope.contains(n)) {
            let p = out.entry(name.clone()).or_default();
            if let Some(i) = &m.reporting_interval {
                p.reporting_interval = Some(i.clone());
            }
            for mode in [Mode::Client, Mode::Server] {
                p.modes.entry(mode).or_default();
            }
            for o in &m.overrides {
                let modes = Mode::selected(o.r#match.as_ref().and_then(|m| m.mode.as_deref()));
                if all_metrics(o) && o.disabled == Some(true) {
                    p.disabled.extend(modes.iter().copied());
                    continue;
                }
                for mode in modes {
                    p.disabled.remove(mode);
                    let per_metric = p.modes.entry(*mode).or_default();
                    for metric in metric_names(o) {
                        let entry = per_metric.entry(metric).or_default();
                        if o.disabled.is_some() {
                            entry.disabled = o.disabled;
                        }
                        entry
                            .tags
                            .extend(o.tag_overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
            }
        }
    }
    out
}

impl Resolver<'_> {
    fn provider(&self, name: &str) -> Option<&ExtensionProvider> {
        find_provider(&self.providers, name)
    }

    /// `istio.stats` filters: one per Prometheus provider whose metrics
    /// this mode has not switched off (the same config as an HTTP and as a
    /// network filter).
    fn stats(&self, class: ListenerClass) -> Vec<Value> {
        let metrics: Vec<&Metrics> = self.applied.iter().flat_map(|t| &t.spec.metrics).collect();
        let defaults = self.mesh.default_providers().metrics.unwrap_or_default();
        let mut out = Vec::new();
        for (name, p) in merge_metrics(&metrics, &defaults) {
            if self
                .provider(&name)
                .and_then(|p| p.prometheus.as_ref())
                .is_none()
                || p.disabled.contains(&self.mode)
            {
                continue;
            }
            let mut config = Map::new();
            // Inbound and gateway listeners know their service: the Host
            // header must not name it.
            if class != ListenerClass::SidecarOutbound {
                config.insert("disable_host_header_fallback".into(), json!(true));
            }
            if let Some(d) = p.reporting_interval.as_deref().and_then(duration) {
                config.insert("tcp_reporting_duration".into(), d);
            }
            let overrides: Vec<Value> = p
                .modes
                .get(&self.mode)
                .into_iter()
                .flatten()
                .map(|(metric, o)| metric_config(metric, o))
                .collect();
            if !overrides.is_empty() {
                config.insert("metrics".into(), Value::Array(overrides));
            }
            out.push(named(
                "istio.stats",
                any("stats.PluginConfig", Value::Object(config)),
            ));
        }
        out
    }
}

/// One `stats.MetricConfig`: UPSERT tags become dimensions, REMOVE ones
/// `tags_to_remove`, a disabled metric is dropped.
fn metric_config(metric: &str, o: &MetricOverride) -> Value {
    let name = METRICS
        .iter()
        .find(|(n, _)| *n == metric)
        .map_or(metric, |(_, prom)| prom);
    let mut dimensions = Map::new();
    let mut remove = Vec::new();
    for (tag, t) in &o.tags {
        if t.operation.as_deref() == Some("REMOVE") {
            remove.push(json!(tag));
        } else {
            dimensions.insert(tag.clone(), json!(t.value.as_deref().unwrap_or("")));
        }
    }
    let mut m = Map::new();
    if !dimensions.is_empty() {
        m.insert("dimensions".into(), Value::Object(dimensions));
    }
    m.insert("name".into(), json!(name));
    if !remove.is_empty() {
        m.insert("tags_to_remove".into(), Value::Array(remove));
    }
    if o.disabled == Some(true) {
        m.insert("drop".into(), json!(true));
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------
// Access logging

/// A provider's logging settings for this mode.
#[derive(Debug, Clone, Default)]
struct LogSpec {
    disabled: bool,
    /// A CEL expression (`filter` given, even empty).
    filter: Option<String>,
}

fn mode_matches(l: &AccessLogging, mode: Mode) -> bool {
    Mode::selected(l.r#match.as_ref().and_then(|m| m.mode.as_deref())).contains(&mode)
}

/// istiod's `mergeLogs`: per Telemetry (weakest first), the providers its
/// entries for this mode name replace the inherited ones; each entry then
/// enables (with its filter) or disables the providers it names, or
/// inherits its predecessor's.
fn merge_logs(
    levels: &[&[AccessLogging]],
    defaults: &[String],
    mode: Mode,
) -> BTreeMap<String, LogSpec> {
    let mut out = BTreeMap::new();
    if levels.is_empty() {
        for p in defaults {
            out.insert(p.clone(), LogSpec::default());
        }
        return out;
    }
    let mut in_scope: Vec<String> = defaults.to_vec();
    let mut filters: BTreeMap<String, Option<String>> = BTreeMap::new();
    for level in levels {
        let mut names = BTreeSet::new();
        for l in level.iter().filter(|l| mode_matches(l, mode)) {
            for p in provider_names(&l.providers) {
                filters.insert(
                    p.clone(),
                    l.filter
                        .as_ref()
                        .map(|f| f.expression.clone().unwrap_or_default()),
                );
                names.insert(p);
            }
        }
        if !names.is_empty() {
            in_scope = names.into_iter().collect();
        }
    }
    let mut parent: Vec<String> = defaults.to_vec();
    for l in levels.iter().flat_map(|l| l.iter()) {
        let names = if l.providers.is_empty() {
            parent.clone()
        } else {
            provider_names(&l.providers)
        };
        parent = names.clone();
        if !mode_matches(l, mode) {
            continue;
        }
        for p in names.into_iter().filter(|n| in_scope.contains(n)) {
            let spec = if l.disabled == Some(true) {
                LogSpec {
                    disabled: true,
                    filter: None,
                }
            } else {
                LogSpec {
                    disabled: false,
                    filter: filters.get(&p).cloned().flatten(),
                }
            };
            out.insert(p, spec);
        }
    }
    out
}

/// The response-flag filter of listener access logs: connections no
/// filter chain matched.
fn no_route_filter() -> Value {
    json!({"response_flag_filter": {"flags": ["NR"]}})
}

/// An `AccessLog` with its filters (ANDed when several).
fn access_log(name: &str, filters: Vec<Value>, typed_config: Value) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    match filters.len() {
        0 => {}
        1 => {
            m.insert(
                "filter".into(),
                filters.into_iter().next().unwrap_or_default(),
            );
        }
        _ => {
            m.insert("filter".into(), json!({"and_filter": {"filters": filters}}));
        }
    }
    m.insert("typed_config".into(), typed_config);
    Value::Object(m)
}

/// A text format as istiod writes it: a newline added when missing, Istio's
/// default when empty.
fn text_format(text: &str) -> String {
    match text {
        "" => TEXT_LOG_FORMAT.to_string(),
        t if t.ends_with('\n') => t.to_string(),
        t => format!("{t}\n"),
    }
}

/// The extra formatters a format's command operators need.
fn formatters<'v>(values: impl IntoIterator<Item = &'v str>) -> Option<Value> {
    values
        .into_iter()
        .any(|v| v.contains("%REQ_WITHOUT_QUERY"))
        .then(|| {
            json!([{
                "name": "envoy.formatter.req_without_query",
                "typed_config": any("envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery", json!({})),
            }])
        })
}

/// A `SubstitutionFormatString` of text.
fn text_log_format(text: &str, omit_empty: bool) -> Value {
    let format = text_format(text);
    let mut m = Map::new();
    if omit_empty {
        m.insert("omit_empty_values".into(), json!(true));
    }
    m.insert(
        "text_format_source".into(),
        json!({"inline_string": format}),
    );
    if let Some(f) = formatters([format.as_str()]) {
        m.insert("formatters".into(), f);
    }
    Value::Object(m)
}

/// A `SubstitutionFormatString` of JSON labels (Istio's when none).
fn json_log_format(labels: Option<&Map<String, Value>>, omit_empty: bool) -> Value {
    let labels: Map<String, Value> = match labels.filter(|l| !l.is_empty()) {
        Some(l) => {
            let sorted: BTreeMap<&String, &Value> = l.iter().collect();
            sorted
                .into_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        None => JSON_LOG_LABELS
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    };
    let found = formatters(labels.values().filter_map(Value::as_str));
    let mut m = Map::new();
    m.insert("json_format".into(), Value::Object(labels));
    if omit_empty {
        m.insert("omit_empty_values".into(), json!(true));
    }
    if let Some(f) = found {
        m.insert("formatters".into(), f);
    }
    m.insert("json_format_options".into(), json!({}));
    Value::Object(m)
}

fn file_log(path: &str, log_format: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("path".into(), json!(path));
    if let Some(f) = log_format {
        m.insert("log_format".into(), f);
    }
    any(
        "envoy.extensions.access_loggers.file.v3.FileAccessLog",
        Value::Object(m),
    )
}

/// The file log MeshConfig describes (`accessLogEncoding`, `accessLogFormat`).
fn mesh_file_log(path: &str, mesh: &MeshConfig) -> Value {
    let format = match mesh.access_log_encoding() {
        "TEXT" => Some(text_log_format(mesh.access_log_format(), false)),
        "JSON" => {
            // A format that is no JSON object falls back to Istio's labels.
            let parsed: Option<Map<String, Value>> =
                serde_json::from_str(mesh.access_log_format()).ok();
            Some(json_log_format(parsed.as_ref(), false))
        }
        _ => None,
    };
    file_log(path, format)
}

/// A file log provider's config; the built-in `envoy` provider without
/// its own format follows MeshConfig's.
fn provider_file_log(name: &str, p: &FileAccessLogProvider, mesh: &MeshConfig) -> Value {
    let omit = p.omit_empty_values == Some(true);
    if name == "envoy" && p.log_format.is_none() && !omit {
        return mesh_file_log(p.path.as_deref().unwrap_or(""), mesh);
    }
    let path = p
        .path
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or("/dev/stdout");
    let format = match &p.log_format {
        None => Some(text_log_format("", omit)),
        Some(AccessLogFormat { text: Some(t), .. }) => Some(text_log_format(t, omit)),
        Some(AccessLogFormat {
            labels: Some(l), ..
        }) => Some(json_log_format(l.as_object(), omit)),
        // A format with neither text nor labels sets none.
        Some(_) => None,
    };
    file_log(path, format)
}

/// `CommonGrpcAccessLogConfig` to a provider's service.
fn grpc_common(log_name: &str, cluster: &str, host: &str, state: &[String]) -> Value {
    json!({
        "log_name": log_name,
        "grpc_service": {"envoy_grpc": {"cluster_name": cluster, "authority": host}},
        "filter_state_objects_to_log": state,
        "transport_api_version": "V3",
    })
}

fn log_name<'a>(set: Option<&'a str>, default: &'a str) -> &'a str {
    set.filter(|n| !n.is_empty()).unwrap_or(default)
}

fn state_to_log(set: &[String], default: &[&str]) -> Vec<String> {
    if set.is_empty() {
        default.iter().map(|s| s.to_string()).collect()
    } else {
        set.to_vec()
    }
}

impl Resolver<'_> {
    /// `outbound|PORT||HOST` of a provider's service, and the host.
    fn cluster(&self, service: &str, port: Option<u32>) -> Option<(String, String)> {
        let host = self.catalog.provider_host(service).ok()?;
        Some((format!("outbound|{}||{host}", port.unwrap_or(0)), host))
    }

    /// A provider's access log (name and typed config), if it logs.
    fn provider_log(&self, p: &ExtensionProvider) -> Option<(&'static str, Value)> {
        if let Some(f) = &p.envoy_file_access_log {
            return Some((
                "envoy.access_loggers.file",
                provider_file_log(&p.name, f, self.mesh),
            ));
        }
        if let Some(a) = &p.envoy_http_als {
            let (cluster, host) = self.cluster(&a.service, a.port)?;
            let state = state_to_log(&a.filter_state_objects_to_log, &PEER_STATE);
            let mut m = Map::new();
            m.insert(
                "common_config".into(),
                grpc_common(
                    log_name(a.log_name.as_deref(), "http_envoy_accesslog"),
                    &cluster,
                    &host,
                    &state,
                ),
            );
            for (key, list) in [
                (
                    "additional_request_headers_to_log",
                    &a.additional_request_headers_to_log,
                ),
                (
                    "additional_response_headers_to_log",
                    &a.additional_response_headers_to_log,
                ),
                (
                    "additional_response_trailers_to_log",
                    &a.additional_response_trailers_to_log,
                ),
            ] {
                if !list.is_empty() {
                    m.insert(key.into(), json!(list));
                }
            }
            return Some((
                "envoy.access_loggers.http_grpc",
                any(
                    "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
                    Value::Object(m),
                ),
            ));
        }
        if let Some(a) = &p.envoy_tcp_als {
            let (cluster, host) = self.cluster(&a.service, a.port)?;
            let state = state_to_log(&a.filter_state_objects_to_log, &PEER_STATE);
            return Some((
                "envoy.tcp_grpc_access_log",
                any(
                    "envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig",
                    json!({"common_config": grpc_common(log_name(a.log_name.as_deref(), "tcp_envoy_accesslog"), &cluster, &host, &state)}),
                ),
            ));
        }
        if let Some(a) = &p.envoy_otel_als {
            let (cluster, host) = self.cluster(&a.service, a.port)?;
            let text = a
                .log_format
                .as_ref()
                .and_then(|f| f.text.as_deref())
                .filter(|t| !t.is_empty())
                .unwrap_or(TEXT_LOG_FORMAT);
            let labels = a
                .log_format
                .as_ref()
                .and_then(|f| f.labels.as_ref())
                .and_then(Value::as_object);
            let state = state_to_log(&[], &PEER_STATE_WITH_WASM);
            let mut m = Map::new();
            m.insert(
                "common_config".into(),
                grpc_common(
                    log_name(a.log_name.as_deref(), "otel_envoy_accesslog"),
                    &cluster,
                    &host,
                    &state,
                ),
            );
            m.insert("body".into(), json!({"string_value": text}));
            if let Some(l) = labels.filter(|l| !l.is_empty()) {
                let sorted: BTreeMap<&String, &Value> = l.iter().collect();
                let values: Vec<Value> = sorted
                    .into_iter()
                    .map(|(k, v)| json!({"key": k, "value": {"string_value": v.as_str().unwrap_or("")}}))
                    .collect();
                m.insert("attributes".into(), json!({"values": values}));
            }
            m.insert("disable_builtin_labels".into(), json!(true));
            let label_values = labels
                .into_iter()
                .flat_map(|l| l.values().filter_map(Value::as_str));
            if let Some(f) = formatters(std::iter::once(text).chain(label_values)) {
                m.insert("formatters".into(), f);
            }
            return Some((
                "envoy.access_loggers.open_telemetry",
                any(
                    "envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig",
                    Value::Object(m),
                ),
            ));
        }
        None
    }

    /// The access logs of HTTP connection managers, TCP proxies and
    /// listeners: from Telemetry (or `defaultProviders.accessLogging`),
    /// sorted by provider name; when those configure none, MeshConfig's
    /// `accessLogFile`.
    fn access_logs(&self) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
        let levels: Vec<&[AccessLogging]> = self
            .applied
            .iter()
            .map(|t| t.spec.access_logging.as_slice())
            .filter(|l| !l.is_empty())
            .collect();
        let defaults = self
            .mesh
            .default_providers()
            .access_logging
            .unwrap_or_default();
        let mut configured: Vec<(String, LogSpec, &'static str, Value)> = Vec::new();
        if !levels.is_empty() || !defaults.is_empty() {
            for (name, spec) in merge_logs(&levels, &defaults, self.mode) {
                let Some(p) = self.provider(&name) else {
                    continue;
                };
                if let Some((log, config)) = self.provider_log(p) {
                    configured.push((p.name.clone(), spec, log, config));
                }
            }
            configured.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let listener_logs = self.mesh.disable_envoy_listener_log != Some(true);
        if configured.is_empty() {
            let path = self.mesh.access_log_file();
            if path.is_empty() {
                return (Vec::new(), Vec::new(), Vec::new());
            }
            let log = |filters: Vec<Value>| {
                access_log(
                    "envoy.access_loggers.file",
                    filters,
                    mesh_file_log(path, self.mesh),
                )
            };
            let listener = if listener_logs {
                vec![log(vec![no_route_filter()])]
            } else {
                Vec::new()
            };
            return (vec![log(Vec::new())], vec![log(Vec::new())], listener);
        }
        let build = |extra: Option<Value>| -> Vec<Value> {
            configured
                .iter()
                .filter(|(_, spec, _, _)| !spec.disabled)
                .map(|(_, spec, name, config)| {
                    let mut filters: Vec<Value> = extra.iter().cloned().collect();
                    if let Some(expr) = &spec.filter {
                        filters.push(json!({"extension_filter": {
                            "name": "envoy.access_loggers.extension_filters.cel",
                            "typed_config": any(
                                "envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                                json!({"expression": expr}),
                            ),
                        }}));
                    }
                    access_log(name, filters, config.clone())
                })
                .collect()
        };
        let plain = build(None);
        let listener = if listener_logs {
            build(Some(no_route_filter()))
        } else {
            Vec::new()
        };
        (plain.clone(), plain, listener)
    }
}

// ---------------------------------------------------------------------------
// Tracing

/// The tracing settings of one mode, as Telemetries layer them.
#[derive(Debug, Clone)]
struct TracingSpec<'p> {
    provider: Option<&'p ExtensionProvider>,
    disabled: bool,
    random_sampling: Option<f64>,
    custom_tags: BTreeMap<String, CustomTag>,
    use_request_id: bool,
    istio_tags: bool,
}

/// A `Percent`: whole numbers without a fraction, as Envoy prints doubles.
fn percent(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!({"value": v as i64})
    } else {
        json!({"value": v})
    }
}

/// A custom tag reading request metadata that RBAC shadow rules write.
fn dry_run_tag(tag: &str, key: &str) -> Value {
    json!({
        "tag": tag,
        "metadata": {
            "kind": {"request": {}},
            "metadata_key": {"key": "envoy.filters.http.rbac", "path": [{"key": key}]},
        },
    })
}

/// One custom tag, from the first source it names (Telemetry's and
/// `defaultConfig.tracing`'s tags have the same sources; only Telemetry has
/// a formatter).
fn custom_tag(
    name: &str,
    environment: Option<&TagSource>,
    header: Option<&TagSource>,
    literal: Option<&TagValue>,
    formatter: Option<&TagValue>,
) -> Option<Value> {
    if let Some(e) = environment {
        Some(source_tag(
            name,
            "environment",
            &e.name,
            e.default_value.as_deref(),
        ))
    } else if let Some(h) = header {
        Some(source_tag(
            name,
            "request_header",
            &h.name,
            h.default_value.as_deref(),
        ))
    } else if let Some(l) = literal {
        Some(literal_tag(name, l.value.as_deref().unwrap_or("")))
    } else {
        formatter.map(|f| json!({"tag": name, "value": f.value.as_deref().unwrap_or("")}))
    }
}

fn literal_tag(tag: &str, value: &str) -> Value {
    json!({"tag": tag, "literal": {"value": value}})
}

fn source_tag(tag: &str, kind: &str, name: &str, default: Option<&str>) -> Value {
    let mut source = Map::new();
    source.insert("name".into(), json!(name));
    if let Some(d) = default.filter(|d| !d.is_empty()) {
        source.insert("default_value".into(), json!(d));
    }
    object([("tag", json!(tag)), (kind, Value::Object(source))])
}

/// A provider's request headers.
fn headers_to_add(headers: &[ProviderHeader]) -> Option<Value> {
    (!headers.is_empty()).then(|| {
        headers
            .iter()
            .map(|h| {
                json!({
                    "header": {"key": h.name, "value": h.value.as_deref().unwrap_or("")},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                })
            })
            .collect()
    })
}

impl Resolver<'_> {
    /// The tags every Istio trace carries: the workload's identity and the
    /// dry-run authorization results.
    fn istio_tags(&self) -> Vec<Value> {
        let (service, revision) = self.proxy.canonical();
        let mesh_id = self
            .proxy
            .metadata
            .get("MESH_ID")
            .or(self.proxy.config.mesh_id.as_ref())
            .map_or(self.mesh.trust_domain(), String::as_str);
        vec![
            literal_tag("istio.canonical_revision", &revision),
            literal_tag("istio.canonical_service", &service),
            literal_tag("istio.mesh_id", mesh_id),
            literal_tag("istio.namespace", &self.proxy.namespace),
            literal_tag("istio.cluster_id", "Kubernetes"),
            dry_run_tag(
                "istio.authorization.dry_run.allow_policy.name",
                "istio_dry_run_allow_shadow_effective_policy_id",
            ),
            dry_run_tag(
                "istio.authorization.dry_run.allow_policy.result",
                "istio_dry_run_allow_shadow_engine_result",
            ),
            dry_run_tag(
                "istio.authorization.dry_run.deny_policy.name",
                "istio_dry_run_deny_shadow_effective_policy_id",
            ),
            dry_run_tag(
                "istio.authorization.dry_run.deny_policy.result",
                "istio_dry_run_deny_shadow_engine_result",
            ),
        ]
    }

    /// `defaultConfig.tracing`'s custom tags.
    fn proxy_config_tags(&self) -> Vec<Value> {
        let tags = self.proxy.config.tracing().map(|t| &t.custom_tags);
        tags.into_iter()
            .flatten()
            .filter_map(|(name, t): (&String, &TracingCustomTag)| {
                custom_tag(
                    name,
                    t.environment.as_ref(),
                    t.header.as_ref(),
                    t.literal.as_ref(),
                    None,
                )
            })
            .collect()
    }

    /// The sampling `defaultConfig.tracing.sampling` asks for, else
    /// `PILOT_TRACE_SAMPLING`; over 100 means 1.
    fn proxy_config_sampling(&self) -> f64 {
        match self.proxy.config.tracing().and_then(|t| t.sampling) {
            Some(s) if s > 100.0 => 1.0,
            Some(s) if s != 0.0 => s,
            _ => PILOT_TRACE_SAMPLING,
        }
    }

    fn max_path_tag_length(&self) -> Option<u32> {
        self.proxy
            .config
            .tracing()
            .and_then(|t| t.max_path_tag_length)
            .filter(|l| *l != 0)
    }

    /// The HCM `tracing` and the request ID setting: from Telemetry (or
    /// `defaultProviders.tracing`), else MeshConfig's `enableTracing`
    /// with `defaultConfig.tracing`.
    fn tracing(&self) -> (Option<Value>, bool) {
        let entries: Vec<&crate::model::istio::Tracing> =
            self.applied.iter().flat_map(|t| &t.spec.tracing).collect();
        let defaults = self.mesh.default_providers().tracing.unwrap_or_default();
        if entries.is_empty() && defaults.is_empty() {
            return (self.legacy_tracing(), true);
        }
        let mut spec = TracingSpec {
            // Only the first default provider is used.
            provider: defaults.first().and_then(|n| self.provider(n)),
            disabled: false,
            random_sampling: None,
            custom_tags: BTreeMap::new(),
            use_request_id: true,
            istio_tags: true,
        };
        for t in entries {
            let mode = t.r#match.as_ref().and_then(|m| m.mode.as_deref());
            if !Mode::selected(mode).contains(&self.mode) {
                continue;
            }
            if let Some(first) = t.providers.first() {
                spec.provider = self.provider(&first.name);
            }
            if let Some(d) = t.disable_span_reporting {
                spec.disabled = d;
            }
            if !t.custom_tags.is_empty() {
                spec.custom_tags = t.custom_tags.clone();
            }
            if let Some(s) = t.random_sampling_percentage {
                spec.random_sampling = Some(s);
            }
            if let Some(u) = t.use_request_id_for_trace_sampling {
                spec.use_request_id = u;
            }
            if let Some(i) = t.enable_istio_tags {
                spec.istio_tags = i;
            }
        }
        let provider = match spec.provider {
            Some(p) if !spec.disabled => p,
            _ => return (None, true),
        };
        // A provider that cannot trace, or whose service is unknown, leaves
        // the connection manager without tracing (istiod logs it).
        let Some((mut tracing, custom_sampler)) = self.provider_tracing(provider) else {
            return (None, true);
        };
        let sampling = if custom_sampler {
            100.0
        } else {
            spec.random_sampling
                .unwrap_or_else(|| self.proxy_config_sampling())
        };
        let mut tags = Vec::new();
        if spec.istio_tags {
            tags.extend(self.istio_tags());
        }
        if spec.custom_tags.is_empty() {
            tags.extend(self.proxy_config_tags());
        } else {
            tags.extend(spec.custom_tags.iter().filter_map(|(name, t)| {
                custom_tag(
                    name,
                    t.environment.as_ref(),
                    t.header.as_ref(),
                    t.literal.as_ref(),
                    t.formatter.as_ref(),
                )
            }));
        }
        if !tracing.contains_key("max_path_tag_length")
            && let Some(l) = self.max_path_tag_length()
        {
            tracing.insert("max_path_tag_length".into(), json!(l));
        }
        (
            Some(tracing_json(sampling, tags, tracing)),
            spec.use_request_id,
        )
    }

    /// No Telemetry tracing: MeshConfig `enableTracing` (on by default)
    /// gives every connection manager sampling and Istio's tags; the tracer
    /// itself is the bootstrap's (`defaultConfig.tracing`).
    fn legacy_tracing(&self) -> Option<Value> {
        if !self.mesh.enable_tracing() {
            return None;
        }
        let istio_tags = self
            .proxy
            .config
            .tracing()
            .and_then(|t| t.enable_istio_tags)
            .unwrap_or(true);
        let mut tags = if istio_tags {
            self.istio_tags()
        } else {
            Vec::new()
        };
        tags.extend(self.proxy_config_tags());
        let mut rest = Map::new();
        if let Some(l) = self.max_path_tag_length() {
            rest.insert("max_path_tag_length".into(), json!(l));
        }
        Some(tracing_json(self.proxy_config_sampling(), tags, rest))
    }

    /// The provider part of a tracing config (`provider`, and
    /// `max_path_tag_length`, `spawn_upstream_span` when set), and whether
    /// the tracer samples itself; None when istiod can build no tracer.
    fn provider_tracing(&self, p: &ExtensionProvider) -> Option<(Map<String, Value>, bool)> {
        let router = self.proxy.kind == ProxyType::Router;
        let service_name = self.proxy.service_cluster();
        let (name, config, max_tag, spawn, sampler) = if let Some(z) = &p.zipkin {
            let (cluster, host) = self.cluster(&z.service, z.port)?;
            let path = z
                .path
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("/api/v2/spans");
            let timeout = z
                .timeout
                .as_deref()
                .and_then(duration)
                .unwrap_or_else(|| json!("5s"));
            let mut http = Map::new();
            http.insert(
                "http_uri".into(),
                json!({"uri": format!("http://{host}{path}"), "cluster": cluster, "timeout": timeout}),
            );
            if let Some(h) = headers_to_add(&z.headers) {
                http.insert("request_headers_to_add".into(), h);
            }
            let mut m = Map::new();
            // 128-bit trace IDs unless 64-bit ones are asked for.
            if z.enable_64bit_trace_id != Some(true) {
                m.insert("trace_id_128bit".into(), json!(true));
            }
            m.insert("shared_span_context".into(), json!(false));
            m.insert("collector_endpoint_version".into(), json!("HTTP_JSON"));
            if z.trace_context_option.as_deref() == Some("USE_B3_WITH_W3C_PROPAGATION") {
                m.insert(
                    "trace_context_option".into(),
                    json!("USE_B3_WITH_W3C_PROPAGATION"),
                );
            }
            m.insert("collector_service".into(), Value::Object(http));
            (
                "envoy.tracers.zipkin",
                any("envoy.config.trace.v3.ZipkinConfig", Value::Object(m)),
                z.max_tag_length,
                router,
                false,
            )
        } else if let Some(d) = &p.datadog {
            let (cluster, host) = self.cluster(&d.service, d.port)?;
            (
                "envoy.tracers.datadog",
                any(
                    "envoy.config.trace.v3.DatadogConfig",
                    json!({"collector_cluster": cluster, "service_name": service_name, "collector_hostname": host}),
                ),
                d.max_tag_length,
                router,
                false,
            )
        } else if let Some(s) = &p.skywalking {
            let (cluster, host) = self.cluster(&s.service, s.port)?;
            (
                "envoy.tracers.skywalking",
                any(
                    "envoy.config.trace.v3.SkyWalkingConfig",
                    json!({"grpc_service": {"envoy_grpc": {"cluster_name": cluster, "authority": host}}}),
                ),
                None,
                // SkyWalking always spawns upstream spans.
                true,
                false,
            )
        } else if let Some(o) = &p.opentelemetry {
            let (cluster, host) = self.cluster(&o.service, o.port)?;
            let semantic =
                o.service_attribute_enrichment.as_deref() == Some("OTEL_SEMANTIC_CONVENTIONS");
            let mut m = Map::new();
            match &o.http {
                Some(http) => {
                    let path = http.path.as_deref().unwrap_or("");
                    let uri = format!("{host}/{}", path.trim_start_matches('/'));
                    let mut uri_m = Map::new();
                    uri_m.insert("uri".into(), json!(uri.trim_end_matches('/')));
                    uri_m.insert("cluster".into(), json!(cluster));
                    if let Some(t) = http.timeout.as_deref().and_then(duration) {
                        uri_m.insert("timeout".into(), t);
                    }
                    let mut svc = Map::new();
                    svc.insert("http_uri".into(), Value::Object(uri_m));
                    if let Some(h) = headers_to_add(&http.headers) {
                        svc.insert("request_headers_to_add".into(), h);
                    }
                    m.insert(
                        "service_name".into(),
                        json!(self.otel_service_name(semantic)),
                    );
                    m.insert("http_service".into(), Value::Object(svc));
                }
                None => {
                    let mut grpc = Map::new();
                    grpc.insert(
                        "envoy_grpc".into(),
                        json!({"cluster_name": cluster, "authority": host}),
                    );
                    let g = o.grpc.as_ref();
                    if let Some(t) = g.and_then(|g| g.timeout.as_deref()).and_then(duration) {
                        grpc.insert("timeout".into(), t);
                    }
                    let metadata: Vec<Value> = g
                        .map(|g| g.initial_metadata.as_slice())
                        .unwrap_or_default()
                        .iter()
                        .map(|h| json!({"key": h.name, "value": h.value.as_deref().unwrap_or("")}))
                        .collect();
                    if !metadata.is_empty() {
                        grpc.insert("initial_metadata".into(), Value::Array(metadata));
                    }
                    m.insert("grpc_service".into(), Value::Object(grpc));
                    m.insert(
                        "service_name".into(),
                        json!(self.otel_service_name(semantic)),
                    );
                }
            }
            let mut detectors = Vec::new();
            let rd = o.resource_detectors.as_ref();
            if rd.is_some_and(|r| r.environment.is_some()) || semantic {
                detectors.push(json!({
                    "name": "envoy.tracers.opentelemetry.resource_detectors.environment",
                    "typed_config": any("envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig", json!({})),
                }));
            }
            if rd.is_some_and(|r| r.dynatrace.is_some()) {
                detectors.push(json!({
                    "name": "envoy.tracers.opentelemetry.resource_detectors.dynatrace",
                    "typed_config": any("envoy.extensions.tracers.opentelemetry.resource_detectors.v3.DynatraceResourceDetectorConfig", json!({})),
                }));
            }
            if !detectors.is_empty() {
                m.insert("resource_detectors".into(), Value::Array(detectors));
            }
            (
                "envoy.tracers.opentelemetry",
                any(
                    "envoy.config.trace.v3.OpenTelemetryConfig",
                    Value::Object(m),
                ),
                o.max_tag_length,
                router,
                // A sampler of its own (Dynatrace) sees every request.
                o.dynatrace_sampler.is_some(),
            )
        } else {
            return None;
        };
        let mut m = Map::new();
        if let Some(l) = max_tag.filter(|l| *l != 0) {
            m.insert("max_path_tag_length".into(), json!(l));
        }
        m.insert(
            "provider".into(),
            json!({"name": name, "typed_config": config}),
        );
        if spawn {
            m.insert("spawn_upstream_span".into(), json!(true));
        }
        Some((m, sampler))
    }

    /// The OpenTelemetry service name: the node's cluster, or with
    /// semantic conventions the workload's name as OpenTelemetry derives it.
    fn otel_service_name(&self, semantic: bool) -> String {
        if !semantic {
            return self.proxy.service_cluster();
        }
        semantic_service_name(self.proxy)
    }
}

/// The workload's name as OpenTelemetry's semantic conventions derive it.
fn semantic_service_name(proxy: &Proxy) -> String {
    let labels = &proxy.labels;
    labels
        .get("app.kubernetes.io/instance")
        .or_else(|| labels.get("app.kubernetes.io/name"))
        .filter(|v| !v.is_empty())
        .map_or_else(|| proxy.workload_name.clone(), Clone::clone)
}

/// The values tracing takes from the workload itself: the
/// `istio.canonical_service` and `istio.canonical_revision` tags and a
/// provider's `service_name`. Everything else in a sidecar's outbound
/// listeners is the same for every workload that sees the same services,
/// so `diff` generates them once per view with these values written as
/// placeholders ([`WorkloadNames::mask`]) and puts each workload's own back
/// ([`WorkloadNames::unmask`]). The placeholders never occur otherwise, so
/// the two are exact inverses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadNames {
    canonical_service: String,
    canonical_revision: String,
    /// `service_name` values: the service cluster, the semantic name.
    service_names: [String; 2],
}

const SERVICE_PLACEHOLDERS: [&str; 2] = ["{service_cluster}", "{semantic_service_name}"];

impl WorkloadNames {
    pub fn of(proxy: &Proxy) -> WorkloadNames {
        let (canonical_service, canonical_revision) = proxy.canonical();
        WorkloadNames {
            canonical_service,
            canonical_revision,
            service_names: [proxy.service_cluster(), semantic_service_name(proxy)],
        }
    }

    /// Write the workload's values in `listener`'s tracing as placeholders.
    pub fn mask(&self, listener: &mut Value) {
        self.rewrite(listener, true);
    }

    /// Put the workload's values back in place of the placeholders.
    pub fn unmask(&self, listener: &mut Value) {
        self.rewrite(listener, false);
    }

    fn rewrite(&self, v: &mut Value, mask: bool) {
        match v {
            Value::Object(m) => match m.get_mut("tracing") {
                Some(tracing) => self.rewrite_tracing(tracing, mask),
                None => m.values_mut().for_each(|x| self.rewrite(x, mask)),
            },
            Value::Array(a) => a.iter_mut().for_each(|x| self.rewrite(x, mask)),
            _ => {}
        }
    }

    fn rewrite_tracing(&self, tracing: &mut Value, mask: bool) {
        // Whether `slot` held the value swapped.
        let swap = |slot: &mut Value, placeholder: &str, value: &str| -> bool {
            let (from, to) = if mask {
                (value, placeholder)
            } else {
                (placeholder, value)
            };
            let held = slot.as_str() == Some(from);
            if held {
                *slot = json!(to);
            }
            held
        };
        for tag in tracing["custom_tags"].as_array_mut().into_iter().flatten() {
            let (placeholder, value) = match tag["tag"].as_str() {
                Some("istio.canonical_service") => ("{canonical_service}", &self.canonical_service),
                Some("istio.canonical_revision") => {
                    ("{canonical_revision}", &self.canonical_revision)
                }
                _ => continue,
            };
            swap(&mut tag["literal"]["value"], placeholder, value);
        }
        if let Some(slot) = tracing
            .pointer_mut("/provider/typed_config")
            .and_then(Value::as_object_mut)
            .and_then(|config| config.get_mut("service_name"))
        {
            for (placeholder, value) in SERVICE_PLACEHOLDERS.iter().zip(&self.service_names) {
                if swap(slot, placeholder, value) {
                    break;
                }
            }
        }
    }
}

/// An HCM `tracing`: sampling, then `max_path_tag_length`, the custom tags
/// sorted by name, and the provider fields, in field-number order.
fn tracing_json(sampling: f64, mut tags: Vec<Value>, mut rest: Map<String, Value>) -> Value {
    tags.sort_by(|a, b| a["tag"].as_str().cmp(&b["tag"].as_str()));
    let mut m = Map::new();
    m.insert("client_sampling".into(), percent(100.0));
    m.insert("random_sampling".into(), percent(sampling));
    m.insert("overall_sampling".into(), percent(100.0));
    if let Some(l) = rest.remove("max_path_tag_length") {
        m.insert("max_path_tag_length".into(), l);
    }
    if !tags.is_empty() {
        m.insert("custom_tags".into(), Value::Array(tags));
    }
    m.extend(rest);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::istio::TelemetrySpec;
    use crate::registry::catalog::ObjRef;
    use crate::registry::config::ConfigMeta;

    fn spec(yaml: &str) -> TelemetrySpec {
        crate::load::yaml::decode_text(yaml, &mut |_| {}).expect("spec")
    }

    fn entry(yaml: &str) -> TelemetryEntry {
        TelemetryEntry {
            meta: ConfigMeta {
                name: "t".into(),
                namespace: "default".into(),
                creation: None,
                source: ObjRef {
                    kind: "Telemetry",
                    namespace: "default".into(),
                    name: "t".into(),
                },
                internal: Default::default(),
            },
            selector: None,
            target_refs: Vec::new(),
            spec: spec(yaml),
        }
    }

    #[test]
    fn metric_overrides_merge_per_mode() {
        let a = spec(
            "metrics: [{providers: [{name: prometheus}], overrides: [{match: {metric: REQUEST_COUNT}, tagOverrides: {x: {value: a}, y: {operation: REMOVE}}}]}]",
        );
        let b = spec(
            "metrics: [{overrides: [{match: {metric: REQUEST_COUNT, mode: SERVER}, disabled: true}, {match: {mode: CLIENT}, disabled: true}]}]",
        );
        let metrics: Vec<&Metrics> = a.metrics.iter().chain(&b.metrics).collect();
        let merged = merge_metrics(&metrics, &["prometheus".to_string()]);
        let p = &merged["prometheus"];
        assert!(p.disabled.contains(&Mode::Client));
        let server = &p.modes[&Mode::Server]["REQUEST_COUNT"];
        assert_eq!(
            metric_config("REQUEST_COUNT", server),
            json!({"dimensions": {"x": "a"}, "name": "requests_total", "tags_to_remove": ["y"], "drop": true})
        );
    }

    #[test]
    fn access_logs_by_mode_and_disabled() {
        let root = entry("accessLogging: [{providers: [{name: envoy}]}]");
        let ns = entry("accessLogging: [{match: {mode: SERVER}, disabled: true}]");
        let levels = [
            root.spec.access_logging.as_slice(),
            ns.spec.access_logging.as_slice(),
        ];
        let server = merge_logs(&levels, &[], Mode::Server);
        assert!(server["envoy"].disabled);
        let client = merge_logs(&levels, &[], Mode::Client);
        assert!(!client["envoy"].disabled);
    }

    #[test]
    fn default_providers_stand_for_telemetry() {
        let mesh: MeshConfig = crate::load::yaml::decode_text(
            "defaultProviders: {accessLogging: [envoy], tracing: [missing]}\naccessLogFile: /dev/null",
            &mut |_| {},
        )
        .expect("mesh");
        let proxy = crate::xds::generate::proxy::Proxy {
            config: Default::default(),
            workload: 0,
            kind: ProxyType::Sidecar,
            id: "a.default".into(),
            name: "a".into(),
            namespace: "default".into(),
            labels: Default::default(),
            ips: vec!["10.0.0.1".parse().unwrap()],
            dns_domain: "default.svc.cluster.local".into(),
            interception: crate::xds::generate::Interception::Redirect,
            metadata: Default::default(),
            locality: String::new(),
            service_account: "default".into(),
            identity: String::new(),
            node: None,
            workload_name: "a".into(),
        };
        let t = resolve(
            &mesh,
            &Catalog::default(),
            &proxy,
            &[],
            ListenerClass::SidecarOutbound,
        );
        // The default logging provider wins over accessLogFile...
        assert_eq!(t.http_access_log.len(), 1);
        assert_eq!(t.http_access_log[0]["typed_config"]["path"], "/dev/stdout");
        // ...and a default tracing provider that does not exist turns tracing
        // off rather than falling back to enableTracing.
        assert!(t.tracing.is_none());
        // Without metrics providers there is no stats filter.
        let none: MeshConfig =
            crate::load::yaml::decode_text("defaultProviders: {metrics: []}", &mut |_| {})
                .expect("mesh");
        let t = resolve(
            &none,
            &Catalog::default(),
            &proxy,
            &[],
            ListenerClass::Gateway,
        );
        assert!(t.http_stats.is_empty() && t.tcp_stats.is_empty());
    }

    #[test]
    fn percent_prints_like_envoy() {
        assert_eq!(percent(100.0), json!({"value": 100}));
        assert_eq!(percent(0.5), json!({"value": 0.5}));
    }
}
