//! backendRefs → VirtualService destinations (istiod's `buildDestination`),
//! with istiod's split between soft errors (the rule stays, pointing at a
//! backend that answers 500) and hard errors (the route is dropped).

use super::Ctx;
use super::conditions::ConfigError;
use crate::model::gateway_api::{self as gw, InferencePool, XBackend};
use crate::model::istio::{Destination, PortSelector};

/// A backendRef of any route kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackendRef<'a> {
    pub group: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub port: Option<i32>,
}

/// The reference part of every kind of backendRef (and of a mirror's).
macro_rules! backend_ref_of {
    ($($ty:ty),*) => {$(
        impl<'a> From<&'a $ty> for BackendRef<'a> {
            fn from(b: &'a $ty) -> BackendRef<'a> {
                BackendRef {
                    group: b.group.as_deref(),
                    kind: b.kind.as_deref(),
                    name: &b.name,
                    namespace: b.namespace.as_deref(),
                    port: b.port,
                }
            }
        }
    )*};
}

backend_ref_of!(
    gw::HttpBackendRef,
    gw::GrpcBackendRef,
    gw::BackendRef,
    gw::BackendObjectReference
);

/// What istiod weighs: a backendRef and its weight (1 when unset).
pub(crate) trait Weighted {
    fn backend(&self) -> BackendRef<'_>;
    fn weight(&self) -> Option<i32>;
}

impl Weighted for gw::BackendRef {
    fn backend(&self) -> BackendRef<'_> {
        BackendRef::from(self)
    }
    fn weight(&self) -> Option<i32> {
        self.weight
    }
}

/// Destinations of weighted backendRefs, istiod's way: zero weights
/// dropped, a lone backend left unweighted; `build` makes each route entry.
/// The last soft error is returned beside them; a hard one instead.
pub(crate) fn weighted_destinations<T: Weighted, R>(
    ctx: &Ctx,
    backends: &[T],
    ns: &str,
    enforce: bool,
    kind: &str,
    mut build: impl FnMut(&T, Destination, Option<i32>) -> Result<R, ConfigError>,
) -> Result<(Vec<R>, Option<ConfigError>), ConfigError> {
    let kept: Vec<&T> = backends
        .iter()
        .filter(|b| b.weight().unwrap_or(1) != 0)
        .collect();
    let lone = kept.len() == 1;
    let mut soft = None;
    let mut out = Vec::new();
    for b in kept {
        let (dst, err) = destination(ctx, b.backend(), ns, enforce, kind);
        if let Some(e) = err {
            if !is_soft(&e) {
                return Err(e);
            }
            soft = Some(e);
        }
        let weight = if lone { None } else { b.weight().or(Some(1)) };
        out.push(build(b, dst.unwrap_or_default(), weight)?);
    }
    Ok((out, soft))
}

/// A soft error keeps the rule; any other reason drops the route.
pub(crate) fn is_soft(e: &ConfigError) -> bool {
    matches!(
        e.reason.as_str(),
        "RefNotPermitted" | "BackendNotFound" | "InvalidKind"
    )
}

/// The destination of a backendRef from a `route_kind` in `ns`, and the
/// error to report; `enforce_grant` is off for mesh parents.
pub(crate) fn destination(
    ctx: &Ctx,
    to: BackendRef,
    ns: &str,
    enforce_grant: bool,
    route_kind: &str,
) -> (Option<Destination>, Option<ConfigError>) {
    let group = to.group.unwrap_or("");
    let kind = to.kind.unwrap_or("Service");
    let empty = || Some(Destination::default());
    let denied = to.namespace.filter(|to_ns| {
        enforce_grant && *to_ns != ns && !ctx.grants.allowed(route_kind, ns, kind, to_ns, to.name)
    });
    if let Some(to_ns) = denied {
        let msg = format!(
            "backendRef {}/{to_ns} not accessible to a {route_kind} in namespace \"{ns}\" (missing a ReferenceGrant?)",
            to.name
        );
        return (empty(), Some(ConfigError::new("RefNotPermitted", msg)));
    }
    let namespace = to.namespace.unwrap_or(ns);
    let mut soft = None;
    let hostname = match (group, kind) {
        ("gateway.networking.x-k8s.io", "XBackend") => return xbackend(ctx, to, namespace),
        // A ServiceImport is the Service of the same name while istiod's
        // MCS host feature (clusterset.local) is off, its default.
        (g @ ("" | "core" | "multicluster.x-k8s.io"), k @ ("Service" | "ServiceImport"))
            if (g == "multicluster.x-k8s.io") == (k == "ServiceImport") =>
        {
            if k == "Service" && to.name.contains('.') {
                let msg =
                    "service name invalid; the name of the Service must be used, not the hostname.";
                return (None, Some(ConfigError::new("InvalidDestination", msg)));
            }
            let host = ctx.fqdn(to.name, namespace);
            if !ctx.service_exists(namespace, to.name) {
                let msg = format!("backend({host}) not found");
                soft = Some(ConfigError::new("BackendNotFound", msg));
            }
            host
        }
        ("networking.istio.io", "Hostname") => {
            if to.namespace.is_some() {
                let msg = "namespace may not be set with Hostname type";
                return (None, Some(ConfigError::new("InvalidDestination", msg)));
            }
            if ctx.registry.service(to.name, namespace).is_none() {
                let msg = format!("backend({}) not found", to.name);
                soft = Some(ConfigError::new("BackendNotFound", msg));
            }
            to.name.to_string()
        }
        ("inference.networking.k8s.io", "InferencePool") => {
            return inference_pool(ctx, to, namespace);
        }
        _ => {
            let msg = format!(
                "referencing unsupported backendRef: group \"{}\" kind \"{}\"",
                to.group.unwrap_or(""),
                to.kind.unwrap_or("")
            );
            return (empty(), Some(ConfigError::new("InvalidKind", msg)));
        }
    };
    let Some(port) = to.port else {
        return (
            None,
            Some(ConfigError::new(
                "InvalidDestination",
                "port is required in backendRef",
            )),
        );
    };
    (Some(dest(hostname, port)), soft)
}

