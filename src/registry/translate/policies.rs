//! Backend policies → DestinationRules: BackendTLSPolicy (upstream TLS),
//! XBackendTrafficPolicy (retry budget) and XBackend TLS, merged per target
//! and host, and their status (istiod-gateway-security.md §2.11–2.12;
//! istiod's `backend_policies.go`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::backends::BackendRef;
use super::conditions::{Cond, Conds, ConfigError, StatusDoc, cond, merge_conditions, write};
use super::gateways::{generation, status_doc};
use super::names::{self, CONTROLLER, GATEWAY_GROUP, K8S_GATEWAY, MESH_CONTROLLER};
use super::{Ctx, istio_object, k8s_json, meta, proto_duration};
use crate::model::core::{ConfigMap, Service};
use crate::model::gateway_api::{
    BackendTlsPolicy, BackendTlsValidation, GrpcRoute, HttpRoute, ParentReference, TcpRoute,
    TlsRoute, XBackend, XBackendTrafficPolicy,
};
use crate::model::istio::{
    self as ist, ClientTlsSettings, LoadBalancerSettings, PortSelector, PortTrafficPolicy,
    RetryBudget, ServiceEntry, TrafficPolicy,
};
use crate::model::{Body, Labels, Object};

const IGNORE: &str = "istio.io/ignore-policy-attachment";

/// What a DestinationRule is for: (kind, namespace, name) of a Service,
/// ServiceEntry or XBackend.
type Target = (&'static str, String, String);

/// One policy's contribution to the DestinationRule of (target, host).
struct BackendPolicy {
    /// (creation, namespace, name) of the policy, istiod's merge order.
    order: (Option<String>, String, String),
    /// `<Kind>/<ns>.<name>`.
    parent: String,
    target: Target,
    host: String,
    section_name: Option<String>,
    port: Option<u32>,
    tls: Option<ClientTlsSettings>,
    load_balancer: Option<LoadBalancerSettings>,
    retry_budget: Option<RetryBudget>,
    span: crate::diag::Span,
}

impl BackendPolicy {
    /// Policy `o`'s (of `kind`) contribution for `host` of `target`, with
    /// nothing set yet.
    fn new(o: &Object, kind: &str, target: Target, host: String) -> BackendPolicy {
        let ns = o.namespace();
        BackendPolicy {
            order: (
                o.meta().creation_timestamp.clone(),
                ns.to_string(),
                o.name().to_string(),
            ),
            parent: format!("{kind}/{ns}.{}", o.name()),
            target,
            host,
            section_name: None,
            port: None,
            tls: None,
            load_balancer: None,
            retry_budget: None,
            span: o.span.clone(),
        }
    }
}

/// The DestinationRules and the policies' status.
pub(crate) fn build(ctx: &Ctx) -> (Vec<Object>, Vec<StatusDoc>) {
    let mut policies = Vec::new();
    let mut status = Vec::new();
    let ancestors = route_ancestors(ctx);
    if ctx.opts.alpha {
        traffic_policies(ctx, &mut policies, &mut status);
        backends(ctx, &ancestors, &mut policies, &mut status);
    }
    tls_policies(ctx, &ancestors, &mut policies, &mut status);
    (destination_rules(ctx, policies), status)
}

/// Gateways of the routes that send traffic to each backend (istiod's
/// `AncestorBackend`): backend (kind, ns, name) → gateways (ns, name).
fn route_ancestors(ctx: &Ctx) -> Ancestors {
    let mut out = Ancestors::new();
    // Every route kind has parentRefs and rules of backendRefs.
    macro_rules! each_route {
        ($($ty:ty),*) => {$(
            for (o, r) in ctx.store.of::<$ty>() {
                let refs = r.spec.rules.iter().flat_map(|x| &x.backend_refs).map(BackendRef::from);
                add_ancestors(&mut out, o, &r.spec.parent_refs, refs);
            }
        )*};
    }
    each_route!(HttpRoute, GrpcRoute, TcpRoute, TlsRoute);
    out
}

/// Backend (kind, ns, name) → the Gateways (ns, name) routes send it traffic from.
type Ancestors = BTreeMap<Target, BTreeSet<(String, String)>>;

fn add_ancestors<'a>(
    out: &mut Ancestors,
    o: &Object,
    parents: &[ParentReference],
    backends: impl Iterator<Item = BackendRef<'a>>,
) {
    let ns = o.namespace();
    let gateways: Vec<(String, String)> = parents
        .iter()
        .filter(|p| {
            p.group.as_deref().unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP
                && p.kind.as_deref().unwrap_or("Gateway") == "Gateway"
        })
        .map(|p| {
            (
                p.namespace.clone().unwrap_or_else(|| ns.to_string()),
                p.name.clone(),
            )
        })
        .collect();
    for b in backends {
        let kind = match (b.group.unwrap_or(""), b.kind.unwrap_or("Service")) {
            ("" | "core", "Service") => "Service",
            ("gateway.networking.x-k8s.io", "XBackend") => "XBackend",
            ("inference.networking.k8s.io", "InferencePool") => "InferencePool",
            _ => continue,
        };
        let key = (
            kind,
            b.namespace.unwrap_or(ns).to_string(),
            b.name.to_string(),
        );
        out.entry(key).or_default().extend(gateways.iter().cloned());
    }
}

