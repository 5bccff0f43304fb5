//! Telemetry and extensions (istiod-gateway-security.md §4.1, §4.2):
//! metrics overrides, access logs and tracing from Telemetry resources and
//! MeshConfig (testdata/telemetry), WasmPlugin and TrafficExtension filters
//! with their ECDS resources (testdata/wasm), PeerAuthentication's effect on
//! clients' auto mTLS, and the kinds with no effect. Every proxy of each
//! scenario is judged by a real Envoy.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use meshsim::diag::Severity;
use meshsim::session::{Inputs, Session};
use serde_json::{Value, json};

fn dir(name: &str) -> PathBuf {
    Path::new(ROOT).join("testdata").join(name)
}

fn mesh() -> Session {
    open(vec![dir("telemetry/mesh")])
}

fn wasm() -> Session {
    open(vec![dir("wasm")])
}

/// The file log Istio writes with its default text format.
fn istio_file_log() -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "path": "/dev/stdout",
        "log_format": {"text_format_source": {"inline_string": meshsim::xds::generate::telemetry::TEXT_LOG_FORMAT}},
    })
}

fn filter_names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

/// A chain's HTTP filter `name` (its whole entry).
fn http_filter<'a>(chain: &'a Value, name: &str) -> &'a Value {
    hcm(chain)["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The first chain of listener `l` with a connection manager.
fn http_chain(l: &Value) -> &Value {
    chains(l)
        .into_iter()
        .find(|c| has_filter(c, "envoy.filters.network.http_connection_manager"))
        .unwrap_or_else(|| panic!("no HTTP chain in {}", l["name"]))
}

/// The virtualInbound chain named `name` that has (or lacks) an HCM.
fn inbound_chain<'a>(d: &'a Value, name: &str, http: bool) -> &'a Value {
    chains(listener(d, "virtualInbound"))
        .into_iter()
        .find(|c| {
            c["name"] == name
                && has_filter(c, "envoy.filters.network.http_connection_manager") == http
        })
        .unwrap_or_else(|| panic!("no inbound chain {name}"))
}

/// The listener of a service's VIP on `port`.
fn vip_listener<'a>(s: &Session, d: &'a Value, host: &str, port: u16) -> &'a Value {
    let (_, svc) = s.catalog.with_host(host).next().expect("service");
    listener(d, &format!("{}_{port}", svc.address))
}

fn stats_config(filters: &Value) -> &Value {
    &filters
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "istio.stats")
        .expect("istio.stats")["typed_config"]
}

