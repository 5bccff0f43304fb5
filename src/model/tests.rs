//! Tests of the Istio and Gateway API models: the project's seed examples
//! (testdata/seed), one realistic object per Istio kind, and Istio's and
//! Gateway API's own example objects from the shared corpus, which must load
//! without a single unknown-field warning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::load;

use super::core as k8s;
use super::gateway_api as gw;
use super::istio as ist;
use super::mesh_config::{
    DefaultProviders, ExtensionProvider, MeshConfig, MeshNetworks, MeshProxyConfig, Network,
};
use super::{BuildOptions, Store, build};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_paths(paths: &[PathBuf]) -> (Store, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let loaded = load::load(paths, &mut diags);
    let store = build(&loaded.documents, &BuildOptions::default(), &mut diags);
    (store, diags.iter().cloned().collect())
}

fn load_text(name: &str, text: &str) -> (Store, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let mut loaded = load::Loaded::default();
    load::load_text(
        Path::new(name).into(),
        text.to_string(),
        &mut loaded,
        &mut diags,
    );
    let store = build(&loaded.documents, &BuildOptions::default(), &mut diags);
    (store, diags.iter().cloned().collect())
}

/// `code file-name:line object: message`, short enough to compare whole.
fn brief(d: &Diagnostic) -> String {
    let at = d
        .span
        .as_ref()
        .map(|s| {
            let file = s
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("{file}:{}", s.line)
        })
        .unwrap_or_default();
    format!("{} {at} {}", d.code, d.object.as_deref().unwrap_or(""))
}

fn shared_corpus() -> Option<PathBuf> {
    let dir = crate_dir().join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is missing", dir.display());
        None
    }
}

/// Kinds of this module's two files (Istio and Gateway API groups).
fn is_modelled_here(group: &str) -> bool {
    group.ends_with("istio.io")
        || group.starts_with("gateway.networking.")
        || group.starts_with("inference.networking.")
}

fn kinds_modelled_here() -> BTreeSet<&'static str> {
    super::KINDS
        .iter()
        .filter(|k| is_modelled_here(k.group))
        .map(|k| k.kind)
        .collect()
}

