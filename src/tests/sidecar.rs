//! Sidecar generation scenarios (testdata/sidecar/*): for one proxy of each
//! small mesh, the names and values istiod would push, section by section of
//! ../shared/docs/istiod-sidecar.md (cited as §N); every proxy of every
//! scenario is also exported and judged by a real Envoy.

mod common;

use std::path::Path;

use common::*;
use meshsim::registry::ProxyType;
use meshsim::session::Session;
use serde_json::{Value, json};

const SCENARIOS: [&str; 5] = ["outbound", "routing", "scope", "inbound", "endpoints"];

fn scenario(name: &str) -> Session {
    open(vec![Path::new(ROOT).join("testdata/sidecar").join(name)])
}

const HTTP_ALPN: [&str; 2] = ["http/1.1", "h2c"];

// ---------------------------------------------------------------- outbound/

#[test]
fn outbound_http_listener_shares_the_port_route() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §4.4 table: ≥1 HTTP service on the port.
    let l = listener(&d, "0.0.0.0_9080");
    assert_eq!(l["address"]["socket_address"]["port_value"], 9080);
    assert_eq!(l["bind_to_port"], false);
    assert_eq!(l["traffic_direction"], "OUTBOUND");
    let [http] = chains(l)[..] else {
        panic!("one HTTP chain")
    };
    assert_eq!(
        http["filter_chain_match"]["transport_protocol"],
        "raw_buffer"
    );
    assert_eq!(
        strs(&http["filter_chain_match"]["application_protocols"]),
        HTTP_ALPN
    );
    assert_eq!(hcm(http)["rds"]["route_config_name"], "9080");
    let default = &l["default_filter_chain"];
    assert_eq!(default["name"], "PassthroughFilterChain");
    assert_eq!(tcp_cluster(default), "PassthroughCluster");
    assert_eq!(
        listener_filters(l),
        ["envoy.filters.listener.http_inspector"]
    );
}

#[test]
fn outbound_tcp_service_gets_a_single_vip_chain() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §4.4 table: TCP service with a VIP; §1.3 3306 is MySQL's well-known port.
    let l = listener(&d, "10.96.10.3_3306");
    assert_eq!(l["address"]["socket_address"]["address"], "10.96.10.3");
    let [only] = chains(l)[..] else {
        panic!("one chain")
    };
    assert_eq!(only["filter_chain_match"], Value::Null);
    assert_eq!(
        tcp_cluster(only),
        "outbound|3306||mysqldb.default.svc.cluster.local"
    );
    assert!(l.get("default_filter_chain").is_none());
    assert!(listener_filters(l).is_empty());
}

#[test]
fn outbound_sniffed_service_has_host_route_and_tcp_default() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §4.4 table: auto service with a VIP.
    let l = listener(&d, "10.96.10.4_8000");
    let [http] = chains(l)[..] else {
        panic!("one HTTP chain")
    };
    assert_eq!(
        strs(&http["filter_chain_match"]["application_protocols"]),
        HTTP_ALPN
    );
    assert_eq!(
        hcm(http)["rds"]["route_config_name"],
        "web.default.svc.cluster.local:8000"
    );
    let default = &l["default_filter_chain"];
    assert_eq!(
        tcp_cluster(default),
        "outbound|8000||web.default.svc.cluster.local"
    );
    assert_ne!(default["name"], "PassthroughFilterChain");
    // §5.3: the one vhost answers any host; no catch-all.
    let rc = route_config(&d, "web.default.svc.cluster.local:8000");
    assert_eq!(names(&vhosts(rc)), ["web.default.svc.cluster.local:8000"]);
    assert_eq!(strs(&vhosts(rc)[0]["domains"]), ["*"]);
    // §5.1: an auto service alone makes no "<PORT>" route.
    assert!(route_configs(&d).iter().all(|r| r["name"] != "8000"));
}

#[test]
fn outbound_headless_service_gets_per_pod_listeners() {
    let s = scenario("outbound");
    let d = dump(&s, "deploy/client", "default");
    // §4.6: one listener per endpoint, none on the wildcard or a VIP.
    let mut per_pod: Vec<String> = listeners(&d)
        .iter()
        .filter(|l| l["address"]["socket_address"]["port_value"] == 5432)
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    per_pod.sort();
    let mut want = vec![
        format!("{}_5432", ip(&s, "db-0", "default")),
        format!("{}_5432", ip(&s, "db-1", "default")),
    ];
    want.sort();
    assert_eq!(per_pod, want);
    for name in &want {
        let l = listener(&d, name);
        let [only] = chains(l)[..] else {
            panic!("one chain")
        };
        assert_eq!(
            tcp_cluster(only),
            "outbound|5432||db.default.svc.cluster.local"
        );
    }
    // §7.1: headless ⇒ ORIGINAL_DST; §7.4: auto mTLS as a plain socket.
    let c = cluster(&d, "outbound|5432||db.default.svc.cluster.local");
    assert_eq!(c["type"], "ORIGINAL_DST");
    assert_eq!(c["lb_policy"], "CLUSTER_PROVIDED");
    assert_eq!(c["transport_socket"]["name"], "envoy.transport_sockets.tls");
    assert!(c.get("transport_socket_matches").is_none());
}