#[test]
fn sidecar_metrics_logs_and_tracing_from_telemetry() {
    let s = mesh();
    let d = dump(&s, "deploy/web", "shop");

    // Outbound (CLIENT): the mesh-wide dimension, shop's dropped request size.
    let out = http_chain(listener(&d, "0.0.0.0_8080"));
    let stats = &http_filter(out, "istio.stats")["typed_config"];
    assert_eq!(
        stats,
        &json!({
            "@type": "type.googleapis.com/stats.PluginConfig",
            "metrics": [
                {"dimensions": {"request_host": "request.host"}, "name": "requests_total"},
                {"name": "request_bytes", "drop": true},
            ],
        })
    );
    let h = hcm(out);
    assert_eq!(
        h["access_log"],
        json!([{"name": "envoy.access_loggers.file", "typed_config": istio_file_log()}])
    );
    let tracing = &h["tracing"];
    assert_eq!(tracing["random_sampling"], json!({"value": 10}));
    assert_eq!(tracing["client_sampling"], json!({"value": 100}));
    assert_eq!(tracing["max_path_tag_length"], 256);
    assert!(tracing.get("spawn_upstream_span").is_none());
    assert_eq!(
        tracing["provider"],
        json!({
            "name": "envoy.tracers.zipkin",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
                "trace_id_128bit": true,
                "shared_span_context": false,
                "collector_endpoint_version": "HTTP_JSON",
                "collector_service": {"http_uri": {
                    "uri": "http://zipkin.istio-system.svc.cluster.local/api/v2/spans",
                    "cluster": "outbound|9411||zipkin.istio-system.svc.cluster.local",
                    "timeout": "5s",
                }},
            },
        })
    );
    let tags: Vec<&str> = tracing["custom_tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        [
            "istio.authorization.dry_run.allow_policy.name",
            "istio.authorization.dry_run.allow_policy.result",
            "istio.authorization.dry_run.deny_policy.name",
            "istio.authorization.dry_run.deny_policy.result",
            "istio.canonical_revision",
            "istio.canonical_service",
            "istio.cluster_id",
            "istio.mesh_id",
            "istio.namespace",
        ]
    );
    assert_eq!(tracing["custom_tags"][4]["literal"]["value"], "v1");
    assert_eq!(tracing["custom_tags"][5]["literal"]["value"], "web");

    // Inbound (SERVER): the host header is not trusted, shop removes a tag
    // from the duration, and logs only failed requests.
    let inbound = inbound_chain(&d, "0.0.0.0_8080", true);
    assert_eq!(
        &http_filter(inbound, "istio.stats")["typed_config"],
        &json!({
            "@type": "type.googleapis.com/stats.PluginConfig",
            "disable_host_header_fallback": true,
            "metrics": [
                {"dimensions": {"request_host": "request.host"}, "name": "requests_total"},
                {"name": "request_duration_milliseconds", "tags_to_remove": ["source_principal"]},
            ],
        })
    );
    let cel = json!({"extension_filter": {
        "name": "envoy.access_loggers.extension_filters.cel",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
            "expression": "response.code >= 400",
        },
    }});
    assert_eq!(
        hcm(inbound)["access_log"],
        json!([{"name": "envoy.access_loggers.file", "filter": cel, "typed_config": istio_file_log()}])
    );
    assert_eq!(
        hcm(inbound)["tracing"]["random_sampling"],
        json!({"value": 10})
    );

    // TCP proxies log too; the listeners log connections no chain took.
    let tcp = &chains(vip_listener(&s, &d, "db.shop.svc.cluster.local", 5432))[0];
    assert_eq!(
        filter_names(&tcp["filters"]),
        ["istio.stats", "envoy.filters.network.tcp_proxy"]
    );
    let proxy = filter(tcp, "envoy.filters.network.tcp_proxy");
    assert_eq!(
        proxy["access_log"],
        json!([{"name": "envoy.access_loggers.file", "typed_config": istio_file_log()}])
    );
    let keys: Vec<&String> = proxy.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["@type", "stat_prefix", "cluster", "access_log"]);
    let nr = json!({"response_flag_filter": {"flags": ["NR"]}});
    let vo = listener(&d, "virtualOutbound");
    assert_eq!(
        vo["access_log"],
        json!([{"name": "envoy.access_loggers.file", "filter": nr, "typed_config": istio_file_log()}])
    );
    let vo_chains = chains(vo);
    assert!(
        filter(vo_chains[0], "envoy.filters.network.tcp_proxy")
            .get("access_log")
            .is_none(),
        "the blackhole chain logs nothing"
    );
    assert!(filter(vo_chains[1], "envoy.filters.network.tcp_proxy")["access_log"].is_array());
    assert_eq!(
        listener(&d, "virtualInbound")["access_log"][0]["filter"],
        json!({"and_filter": {"filters": [nr, cel]}})
    );
}

#[test]
fn disabled_metrics_and_logs_remove_them() {
    let s = mesh();
    let d = dump(&s, "deploy/db", "shop");
    // CLIENT metrics off: no stats filter on any outbound chain.
    for l in listeners(&d)
        .into_iter()
        .filter(|l| l["name"] != "virtualInbound")
    {
        assert!(
            !serde_json::to_string(l).unwrap().contains("istio.stats"),
            "{}",
            l["name"]
        );
    }
    let tcp = inbound_chain(&d, "0.0.0.0_5432", false);
    assert_eq!(
        filter_names(&tcp["filters"]),
        [
            "istio.metadata_exchange",
            "istio.stats",
            "envoy.filters.network.tcp_proxy"
        ]
    );
    // Access logging disabled for both modes: no logs, not even MeshConfig's.
    let all = serde_json::to_string(&listeners(&d)).unwrap();
    assert!(!all.contains("access_log"));
    // Tracing is inherited from the mesh.
    assert_eq!(
        hcm(http_chain(listener(&d, "0.0.0.0_8080")))["tracing"]["random_sampling"],
        json!({"value": 10})
    );
}