#[test]
fn seed_examples_load_with_exactly_the_expected_warnings() {
    let (store, diags) = load_paths(&[crate_dir().join("testdata/seed")]);
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    // Every warning, in load order (files sorted by name).
    let warnings: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| {
            let what = match d.code {
                "unknown-field" => d.message.split('`').nth(1).unwrap_or("").to_string(),
                _ => String::new(),
            };
            format!("{} {what}", brief(d)).trim_end().to_string()
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "unserved-version backendtlspolicy.yaml:1 BackendTLSPolicy default/backend-tls",
            "unknown-field backendtlspolicy.yaml:11 BackendTLSPolicy default/backend-tls spec.tls",
            "unserved-version inferencepool.yaml:1 InferencePool default/my-model",
            "unknown-field inferencepool.yaml:7 InferencePool default/my-model spec.targetRef",
            "unknown-field inferencepool.yaml:11 InferencePool default/my-model spec.replicas",
            "unknown-field inferencepool.yaml:14 InferencePool default/my-model spec.loadBalancing",
            "unknown-field inferencepool.yaml:16 InferencePool default/my-model spec.model",
            "unknown-field proxyconfig.yaml:10 ProxyConfig istio-system/default spec.tracing",
            "unknown-field requestauthentication.yaml:10 RequestAuthentication default/jwt-auth spec.fromHeaders",
            "unknown-field requestauthentication.yaml:12 RequestAuthentication default/jwt-auth spec.fromParams",
            "unknown-field xbackendtrafficpolicy.yaml:11 XBackendTrafficPolicy default/my-policy spec.loadBalancing",
            "unknown-field xbackendtrafficpolicy.yaml:13 XBackendTrafficPolicy default/my-policy spec.retry",
            "unknown-field xbackendtrafficpolicy.yaml:16 XBackendTrafficPolicy default/my-policy spec.timeout",
            // gateway.networking.x-k8s.io never had a kind named ListenerSet
            // (it was XListenerSet); an API server answers "no matches for kind".
            "unknown-kind listenerset.yaml:1 ListenerSet default/extra-listeners",
        ]
    );
    let unserved: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == "unserved-version")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        unserved,
        [
            "gateway.networking.k8s.io/v1alpha2 is not served for BackendTLSPolicy (served: v1, v1alpha3); loaded as gateway.networking.k8s.io/v1",
            "inference.networking.x-k8s.io/v1alpha1 is not served for InferencePool (served: v1alpha2); loaded as inference.networking.x-k8s.io/v1alpha2",
        ]
    );

    // Every other document is a typed object.
    let counts = store.counts();
    for (kind, n) in [
        ("AuthorizationPolicy", 1),
        ("BackendTLSPolicy", 1),
        ("CustomResourceDefinition", 1),
        ("DestinationRule", 1),
        ("EnvoyFilter", 1),
        ("GRPCRoute", 1),
        ("Gateway", 2),
        ("GatewayClass", 1),
        ("HTTPRoute", 1),
        ("InferencePool", 1),
        ("MutatingWebhookConfiguration", 1),
        ("PeerAuthentication", 1),
        ("ProxyConfig", 1),
        ("ReferenceGrant", 1),
        ("RequestAuthentication", 1),
        ("ServiceEntry", 1),
        ("Sidecar", 1),
        ("TCPRoute", 1),
        ("TLSRoute", 1),
        ("Telemetry", 3),
        ("UDPRoute", 1),
        ("ValidatingWebhookConfiguration", 1),
        ("VirtualService", 1),
        ("WasmPlugin", 1),
        ("WorkloadEntry", 1),
        ("WorkloadGroup", 1),
        ("XBackendTrafficPolicy", 1),
    ] {
        assert_eq!(counts.get(kind), Some(&n), "{kind}");
    }
    assert_eq!(counts.values().sum::<usize>(), 30);
    assert_eq!(store.unmodelled.len(), 1);

    // The real fields next to the unknown ones are kept.
    let (_, policy) = store
        .of::<gw::XBackendTrafficPolicy>()
        .next()
        .expect("policy");
    assert_eq!(policy.spec.target_refs[0].name, "my-service");
    let (_, tls) = store
        .of::<gw::BackendTlsPolicy>()
        .next()
        .expect("backend TLS policy");
    assert_eq!(tls.spec.target_refs[0].kind.as_deref(), Some("Service"));
    assert!(tls.spec.validation.is_none());
    let (o, gwy) = store.of::<gw::Gateway>().next().expect("gateway");
    assert_eq!(o.namespace(), "default");
    assert_eq!(
        gwy.spec.listeners[1]
            .tls
            .as_ref()
            .map(|t| t.certificate_refs[0].name.as_str()),
        Some("tls-secret")
    );
    let (_, route) = store.of::<gw::HttpRoute>().next().expect("route");
    let m = &route.spec.rules[0].matches[0];
    assert_eq!(
        m.path.as_ref().and_then(|p| p.value.as_deref()),
        Some("/api")
    );
    // No CRD defaults applied: the parentRef's kind stays unset.
    assert_eq!(route.spec.parent_refs[0].kind, None);
    let (_, we) = store
        .of::<ist::WorkloadEntry>()
        .next()
        .expect("workload entry");
    assert_eq!(we.spec.address.as_deref(), Some("10.0.0.10"));
    assert_eq!(we.spec.ports.get("http"), Some(&8080));
    let (o, vs) = store
        .of::<ist::VirtualService>()
        .next()
        .expect("virtual service");
    assert_eq!(
        o.namespace(),
        "default",
        "namespace-less objects land in -n"
    );
    assert_eq!(
        vs.spec.http[0].route[0]
            .destination
            .port
            .as_ref()
            .and_then(|p| p.number),
        Some(80)
    );
    let (_, ef) = store.of::<ist::EnvoyFilter>().next().expect("envoy filter");
    let value = ef.spec.config_patches[0]
        .patch
        .as_ref()
        .and_then(|p| p.value.as_ref());
    assert_eq!(
        value
            .and_then(|v| v.pointer("/typed_config/@type"))
            .and_then(Value::as_str),
        Some("type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua")
    );
}

