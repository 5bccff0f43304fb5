//! The typed model: what the user wrote, one Rust type per kind.
//!
//! [`build`] turns loaded documents into a [`Store`] of typed [`Object`]s. It
//! decides each document's kind from the [`KINDS`] table, decodes it, reports
//! every field the real API does not have (with file:line and field path),
//! fills in the namespace of namespaced objects that name none, and applies
//! "later replaces earlier" to objects with the same identity. No defaults of
//! Istio's are applied here: that is the registry's business.

pub mod core;
pub mod gateway_api;
pub mod istio;
pub mod mesh_config;
pub mod meta;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diag::{Diagnostics, Severity, Span};
use crate::load::{self, Document, yaml::DecodeError};

pub use meta::{LabelSelector, Labels, ObjectMeta};

/// Access to `metadata`, implemented for every kind by `kube_kind!`.
pub trait HasMeta {
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
}

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// What meshsim does with a kind; shown by `meshsim kinds` and in README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Read to derive the mesh or a proxy's configuration.
    Used,
    /// Changes proxy configuration in istiod, but meshsim does not apply it yet.
    NotYet,
    /// Loaded and checked; has no effect on any proxy's configuration.
    NoEffect,
}

/// One (group, kind) meshsim models.
#[derive(Debug)]
pub struct KindInfo {
    pub group: &'static str,
    pub kind: &'static str,
    /// Versions the API server serves (Kubernetes, Istio 1.31, Gateway API 1.6).
    pub versions: &'static [&'static str],
    pub scope: Scope,
    pub effect: Effect,
    /// What meshsim does with it, in a few words.
    pub note: &'static str,
    variant: Variant,
}

/// Declares every modelled kind once: the [`Body`] enum, the [`KINDS`]
/// table, decoding by kind and typed access through [`Typed`].
macro_rules! kinds {
    ($(
        $variant:ident($ty:ty), $scope:ident, $effect:ident, $note:literal,
            [$(($group:literal, $kind:literal, [$($v:literal),*])),+ $(,)?];
    )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Variant { $($variant,)* }

        /// The decoded body of an object, one variant per modelled kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Body { $($variant(Box<$ty>),)* }

        /// Every modelled (group, kind) with the versions served.
        pub static KINDS: &[KindInfo] = &[$($(
            KindInfo {
                group: $group,
                kind: $kind,
                versions: &[$($v),*],
                scope: Scope::$scope,
                effect: Effect::$effect,
                note: $note,
                variant: Variant::$variant,
            },
        )+)*];

        fn decode_body(
            variant: Variant,
            doc: &Document,
            unknown: &mut dyn FnMut(load::FieldPath),
        ) -> Result<Body, DecodeError> {
            Ok(match variant {
                $(Variant::$variant => Body::$variant(Box::new(load::yaml::decode::<$ty>(doc, unknown)?)),)*
            })
        }

        impl Body {
            pub fn meta(&self) -> &ObjectMeta {
                match self { $(Body::$variant(x) => HasMeta::meta(x.as_ref()),)* }
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Body::$variant(x) => HasMeta::meta_mut(x.as_mut()),)* }
            }
        }

        $(
            impl Typed for $ty {
                fn from_body(body: &Body) -> Option<&Self> {
                    match body {
                        Body::$variant(x) => Some(x),
                        #[allow(unreachable_patterns, reason = "a table of one kind has no other arm")]
                        _ => None,
                    }
                }
            }
        )*
    };
}

/// Typed access to a [`Body`].
pub trait Typed: Sized {
    fn from_body(body: &Body) -> Option<&Self>;
}

use self::core as k8s;
use self::gateway_api as gw;
use self::istio as ist;