#[test]
fn workload_tracing_provider_tags_and_log_providers() {
    let s = mesh();
    let d = dump(&s, "deploy/api", "shop");
    let out = hcm(http_chain(listener(&d, "0.0.0.0_80")));
    let tracing = &out["tracing"];
    assert_eq!(tracing["random_sampling"], json!({"value": 50}));
    assert_eq!(
        tracing["provider"],
        json!({
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                "grpc_service": {"envoy_grpc": {
                    "cluster_name": "outbound|4317||otel-collector.observability.svc.cluster.local",
                    "authority": "otel-collector.observability.svc.cluster.local",
                }},
                "service_name": "api.shop",
            },
        })
    );
    let custom: Vec<&Value> = tracing["custom_tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["tag"].as_str().unwrap().starts_with("istio."))
        .collect();
    assert_eq!(
        custom,
        [
            &json!({"tag": "pod", "environment": {"name": "POD_NAME"}}),
            &json!({"tag": "team", "literal": {"value": "payments"}}),
            &json!({"tag": "user", "request_header": {"name": "x-user", "default_value": "anonymous"}}),
        ]
    );
    // Server spans are off: no tracing inbound, request IDs still sample.
    let inbound = hcm(inbound_chain(&d, "0.0.0.0_8080", true));
    assert!(inbound.get("tracing").is_none());
    assert_eq!(
        inbound["request_id_extension"]["typed_config"]["use_request_id_for_trace_sampling"],
        true
    );
    // Two providers, by provider name; the workload's list replaces shop's.
    let logs = &inbound["access_log"];
    assert_eq!(
        filter_names(logs),
        [
            "envoy.access_loggers.file",
            "envoy.access_loggers.open_telemetry"
        ]
    );
    assert_eq!(
        logs[0]["typed_config"]["log_format"],
        json!({
            "json_format": {"code": "%RESPONSE_CODE%", "path": "%REQ_WITHOUT_QUERY(:PATH)%"},
            "formatters": [{
                "name": "envoy.formatter.req_without_query",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery"},
            }],
            "json_format_options": {},
        })
    );
    let otel = &logs[1]["typed_config"];
    assert_eq!(
        otel["common_config"],
        json!({
            "log_name": "otel_envoy_accesslog",
            "grpc_service": {"envoy_grpc": {
                "cluster_name": "outbound|4317||otel-collector.observability.svc.cluster.local",
                "authority": "otel-collector.observability.svc.cluster.local",
            }},
            "filter_state_objects_to_log": ["upstream_peer", "downstream_peer", "wasm.upstream_peer", "wasm.upstream_peer_id", "wasm.downstream_peer", "wasm.downstream_peer_id"],
            "transport_api_version": "V3",
        })
    );
    assert_eq!(
        otel["attributes"],
        json!({"values": [{"key": "path", "value": {"string_value": "%REQ(:PATH)%"}}]})
    );
    assert_eq!(otel["disable_builtin_labels"], true);
    assert_eq!(
        otel["body"]["string_value"],
        meshsim::xds::generate::telemetry::TEXT_LOG_FORMAT
    );
}