#[test]
fn seed_mesh_networks_decode() {
    #[derive(serde::Deserialize)]
    struct HelmValues {
        #[serde(rename = "meshNetworks")]
        mesh_networks: BTreeMap<String, Network>,
    }
    let text = std::fs::read_to_string(crate_dir().join("testdata/seed/meshnetworks.yaml"))
        .expect("seed file");
    let mut unknown = Vec::new();
    let values: HelmValues =
        load::yaml::decode_text(&text, &mut |p| unknown.push(p.to_string())).expect("decodes");
    assert!(unknown.is_empty(), "{unknown:?}");
    let networks = MeshNetworks {
        networks: values.mesh_networks,
    };
    let n1 = &networks.networks["network1"];
    assert_eq!(n1.endpoints[0].from_registry.as_deref(), Some("cluster1"));
    assert_eq!(n1.gateways[0].address.as_deref(), Some("1.2.3.4"));
    assert_eq!(n1.gateways[0].port, Some(15443));
    assert_eq!(
        networks.networks["network2"].gateways[0].address.as_deref(),
        Some("5.6.7.8")
    );
}

const ISTIO_OBJECTS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  gateways: [mesh, istio-system/public]
  exportTo: ["."]
  http:
  - name: canary
    match:
    - uri: {prefix: /api}
      headers:
        end-user: {exact: jason}
      withoutHeaders:
        x-skip: {regex: ".+"}
      queryParams:
        debug: {exact: "1"}
      ignoreUriCase: true
      sourceLabels: {app: productpage}
      port: 9080
    route:
    - destination: {host: reviews, subset: v2, port: {number: 9080}}
      weight: 90
      headers:
        request: {set: {x-canary: "true"}}
        response: {remove: [x-internal]}
    - destination: {host: reviews, subset: v1}
      weight: 10
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset", retryRemoteLocalities: true}
    timeout: 10s
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 0.1}}
      abort: {httpStatus: 503, percentage: {value: 1}}
    mirror: {host: reviews-shadow}
    mirrorPercentage: {value: 5}
    corsPolicy:
      allowOrigins: [{exact: "https://example.com"}]
      allowMethods: [GET, POST]
      allowCredentials: true
      maxAge: 24h
    rewrite: {uriRegexRewrite: {match: "^/api/(.*)", rewrite: "/\\1"}}
  - redirect: {uri: /v2, redirectCode: 301, derivePort: FROM_REQUEST_PORT}
  - directResponse: {status: 404, body: {string: not here}}
  - delegate: {name: reviews-delegate, namespace: bookinfo}
  tls:
  - match: [{port: 443, sniHosts: [reviews.example.com]}]
    route: [{destination: {host: reviews}}]
  tcp:
  - match: [{port: 27017, sourceSubnet: 10.0.0.0/8}]
    route: [{destination: {host: mongo, port: {number: 27017}}, weight: 100}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews.bookinfo.svc.cluster.local
  exportTo: ["*"]
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: user, ttl: 0s, path: /}
      localityLbSetting:
        enabled: true
        distribute: [{from: us-west/zone1/*, to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}}]
        failoverPriority: [topology.kubernetes.io/region]
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 30ms, tcpKeepalive: {time: 7200s, interval: 75s, probes: 9}}
      http: {http1MaxPendingRequests: 1, http2MaxRequests: 1000, maxRequestsPerConnection: 10, h2UpgradePolicy: UPGRADE}
    outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 100}
    tls: {mode: SIMPLE, sni: reviews.example.com, subjectAltNames: [reviews.example.com]}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 60s, aggression: 2}}
    retryBudget: {percent: 20, minRetryConcurrency: 5}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["bookinfo/*.example.com"]
    tls: {mode: SIMPLE, credentialName: example-cert, minProtocolVersion: TLSV1_2}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-db, namespace: bookinfo}
spec:
  hosts: [db.example.com]
  addresses: [192.0.2.10/32]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 5432, name: tcp-postgres, protocol: TCP, targetPort: 5432}]
  endpoints:
  - address: 192.0.2.10
    ports: {tcp-postgres: 5432}
    labels: {role: primary}
    locality: us-west/zone1
    weight: 1
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: bookinfo}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:8080
    connectionPool: {http: {idleTimeout: 30s}}
  egress:
  - port: {number: 3306, protocol: MYSQL, name: mysql}
    bind: 127.0.0.1
    hosts: ["*/mysql.bookinfo.svc.cluster.local"]
  - hosts: ["./*", "istio-system/*"]
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
    egressProxy: {host: egress.istio-system.svc.cluster.local, port: {number: 443}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: istio-system}
spec:
  priority: -10
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      proxy: {proxyVersion: '^1\..*'}
      listener:
        portNumber: 8080
        filterChain:
          filter:
            name: envoy.filters.network.http_connection_manager
            subFilter: {name: envoy.filters.http.router}
    patch:
      operation: INSERT_BEFORE
      value: {name: envoy.lua, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua}}
  - applyTo: CLUSTER
    match: {cluster: {service: reviews.bookinfo.svc.cluster.local, portNumber: 9080, subset: v1}}
    patch: {operation: MERGE, value: {connect_timeout: 1s}}
  - applyTo: VIRTUAL_HOST
    match: {routeConfiguration: {portNumber: 80, vhost: {name: "example.com:80", route: {action: ANY}}}}
    patch: {operation: REMOVE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-post, namespace: bookinfo}
spec:
  action: DENY
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: public}]
  rules:
  - from: [{source: {notNamespaces: [bookinfo], ipBlocks: [10.0.0.0/8], requestPrincipals: ["*"]}}]
    to: [{operation: {methods: [POST], notPaths: [/healthz], hosts: [example.com], ports: ["8080"]}}]
    when: [{key: "request.auth.claims[iss]", values: ["https://issuer"]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules:
  - issuer: https://issuer
    jwksUri: https://issuer/jwks.json
    audiences: [reviews]
    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
    fromParams: [token]
    fromCookies: [session]
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders: [{header: x-sub, claim: sub}]
    forwardOriginalToken: true
    timeout: 5s
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  mtls: {mode: STRICT}
  portLevelMtls:
    9080: {mode: PERMISSIVE}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: otel}]
    randomSamplingPercentage: 10
    customTags:
      cluster: {literal: {value: east}}
      user: {header: {name: x-user, defaultValue: none}}
  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT}
      tagOverrides:
        request_host: {operation: REMOVE}
        destination_port: {value: "string(destination.port)"}
  accessLogging:
  - providers: [{name: envoy}]
    filter: {expression: "response.code >= 400"}
    match: {mode: SERVER}
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: auth, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  url: oci://example.com/auth:1.0
  imagePullPolicy: IfNotPresent
  phase: AUTHN
  priority: 10
  failStrategy: FAIL_OPEN
  pluginConfig: {realm: bookinfo, rules: [{path: /}]}
  vmConfig: {env: [{name: POD_NAME, valueFrom: HOST}]}
  match: [{mode: SERVER, ports: [{number: 9080}]}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: vm, namespace: bookinfo}