#[test]
fn outbound_service_entries() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §4.4 table: TLS SE without an address: SNI chain + passthrough default.
    let l = listener(&d, "0.0.0.0_443");
    let [tls] = chains(l)[..] else {
        panic!("one SNI chain")
    };
    assert_eq!(
        strs(&tls["filter_chain_match"]["server_names"]),
        ["api.example.com"]
    );
    assert_eq!(tcp_cluster(tls), "outbound|443||api.example.com");
    assert_eq!(l["default_filter_chain"]["name"], "PassthroughFilterChain");
    assert_eq!(
        listener_filters(l),
        ["envoy.filters.listener.tls_inspector"]
    );
    // §7.1: DNS SE ⇒ STRICT_DNS with the host itself as endpoint (§8.1).
    let c = cluster(&d, "outbound|443||api.example.com");
    assert_eq!(c["type"], "STRICT_DNS");
    assert_eq!(
        c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
        json!({"address": "api.example.com", "port_value": 443})
    );
    assert_eq!(c["metadata"]["filter_metadata"]["istio"]["external"], true);
    // §7.4: MESH_EXTERNAL ⇒ no auto mTLS.
    assert!(c.get("transport_socket_matches").is_none());

    // STATIC SE with an address: a VIP listener, EDS cluster.
    let l = listener(&d, "10.1.1.1_9999");
    let [only] = chains(l)[..] else {
        panic!("one chain")
    };
    assert_eq!(tcp_cluster(only), "outbound|9999||legacy.internal");
    assert_eq!(cluster(&d, "outbound|9999||legacy.internal")["type"], "EDS");
    // Inline endpoints are workloads named `<entry>-<index>` (telemetry).
    let workloads: Vec<&str> =
        cla(&d, "outbound|9999||legacy.internal")["endpoints"][0]["lb_endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["metadata"]["filter_metadata"]["istio"]["workload"]
                    .as_str()
                    .unwrap()
            })
            .collect();
    assert_eq!(
        workloads,
        [
            "legacy-0;default;legacy-0;;Kubernetes",
            "legacy-1;default;legacy-1;;Kubernetes"
        ]
    );
    let mut addrs: Vec<&str> =
        cla(&d, "outbound|9999||legacy.internal")["endpoints"][0]["lb_endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["endpoint"]["address"]["socket_address"]["address"]
                    .as_str()
                    .unwrap()
            })
            .collect();
    addrs.sort();
    assert_eq!(addrs, ["10.1.1.10", "10.1.1.11"]);

    // §4.4 table: SE with a CIDR address.
    let l = listener(&d, "0.0.0.0_9998");
    let [cidr] = chains(l)[..] else {
        panic!("one CIDR chain")
    };
    assert_eq!(
        cidr["filter_chain_match"]["prefix_ranges"],
        json!([{"address_prefix": "10.2.0.0", "prefix_len": 16}])
    );
    assert_eq!(tcp_cluster(cidr), "outbound|9998||dc.internal");
    assert_eq!(l["default_filter_chain"]["name"], "PassthroughFilterChain");
    // §7.1: resolution NONE ⇒ ORIGINAL_DST; §7.4: no endpoints ⇒ DISABLE, no TLS.
    let c = cluster(&d, "outbound|9998||dc.internal");
    assert_eq!(c["type"], "ORIGINAL_DST");
    assert!(c.get("transport_socket").is_none());
    assert!(c.get("transport_socket_matches").is_none());
}

#[test]
fn outbound_external_name_is_an_alias() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §4.7: no listener, cluster or vhost of its own.
    for c in clusters(&d) {
        assert!(!c["name"].as_str().unwrap().contains("reviews-alias"));
    }
    let rc = route_config(&d, "9080");
    for vh in vhosts(rc) {
        assert!(!vh["name"].as_str().unwrap().contains("reviews-alias"));
    }
    // §5.5: the alias's names follow the concrete service's, then the VIP.
    assert_eq!(
        strs(&vhost(rc, "reviews.default.svc.cluster.local:9080")["domains"]),
        [
            "reviews.default.svc.cluster.local",
            "reviews.default.svc.cluster.local.",
            "reviews",
            "reviews.default.svc",
            "reviews.default",
            "reviews-alias.default.svc.cluster.local",
            "reviews-alias.default.svc.cluster.local.",
            "reviews-alias",
            "reviews-alias.default.svc",
            "reviews-alias.default",
            "10.96.10.2",
        ]
    );
}