fn dest(host: String, port: i32) -> Destination {
    Destination {
        host,
        subset: None,
        port: Some(PortSelector {
            number: u32::try_from(port).ok(),
        }),
    }
}

/// An InferencePool: its shadow Service's first port (the backendRef's
/// port is not used).
fn inference_pool(
    ctx: &Ctx,
    to: BackendRef,
    namespace: &str,
) -> (Option<Destination>, Option<ConfigError>) {
    let empty = || Some(Destination::default());
    if !ctx.opts.inference {
        let msg = "InferencePool is not enabled. To enable, set ENABLE_GATEWAY_API_INFERENCE_EXTENSION to true in istiod";
        return (empty(), Some(ConfigError::new("InvalidKind", msg)));
    }
    if to.name.contains('.') {
        let msg = "InferencePool.Name invalid; the name of the InferencePool must be used, not the hostname.";
        return (None, Some(ConfigError::new("InvalidDestination", msg)));
    }
    if ctx.find::<InferencePool>(namespace, to.name).is_none() {
        let e = ConfigError::new("BackendNotFound", format!("backend({}) not found", to.name));
        return (empty(), Some(e));
    }
    let host = ctx.fqdn(&shadow_service_name(to.name), namespace);
    let Some(svc) = ctx.registry.service(&host, namespace) else {
        let e = ConfigError::new("BackendNotFound", format!("backend({host}) not found"));
        return (empty(), Some(e));
    };
    let picker = ["service", "port", "failure-mode"].map(|k| {
        svc.labels
            .contains_key(&format!("istio.io/inferencepool-extension-{k}"))
    });
    let soft = (!picker.iter().all(|p| *p)).then(|| {
        ConfigError::new(
            "InvalidDestination",
            "InferencePool service invalid, extensionRef labels not found",
        )
    });
    let port = svc.ports.first().map_or(0, |p| i32::from(p.port));
    (Some(dest(host, port)), soft)
}

/// `<pool>-ip-<first 8 hex digits of SHA-256(pool)>`, the pool part cut
/// to keep the name within a Service name's 63 characters.
pub(crate) fn shadow_service_name(pool: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pool.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let base: String = pool.chars().take(63 - "-ip-".len() - hash.len()).collect();
    format!("{base}-ip-{hash}")
}

/// An XBackend (alpha): its external hostname and port.
fn xbackend(
    ctx: &Ctx,
    to: BackendRef,
    namespace: &str,
) -> (Option<Destination>, Option<ConfigError>) {
    let empty = || Some(Destination::default());
    if !ctx.opts.alpha {
        let msg = "The Alpha Gateway API is not enabled, XBackend is invalid. To enable, set PILOT_ENABLE_ALPHA_GATEWAY_API to true in istiod.";
        return (empty(), Some(ConfigError::new("InvalidKind", msg)));
    }
    let Some((_, b)) = ctx.find::<XBackend>(namespace, to.name) else {
        let e = ConfigError::new("BackendNotFound", format!("backend({}) not found", to.name));
        return (empty(), Some(e));
    };
    let ty = b.spec.r#type.as_deref().unwrap_or("");
    let Some(host) = b
        .spec
        .external_hostname
        .as_ref()
        .filter(|_| ty == "ExternalHostname")
    else {
        let msg = format!(
            "backend({}) type: expected ExternalHostname, got {ty}",
            to.name
        );
        return (empty(), Some(ConfigError::new("InvalidKind", msg)));
    };
    let hostname = host.hostname.clone();
    let mut soft = None;
    if ctx.registry.service(&hostname, namespace).is_none() {
        soft = Some(ConfigError::new(
            "BackendNotFound",
            format!("backend({hostname}) not found"),
        ));
    }
    let backend_port = b.spec.port.as_ref().and_then(|p| p.port).unwrap_or(0);
    if let Some(p) = to.port.filter(|p| *p != backend_port) {
        let msg = format!(
            "backend({}) does not expose port {p}, expected {backend_port}",
            to.name
        );
        return (empty(), Some(ConfigError::new("BackendNotFound", msg)));
    }
    (Some(dest(hostname, backend_port)), soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_pool_shadow_service_names() {
        // As istiod's conformance registry names them.
        assert_eq!(
            shadow_service_name("infpool-gen"),
            "infpool-gen-ip-6580eb2c"
        );
        let long = "p".repeat(70);
        let name = shadow_service_name(&long);
        assert_eq!(name.len(), 63);
        assert!(name.starts_with(&"p".repeat(51)));
    }
}
