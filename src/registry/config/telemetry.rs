//! Telemetry: which resources shape a proxy's metrics, access logs and
//! tracing, in the order istiod layers them (istiod-gateway-security.md
//! §4.1; istiod's `model/telemetry.go`), and the provider problems istiod
//! would only log, reported at load.

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, Severity};
use crate::model::istio::{PolicyTargetReference, ProviderRef, Telemetry, TelemetrySpec};
use crate::model::mesh_config::ExtensionProvider;
use crate::model::{Labels, Object, Store};

use super::super::Mesh;
use super::super::catalog::Catalog;
use super::ConfigMeta;
use super::attachment::{attaches, target_refs};

#[derive(Debug, Clone)]
pub struct TelemetryEntry {
    pub meta: ConfigMeta,
    pub selector: Option<Labels>,
    pub target_refs: Vec<PolicyTargetReference>,
    pub spec: TelemetrySpec,
}

impl TelemetryEntry {
    /// Neither a selector with labels nor target refs: it covers its
    /// namespace (the mesh, in the root namespace).
    fn namespace_wide(&self) -> bool {
        self.selector.as_ref().is_none_or(Labels::is_empty) && self.target_refs.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct Telemetries {
    /// Per namespace, in config order (creation time, name).
    by_ns: BTreeMap<String, Vec<TelemetryEntry>>,
    root_namespace: String,
}

impl Telemetries {
    /// Each Telemetry's namespace and selector labels, for those with one.
    pub fn selectors(&self) -> impl Iterator<Item = (&str, &Labels)> {
        self.by_ns
            .values()
            .flatten()
            .filter_map(|t| Some((t.meta.namespace.as_str(), t.selector.as_ref()?)))
    }

    /// The Telemetries of a workload in `ns` with `labels`, the weakest
    /// first: the root namespace's namespace-wide one, its own namespace's
    /// (the oldest of each, as istiod takes), then every one of its own
    /// namespace that selects it (by selector; Gateway API gateway pods by
    /// target refs). Root-namespace selector ones apply only there.
    pub fn for_workload(&self, ns: &str, labels: &Labels) -> Vec<&TelemetryEntry> {
        let of = |n: &str| self.by_ns.get(n).map_or(&[][..], Vec::as_slice);
        let wide = |n: &str| of(n).iter().find(|t| t.namespace_wide());
        let mut out: Vec<&TelemetryEntry> = wide(&self.root_namespace).into_iter().collect();
        if ns != self.root_namespace {
            out.extend(wide(ns));
        }
        out.extend(of(ns).iter().filter(|t| {
            !t.namespace_wide()
                && attaches(
                    &t.meta.namespace,
                    t.selector.as_ref(),
                    &t.target_refs,
                    ns,
                    labels,
                )
        }));
        out
    }
}

/// What a provider is used for, to say when it cannot serve the purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Metrics,
    Tracing,
    AccessLogging,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Metrics => "metrics",
            Purpose::Tracing => "tracing",
            Purpose::AccessLogging => "accessLogging",
        }
    }

    /// Why a provider of this type does nothing for the purpose in istiod
    /// 1.31, if it does nothing.
    fn unfit(self, provider_type: &str) -> Option<&'static str> {
        let serves = match self {
            Purpose::Metrics => provider_type == "prometheus",
            Purpose::Tracing => matches!(
                provider_type,
                "zipkin" | "datadog" | "skywalking" | "opentelemetry"
            ),
            Purpose::AccessLogging => matches!(
                provider_type,
                "envoyFileAccessLog" | "envoyHttpAls" | "envoyTcpAls" | "envoyOtelAls"
            ),
        };
        if serves {
            return None;
        }
        Some(match (self, provider_type) {
            (Purpose::Tracing, "lightstep") => {
                "Lightstep is deprecated and istiod builds no tracer for it (use OpenTelemetry)"
            }
            (Purpose::Metrics, "stackdriver") => {
                "istiod 1.31 builds no metrics filter for Stackdriver"
            }
            _ => "istiod builds nothing for this provider type here",
        })
    }
}