#[test]
fn outbound_vhost_domains_and_catch_all() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    let rc = route_config(&d, "9080");
    // §5.2 step 7: sorted by name, then the catch-all.
    assert_eq!(
        names(&vhosts(rc)),
        [
            "ratings.other.svc.cluster.local:9080",
            "reviews.default.svc.cluster.local:9080",
            "allow_any",
        ]
    );
    // §5.5: another namespace gets `name.ns` and `name.ns.svc` only.
    assert_eq!(
        strs(&vhost(rc, "ratings.other.svc.cluster.local:9080")["domains"]),
        [
            "ratings.other.svc.cluster.local",
            "ratings.other.svc.cluster.local.",
            "ratings.other",
            "ratings.other.svc",
            "10.96.11.1",
        ]
    );
    let rc80 = route_config(&d, "80");
    assert_eq!(
        strs(&vhost(rc80, "client.default.svc.cluster.local:80")["domains"]),
        [
            "client.default.svc.cluster.local",
            "client.default.svc.cluster.local.",
            "client",
            "client.default.svc",
            "client.default",
            "10.96.10.1",
        ]
    );
    // §5.7: a service without a VS gets the default route.
    let r = route(
        vhost(rc, "reviews.default.svc.cluster.local:9080"),
        "default",
    );
    assert_eq!(r["match"], json!({"prefix": "/"}));
    assert_eq!(
        r["route"]["cluster"],
        "outbound|9080||reviews.default.svc.cluster.local"
    );
    assert_eq!(r["route"]["timeout"], "0s");
    assert_eq!(r["route"]["retry_policy"]["num_retries"], 2);
    assert_eq!(
        r["decorator"]["operation"],
        "reviews.default.svc.cluster.local:9080/*"
    );
    // §5.4: ALLOW_ANY catch-all.
    let any = vhost(rc, "allow_any");
    assert_eq!(strs(&any["domains"]), ["*"]);
    let r = route(any, "allow_any");
    assert_eq!(r["route"]["cluster"], "PassthroughCluster");
    assert_eq!(r["route"]["timeout"], "0s");
    // §5.2 step 8.
    assert_eq!(rc["ignore_port_in_host_matching"], true);
    assert_eq!(rc["validate_clusters"], false);
}

#[test]
fn outbound_cluster_types_and_virtual_outbound() {
    let d = dump(&scenario("outbound"), "deploy/client", "default");
    // §7.1.
    for (name, kind) in [
        ("outbound|9080||reviews.default.svc.cluster.local", "EDS"),
        ("outbound|3306||mysqldb.default.svc.cluster.local", "EDS"),
        ("outbound|8000||web.default.svc.cluster.local", "EDS"),
        ("outbound|9080||ratings.other.svc.cluster.local", "EDS"),
        (
            "outbound|5432||db.default.svc.cluster.local",
            "ORIGINAL_DST",
        ),
        ("outbound|443||api.example.com", "STRICT_DNS"),
        ("PassthroughCluster", "ORIGINAL_DST"),
    ] {
        assert_eq!(cluster(&d, name)["type"], kind, "{name}");
    }
    // §2.2: BlackHoleCluster is STATIC (Envoy's default type, so omitted).
    let bh = cluster(&d, "BlackHoleCluster");
    assert!(bh.get("type").is_none_or(|t| t == "STATIC"));
    // §4.5.
    let vo = listener(&d, "virtualOutbound");
    assert_eq!(vo["address"]["socket_address"]["port_value"], 15001);
    assert_eq!(vo["use_original_dst"], true);
    let cs = chains(vo);
    assert_eq!(
        names(&cs),
        ["virtualOutbound-blackhole", "virtualOutbound-catchall-tcp"]
    );
    assert_eq!(cs[0]["filter_chain_match"]["destination_port"], 15001);
    assert_eq!(tcp_cluster(cs[0]), "BlackHoleCluster");
    assert_eq!(tcp_cluster(cs[1]), "PassthroughCluster");
}

// ----------------------------------------------------------------- routing/

fn cart_vhost(d: &Value) -> &Value {
    vhost(route_config(d, "8080"), "cart.shop.svc.cluster.local:8080")
}

const VS_CART: &str = "/apis/networking.istio.io/v1/namespaces/shop/virtual-service/cart";
const DR_CART: &str = "/apis/networking.istio.io/v1/namespaces/shop/destination-rule/cart";