fn ignored(o: &Object) -> bool {
    o.meta()
        .annotations
        .get(IGNORE)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The keys of an object's ancestor list: policies write `ancestors` of
/// `ancestorRef`, XBackend `parents` of `parentRef`.
fn keys(o: &Object) -> (&'static str, &'static str) {
    match &o.body {
        Body::XBackend(_) => ("parents", "parentRef"),
        _ => ("ancestors", "ancestorRef"),
    }
}

fn existing_ancestors(o: &Object) -> Vec<Value> {
    let status = match &o.body {
        Body::BackendTlsPolicy(p) => p.status.as_ref(),
        Body::XBackendTrafficPolicy(p) => p.status.as_ref(),
        Body::XBackend(p) => p.status.as_ref(),
        _ => None,
    };
    status
        .and_then(|s| s.get(keys(o).0))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// One ancestor entry: conditions updated over the existing entry's.
fn ancestor(o: &Object, r: &ParentReference, conds: &Conds, controller: &str) -> Value {
    let ref_key = keys(o).1;
    let reference = k8s_json(r);
    let mut conditions = existing_ancestors(o)
        .into_iter()
        .find(|a| a[ref_key] == reference)
        .map(|a| a["conditions"].clone())
        .unwrap_or(Value::Array(Vec::new()));
    merge_conditions(&mut conditions, write(conds, generation(o)));
    json!({ref_key: reference, "conditions": conditions, "controllerName": controller})
}

/// istiod's `mergeAncestors`: other controllers' entries kept, ours
/// replaced in place or appended; at most `cap`.
fn merge_ancestors(o: &Object, mut incoming: Vec<Value>, cap: usize) -> Value {
    let (list_key, ref_key) = keys(o);
    let ours = |c: &Value| c.as_str() == Some(CONTROLLER) || c.as_str() == Some(MESH_CONTROLLER);
    let mut out = Vec::new();
    for x in existing_ancestors(o) {
        if !ours(&x["controllerName"]) {
            out.push(x);
            continue;
        }
        if let Some(i) = incoming.iter().position(|n| n[ref_key] == x[ref_key]) {
            out.push(incoming.remove(i));
        }
    }
    out.extend(incoming);
    out.truncate(cap);
    json!({ list_key: out })
}

fn policy_conds(with_resolved_refs: bool) -> Conds {
    let mut c = Conds::from([("Accepted", Cond::ok("Accepted", "Configuration is valid"))]);
    if with_resolved_refs {
        c.insert(
            "ResolvedRefs",
            Cond::ok("ResolvedRefs", "Configuration is valid"),
        );
    }
    c
}

fn ignored_status(o: &Object, parents: Vec<ParentReference>) -> Value {
    let mut conds = policy_conds(false);
    cond(&mut conds, "Accepted").error = Some(ConfigError::new(
        "IgnoredByIstio",
        format!("Ignored by Istio due to annotation {IGNORE}=true"),
    ));
    let incoming = parents
        .iter()
        .map(|p| ancestor(o, p, &conds, MESH_CONTROLLER))
        .collect();
    merge_ancestors(o, incoming, 16)
}

/// A policy's target (or a Gateway) as its status names it; an unset
/// group or kind is written as "".
fn target_ref(
    group: Option<&str>,
    kind: Option<&str>,
    name: &str,
    section: Option<&str>,
) -> ParentReference {
    ParentReference {
        group: Some(group.unwrap_or("").to_string()),
        kind: Some(kind.unwrap_or("").to_string()),
        name: name.to_string(),
        section_name: section.map(str::to_string),
        ..Default::default()
    }
}

/// A policy's target, resolved.
struct Resolved {
    target: Target,
    hosts: Vec<String>,
    /// (name, number) of each port.
    ports: Vec<(String, u32)>,
}

/// A policy's target: a Service or ServiceEntry in the policy's namespace.
fn resolve_target(
    ctx: &Ctx,
    ns: &str,
    group: &str,
    kind: &str,
    name: &str,
) -> Result<Resolved, String> {
    let missing = || format!("reference {ns}/{name} (of kind {kind}) not found");
    match (group, kind) {
        ("" | "core", "Service") => {
            let (_, svc) = ctx.find::<Service>(ns, name).ok_or_else(missing)?;
            let ports = svc
                .spec
                .ports
                .iter()
                .map(|p| {
                    (
                        p.name.clone().unwrap_or_default(),
                        u32::try_from(p.port).unwrap_or(0),
                    )
                })
                .collect();
            Ok(Resolved {
                target: ("Service", ns.to_string(), name.to_string()),
                hosts: vec![ctx.fqdn(name, ns)],
                ports,
            })
        }
        ("networking.istio.io", "ServiceEntry") => {
            let (_, se) = ctx.find::<ServiceEntry>(ns, name).ok_or_else(missing)?;
            let ports = se
                .spec
                .ports
                .iter()
                .map(|p| (p.name.clone().unwrap_or_default(), p.number.unwrap_or(0)))
                .collect();
            Ok(Resolved {
                target: ("ServiceEntry", ns.to_string(), name.to_string()),
                hosts: se.spec.hosts.clone(),
                ports,
            })
        }
        _ => Err(format!("unsupported kind {kind}")),
    }
}

/// `credentialName` of a backend's CA: a ConfigMap (`configmap://`), the
/// system roots (""), or `invalid://` with the conditions set.
fn ca_credential(
    ctx: &Ctx,
    v: &BackendTlsValidation,
    ns: &str,
    conds: &mut Conds,
) -> Option<String> {
    if let Some(wk) = &v.well_known_ca_certificates {
        if wk != "System" {
            cond(conds, "Accepted").error = Some(ConfigError::new(
                "Invalid",
                format!("Unknown wellKnownCACertificates: {wk}"),
            ));
        }
        return None;
    }
    let r = v.ca_certificate_refs.first()?;
    if v.ca_certificate_refs.len() > 1 {
        let c = cond(conds, "Accepted");
        c.message
            .push_str("; warning: only the first caCertificateRefs will be used");
    }
    let group = r.group.as_deref().unwrap_or("");
    let kind = r.kind.as_deref().unwrap_or("");
    let (reason, err) = match (group, kind) {
        ("" | "core", "ConfigMap") => match ctx.find::<ConfigMap>(ns, &r.name) {
            Some((_, cm)) if ["cacert", "ca.crt"].iter().any(|k| cm.data.get(*k).is_some_and(|v| !v.is_empty())) => {
                return Some(format!("configmap://{ns}/{}", r.name));
            }
            Some(_) => ("InvalidCACertificateRef", "Certificate invalid: found configmap, but didn't have expected keys cacert or ca.crt".to_string()),
            None => ("InvalidCACertificateRef", format!("Certificate reference not found: reference {ns}/{} (of kind {kind}) not found", r.name)),
        },
        _ => ("InvalidKind", format!("Certificate reference not supported: unsupported kind {kind}")),
    };
    cond(conds, "ResolvedRefs").error = Some(ConfigError::new(reason, err.clone()));
    cond(conds, "Accepted").error = Some(ConfigError::new(
        "NoValidCACertificate",
        format!("Certificate reference invalid: {err}"),
    ));
    Some("invalid://".to_string())
}

fn san_list(v: &BackendTlsValidation) -> Vec<String> {
    v.subject_alt_names
        .iter()
        .filter_map(|s| match s.r#type.as_deref() {
            Some("Hostname") => s.hostname.clone(),
            Some("URI") => s.uri.clone(),
            _ => None,
        })
        .collect()
}

fn tls_policies(
    ctx: &Ctx,
    ancestors: &Ancestors,
    out: &mut Vec<BackendPolicy>,
    status: &mut Vec<StatusDoc>,
) {
    let all: Vec<(&Object, &BackendTlsPolicy)> = ctx.store.of::<BackendTlsPolicy>().collect();
    for &(o, p) in &all {
        let ns = o.namespace();
        if ignored(o) {
            let parents = p
                .spec
                .target_refs
                .iter()
                .map(|t| {
                    target_ref(
                        t.group.as_deref(),
                        t.kind.as_deref(),
                        &t.name,
                        t.section_name.as_deref(),
                    )
                })
                .collect();
            status.push(status_doc(
                o,
                "BackendTLSPolicy",
                ignored_status(o, parents),
            ));
            continue;
        }
        let validation = p.spec.validation.clone().unwrap_or_default();
        // istiod shares one set of conditions across the targets, so an
        // error on one target shows on the ones after it too.
        let mut conds = policy_conds(true);
        let tls = ClientTlsSettings {
            mode: Some("SIMPLE".to_string()),
            sni: validation.hostname.clone(),
            subject_alt_names: san_list(&validation),
            credential_name: ca_credential(ctx, &validation, ns, &mut conds),
            ..Default::default()
        };
        let mut entries = Vec::new();
        let mut gateways = BTreeSet::new();
        for t in &p.spec.target_refs {
            let (group, kind) = (
                t.group.as_deref().unwrap_or(""),
                t.kind.as_deref().unwrap_or(""),
            );
            let section = t.section_name.as_deref().filter(|s| !s.is_empty());
            let resolved =
                resolve_target(ctx, ns, group, kind, &t.name).and_then(|r| match section {
                    Some(s) if !r.ports.iter().any(|(n, _)| n == s) => Err(format!(
                        "sectionName \"{s}\" does not exist in {} {ns}/{}",
                        r.target.0, t.name
                    )),
                    _ => Ok((r.target, r.hosts)),
                });
            match resolved {
                Err(e) => {
                    cond(&mut conds, "Accepted").error = Some(ConfigError::new(
                        "TargetNotFound",
                        format!("targetRefs invalid: {e}"),
                    ));
                }
                Ok((target, hosts)) => {
                    // istiod skips policies with the policy's own UID; in
                    // manifests without UIDs that is every other policy.
                    let winner = all
                        .iter()
                        .filter(|(other, _)| {
                            other.meta().uid != o.meta().uid
                                && other.namespace() == ns
                                && !ignored(other)
                        })
                        .find(|(other, op)| {
                            op.spec.target_refs.iter().any(|ot| {
                                ot.group == t.group
                                    && ot.kind == t.kind
                                    && ot.name == t.name
                                    && ot.section_name == t.section_name
                            }) && (other.meta().creation_timestamp.clone(), other.name())
                                < (o.meta().creation_timestamp.clone(), o.name())
                        });
                    if let Some((other, _)) = winner {
                        cond(&mut conds, "Accepted").error = Some(ConfigError::new(
                            "Conflicted",
                            format!(
                                "Conflicts with BackendTLSPolicy \"{}\" targeting the same backend",
                                other.name()
                            ),
                        ));
                    } else {
                        for host in hosts {
                            out.push(BackendPolicy {
                                section_name: section.map(str::to_string),
                                tls: Some(tls.clone()),
                                ..BackendPolicy::new(o, "BackendTLSPolicy", target.clone(), host)
                            });
                        }
                    }
                    gateways.extend(ancestors.get(&target).into_iter().flatten().cloned());
                }
            }
            entries.push(ancestor(
                o,
                &target_ref(Some(group), Some(kind), &t.name, t.section_name.as_deref()),
                &conds,
                MESH_CONTROLLER,
            ));
        }
        for (_, g) in gateways {
            entries.push(ancestor(
                o,
                &target_ref(Some(GATEWAY_GROUP), Some("Gateway"), &g, None),
                &conds,
                CONTROLLER,
            ));
        }
        status.push(status_doc(
            o,
            "BackendTLSPolicy",
            merge_ancestors(o, entries, 16),
        ));
    }
}

fn traffic_policies(ctx: &Ctx, out: &mut Vec<BackendPolicy>, status: &mut Vec<StatusDoc>) {
    for (o, p) in ctx.store.of::<XBackendTrafficPolicy>() {
        let ns = o.namespace();
        if ignored(o) {
            let parents = p
                .spec
                .target_refs
                .iter()
                .map(|t| target_ref(t.group.as_deref(), t.kind.as_deref(), &t.name, None))
                .collect();
            status.push(status_doc(
                o,
                "XBackendTrafficPolicy",
                ignored_status(o, parents),
            ));
            continue;
        }
        let mut conds = policy_conds(false);
        if p.spec.session_persistence.is_some() {
            cond(&mut conds, "Accepted").message =
                "Configuration is valid, but Istio does not support the following fields: sessionPersistence".to_string();
        }
        let retry_budget = p.spec.retry_constraint.as_ref().map(|rc| {
            let budget = rc.budget.clone().unwrap_or_default();
            RetryBudget {
                percent: budget.percent.map(|v| v as f64),
                budget_interval: budget
                    .interval
                    .as_deref()
                    .and_then(proto_duration)
                    .or_else(|| Some("10s".to_string())),
                min_retry_concurrency: Some(
                    rc.min_retry_rate
                        .as_ref()
                        .and_then(|r| r.count)
                        .map_or(10, |c| c as u32),
                ),
            }
        });
        let mut entries = Vec::new();
        for t in &p.spec.target_refs {
            let (group, kind) = (
                t.group.as_deref().unwrap_or(""),
                t.kind.as_deref().unwrap_or(""),
            );
            let resolved = match resolve_target(ctx, ns, group, kind, &t.name) {
                Ok(r) if r.target.0 == "Service" => Ok(r.target),
                Ok(_) => Err(format!("unsupported reference kind: {kind}")),
                Err(e) => Err(e),
            };
            match resolved {
                Err(e) => {
                    cond(&mut conds, "Accepted").error = Some(ConfigError::new(
                        "TargetNotFound",
                        format!("targetRefs invalid: {e}"),
                    ));
                }
                Ok(target) => out.push(BackendPolicy {
                    load_balancer: Some(LoadBalancerSettings::default()),
                    retry_budget: retry_budget.clone(),
                    ..BackendPolicy::new(o, "XBackendTrafficPolicy", target, ctx.fqdn(&t.name, ns))
                }),
            }
            entries.push(ancestor(
                o,
                &target_ref(Some(group), Some(kind), &t.name, None),
                &conds,
                MESH_CONTROLLER,
            ));
        }
        status.push(status_doc(
            o,
            "XBackendTrafficPolicy",
            merge_ancestors(o, entries, 16),
        ));
    }
}

fn backends(
    ctx: &Ctx,
    ancestors: &Ancestors,
    out: &mut Vec<BackendPolicy>,
    status: &mut Vec<StatusDoc>,
) {
    for (o, b) in ctx.store.of::<XBackend>() {
        let ns = o.namespace();
        let mut conds = policy_conds(true);
        let ty = b.spec.r#type.as_deref().unwrap_or("");
        let target: Target = ("XBackend", ns.to_string(), o.name().to_string());
        match b
            .spec
            .external_hostname
            .as_ref()
            .filter(|_| ty == "ExternalHostname")
        {
            None => {
                cond(&mut conds, "Accepted").error = Some(ConfigError::new(
                    "Invalid",
                    format!("unsupported backend type: {ty}"),
                ));
            }
            Some(host) => {
                if let Some(tls) = backend_tls(ctx, o, b, &host.hostname, &mut conds) {
                    out.push(BackendPolicy {
                        port: b
                            .spec
                            .port
                            .as_ref()
                            .and_then(|p| p.port)
                            .and_then(|p| u32::try_from(p).ok()),
                        tls: Some(tls),
                        ..BackendPolicy::new(o, "XBackend", target.clone(), host.hostname.clone())
                    });
                }
            }
        }
        let mesh = target_ref(
            Some("gateway.networking.x-k8s.io"),
            Some("XBackend"),
            o.name(),
            None,
        );
        let mut entries = vec![ancestor(o, &mesh, &conds, MESH_CONTROLLER)];
        for (gns, g) in ancestors.get(&target).into_iter().flatten() {
            let mut r = target_ref(Some(GATEWAY_GROUP), Some("Gateway"), g, None);
            r.namespace = Some(gns.clone());
            entries.push(ancestor(o, &r, &conds, CONTROLLER));
        }
        status.push(status_doc(o, "XBackend", merge_ancestors(o, entries, 32)));
    }
}

fn backend_tls(
    ctx: &Ctx,
    o: &Object,
    b: &XBackend,
    hostname: &str,
    conds: &mut Conds,
) -> Option<ClientTlsSettings> {
    let tls = b.spec.tls.as_ref()?;
    let invalid = |conds: &mut Conds, msg: String| {
        cond(conds, "Accepted").error = Some(ConfigError::new("Invalid", msg));
    };
    match tls.mode.as_deref().unwrap_or("") {
        "ServerOnly" => {}
        "None" => return None,
        "ClientAndServer" => {
            invalid(conds, "unsupported ClientAndServer TLS mode: Istio does not support client certificates on backend".to_string());
            return None;
        }
        other => {
            invalid(conds, format!("unsupported TLS mode: \"{other}\""));
            return None;
        }
    }
    let validation = tls.validation.clone().unwrap_or_default();
    Some(ClientTlsSettings {
        mode: Some("SIMPLE".to_string()),
        sni: Some(
            validation
                .hostname
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| hostname.to_string()),
        ),
        subject_alt_names: san_list(&validation),
        credential_name: ca_credential(ctx, &validation, o.namespace(), conds),
        ..Default::default()
    })
}

