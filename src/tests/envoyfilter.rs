//! EnvoyFilter scenarios (testdata/envoyfilter): patches of each applyTo and
//! operation, their order (priority, root namespace, age), patch contexts
//! and port matches on sidecars and a gateway (istiod-sidecar.md §9,
//! istiod-gateway-security.md §4.3); every proxy is judged by a real Envoy.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use meshsim::session::Session;
use serde_json::Value;

fn mesh() -> PathBuf {
    Path::new(ROOT).join("testdata/envoyfilter/mesh")
}

fn scenario() -> Session {
    open(vec![mesh()])
}

fn http_filters(chain: &Value) -> Vec<&str> {
    hcm(chain)["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

/// The chains of virtualInbound for destination port `port`.
fn inbound_chains(d: &Value, port: u64) -> Vec<&Value> {
    chains(listener(d, "virtualInbound"))
        .into_iter()
        .filter(|c| c["filter_chain_match"]["destination_port"] == port)
        .collect()
}

fn header_keys<'a>(rc: &'a Value, list: &str) -> Vec<&'a str> {
    rc[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| h["header"]["key"].as_str().unwrap())
        .collect()
}

#[test]
fn sidecar_listener_patches() {
    let d = dump(&scenario(), "deploy/web", "shop");
    let all = names(&listeners(&d));
    // LISTENER REMOVE (port 5432) and ADD (appended to the outbound ones).
    assert!(!all.iter().any(|n| n.ends_with("_5432")), "{all:?}");
    assert_eq!(
        all,
        [
            "0.0.0.0_8080",
            "0.0.0.0_80",
            "authz-tcp",
            "virtualOutbound",
            "virtualInbound"
        ]
    );
    // LISTENER MERGE on the port it matches, only.
    let l8080 = listener(&d, "0.0.0.0_8080");
    assert_eq!(l8080["per_connection_buffer_limit_bytes"], 65536);
    assert!(
        listener(&d, "0.0.0.0_80")
            .get("per_connection_buffer_limit_bytes")
            .is_none()
    );
    // HTTP_FILTER REMOVE by sub-filter name, on port 8080's HCM only.
    let http = |l: &Value| {
        chains(l)
            .into_iter()
            .find(|c| has_filter(c, "envoy.filters.network.http_connection_manager"))
            .map(http_filters)
            .unwrap()
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(!http(l8080).contains(&"envoy.filters.http.cors".to_string()));
    assert!(http(listener(&d, "0.0.0.0_80")).contains(&"envoy.filters.http.cors".to_string()));

    // LISTENER_FILTER INSERT_AFTER the named listener filter.
    let lf = listener_filters(listener(&d, "virtualInbound"));
    let tls = lf
        .iter()
        .position(|n| *n == "envoy.filters.listener.tls_inspector")
        .unwrap();
    assert_eq!(lf[tls + 1], "envoy.filters.listener.proxy_protocol");

    // virtualInbound: portNumber selects the chains of destination port 8080.
    let chains8080 = inbound_chains(&d, 8080);
    assert_eq!(chains8080.len(), 2);
    for c in chains8080 {
        let h = hcm(c);
        // NETWORK_FILTER MERGE of the HCM: scalars replaced, messages merged.
        assert_eq!(h["server_name"], "web-patched");
        assert_eq!(h["common_http_protocol_options"]["idle_timeout"], "5s");
        assert_eq!(
            h["@type"],
            "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
        );
        // HTTP_FILTER INSERT_FIRST.
        assert_eq!(http_filters(c)[0], "first-lua");
        assert_eq!(
            *http_filters(c).last().unwrap(),
            "envoy.filters.http.router"
        );
        // ROUTE_CONFIGURATION MERGE on the inline inbound route (`inbound|8080||`).
        assert_eq!(h["route_config"]["name"], "inbound|8080||");
        assert_eq!(
            header_keys(&h["route_config"], "response_headers_to_add"),
            ["x-inbound"]
        );
    }
    // The passthrough HTTP chains are not on port 8080.
    for c in chains(listener(&d, "virtualInbound")) {
        if c["filter_chain_match"]["destination_port"].is_null()
            && has_filter(c, "envoy.filters.network.http_connection_manager")
        {
            assert_ne!(hcm(c)["server_name"], "web-patched");
            assert_ne!(http_filters(c)[0], "first-lua");
        }
    }
}

#[test]
fn sidecar_route_patches() {
    let d = dump(&scenario(), "deploy/web", "shop");
    let rc = route_config(&d, "8080");
    // VIRTUAL_HOST ADD appends; VIRTUAL_HOST MERGE on the named one.
    assert_eq!(
        names(&vhosts(rc)),
        ["api.shop.svc.cluster.local:8080", "allow_any", "extra"]
    );
    let api = vhost(rc, "api.shop.svc.cluster.local:8080");
    assert_eq!(api["include_request_attempt_count"], true);
    // HTTP_ROUTE INSERT_BEFORE the first route whose action is ROUTE.
    let routes: Vec<&Value> = api["routes"].as_array().unwrap().iter().collect();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0]["name"], "probe");
    assert_eq!(routes[0]["direct_response"]["status"], 200);
    assert!(routes[1].get("route").is_some());
    let extra = vhost(rc, "extra");
    assert_eq!(extra["routes"][0]["direct_response"]["status"], 204);
    // VIRTUAL_HOST REMOVE on port 80's route configuration.
    assert_eq!(
        names(&vhosts(route_config(&d, "80"))),
        ["web.shop.svc.cluster.local:80", "allow_any"]
    );
}