#[test]
fn routing_match_and_route_options() {
    let d = dump(&scenario("routing"), "deploy/frontend", "shop");
    let vh = cart_vhost(&d);
    // §1.7/§5.2: `cart` is older than `cart-late`, so only its routes.
    assert_eq!(
        names(&vh["routes"].as_array().unwrap().iter().collect::<Vec<_>>()),
        ["jason.header", "old-path", "rewrite", "split"]
    );
    // §5.6: `<http name>.<match name>`, header and prefix matches.
    let r = route(vh, "jason.header");
    assert_eq!(
        r["match"],
        json!({"prefix": "/api", "case_sensitive": true,
               "headers": [{"name": "end-user", "string_match": {"exact": "jason"}}]})
    );
    assert_eq!(
        r["route"]["cluster"],
        "outbound|8080|v2|cart.shop.svc.cluster.local"
    );
    assert_eq!(r["route"]["timeout"], "2s");
    let retry = &r["route"]["retry_policy"];
    assert_eq!(retry["num_retries"], 3);
    assert_eq!(retry["per_try_timeout"], "0.500s");
    assert_eq!(
        retry["retry_on"],
        "5xx,gateway-error,retriable-status-codes"
    );
    assert_eq!(retry["retriable_status_codes"], json!([503]));
    // v2 is ROUND_ROBIN: no hash, so the previous-hosts predicate stays.
    assert_eq!(
        retry["retry_host_predicate"][0]["name"],
        "envoy.retry_host_predicates.previous_hosts"
    );
    assert!(r["route"].get("hash_policy").is_none());
    let fault = &r["typed_per_filter_config"]["envoy.filters.http.fault"]["delay"];
    assert_eq!(fault["fixed_delay"], "1s");
    assert_eq!(
        fault["percentage"],
        json!({"numerator": 100000, "denominator": "MILLION"})
    );
    assert_eq!(
        r["request_headers_to_add"],
        json!([{"header": {"key": "x-canary", "value": "true"},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}])
    );
    assert_eq!(r["request_headers_to_remove"], json!(["x-debug"]));
    assert_eq!(r["metadata"]["filter_metadata"]["istio"]["config"], VS_CART);

    let r = route(vh, "old-path");
    assert_eq!(r["match"]["path"], "/cart/old");
    assert_eq!(
        r["redirect"],
        json!({"path_redirect": "/cart/new", "response_code": "FOUND"})
    );

    let r = route(vh, "rewrite");
    assert_eq!(r["match"]["prefix"], "/v1/");
    assert_eq!(r["route"]["prefix_rewrite"], "/");
    assert_eq!(
        r["route"]["cluster"],
        "outbound|8080|v1|cart.shop.svc.cluster.local"
    );
    assert_eq!(
        r["route"]["request_mirror_policies"],
        json!([{"cluster": "outbound|8080|v2|cart.shop.svc.cluster.local",
                "runtime_fraction": {"default_value": {"numerator": 50000, "denominator": "MILLION"}},
                "trace_sampled": false}])
    );
    let cors = &r["typed_per_filter_config"]["envoy.filters.http.cors"];
    assert_eq!(
        cors["allow_origin_string_match"],
        json!([{"exact": "https://shop.example.com"}])
    );
    assert_eq!(cors["allow_methods"], "GET,POST");
    // §7.3: v1 inherits the DR's consistent hash ⇒ route hash policy, and
    // §5.6: no previous-hosts predicate with consistent hashing.
    assert_eq!(
        r["route"]["hash_policy"],
        json!([{"header": {"header_name": "x-user"}}])
    );
    assert!(
        r["route"]["retry_policy"]
            .get("retry_host_predicate")
            .is_none()
    );

    // §5.6: weighted clusters 90/10; catch-all match ends the VS.
    let r = route(vh, "split");
    assert_eq!(r["match"], json!({"prefix": "/"}));
    assert_eq!(
        r["route"]["weighted_clusters"]["clusters"],
        json!([
            {"name": "outbound|8080|v1|cart.shop.svc.cluster.local", "weight": 90},
            {"name": "outbound|8080|v2|cart.shop.svc.cluster.local", "weight": 10},
        ])
    );
}

#[test]
fn routing_delegate_is_merged_into_the_root() {
    let d = dump(&scenario("routing"), "deploy/frontend", "shop");
    let vh = vhost(route_config(&d, "80"), "frontend.shop.svc.cluster.local:80");
    // §5.6 delegation: the root entry has no name, so the delegate's stands.
    let r = route(vh, "items");
    assert_eq!(r["match"]["prefix"], "/store/items");
    assert_eq!(
        r["route"]["cluster"],
        "outbound|8080||cart.shop.svc.cluster.local"
    );
    assert_eq!(
        r["metadata"]["filter_metadata"]["istio"]["config"],
        "/apis/networking.istio.io/v1/namespaces/shop/virtual-service/frontend"
    );
    let routes = vh["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(
        routes[1]["route"]["cluster"],
        "outbound|80||frontend.shop.svc.cluster.local"
    );
}

#[test]
fn routing_tcp_route_honours_source_labels() {
    let s = scenario("routing");
    // §4.3 TCP: the frontend matches sourceLabels {app: frontend}.
    let d = dump(&s, "deploy/frontend", "shop");
    let l = listener(&d, "10.96.20.3_6379");
    let [only] = chains(l)[..] else {
        panic!("one chain")
    };
    let tcp = filter(only, "envoy.filters.network.tcp_proxy");
    assert_eq!(tcp["stat_prefix"], "redis.shop");
    assert_eq!(
        tcp["weighted_clusters"]["clusters"],
        json!([
            {"name": "outbound|6379||redis-canary.shop.svc.cluster.local", "weight": 20},
            {"name": "outbound|6379||redis.shop.svc.cluster.local", "weight": 80},
        ])
    );
    // §4.4: chains from a VS tcp match carry its config path.
    assert_eq!(
        only["metadata"]["filter_metadata"]["istio"]["config"],
        "/apis/networking.istio.io/v1/namespaces/shop/virtual-service/redis"
    );
    // A cart proxy does not match: the default chain to redis.
    let d = dump(&s, "deploy/cart-v1", "shop");
    let l = listener(&d, "10.96.20.3_6379");
    let [only] = chains(l)[..] else {
        panic!("one chain")
    };
    assert_eq!(
        tcp_cluster(only),
        "outbound|6379||redis.shop.svc.cluster.local"
    );
    assert!(only.get("metadata").is_none());
}

