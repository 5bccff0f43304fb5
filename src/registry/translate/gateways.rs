//! Gateway API Gateways → one internal Istio Gateway per valid listener,
//! the parents routes attach to, and Gateway and GatewayClass status
//! (istiod-gateway-security.md §2.2; istiod's `GatewayCollection`,
//! `buildListener`, `buildTLS`, `reportGatewayStatus`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::conditions::{Cond, Conds, ConfigError, StatusDoc, cond, write};
use super::names::{self, ClassInfo, GATEWAY_GROUP};
use super::{Ctx, istio_object, listener_sets, meta};
use crate::model::core::{ConfigMap, Secret};
use crate::model::gateway_api::{Gateway, GatewayClass, Listener, SecretObjectReference};
use crate::model::istio::{self as ist, Port, Server, ServerTlsSettings};
use crate::model::{Body, Labels, Object};

/// Something a route can attach to: one listener of a Gateway.
#[derive(Debug, Clone)]
pub(crate) struct ParentInfo {
    /// `<ns>/<internal gateway name>`.
    pub internal_name: String,
    pub allowed_kinds: Vec<(String, String)>,
    /// Server hosts, `ns/host`.
    pub hostnames: Vec<String>,
    /// The listener's hostname as written ("" when none).
    pub original_hostname: String,
    pub section_name: String,
    pub port: i32,
    pub protocol: String,
}

/// The servers of a Gateway's ListenerSets' valid listeners, and those
/// ListenerSets (namespace, name).
#[derive(Debug, Default)]
pub(crate) struct AttachedSets {
    pub servers: Vec<Server>,
    pub sets: BTreeSet<(String, String)>,
}

/// The result of translating every Gateway.
#[derive(Debug, Default)]
pub(crate) struct Gateways {
    pub objects: Vec<Object>,
    pub status: Vec<StatusDoc>,
    /// Listeners by (Gateway or ListenerSet, namespace, name), in listener order.
    pub parents: BTreeMap<(String, String, String), Vec<ParentInfo>>,
    /// What each parent Gateway (namespace, name) gets from its ListenerSets.
    pub set_servers: BTreeMap<(String, String), AttachedSets>,
}

/// The controller a class name resolves to: its GatewayClass object, else
/// a built-in class.
pub(crate) fn class_controller(ctx: &Ctx, class: &str) -> Option<String> {
    match ctx
        .store
        .of::<GatewayClass>()
        .find(|(o, _)| o.name() == class)
    {
        Some((_, gc)) => Some(gc.spec.controller_name.clone()),
        None => names::builtin_class(class).map(str::to_string),
    }
}

pub(crate) fn build(ctx: &Ctx) -> Gateways {
    let mut out = Gateways::default();
    for (o, gc) in ctx.store.of::<GatewayClass>() {
        if names::class_info(&gc.spec.controller_name).is_some() {
            let conds = Conds::from([(
                "Accepted",
                Cond::ok("Accepted", "Handled by Istio controller"),
            )]);
            out.status.push(status_doc(
                o,
                "GatewayClass",
                json!({"conditions": write(&conds, generation(o))}),
            ));
        }
    }
    listener_sets::build(ctx, &mut out);
    for (o, gw) in ctx.store.of::<Gateway>() {
        let Some(info) =
            class_controller(ctx, &gw.spec.gateway_class_name).and_then(|c| names::class_info(&c))
        else {
            continue;
        };
        gateway(ctx, o, gw, info, &mut out);
    }
    out
}

pub(crate) fn generation(o: &Object) -> i64 {
    o.meta().generation.unwrap_or(0)
}

pub(crate) fn status_doc(o: &Object, kind: &str, status: Value) -> StatusDoc {
    let group = o.info.group;
    let version = o.api_version.rsplit('/').next().unwrap_or("v1");
    StatusDoc {
        api_version: if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_string(),
        namespace: o.namespace().to_string(),
        name: o.name().to_string(),
        status,
    }
}

/// Managed: istiod deploys it (no address, or one IP address).
pub(crate) fn is_managed(gw: &Gateway) -> bool {
    match gw.spec.addresses.as_slice() {
        [] => true,
        [one] => one.r#type.as_deref().is_none_or(|t| t == "IPAddress"),
        _ => false,
    }
}

/// `<gw>-<class>` (or `<gw>` for waypoint classes).
fn default_name(o: &Object, gw: &Gateway, info: ClassInfo) -> String {
    if info.disable_name_suffix {
        o.name().to_string()
    } else {
        format!("{}-{}", o.name(), gw.spec.gateway_class_name)
    }
}

