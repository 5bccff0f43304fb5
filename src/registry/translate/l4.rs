//! TCPRoute and TLSRoute rules → VirtualService tcp and tls routes
//! (istiod-gateway-security.md §2.7; istiod's `convertTCPRoute`,
//! `convertTLSRoute`, `buildTCPDestination`).

use super::Ctx;
use super::backends;
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
    let built = backends::weighted_destinations(
        ctx,
        &rule.backend_refs,
        route.namespace(),
        enforce,
        route.info.kind,
        |_, destination, weight| {
            Ok(RouteDestination {
                destination,
                weight,
            })
        },
    );
    match built {
        Ok((routes, soft)) => (Some(routes), soft),
        Err(e) => (None, Some(e)),
    }
}