#[test]
fn routing_destination_rule_shapes_the_clusters() {
    let d = dump(&scenario("routing"), "deploy/frontend", "shop");
    // §7.5: one cluster per subset.
    let cart: Vec<String> = names(&clusters(&d))
        .into_iter()
        .filter(|n| n.ends_with("|cart.shop.svc.cluster.local"))
        .collect();
    assert_eq!(
        cart,
        [
            "outbound|8080||cart.shop.svc.cluster.local",
            "outbound|8080|v1|cart.shop.svc.cluster.local",
            "outbound|8080|v2|cart.shop.svc.cluster.local",
        ]
    );
    // §7.3.
    for name in &cart {
        let c = cluster(&d, name);
        assert_eq!(c["type"], "EDS");
        assert_eq!(c["connect_timeout"], "3s", "{name}");
        let t = &c["circuit_breakers"]["thresholds"][0];
        assert_eq!(t["max_connections"], 100);
        assert_eq!(t["max_pending_requests"], 10);
        assert_eq!(t["max_retries"], 4);
        let od = &c["outlier_detection"];
        assert_eq!(od["consecutive_5xx"], 7);
        assert_eq!(od["enforcing_consecutive_5xx"], 100);
        assert_eq!(od["interval"], "5s");
        assert_eq!(od["base_ejection_time"], "60s");
        assert_eq!(od["enforcing_success_rate"], 0);
        assert_eq!(
            c["metadata"]["filter_metadata"]["istio"]["config"], DR_CART,
            "{name}"
        );
        // §7.4: no DR TLS ⇒ auto mTLS socket matches.
        let tsm = c["transport_socket_matches"].as_array().unwrap();
        assert_eq!(
            names(&tsm.iter().collect::<Vec<_>>()),
            ["tlsMode-istio", "tlsMode-disabled"]
        );
        assert_eq!(tsm[0]["match"], json!({"tlsMode": "istio"}));
        let subset = name.split('|').nth(2).unwrap();
        assert_eq!(
            tsm[0]["transport_socket"]["typed_config"]["sni"],
            format!("outbound_.8080_.{subset}_.cart.shop.svc.cluster.local")
        );
    }
    let c = cluster(&d, "outbound|8080||cart.shop.svc.cluster.local");
    assert_eq!(c["lb_policy"], "RING_HASH");
    assert_eq!(c["ring_hash_lb_config"]["minimum_ring_size"], "1024");
    assert!(
        c["metadata"]["filter_metadata"]["istio"]
            .get("subset")
            .is_none()
    );
    assert_eq!(
        cluster(&d, "outbound|8080|v1|cart.shop.svc.cluster.local")["lb_policy"],
        "RING_HASH"
    );
    // §7.2: the subset's ROUND_ROBIN replaces the hash (Envoy's default, so
    // the dump omits it).
    let v2 = cluster(&d, "outbound|8080|v2|cart.shop.svc.cluster.local");
    assert!(v2.get("lb_policy").is_none_or(|p| p == "ROUND_ROBIN"));
    assert!(v2.get("ring_hash_lb_config").is_none());
    assert_eq!(v2["metadata"]["filter_metadata"]["istio"]["subset"], "v2");
    // §7.3 default: LEAST_REQUEST without a DR.
    assert_eq!(
        cluster(&d, "outbound|80||frontend.shop.svc.cluster.local")["lb_policy"],
        "LEAST_REQUEST"
    );
}

// ------------------------------------------------------------------- scope/

#[test]
fn scope_sidecar_egress_limits_what_team_a_sees() {
    let d = dump(&scenario("scope"), "deploy/app", "team-a");
    // §3.3: `./*` plus shared/auth only.
    let outbound: Vec<String> = names(&clusters(&d))
        .into_iter()
        .filter(|n| n.starts_with("outbound|"))
        .collect();
    assert_eq!(
        outbound,
        [
            "outbound|8080||app.team-a.svc.cluster.local",
            "outbound|9000||auth.shared.svc.cluster.local",
        ]
    );
    let mut rds: Vec<&str> = route_configs(&d)
        .iter()
        .filter_map(|r| r["name"].as_str())
        .filter(|n| {
            !n.is_empty() && !n.starts_with("inbound|") && *n != "InboundPassthroughCluster"
        })
        .collect();
    rds.sort();
    assert_eq!(rds, ["8080", "9000"]);
    assert_eq!(
        names(&vhosts(route_config(&d, "8080"))),
        ["app.team-a.svc.cluster.local:8080", "block_all"]
    );
}

#[test]
fn scope_export_to_dot_is_visible_in_its_own_namespace() {
    let d = dump(&scenario("scope"), "deploy/app", "team-b");
    // §3.2: exportTo "." is visible to team-b itself.
    let c = cluster(&d, "outbound|8080||secret.team-b.svc.cluster.local");
    assert_eq!(c["type"], "EDS");
    let rc = route_config(&d, "8080");
    assert_eq!(
        names(&vhosts(rc)),
        [
            "app.team-a.svc.cluster.local:8080",
            "app.team-b.svc.cluster.local:8080",
            "secret.team-b.svc.cluster.local:8080",
            "allow_any",
        ]
    );
    // No Sidecar in team-b: shared/metrics is visible there.
    cluster(&d, "outbound|9090||metrics.shared.svc.cluster.local");
}

