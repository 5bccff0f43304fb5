//! Istio's networking and security configuration as istiod indexes it for
//! every proxy: VirtualServices (short names resolved, delegates merged,
//! ordered), DestinationRules (merged per host, looked up in istiod's order),
//! Sidecars and PeerAuthentications (istiod-sidecar.md §1.7, §3, §5.6, §6.3),
//! AuthorizationPolicies (istiod-gateway-security.md §3.1), Telemetries
//! and extensions (WasmPlugin, TrafficExtension; §4.1, §4.2).

pub mod attachment;
pub mod authz;
pub mod credentials;
pub mod destination_rules;
pub mod envoy_filters;
pub mod extensions;
pub mod gateways;
pub mod peer_authn;
pub mod proxy_configs;
pub mod request_authn;
pub mod sidecars;
pub mod telemetry;
pub mod virtual_services;

use crate::diag::Diagnostics;
use crate::model::{Labels, Object, Store};

use super::Mesh;
use super::catalog::{Catalog, ObjRef};

pub use authz::{AuthorizationPolicies, WorkloadPolicies};
pub use destination_rules::{DestinationRules, MergedRule};
pub use envoy_filters::EnvoyFilters;
pub use gateways::{GatewayEntry, Gateways};
pub use peer_authn::{MtlsMode, PeerAuthentications};
pub use sidecars::{SidecarEntry, Sidecars};
pub use virtual_services::{VirtualServiceEntry, VirtualServices};

/// What every indexed config object carries: identity, age, where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMeta {
    pub name: String,
    pub namespace: String,
    /// `metadata.creationTimestamp` as written (RFC 3339 sorts as text).
    pub creation: Option<String>,
    pub source: ObjRef,
    /// The `internal.istio.io/*` annotations istiod sets on the objects it
    /// translates from Gateway API and Ingress (route semantics, parents).
    pub internal: Labels,
}