#[test]
fn gateway_is_a_client() {
    let s = mesh();
    let d = dump(&s, "deploy/ingressgateway", "ingress");
    let l = listener(&d, "0.0.0.0_8080");
    let h = hcm(http_chain(l));
    assert_eq!(
        stats_config(&h["http_filters"]),
        &json!({
            "@type": "type.googleapis.com/stats.PluginConfig",
            "disable_host_header_fallback": true,
            "tcp_reporting_duration": "15s",
            "metrics": [{"dimensions": {"request_host": "request.host"}, "name": "requests_total", "drop": true}],
        })
    );
    assert_eq!(h["tracing"]["random_sampling"], json!({"value": 100}));
    assert_eq!(h["tracing"]["spawn_upstream_span"], true);
    assert_eq!(h["tracing"]["provider"]["name"], "envoy.tracers.zipkin");
    assert_eq!(h["access_log"][0]["typed_config"], istio_file_log());
    assert!(h["access_log"][0].get("filter").is_none());
    assert_eq!(
        h["access_log"][1],
        json!({
            "name": "envoy.access_loggers.http_grpc",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
                "common_config": {
                    "log_name": "http_envoy_accesslog",
                    "grpc_service": {"envoy_grpc": {
                        "cluster_name": "outbound|4317||otel-collector.observability.svc.cluster.local",
                        "authority": "otel-collector.observability.svc.cluster.local",
                    }},
                    "filter_state_objects_to_log": ["upstream_peer", "downstream_peer"],
                    "transport_api_version": "V3",
                },
                "additional_request_headers_to_log": ["x-user"],
            },
        })
    );
    assert_eq!(
        l["access_log"][0]["filter"],
        json!({"response_flag_filter": {"flags": ["NR"]}})
    );
    let tcp = &chains(listener(&d, "0.0.0.0_5432"))[0];
    assert_eq!(
        filter_names(&tcp["filters"]),
        ["istio.stats", "envoy.filters.network.tcp_proxy"]
    );
    assert_eq!(
        filter_names(&filter(tcp, "envoy.filters.network.tcp_proxy")["access_log"]),
        [
            "envoy.access_loggers.file",
            "envoy.access_loggers.http_grpc"
        ]
    );
}

#[test]
fn peer_authentication_disable_turns_off_clients_auto_mtls() {
    let s = mesh();
    for (pod, ns) in [("deploy/web", "shop"), ("deploy/ingressgateway", "ingress")] {
        let d = dump(&s, pod, ns);
        let legacy = cluster(&d, "outbound|80||legacy.legacy.svc.cluster.local");
        assert!(
            legacy.get("transport_socket_matches").is_none(),
            "{pod}: {legacy}"
        );
        let api = cluster(&d, "outbound|8080||api.shop.svc.cluster.local");
        assert_eq!(
            api["transport_socket_matches"][0]["name"], "tlsMode-istio",
            "{pod}"
        );
    }
}

#[test]
fn legacy_mesh_config_logs_and_traces() {
    let s = open(vec![dir("telemetry/legacy")]);
    let d = dump(&s, "deploy/web", "shop");
    let json_log = json!({
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "path": "/dev/stdout",
        "log_format": {
            "json_format": {"route": "%ROUTE_NAME%", "status": "%RESPONSE_CODE%"},
            "json_format_options": {},
        },
    });
    let inbound = inbound_chain(&d, "0.0.0.0_8080", true);
    let h = hcm(inbound);
    assert_eq!(
        h["access_log"],
        json!([{"name": "envoy.access_loggers.file", "typed_config": json_log}])
    );
    // The pod annotation's sampling wins over defaultConfig's; the tracer
    // is the bootstrap's.
    assert_eq!(h["tracing"]["random_sampling"], json!({"value": 25}));
    assert!(h["tracing"].get("provider").is_none());
    assert_eq!(
        listener(&d, "virtualInbound")["access_log"][0]["filter"],
        json!({"response_flag_filter": {"flags": ["NR"]}})
    );
    let tcp = filter(
        vip_listener(&s, &d, "db.shop.svc.cluster.local", 5432)["filter_chains"]
            .get(0)
            .unwrap(),
        "envoy.filters.network.tcp_proxy",
    );
    assert_eq!(tcp["access_log"][0]["typed_config"], json_log);
    let db = dump(&s, "deploy/db", "shop");
    let tracing = &hcm(http_chain(listener(&db, "0.0.0.0_80")))["tracing"];
    assert_eq!(tracing["random_sampling"], json!({"value": 5}));
    assert_eq!(tracing["max_path_tag_length"], 99);
    assert!(tracing["custom_tags"].as_array().unwrap().contains(&json!({
        "tag": "cluster",
        "environment": {"name": "CLUSTER_NAME", "default_value": "unknown"},
    })));

    // Laid over: a text format gets its newline; tracing off removes it.
    let text = Session::open(&Inputs {
        paths: vec![dir("telemetry/legacy")],
        namespace: "default".to_string(),
        mesh_config: Some(dir("telemetry/legacy-text.mesh.yaml")),
        implicit_injection: true,
    })
    .expect("session");
    let d = dump(&text, "deploy/web", "shop");
    let h = hcm(http_chain(listener(&d, "0.0.0.0_80")));
    assert_eq!(
        h["access_log"][0]["typed_config"]["log_format"],
        json!({"text_format_source": {"inline_string": "%START_TIME% %RESPONSE_CODE%\n"}})
    );
    assert!(h.get("tracing").is_none());
    judge_all("telemetry/legacy + text", &text, envoy().as_deref());
}