/// The provider named `name` (case-insensitively, as istiod looks it up).
pub fn find_provider<'a>(
    providers: &'a [ExtensionProvider],
    name: &str,
) -> Option<&'a ExtensionProvider> {
    providers.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The `service` and `port` a provider sends to, for the kinds that send.
fn provider_service(p: &ExtensionProvider) -> Option<(&str, Option<u32>)> {
    if let Some(z) = &p.zipkin {
        return Some((&z.service, z.port));
    }
    if let Some(d) = &p.datadog {
        return Some((&d.service, d.port));
    }
    if let Some(s) = &p.skywalking {
        return Some((&s.service, s.port));
    }
    if let Some(o) = &p.opentelemetry {
        return Some((&o.service, o.port));
    }
    if let Some(a) = &p.envoy_http_als {
        return Some((&a.service, a.port));
    }
    if let Some(a) = &p.envoy_tcp_als {
        return Some((&a.service, a.port));
    }
    p.envoy_otel_als
        .as_ref()
        .map(|a| (a.service.as_str(), a.port))
}

/// Checks one provider reference; `Some(message)` when istiod would
/// configure nothing for it.
fn check_provider(
    providers: &[ExtensionProvider],
    catalog: &Catalog,
    name: &str,
    purpose: Purpose,
) -> Option<String> {
    let Some(p) = find_provider(providers, name) else {
        let known: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
        return Some(format!(
            "{} provider {name:?} is not one of meshConfig.extensionProviders ({}); istiod ignores it",
            purpose.name(),
            known.join(", ")
        ));
    };
    let kind = p.provider_type().unwrap_or("none");
    if let Some(why) = purpose.unfit(kind) {
        return Some(format!(
            "{} provider {name:?} is of type {kind}: {why}",
            purpose.name()
        ));
    }
    if let Some((service, _)) = provider_service(p)
        && let Err(e) = catalog.provider_host(service)
    {
        return Some(format!(
            "{} provider {name:?}: {e}; istiod configures no {} for it",
            purpose.name(),
            match purpose {
                Purpose::Tracing => "tracer",
                _ => "access log",
            }
        ));
    }
    if purpose == Purpose::Tracing
        && p.opentelemetry
            .as_ref()
            .is_some_and(|o| o.dynatrace_sampler.is_some())
    {
        return Some(format!(
            "tracing provider {name:?}: the Dynatrace sampler is not modelled; meshsim shows the tracer without it"
        ));
    }
    None
}

fn names(refs: &[ProviderRef]) -> impl Iterator<Item = &str> {
    refs.iter().map(|r| r.name.as_str())
}

/// Every provider reference of a spec with its purpose.
fn references(spec: &TelemetrySpec) -> Vec<(&str, Purpose)> {
    let mut out = Vec::new();
    for m in &spec.metrics {
        out.extend(names(&m.providers).map(|n| (n, Purpose::Metrics)));
    }
    for t in &spec.tracing {
        out.extend(names(&t.providers).map(|n| (n, Purpose::Tracing)));
    }
    for l in &spec.access_logging {
        out.extend(names(&l.providers).map(|n| (n, Purpose::AccessLogging)));
    }
    out
}

fn report(diags: &mut Diagnostics, o: Option<&Object>, message: String) {
    diags.report(
        Severity::Warning,
        "telemetry",
        o.map(|o| o.span.clone()),
        o.map(Object::describe),
        message,
    );
}

