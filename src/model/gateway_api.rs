//! Gateway API kinds (standard and experimental channels of v1.6) and the
//! Inference Extension's InferencePool, as their CRDs serve them.
//!
//! Types follow the CRD schemas field for field, so that anything else in a
//! manifest (a field the API server would prune or reject) is reported by the
//! loader. The CRDs' `+kubebuilder:default` values (ParentReference kind
//! `Gateway`, path match `PathPrefix /`, backend weight 1...) are *not*
//! applied here: the fields stay `None` and the translation stage decides.
//! Enums are kept as strings for the same reason as in `istio.rs`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::istio::api_struct;
use super::meta::{LabelSelector, kube_kind};

type Labels = BTreeMap<String, String>;

// ---------------------------------------------------------------------------
// References

api_struct!(
    /// A route's parent: a Gateway, ListenerSet, Service (GAMMA) or ServiceEntry.
    ParentReference {
        group: Option<String>,
        kind: Option<String>,
        namespace: Option<String>,
        name: String,
        section_name: Option<String>,
        port: Option<i32>,
    }
);

api_struct!(
    /// A backend without per-backend filters (TCP, TLS, UDP routes).
    BackendRef {
        group: Option<String>,
        kind: Option<String>,
        name: String,
        namespace: Option<String>,
        port: Option<i32>,
        weight: Option<i32>,
    }
);

api_struct!(BackendObjectReference {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    port: Option<i32>,
});

api_struct!(
    /// A reference to a Secret (or other certificate holder), possibly in another namespace.
    SecretObjectReference { group: Option<String>, kind: Option<String>, name: String, namespace: Option<String> }
);

api_struct!(LocalObjectReference { group: Option<String>, kind: Option<String>, name: String });

api_struct!(LocalPolicyTargetReference { group: Option<String>, kind: Option<String>, name: String });

api_struct!(LocalPolicyTargetReferenceWithSectionName {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    section_name: Option<String>,
});

api_struct!(ParametersReference {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
});

// ---------------------------------------------------------------------------
// GatewayClass

kube_kind!(
    /// gateway.networking.k8s.io GatewayClass.
    GatewayClass { spec: GatewayClassSpec, status: Option<Value> }
);

api_struct!(GatewayClassSpec {
    controller_name: String,
    parameters_ref: Option<ParametersReference>,
    description: Option<String>,
});

// ---------------------------------------------------------------------------
// Gateway and ListenerSet

kube_kind!(
    /// gateway.networking.k8s.io Gateway.
    Gateway { spec: GatewaySpec, status: Option<Value> }
);

api_struct!(GatewaySpec {
    gateway_class_name: String,
    listeners: Vec<Listener>,
    addresses: Vec<GatewayAddress>,
    infrastructure: Option<GatewayInfrastructure>,
    allowed_listeners: Option<AllowedListeners>,
    tls: Option<GatewayTlsConfig>,
    default_scope: Option<String>,
});

api_struct!(
    /// A listener of a Gateway or ListenerSet (the two share the shape).
    Listener {
        name: String,
        hostname: Option<String>,
        port: Option<i32>,
        protocol: String,
        tls: Option<ListenerTlsConfig>,
        allowed_routes: Option<AllowedRoutes>,
    }
);

api_struct!(ListenerTlsConfig {
    mode: Option<String>,
    certificate_refs: Vec<SecretObjectReference>,
    options: Labels,
});

api_struct!(AllowedRoutes { namespaces: Option<RouteNamespaces>, kinds: Vec<RouteGroupKind> });

api_struct!(RouteNamespaces { from: Option<String>, selector: Option<LabelSelector> });

api_struct!(RouteGroupKind { group: Option<String>, kind: String });

