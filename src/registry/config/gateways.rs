//! Istio Gateway resources as istiod selects them for a gateway proxy
//! (istiod-gateway-security.md §1.2, §1.4): the user's and those translated
//! from Gateway API and Ingress, in config order, server hosts sanitised.

use crate::diag::Diagnostics;
use crate::model::istio::{Gateway, Server};
use crate::model::{Labels, Object, Store};

use super::super::all_of;
use super::{ConfigMeta, selects};

/// Gateway API gateways bind through their Service, not a selector.
pub const GATEWAY_SERVICE: &str = "internal.istio.io/gateway-service";
/// The service account a managed Gateway API deployment runs as.
pub const SERVICE_ACCOUNT: &str = "internal.istio.io/service-account-name";
/// The parent Gateway's namespace of a ListenerSet's servers.
pub const PARENT_NAMESPACE: &str = "internal.istio.io/parent-namespace";

#[derive(Debug, Clone)]
pub struct GatewayEntry {
    pub meta: ConfigMeta,
    pub selector: Labels,
    /// Servers with hosts sanitised (`./h` → `ns/h`, `*/h` → `h`, `*/*` → `*`).
    pub servers: Vec<Server>,
    /// Service hostnames of `internal.istio.io/gateway-service`, if set.
    pub gateway_services: Option<Vec<String>>,
    /// `internal.istio.io/service-account-name`, if set and not empty.
    pub service_account: Option<String>,
    /// `internal.istio.io/parent-namespace`, else the Gateway's namespace.
    pub service_namespace: String,
}

impl GatewayEntry {
    /// `ns/name`, as VirtualServices name the gateway.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.meta.namespace, self.meta.name)
    }
}

#[derive(Debug, Default)]
pub struct Gateways {
    /// istiod's config order: creation time, name, namespace.
    pub all: Vec<GatewayEntry>,
}

/// How a gateway picked for a proxy binds to it.
#[derive(Debug, Clone, Copy)]
pub struct Selected<'a> {
    pub gateway: &'a GatewayEntry,
    /// Through its `gateway-service` annotation: only those services'
    /// ports translate, and a port none of them has yields no listener.
    pub by_service: bool,
}

impl Gateways {
    /// The gateways that apply to a gateway proxy with `labels`, whose
    /// services are given as (hostname, namespace).
    /// Strict merging: once a managed Gateway API gateway applies, classic
    /// gateways outside the managed gateways' namespaces are dropped.
    pub fn for_proxy<'a>(
        &'a self,
        labels: &Labels,
        service_hosts: &[(&str, &str)],
    ) -> Vec<Selected<'a>> {
        let mut out: Vec<Selected<'a>> = Vec::new();
        for g in &self.all {
            match &g.gateway_services {
                Some(hosts) => {
                    let bound = service_hosts.iter().any(|(host, svc_ns)| {
                        *svc_ns == g.service_namespace && hosts.iter().any(|h| h == host)
                    });
                    if bound {
                        out.push(Selected {
                            gateway: g,
                            by_service: true,
                        });
                    }
                }
                None if selects(&g.selector, labels) => out.push(Selected {
                    gateway: g,
                    by_service: false,
                }),
                None => {}
            }
        }
        let managed: Vec<&str> = out
            .iter()
            .filter(|s| s.gateway.service_account.is_some())
            .map(|s| s.gateway.meta.namespace.as_str())
            .collect();
        if !managed.is_empty() {
            out.retain(|s| {
                s.gateway.gateway_services.is_some()
                    || managed.contains(&s.gateway.meta.namespace.as_str())
            });
        }
        out
    }
}

pub fn build(store: &Store, translated: &[Object], _diags: &mut Diagnostics) -> Gateways {
    let mut all: Vec<GatewayEntry> = all_of::<Gateway>(store, translated)
        .map(|(o, g)| entry(o, g))
        .collect();
    all.sort_by(|a, b| a.meta.order_key().cmp(&b.meta.order_key()));
    Gateways { all }
}

fn entry(o: &Object, g: &Gateway) -> GatewayEntry {
    let meta = ConfigMeta::of(o);
    let annotations = &o.meta().annotations;
    let servers = g
        .spec
        .servers
        .iter()
        .filter(|s| s.port.is_some())
        .map(|s| Server {
            hosts: sanitize_hosts(&s.hosts, &meta.namespace),
            ..s.clone()
        })
        .collect();
    GatewayEntry {
        selector: g.spec.selector.clone(),
        servers,
        gateway_services: annotations.get(GATEWAY_SERVICE).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect()
        }),
        service_account: annotations
            .get(SERVICE_ACCOUNT)
            .filter(|sa| !sa.is_empty())
            .cloned(),
        service_namespace: annotations
            .get(PARENT_NAMESPACE)
            .cloned()
            .unwrap_or_else(|| meta.namespace.clone()),
        meta,
    }
}

/// istiod's `sanitizeServerHostNamespace`.
fn sanitize_hosts(hosts: &[String], gateway_ns: &str) -> Vec<String> {
    if hosts.iter().any(|h| h == "*/*") {
        return vec!["*".to_string()];
    }
    hosts
        .iter()
        .map(|h| match h.split_once('/') {
            Some((".", host)) => format!("{gateway_ns}/{host}"),
            Some(("*", host)) => host.to_string(),
            _ => h.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_sanitised_as_istiod_does() {
        let hosts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            sanitize_hosts(&hosts(&["./a.com", "*/b.com", "ns/c.com", "d.com"]), "gw"),
            hosts(&["gw/a.com", "b.com", "ns/c.com", "d.com"])
        );
        assert_eq!(
            sanitize_hosts(&hosts(&["a.com", "*/*"]), "gw"),
            hosts(&["*"])
        );
    }

    #[test]
    fn selection_by_selector_service_and_strict_merging() {
        let (config, _) = super::super::from_yaml(
            r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: classic, namespace: other}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: managed
  namespace: gw
  annotations:
    internal.istio.io/gateway-service: managed-istio.gw.svc.cluster.local
    internal.istio.io/service-account-name: managed-istio
spec:
  servers: [{port: {number: 80, name: default, protocol: HTTP}, hosts: ["gw/*"]}]
"#,
        );
        let labels: Labels = [("istio".to_string(), "ingressgateway".to_string())].into();
        let names = |v: Vec<Selected>| {
            v.iter()
                .map(|s| (s.gateway.full_name(), s.by_service))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(config.gateways.for_proxy(&labels, &[])),
            vec![("other/classic".to_string(), false)]
        );
        // The managed gateway applies through its Service, and then the
        // classic one in another namespace no longer does.
        assert_eq!(
            names(
                config
                    .gateways
                    .for_proxy(&labels, &[("managed-istio.gw.svc.cluster.local", "gw")])
            ),
            vec![("gw/managed".to_string(), true)]
        );
        // A Service of that name in another namespace does not bind it.
        assert_eq!(
            names(
                config
                    .gateways
                    .for_proxy(&labels, &[("managed-istio.gw.svc.cluster.local", "x")])
            ),
            vec![("other/classic".to_string(), false)]
        );
    }
}