#[test]
fn sidecar_cluster_patches_in_order() {
    let s = scenario();
    let i = s.mesh.resolve("deploy/web", "shop").unwrap();
    let config = s.generate(i).unwrap();
    // BOOTSTRAP patches are reported, not applied.
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("BOOTSTRAP"));
    let d = config.config_dump();
    let all = names(&clusters(&d));
    // CLUSTER REMOVE by name; the proxyVersion-gated REMOVE is not applied.
    assert!(!all.iter().any(|n| n.contains("db.shop")), "{all:?}");
    // `early` (priority -1) merges first: its 9s is overwritten by the root
    // namespace's 3s, its buffer limit stays.
    let api = cluster(&d, "outbound|8080||api.shop.svc.cluster.local");
    assert_eq!(api["connect_timeout"], "3s");
    assert_eq!(api["per_connection_buffer_limit_bytes"], 1024);
    // CLUSTER ADD: after the outbound clusters, before the inbound ones.
    let dynamic: Vec<String> = section(&d, "ClustersConfigDump")["dynamic_active_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cluster"]["name"].as_str().unwrap().to_string())
        .collect();
    let added = dynamic
        .iter()
        .position(|n| n == "ext-authz")
        .expect("added");
    let first_inbound = dynamic
        .iter()
        .position(|n| n.starts_with("inbound|"))
        .unwrap();
    assert_eq!(added + 1, first_inbound, "{dynamic:?}");
    assert_eq!(dynamic[added - 1], "PassthroughCluster");
    assert_eq!(
        cla(&d, "ext-authz")["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
            ["port_value"],
        9191
    );
    // SIDECAR_INBOUND cluster match on the service behind the inbound port.
    assert_eq!(
        cluster(&d, "inbound|8080||")["per_connection_buffer_limit_bytes"],
        32768
    );
}

#[test]
fn selector_scopes_a_workloads_patches() {
    // api: the root namespace's and shop's selector-less filters only.
    let d = dump(&scenario(), "deploy/api", "shop");
    let all = names(&listeners(&d));
    assert!(all.iter().any(|n| n.ends_with("_5432")), "{all:?}");
    assert!(!all.contains(&"authz-tcp".to_string()));
    assert!(names(&clusters(&d)).contains(&"ext-authz".to_string()));
    assert!(names(&clusters(&d)).iter().any(|n| n.contains("db.shop")));
    assert_eq!(
        cluster(&d, "outbound|8080||api.shop.svc.cluster.local")["connect_timeout"],
        "3s"
    );
    assert_eq!(
        names(&vhosts(route_config(&d, "8080"))),
        ["api.shop.svc.cluster.local:8080", "allow_any"]
    );
}

#[test]
fn gateway_context_and_ports() {
    let d = dump(&scenario(), "deploy/ingressgateway", "ingress");
    // HTTP_FILTER INSERT_BEFORE the router, matched on the container port.
    let l = listener(&d, "0.0.0.0_8080");
    let [chain] = chains(l)[..] else {
        panic!("one chain")
    };
    let filters = http_filters(chain);
    let n = filters.len();
    assert_eq!(
        filters[n - 2..],
        ["envoy.filters.http.lua", "envoy.filters.http.router"]
    );
    assert!(
        hcm(chain)["http_filters"][n - 2]["typed_config"]["default_source_code"]["inline_string"]
            .is_string()
    );
    // HTTP_FILTER MERGE into the router's config; FILTER_CHAIN MERGE.
    let router = &hcm(chain)["http_filters"][n - 1];
    assert_eq!(router["typed_config"]["suppress_envoy_headers"], true);
    assert_eq!(chain["transport_socket_connect_timeout"], "20s");
    // ROUTE_CONFIGURATION portNumber is the server port (80), not 8080.
    let rc = route_config(&d, "http.8080");
    assert_eq!(header_keys(rc, "request_headers_to_add"), ["x-server-port"]);
    // HTTP_ROUTE MERGE by route name: a nested message merged.
    let r = route(vhost(rc, "*:80"), "to-web");
    assert_eq!(r["route"]["timeout"], "7s");
    assert_eq!(
        r["route"]["cluster"],
        "outbound|80||web.shop.svc.cluster.local"
    );
    // SIDECAR_* patches never reach a gateway.
    assert!(!names(&clusters(&d)).contains(&"ext-authz".to_string()));
    assert!(names(&listeners(&d)).iter().all(|n| n != "authz-tcp"));
}

#[test]
fn ecds_serves_what_filters_fetch() {
    let paths = [
        mesh(),
        Path::new(ROOT).join("testdata/envoyfilter/ecds.yaml"),
    ];
    let s = open(paths.to_vec());
    let d = dump(&s, "deploy/api", "shop");
    let ecds = section(&d, "EcdsConfigDump");
    let served: Vec<&str> = ecds["ecds_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ecds_filter"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(served, ["api-lua"]);
    // The inbound HCMs fetch it before the router.
    let [.., c] = inbound_chains(&d, 8080)[..] else {
        panic!("chains")
    };
    let f = http_filters(c);
    assert_eq!(f[f.len() - 2..], ["api-lua", "envoy.filters.http.router"]);
    let out = pc(&paths, &["ecds", "deploy/api", "-n", "shop"]);
    assert!(out.contains("api-lua"), "{out}");
    assert!(
        out.contains("envoy.extensions.filters.http.lua.v3.Lua"),
        "{out}"
    );
    // web fetches nothing: no ECDS section at all.
    let web = dump(&s, "deploy/web", "shop");
    assert!(
        web["configs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["@type"].as_str().unwrap().ends_with("EcdsConfigDump"))
    );
}

#[test]
fn envoy_accepts_every_patched_proxy() {
    let envoy = envoy();
    let n = judge_all("envoyfilter", &scenario(), envoy.as_deref());
    assert_eq!(n, 4);
}