kinds! {
    Namespace(k8s::Namespace), Cluster, Used, "labels decide sidecar injection",
        [("", "Namespace", ["v1"])];
    Pod(k8s::Pod), Namespaced, Used, "a workload; a proxy when injected",
        [("", "Pod", ["v1"])];
    Service(k8s::Service), Namespaced, Used, "a service in the registry (ClusterIP, headless, ExternalName)",
        [("", "Service", ["v1"])];
    Endpoints(k8s::Endpoints), Namespaced, Used, "service endpoints when given",
        [("", "Endpoints", ["v1"])];
    EndpointSlice(k8s::EndpointSlice), Namespaced, Used, "service endpoints when given",
        [("discovery.k8s.io", "EndpointSlice", ["v1"])];
    Node(k8s::Node), Cluster, Used, "locality of endpoints; one DaemonSet pod each",
        [("", "Node", ["v1"])];
    ServiceAccount(k8s::ServiceAccount), Namespaced, Used, "workload identity",
        [("", "ServiceAccount", ["v1"])];
    Secret(k8s::Secret), Namespaced, Used, "gateway TLS credentials (credentialName, certificateRefs) served over SDS",
        [("", "Secret", ["v1"])];
    ConfigMap(k8s::ConfigMap), Namespaced, Used, "the `istio` ConfigMap in the root namespace holds MeshConfig",
        [("", "ConfigMap", ["v1"])];
    Deployment(k8s::Deployment), Namespaced, Used, "pods synthesized from replicas",
        [("apps", "Deployment", ["v1"])];
    StatefulSet(k8s::StatefulSet), Namespaced, Used, "pods synthesized from replicas (name-0, name-1...)",
        [("apps", "StatefulSet", ["v1"])];
    DaemonSet(k8s::DaemonSet), Namespaced, Used, "one pod per Node",
        [("apps", "DaemonSet", ["v1"])];
    ReplicaSet(k8s::ReplicaSet), Namespaced, Used, "pods synthesized from replicas unless its pods are given",
        [("apps", "ReplicaSet", ["v1"])];
    MutatingWebhookConfiguration(k8s::MutatingWebhookConfiguration), Cluster, Used,
        "the sidecar injector's selectors decide injection",
        [("admissionregistration.k8s.io", "MutatingWebhookConfiguration", ["v1"])];
    ValidatingWebhookConfiguration(k8s::ValidatingWebhookConfiguration), Cluster, Used,
        "which objects `meshsim validate` judges with istiod's rules",
        [("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", ["v1"])];
    CustomResourceDefinition(k8s::CustomResourceDefinition), Cluster, Used,
        "declares kinds, which are then not reported as unknown",
        [("apiextensions.k8s.io", "CustomResourceDefinition", ["v1"])];
    Ingress(k8s::Ingress), Namespaced, Used, "translated to an Istio Gateway and VirtualService (meshsim translate)",
        [("networking.k8s.io", "Ingress", ["v1"])];
    IngressClass(k8s::IngressClass), Cluster, Used, "selects Ingresses for the istio controller",
        [("networking.k8s.io", "IngressClass", ["v1"])];
    CertificateSigningRequest(k8s::CertificateSigningRequest), Cluster, NoEffect,
        "istiod creates them at runtime to get certificates signed (Kubernetes CA); no proxy config reads them",
        [("certificates.k8s.io", "CertificateSigningRequest", ["v1"])];
    ClusterTrustBundle(k8s::ClusterTrustBundle), Cluster, NoEffect,
        "istiod only writes its root certificate to one (ENABLE_CLUSTER_TRUST_BUNDLE_API, off); no proxy config reads them",
        [("certificates.k8s.io", "ClusterTrustBundle", ["v1beta1", "v1alpha1"])];
    Lease(k8s::Lease), Namespaced, NoEffect, "leader election; no proxy config",
        [("coordination.k8s.io", "Lease", ["v1"])];
    HorizontalPodAutoscaler(k8s::HorizontalPodAutoscaler), Namespaced, Used,
        "minReplicas when a Deployment sets no replicas",
        [("autoscaling", "HorizontalPodAutoscaler", ["v2", "v1"])];
    PodDisruptionBudget(k8s::PodDisruptionBudget), Namespaced, NoEffect, "eviction policy; no proxy config",
        [("policy", "PodDisruptionBudget", ["v1"])];
    // Istio and Gateway API kinds: see istio.rs and gateway_api.rs.
    VirtualService(ist::VirtualService), Namespaced, Used, "HTTP, TLS and TCP routing of sidecars and gateways",
        [("networking.istio.io", "VirtualService", ["v1", "v1beta1", "v1alpha3"])];
    DestinationRule(ist::DestinationRule), Namespaced, Used, "subsets and client-side policy (LB, pools, outlier detection, TLS) of clusters",
        [("networking.istio.io", "DestinationRule", ["v1", "v1beta1", "v1alpha3"])];
    IstioGateway(ist::Gateway), Namespaced, Used, "servers (ports, hosts, TLS) of the gateway proxies it selects",
        [("networking.istio.io", "Gateway", ["v1", "v1beta1", "v1alpha3"])];
    ServiceEntry(ist::ServiceEntry), Namespaced, Used, "adds services (often external) to the registry",
        [("networking.istio.io", "ServiceEntry", ["v1", "v1beta1", "v1alpha3"])];
    WorkloadEntry(ist::WorkloadEntry), Namespaced, Used, "a workload outside Kubernetes (VM); an endpoint of the services that select it",
        [("networking.istio.io", "WorkloadEntry", ["v1", "v1beta1", "v1alpha3"])];
    WorkloadGroup(ist::WorkloadGroup), Namespaced, NoEffect, "VM auto-registration template; no effect offline",
        [("networking.istio.io", "WorkloadGroup", ["v1", "v1beta1", "v1alpha3"])];
    Sidecar(ist::Sidecar), Namespaced, Used, "limits the hosts a proxy sees; custom ingress/egress listeners",
        [("networking.istio.io", "Sidecar", ["v1", "v1beta1", "v1alpha3"])];
    EnvoyFilter(ist::EnvoyFilter), Namespaced, Used, "patches generated listeners, routes, clusters and ECDS (not BOOTSTRAP)",
        [("networking.istio.io", "EnvoyFilter", ["v1alpha3"])];
    ProxyConfig(ist::ProxyConfig), Namespaced, Used, "bootstrap settings (concurrency, env, image) of selected proxies: PROXY_CONFIG and node metadata",
        [("networking.istio.io", "ProxyConfig", ["v1beta1"])];
    AuthorizationPolicy(ist::AuthorizationPolicy), Namespaced, Used, "RBAC (or ext_authz for CUSTOM) filters on the inbound chains of selected sidecars and on gateways",
        [("security.istio.io", "AuthorizationPolicy", ["v1", "v1beta1"])];
    RequestAuthentication(ist::RequestAuthentication), Namespaced, Used, "jwt_authn filter on the inbound HTTP chains of selected sidecars and on gateways",
        [("security.istio.io", "RequestAuthentication", ["v1", "v1beta1"])];
    PeerAuthentication(ist::PeerAuthentication), Namespaced, Used, "inbound mTLS mode (STRICT, PERMISSIVE, DISABLE) and clients' auto mTLS",
        [("security.istio.io", "PeerAuthentication", ["v1", "v1beta1"])];
    Telemetry(ist::Telemetry), Namespaced, Used, "istio.stats metrics overrides, access logs and tracing of selected proxies",
        [("telemetry.istio.io", "Telemetry", ["v1", "v1alpha1"])];
    WasmPlugin(ist::WasmPlugin), Namespaced, Used, "a Wasm filter (as the TrafficExtension istiod translates it into) delivered via ECDS",
        [("extensions.istio.io", "WasmPlugin", ["v1alpha1"])];
    TrafficExtension(ist::TrafficExtension), Namespaced, Used, "a Wasm filter delivered via ECDS, or an inline Lua filter",
        [("extensions.istio.io", "TrafficExtension", ["v1alpha1"])];
    GatewayClass(gw::GatewayClass), Cluster, Used, "names the controller; class `istio` gets `<gateway>-istio` deployments",
        [("gateway.networking.k8s.io", "GatewayClass", ["v1", "v1beta1"])];
    K8sGateway(gw::Gateway), Namespaced, Used, "an internal Gateway per listener, status; the registry synthesizes its `<name>-istio` deployment",
        [("gateway.networking.k8s.io", "Gateway", ["v1", "v1beta1"])];
    ListenerSet(gw::ListenerSet), Namespaced, Used,
        "extra listeners on a parent Gateway (XListenerSet: the pre-1.6 experimental name, which Istio 1.31 no longer reads)",
        [("gateway.networking.k8s.io", "ListenerSet", ["v1"]), ("gateway.networking.x-k8s.io", "XListenerSet", ["v1alpha1"])];
    HttpRoute(gw::HttpRoute), Namespaced, Used, "translated to VirtualService http routes (GAMMA ones reach sidecars)",
        [("gateway.networking.k8s.io", "HTTPRoute", ["v1", "v1beta1"])];
    GrpcRoute(gw::GrpcRoute), Namespaced, Used, "translated to VirtualService http routes",
        [("gateway.networking.k8s.io", "GRPCRoute", ["v1"])];
    TcpRoute(gw::TcpRoute), Namespaced, Used, "translated to VirtualService tcp routes",
        [("gateway.networking.k8s.io", "TCPRoute", ["v1", "v1alpha2"])];
    TlsRoute(gw::TlsRoute), Namespaced, Used, "translated to VirtualService tls routes",
        [("gateway.networking.k8s.io", "TLSRoute", ["v1", "v1alpha3", "v1alpha2"])];
    UdpRoute(gw::UdpRoute), Namespaced, NoEffect, "not supported by Istio; a warning, no configuration",
        [("gateway.networking.k8s.io", "UDPRoute", ["v1", "v1alpha2"])];
    ReferenceGrant(gw::ReferenceGrant), Namespaced, Used, "permits cross-namespace references of routes and gateways",
        [("gateway.networking.k8s.io", "ReferenceGrant", ["v1", "v1beta1"])];
    BackendTlsPolicy(gw::BackendTlsPolicy), Namespaced, Used, "TLS to the backend, as a DestinationRule",
        [("gateway.networking.k8s.io", "BackendTLSPolicy", ["v1", "v1alpha3"])];
    XBackendTrafficPolicy(gw::XBackendTrafficPolicy), Namespaced, NotYet,
        "retry budget in a DestinationRule; only with PILOT_ENABLE_ALPHA_GATEWAY_API (off in meshsim's runs)",
        [("gateway.networking.x-k8s.io", "XBackendTrafficPolicy", ["v1alpha1"])];
    XBackend(gw::XBackend), Namespaced, NotYet, "an external hostname as a backendRef; only with PILOT_ENABLE_ALPHA_GATEWAY_API (off in meshsim's runs)",
        [("gateway.networking.x-k8s.io", "XBackend", ["v1alpha1"])];
    InferencePool(gw::InferencePool), Namespaced, NotYet,
        "shadow Service and ext_proc endpoint picker; only with ENABLE_GATEWAY_API_INFERENCE_EXTENSION (off in meshsim's runs)",
        [("inference.networking.k8s.io", "InferencePool", ["v1"])];
    InferencePoolV1alpha2(gw::InferencePoolV1alpha2), Namespaced, NoEffect,
        "alpha InferencePool (CRDs up to inference-extension 1.4); Istio 1.31 reads only the v1 group",
        [("inference.networking.x-k8s.io", "InferencePool", ["v1alpha2"])];
}

