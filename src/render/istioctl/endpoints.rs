//! `proxy-config endpoint` (from `/clusters`, spec §3.4) and the hidden
//! `proxy-config eds` (from the dump's EDS §3.5), which is also the
//! ENDPOINTS section of `all`.

use std::borrow::Cow;

use super::{ClusterKey, Options, Output, RenderError, encode, table};
use crate::render::gosort::sort_slice;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::{ClusterStatus, Clusters, ConfigDump, HostStatus};
use crate::xds::core::{Address, Locality};
use crate::xds::endpoint::{ClusterLoadAssignment, LbEndpoint};

struct HostRow<'a> {
    address: String,
    port: u32,
    status: &'a str,
    outlier: &'static str,
    cluster: &'a str,
}

pub(super) fn render_clusters(
    clusters: &Clusters,
    opts: &Options,
    out: &mut String,
) -> Result<(), RenderError> {
    let keep = |r: &HostRow<'_>| {
        (opts.address.is_empty() || r.address.eq_ignore_ascii_case(&opts.address))
            && (opts.port == 0 || r.port == opts.port)
            && (opts.cluster.is_empty() || r.cluster.eq_ignore_ascii_case(&opts.cluster))
            && (opts.status.is_empty() || r.status.eq_ignore_ascii_case(&opts.status))
    };
    if opts.output != Output::Short {
        let kept: Vec<&ClusterStatus> = clusters
            .cluster_statuses
            .iter()
            .filter(|c| c.host_statuses.iter().any(|h| keep(&host_row(c, h))))
            .collect();
        return encode(&kept, opts.output, out);
    }
    let mut rows: Vec<HostRow<'_>> = clusters
        .cluster_statuses
        .iter()
        .flat_map(|c| c.host_statuses.iter().map(move |h| (c, h)))
        .map(|(c, h)| host_row(c, h))
        .filter(|r| keep(r))
        .collect();
    sort_slice(&mut rows, |a, b| {
        if a.address != b.address {
            return a.address < b.address;
        }
        if a.port != b.port {
            return a.port < b.port;
        }
        a.cluster < b.cluster
    });
    let mut table_rows = vec![
        ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
            .map(String::from)
            .to_vec(),
    ];
    for r in rows {
        let endpoint = if r.port != 0 {
            format!("{}:{}", r.address, r.port)
        } else {
            r.address
        };
        table_rows.push(vec![
            endpoint,
            r.status.to_string(),
            r.outlier.to_string(),
            r.cluster.to_string(),
        ]);
    }
    table(&table_rows, Params::padding(5), out);
    Ok(())
}

fn host_row<'a>(c: &'a ClusterStatus, h: &'a HostStatus) -> HostRow<'a> {
    let addr = h.address.as_ref();
    let socket = addr.and_then(|a| a.socket_address.as_ref());
    let address = if let Some(s) = socket {
        s.address.clone()
    } else if let Some(p) = addr.and_then(|a| a.pipe.as_ref()) {
        format!("unix://{}", p.path)
    } else if let Some(i) = addr.and_then(|a| a.envoy_internal_address.as_ref()) {
        format!("envoy://{}/{}", i.server_listener_name, i.endpoint_id)
    } else {
        "unknown".to_string()
    };
    let health = h.health_status.as_ref();
    HostRow {
        address,
        port: socket.map(|s| s.port_value).unwrap_or(0),
        status: health
            .map(|s| s.eds_health_status.name())
            .unwrap_or("UNKNOWN"),
        outlier: if health.is_some_and(|s| s.failed_outlier_check) {
            "FAILED"
        } else {
            "OK"
        },
        cluster: &c.name,
    }
}

