//! TCPRoute and TLSRoute rules → VirtualService tcp and tls routes
//! (istiod-gateway-security.md §2.7; istiod's `convertTCPRoute`,
//! `convertTLSRoute`, `buildTCPDestination`).

use super::Ctx;
use super::backends::{self, BackendRef};
use super::conditions::ConfigError;
use crate::model::Object;
use crate::model::gateway_api::L4RouteRule;
use crate::model::istio::{Destination, PortSelector, RouteDestination};

/// A rule's destinations (none on a hard error) and the error to report.
pub(crate) fn destinations(
    ctx: &Ctx,
    route: &Object,
    rule: &L4RouteRule,
    enforce: bool,
) -> (Option<Vec<RouteDestination>>, Option<ConfigError>) {
    let sum: i32 = rule
        .backend_refs
        .iter()
        .map(|b| b.weight.unwrap_or(1))
        .sum();
    if sum == 0 {
        // istiod's black hole: a cluster that does not exist resets the connection.
        let dst = Destination {
            host: "internal.cluster.local".to_string(),
            subset: Some("zero-weight".to_string()),
            port: Some(PortSelector {
                number: Some(65535),
            }),
        };
        return (
            Some(vec![RouteDestination {
                destination: dst,
                weight: None,
            }]),
            None,
        );
    }
    let kept: Vec<_> = rule
        .backend_refs
        .iter()
        .filter(|b| b.weight.unwrap_or(1) != 0)
        .collect();
    let lone = kept.len() == 1;
    let mut soft = None;
    let mut out = Vec::new();
    for b in kept {
        let to = BackendRef::from(b);
        let (dst, err) =
            backends::destination(ctx, to, route.namespace(), enforce, route.info.kind);
        if let Some(e) = err {
            if backends::is_soft(&e) {
                soft = Some(e);
            } else {
                return (None, Some(e));
            }
        }
        out.push(RouteDestination {
            destination: dst.unwrap_or_default(),
            weight: if lone { None } else { b.weight.or(Some(1)) },
        });
    }
    (Some(out), soft)
}
