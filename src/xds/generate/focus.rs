//! Which hosts a partial generation builds listeners and virtual hosts
//! for: `diff` regenerates a view that only some changed hosts reach, and
//! what the other hosts give is the same on both sides.

use std::collections::HashSet;

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
    /// DestinationRules changed; `endpoints`: those whose endpoints did.
    pub fn new(
        config: impl IntoIterator<Item = String>,
        endpoints: impl IntoIterator<Item = String>,
    ) -> Focus {
        Focus {
            config: Hosts::new(config),
            endpoints: Hosts::new(endpoints),
        }
    }

    /// Whether the configuration of `host` (maybe a wildcard) changed.
    pub fn touches(&self, host: &str) -> bool {
        self.config.touch(host)
    }

    /// Whether a VirtualService's routes may differ: it names a touched
    /// host, or routes to one (whose DestinationRule gives its routes their
    /// hash policy).
    pub fn touches_virtual_service(&self, vs: &VirtualServiceEntry) -> bool {
        let ns = &vs.meta.namespace;
        vs.spec.hosts.iter().any(|h| self.touches(h))
            || destinations(vs)
                .iter()
                .any(|(h, _)| self.touches(&resolve_short_name(h, ns)))
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