spec:
  metadata: {labels: {app: vm}, annotations: {note: x}}
  template: {serviceAccount: vm, network: vm-net, ports: {http: 8080}}
  probe: {periodSeconds: 5, initialDelaySeconds: 1, tcpSocket: {port: 8080}}
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  concurrency: 0
  environmentVariables: {ISTIO_META_DNS_CAPTURE: "true"}
  image: {imageType: distroless}
"#;

#[test]
fn realistic_istio_objects_decode_without_unknown_fields() {
    let (store, diags) = load_text("istio.yaml", ISTIO_OBJECTS);
    // Notes that a kind has no effect on proxies are fine; problems are not.
    assert!(
        diags.iter().all(|d| d.severity == Severity::Info),
        "{:#?}",
        diags.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    assert_eq!(store.objects().len(), 13);
    let (_, vs) = store.of::<ist::VirtualService>().next().expect("vs");
    let http = &vs.spec.http[0];
    assert_eq!(
        http.r#match[0].headers["end-user"].exact.as_deref(),
        Some("jason")
    );
    assert_eq!(http.route[0].weight, Some(90));
    assert_eq!(vs.spec.tcp[0].route[0].destination.host, "mongo");
    let (_, dr) = store.of::<ist::DestinationRule>().next().expect("dr");
    let tp = dr.spec.traffic_policy.as_ref().expect("traffic policy");
    assert_eq!(
        tp.outlier_detection
            .as_ref()
            .and_then(|o| o.consecutive_5xx_errors),
        Some(7)
    );
    let (_, pa) = store.of::<ist::PeerAuthentication>().next().expect("pa");
    assert_eq!(
        pa.spec.port_level_mtls[&ist::PortKey(9080)].mode.as_deref(),
        Some("PERMISSIVE")
    );
    let (_, ef) = store.of::<ist::EnvoyFilter>().next().expect("ef");
    assert_eq!(ef.spec.priority, Some(-10));
}

#[test]
fn null_collections_read_as_empty() {
    let text = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\nspec:\n  hosts:\n  gateways:\n  http:\n  - route:\n    - destination: {host: a}\n";
    let (store, diags) = load_text("null.yaml", text);
    assert!(diags.is_empty(), "{diags:#?}");
    let (_, vs) = store.of::<ist::VirtualService>().next().expect("vs");
    assert!(vs.spec.hosts.is_empty());
}

#[test]
fn gateway_api_objects_decode_without_unknown_fields() {
    let text = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: istio
  addresses: [{type: Hostname, value: gw.example.com}]
  infrastructure: {labels: {team: a}, parametersRef: {group: "", kind: ConfigMap, name: gw-options}}
  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {shared: "true"}}}}
  tls:
    frontend:
      default: {validation: {caCertificateRefs: [{kind: ConfigMap, name: ca}], mode: AllowValidOnly}}
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls: {mode: Terminate, certificateRefs: [{name: cert, namespace: certs}], options: {k: v}}
    allowedRoutes:
      namespaces: {from: All}
      kinds: [{kind: HTTPRoute}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: https}, {kind: Service, group: "", name: svc, port: 80}]
  hostnames: [a.example.com]
  rules:
  - name: main
    matches:
    - path: {type: PathPrefix, value: /}
      headers: [{name: x-a, value: b, type: RegularExpression}]
      queryParams: [{name: q, value: "1"}]
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: a, value: b}], remove: [c]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: shadow, port: 80}, fraction: {numerator: 1, denominator: 10}}
    - type: URLRewrite
      urlRewrite: {hostname: b.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
    - type: CORS
      cors: {allowOrigins: ["https://a"], allowMethods: [GET], maxAge: 10}
    backendRefs:
    - name: svc
      port: 80
      weight: 3
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x, value: y}]}}]
    - {group: inference.networking.k8s.io, kind: InferencePool, name: pool}
    timeouts: {request: 10s, backendRequest: 2s}
    retry: {codes: [503], attempts: 2, backoff: 100ms}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{method: {service: a.B, method: C, type: Exact}, headers: [{name: x, value: y}]}]
    backendRefs: [{name: grpc, port: 50051}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: t, namespace: app}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  hostnames: [t.example.com]
  rules: [{backendRefs: [{name: tls, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: btls, namespace: app}
spec:
  targetRefs: [{group: "", kind: Service, name: svc, sectionName: https}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
    hostname: svc.example.com
    subjectAltNames: [{type: URI, uri: "spiffe://td/ns/app/sa/svc"}]
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XBackendTrafficPolicy
metadata: {name: budget, namespace: app}
spec:
  targetRefs: [{group: "", kind: Service, name: svc}]
  retryConstraint: {budget: {percent: 20, interval: 10s}, minRetryRate: {count: 10, interval: 1s}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ls, namespace: app}
spec:
  parentRef: {name: gw, namespace: infra}
  listeners: [{name: extra, port: 8443, protocol: HTTPS, hostname: x.example.com}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: pool, namespace: app}
spec:
  selector: {matchLabels: {app: model}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: epp, port: {number: 9002}, failureMode: FailClose}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: old-pool, namespace: app}
spec:
  selector: {app: model}
  targetPortNumber: 8000
  extensionRef: {name: epp, portNumber: 9002, failureMode: FailOpen}
"#;
    let (store, diags) = load_text("gw.yaml", text);
    // Notes that a kind has no effect on proxies are fine; problems are not.
    assert!(
        diags.iter().all(|d| d.severity == Severity::Info),
        "{:#?}",
        diags.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    assert_eq!(store.objects().len(), 9);
    let (_, r) = store.of::<gw::HttpRoute>().next().expect("route");
    assert_eq!(
        r.spec.rules[0].filters[1]
            .request_mirror
            .as_ref()
            .map(|m| m.backend_ref.name.as_str()),
        Some("shadow")
    );
    let (o, old) = store
        .of::<gw::InferencePoolV1alpha2>()
        .next()
        .expect("alpha pool");
    assert_eq!(o.info.effect, super::Effect::NoEffect);
    assert_eq!(old.spec.target_port_number, Some(8000));
}

/// A document with every property the CRD schema declares, each with a value
/// of the declared type.
fn maximal(schema: &Value) -> Value {
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return json!(1);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        return Value::Object(props.iter().map(|(k, v)| (k.clone(), maximal(v))).collect());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => json!([maximal(schema.get("items").unwrap_or(&Value::Null))]),
        Some("object") => match schema.get("additionalProperties") {
            // "1" also serves maps keyed by port number.
            Some(ap) if ap.is_object() => json!({ "1": maximal(ap) }),
            _ => json!({}),
        },
        Some("string") => json!("x"),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => json!({}),
    }
}

/// Checks the types against every CRD found under `paths`: a maximal object
/// per served version must decode with no unknown field and no error.
fn check_against_crds(paths: &[PathBuf]) -> usize {
    let (crds, _) = load_paths(paths);
    let mut checked = 0;
    let mut problems = Vec::new();
    for (_, crd) in crds.of::<k8s::CustomResourceDefinition>() {
        let group = crd.spec.group.as_str();
        let kind = crd.spec.names.kind.as_str();
        if super::kind_info(group, kind).is_none() {
            continue;
        }
        for v in &crd.spec.versions {
            let Some(spec) = v
                .schema
                .as_ref()
                .and_then(|s| s.pointer("/openAPIV3Schema/properties/spec"))
            else {
                continue;
            };
            let doc = json!({
                "apiVersion": format!("{group}/{}", v.name),
                "kind": kind,
                "metadata": {"name": "maximal", "namespace": "ns"},
                "spec": maximal(spec),
            });
            let (_, diags) = load_text(&format!("{kind}.{}.json", v.name), &doc.to_string());
            problems.extend(
                diags
                    .iter()
                    .filter(|d| d.code == "unknown-field" || d.severity == Severity::Error)
                    .map(|d| format!("{group}/{} {kind}: {}", v.name, d.message)),
            );
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    checked
}

#[test]
fn types_cover_every_field_of_the_crds() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let mut paths = vec![
        corpus.join("istio-install/all-on"),
        corpus.join("gateway-api-conformance/crds"),
    ];
    // Newer or other upstream CRD files to check against as well
    // (colon-separated), e.g. Istio's manifests/charts/base/files/crd-all.gen.yaml.
    if let Some(extra) = std::env::var_os("MESHSIM_EXTRA_CRDS") {
        paths.extend(std::env::split_paths(&extra));
    }
    let checked = check_against_crds(&paths);
    // 14 Istio kinds (36 versions) and 12 Gateway API kinds (20 versions)
    // that are modelled; XMesh is not.
    assert!(checked >= 50, "only {checked} CRD versions checked");
    println!("{checked} CRD versions checked");
}

#[test]
fn upstream_objects_decode_without_unknown_fields() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let mut paths = vec![
        corpus.join("istio-testdata/api-kinds"),
        corpus.join("istio-testdata/gateway-conversion/input"),
        corpus.join("gateway-api-conformance/base"),
        corpus.join("gateway-api-conformance/mesh"),
        corpus.join("gateway-api-conformance/tests"),
        corpus.join("gateway-api-conformance/examples"),
        corpus.join("istio-bookinfo"),
        corpus.join("istio-samples"),
        corpus.join("online-boutique"),
        corpus.join("robot-shop"),
    ];
    if let Ok(entries) = std::fs::read_dir(corpus.join("istio-testdata/crd-validation")) {
        let mut valid: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-valid.yaml"))
            .collect();
        valid.sort();
        paths.extend(valid);
    }
    // libyaml cannot read `[1.2.3.4, 001:db8::]` (an IPv6 address in a flow
    // sequence), which Go's YAML reader accepts; that is the YAML layer's business.
    let paths: Vec<PathBuf> = paths
        .into_iter()
        .filter(|p| p.exists() && !p.ends_with("serviceentry-valid.yaml"))
        .collect();
    let (store, diags) = load_paths(&paths);
    let ours = kinds_modelled_here();
    let problems: Vec<String> = diags
        .iter()
        .filter(|d| d.code == "unknown-field" || d.code == "invalid-object")
        .filter(|d| {
            let kind = d
                .object
                .as_deref()
                .and_then(|o| o.split(' ').next())
                .unwrap_or("");
            ours.contains(kind)
        })
        .map(ToString::to_string)
        .collect();
    let typed = store
        .objects()
        .iter()
        .filter(|o| is_modelled_here(o.info.group))
        .count();
    println!("{typed} Istio and Gateway API objects decoded");
    assert!(typed > 500, "only {typed} objects");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn mesh_config_decodes_and_overlays() {
    let text = r#"
accessLogFile: /dev/stdout
enableAutoMtls: false
outboundTrafficPolicy: {mode: REGISTRY_ONLY}
defaultProviders: {metrics: [prometheus]}
meshMTLS: {minProtocolVersion: TLSV1_3}
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  concurrency: 4
  gatewayTopology: {numTrustedProxies: 2}
  tracing: {sampling: 1, zipkin: {address: zipkin:9411}}
  proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
  proxyHeaders: {forwardedClientCert: SANITIZE, server: {disabled: true}}
extensionProviders:
- name: authz
  envoyExtAuthzGrpc: {service: authz.foo.svc.cluster.local, port: 9000, timeout: 1s}
- name: otel
  opentelemetry:
    service: otel.observability.svc.cluster.local
    port: 4317
    resourceDetectors: {environment: {}}
- name: log
  envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}
"#;
    let mut unknown = Vec::new();
    let mesh: MeshConfig =
        load::yaml::decode_text(text, &mut |p| unknown.push(p.to_string())).expect("decodes");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(
        mesh.mesh_mtls
            .as_ref()
            .and_then(|t| t.min_protocol_version.as_deref()),
        Some("TLSV1_3")
    );
    let kinds: Vec<_> = mesh
        .extension_providers()
        .iter()
        .map(|p| (p.name.clone(), p.provider_type()))
        .collect();
    let expected = [
        ("prometheus", "prometheus"),
        ("stackdriver", "stackdriver"),
        ("envoy", "envoyFileAccessLog"),
        ("authz", "envoyExtAuthzGrpc"),
        ("otel", "opentelemetry"),
        ("log", "envoyFileAccessLog"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, t)| (n.to_string(), Some(*t)))
        .collect();
    assert_eq!(kinds, expected);

    // Defaults when nothing is set.
    let d = MeshConfig::default();
    assert_eq!(d.root_namespace(), "istio-system");
    assert_eq!(d.trust_domain(), "cluster.local");
    assert_eq!(d.outbound_traffic_policy_mode(), "ALLOW_ANY");
    assert!(d.enable_auto_mtls());
    assert_eq!(d.ingress_class(), "istio");
    assert_eq!(d.ingress_controller_mode(), "STRICT");
    assert_eq!(d.ingress_service(), "istio-ingressgateway");
    assert_eq!(d.ingress_selector(), "ingressgateway");
    let own = MeshConfig {
        ingress_service: Some("edge".into()),
        ..MeshConfig::default()
    };
    assert_eq!(own.ingress_selector(), "edge");
    assert_eq!(d.default_service_export_to(), ["*"]);
    assert_eq!(d.default_virtual_service_export_to(), ["*"]);
    assert_eq!(d.default_destination_rule_export_to(), ["*"]);
    assert_eq!(d.access_log_file(), "");
    assert_eq!(d.connect_timeout(), "10s");
    assert_eq!(d.dns_refresh_rate(), "60s");
    let names: Vec<_> = d
        .extension_providers()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["prometheus", "stackdriver", "envoy"]);
    assert_eq!(d.default_config().proxy_admin_port(), 15000);

    // A later layer wins field by field; defaultConfig merges one level down.
    let base = MeshConfig {
        trust_domain: Some("example.org".into()),
        trust_domain_aliases: Some(vec!["old.example.org".into()]),
        default_providers: Some(DefaultProviders {
            tracing: Some(vec!["zipkin".into()]),
            metrics: Some(vec![]),
            ..DefaultProviders::default()
        }),
        extension_providers: Some(vec![ExtensionProvider {
            name: "log".into(),
            ..ExtensionProvider::default()
        }]),
        access_log_file: Some("/dev/null".into()),
        default_config: Some(MeshProxyConfig {
            drain_duration: Some("10s".into()),
            concurrency: Some(2),
            ..MeshProxyConfig::default()
        }),
        ..MeshConfig::default()
    };
    let mesh = MeshConfig {
        trust_domain_aliases: Some(vec!["new.example.org".into(), "old.example.org".into()]),
        ..mesh
    };
    let merged = base.overlay(mesh);
    assert_eq!(
        merged.trust_domain_aliases(),
        ["new.example.org", "old.example.org"]
    );
    let dp = merged.default_providers();
    assert_eq!(dp.tracing.as_deref(), Some(&["zipkin".to_string()][..]));
    assert_eq!(dp.metrics.as_deref(), Some(&["prometheus".to_string()][..]));
    let names: Vec<_> = merged
        .extension_providers
        .iter()
        .flatten()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["log", "authz", "otel"]);
    assert_eq!(merged.trust_domain(), "example.org");
    assert_eq!(merged.access_log_file(), "/dev/stdout");
    assert!(!merged.enable_auto_mtls());
    assert_eq!(merged.outbound_traffic_policy_mode(), "REGISTRY_ONLY");
    let pc = merged.default_config();
    assert_eq!(pc.drain_duration(), "10s");
    assert_eq!(pc.concurrency(), Some(4));
    assert_eq!(pc.num_trusted_proxies(), 2);
    assert_eq!(pc.discovery_address(), "istiod.istio-system.svc:15012");
}

