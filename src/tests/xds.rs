//! istiod's own xDS test assertions (../shared/conformance/istio-pilot/xds/
//! derived-expectations.yaml) run against meshsim's generation.
//!
//! istiod's harness loads only Istio kinds from the input, puts configs
//! without a namespace in `default`, and describes the proxy in Go; here the
//! same input is loaded with its Kubernetes kinds dropped, and the proxy is
//! a Pod manifest written from the test's proxy description.

use std::path::{Path, PathBuf};

use meshsim::registry::ProxyType;
use meshsim::session::{Inputs, Session};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn suite() -> Option<PathBuf> {
    let p = Path::new(ROOT).join("../shared/conformance/istio-pilot/xds");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "SKIPPED: ../shared/conformance/istio-pilot/xds is not present; xDS conformance did not run"
        );
        None
    }
}

/// The proxy of one test case.
struct TestProxy<'a> {
    namespace: &'a str,
    ip: &'a str,
    labels: &'a [(&'a str, &'a str)],
    annotations: &'a [(&'a str, &'a str)],
    /// A gateway (`proxy router`) rather than a sidecar.
    router: bool,
}

/// A scratch directory holding the Istio documents of `inputs`, the mesh
/// config and the proxy's Pod.
fn scratch(
    name: &str,
    inputs: &[PathBuf],
    root_namespace: Option<&str>,
    proxy: &TestProxy,
) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshsim-xds-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let mut istio = String::new();
    for f in inputs {
        let text = std::fs::read_to_string(f).expect("input reads");
        for doc in text.split("\n---") {
            let api = doc
                .lines()
                .find_map(|l| l.strip_prefix("apiVersion:"))
                .unwrap_or("")
                .trim();
            if api.contains("istio.io") || api.contains("gateway.networking.k8s.io") {
                istio.push_str(doc.trim_start_matches('\n'));
                istio.push_str("\n---\n");
            }
        }
    }
    std::fs::write(dir.join("config.yaml"), istio).expect("write config");
    let mut extra = String::new();
    if let Some(root) = root_namespace {
        extra.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: istio, namespace: istio-system}}\ndata:\n  mesh: |\n    rootNamespace: {root}\n---\n"
        ));
    }
    let map = |kv: &[(&str, &str)]| {
        kv.iter()
            .map(|(k, v)| format!("\"{k}\": \"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    extra.push_str(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  namespace: {ns}\n  labels: {{{labels}}}\n  annotations: {{{ann}}}\nspec:\n  containers: [{{name: app}}, {{name: istio-proxy, image: proxyv2, args: [proxy, {kind}]}}]\nstatus:\n  podIP: {ip}\n  conditions: [{{type: Ready, status: \"True\"}}]\n",
        ns = proxy.namespace,
        labels = map(proxy.labels),
        ann = map(proxy.annotations),
        ip = proxy.ip,
        kind = if proxy.router { "router" } else { "sidecar" },
    ));
    std::fs::write(dir.join("proxy.yaml"), extra).expect("write proxy");
    dir
}

/// The session of a test case and its proxy's workload index.
fn session(
    name: &str,
    inputs: &[PathBuf],
    root_namespace: Option<&str>,
    proxy: &TestProxy,
) -> (Session, usize) {
    let dir = scratch(name, inputs, root_namespace, proxy);
    let s = Session::open(&Inputs {
        paths: vec![dir.clone()],
        namespace: "default".to_string(),
        mesh_config: None,
        implicit_injection: true,
    })
    .expect("session");
    let i = s
        .mesh
        .resolve(&format!("app.{}", proxy.namespace), "default")
        .expect("the proxy pod resolves");
    let _ = std::fs::remove_dir_all(&dir);
    (s, i)
}

/// The config dump of the test's proxy.
fn dump(name: &str, inputs: &[PathBuf], root_namespace: Option<&str>, proxy: &TestProxy) -> Value {
    let (s, i) = session(name, inputs, root_namespace, proxy);
    let config = s.generate(i).expect("the pod runs a proxy");
    config.config_dump()
}