/// Built-in kinds outside the seed's list: loaded, named, and reported as
/// having no effect, rather than flagged as unknown.
const OTHER_BUILTIN_KINDS: &[(&str, &str)] = &[
    ("", "ReplicationController"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "Event"),
    ("", "PodTemplate"),
    ("apps", "ControllerRevision"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodSecurityPolicy"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("apiregistration.k8s.io", "APIService"),
];

/// Non-cluster objects that turn up in manifest repositories.
const TOOLING_KINDS: &[(&str, &str, &str)] = &[
    (
        "install.istio.io",
        "IstioOperator",
        "an install-time object: meshsim reads MeshConfig from the `istio` ConfigMap or --mesh-config",
    ),
    (
        "kustomize.config.k8s.io",
        "Kustomization",
        "a kustomize build file: run `kustomize build` and load its output",
    ),
    (
        "kustomize.config.k8s.io",
        "Component",
        "a kustomize build file: run `kustomize build` and load its output",
    ),
];

pub fn kind_info(group: &str, kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.group == group && k.kind == kind)
}

/// A decoded object with its origin.
#[derive(Debug, Clone)]
pub struct Object {
    pub info: &'static KindInfo,
    pub api_version: String,
    pub span: Span,
    pub body: Body,
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        self.body.meta()
    }

    pub fn name(&self) -> &str {
        &self.meta().name
    }

    /// The namespace; "" for cluster-scoped objects.
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or("")
    }

    /// `Kind namespace/name`, as messages name objects.
    pub fn describe(&self) -> String {
        describe(self.info.kind, self.namespace(), self.name())
    }
}