#[test]
fn scope_registry_only_blocks_unknown_destinations() {
    let d = dump(&scenario("scope"), "deploy/app", "team-a");
    // §5.4: block_all, 502.
    for port in ["8080", "9000"] {
        let vh = vhost(route_config(&d, port), "block_all");
        assert_eq!(strs(&vh["domains"]), ["*"]);
        let r = route(vh, "block_all");
        assert_eq!(r["match"], json!({"prefix": "/"}));
        assert_eq!(r["direct_response"]["status"], 502);
        assert!(
            vhosts(route_config(&d, port))
                .iter()
                .all(|v| v["name"] != "allow_any")
        );
        // §4.4: the fallback chain goes to the black hole.
        let l = listener(&d, &format!("0.0.0.0_{port}"));
        assert_eq!(l["default_filter_chain"]["name"], "PassthroughFilterChain");
        assert_eq!(tcp_cluster(&l["default_filter_chain"]), "BlackHoleCluster");
    }
    // §4.5.
    let vo = listener(&d, "virtualOutbound");
    let catchall = chains(vo)
        .into_iter()
        .find(|c| c["name"] == "virtualOutbound-catchall-tcp")
        .unwrap();
    assert_eq!(tcp_cluster(catchall), "BlackHoleCluster");
}

// ----------------------------------------------------------------- inbound/

/// The shape of one virtualInbound chain.
#[derive(Debug, PartialEq)]
struct Chain {
    name: String,
    /// `destination_port`, 0 when unmatched.
    port: u64,
    transport: String,
    alpn: Vec<String>,
    /// Terminates mTLS (has a TLS transport socket).
    mtls: bool,
    /// "HCM" or "TCP".
    kind: &'static str,
}