#[test]
fn helm_defaults_come_from_the_telemetry_resolution() {
    // No Telemetry, no MeshConfig: Prometheus stats, 1% tracing with
    // Istio's tags, no access logs.
    let s = open(vec![dir("shop")]);
    let d = dump(&s, "deploy/frontend", "shop");
    let h = hcm(http_chain(listener(&d, "0.0.0.0_8080")));
    assert_eq!(
        stats_config(&h["http_filters"]),
        &json!({"@type": "type.googleapis.com/stats.PluginConfig"})
    );
    assert_eq!(h["tracing"]["random_sampling"], json!({"value": 1}));
    assert_eq!(h["tracing"]["custom_tags"].as_array().unwrap().len(), 9);
    assert!(h.get("access_log").is_none());
    assert!(listener(&d, "virtualOutbound").get("access_log").is_none());
}

#[test]
fn telemetry_problems_are_reported_at_load() {
    let s = open(vec![dir("seed")]);
    let ignored = "ignored: istiod applies only the oldest Telemetry of a namespace that has no selector or targetRefs, here default/access-logs";
    assert_eq!(
        located(&s, "telemetry"),
        [
            "telemetry.yaml:23: Telemetry default/tracing-config: tracing provider \"zipkin\" is not one of meshConfig.extensionProviders (prometheus, stackdriver, envoy); istiod ignores it".to_string(),
            format!("telemetry.yaml:1: Telemetry default/metrics-config: {ignored}"),
            format!("telemetry.yaml:23: Telemetry default/tracing-config: {ignored}"),
        ]
    );
}

/// The diagnostics of `code` as `file:line: object: message` (file name only).
fn located(s: &Session, code: &str) -> Vec<String> {
    s.diags
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let span = d.span.as_ref().expect("a place");
            let file = span.file.file_name().unwrap().to_string_lossy();
            format!(
                "{file}:{}: {}: {}",
                span.line,
                d.object.as_deref().unwrap_or(""),
                d.message
            )
        })
        .collect()
}

#[test]
fn certificate_kinds_have_no_effect_and_say_so() {
    let s = open(vec![dir("telemetry/certificates.yaml")]);
    let notes: Vec<String> = s
        .diags
        .iter()
        .filter(|d| d.code == "no-effect")
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(notes[0].starts_with("CertificateSigningRequest: "));
    assert!(notes[1].starts_with("ClusterTrustBundle: "));
    assert!(s.diags.iter().all(|d| d.severity == Severity::Info));
}

// ---------------------------------------------------------------------------
// WasmPlugin and TrafficExtension

const EXT: &str = "extensions.istio.io/trafficextension/";

fn wasm_name(ns: &str, name: &str) -> String {
    format!("{EXT}{ns}.{name}~istio-translated-wasmplugin")
}