api_struct!(GatewayAddress { r#type: Option<String>, value: Option<String> });

api_struct!(GatewayInfrastructure {
    labels: Labels,
    annotations: Labels,
    parameters_ref: Option<LocalObjectReference>,
});

api_struct!(AllowedListeners { namespaces: Option<ListenerNamespaces> });

api_struct!(ListenerNamespaces { from: Option<String>, selector: Option<LabelSelector> });

api_struct!(GatewayTlsConfig { backend: Option<GatewayBackendTls>, frontend: Option<FrontendTlsConfig> });

api_struct!(GatewayBackendTls { client_certificate_ref: Option<SecretObjectReference> });

api_struct!(FrontendTlsConfig { default: Option<TlsConfig>, per_port: Vec<TlsPortConfig> });

api_struct!(TlsPortConfig { port: Option<i32>, tls: Option<TlsConfig> });

api_struct!(TlsConfig { validation: Option<FrontendTlsValidation> });

api_struct!(FrontendTlsValidation { ca_certificate_refs: Vec<SecretObjectReference>, mode: Option<String> });

kube_kind!(
    /// gateway.networking.k8s.io ListenerSet (also the pre-1.6 experimental
    /// XListenerSet, whose schema it shares).
    ListenerSet { spec: ListenerSetSpec, status: Option<Value> }
);

api_struct!(ListenerSetSpec { parent_ref: Option<ParentGatewayReference>, listeners: Vec<Listener> });

api_struct!(ParentGatewayReference {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
});

// ---------------------------------------------------------------------------
// HTTPRoute

kube_kind!(
    /// gateway.networking.k8s.io HTTPRoute.
    HttpRoute { spec: HttpRouteSpec, status: Option<Value> }
);

api_struct!(HttpRouteSpec {
    parent_refs: Vec<ParentReference>,
    hostnames: Vec<String>,
    rules: Vec<HttpRouteRule>,
    use_default_gateways: Option<String>,
});

api_struct!(HttpRouteRule {
    name: Option<String>,
    matches: Vec<HttpRouteMatch>,
    filters: Vec<HttpRouteFilter>,
    backend_refs: Vec<HttpBackendRef>,
    timeouts: Option<HttpRouteTimeouts>,
    retry: Option<HttpRouteRetry>,
    session_persistence: Option<SessionPersistence>,
});

api_struct!(HttpRouteMatch {
    path: Option<HttpPathMatch>,
    headers: Vec<HeaderMatch>,
    query_params: Vec<HeaderMatch>,
    method: Option<String>,
});

api_struct!(HttpPathMatch { r#type: Option<String>, value: Option<String> });

api_struct!(
    /// A header or query parameter match (HTTP and gRPC).
    HeaderMatch { r#type: Option<String>, name: String, value: String }
);

api_struct!(HttpBackendRef {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    port: Option<i32>,
    weight: Option<i32>,
    filters: Vec<HttpRouteFilter>,
});

api_struct!(HttpRouteFilter {
    r#type: String,
    request_header_modifier: Option<HeaderFilter>,
    response_header_modifier: Option<HeaderFilter>,
    request_mirror: Option<RequestMirrorFilter>,
    request_redirect: Option<RequestRedirectFilter>,
    url_rewrite: Option<UrlRewriteFilter>,
    extension_ref: Option<LocalObjectReference>,
    cors: Option<CorsFilter>,
    external_auth: Option<ExternalAuthFilter>,
});

api_struct!(HeaderFilter { set: Vec<HttpHeader>, add: Vec<HttpHeader>, remove: Vec<String> });

api_struct!(HttpHeader {
    name: String,
    value: String
});

api_struct!(RequestMirrorFilter {
    backend_ref: BackendObjectReference,
    percent: Option<i32>,
    fraction: Option<Fraction>,
});

api_struct!(Fraction { numerator: i32, denominator: Option<i32> });

api_struct!(RequestRedirectFilter {
    scheme: Option<String>,
    hostname: Option<String>,
    path: Option<PathModifier>,
    port: Option<i32>,
    status_code: Option<i32>,
});

api_struct!(PathModifier {
    r#type: String,
    replace_full_path: Option<String>,
    replace_prefix_match: Option<String>,
});

api_struct!(UrlRewriteFilter { hostname: Option<String>, path: Option<PathModifier> });

api_struct!(CorsFilter {
    allow_origins: Vec<String>,
    allow_credentials: Option<bool>,
    allow_methods: Vec<String>,
    allow_headers: Vec<String>,
    expose_headers: Vec<String>,
    max_age: Option<i32>,
});

api_struct!(ExternalAuthFilter {
    protocol: Option<String>,
    backend_ref: BackendObjectReference,
    grpc: Option<GrpcAuthConfig>,
    http: Option<HttpAuthConfig>,
    forward_body: Option<ForwardBodyConfig>,
});

api_struct!(GrpcAuthConfig { allowed_headers: Vec<String> });

api_struct!(HttpAuthConfig {
    path: Option<String>,
    allowed_headers: Vec<String>,
    allowed_response_headers: Vec<String>,
});

api_struct!(ForwardBodyConfig { max_size: Option<i32> });

api_struct!(HttpRouteTimeouts { request: Option<String>, backend_request: Option<String> });

api_struct!(HttpRouteRetry { codes: Vec<i32>, attempts: Option<i32>, backoff: Option<String> });

api_struct!(
    /// Gateway API v1.6.0 (which Istio 1.31 builds on) writes `sessionName`
    /// and `cookieConfig`; later experimental CRDs `cookie` and `header`.
    /// Both shapes are accepted.
    SessionPersistence {
        r#type: Option<String>,
        session_name: Option<String>,
        absolute_timeout: Option<String>,
        idle_timeout: Option<String>,
        cookie_config: Option<SessionCookie>,
        cookie: Option<SessionCookie>,
        header: Option<SessionHeader>,
    }
);

api_struct!(SessionCookie { lifetime_type: Option<String>, name: Option<String>, path: Option<String> });

api_struct!(SessionHeader { name: Option<String> });

// ---------------------------------------------------------------------------
// GRPCRoute

kube_kind!(
    /// gateway.networking.k8s.io GRPCRoute.
    GrpcRoute { spec: GrpcRouteSpec, status: Option<Value> }
);

api_struct!(GrpcRouteSpec {
    parent_refs: Vec<ParentReference>,
    hostnames: Vec<String>,
    rules: Vec<GrpcRouteRule>,
    use_default_gateways: Option<String>,
});

api_struct!(GrpcRouteRule {
    name: Option<String>,
    matches: Vec<GrpcRouteMatch>,
    filters: Vec<GrpcRouteFilter>,
    backend_refs: Vec<GrpcBackendRef>,
    session_persistence: Option<SessionPersistence>,
});

api_struct!(GrpcRouteMatch { method: Option<GrpcMethodMatch>, headers: Vec<HeaderMatch> });

api_struct!(GrpcMethodMatch { r#type: Option<String>, service: Option<String>, method: Option<String> });

api_struct!(GrpcRouteFilter {
    r#type: String,
    request_header_modifier: Option<HeaderFilter>,
    response_header_modifier: Option<HeaderFilter>,
    request_mirror: Option<RequestMirrorFilter>,
    extension_ref: Option<LocalObjectReference>,
});

api_struct!(GrpcBackendRef {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    port: Option<i32>,
    weight: Option<i32>,
    filters: Vec<GrpcRouteFilter>,
});

// ---------------------------------------------------------------------------
// TCPRoute, TLSRoute, UDPRoute

kube_kind!(
    /// gateway.networking.k8s.io TCPRoute.
    TcpRoute { spec: L4RouteSpec, status: Option<Value> }
);

kube_kind!(
    /// gateway.networking.k8s.io UDPRoute (Istio never programs it).
    UdpRoute { spec: L4RouteSpec, status: Option<Value> }
);

api_struct!(
    /// The spec TCPRoute and UDPRoute share.
    L4RouteSpec { parent_refs: Vec<ParentReference>, rules: Vec<L4RouteRule>, use_default_gateways: Option<String> }
);

api_struct!(L4RouteRule { name: Option<String>, backend_refs: Vec<BackendRef> });

kube_kind!(
    /// gateway.networking.k8s.io TLSRoute.
    TlsRoute { spec: TlsRouteSpec, status: Option<Value> }
);

api_struct!(TlsRouteSpec {
    parent_refs: Vec<ParentReference>,
    hostnames: Vec<String>,
    rules: Vec<L4RouteRule>,
    use_default_gateways: Option<String>,
});

// ---------------------------------------------------------------------------
// ReferenceGrant

kube_kind!(
    /// gateway.networking.k8s.io ReferenceGrant.
    ReferenceGrant { spec: ReferenceGrantSpec, status: Option<Value> }
);

api_struct!(ReferenceGrantSpec { from: Vec<ReferenceGrantFrom>, to: Vec<ReferenceGrantTo> });

api_struct!(ReferenceGrantFrom {
    group: String,
    kind: String,
    namespace: String
});

api_struct!(ReferenceGrantTo { group: String, kind: String, name: Option<String> });

// ---------------------------------------------------------------------------
// Backend policies

kube_kind!(
    /// gateway.networking.k8s.io BackendTLSPolicy.
    BackendTlsPolicy { spec: BackendTlsPolicySpec, status: Option<Value> }
);

api_struct!(BackendTlsPolicySpec {
    target_refs: Vec<LocalPolicyTargetReferenceWithSectionName>,
    validation: Option<BackendTlsValidation>,
    options: Labels,
});

api_struct!(
    /// How to verify a backend's certificate (BackendTLSPolicy and XBackend).
    BackendTlsValidation {
        ca_certificate_refs: Vec<LocalObjectReference>,
        #[serde(rename = "wellKnownCACertificates")]
        well_known_ca_certificates: Option<String>,
        hostname: Option<String>,
        subject_alt_names: Vec<SubjectAltName>,
    }
);

api_struct!(SubjectAltName { r#type: Option<String>, hostname: Option<String>, uri: Option<String> });

kube_kind!(
    /// gateway.networking.x-k8s.io XBackendTrafficPolicy.
    XBackendTrafficPolicy { spec: XBackendTrafficPolicySpec, status: Option<Value> }
);

api_struct!(XBackendTrafficPolicySpec {
    target_refs: Vec<LocalPolicyTargetReference>,
    retry_constraint: Option<RetryConstraint>,
    session_persistence: Option<SessionPersistence>,
});

api_struct!(RetryConstraint { budget: Option<RetryBudget>, min_retry_rate: Option<RequestRate> });

api_struct!(RetryBudget { percent: Option<i64>, interval: Option<String> });

api_struct!(RequestRate { count: Option<i64>, interval: Option<String> });

kube_kind!(
    /// gateway.networking.x-k8s.io XBackend: an external hostname as a backendRef.
    XBackend { spec: XBackendSpec, status: Option<Value> }
);

api_struct!(XBackendSpec {
    r#type: Option<String>,
    external_hostname: Option<ExternalHostname>,
    port: Option<XBackendPort>,
    protocol: Option<String>,
    tls: Option<XBackendTls>,
});

api_struct!(ExternalHostname { hostname: String });

api_struct!(XBackendPort { name: Option<String>, port: Option<i32> });

api_struct!(XBackendTls {
    mode: Option<String>,
    client_certificate_ref: Option<SecretObjectReference>,
    validation: Option<BackendTlsValidation>,
});

// ---------------------------------------------------------------------------
// InferencePool

kube_kind!(
    /// inference.networking.k8s.io/v1 InferencePool.
    InferencePool { spec: InferencePoolSpec, status: Option<Value> }
);

api_struct!(InferencePoolSpec {
    selector: Option<InferencePoolSelector>,
    target_ports: Vec<InferencePoolPort>,
    app_protocol: Option<String>,
    endpoint_picker_ref: Option<EndpointPickerRef>,
});

api_struct!(
    /// Only `matchLabels`: the pool's selector is no full LabelSelector.
    InferencePoolSelector { match_labels: Labels }
);

api_struct!(InferencePoolPort { number: i32 });

api_struct!(EndpointPickerRef {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    port: Option<InferencePoolPort>,
    failure_mode: Option<String>,
});

kube_kind!(
    /// inference.networking.x-k8s.io/v1alpha2 InferencePool: the alpha shape
    /// (a plain label map, one target port, `extensionRef`).
    InferencePoolV1alpha2 { spec: InferencePoolV1alpha2Spec, status: Option<Value> }
);

api_struct!(InferencePoolV1alpha2Spec {
    selector: Labels,
    target_port_number: Option<i32>,
    extension_ref: Option<InferencePoolExtension>,
});

api_struct!(InferencePoolExtension {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    port_number: Option<i32>,
    failure_mode: Option<String>,
});