fn section<'a>(dump: &'a Value, kind: &str) -> &'a Value {
    dump["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["@type"].as_str().unwrap().ends_with(kind))
        .unwrap()
}

fn listeners(dump: &Value) -> Vec<&Value> {
    section(dump, "ListenersConfigDump")["dynamic_listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["active_state"]["listener"])
        .collect()
}

/// pkg/adsc's classification: a listener with an HTTP connection manager in
/// any chain is an HTTP listener.
fn is_http(l: &Value) -> bool {
    l["filter_chains"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(l.get("default_filter_chain"))
        .any(|c| {
            c["filters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|f| f["name"] == "envoy.filters.network.http_connection_manager")
        })
}

fn clusters(dump: &Value) -> Vec<&Value> {
    section(dump, "ClustersConfigDump")["dynamic_active_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["cluster"])
        .collect()
}

fn names<'a>(items: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    items
        .into_iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn lds_with_default_sidecar() {
    let Some(suite) = suite() else { return };
    let d = dump(
        "default-sidecar",
        &[suite.join("inputs/tests/testdata/networking/sidecar-ns-scope/configs.yaml")],
        Some("istio-config"),
        &TestProxy {
            namespace: "ns1",
            ip: "100.1.1.2",
            labels: &[],
            annotations: &[],
            router: false,
        },
    );
    let ls = listeners(&d);
    assert_eq!(ls.len(), 4, "listeners: {:?}", names(ls.iter().copied()));
    let cs = clusters(&d);
    assert_eq!(cs.len(), 9, "clusters: {:?}", names(cs.iter().copied()));
    let routes = &section(&d, "RoutesConfigDump")["dynamic_route_configs"];
    let r8080 = routes
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["route_config"])
        .find(|r| r["name"] == "8080")
        .expect("route 8080");
    assert_eq!(
        r8080["virtual_hosts"].as_array().unwrap().len(),
        3,
        "vhosts: {:?}",
        names(r8080["virtual_hosts"].as_array().unwrap())
    );
}

#[test]
fn lds_with_sidecar_for_workload_without_service() {
    let Some(suite) = suite() else { return };
    let d = dump(
        "no-service",
        &[suite.join("inputs/tests/testdata/networking/sidecar-without-service/configs.yaml")],
        Some("istio-config"),
        &TestProxy {
            namespace: "consumerns",
            ip: "98.1.1.1",
            labels: &[("app", "consumeronly")],
            annotations: &[],
            router: false,
        },
    );
    let ls = listeners(&d);
    let http: Vec<&Value> = ls.iter().copied().filter(|l| is_http(l)).collect();
    assert_eq!(
        names(http.iter().copied()),
        ["0.0.0.0_8081", "virtualInbound"]
    );
    let l8081 = http.iter().find(|l| l["name"] == "0.0.0.0_8081").unwrap();
    assert_eq!(l8081["filter_chains"].as_array().unwrap().len(), 1);
    let eds: Vec<&Value> = clusters(&d)
        .into_iter()
        .filter(|c| c["type"] == "EDS")
        .collect();
    assert_eq!(names(eds), ["outbound|8081||http1.ns1.svc.cluster.local"]);
}

#[test]
fn eds_weighted_service_entry() {
    let Some(suite) = suite() else { return };
    let d = dump(
        "weighted",
        &[suite.join("inputs/tests/testdata/config/static-weighted-se.yaml")],
        None,
        &TestProxy {
            namespace: "default",
            ip: "1.1.1.1",
            labels: &[],
            annotations: &[],
            router: false,
        },
    );
    let cla = section(&d, "EndpointsConfigDump")["dynamic_endpoint_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["endpoint_config"])
        .find(|e| e["cluster_name"] == "outbound|80||weighted.static.svc.cluster.local")
        .expect("the weighted cluster's endpoints");
    let mut by_region = Vec::new();
    let mut by_address = Vec::new();
    for loc in cla["endpoints"].as_array().unwrap() {
        by_region.push((
            loc["locality"]["region"].as_str().unwrap().to_string(),
            loc["load_balancing_weight"].as_u64().unwrap(),
        ));
        for lb in loc["lb_endpoints"].as_array().unwrap() {
            by_address.push((
                lb["endpoint"]["address"]["socket_address"]["address"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                lb["load_balancing_weight"].as_u64().unwrap(),
            ));
        }
    }
    by_address.sort();
    assert_eq!(by_region, [("a".to_string(), 9), ("b".to_string(), 3)]);
    assert_eq!(
        by_address,
        [
            ("1.1.1.1".to_string(), 3),
            ("2.2.2.2".to_string(), 8),
            ("3.3.3.3".to_string(), 1)
        ]
    );
}

#[test]
fn lds_isolated_sidecar_with_interception_none() {
    let Some(suite) = suite() else { return };
    let dir = suite.join("inputs/tests/testdata/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let d = dump(
        "none",
        &files,
        None,
        &TestProxy {
            namespace: "none",
            ip: "10.11.0.1",
            labels: &[],
            annotations: &[
                ("sidecar.istio.io/interceptionMode", "NONE"),
                ("proxy.istio.io/config", "{proxyMetadata: {HTTP10: '1'}}"),
            ],
            router: false,
        },
    );
    let ls = listeners(&d);
    let http_names = names(ls.iter().copied().filter(|l| is_http(l)));
    let tcp = ls.len() - http_names.len();
    println!("xds conformance: sidecar_none HTTP listeners {http_names:?}, {tcp} TCP listeners");
    assert_eq!(http_names.len(), 3, "{:?}", names(ls.iter().copied()));
    // Without capture, outbound listeners really bind, on localhost (the
    // names of the suite's own, older golden none_lds_*.json).
    let all = names(ls.iter().copied());
    for name in [
        "127.0.0.1_2001",
        "127.0.0.1_2000",
        "127.0.0.1_2005",
        "127.0.0.1_2009",
        "127.0.0.1_2443",
    ] {
        assert!(all.iter().any(|n| n == name), "{name} missing from {all:?}");
    }
    assert!(tcp > 0);
}

#[test]
fn lds_with_ingress_gateway() {
    let Some(suite) = suite() else { return };
    let d = dump(
        "ingress-gateway",
        &[suite.join("inputs/tests/testdata/networking/ingress-gateway/configs.yaml")],
        Some("istio-config"),
        &TestProxy {
            namespace: "istio-system",
            ip: "99.1.1.1",
            labels: &[("istio", "ingressgateway")],
            annotations: &[],
            router: true,
        },
    );
    let ls = listeners(&d);
    assert_eq!(
        names(ls.iter().copied()),
        ["0.0.0.0_80", "0.0.0.0_443"],
        "listeners"
    );
    let l443 = ls.iter().find(|l| l["name"] == "0.0.0.0_443").unwrap();
    // The terminating HTTPS server and the two passthrough TLS routes.
    assert_eq!(l443["filter_chains"].as_array().unwrap().len(), 3);
}

#[test]
fn nds_name_tables() {
    let Some(suite) = suite() else { return };
    let table = |name: &str, metadata: &str| {
        let annotation = format!("{{proxyMetadata: {{{metadata}}}}}");
        let (s, i) = session(
            name,
            &[suite.join("nds-se.yaml")],
            None,
            &TestProxy {
                namespace: "default",
                ip: "1.1.1.1",
                labels: &[],
                annotations: &[("proxy.istio.io/config", &annotation)],
                router: false,
            },
        );
        meshsim::xds::generate::name_table(&s.context(), i, ProxyType::Sidecar)
    };
    let external = |ip: &str| json!({"ips": [ip], "registry": "External"});
    assert_eq!(
        table(
            "nds-auto",
            "ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true'"
        ),
        json!({"table": {
            "random-1.host.example": external("240.240.116.21"),
            "random-2.host.example": external("9.9.9.9"),
            "random-3.host.example": external("240.240.81.100"),
        }})
    );
    assert_eq!(
        table("nds-capture", "ISTIO_META_DNS_CAPTURE: 'true'"),
        json!({"table": {"random-2.host.example": external("9.9.9.9")}})
    );
    // Without DNS capture there is no table to send.
    assert_eq!(table("nds-none", ""), json!({"table": {}}));
}

/// TestLDSEnvoyFilterWithWorkloadSelector: the root namespace's Lua
/// EnvoyFilter reaches only the sidecar its selector picks.
#[test]
fn lds_envoy_filter_with_workload_selector() {
    let Some(suite) = suite() else { return };
    let input =
        suite.join("inputs/tests/testdata/networking/envoyfilter-without-service/configs.yaml");
    type Labels<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Labels, bool); 3] = [
        (
            "98.1.1.1",
            &[("app", "envoyfilter-test-app"), ("some", "otherlabel")],
            true,
        ),
        ("98.1.1.2", &[("app", "no-envoyfilter-test-app")], false),
        ("98.1.1.3", &[], false),
    ];
    for (ip, labels, expect_lua) in cases {
        let d = dump(
            &format!("envoyfilter-{ip}"),
            std::slice::from_ref(&input),
            None,
            &TestProxy {
                namespace: "consumerns",
                ip,
                labels,
                annotations: &[],
                router: false,
            },
        );
        let ls = listeners(&d);
        // adsc counts the outbound HTTP listeners: only 8081.
        let outbound_http: Vec<&Value> = ls
            .iter()
            .copied()
            .filter(|l| is_http(l) && l["name"] != "virtualInbound")
            .collect();
        assert_eq!(names(outbound_http.iter().copied()), ["0.0.0.0_8081"]);
        let chain = outbound_http[0]["filter_chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["filters"].as_array().unwrap().len() == 1
                    && c["filters"][0]["name"] == "envoy.filters.network.http_connection_manager"
            })
            .expect("an HCM chain");
        let http_filters: Vec<&str> = chain["filters"][0]["typed_config"]["http_filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        let lua = http_filters.iter().position(|n| *n == "envoy.lua");
        assert_eq!(lua.is_some(), expect_lua, "{ip}: {http_filters:?}");
        if let Some(i) = lua {
            // Inserted right before the router, its code in proto field names.
            assert_eq!(http_filters[i + 1], "envoy.filters.http.router");
            let lua = &chain["filters"][0]["typed_config"]["http_filters"][i]["typed_config"];
            assert!(lua["inline_code"].as_str().unwrap().contains("Hello World"));
        }
    }
}

/// TestECDS: an ECDS request for `extension-config` is answered with the
/// EXTENSION_CONFIG patch's TypedExtensionConfig.
#[test]
fn ecds() {
    let Some(suite) = suite() else { return };
    let (s, i) = session(
        "ecds",
        &[suite.join("ecds.yaml")],
        None,
        &TestProxy {
            namespace: "default",
            ip: "10.0.0.1",
            labels: &[],
            annotations: &[],
            router: false,
        },
    );
    let config = s.generate(i).expect("a proxy");
    let ctx = s.context();
    let patches = meshsim::xds::generate::envoyfilter::patches_for(&ctx, &config.proxy);
    let requested = ["extension-config".to_string()].into();
    let served = meshsim::xds::generate::envoyfilter::extension_configs(&patches, &requested);
    assert_eq!(served.len(), 1);
    assert_eq!(served[0]["name"], "extension-config");
    assert_eq!(
        served[0]["typed_config"]["type_url"],
        "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
    );
    // Nothing asked for nothing: no listener fetches it, so no ECDS section.
    assert!(config.extension_configs.is_empty());
    let unknown = ["other".to_string()].into();
    assert!(meshsim::xds::generate::envoyfilter::extension_configs(&patches, &unknown).is_empty());
}
