//! Gateway API and Ingress → the internal Istio Gateway, VirtualService and
//! DestinationRule objects istiod derives from them, and the status istiod
//! would write back (istiod-gateway-security.md §1.10, §2; istiod's
//! `pilot/pkg/config/kube/gateway` and `.../ingress`).
//!
//! The translation is a pure function of the store, a view of the service
//! registry and a few settings. Its objects are ordinary typed
//! [`Object`]s, so the config indexes take them beside the user's own.

mod backends;
mod conditions;
mod gateways;
mod http;
pub mod ingress;
mod l4;
mod listener_sets;
mod names;
mod policies;
mod refs;
mod registry_view;
mod routes;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::diag::{Diagnostics, Severity, Span};
use crate::model::gateway_api::UdpRoute;
use crate::model::{Body, Labels, Object, ObjectMeta, Store, kind_info};

pub use conditions::StatusDoc;
pub use registry_view::{RegistryService, RegistryView, ServicePortInstances};

/// Settings of the translation, as istiod's flags and test harnesses set them.
#[derive(Debug, Clone)]
pub struct Options {
    /// `cluster.local` in a mesh; the conformance goldens use others.
    pub domain_suffix: String,
    /// `PILOT_ENABLE_ALPHA_GATEWAY_API`: XBackend and XBackendTrafficPolicy.
    pub alpha: bool,
    /// `ENABLE_GATEWAY_API_INFERENCE_EXTENSION`: InferencePool backends.
    pub inference: bool,
    /// The Ingress controller's settings (MeshConfig and `K8S_INGRESS_NS`).
    pub ingress: ingress::IngressOptions,
    /// Apply the Gateway API CRDs' defaults the API server would (a rule's
    /// `PathPrefix /` match, a redirect's 302). Off to compare with istiod's
    /// goldens, which are translated from undefaulted objects.
    pub crd_defaults: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            domain_suffix: super::DOMAIN_SUFFIX.to_string(),
            alpha: false,
            inference: false,
            ingress: ingress::IngressOptions::default(),
            crd_defaults: true,
        }
    }
}

/// What the translation produces.
#[derive(Debug, Default)]
pub struct Translated {
    /// Internal Istio objects, in istiod's list order: Gateways, then
    /// VirtualServices, then DestinationRules, each by (creation, namespace, name).
    pub objects: Vec<Object>,
    /// Gateway API status documents, in istiod's order.
    pub status: Vec<StatusDoc>,
}

/// Translate every Gateway API object and Ingress of `store`.
pub fn translate(
    store: &Store,
    registry: &dyn RegistryView,
    opts: &Options,
    diags: &mut Diagnostics,
) -> Translated {
    for (o, _) in store.of::<UdpRoute>() {
        diags.report(
            Severity::Warning,
            "unsupported",
            Some(o.span.clone()),
            Some(o.describe()),
            "UDPRoute is not supported by Istio; ignored (no configuration, no status)",
        );
    }
    let ctx = Ctx::new(store, registry, opts);
    let gws = gateways::build(&ctx);
    let routes = routes::build(&ctx, &gws, diags);

    let (mut drs, policy_status) = policies::build(&ctx);
    let mut gateways_out = gws.objects;
    let mut vs = routes.virtual_services;
    sort_objects(&mut gateways_out);
    sort_objects(&mut vs);
    sort_objects(&mut drs);
    let mut objects = gateways_out;
    objects.extend(vs);
    objects.extend(drs);

    let mut status = gws.status;
    attach_counts(&mut status, &routes.attachments);
    if opts.inference {
        status.extend(inference_pool_status(store));
    }
    status.extend(routes.status);
    status.extend(policy_status);
    conditions::sort_status(&mut status);

    let mut ing = ingress::translate(store, &opts.ingress, &opts.domain_suffix, diags);
    objects.append(&mut ing);
    Translated { objects, status }
}

/// InferencePool status: its parents are the Gateways of the routes that
/// use it as istiod reads them from those routes' *written* status, which
/// a manifest does not carry; so no parents (`{}`).
fn inference_pool_status(store: &Store) -> Vec<StatusDoc> {
    store
        .of::<crate::model::gateway_api::InferencePool>()
        .map(|(o, _)| gateways::status_doc(o, "InferencePool", Value::Object(Default::default())))
        .collect()
}

/// Each Gateway and ListenerSet listener's `attachedRoutes`: the routes
/// accepted on it (istiod counts by namespace and name, whatever the kind).
fn attach_counts(status: &mut [StatusDoc], attachments: &[(String, String, String)]) {
    for doc in status
        .iter_mut()
        .filter(|d| d.kind == "Gateway" || d.kind == "ListenerSet")
    {
        let Some(listeners) = doc
            .status
            .get_mut("listeners")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for l in listeners {
            let name = l
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let count = attachments
                .iter()
                .filter(|(ns, gw, listener)| {
                    *ns == doc.namespace && *gw == doc.name && *listener == name
                })
                .count();
            l["attachedRoutes"] = Value::from(count);
        }
    }
}

/// Everything a translation step reads.
pub(crate) struct Ctx<'a> {
    pub store: &'a Store,
    pub registry: &'a dyn RegistryView,
    pub opts: &'a Options,
    pub grants: refs::ReferenceGrants,
    /// Namespace labels (with the implicit `kubernetes.io/metadata.name`).
    pub namespaces: BTreeMap<String, Labels>,
    /// Objects by (namespace, name), built on the first lookup: a mesh
    /// without Gateway API objects never needs it.
    by_name: std::cell::OnceCell<HashMap<(&'a str, &'a str), Vec<&'a Object>>>,
}

