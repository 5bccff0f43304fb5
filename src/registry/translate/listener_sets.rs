//! ListenerSets: extra listeners on a parent Gateway, each an internal
//! Gateway of its own bound to the parent's Service; and listener conflicts
//! across a Gateway and its ListenerSets (istiod-gateway-security.md §2.13,
//! §2.2.4; istiod's `ListenerSetCollection`, `listener_conflict.go`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Ctx;
use super::conditions::{Cond, Conds, ConfigError, cond, write};
use super::gateways::{
    self, Gateways, Owner, build_listener, class_controller, conflicted_status, gateway_services,
    generation, resolve_instances, routes_skipped, status_doc,
};
use super::names::{self, GATEWAY_GROUP};
use crate::model::Object;
use crate::model::gateway_api::{Gateway, Listener, ListenerSet};

/// Conflicted listeners: (owner kind, namespace, name, listener) → reason.
pub(crate) type Conflicts = BTreeMap<(&'static str, String, String, String), &'static str>;

/// The Gateway a ListenerSet names, when it names one.
fn parent_key(o: &Object, ls: &ListenerSet) -> Option<(String, String)> {
    let p = ls.spec.parent_ref.as_ref()?;
    let group = p.group.as_deref().unwrap_or(GATEWAY_GROUP);
    let kind = p.kind.as_deref().unwrap_or("Gateway");
    if group != GATEWAY_GROUP || kind != "Gateway" {
        return None;
    }
    let ns = p
        .namespace
        .clone()
        .unwrap_or_else(|| o.namespace().to_string());
    Some((ns, p.name.clone()))
}

/// Does the parent's `allowedListeners` admit ListenerSets from `ns`?
/// Unset admits none.
fn namespace_allowed(ctx: &Ctx, ns: &str, parent: &Object, gw: &Gateway) -> bool {
    let Some(n) = gw
        .spec
        .allowed_listeners
        .as_ref()
        .and_then(|a| a.namespaces.as_ref())
    else {
        return false;
    };
    match n.from.as_deref() {
        Some("All") => true,
        Some("Same") => ns == parent.namespace(),
        Some("Selector") | None => match (&n.selector, ctx.namespaces.get(ns)) {
            (Some(sel), Some(labels)) => sel.matches(labels),
            _ => false,
        },
        Some(_) => false,
    }
}

/// A ListenerSet listener with its port defaulted (80 for HTTP, 443 for
/// HTTPS), or the error when it has none.
fn with_port(l: &Listener) -> (Listener, Option<String>) {
    let mut out = l.clone();
    if l.port.unwrap_or(0) != 0 {
        return (out, None);
    }
    match l.protocol.as_str() {
        "HTTP" => out.port = Some(80),
        "HTTPS" => out.port = Some(443),
        p => return (out, Some(format!("protocol {p} requires a port to be set"))),
    }
    (out, None)
}

/// The listeners of a Gateway and of the ListenerSets it admits that
/// conflict with an earlier one: Gateway listeners first, then the sets by
/// creation time and `namespace/name`.
pub(crate) fn conflicts(ctx: &Ctx, parent: &Object, gw: &Gateway) -> Conflicts {
    let mut entries: Vec<(&'static str, String, String, Listener)> = gw
        .spec
        .listeners
        .iter()
        .map(|l| {
            (
                "Gateway",
                parent.namespace().to_string(),
                parent.name().to_string(),
                l.clone(),
            )
        })
        .collect();
    let mut sets: Vec<(&Object, &ListenerSet)> = ctx
        .store
        .of::<ListenerSet>()
        .filter(|(o, ls)| {
            parent_key(o, ls) == Some((parent.namespace().to_string(), parent.name().to_string()))
                && namespace_allowed(ctx, o.namespace(), parent, gw)
        })
        .collect();
    sets.sort_by_key(|(o, _)| {
        (
            o.meta().creation_timestamp.clone(),
            format!("{}/{}", o.namespace(), o.name()),
        )
    });
    for (o, ls) in sets {
        for l in &ls.spec.listeners {
            entries.push((
                "ListenerSet",
                o.namespace().to_string(),
                o.name().to_string(),
                with_port(l).0,
            ));
        }
    }
    let l4 = |p: &str| p == "TCP" || p == "UDP";
    let http_like = |p: &str| matches!(p, "HTTP" | "HTTPS" | "TLS");
    let host = |l: &Listener| {
        l.hostname
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "*".to_string())
    };
    let mut accepted: Vec<&Listener> = Vec::new();
    let mut out = Conflicts::new();
    for (kind, ns, name, l) in &entries {
        let prior = accepted.iter().find(|p| {
            if p.port != l.port {
                return false;
            }
            let (a, b) = (l.protocol.as_str(), p.protocol.as_str());
            if (l4(a) && l4(b)) || (l4(a) && http_like(b)) || (http_like(a) && l4(b)) {
                return true;
            }
            if http_like(a) && http_like(b) {
                return host(l) == host(p);
            }
            a != b
        });
        match prior {
            Some(p) => {
                let reason = if l.protocol == p.protocol && !l4(&l.protocol) {
                    "HostnameConflict"
                } else {
                    "ProtocolConflict"
                };
                out.insert((kind, ns.clone(), name.clone(), l.name.clone()), reason);
            }
            None => accepted.push(l),
        }
    }
    out
}

/// A ListenerSet refused as a whole: `Accepted` and `Programmed` false.
fn refused(o: &Object, message: &str) -> Value {
    let failed = |r: &str| Cond {
        error: Some(ConfigError::new("NotAllowed", message)),
        ..Cond::ok(r, "")
    };
    let conds = Conds::from([
        ("Accepted", failed("Accepted")),
        ("Programmed", failed("Programmed")),
    ]);
    json!({ "conditions": write(&conds, generation(o)) })
}

/// Translate every ListenerSet whose parent Gateway istiod handles.
pub(crate) fn build(ctx: &Ctx, out: &mut Gateways) {
    for (o, ls) in ctx.store.of::<ListenerSet>() {
        let Some((pns, pname)) = parent_key(o, ls) else {
            continue;
        };
        let Some((parent, gw)) = ctx.find::<Gateway>(&pns, &pname) else {
            continue;
        };
        let Some(controller) = class_controller(ctx, &gw.spec.gateway_class_name) else {
            continue;
        };
        let Some(info) = names::class_info(&controller) else {
            continue;
        };
        if !info.supports_listener_set {
            let msg = format!(
                "The \"{}\" GatewayClass does not support ListenerSet",
                gw.spec.gateway_class_name
            );
            out.status
                .push(status_doc(o, "ListenerSet", refused(o, &msg)));
            continue;
        }
        if !namespace_allowed(ctx, o.namespace(), parent, gw) {
            let msg =
                "The parent Gateway does not allow this reference; check the 'spec.allowedRoutes'";
            out.status
                .push(status_doc(o, "ListenerSet", refused(o, msg)));
            continue;
        }
        let (services, err) = gateway_services(ctx, parent, gw, info);
        let mut listeners = Vec::new();
        let mut servers = Vec::new();
        let mut valid = 0;
        let short_circuit = services.is_empty() && err.is_some();
        if !short_circuit {
            let conflicts = conflicts(ctx, parent, gw);
            let owner = Owner {
                object: o,
                services: &services,
                service_account: gateways::service_account(parent, gw, info),
                parent_namespace: Some(parent.namespace()),
            };
            for l in &ls.spec.listeners {
                let (l, port_err) = with_port(l);
                let key = (
                    "ListenerSet",
                    o.namespace().to_string(),
                    o.name().to_string(),
                    l.name.clone(),
                );
                if let Some(reason) = conflicts.get(&key) {
                    listeners.push(conflicted_status(o, &l, reason));
                    continue;
                }
                let built = build_listener(ctx, o, gw, &l, info.controller, port_err.as_deref());
                listeners.push(built.status);
                let Some(server) = built.server else { continue };
                servers.push(server.clone());
                if built.ok {
                    valid += 1;
                }
                if routes_skipped(info, &l) {
                    continue;
                }
                if built.ok {
                    let entry = out
                        .set_servers
                        .entry((pns.clone(), pname.clone()))
                        .or_default();
                    entry.servers.push(server.clone());
                    entry
                        .sets
                        .insert((o.namespace().to_string(), o.name().to_string()));
                }
                // Only valid listeners become parents routes can attach to.
                owner.emit(&l, server, built.ok, built.ok, out);
            }
        }
        // istiod reports a parent that resolves to no Service as having valid listeners.
        let status = set_status(
            ctx,
            o,
            parent,
            &services,
            &servers,
            err,
            short_circuit || valid > 0,
            listeners,
        );
        out.status.push(status_doc(o, "ListenerSet", status));
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "istiod's ReportListenerSetStatus takes the same inputs"
)]
fn set_status(
    ctx: &Ctx,
    o: &Object,
    parent: &Object,
    services: &[String],
    servers: &[crate::model::istio::Server],
    parent_err: Option<ConfigError>,
    listeners_valid: bool,
    listeners: Vec<Value>,
) -> Value {
    let (internal, _, warnings, all_usable) =
        resolve_instances(ctx, parent.namespace(), services, servers);
    let mut conds = Conds::from([
        ("Accepted", Cond::ok("Accepted", "Resource accepted")),
        ("Programmed", Cond::ok("Programmed", "Resource programmed")),
    ]);
    let not_valid = || {
        ConfigError::new(
            "ListenersNotValid",
            "None of the ListenerSet's listeners are valid",
        )
    };
    if let Some(e) = parent_err {
        let c = cond(&mut conds, "Accepted");
        c.error = Some(ConfigError::new(
            &e.reason,
            format!("Parent not accepted: {}", e.message),
        ));
    } else if !listeners_valid {
        cond(&mut conds, "Accepted").error = Some(not_valid());
    }
    let programmed = cond(&mut conds, "Programmed");
    gateways::programmed_condition(programmed, &internal, services, &warnings, all_usable);
    if !listeners_valid {
        programmed.error = Some(not_valid());
    }
    let mut st = Map::new();
    st.insert("conditions".into(), write(&conds, generation(o)));
    if !listeners.is_empty() {
        st.insert("listeners".into(), Value::Array(listeners));
    }
    Value::Object(st)
}