#[test]
fn istio_configmap_mesh_decodes() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let (store, _) = load_paths(&[corpus.join("istio-install/all-on")]);
    let (_, cm) = store
        .of::<k8s::ConfigMap>()
        .find(|(o, _)| o.name() == "istio")
        .expect("the istio ConfigMap");
    for (key, text) in &cm.data {
        let mut unknown = Vec::new();
        match key.as_str() {
            "mesh" => {
                let mesh: MeshConfig =
                    load::yaml::decode_text(text, &mut |p| unknown.push(p.to_string()))
                        .expect("mesh decodes");
                assert_eq!(
                    mesh.default_providers().metrics,
                    Some(vec!["prometheus".to_string()])
                );
            }
            "meshNetworks" => {
                let _: MeshNetworks =
                    load::yaml::decode_text(text, &mut |p| unknown.push(p.to_string()))
                        .expect("meshNetworks decodes");
            }
            _ => {}
        }
        assert!(unknown.is_empty(), "{key}: {unknown:?}");
    }
}

#[test]
fn null_top_level_fields_read_as_empty() {
    let (store, diags) = load_text(
        "null.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec: ~\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: v\nspec:\n",
    );
    assert!(
        diags.iter().all(|d| d.severity != Severity::Error),
        "{diags:?}"
    );
    assert_eq!(store.objects().len(), 2);
}

