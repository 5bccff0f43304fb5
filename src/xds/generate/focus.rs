//! Which hosts a partial generation builds listeners and virtual hosts
//! for: `diff` regenerates a view that only some changed hosts reach, and
//! what the other hosts give is the same on both sides.

use super::rds::{View, domain_forms};
use super::scope::{destinations, host_subset};
use crate::registry::catalog::{Catalog, CatalogService, Resolution};
use crate::registry::config::VirtualServiceEntry;
use crate::registry::config::virtual_services::resolve_short_name;

/// The hosts a partial generation covers: those whose configuration that
/// listeners and routes read changed, those whose cluster settings changed
/// too, and those whose endpoints changed too (each a superset of the one
/// before).
#[derive(Debug, Default)]
pub struct Focus {
    config: Hosts,
    clusters: Hosts,
    endpoints: Hosts,
    /// The VirtualServices (names by namespace) that name or route to a
    /// host of `config`: worked out once, every view asks for them.
    virtual_services: foldhash::HashMap<String, foldhash::HashSet<String>>,
    /// The hosts whose virtual hosts may hold a domain of a host's in some
    /// view, on either side, or its `HOST:PORT`, by host (most have
    /// none): a focused view checks the domains of those alone.
    sharing: foldhash::HashMap<String, Vec<String>>,
}

/// A set of hostnames (wildcards allowed), matched both ways: a host is
/// touched when a name of the set covers it or it covers one.
#[derive(Debug, Default)]
struct Hosts {
    exact: foldhash::HashSet<String>,
    wild: Vec<String>,
}

impl Hosts {
    fn new(hosts: impl IntoIterator<Item = String>) -> Hosts {
        let mut out = Hosts::default();
        for h in hosts {
            if h.starts_with('*') {
                out.wild.push(h);
            } else {
                out.exact.insert(h);
            }
        }
        out
    }

    fn touch(&self, host: &str) -> bool {
        self.exact.contains(host)
            || self
                .wild
                .iter()
                .any(|w| host_subset(host, w) || host_subset(w, host))
            || (host.starts_with('*') && self.exact.iter().any(|e| host_subset(e, host)))
    }
}

impl Focus {
    /// `config`: the hosts whose services or VirtualServices changed, or
    /// the DestinationRules routes read (hashing); `clusters`: those whose
    /// cluster settings did too (DestinationRules, the servers' mTLS
    /// mode); `endpoints`: those whose endpoints did too; `sides`: the
    /// services and VirtualServices of each side.
    pub fn new<'v>(
        config: impl IntoIterator<Item = String>,
        clusters: impl IntoIterator<Item = String>,
        endpoints: impl IntoIterator<Item = String>,
        sides: &[(&'v Catalog, &'v [VirtualServiceEntry])],
    ) -> Focus {
        let config = Hosts::new(config);
        // A VirtualService's routes may differ when it names a touched
        // host, or routes to one (whose DestinationRule gives its routes
        // their hash policy).
        let touched = |vs: &VirtualServiceEntry| {
            let ns = &vs.meta.namespace;
            vs.spec.hosts.iter().any(|h| config.touch(h))
                || destinations(vs).any(|(h, _)| config.touch(&resolve_short_name(h, ns)))
        };
        let mut by_namespace: foldhash::HashMap<String, foldhash::HashSet<String>> =
            Default::default();
        let virtual_services = sides.iter().flat_map(|(_, vss)| vss.iter());
        for vs in virtual_services.filter(|vs| touched(vs)) {
            by_namespace
                .entry(vs.meta.namespace.clone())
                .or_default()
                .insert(vs.meta.name.clone());
        }
        Focus {
            config,
            clusters: Hosts::new(clusters),
            endpoints: Hosts::new(endpoints),
            virtual_services: by_namespace,
            sharing: sharing(sides),
        }
    }

    /// Whether what listeners and routes read of `host` (maybe a
    /// wildcard) changed.
    pub fn touches(&self, host: &str) -> bool {
        self.config.touch(host)
    }

    /// The exact hosts whose configuration changed, when those are all
    /// (no wildcard among them): a view looks its services up by them.
    pub fn exact_hosts(&self) -> Option<impl Iterator<Item = &str>> {
        self.config
            .wild
            .is_empty()
            .then(|| self.config.exact.iter().map(String::as_str))
    }

    /// Whether what clusters read of `host` besides its endpoints changed.
    pub fn touches_clusters(&self, host: &str) -> bool {
        self.config.touch(host) || self.clusters.touch(host)
    }

    /// Whether anything of `host` changed (its clusters, its endpoints).
    pub fn touches_any(&self, host: &str) -> bool {
        self.touches_clusters(host) || self.endpoints.touch(host)
    }

    /// Whether a VirtualService's routes may differ (any of that name, on
    /// either side).
    pub fn touches_virtual_service(&self, vs: &VirtualServiceEntry) -> bool {
        self.virtual_services
            .get(&vs.meta.namespace)
            .is_some_and(|names| names.contains(&vs.meta.name))
    }

    /// The hosts whose virtual hosts may hold a domain of `host`'s (see
    /// [`Focus::sharing`]).
    pub fn sharing(&self, host: &str) -> &[String] {
        self.sharing.get(host).map_or(&[], Vec::as_slice)
    }

    /// Whether a service's own listeners may differ: its configuration
    /// changed, or the endpoints a headless one listens on.
    pub fn touches_listeners_of(&self, s: &CatalogService) -> bool {
        self.touches(&s.hostname)
            || (s.resolution == Resolution::Passthrough && self.endpoints.touch(&s.hostname))
    }
}