impl ConfigMeta {
    pub fn of(o: &Object) -> ConfigMeta {
        ConfigMeta {
            name: o.name().to_string(),
            namespace: o.namespace().to_string(),
            creation: o.meta().creation_timestamp.clone(),
            source: ObjRef {
                kind: o.info.kind,
                namespace: o.namespace().to_string(),
                name: o.name().to_string(),
            },
            internal: o
                .meta()
                .annotations
                .iter()
                .filter(|(k, _)| k.starts_with("internal.istio.io/"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// istiod's config order: creation time, then name, then namespace
    /// (a missing timestamp sorts first, like Go's zero time).
    pub fn order_key(&self) -> (&Option<String>, &str, &str) {
        (&self.creation, &self.name, &self.namespace)
    }
}

/// Does a selector's `labels` pick a workload with `labels` (selector ⊆ labels)?
pub fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The label selectors of configuration that shapes what a sidecar sends:
/// Sidecar and DestinationRule `workloadSelector`s, Telemetry and
/// WasmPlugin/TrafficExtension selectors (in their namespace; a root
/// namespace Telemetry there only, a root namespace extension anywhere) and
/// VirtualService `sourceLabels` (anywhere). Two sidecars of one namespace that match the same ones get
/// the same outbound configuration from it. (Target refs attach to gateway
/// pods only.)
#[derive(Debug)]
pub struct OutboundSelectors<'a> {
    /// (namespace the selector is limited to, labels), each pair once.
    items: Vec<(Option<&'a str>, &'a Labels)>,
}

impl OutboundSelectors<'_> {
    /// The selectors picking a workload of `ns` with `labels`, written
    /// out (comparable between two revisions).
    pub fn matching(&self, ns: &str, labels: &Labels) -> Vec<String> {
        self.items
            .iter()
            .filter(|(scope, sel)| scope.is_none_or(|s| s == ns) && selects(sel, labels))
            .map(|item| format!("{item:?}"))
            .collect()
    }
}

/// All indexed Istio configuration.
#[derive(Debug, Default)]
pub struct IstioConfig {
    pub credentials: credentials::Credentials,
    pub virtual_services: VirtualServices,
    pub destination_rules: DestinationRules,
    pub gateways: Gateways,
    pub sidecars: Sidecars,
    pub peer_authn: PeerAuthentications,
    pub request_authn: request_authn::RequestAuthentications,
    pub proxy_configs: proxy_configs::ProxyConfigs,
    pub authz: AuthorizationPolicies,
    pub envoy_filters: EnvoyFilters,
    pub telemetries: telemetry::Telemetries,
    pub extensions: extensions::Extensions,
}

impl IstioConfig {
    pub fn outbound_selectors(&self) -> OutboundSelectors<'_> {
        let mut items: Vec<(Option<&str>, &Labels)> = Vec::new();
        for s in &self.sidecars.all {
            if let Some(sel) = &s.spec.workload_selector {
                items.push((Some(s.meta.namespace.as_str()), &sel.labels));
            }
        }
        for r in &self.destination_rules.rules {
            if let Some(sel) = &r.selector {
                items.push((Some(r.namespace()), sel));
            }
        }
        items.extend(self.telemetries.selectors().map(|(ns, l)| (Some(ns), l)));
        // Root namespace extensions select workloads of every namespace.
        let root = self.sidecars.root_namespace.as_str();
        items.extend(
            self.extensions
                .selectors()
                .map(|(ns, l)| ((ns != root).then_some(ns), l)),
        );
        for vs in &self.virtual_services.all {
            let spec = &vs.spec;
            let http = spec
                .http
                .iter()
                .flat_map(|r| &r.r#match)
                .map(|m| &m.source_labels);
            let tcp = spec
                .tcp
                .iter()
                .flat_map(|r| &r.r#match)
                .map(|m| &m.source_labels);
            let tls = spec
                .tls
                .iter()
                .flat_map(|r| &r.r#match)
                .map(|m| &m.source_labels);
            items.extend(
                http.chain(tcp)
                    .chain(tls)
                    .filter(|l| !l.is_empty())
                    .map(|l| (None, l)),
            );
        }
        items.sort();
        items.dedup();
        OutboundSelectors { items }
    }
}

/// Index the store's configuration together with `translated`, the Istio
/// objects istiod derives from Gateway API and Ingress resources (the
/// catalog checks the services extension providers name).
pub fn build(
    store: &Store,
    translated: &[Object],
    mesh: &Mesh,
    catalog: &Catalog,
    diags: &mut Diagnostics,
) -> IstioConfig {
    IstioConfig {
        credentials: credentials::build(store),
        virtual_services: virtual_services::build(store, translated, mesh, diags),
        destination_rules: destination_rules::build(store, translated, mesh, diags),
        gateways: gateways::build(store, translated, diags),
        sidecars: sidecars::build(store, mesh, diags),
        peer_authn: peer_authn::build(store, mesh, diags),
        request_authn: request_authn::build(store, mesh, diags),
        proxy_configs: proxy_configs::build(store, mesh),
        authz: authz::build(store, mesh, diags),
        envoy_filters: envoy_filters::build(store, mesh, diags),
        telemetries: telemetry::build(store, mesh, catalog, diags),
        extensions: extensions::build(store, mesh, diags),
    }
}

/// Builds the config index from YAML text, for the tests of this module.
#[cfg(test)]
pub(crate) fn from_yaml(yaml: &str) -> (IstioConfig, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut loaded = crate::load::Loaded::default();
    crate::load::load_text(
        std::path::Path::new("test.yaml").into(),
        yaml.to_string(),
        &mut loaded,
        &mut diags,
    );
    let store = crate::model::build(&loaded.documents, &Default::default(), &mut diags);
    let mesh = super::build(&store, &Default::default(), &mut diags);
    let catalog = super::catalog::build(&store, &mesh, &mut diags);
    let config = build(&store, &[], &mesh, &catalog, &mut diags);
    (config, diags)
}