/// The Services the gateway's pods sit behind, and a soft error.
pub(crate) fn gateway_services(
    ctx: &Ctx,
    o: &Object,
    gw: &Gateway,
    info: ClassInfo,
) -> (Vec<String>, Option<ConfigError>) {
    let ns = o.namespace();
    if is_managed(gw) {
        let name = o
            .meta()
            .annotations
            .get("gateway.istio.io/name-override")
            .cloned()
            .unwrap_or_else(|| default_name(o, gw, info));
        return (vec![ctx.fqdn(&name, ns)], None);
    }
    let mut services = Vec::new();
    let mut skipped = Vec::new();
    for a in &gw.spec.addresses {
        let value = a.value.clone().unwrap_or_default();
        if a.r#type.as_deref().is_some_and(|t| t != "Hostname") {
            skipped.push(value);
            continue;
        }
        services.push(if value.contains('.') {
            value
        } else {
            ctx.fqdn(&value, ns)
        });
    }
    if !skipped.is_empty() {
        let err = ConfigError::new(
            "UnsupportedAddress",
            format!(
                "only Hostname is supported, ignoring [{}]",
                skipped.join(" ")
            ),
        );
        return (services, Some(err));
    }
    if o.meta()
        .annotations
        .contains_key("networking.istio.io/service-type")
    {
        let err = ConfigError::new(
            "DeprecatedField",
            "annotation networking.istio.io/service-type is deprecated, use Spec.Infrastructure.Routeability",
        );
        return (services, Some(err));
    }
    (services, None)
}