/// The hosts of [`Focus::sharing`]. A domain is held by a service's
/// virtual host in any view that could hold it ([`View::Any`]), or by the
/// virtual host of a VirtualService host no service has; two hosts
/// holding one share it unless it is a bare name each holds in views of
/// its own namespace only.
fn sharing(sides: &[(&Catalog, &[VirtualServiceEntry])]) -> foldhash::HashMap<String, Vec<String>> {
    type Holder<'a> = (&'a str, Option<&'a str>);
    let mut holders: foldhash::HashMap<String, Vec<Holder>> = Default::default();
    for (catalog, vss) in sides {
        for s in &catalog.services {
            let vips = s.cluster_vips.iter().map(String::as_str);
            for (d, only) in domain_forms(s, View::Any, vips.chain(s.auto_allocated.as_deref())) {
                holders.entry(d).or_default().push((&s.hostname, only));
            }
        }
        for h in vss.iter().flat_map(|vs| &vs.spec.hosts) {
            holders.entry(h.clone()).or_default().push((h, None));
        }
    }
    let mut out: foldhash::HashMap<String, Vec<String>> = Default::default();
    let mut share = |a: &str, b: &str| {
        let with = out.entry(a.to_string()).or_default();
        if !with.iter().any(|h| h == b) {
            with.push(b.to_string());
        }
    };
    for (domain, mut held) in holders {
        held.sort_unstable();
        held.dedup();
        for (i, a) in held.iter().enumerate() {
            for b in &held[i + 1..] {
                if a.0 != b.0 && (a.1.is_none() || b.1.is_none() || a.1 == b.1) {
                    share(a.0, b.0);
                    share(b.0, a.0);
                }
            }
        }
        // A sniffed route of `HOST:PORT` also picks the virtual host
        // holding that domain.
        if let Some((host, port)) = domain.rsplit_once(':')
            && !domain.starts_with('[')
            && port.parse::<u16>().is_ok()
        {
            for (h, _) in &held {
                share(host, h);
            }
        }
    }
    for with in out.values_mut() {
        with.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_meet_both_ways() {
        let f = Focus::new(
            [
                "a.ns.svc.cluster.local".to_string(),
                "*.example.com".to_string(),
            ],
            [],
            [],
            &[],
        );
        assert!(f.touches("a.ns.svc.cluster.local"));
        assert!(f.touches("*.ns.svc.cluster.local"));
        assert!(f.touches("*"));
        assert!(f.touches("api.example.com"));
        assert!(f.touches("*.com"));
        assert!(!f.touches("b.ns.svc.cluster.local"));
        assert!(!f.touches("*.other.svc.cluster.local"));
        assert!(!Focus::default().touches("*"));
    }

    #[test]
    fn hosts_sharing_a_domain_in_some_view() {
        use crate::registry::catalog::Registry;
        let svc = |name: &str, ns: &str, vip: &str| {
            let host = format!("{name}.{ns}.svc.cluster.local");
            let mut s = CatalogService::for_test(
                &host,
                name,
                Registry::Kubernetes,
                Resolution::ClientSideLb,
                Vec::new(),
            );
            s.namespace = ns.to_string();
            s.cluster_vips = vec![vip.to_string()];
            s
        };
        let mut external = svc("x", "x", "10.0.0.9");
        external.hostname = "api.b".to_string();
        external.cluster_vips.clear();
        let catalog = Catalog::new(
            vec![
                // The same bare name in two namespaces: never in one view.
                svc("api", "a", "10.0.0.1"),
                svc("api", "b", "10.0.0.2"),
                // One address taken by two services.
                svc("web", "a", "10.0.0.3"),
                svc("db", "a", "10.0.0.3"),
                // A host that is another's `name.namespace`.
                external,
            ],
            Default::default(),
        );
        let f = Focus::new([], [], [], &[(&catalog, &[])]);
        assert_eq!(f.sharing("api.a.svc.cluster.local"), &[] as &[String]);
        assert_eq!(
            f.sharing("web.a.svc.cluster.local"),
            ["db.a.svc.cluster.local"]
        );
        assert_eq!(
            f.sharing("db.a.svc.cluster.local"),
            ["web.a.svc.cluster.local"]
        );
        assert_eq!(f.sharing("api.b"), ["api.b.svc.cluster.local"]);
        assert_eq!(f.sharing("api.b.svc.cluster.local"), ["api.b"]);
    }
}