#[test]
fn extension_phases_priorities_and_modes_on_sidecars() {
    let s = wasm();
    let d = dump(&s, "deploy/web", "shop");
    let inbound = inbound_chain(&d, "0.0.0.0_8080", true);
    let owned = |ns: &str, n: &str| wasm_name(ns, n);
    let expect_in = [
        "istio.metadata_exchange".to_string(),
        // AUTHN: equal priorities, the proxy's namespace first.
        owned("shop", "inbound-only"),
        owned("istio-system", "mesh-authn"),
        "envoy.filters.http.jwt_authn".to_string(),
        // AUTHZ: higher priority first.
        owned("shop", "authz-high"),
        owned("shop", "authz-low"),
        "envoy.filters.http.rbac".to_string(),
        // STATS: a priority before none.
        owned("shop", "stats-plugin"),
        format!("{EXT}shop.lua-hello"),
        "envoy.filters.http.grpc_stats".to_string(),
        "envoy.filters.http.fault".to_string(),
        "envoy.filters.http.cors".to_string(),
        "istio.stats".to_string(),
        "envoy.filters.http.router".to_string(),
    ];
    assert_eq!(filter_names(&hcm(inbound)["http_filters"]), expect_in);
    // Wasm through ECDS (Envoy waits for it), Lua inline.
    let authn = http_filter(inbound, &owned("istio-system", "mesh-authn"));
    assert_eq!(
        authn["config_discovery"],
        json!({
            "config_source": {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"},
            "type_urls": [
                "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            ],
        })
    );
    let lua = http_filter(inbound, &format!("{EXT}shop.lua-hello"));
    assert_eq!(
        lua["typed_config"]["@type"],
        "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
    );
    assert!(
        lua["typed_config"]["default_source_code"]["inline_string"]
            .as_str()
            .unwrap()
            .contains("x-hello")
    );

    // Outbound (CLIENT): no SERVER-only plugin, no security filters.
    let out = http_chain(listener(&d, "0.0.0.0_80"));
    assert_eq!(
        filter_names(&hcm(out)["http_filters"]),
        [
            "istio.metadata_exchange".to_string(),
            owned("istio-system", "mesh-authn"),
            owned("shop", "authz-high"),
            owned("shop", "authz-low"),
            owned("shop", "stats-plugin"),
            format!("{EXT}shop.lua-hello"),
            // Unspecified phase, matched on the listener's service port.
            owned("shop", "client-80"),
            "envoy.filters.http.grpc_stats".to_string(),
            "istio.alpn".to_string(),
            "envoy.filters.http.fault".to_string(),
            "envoy.filters.http.cors".to_string(),
            "istio.stats".to_string(),
            "envoy.filters.http.router".to_string(),
        ]
    );
    assert!(
        !filter_names(&hcm(http_chain(listener(&d, "0.0.0.0_9080")))["http_filters"])
            .contains(&owned("shop", "client-80").as_str())
    );
    // A port match other than 8080 (the passthrough chain) leaves it out.
    let passthrough = inbound_chain(&d, "virtualInbound-catchall-http", true);
    assert!(
        !filter_names(&hcm(passthrough)["http_filters"])
            .contains(&owned("shop", "inbound-only").as_str())
    );
}

#[test]
fn network_extensions_on_tcp_chains() {
    let s = wasm();
    let d = dump(&s, "deploy/db", "shop");
    let net = wasm_name("shop", "tcp-net");
    let inbound = inbound_chain(&d, "0.0.0.0_5432", false);
    assert_eq!(
        filter_names(&inbound["filters"]),
        [
            "istio.metadata_exchange",
            net.as_str(),
            "istio.stats",
            "envoy.filters.network.tcp_proxy"
        ]
    );
    let f = inbound["filters"][1].clone();
    assert_eq!(
        f["config_discovery"]["type_urls"],
        json!([
            "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
            "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC",
        ])
    );
    let out = &chains(vip_listener(&s, &d, "db.shop.svc.cluster.local", 5432))[0];
    assert_eq!(
        filter_names(&out["filters"]),
        [
            net.as_str(),
            "istio.stats",
            "envoy.filters.network.tcp_proxy"
        ]
    );
    // The HTTP plugin of the mesh reaches db's HTTP chains, not TCP ones.
    let http_in = inbound_chain(&d, "virtualInbound-catchall-http", true);
    assert!(
        filter_names(&hcm(http_in)["http_filters"])
            .contains(&wasm_name("istio-system", "mesh-authn").as_str())
    );
}

#[test]
fn gateway_extensions() {
    let s = wasm();
    let d = dump(&s, "deploy/ingressgateway", "ingress");
    let h = hcm(http_chain(listener(&d, "0.0.0.0_8080")));
    assert_eq!(
        filter_names(&h["http_filters"]),
        [
            "istio.metadata_exchange".to_string(),
            wasm_name("istio-system", "mesh-authn"),
            wasm_name("ingress", "gw-plugin"),
            // The listener's container port, not the server's.
            wasm_name("ingress", "gw-8080"),
            "envoy.filters.http.grpc_stats".to_string(),
            "istio.alpn".to_string(),
            "envoy.filters.http.fault".to_string(),
            "envoy.filters.http.cors".to_string(),
            "istio.stats".to_string(),
            "envoy.filters.http.router".to_string(),
        ]
    );
}

#[test]
fn ecds_serves_the_wasm_modules() {
    let s = wasm();
    let d = dump(&s, "deploy/web", "shop");
    let ecds: Vec<&Value> = section(&d, "EcdsConfigDump")["ecds_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["ecds_filter"])
        .collect();
    assert_eq!(
        names(&ecds),
        [
            wasm_name("istio-system", "mesh-authn"),
            wasm_name("shop", "authz-high"),
            wasm_name("shop", "authz-low"),
            wasm_name("shop", "client-80"),
            wasm_name("shop", "inbound-only"),
            wasm_name("shop", "stats-plugin"),
        ]
    );
    assert_eq!(
        ecds[0]["typed_config"],
        json!({
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "istio-system.mesh-authn~istio-translated-wasmplugin",
                "vm_config": {
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"remote": {"http_uri": {"uri": "oci://ghcr.io/acme/authn:1.0", "cluster": "_", "timeout": "30s"}}},
                    "environment_variables": {"key_values": {
                        "ISTIO_META_WASM_IMAGE_PULL_POLICY": "Always",
                        "ISTIO_META_WASM_IMAGE_PULL_SECRET": "kubernetes://istio-system/registry-pull",
                        "ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION": "",
                    }},
                },
                "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "{\"realm\":\"shop\"}"},
                "failure_policy": "FAIL_CLOSED",
            },
        })
    );
    let stats = &ecds[5]["typed_config"]["config"];
    assert_eq!(stats["root_id"], "stats_root");
    assert_eq!(stats["failure_policy"], "FAIL_OPEN");
    assert_eq!(
        stats["vm_config"]["code"]["remote"]["sha256"],
        "2f3f4c7b57a6a9b3c3b3a4c9d1d6e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5"
    );
    assert_eq!(
        stats["vm_config"]["environment_variables"],
        json!({"host_env_keys": ["HOSTNAME"], "key_values": {"ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION": "", "MODE": "strict"}})
    );
    assert_eq!(stats["configuration"], json!({}));

    // A network module from the proxy's disk.
    let db = dump(&s, "deploy/db", "shop");
    let net = &section(&db, "EcdsConfigDump")["ecds_filters"][1]["ecds_filter"];
    assert_eq!(net["name"], wasm_name("shop", "tcp-net"));
    assert_eq!(
        net["typed_config"]["@type"],
        "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm"
    );
    assert_eq!(
        net["typed_config"]["config"]["vm_config"]["code"],
        json!({"local": {"filename": "/opt/filters/net.wasm"}})
    );

    // istioctl's view: names, then their type, five spaces apart.
    let out = pc(&[dir("wasm")], &["ecds", "deploy/web", "-n", "shop"]);
    let width = names(&ecds).iter().map(String::len).max().unwrap() + 5;
    let mut want = format!("exit: 0\n{:<width$}TYPE\n", "ECDS NAME");
    for e in &ecds {
        want.push_str(&format!(
            "{:<width$}envoy.extensions.filters.http.wasm.v3.Wasm\n",
            e["name"].as_str().unwrap()
        ));
    }
    assert_eq!(out, want);
}

#[test]
fn invalid_extensions_are_dropped_with_a_warning() {
    let s = wasm();
    assert_eq!(
        located(&s, "extension-dropped"),
        [
            "extensions.yaml:92: WasmPlugin shop/broken: discarded, as istiod discards it: wasm.url is required"
        ]
    );
    let d = dump(&s, "deploy/web", "shop");
    assert!(!serde_json::to_string(&d).unwrap().contains("broken"));
}

#[test]
fn every_proxy_passes_envoy() {
    let envoy = envoy();
    for (what, s) in [
        ("telemetry/mesh", mesh()),
        ("telemetry/legacy", open(vec![dir("telemetry/legacy")])),
        ("wasm", wasm()),
    ] {
        let n = judge_all(what, &s, envoy.as_deref());
        assert!(n >= 2, "{what}: {n} proxies");
    }
}