pub fn describe(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// (group, kind, namespace, name): what "the same object" means.
type Identity = (&'static str, &'static str, String, String);

/// Objects of one type among `objects`, with their records.
pub fn typed<'a, T: Typed + 'a>(
    objects: &'a [Object],
) -> impl Iterator<Item = (&'a Object, &'a T)> {
    objects
        .iter()
        .filter_map(|o| T::from_body(&o.body).map(|t| (o, t)))
}

/// A document of a kind meshsim has no model for.
#[derive(Debug, Clone)]
pub struct Unmodelled {
    pub group: String,
    pub kind: String,
    pub describe: String,
    pub span: Span,
    pub reason: String,
}

/// All typed objects, in load order, identities unique.
#[derive(Debug, Default)]
pub struct Store {
    objects: Vec<Object>,
    pub unmodelled: Vec<Unmodelled>,
}

impl Store {
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Objects of one type, with their records, in load order.
    pub fn of<'a, T: Typed + 'a>(&'a self) -> impl Iterator<Item = (&'a Object, &'a T)> {
        typed(&self.objects)
    }

    /// Count of objects per kind, for summaries.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for o in &self.objects {
            *counts.entry(o.info.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// Options of the model stage.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Namespace for namespaced objects that name none (`-n`).
    pub default_namespace: String,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            default_namespace: "default".to_string(),
        }
    }
}

