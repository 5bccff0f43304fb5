//! The Deployment and Service istiod's gateway controller creates for each
//! managed Gateway API Gateway (`<name>-istio`), synthesized as typed objects
//! so they flow through the same workload and service derivation as the
//! user's own. A cluster export that already holds them is left alone.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::diag::{Diagnostics, Severity};
use crate::model::core::{
    Container, ContainerPort, Deployment, DeploymentSpec, PodTemplateSpec, Service, ServicePort,
    ServiceSpec,
};
use crate::model::gateway_api::{Gateway, GatewayClass};
use crate::model::meta::LabelSelector;
use crate::model::{Body, Labels, Object, ObjectMeta, Store, kind_info};

const ISTIO_CONTROLLER: &str = "istio.io/gateway-controller";
const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";

/// `<gw>-<class>` Deployments and Services for every managed Gateway of a
/// class istiod deploys for.
pub fn auto_deployments(store: &Store, diags: &mut Diagnostics) -> Vec<Object> {
    // `istio` exists even when no GatewayClass object declares it.
    let mut classes: BTreeSet<String> = BTreeSet::from(["istio".to_string()]);
    for (o, gc) in store.of::<GatewayClass>() {
        if gc.spec.controller_name == ISTIO_CONTROLLER {
            classes.insert(o.name().to_string());
        } else {
            classes.remove(o.name());
        }
    }
    if store.of::<Gateway>().next().is_none() {
        return Vec::new();
    }
    // Only Deployments and Services are looked up.
    let existing: HashSet<(&str, &str, &str)> = store
        .objects()
        .iter()
        .filter(|o| matches!(o.info.kind, "Deployment" | "Service"))
        .map(|o| (o.info.kind, o.namespace(), o.name()))
        .collect();
    let (Some(deploy_info), Some(service_info)) =
        (kind_info("apps", "Deployment"), kind_info("", "Service"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (o, gw) in store.of::<Gateway>() {
        let class = gw.spec.gateway_class_name.as_str();
        if !classes.contains(class) {
            continue;
        }
        // Manual gateways name an existing Service by hostname address.
        let managed = match gw.spec.addresses.as_slice() {
            [] => true,
            [one] => one.r#type.as_deref().is_none_or(|t| t == "IPAddress"),
            _ => false,
        };
        if !managed {
            continue;
        }
        let meta = o.meta();
        let name = meta
            .annotations
            .get("gateway.istio.io/name-override")
            .cloned()
            .unwrap_or_else(|| format!("{}-{class}", o.name()));
        let service_account = meta
            .annotations
            .get("gateway.istio.io/service-account")
            .cloned()
            .unwrap_or_else(|| format!("{}-{class}", o.name()));
        let ns = o.namespace().to_string();
        let mut labels: Labels = match &gw.spec.infrastructure {
            Some(infra) if !infra.labels.is_empty() => infra
                .labels
                .iter()
                .filter(|(k, _)| !k.starts_with("gateway.networking.k8s.io/"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            _ => meta.labels.clone(),
        };
        labels.insert(GATEWAY_NAME.to_string(), o.name().to_string());
        labels.insert(
            "gateway.networking.k8s.io/gateway-class-name".to_string(),
            class.to_string(),
        );
        let selector: Labels = BTreeMap::from([(GATEWAY_NAME.to_string(), o.name().to_string())]);

        if !existing.contains(&("Deployment", &ns, &name)) {
            let mut pod_labels = labels.clone();
            pod_labels.insert(
                "gateway.istio.io/managed".to_string(),
                "istio.io-gateway-controller".to_string(),
            );
            pod_labels.insert("sidecar.istio.io/inject".to_string(), "false".to_string());
            pod_labels.insert("service.istio.io/canonical-name".to_string(), name.clone());
            pod_labels.insert(
                "service.istio.io/canonical-revision".to_string(),
                "latest".to_string(),
            );
            let mut template = PodTemplateSpec::default();
            template.metadata.labels = pod_labels;
            template.spec.service_account_name = Some(service_account.clone());
            template.spec.containers = vec![Container {
                name: "istio-proxy".to_string(),
                image: Some("auto".to_string()),
                args: ["proxy", "router"].map(String::from).to_vec(),
                ports: [
                    ("metrics", 15020),
                    ("status-port", 15021),
                    ("http-envoy-prom", 15090),
                ]
                .map(|(n, p)| ContainerPort {
                    name: Some(n.to_string()),
                    container_port: p,
                    protocol: Some("TCP".to_string()),
                    ..ContainerPort::default()
                })
                .to_vec(),
                ..Container::default()
            }];
            let deployment = Deployment {
                metadata: synthesized_meta(&name, &ns, labels.clone()),
                spec: DeploymentSpec {
                    replicas: Some(1),
                    selector: LabelSelector {
                        match_labels: selector.clone(),
                        match_expressions: Vec::new(),
                    },
                    template,
                    ..DeploymentSpec::default()
                },
                ..Deployment::default()
            };
            out.push(Object {
                info: deploy_info,
                api_version: "apps/v1".to_string(),
                span: o.span.clone(),
                body: Body::Deployment(Box::new(deployment)),
            });
        }
        if !existing.contains(&("Service", &ns, &name)) {
            let mut ports = vec![ServicePort {
                name: Some("status-port".to_string()),
                port: 15021,
                protocol: Some("TCP".to_string()),
                app_protocol: Some("tcp".to_string()),
                ..ServicePort::default()
            }];
            let mut seen = BTreeSet::new();
            for l in &gw.spec.listeners {
                let Some(port) = l.port else {
                    diags.report(
                        Severity::Warning,
                        "invalid-object",
                        Some(o.span.clone()),
                        Some(o.describe()),
                        format!("listener {} has no port; left out of {name}", l.name),
                    );
                    continue;
                };
                if !seen.insert(port) {
                    continue;
                }
                let mut pname: String = l.name.replace('.', "-").chars().take(63).collect();
                if ports
                    .iter()
                    .any(|p| p.name.as_deref() == Some(pname.as_str()))
                {
                    pname = format!("{pname}-{port}");
                }
                ports.push(ServicePort {
                    name: Some(pname),
                    port: i64::from(port),
                    protocol: Some("TCP".to_string()),
                    app_protocol: Some(l.protocol.to_lowercase()),
                    ..ServicePort::default()
                });
            }
            let service = Service {
                metadata: synthesized_meta(&name, &ns, labels.clone()),
                spec: ServiceSpec {
                    type_: Some(
                        meta.annotations
                            .get("networking.istio.io/service-type")
                            .cloned()
                            .unwrap_or_else(|| "LoadBalancer".to_string()),
                    ),
                    selector: Some(selector),
                    ports,
                    ..ServiceSpec::default()
                },
                ..Service::default()
            };
            out.push(Object {
                info: service_info,
                api_version: "v1".to_string(),
                span: o.span.clone(),
                body: Body::Service(Box::new(service)),
            });
        }
    }
    out
}

fn synthesized_meta(name: &str, namespace: &str, labels: Labels) -> ObjectMeta {
    ObjectMeta {
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
        labels,
        ..ObjectMeta::default()
    }
}