fn gateway(ctx: &Ctx, o: &Object, gw: &Gateway, info: ClassInfo, out: &mut Gateways) {
    let ns = o.namespace();
    if info.disable_route_generation {
        let conds = Conds::from([
            ("Accepted", Cond::ok("Accepted", "Resource accepted")),
            (
                "Programmed",
                Cond::ok(
                    "Programmed",
                    "This Gateway is remote; Istio will not program it",
                ),
            ),
        ]);
        let addresses: Vec<Value> = gw
            .spec
            .addresses
            .iter()
            .map(|a| json!({"type": a.r#type, "value": a.value}))
            .collect();
        let mut st = Map::new();
        if !addresses.is_empty() {
            st.insert("addresses".into(), Value::Array(addresses));
        }
        st.insert("conditions".into(), write(&conds, generation(o)));
        out.status.push(status_doc(o, "Gateway", Value::Object(st)));
        return;
    }
    let (services, mut err) = gateway_services(ctx, o, gw, info);
    let mut listeners_status = Vec::new();
    let mut servers: Vec<Server> = Vec::new();
    let mut valid = 0;
    let mut attached_sets = 0;
    if !(services.is_empty() && err.is_some()) {
        if err.is_none() {
            err = parameters_ref_error(ctx, o, gw);
        }
        let owner = Owner {
            object: o,
            services: &services,
            service_account: service_account(o, gw, info),
            parent_namespace: None,
        };
        let conflicts = listener_sets::conflicts(ctx, o, gw);
        for l in &gw.spec.listeners {
            let conflict = conflicts.get(&(
                "Gateway",
                ns.to_string(),
                o.name().to_string(),
                l.name.clone(),
            ));
            if let Some(reason) = conflict {
                listeners_status.push(conflicted_status(o, l, reason));
                continue;
            }
            let built = build_listener(ctx, o, gw, l, info.controller, None);
            listeners_status.push(built.status);
            if built.ok {
                valid += 1;
            }
            let Some(server) = built.server else { continue };
            servers.push(server.clone());
            if routes_skipped(info, l) {
                continue;
            }
            owner.emit(l, server, built.ok, true, out);
        }
        let key = (ns.to_string(), o.name().to_string());
        if let Some(attached) = out.set_servers.get(&key) {
            servers.extend(attached.servers.iter().cloned());
            attached_sets = attached.sets.len();
        }
    }
    let mut status = gateway_status(
        ctx,
        o,
        gw,
        &services,
        &servers,
        err,
        valid,
        listeners_status,
    );
    if attached_sets > 0 {
        status["attachedListenerSets"] = json!(attached_sets);
    }
    out.status.push(status_doc(o, "Gateway", status));
}

/// Waypoints (and east-west HBONE listeners) get servers but no routes.
pub(crate) fn routes_skipped(info: ClassInfo, l: &Listener) -> bool {
    info.controller == names::MESH_CONTROLLER
        || (info.controller == names::EAST_WEST_CONTROLLER && l.port == Some(15008))
}

/// The service account the gateway's pods run as; "" for manual gateways,
/// whose workloads istiod cannot know.
pub(crate) fn service_account(o: &Object, gw: &Gateway, info: ClassInfo) -> String {
    if !is_managed(gw) {
        return String::new();
    }
    o.meta()
        .annotations
        .get("gateway.istio.io/service-account")
        .cloned()
        .unwrap_or_else(|| default_name(o, gw, info))
}

/// The object whose listeners become internal Gateways (a Gateway or a
/// ListenerSet) and what those Gateways carry.
pub(crate) struct Owner<'a> {
    pub object: &'a Object,
    pub services: &'a [String],
    pub service_account: String,
    /// A ListenerSet's parent Gateway namespace.
    pub parent_namespace: Option<&'a str>,
}

impl Owner<'_> {
    /// The internal Gateway of listener `l` (when `valid`) and, when
    /// `as_parent`, the parent routes can attach to.
    pub fn emit(
        &self,
        l: &Listener,
        server: Server,
        valid: bool,
        as_parent: bool,
        out: &mut Gateways,
    ) {
        let o = self.object;
        let (ns, kind) = (o.namespace(), o.info.kind);
        let name = names::internal_gateway_name(o.name(), &l.name);
        if as_parent {
            let (allowed, _) = supported_kinds(l);
            out.parents
                .entry((kind.to_string(), ns.to_string(), o.name().to_string()))
                .or_default()
                .push(ParentInfo {
                    internal_name: format!("{ns}/{name}"),
                    allowed_kinds: allowed,
                    hostnames: server.hosts.clone(),
                    original_hostname: l.hostname.clone().unwrap_or_default(),
                    section_name: l.name.clone(),
                    port: l.port.unwrap_or(0),
                    protocol: l.protocol.clone(),
                });
        }
        if !valid {
            return;
        }
        let mut annotations: Labels = [
            (
                names::PARENTS,
                format!("{kind}/{}/{}.{ns}", o.name(), l.name),
            ),
            (names::GATEWAY_SEMANTICS, "gateway".to_string()),
            (names::GATEWAY_SERVICE, self.services.join(",")),
            (names::SERVICE_ACCOUNT, self.service_account.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(pns) = self.parent_namespace {
            annotations.insert(names::PARENT_NAMESPACE.to_string(), pns.to_string());
        }
        let m = meta(name, ns, o.meta().creation_timestamp.clone(), annotations);
        let spec = ist::GatewaySpec {
            servers: vec![server],
            ..Default::default()
        };
        out.objects
            .extend(istio_object("Gateway", m, o.span.clone(), |metadata| {
                Body::IstioGateway(Box::new(ist::Gateway {
                    metadata,
                    spec,
                    ..Default::default()
                }))
            }));
    }
}

fn parameters_ref_error(ctx: &Ctx, o: &Object, gw: &Gateway) -> Option<ConfigError> {
    let params = gw.spec.infrastructure.as_ref()?.parameters_ref.as_ref()?;
    let group = params.group.as_deref().unwrap_or("");
    let kind = params.kind.as_deref().unwrap_or("");
    if kind != "ConfigMap" || !group.is_empty() {
        return Some(ConfigError::new(
            "InvalidParameters",
            format!(
                "Unsupported parametersRef group/kind {group}/{kind}, only ConfigMap is supported"
            ),
        ));
    }
    if ctx.find::<ConfigMap>(o.namespace(), &params.name).is_none() {
        return Some(ConfigError::new(
            "InvalidParameters",
            format!(
                "parametersRef ConfigMap {}/{} does not exist",
                o.namespace(),
                params.name
            ),
        ));
    }
    None
}

/// The route kinds a listener takes, and whether its `allowedRoutes.kinds`
/// were all supported.
pub(crate) fn supported_kinds(l: &Listener) -> (Vec<(String, String)>, bool) {
    let kinds: &[&str] = match l.protocol.as_str() {
        "HTTP" | "HTTPS" => &["HTTPRoute", "GRPCRoute"],
        "TCP" => &["TCPRoute"],
        "TLS" if tls_mode(l) == "Terminate" => &["TLSRoute", "TCPRoute"],
        "TLS" => &["TLSRoute"],
        _ => &[],
    };
    let supported: Vec<(String, String)> = kinds
        .iter()
        .map(|k| (GATEWAY_GROUP.to_string(), k.to_string()))
        .collect();
    let wanted = l
        .allowed_routes
        .as_ref()
        .map(|a| a.kinds.as_slice())
        .unwrap_or_default();
    if wanted.is_empty() {
        return (supported, true);
    }
    let inter: Vec<_> = supported
        .into_iter()
        .filter(|(g, k)| {
            wanted
                .iter()
                .any(|w| w.kind == *k && w.group.as_deref().unwrap_or(GATEWAY_GROUP) == g)
        })
        .collect();
    let all = inter.len() == wanted.len();
    (inter, all)
}

fn tls_mode(l: &Listener) -> &str {
    l.tls
        .as_ref()
        .and_then(|t| t.mode.as_deref())
        .unwrap_or("Terminate")
}

fn kinds_value(kinds: &[(String, String)]) -> Value {
    Value::Array(
        kinds
            .iter()
            .map(|(g, k)| json!({"group": g, "kind": k}))
            .collect(),
    )
}

fn listener_status(o: &Object, l: &Listener, mut conds: Conds) -> Value {
    let (supported, valid) = supported_kinds(l);
    if !valid {
        conds.insert("ResolvedRefs", {
            let mut c = Cond::ok("InvalidRouteKinds", "Invalid route kinds");
            c.status = false;
            c
        });
    }
    json!({
        "attachedRoutes": 0,
        "conditions": write(&conds, generation(o)),
        "name": l.name,
        "supportedKinds": kinds_value(&supported),
    })
}

pub(crate) fn conflicted_status(o: &Object, l: &Listener, reason: &str) -> Value {
    let msg = "Listener has a conflict with another listener attached to the same Gateway";
    let failed = |r: &str| {
        let mut c = Cond::ok(r, msg);
        c.error = Some(ConfigError::new(r, msg));
        c
    };
    let conds = Conds::from([
        ("Accepted", failed(reason)),
        ("Programmed", failed(reason)),
        ("Conflicted", Cond::ok(reason, msg)),
    ]);
    listener_status(o, l, conds)
}

pub(crate) struct BuiltListener {
    pub server: Option<Server>,
    pub status: Value,
    pub ok: bool,
}

pub(crate) fn build_listener(
    ctx: &Ctx,
    o: &Object,
    gw: &Gateway,
    l: &Listener,
    controller: &str,
    port_error: Option<&str>,
) -> BuiltListener {
    let mut conds = Conds::from([
        ("Accepted", Cond::ok("Accepted", "No errors found")),
        ("Programmed", Cond::ok("Programmed", "No errors found")),
        (
            "Conflicted",
            Cond::ok("NoConflicts", "No errors found").with_status(false),
        ),
        ("ResolvedRefs", Cond::ok("ResolvedRefs", "No errors found")),
    ]);
    let set_err = |conds: &mut Conds, ty: &'static str, reason: &str, msg: &str| {
        if let Some(c) = conds.get_mut(ty) {
            c.error = Some(ConfigError::new(reason, msg));
        }
    };
    let mut ok = true;
    let (tls, tls_err) = build_tls(ctx, o, gw, l);
    if let Some(e) = &tls_err {
        set_err(&mut conds, "ResolvedRefs", &e.reason, &e.message);
        set_err(&mut conds, "Programmed", "Invalid", "Bad TLS configuration");
        if matches!(
            e.reason.as_str(),
            "InvalidCACertificateRef" | "InvalidCACertificateKind" | "RefNotPermitted"
        ) {
            set_err(&mut conds, "Accepted", "NoValidCACertificate", &e.message);
        }
        ok = false;
    }
    let hosts = hostname_match(ctx, o.namespace(), l);
    if let Some(msg) = port_error {
        set_err(&mut conds, "Accepted", "UnsupportedProtocol", msg);
        ok = false;
    }
    let protocol = match protocol_to_istio(controller, &l.protocol) {
        Ok(p) => p,
        Err(msg) => {
            set_err(&mut conds, "Accepted", "UnsupportedProtocol", &msg);
            ok = false;
            String::new()
        }
    };
    let port = l.port.unwrap_or(0);
    if controller == names::MESH_CONTROLLER && (port != 15008 || l.protocol != "HBONE") {
        set_err(
            &mut conds,
            "Accepted",
            "UnsupportedProtocol",
            r#"Expected a single listener on port 15008 with protocol "HBONE""#,
        );
    }
    if controller == names::EAST_WEST_CONTROLLER {
        let unexpected = if port == 15008 {
            l.protocol != "HBONE" || l.tls.is_none() || tls_mode(l) != "Terminate"
        } else {
            !(l.protocol == "TLS" && l.tls.is_some() && tls_mode(l) == "Passthrough")
        };
        if unexpected {
            set_err(
                &mut conds,
                "Accepted",
                "UnsupportedProtocol",
                r#"East-west gateway listeners must be either port 15008 with protocol "HBONE" and TLS.Mode == Terminate, or TLS with TLS.Mode == Passthrough"#,
            );
        }
    }
    let no_tls = tls.is_none() && (l.protocol == "HTTPS" || l.protocol == "TLS");
    // A Gateway's HTTPS listener without TLS is a placeholder for its
    // ListenerSets; in a ListenerSet it is an error.
    if no_tls && o.info.kind == "ListenerSet" {
        let msg = format!("protocol is {} but no TLS section is defined", l.protocol);
        set_err(&mut conds, "Accepted", "UnsupportedProtocol", &msg);
        set_err(&mut conds, "Programmed", "Invalid", "Bad TLS configuration");
        ok = false;
    }
    let server = (!no_tls).then(|| Server {
        port: Some(Port {
            number: u32::try_from(port).ok(),
            protocol: Some(protocol),
            name: Some("default".to_string()),
            target_port: None,
        }),
        hosts,
        tls,
        ..Default::default()
    });
    BuiltListener {
        server,
        status: listener_status(o, l, conds),
        ok,
    }
}

fn protocol_to_istio(controller: &str, p: &str) -> Result<String, String> {
    match p {
        "HTTP" | "HTTPS" | "TLS" | "TCP" => Ok(p.to_string()),
        "HBONE"
            if controller == names::MESH_CONTROLLER
                || controller == names::EAST_WEST_CONTROLLER =>
        {
            Ok(p.to_string())
        }
        "HBONE" => Err(format!(
            r#"protocol "{p}" is only supported for waypoint proxies"#
        )),
        _ => {
            let up = p.to_uppercase();
            if matches!(up.as_str(), "HTTP" | "HTTPS" | "TLS" | "TCP" | "HBONE") {
                Err(format!(
                    r#"protocol "{p}" is unsupported. hint: "{up}" (uppercase) may be supported"#
                ))
            } else {
                Err(format!(r#"protocol "{p}" is unsupported"#))
            }
        }
    }
}

/// Server hosts: `<ns>/<hostname>` per namespace `allowedRoutes` admits.
fn hostname_match(ctx: &Ctx, local_ns: &str, l: &Listener) -> Vec<String> {
    let hostname = l.hostname.clone().unwrap_or_else(|| "*".to_string());
    let namespaces = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.namespaces.as_ref());
    let list: Vec<String> = match namespaces.and_then(|n| n.from.as_deref()) {
        None | Some("Same") => vec![local_ns.to_string()],
        Some("All") => vec!["*".to_string()],
        Some(_) => match namespaces.and_then(|n| n.selector.as_ref()) {
            None => vec!["*".to_string()],
            Some(sel) => ctx
                .namespaces
                .iter()
                .filter(|(_, labels)| sel.matches(labels))
                .map(|(n, _)| n.clone())
                .collect(),
        },
    };
    let hosts: Vec<String> = list
        .into_iter()
        .map(|ns| format!("{ns}/{hostname}"))
        .collect();
    if hosts.is_empty() {
        vec![format!("~/{hostname}")]
    } else {
        hosts
    }
}

/// Server TLS of a listener, or the error that leaves it without a server.
fn build_tls(
    ctx: &Ctx,
    o: &Object,
    gw: &Gateway,
    l: &Listener,
) -> (Option<ServerTlsSettings>, Option<ConfigError>) {
    let Some(tls) = &l.tls else {
        return (None, None);
    };
    let ns = o.namespace();
    let mut out = ServerTlsSettings::default();
    match tls.mode.as_deref().unwrap_or("Terminate") {
        "Terminate" => {
            out.mode = Some("SIMPLE".to_string());
            match tls
                .options
                .get("gateway.istio.io/tls-terminate-mode")
                .map(String::as_str)
            {
                Some("MUTUAL") => out.mode = Some("MUTUAL".to_string()),
                Some("OPTIONAL_MUTUAL") => out.mode = Some("OPTIONAL_MUTUAL".to_string()),
                Some("ISTIO_SIMPLE") => {
                    out.credential_name = Some("builtin://".to_string());
                    return (Some(out), None);
                }
                Some("ISTIO_MUTUAL") => {
                    out.mode = Some("ISTIO_MUTUAL".to_string());
                    return (Some(out), None);
                }
                _ => {}
            }
            if tls.certificate_refs.len() > 2 {
                let e = ConfigError::new(
                    "InvalidCertificateRef",
                    "TLS mode can only support up to 2 server certificates",
                );
                return (Some(out), Some(e));
            }
            let mut names = vec![String::new(); tls.certificate_refs.len()];
            let mut valid = 0;
            let mut combined: Option<ConfigError> = None;
            for (i, r) in tls.certificate_refs.iter().enumerate() {
                let cred_ns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
                let result = if cred_ns != ns
                    && !ctx
                        .grants
                        .allowed(o.info.kind, ns, "Secret", &cred_ns, &r.name)
                {
                    Err(ConfigError::new(
                        "RefNotPermitted",
                        format!(
                            "certificateRef {}/{cred_ns} not accessible to a Gateway in namespace \"{ns}\" (missing a ReferenceGrant?)",
                            r.name
                        ),
                    ))
                } else {
                    secret_reference(ctx, r, ns)
                };
                match result {
                    Ok(name) => {
                        names[i] = name;
                        valid += 1;
                    }
                    Err(e) => {
                        combined = Some(match combined {
                            None => e,
                            Some(mut c) => {
                                c.message = format!("{}; {}", c.message, e.message);
                                c
                            }
                        });
                    }
                }
            }
            if valid == 0 {
                return (Some(out), combined);
            }
            if valid == 1 {
                // istiod reads slot 0 whichever ref was the valid one.
                out.credential_name = Some(names[0].clone());
            } else {
                out.credential_names = names;
            }
            if let Some(err) = frontend_validation(ctx, o, gw, l, tls, &mut out) {
                return (Some(out), Some(err));
            }
        }
        "Passthrough" => {
            let auto = tls
                .options
                .get("gateway.istio.io/listener-protocol")
                .map(String::as_str)
                == Some("auto-passthrough")
                || auto_passthrough_port(&o.meta().labels, l);
            // PASSTHROUGH is the enum's zero value, which proto-JSON leaves out.
            out.mode = auto.then(|| "AUTO_PASSTHROUGH".to_string());
        }
        _ => {}
    }
    if let Some(suites) = tls
        .options
        .get("gateway.istio.io/tls-cipher-suites")
        .filter(|s| !s.is_empty())
    {
        out.cipher_suites = filter_cipher_suites(suites);
    }
    (Some(out), None)
}

/// A listener of a multi-network gateway (label `topology.istio.io/network`)
/// on port 15443, or the port label `networking.istio.io/gatewayPort` names.
fn auto_passthrough_port(labels: &Labels, l: &Listener) -> bool {
    if !labels.contains_key("topology.istio.io/network") {
        return false;
    }
    let expected = labels
        .get("networking.istio.io/gatewayPort")
        .map_or("15443", String::as_str);
    l.port.map(|p| p.to_string()).as_deref() == Some(expected)
}

/// The cipher suites Envoy accepts (istiod's `ValidCipherSuites`).
const VALID_CIPHER_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// istiod's `FilterCipherSuites`: unknown names (which Envoy would NACK)
/// and duplicates dropped; expressions starting with an operator kept.
fn filter_cipher_suites(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list.split(',').map(str::trim) {
        let valid = s.is_empty()
            || s == "ALL"
            || !s.starts_with(|c: char| c.is_alphanumeric())
            || VALID_CIPHER_SUITES.contains(&s);
        if valid && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// Frontend (client certificate) validation of `spec.tls.frontend`.
fn frontend_validation(
    ctx: &Ctx,
    o: &Object,
    gw: &Gateway,
    l: &Listener,
    tls: &crate::model::gateway_api::ListenerTlsConfig,
    out: &mut ServerTlsSettings,
) -> Option<ConfigError> {
    let frontend = gw.spec.tls.as_ref()?.frontend.as_ref()?;
    let cfg = frontend
        .per_port
        .iter()
        .find(|p| p.port == l.port)
        .and_then(|p| p.tls.as_ref())
        .or(frontend.default.as_ref())?;
    let validation = cfg.validation.as_ref()?;
    let refs = &validation.ca_certificate_refs;
    if refs.is_empty() {
        return None;
    }
    if refs.len() > 1 {
        return Some(ConfigError::new(
            "InvalidCACertificateRef",
            "only one caCertificateRef is supported",
        ));
    }
    let r = &refs[0];
    let ns = o.namespace();
    let ca_ns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
    let kind = r.kind.as_deref().unwrap_or("");
    let group = r.group.as_deref().unwrap_or("");
    let scheme = if kind == "Secret" && group.is_empty() {
        "kubernetes-gateway"
    } else {
        "configmap"
    };
    if ca_ns != ns
        && !ctx
            .grants
            .allowed(o.info.kind, ns, kind, &ca_ns, &format!("{}-cacert", r.name))
    {
        return Some(ConfigError::new(
            "RefNotPermitted",
            format!(
                "caCertificateRef {ca_ns}/{} not accessible to a Gateway in namespace \"{ns}\" (missing a ReferenceGrant?)",
                r.name
            ),
        ));
    }
    let describe = format!(
        "{group}/{kind}/{}.{}",
        r.name,
        r.namespace.clone().unwrap_or_default()
    );
    let found = match (group, kind) {
        ("", "ConfigMap") => ctx
            .find::<ConfigMap>(&ca_ns, &r.name)
            .map(|(_, cm)| cm.data.get("ca.crt").cloned()),
        ("", "Secret") => ctx
            .find::<Secret>(&ca_ns, &r.name)
            .map(|(_, s)| s.data.get("ca.crt").map(|v| decode_pem_hint(v))),
        _ => {
            return Some(ConfigError::new(
                "InvalidCACertificateKind",
                format!(
                    "invalid CA certificate reference {describe}, only secret and configmap are allowed"
                ),
            ));
        }
    };
    match found {
        None => {
            return Some(ConfigError::new(
                "InvalidCACertificateRef",
                format!(
                    "invalid CA certificate reference {describe}, {} {ca_ns}/{} not found",
                    kind.to_lowercase(),
                    r.name
                ),
            ));
        }
        Some(None) => {
            return Some(ConfigError::new(
                "InvalidCACertificateRef",
                format!(
                    "invalid CA certificate reference {describe}, found secret, but didn't have expected keys cacert or ca.crt; found: "
                ),
            ));
        }
        Some(Some(pem)) if !pem.contains("-----BEGIN CERTIFICATE-----") => {
            return Some(ConfigError::new(
                "InvalidCACertificateRef",
                format!("invalid CA certificate reference {describe}, the bundle is malformed"),
            ));
        }
        Some(Some(_)) => {}
    }
    let insecure = validation.mode.as_deref() == Some("AllowInsecureFallback");
    out.mode = Some(
        if insecure {
            "OPTIONAL_MUTUAL"
        } else {
            "MUTUAL"
        }
        .to_string(),
    );
    out.insecure_skip_verify = Some(insecure);
    out.ca_cert_credential_name = Some(format!("{scheme}://{ca_ns}/{}-cacert", r.name));
    match tls
        .options
        .get("gateway.istio.io/tls-terminate-mode")
        .map(String::as_str)
    {
        Some("MUTUAL") => {
            out.mode = Some("MUTUAL".to_string());
            out.insecure_skip_verify = Some(false);
        }
        Some("OPTIONAL_MUTUAL") => {
            out.mode = Some("OPTIONAL_MUTUAL".to_string());
            out.insecure_skip_verify = Some(false);
        }
        _ => {}
    }
    None
}

/// Secret data is base64; PEM armour is all meshsim checks (it parses no
/// certificates), so "-----BEGIN" in base64 stands for a usable PEM.
fn decode_pem_hint(b64: &str) -> String {
    if b64.starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t") {
        "-----BEGIN CERTIFICATE-----".to_string()
    } else {
        String::new()
    }
}

/// `kubernetes-gateway://<ns>/<name>` for a usable Secret.
fn secret_reference(ctx: &Ctx, r: &SecretObjectReference, ns: &str) -> Result<String, ConfigError> {
    let group = r.group.as_deref().unwrap_or("");
    let kind = r.kind.as_deref().unwrap_or("Secret");
    let describe = format!(
        "{}/{}/{}.{}",
        r.group.clone().unwrap_or_default(),
        r.kind.clone().unwrap_or_default(),
        r.name,
        r.namespace.clone().unwrap_or_default()
    );
    if !group.is_empty() || kind != "Secret" {
        return Err(ConfigError::new(
            "InvalidCertificateRef",
            format!("invalid certificate reference {describe}, only secret is allowed"),
        ));
    }
    let secret_ns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
    let Some((_, secret)) = ctx.find::<Secret>(&secret_ns, &r.name) else {
        return Err(ConfigError::new(
            "InvalidCertificateRef",
            format!(
                "invalid certificate reference {describe}, secret {secret_ns}/{} not found",
                r.name
            ),
        ));
    };
    let pem = |k: &str| {
        secret
            .data
            .get(k)
            .is_some_and(|v| v.starts_with("LS0tLS1CRUdJTi"))
    };
    if !(pem("tls.crt") && pem("tls.key")) {
        return Err(ConfigError::new(
            "InvalidCertificateRef",
            format!(
                "invalid certificate reference {describe}, the certificate is malformed: tls: failed to find any PEM data in certificate input"
            ),
        ));
    }
    Ok(format!("kubernetes-gateway://{secret_ns}/{}", r.name))
}

#[allow(
    clippy::too_many_arguments,
    reason = "istiod's reportGatewayStatus takes the same inputs"
)]
fn gateway_status(
    ctx: &Ctx,
    o: &Object,
    gw: &Gateway,
    services: &[String],
    servers: &[Server],
    err: Option<ConfigError>,
    valid: usize,
    listeners: Vec<Value>,
) -> Value {
    let (internal, external, warnings, all_usable) =
        resolve_instances(ctx, o.namespace(), services, servers);
    let mut conds = Conds::from([
        ("Accepted", Cond::ok("Accepted", "Resource accepted")),
        ("Programmed", Cond::ok("Programmed", "Resource programmed")),
        (
            "ResolvedRefs",
            Cond::ok("ResolvedRefs", "All references resolved"),
        ),
    ]);
    let total = gw.spec.listeners.len();
    if let Some(e) = err {
        cond(&mut conds, "Accepted").error = Some(e);
    } else if total > 0 && valid < total {
        let c = cond(&mut conds, "Accepted");
        if valid == 0 {
            c.error = Some(ConfigError::new(
                "ListenersNotValid",
                "None of the Gateway's listeners are valid",
            ));
        } else {
            c.reason = "ListenersNotValid".to_string();
            c.message = "One or more of the Gateway's listeners are invalid".to_string();
        }
    }
    if let Some(e) = backend_client_cert_error(ctx, o, gw) {
        cond(&mut conds, "ResolvedRefs").error = Some(e);
    }
    if let Some(frontend) = gw.spec.tls.as_ref().and_then(|t| t.frontend.as_ref()) {
        let insecure = |v: Option<&crate::model::gateway_api::TlsConfig>| {
            v.and_then(|t| t.validation.as_ref())
                .and_then(|v| v.mode.as_deref())
                == Some("AllowInsecureFallback")
        };
        if insecure(frontend.default.as_ref())
            || frontend.per_port.iter().any(|p| insecure(p.tls.as_ref()))
        {
            conds.insert(
                "InsecureFrontendValidationMode",
                Cond::ok(
                    "ConfigurationChanged",
                    "Gateway is operating in AllowInsecureFallback mode for frontend validation",
                ),
            );
        }
    }
    let programmed = cond(&mut conds, "Programmed");
    programmed_condition(programmed, &internal, services, &warnings, all_usable);
    let mut st = Map::new();
    if !external.is_empty() {
        st.insert(
            "addresses".into(),
            Value::Array(
                external
                    .iter()
                    .map(|a| {
                        let ty = if a.parse::<std::net::IpAddr>().is_ok() {
                            "IPAddress"
                        } else {
                            "Hostname"
                        };
                        json!({"type": ty, "value": a})
                    })
                    .collect(),
            ),
        );
    }
    st.insert("conditions".into(), write(&conds, generation(o)));
    if !listeners.is_empty() {
        st.insert("listeners".into(), Value::Array(listeners));
    }
    Value::Object(st)
}

/// `Programmed` from where the gateway's Services resolved (istiod's
/// `SetProgrammedCondition`).
pub(crate) fn programmed_condition(
    programmed: &mut Cond,
    internal: &[String],
    services: &[String],
    warnings: &[String],
    all_usable: bool,
) {
    if !internal.is_empty() {
        programmed.message = format!(
            "Resource programmed, assigned to service(s) {}",
            human_join(internal)
        );
    }
    if services.is_empty() {
        programmed.error = Some(ConfigError::new(
            "UnsupportedAddress",
            "Failed to assign to any requested addresses",
        ));
    } else if !warnings.is_empty() {
        let msg = if internal.is_empty() {
            format!(
                "Failed to assign to any requested addresses: {}",
                warnings.join("; ")
            )
        } else {
            format!(
                "Assigned to service(s) {}, but failed to assign to all requested addresses: {}",
                human_join(internal),
                warnings.join("; ")
            )
        };
        let reason = if all_usable {
            "AddressNotAssigned"
        } else {
            "AddressNotUsable"
        };
        programmed.error = Some(ConfigError::new(reason, msg));
    }
}

/// istiod's `ResolveGatewayInstances`: (internal host:ports, external
/// addresses, warnings, all usable).
pub(crate) fn resolve_instances(
    ctx: &Ctx,
    ns: &str,
    services: &[String],
    servers: &[Server],
) -> (Vec<String>, Vec<String>, Vec<String>, bool) {
    let ports: BTreeSet<u32> = servers
        .iter()
        .filter_map(|s| s.port.as_ref()?.number)
        .collect();
    let mut internal = BTreeSet::new();
    let mut external = BTreeSet::new();
    let mut warnings = Vec::new();
    let mut unusable = false;
    for g in services {
        let Some(svc) = ctx.registry.service(g, ns) else {
            let mut others = ctx.registry.namespaces_of(g);
            if others.is_empty() {
                warnings.push(format!("hostname \"{g}\" not found"));
            } else {
                others.sort();
                let quoted: Vec<String> = others.iter().map(|n| format!("\"{n}\"")).collect();
                warnings.push(format!(
                    "hostname \"{g}\" not found in namespace \"{ns}\", but it was found in namespace(s) {}",
                    quoted.join(", ")
                ));
            }
            unusable = true;
            continue;
        };
        for &port in &ports {
            let instances = svc
                .ports
                .iter()
                .find(|p| u32::from(p.port) == port)
                .is_some_and(|p| !p.endpoint_ports.is_empty());
            if instances {
                internal.insert(format!("{g}:{port}"));
                external.extend(svc.external_addresses.iter().cloned());
                continue;
            }
            if svc.ports.iter().all(|p| p.endpoint_ports.is_empty()) {
                warnings.push(format!("no instances found for hostname \"{g}\""));
                continue;
            }
            let hints: BTreeSet<String> = svc
                .ports
                .iter()
                .filter(|p| p.endpoint_ports.contains(&port))
                .map(|p| p.port.to_string())
                .collect();
            if !hints.is_empty() {
                warnings.push(format!(
                    "port {port} not found for hostname \"{g}\" (hint: the service port should be specified, not the workload port. Did you mean one of these ports: [{}]?)",
                    hints.into_iter().collect::<Vec<_>>().join(" ")
                ));
                unusable = true;
            } else if !svc.managed || !svc.ports.iter().any(|p| u32::from(p.port) == port) {
                warnings.push(format!("port {port} not found for hostname \"{g}\""));
                unusable = true;
            }
        }
    }
    warnings.sort();
    (
        internal.into_iter().collect(),
        external.into_iter().collect(),
        warnings,
        !unusable,
    )
}

pub(crate) fn human_join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// `spec.tls.backend.clientCertificateRef`: checked for status only.
fn backend_client_cert_error(ctx: &Ctx, o: &Object, gw: &Gateway) -> Option<ConfigError> {
    let r = gw
        .spec
        .tls
        .as_ref()?
        .backend
        .as_ref()?
        .client_certificate_ref
        .as_ref()?;
    let ns = o.namespace();
    let secret_ns = r.namespace.clone().unwrap_or_else(|| ns.to_string());
    if secret_ns != ns
        && !ctx
            .grants
            .allowed("Gateway", ns, "Secret", &secret_ns, &r.name)
    {
        return Some(ConfigError::new(
            "RefNotPermitted",
            format!(
                "clientCertificateRef {}/{secret_ns} not accessible to a Gateway in namespace \"{ns}\" (missing a ReferenceGrant?)",
                r.name
            ),
        ));
    }
    secret_reference(ctx, r, ns)
        .err()
        .map(|e| ConfigError::new("InvalidClientCertificateRef", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_suites_as_istiod_filters_them() {
        assert_eq!(
            filter_cipher_suites(
                "bogus, ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES128-GCM-SHA256, -ALL"
            ),
            ["ECDHE-RSA-AES128-GCM-SHA256", "-ALL"]
        );
    }
}