/// Decode every document into the store.
pub fn build(docs: &[Document], opts: &BuildOptions, diags: &mut Diagnostics) -> Store {
    let mut store = Store::default();
    let mut index: HashMap<Identity, usize> = HashMap::new();
    let mut pending_unknown: Vec<&Document> = Vec::new();
    // Decoding is nearly all of the cost and each document stands alone, so it
    // runs on every core; everything order-dependent happens afterwards, in
    // document order.
    let decoded = crate::parallel::map(docs, |doc| {
        let info = kind_info(doc.header.group(), &doc.header.kind)?;
        let mut unknown = Vec::new();
        let body = decode_body(info.variant, doc, &mut |p| unknown.push(p));
        Some((info, body, unknown))
    });
    for (doc, decoded) in docs.iter().zip(decoded) {
        let h = &doc.header;
        let Some((info, decoded, unknown)) = decoded else {
            pending_unknown.push(doc);
            continue;
        };
        if !info.versions.contains(&h.version()) {
            diags.report(
                Severity::Warning,
                "unserved-version",
                Some(doc.span()),
                Some(h.describe()),
                format!(
                    "{} is not served for {} (served: {}); loaded as {}/{}",
                    h.api_version,
                    info.kind,
                    info.versions.join(", "),
                    qualified_group(info.group),
                    info.versions[0],
                ),
            );
        }
        let mut body = match decoded {
            Ok(body) => body,
            Err(e) => {
                diags.report(
                    Severity::Error,
                    "invalid-object",
                    Some(doc.span_at(e.line, e.col)),
                    Some(h.describe()),
                    e.message,
                );
                continue;
            }
        };
        for path in unknown {
            diags.report(
                Severity::Warning,
                "unknown-field",
                Some(doc.locate(&path)),
                Some(h.describe()),
                format!(
                    "field `{path}` does not exist in {} {}; ignored (the API server would prune or reject it)",
                    h.api_version, info.kind
                ),
            );
        }
        let meta = body.meta_mut();
        match info.scope {
            Scope::Namespaced => {
                if meta.namespace.as_deref().is_none_or(str::is_empty) {
                    meta.namespace = Some(opts.default_namespace.clone());
                }
            }
            Scope::Cluster => {
                if meta.namespace.take().is_some_and(|ns| !ns.is_empty()) {
                    diags.report(
                        Severity::Info,
                        "cluster-scoped",
                        Some(doc.span()),
                        Some(h.describe()),
                        format!("{} is cluster-scoped; its namespace is ignored", info.kind),
                    );
                }
            }
        }
        if meta.name.is_empty() {
            diags.report(
                Severity::Error,
                "invalid-object",
                Some(doc.span()),
                Some(h.describe()),
                "metadata.name is required (generateName is resolved by the API server, not offline)",
            );
            continue;
        }
        if info.effect == Effect::NoEffect {
            diags.report(
                Severity::Info,
                "no-effect",
                Some(doc.span()),
                Some(h.describe()),
                format!("{}: {}", info.kind, info.note),
            );
        }
        let object = Object {
            info,
            api_version: h.api_version.clone(),
            span: doc.span(),
            body,
        };
        let id: Identity = (
            info.group,
            info.kind,
            object.namespace().to_string(),
            object.name().to_string(),
        );
        match index.get(&id) {
            Some(&i) => {
                diags.report(
                    Severity::Warning,
                    "duplicate",
                    Some(object.span.clone()),
                    Some(object.describe()),
                    format!(
                        "replaces the same object defined at {}",
                        store.objects[i].span
                    ),
                );
                store.objects[i] = object;
            }
            None => {
                index.insert(id, store.objects.len());
                store.objects.push(object);
            }
        }
    }
    report_unmodelled(&mut store, &pending_unknown, diags);
    store
}