fn inbound_chains(d: &Value) -> Vec<Chain> {
    chains(listener(d, "virtualInbound"))
        .into_iter()
        .map(|c| {
            let m = &c["filter_chain_match"];
            Chain {
                name: c["name"].as_str().unwrap().to_string(),
                port: m["destination_port"].as_u64().unwrap_or(0),
                transport: m["transport_protocol"].as_str().unwrap_or("").to_string(),
                alpn: m["application_protocols"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                mtls: c["transport_socket"]["name"] == "envoy.transport_sockets.tls",
                kind: if has_filter(c, "envoy.filters.network.http_connection_manager") {
                    "HCM"
                } else {
                    "TCP"
                },
            }
        })
        .collect()
}

fn chain(
    name: &str,
    port: u64,
    transport: &str,
    alpn: &[&str],
    mtls: bool,
    kind: &'static str,
) -> Chain {
    Chain {
        name: name.to_string(),
        port,
        transport: transport.to_string(),
        alpn: alpn.iter().map(|s| s.to_string()).collect(),
        mtls,
        kind,
    }
}

const MTLS_HTTP: [&str; 3] = ["istio-http/1.0", "istio-http/1.1", "istio-h2"];

#[test]
fn inbound_strict_namespace_only_accepts_mtls() {
    let d = dump(&scenario("inbound"), "deploy/api", "payments");
    // §6.5 order; §6.4 STRICT column: HTTP 8080, TCP 7070, Auto 6060 (the
    // port name `metrics` is no protocol) and the Auto passthrough.
    assert_eq!(
        inbound_chains(&d),
        [
            chain("virtualInbound-blackhole", 15006, "", &[], false, "TCP"),
            chain(
                "virtualInbound-catchall-http",
                0,
                "tls",
                &MTLS_HTTP,
                true,
                "HCM"
            ),
            chain("virtualInbound", 0, "tls", &[], true, "TCP"),
            chain("0.0.0.0_6060", 6060, "tls", &MTLS_HTTP, true, "HCM"),
            chain("0.0.0.0_6060", 6060, "tls", &[], true, "TCP"),
            chain("0.0.0.0_7070", 7070, "tls", &[], true, "TCP"),
            chain("0.0.0.0_8080", 8080, "tls", &[], true, "HCM"),
        ]
    );
    let l = listener(&d, "virtualInbound");
    let c8080 = chains(l)
        .into_iter()
        .find(|c| c["name"] == "0.0.0.0_8080")
        .unwrap();
    let tls = &c8080["transport_socket"]["typed_config"];
    assert_eq!(tls["require_client_certificate"], true);
    // §6.4: HTTP chains offer h2 and http/1.1.
    assert_eq!(
        strs(&tls["common_tls_context"]["alpn_protocols"]),
        ["h2", "http/1.1"]
    );
    // §6.8: route named by target port, vhost by service port.
    let rc = &hcm(c8080)["route_config"];
    assert_eq!(rc["name"], "inbound|8080||");
    let vh = vhost(rc, "inbound|http|80");
    assert_eq!(strs(&vh["domains"]), ["*"]);
    let r = route(vh, "default");
    assert_eq!(r["route"]["cluster"], "inbound|8080||");
    assert_eq!(
        r["decorator"]["operation"],
        "api.payments.svc.cluster.local:80/*"
    );
    assert_eq!(
        r["route"]["retry_policy"],
        json!({"retry_on": "reset-before-request", "num_retries": 2})
    );
    let c7070 = chains(l)
        .into_iter()
        .find(|c| c["name"] == "0.0.0.0_7070")
        .unwrap();
    assert_eq!(tcp_cluster(c7070), "inbound|7070||");
    // §6.9: one ORIGINAL_DST cluster per target port.
    for tp in [6060, 7070, 8080] {
        let c = cluster(&d, &format!("inbound|{tp}||"));
        assert_eq!(c["type"], "ORIGINAL_DST");
        assert_eq!(c["lb_policy"], "CLUSTER_PROVIDED");
        assert_eq!(
            c["upstream_bind_config"]["source_address"]["address"],
            "127.0.0.6"
        );
    }
}

#[test]
fn inbound_port_level_mtls_overrides_a_disabled_workload() {
    let d = dump(&scenario("inbound"), "deploy/ledger", "payments");
    // §6.4 DISABLE for the service port and the passthrough; §6.5 a
    // per-port passthrough set for 9443, which is no service port.
    assert_eq!(
        inbound_chains(&d),
        [
            chain("virtualInbound-blackhole", 15006, "", &[], false, "TCP"),
            chain(
                "virtualInbound-catchall-http",
                0,
                "raw_buffer",
                &HTTP_ALPN,
                false,
                "HCM"
            ),
            chain("virtualInbound", 0, "raw_buffer", &[], false, "TCP"),
            chain(
                "virtualInbound-catchall-http",
                9443,
                "tls",
                &MTLS_HTTP,
                true,
                "HCM"
            ),
            chain("virtualInbound", 9443, "tls", &[], true, "TCP"),
            chain("0.0.0.0_8080", 8080, "raw_buffer", &[], false, "HCM"),
        ]
    );
    assert_eq!(
        listener_filters(listener(&d, "virtualInbound")),
        [
            "envoy.filters.listener.original_dst",
            "envoy.filters.listener.tls_inspector",
            "envoy.filters.listener.http_inspector",
        ]
    );
}

#[test]
fn inbound_sidecar_ingress_replaces_service_ports() {
    let s = scenario("inbound");
    let d = dump(&s, "deploy/worker", "payments");
    let pod = s
        .mesh
        .workloads
        .iter()
        .find(|w| w.namespace == "payments" && w.name.starts_with("worker-"))
        .unwrap();
    let name = format!("{}_9080", pod.ip);
    // §6.2: chains only from the ingress listener, named `<podIP>_<port>`.
    let service: Vec<_> = inbound_chains(&d)
        .into_iter()
        .filter(|c| !c.name.starts_with("virtualInbound"))
        .collect();
    assert_eq!(service, [chain(&name, 9080, "tls", &[], true, "HCM")]);
    let c = chains(listener(&d, "virtualInbound"))
        .into_iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap();
    assert_eq!(
        c["metadata"]["filter_metadata"]["istio"]["config"],
        "/apis/networking.istio.io/v1/namespaces/payments/sidecar/worker"
    );
    assert_eq!(hcm(c)["route_config"]["name"], "inbound|9080||");
    // §6.9: defaultEndpoint 127.0.0.1:8080 ⇒ STATIC.
    let cl = cluster(&d, "inbound|9080||");
    assert!(cl.get("type").is_none_or(|t| t == "STATIC"));
    assert_eq!(
        cl["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"],
        json!({"address": "127.0.0.1", "port_value": 8080})
    );
    assert!(cl.get("upstream_bind_config").is_none());
    assert!(clusters(&d).iter().all(|c| c["name"] != "inbound|8080||"));
}

#[test]
fn inbound_clients_use_auto_mtls_per_endpoint() {
    let d = dump(&scenario("inbound"), "deploy/api", "payments");
    // §7.4: the namespace is STRICT ⇒ auto mTLS socket matches for all.
    for name in [
        "outbound|80||api.payments.svc.cluster.local",
        "outbound|8080||ledger.payments.svc.cluster.local",
        "outbound|8080||worker.payments.svc.cluster.local",
    ] {
        let c = cluster(&d, name);
        assert_eq!(
            c["transport_socket_matches"][0]["name"], "tlsMode-istio",
            "{name}"
        );
    }
    // §8.4: ledger's own DISABLE removes its endpoint's tlsMode; api's stays.
    let meta = |cluster: &str| {
        cla(&d, cluster)["endpoints"][0]["lb_endpoints"][0]["metadata"]["filter_metadata"].clone()
    };
    assert_eq!(
        meta("outbound|80||api.payments.svc.cluster.local")["envoy.transport_socket_match"],
        json!({"tlsMode": "istio"})
    );
    assert!(
        meta("outbound|8080||ledger.payments.svc.cluster.local")
            .get("envoy.transport_socket_match")
            .is_none()
    );
}

// --------------------------------------------------------------- endpoints/

fn lb_endpoint<'a>(cla: &'a Value, address: &str) -> (&'a Value, &'a Value) {
    for loc in cla["endpoints"].as_array().unwrap() {
        for e in loc["lb_endpoints"].as_array().unwrap() {
            if e["endpoint"]["address"]["socket_address"]["address"] == address {
                return (loc, e);
            }
        }
    }
    panic!("no endpoint {address}")
}

