//! `proxy-config cluster` (spec §3.1).

use super::{ClusterKey, Options, Output, RenderError, encode, management, section_url, table};
use crate::render::gosort::sort_slice;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::ConfigDump;
use crate::xds::cluster::Cluster;

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    all: bool,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = section!(dump, ClustersConfigDump, else NoSection)?;
    // Keys parsed once, not on every comparison.
    let mut keyed: Vec<(ClusterKey, &Cluster)> = section
        .dynamic_active_clusters
        .iter()
        .filter_map(|c| c.cluster.as_ref())
        .chain(
            section
                .static_clusters
                .iter()
                .filter_map(|c| c.cluster.as_ref()),
        )
        .filter_map(|a| match a {
            Any::Cluster(c) => Some((ClusterKey::parse(&c.name), &**c)),
            _ => None,
        })
        .collect();
    if keyed.is_empty() {
        return Err(RenderError::NoClusters);
    }
    sort_slice(&mut keyed, |a, b| a.0.less(&b.0));
    let mut clusters: Vec<&Cluster> = keyed.into_iter().map(|(_, c)| c).collect();
    clusters.retain(|c| keep(c, opts));
    if opts.output != Output::Short {
        return encode(&clusters, opts.output, out);
    }
    let mut rows = Vec::with_capacity(clusters.len() + 1);
    let mut header: Vec<String> = [
        "SERVICE FQDN",
        "PORT",
        "SUBSET",
        "DIRECTION",
        "TYPE",
        "DESTINATION RULE",
    ]
    .map(String::from)
    .to_vec();
    if all {
        header.insert(0, "NAME".into());
    }
    rows.push(header);
    for c in clusters {
        let key = ClusterKey::parse(&c.name);
        let r#type = if c.cluster_type.is_some() {
            "STATIC"
        } else {
            c.r#type.name()
        };
        let mut row = if key.parsed {
            let subset = if key.subset.is_empty() {
                "-"
            } else {
                key.subset
            };
            vec![
                key.host.to_string(),
                key.port.to_string(),
                subset.into(),
                key.direction.into(),
            ]
        } else {
            let shown = if all {
                format!("cluster/{}", c.name)
            } else {
                c.name.clone()
            };
            vec![shown, "-".into(), "-".into(), "-".into()]
        };
        row.push(r#type.to_string());
        row.push(management(c.metadata.as_ref()));
        // istioctl leaves the NAME cell out for a plain cluster without a name.
        if all && (key.parsed || !c.name.is_empty()) {
            row.insert(0, format!("cluster/{}", c.name));
        }
        rows.push(row);
    }
    table(&rows, Params::padding(5), out);
    Ok(())
}

fn keep(c: &Cluster, opts: &Options) -> bool {
    (opts.fqdn.is_empty() || c.name.contains(&opts.fqdn))
        && (opts.direction.is_empty() || c.name.contains(&opts.direction))
        && (opts.subset.is_empty() || c.name.contains(&opts.subset))
        && (opts.port == 0 || c.name.contains(&format!("|{}|", opts.port)))
}
