//! `meshsim diff OLD NEW`: what a change to the manifests does to every
//! proxy's Envoy configuration.
//!
//! Each side is generated once per class of equal proxy inputs
//! ([`share`]); each proxy's resources are compared by type and name
//! ([`compare`]); every change is attributed to the manifest objects that
//! differ and reach it ([`attribute`]); proxies showing the same changes
//! form one group ([`Report`]), printed as text, markdown or JSON
//! ([`output`]).

pub mod attribute;
pub mod compare;
pub mod output;
pub mod resources;
pub mod share;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use crate::registry::ProxyType;
use crate::session::Session;

use attribute::{Attribution, ObjectChange};
use compare::{Change, Op, compare};
use resources::ResourceType;
use share::{ProxyEntry, Side};

/// What to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// Resource types compared (`--type`); all by default.
    pub types: Vec<ResourceType>,
    /// Only these proxy ids (`name.namespace`), when given.
    pub proxies: Option<BTreeSet<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            types: ResourceType::ALL.to_vec(),
            proxies: None,
        }
    }
}

impl Options {
    fn wants(&self, id: &str) -> bool {
        self.proxies.as_ref().is_none_or(|p| p.contains(id))
    }
}

/// A proxy as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProxyRef {
    pub id: String,
    pub namespace: String,
    pub kind: ProxyType,
}

impl ProxyRef {
    fn of(p: &ProxyEntry) -> ProxyRef {
        ProxyRef {
            id: p.id.clone(),
            namespace: p.namespace.clone(),
            kind: p.kind,
        }
    }
}

/// A changed resource and the objects that caused it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupChange {
    pub change: Change,
    /// Indices into [`Report::objects`].
    pub causes: Vec<usize>,
}

/// Proxies that show exactly the same changes.
#[derive(Debug, Clone)]
pub struct Group {
    pub proxies: Vec<ProxyRef>,
    pub changes: Vec<GroupChange>,
}

/// A proxy whose configuration could be generated on one side only.
#[derive(Debug, Clone)]
pub struct Failed {
    pub proxy: ProxyRef,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Everything `diff` found.
#[derive(Debug, Default)]
pub struct Report {
    pub objects: Vec<ObjectChange>,
    pub groups: Vec<Group>,
    pub added: Vec<ProxyRef>,
    pub removed: Vec<ProxyRef>,
    pub failed: Vec<Failed>,
    /// Proxies with no configuration on either side, for the same reason
    /// (gateways, before gateway generation): not compared, not a change.
    pub not_generated: Vec<(ProxyRef, String)>,
    /// Proxies present on both sides whose compared resources are equal.
    pub unchanged: usize,
}

impl Report {
    /// Anything a reviewer must look at (exit status 1).
    pub fn has_changes(&self) -> bool {
        !(self.groups.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.failed.is_empty())
    }
}

/// Compare two sessions.
pub fn diff(old: &Session, new: &Session, opts: &Options) -> Report {
    let attribution = Attribution::build(old, new);
    let wanted = |id: &str| opts.wants(id);
    if attribution.objects.is_empty() {
        // Equal inputs generate equal configuration: nothing to generate.
        return Report {
            unchanged: old
                .mesh
                .proxies()
                .filter(|(_, w, _)| wanted(&w.id()))
                .count(),
            ..Report::default()
        };
    }
    let (a, b) = (share::classify(old, &wanted), share::classify(new, &wanted));
    let mut report = compare_sides(&a, &b, &opts.types, |p, c| {
        attribution.causes(&p.id, &p.namespace, c)
    });
    report.objects = attribution.objects;
    report
}

/// Compare two sides; `causes` attributes one change of one proxy. Each
/// pair of classes (old, new) is generated and compared once, then
/// dropped.
pub fn compare_sides(
    a: &dyn Side,
    b: &dyn Side,
    types: &[ResourceType],
    causes: impl Fn(&ProxyEntry, &Change) -> Vec<usize>,
) -> Report {
    let mut report = Report::default();
    let mut pairs: BTreeMap<(usize, usize), Vec<&ProxyEntry>> = BTreeMap::new();
    for (id, p) in a.proxies() {
        if !b.proxies().contains_key(id) {
            report.removed.push(ProxyRef::of(p));
        }
    }
    for (id, q) in b.proxies() {
        match a.proxies().get(id) {
            Some(p) => pairs.entry((p.class, q.class)).or_default().push(q),
            None => report.added.push(ProxyRef::of(q)),
        }
    }
    let mut groups: BTreeMap<Vec<GroupChange>, Vec<ProxyRef>> = BTreeMap::new();
    for ((ca, cb), members) in pairs {
        let (x, y) = std::thread::scope(|s| {
            let x = s.spawn(|| a.resources(ca));
            let y = b.resources(cb);
            (x.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), y)
        });
        let changes = match (&x, &y) {
            (Ok(x), Ok(y)) => compare(x, y, types),
            (Err(x), Err(y)) if x == y => {
                report
                    .not_generated
                    .extend(members.iter().map(|q| (ProxyRef::of(q), y.clone())));
                continue;
            }
            (x, y) => {
                report.failed.extend(members.iter().map(|q| Failed {
                    proxy: ProxyRef::of(q),
                    old: x.as_ref().err().cloned(),
                    new: y.as_ref().err().cloned(),
                }));
                continue;
            }
        };
        if changes.is_empty() {
            report.unchanged += members.len();
            continue;
        }
        for q in members {
            let mut key: Vec<GroupChange> = changes
                .iter()
                .map(|c| GroupChange {
                    change: c.clone(),
                    causes: causes(q, c),
                })
                .collect();
            // A change that names no host (a listener whose route
            // configuration changed) is put down to what changed the rest
            // of this proxy.
            let mut others: Vec<usize> = key.iter().flat_map(|g| g.causes.clone()).collect();
            others.sort();
            others.dedup();
            for g in key.iter_mut().filter(|g| g.causes.is_empty()) {
                g.causes.clone_from(&others);
            }
            groups.entry(key).or_default().push(ProxyRef::of(q));
        }
    }
    report.groups = groups
        .into_iter()
        .map(|(changes, mut proxies)| {
            proxies.sort();
            Group { proxies, changes }
        })
        .collect();
    // Largest groups first (a mesh-wide change leads), then by first proxy.
    report
        .groups
        .sort_by(|x, y| (y.proxies.len(), &x.proxies[0]).cmp(&(x.proxies.len(), &y.proxies[0])));
    report.not_generated.sort();
    report.failed.sort_by(|x, y| x.proxy.cmp(&y.proxy));
    report
}

impl Op {
    /// Changes of a group in a short phrase: `route 9080 changed`.
    pub fn phrase(self, rtype: ResourceType, name: &str) -> String {
        format!("{} {name} {}", rtype.name(), self.name())
    }
}