fn qualified_group(group: &str) -> &str {
    if group.is_empty() { "core" } else { group }
}

/// Unknown kinds are judged last, once every CRD has been seen.
fn report_unmodelled(store: &mut Store, docs: &[&Document], diags: &mut Diagnostics) {
    let declared: BTreeSet<(String, String)> = store
        .of::<k8s::CustomResourceDefinition>()
        .map(|(_, crd)| (crd.spec.group.clone(), crd.spec.names.kind.clone()))
        .collect();
    for doc in docs {
        let h = &doc.header;
        let (group, kind) = (h.group(), h.kind.as_str());
        let (severity, code, reason) = if let Some((_, _, why)) = TOOLING_KINDS
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
        {
            (Severity::Info, "no-effect", (*why).to_string())
        } else if OTHER_BUILTIN_KINDS.contains(&(group, kind)) {
            (
                Severity::Info,
                "no-effect",
                format!("{kind} has no effect on proxy configuration; not modelled"),
            )
        } else if declared.contains(&(group.to_string(), kind.to_string())) {
            (
                Severity::Info,
                "no-effect",
                format!(
                    "{kind} is declared by a loaded CRD; meshsim has no model of it and it has no effect on proxies"
                ),
            )
        } else {
            (
                Severity::Warning,
                "unknown-kind",
                format!(
                    "unknown kind {kind} in {}: not a built-in, Istio or Gateway API kind, and no loaded CRD declares it; ignored",
                    h.api_version
                ),
            )
        };
        diags.report(
            severity,
            code,
            Some(doc.span()),
            Some(h.describe()),
            reason.clone(),
        );
        store.unmodelled.push(Unmodelled {
            group: group.to_string(),
            kind: kind.to_string(),
            describe: h.describe(),
            span: doc.span(),
            reason,
        });
    }
}

#[cfg(test)]
mod tests;