#[test]
fn endpoints_grouped_by_locality_with_health() {
    let d = dump(&scenario("endpoints"), "client", "geo");
    let c = cla(&d, "outbound|80||store.geo.svc.cluster.local");
    // §8.2 step 6: one group per locality, sorted.
    let localities: Vec<&Value> = c["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["locality"])
        .collect();
    assert_eq!(
        localities,
        [
            &json!({"region": "eu-west1", "zone": "eu-west1-b"}),
            &json!({"region": "us-east1", "zone": "us-east1-c", "sub_zone": "rack7"}),
        ]
    );
    let (_, a) = lb_endpoint(c, "10.130.0.10");
    assert_eq!(a["health_status"], "HEALTHY");
    assert_eq!(
        a["endpoint"]["address"]["socket_address"]["port_value"],
        8080
    );
    // §8.4: the compressed telemetry string.
    assert_eq!(
        a["metadata"]["filter_metadata"]["istio"]["workload"],
        "store-a;geo;store;;Kubernetes"
    );
    assert_eq!(
        a["metadata"]["filter_metadata"]["envoy.transport_socket_match"],
        json!({"tlsMode": "istio"})
    );
    // §8.2 step 5: 1.31 sends not-ready endpoints as UNHEALTHY.
    let (_, b) = lb_endpoint(c, "10.130.0.11");
    assert_eq!(b["health_status"], "UNHEALTHY");
}

#[test]
fn endpoints_workload_entry_keeps_weight_and_locality() {
    let d = dump(&scenario("endpoints"), "client", "geo");
    let c = cla(&d, "outbound|80||legacy.geo.internal");
    let (loc, e) = lb_endpoint(c, "192.168.7.20");
    // §1.5: the entry's `ports.http` is the endpoint port, its weight the
    // LB weight; the locality group's weight is the sum (§8.2 step 6).
    assert_eq!(
        e["endpoint"]["address"]["socket_address"]["port_value"],
        8081
    );
    assert_eq!(e["load_balancing_weight"], 3);
    assert_eq!(loc["load_balancing_weight"], 3);
    assert_eq!(
        loc["locality"],
        json!({"region": "us-east1", "zone": "us-east1-c"})
    );
    // §1.5: a serviceAccount ⇒ tlsMode istio.
    assert_eq!(
        e["metadata"]["filter_metadata"]["envoy.transport_socket_match"],
        json!({"tlsMode": "istio"})
    );
    assert_eq!(
        e["metadata"]["filter_metadata"]["istio"]["workload"],
        "legacy-vm;geo;legacy;;Kubernetes"
    );
}

// ----------------------------------------------------------- determinism

/// Every sidecar's dump, by proxy id.
fn all_dumps(s: &Session) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s
        .mesh
        .proxies()
        .filter(|(_, _, kind)| *kind == ProxyType::Sidecar)
        .map(|(i, w, _)| {
            let d = s.generate(i).expect("generates").config_dump();
            (w.id(), serde_json::to_string(&d).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn generation_is_deterministic() {
    for name in SCENARIOS {
        let s = scenario(name);
        let first = all_dumps(&s);
        assert!(!first.is_empty(), "{name}");
        assert!(first == all_dumps(&s), "{name}: two runs differ");
    }
}

#[test]
fn output_does_not_depend_on_document_order() {
    for name in SCENARIOS {
        let text = std::fs::read_to_string(
            Path::new(ROOT)
                .join("testdata/sidecar")
                .join(name)
                .join("mesh.yaml"),
        )
        .unwrap();
        let docs: Vec<&str> = text
            .split("\n---\n")
            .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
            .collect();
        let dir =
            std::env::temp_dir().join(format!("meshsim-sidecar-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // One file per document, the last document first in path order.
        for (i, doc) in docs.iter().rev().enumerate() {
            std::fs::write(dir.join(format!("{i:03}.yaml")), doc).unwrap();
        }
        let reversed = all_dumps(&open(vec![dir.clone()]));
        let _ = std::fs::remove_dir_all(&dir);
        let forward = all_dumps(&scenario(name));
        assert_eq!(
            forward.iter().map(|p| &p.0).collect::<Vec<_>>(),
            reversed.iter().map(|p| &p.0).collect::<Vec<_>>(),
            "{name}: proxies"
        );
        for ((id, a), (_, b)) in forward.iter().zip(&reversed) {
            assert!(a == b, "{name}: {id} differs with documents reversed");
        }
    }
}

// ------------------------------------------------------------------- Envoy

#[test]
fn every_scenario_proxy_passes_envoy() {
    let envoy = envoy();
    let n: usize = SCENARIOS
        .iter()
        .map(|name| judge_all(name, &scenario(name), envoy.as_deref()))
        .sum();
    assert!(n >= 5 * 2, "{n} proxies");
}