pub(super) fn render_eds(
    dump: &ConfigDump,
    opts: &Options,
    all: bool,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = section!(dump, EndpointsConfigDump);
    // Keys parsed once, not on every comparison; an assignment is copied
    // only when the filters drop some of its hosts.
    let mut keyed: Vec<(ClusterKey, Cow<ClusterLoadAssignment>)> = section
        .into_iter()
        .flat_map(|s| {
            let dynamic = s
                .dynamic_endpoint_configs
                .iter()
                .filter_map(|e| e.endpoint_config.as_ref());
            dynamic.chain(
                s.static_endpoint_configs
                    .iter()
                    .filter_map(|e| e.endpoint_config.as_ref()),
            )
        })
        .filter_map(|a| match a {
            Any::ClusterLoadAssignment(c) => Some(&**c),
            _ => None,
        })
        .filter_map(|read| {
            let name = &read.cluster_name;
            let keep = |e: &LbEndpoint| keep_eds(e, name, opts);
            let mut cla = Cow::Borrowed(read);
            if !read
                .endpoints
                .iter()
                .all(|l| l.lb_endpoints.iter().all(keep))
            {
                for locality in &mut cla.to_mut().endpoints {
                    locality.lb_endpoints.retain(keep);
                }
            }
            cla.endpoints
                .iter()
                .any(|l| !l.lb_endpoints.is_empty())
                .then(|| (ClusterKey::parse(name), cla))
        })
        .collect();
    sort_slice(&mut keyed, |a, b| a.0.less(&b.0));
    let assignments: Vec<Cow<ClusterLoadAssignment>> =
        keyed.into_iter().map(|(_, cla)| cla).collect();
    if opts.output != Output::Short {
        return encode(&assignments, opts.output, out);
    }
    let prefix = if all { "endpoint/" } else { "" };
    let mut rows = vec![
        ["NAME", "STATUS", "LOCALITY", "CLUSTER"]
            .map(String::from)
            .to_vec(),
    ];
    for cla in &assignments {
        for locality in &cla.endpoints {
            for e in &locality.lb_endpoints {
                rows.push(vec![
                    format!("{prefix}{}", eds_addresses(e).join(",")),
                    e.health_status.name().to_string(),
                    describe_locality(locality.locality.as_ref()),
                    cla.cluster_name.clone(),
                ]);
            }
        }
    }
    table(&rows, Params::padding(5), out);
    Ok(())
}

fn eds_address(a: Option<&Address>) -> String {
    let Some(a) = a else {
        return "unknown".into();
    };
    if let Some(s) = &a.socket_address {
        format!("{}:{}", s.address, s.port_value)
    } else if let Some(p) = &a.pipe {
        p.path.clone()
    } else if let Some(i) = &a.envoy_internal_address {
        format!("envoy://{}/{}", i.server_listener_name, i.endpoint_id)
    } else {
        "unknown".into()
    }
}

fn eds_addresses(e: &LbEndpoint) -> Vec<String> {
    let Some(endpoint) = &e.endpoint else {
        return vec!["unknown".into()];
    };
    std::iter::once(eds_address(endpoint.address.as_ref()))
        .chain(
            endpoint
                .additional_addresses
                .iter()
                .map(|a| eds_address(a.address.as_ref())),
        )
        .collect()
}

fn keep_eds(e: &LbEndpoint, cluster: &str, opts: &Options) -> bool {
    let port = e
        .endpoint
        .as_ref()
        .and_then(|x| x.address.as_ref()?.socket_address.as_ref())
        .map(|s| s.port_value)
        .unwrap_or(0);
    (opts.address.is_empty()
        || eds_addresses(e)
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&opts.address)))
        && (opts.port == 0 || port == opts.port)
        && (opts.cluster.is_empty() || cluster.eq_ignore_ascii_case(&opts.cluster))
        && (opts.status.is_empty() || e.health_status.name().eq_ignore_ascii_case(&opts.status))
}

fn describe_locality(l: Option<&Locality>) -> String {
    match l {
        None => String::new(),
        Some(l) if l.zone.is_empty() => l.region.clone(),
        Some(l) if l.sub_zone.is_empty() => format!("{}/{}", l.region, l.zone),
        Some(l) => format!("{}/{}/{}", l.region, l.zone, l.sub_zone),
    }
}