pub fn build(
    store: &Store,
    mesh: &Mesh,
    catalog: &Catalog,
    diags: &mut Diagnostics,
) -> Telemetries {
    let mesh_config = &mesh.mesh_config;
    let providers = mesh_config.extension_providers();
    let defaults = mesh_config.default_providers();
    for (list, purpose) in [
        (&defaults.metrics, Purpose::Metrics),
        (&defaults.tracing, Purpose::Tracing),
        (&defaults.access_logging, Purpose::AccessLogging),
    ] {
        for name in list.iter().flatten() {
            if let Some(m) = check_provider(&providers, catalog, name, purpose) {
                report(diags, None, format!("meshConfig.defaultProviders: {m}"));
            }
        }
    }
    if mesh_config.enable_envoy_access_log_service == Some(true) {
        report(
            diags,
            None,
            "meshConfig.enableEnvoyAccessLogService is not modelled: its gRPC access logs need the bootstrap's envoy_accesslog_service cluster, which meshsim does not write".to_string(),
        );
    }
    // With where each was written, to report ones istiod ignores.
    let mut by_ns: BTreeMap<String, Vec<(TelemetryEntry, &Object)>> = BTreeMap::new();
    for (o, t) in store.of::<Telemetry>() {
        let spec = &t.spec;
        for (name, purpose) in references(spec) {
            if let Some(m) = check_provider(&providers, catalog, name, purpose) {
                report(diags, Some(o), m);
            }
        }
        if spec
            .tracing
            .iter()
            .any(|t| t.disable_context_propagation.is_some())
        {
            report(
                diags,
                Some(o),
                "tracing.disableContextPropagation is not modelled; the tracer is shown propagating context".to_string(),
            );
        }
        let entry = TelemetryEntry {
            meta: ConfigMeta::of(o),
            selector: spec.selector.as_ref().map(|s| s.match_labels.clone()),
            target_refs: target_refs(&spec.target_refs, &spec.target_ref),
            spec: spec.clone(),
        };
        by_ns
            .entry(o.namespace().to_string())
            .or_default()
            .push((entry, o));
    }
    let mut indexed = BTreeMap::new();
    for (ns, mut list) in by_ns {
        list.sort_by(|(a, _), (b, _)| a.meta.order_key().cmp(&b.meta.order_key()));
        // istiod reads one namespace-wide Telemetry per namespace, the oldest.
        let mut wide = list.iter().filter(|(t, _)| t.namespace_wide());
        if let Some((first, _)) = wide.next() {
            for (_, o) in wide {
                report(
                    diags,
                    Some(o),
                    format!(
                        "ignored: istiod applies only the oldest Telemetry of a namespace that has no selector or targetRefs, here {}/{}",
                        first.meta.namespace, first.meta.name
                    ),
                );
            }
        }
        indexed.insert(ns, list.into_iter().map(|(t, _)| t).collect());
    }
    Telemetries {
        by_ns: indexed,
        root_namespace: mesh_config.root_namespace().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::from_yaml;
    use super::*;

    #[test]
    fn layering_and_provider_checks() {
        let (config, diags) = from_yaml(
            r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: root-selector, namespace: istio-system}
spec:
  selector: {matchLabels: {app: a}}
  metrics: [{providers: [{name: prometheus}]}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ns, namespace: shop}
spec:
  tracing: [{providers: [{name: zipkin}]}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: for-a, namespace: shop}
spec:
  selector: {matchLabels: {app: a}}
  accessLogging: [{providers: [{name: prometheus}]}]
"#,
        );
        let labels: Labels = [("app".to_string(), "a".to_string())].into();
        let names: Vec<&str> = config
            .telemetries
            .for_workload("shop", &labels)
            .iter()
            .map(|t| t.meta.name.as_str())
            .collect();
        assert_eq!(names, ["mesh-default", "ns", "for-a"]);
        let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
        assert!(
            messages.iter().any(|m| m.starts_with(
                "tracing provider \"zipkin\" is not one of meshConfig.extensionProviders (prometheus, stackdriver, envoy)"
            )),
            "{messages:#?}"
        );
        assert!(
            messages.iter().any(|m| m
                == "accessLogging provider \"prometheus\" is of type prometheus: istiod builds nothing for this provider type here"),
            "{messages:#?}"
        );
    }
}