/// Every document of testdata/ and ../shared decodes through the fast YAML
/// reader to the body, unknown fields and errors serde_yaml gives, and the
/// fast reader takes most of them.
#[test]
fn fast_yaml_reader_matches_serde_yaml() {
    let mut roots = vec![crate_dir().join("testdata")];
    match shared_corpus() {
        Some(corpus) => {
            let shared = corpus.parent().expect("../shared").to_path_buf();
            roots.extend(["corpus", "seed", "conformance"].map(|d| shared.join(d)));
        }
        None => println!("SKIPPED: ../shared documents (testdata/ only)"),
    }
    let mut diags = Diagnostics::default();
    let loaded = load::load(&roots, &mut diags);
    let decode = |doc: &load::Document, fast: bool| {
        load::yaml::FAST_READER.set(fast);
        let mut unknown = Vec::new();
        let value = load::yaml::decode::<Value>(doc, &mut |p| unknown.push(p));
        let body = super::kind_info(doc.header.group(), &doc.header.kind).map(|info| {
            let mut unknown = Vec::new();
            let body = super::decode_body(info.variant, doc, &mut |p| unknown.push(p));
            (body, unknown)
        });
        load::yaml::FAST_READER.set(true);
        (value, unknown, body)
    };
    let mut taken = 0;
    for doc in &loaded.documents {
        if load::block_yaml::parse(&doc.text).is_some() {
            taken += 1;
        }
        assert!(
            decode(doc, true) == decode(doc, false),
            "{}:{}: the fast reader differs from serde_yaml",
            doc.file.display(),
            doc.line
        );
    }
    let total = loaded.documents.len();
    println!("the fast reader took {taken} of {total} documents");
    assert!(taken * 10 >= total * 9, "took {taken} of {total}");
}
