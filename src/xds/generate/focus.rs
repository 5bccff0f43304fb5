//! Which hosts a partial generation builds listeners and virtual hosts
//! for: `diff` regenerates a view that only some changed hosts reach, and
//! what the other hosts give is the same on both sides.

use std::collections::{HashMap, HashSet};

use super::scope::{destinations, host_subset};
use crate::registry::catalog::{CatalogService, Resolution};
use crate::registry::config::VirtualServiceEntry;
use crate::registry::config::virtual_services::resolve_short_name;

/// The hosts a partial generation covers: those whose configuration
/// changed, and those whose endpoints changed (a superset).
#[derive(Debug, Default)]
pub struct Focus {
    config: Hosts,
    endpoints: Hosts,
    /// The VirtualServices (names by namespace) that name or route to a
    /// host of `config`: worked out once, every view asks for them.
    virtual_services: HashMap<String, HashSet<String>>,
}

/// A set of hostnames (wildcards allowed), matched both ways: a host is
/// touched when a name of the set covers it or it covers one.
#[derive(Debug, Default)]
struct Hosts {
    exact: HashSet<String>,
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
    /// `config`: the hosts whose services, VirtualServices or
    /// DestinationRules changed; `endpoints`: those whose endpoints did;
    /// `virtual_services`: every VirtualService a view may hold.
    pub fn new<'v>(
        config: impl IntoIterator<Item = String>,
        endpoints: impl IntoIterator<Item = String>,
        virtual_services: impl IntoIterator<Item = &'v VirtualServiceEntry>,
    ) -> Focus {
        let config = Hosts::new(config);
        // A VirtualService's routes may differ when it names a touched
        // host, or routes to one (whose DestinationRule gives its routes
        // their hash policy).
        let touched = |vs: &VirtualServiceEntry| {
            let ns = &vs.meta.namespace;
            vs.spec.hosts.iter().any(|h| config.touch(h))
                || destinations(vs)
                    .iter()
                    .any(|(h, _)| config.touch(&resolve_short_name(h, ns)))
        };
        let mut by_namespace: HashMap<String, HashSet<String>> = HashMap::new();
        for vs in virtual_services.into_iter().filter(|vs| touched(vs)) {
            by_namespace
                .entry(vs.meta.namespace.clone())
                .or_default()
                .insert(vs.meta.name.clone());
        }
        Focus {
            config,
            endpoints: Hosts::new(endpoints),
            virtual_services: by_namespace,
        }
    }

    /// Whether the configuration of `host` (maybe a wildcard) changed.
    pub fn touches(&self, host: &str) -> bool {
        self.config.touch(host)
    }

    /// Whether a VirtualService's routes may differ (any of that name, on
    /// either side).
    pub fn touches_virtual_service(&self, vs: &VirtualServiceEntry) -> bool {
        self.virtual_services
            .get(&vs.meta.namespace)
            .is_some_and(|names| names.contains(&vs.meta.name))
    }

    /// Whether a service's own listeners may differ: its configuration
    /// changed, or the endpoints a headless one listens on.
    pub fn touches_listeners_of(&self, s: &CatalogService) -> bool {
        self.touches(&s.hostname)
            || (s.resolution == Resolution::Passthrough && self.endpoints.touch(&s.hostname))
    }
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
}