/// istiod's DR name: `<target>~K`, or `<target>~<host, . → ->~K` for
/// ServiceEntry and XBackend targets.
fn dr_name(target: &Target, host: &str) -> String {
    if target.0 == "Service" {
        format!("{}~{K8S_GATEWAY}", target.2)
    } else {
        format!("{}~{}~{K8S_GATEWAY}", target.2, host.replace('.', "-"))
    }
}

/// One DestinationRule per (target, host): the oldest policy wins each field.
fn destination_rules(ctx: &Ctx, policies: Vec<BackendPolicy>) -> Vec<Object> {
    let mut groups: BTreeMap<(Target, String), Vec<BackendPolicy>> = BTreeMap::new();
    for p in policies {
        groups
            .entry((p.target.clone(), p.host.clone()))
            .or_default()
            .push(p);
    }
    let mut out = Vec::new();
    for ((target, host), mut pols) in groups {
        pols.sort_by(|a, b| a.order.cmp(&b.order));
        let mut tp = TrafficPolicy::default();
        let mut named: BTreeMap<String, ClientTlsSettings> = BTreeMap::new();
        let mut numbered: BTreeMap<u32, ClientTlsSettings> = BTreeMap::new();
        let mut parents: Vec<String> = Vec::new();
        for p in &pols {
            if let Some(tls) = &p.tls {
                if let Some(port) = p.port {
                    numbered.entry(port).or_insert_with(|| tls.clone());
                } else if let Some(section) = &p.section_name {
                    named.entry(section.clone()).or_insert_with(|| tls.clone());
                } else if tp.tls.is_some() {
                    continue;
                } else {
                    tp.tls = Some(tls.clone());
                }
            }
            if let Some(lb) = &p.load_balancer {
                if tp.load_balancer.is_some() {
                    continue;
                }
                tp.load_balancer = Some(lb.clone());
            }
            if let Some(rb) = &p.retry_budget {
                if tp.retry_budget.is_some() {
                    continue;
                }
                tp.retry_budget = Some(rb.clone());
            }
            if !parents.contains(&p.parent) {
                parents.push(p.parent.clone());
            }
        }
        let ports = target_ports(ctx, &target);
        let mut levels: Vec<PortTrafficPolicy> = named
            .into_iter()
            .map(|(name, tls)| {
                let number = ports
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(0, |(_, p)| *p);
                port_level(number, tls)
            })
            .chain(numbered.into_iter().map(|(n, tls)| port_level(n, tls)))
            .collect();
        levels.sort_by_key(|p| p.port.as_ref().and_then(|s| s.number).unwrap_or(0));
        tp.port_level_settings = levels;
        let spec = ist::DestinationRuleSpec {
            host: host.clone(),
            traffic_policy: Some(tp),
            ..Default::default()
        };
        let annotations = Labels::from([(names::PARENTS.to_string(), parents.join(","))]);
        let m = meta(dr_name(&target, &host), &target.1, None, annotations);
        let span = pols[0].span.clone();
        out.extend(istio_object("DestinationRule", m, span, |metadata| {
            Body::DestinationRule(Box::new(ist::DestinationRule {
                metadata,
                spec,
                ..Default::default()
            }))
        }));
    }
    out
}

fn port_level(number: u32, tls: ClientTlsSettings) -> PortTrafficPolicy {
    PortTrafficPolicy {
        port: Some(PortSelector {
            number: Some(number),
        }),
        tls: Some(tls),
        ..Default::default()
    }
}

fn target_ports(ctx: &Ctx, target: &Target) -> Vec<(String, u32)> {
    match target.0 {
        "Service" | "ServiceEntry" => resolve_target(
            ctx,
            &target.1,
            if target.0 == "Service" {
                ""
            } else {
                "networking.istio.io"
            },
            target.0,
            &target.2,
        )
        .map(|r| r.ports)
        .unwrap_or_default(),
        _ => Vec::new(),
    }
}