impl<'a> Ctx<'a> {
    fn new(store: &'a Store, registry: &'a dyn RegistryView, opts: &'a Options) -> Ctx<'a> {
        let namespaces = store
            .of::<crate::model::core::Namespace>()
            .map(|(o, ns)| {
                let mut labels = ns.metadata.labels.clone();
                labels
                    .entry("kubernetes.io/metadata.name".to_string())
                    .or_insert_with(|| o.name().to_string());
                (o.name().to_string(), labels)
            })
            .collect();
        Ctx {
            store,
            registry,
            opts,
            grants: refs::ReferenceGrants::build(store),
            namespaces,
            by_name: std::cell::OnceCell::new(),
        }
    }

    /// `<name>.<ns>.svc.<suffix>`.
    pub fn fqdn(&self, name: &str, ns: &str) -> String {
        format!("{name}.{ns}.svc.{}", self.opts.domain_suffix)
    }

    /// Does the store hold core Service `ns/name`?
    pub fn service_exists(&self, ns: &str, name: &str) -> bool {
        self.find::<crate::model::core::Service>(ns, name).is_some()
    }

    /// An object of type `T` by namespace and name.
    pub fn find<T: crate::model::Typed + 'a>(
        &self,
        ns: &str,
        name: &str,
    ) -> Option<(&'a Object, &'a T)> {
        let index = self.by_name.get_or_init(|| {
            let mut index: HashMap<(&str, &str), Vec<&Object>> = HashMap::new();
            for o in self.store.objects() {
                index.entry((o.namespace(), o.name())).or_default().push(o);
            }
            index
        });
        index
            .get(&(ns, name))?
            .iter()
            .find_map(|o| T::from_body(&o.body).map(|t| (*o, t)))
    }
}

/// A translated object of `kind` (an Istio networking kind).
pub(crate) fn istio_object(
    kind: &str,
    meta: ObjectMeta,
    span: Span,
    body: impl FnOnce(ObjectMeta) -> Body,
) -> Option<Object> {
    Some(Object {
        info: kind_info("networking.istio.io", kind)?,
        api_version: "networking.istio.io/v1".to_string(),
        span,
        body: body(meta),
    })
}

/// Metadata of a translated object: only what istiod's config carries.
pub(crate) fn meta(
    name: String,
    namespace: &str,
    creation: Option<String>,
    annotations: Labels,
) -> ObjectMeta {
    ObjectMeta {
        name,
        namespace: Some(namespace.to_string()),
        annotations,
        creation_timestamp: creation,
        ..ObjectMeta::default()
    }
}

/// istiod's list order: creation time, namespace, name.
fn sort_objects(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        let key = |o: &Object| {
            (
                o.meta().creation_timestamp.clone(),
                o.namespace().to_string(),
                o.name().to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// A Go duration ("1ms", "1m30s") as proto-JSON writes a Duration
/// ("0.001s", "90s"); `None` when it does not parse or is zero.
pub(crate) fn proto_duration(go: &str) -> Option<String> {
    let nanos = parse_go_duration(go)?;
    if nanos == 0 {
        return None;
    }
    Some(format_proto_duration(nanos))
}

fn parse_go_duration(s: &str) -> Option<i128> {
    if s.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let value: f64 = num.parse().ok()?;
        total += (value * scale as f64).round() as i128;
        rest = next;
    }
    Some(total)
}

fn format_proto_duration(nanos: i128) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        format!("{secs}s")
    } else if frac % 1_000_000 == 0 {
        format!("{secs}.{:03}s", frac / 1_000_000)
    } else if frac % 1_000 == 0 {
        format!("{secs}.{:06}s", frac / 1_000)
    } else {
        format!("{secs}.{frac:09}s")
    }
}

/// The spec of a translated object as proto-JSON prints it: unset fields,
/// empty lists, empty maps, "" and 0 left out; a message that is set but
/// empty stays `{}`.
pub fn proto_json<T: serde::Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    prune(&mut v);
    v
}

/// A Kubernetes object as JSON: only unset (null) fields left out; unlike
/// proto-JSON, `""` is kept (a parentRef's `group: ""` is meaningful).
pub(crate) fn k8s_json<T: serde::Serialize>(value: &T) -> Value {
    fn drop_nulls(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, x| !x.is_null());
                m.values_mut().for_each(drop_nulls);
            }
            Value::Array(a) => a.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    drop_nulls(&mut v);
    v
}

/// Returns whether `v` is to be dropped from its parent.
fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(_) => false,
        Value::Array(items) => {
            items.retain_mut(|i| !prune(i) || matches!(i, Value::Object(_)));
            items.is_empty()
        }
        Value::Object(map) => {
            // An empty map is a map field left empty; a map that is empty
            // only once its unset fields are gone is a message that is set.
            let was_empty = map.is_empty();
            map.retain(|_, x| !prune(x));
            was_empty
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_proto_json() {
        assert_eq!(proto_duration("1ms").as_deref(), Some("0.001s"));
        assert_eq!(proto_duration("50s").as_deref(), Some("50s"));
        assert_eq!(proto_duration("1m30s").as_deref(), Some("90s"));
        assert_eq!(proto_duration("0s"), None);
        assert_eq!(proto_duration("soon"), None);
    }

    #[test]
    fn prune_keeps_set_empty_messages() {
        let mut v = serde_json::json!({"a": null, "b": {}, "c": {"x": null}, "d": [], "e": 0, "f": "", "g": false});
        prune(&mut v);
        assert_eq!(v, serde_json::json!({"c": {}, "g": false}));
    }
}
