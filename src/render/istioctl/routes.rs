//! `proxy-config route` (spec §3.3).

use super::{Options, Output, RenderError, encode, management, section_url, table};
use crate::render::gosort::sort_slice;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::ConfigDump;
use crate::xds::route::{RouteConfiguration, RouteMatch};

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    all: bool,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = section!(dump, RoutesConfigDump, else NoSection)?;
    let mut configs: Vec<&RouteConfiguration> = section
        .dynamic_route_configs
        .iter()
        .filter_map(|r| r.route_config.as_ref())
        .chain(
            section
                .static_route_configs
                .iter()
                .filter_map(|r| r.route_config.as_ref()),
        )
        .filter_map(|a| match a {
            Any::RouteConfiguration(r) => Some(&**r),
            _ => None,
        })
        .collect();
    if configs.is_empty() {
        return Err(RenderError::NoRoutes);
    }
    // istioctl's comparator: numeric names by value; any other name is "not less".
    sort_slice(&mut configs, |a, b| {
        match (go_atoi(&a.name), go_atoi(&b.name)) {
            (Some(x), Some(y)) => x < y,
            _ => false,
        }
    });
    configs.retain(|c| opts.name.is_empty() || c.name == opts.name);
    if opts.output != Output::Short {
        return encode(&configs, opts.output, out);
    }
    let prefix = if all { "route/" } else { "" };
    let mut rows = Vec::new();
    if opts.verbose {
        rows.push(
            ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"]
                .map(String::from)
                .to_vec(),
        );
        for rc in &configs {
            let name = format!("{prefix}{}", rc.name);
            for vh in &rc.virtual_hosts {
                let domains = describe_domains(&vh.domains);
                if vh.routes.is_empty() {
                    rows.push(vec![
                        name.clone(),
                        vh.name.clone(),
                        domains.clone(),
                        "/*".into(),
                        "404".into(),
                    ]);
                }
                for route in &vh.routes {
                    let cluster = route.route.as_ref().and_then(|a| a.cluster.as_deref());
                    if cluster == Some("PassthroughCluster") {
                        continue;
                    }
                    rows.push(vec![
                        name.clone(),
                        vh.name.clone(),
                        domains.clone(),
                        describe_match(route.r#match.as_ref()),
                        management(route.metadata.as_ref()),
                    ]);
                }
            }
        }
    } else {
        rows.push(vec!["NAME".into(), "VIRTUAL HOSTS".into()]);
        for rc in &configs {
            rows.push(vec![
                format!("{prefix}{}", rc.name),
                rc.virtual_hosts.len().to_string(),
            ]);
        }
    }
    table(&rows, Params::padding(5), out);
    Ok(())
}

/// Go's `strconv.Atoi`: optional sign and decimal digits, nothing else.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The MATCH cell of a route (also used for inline routes in the listener view).
pub(super) fn describe_match(m: Option<&RouteMatch>) -> String {
    let Some(m) = m else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(p) = m.prefix.as_deref().filter(|p| !p.is_empty()) {
        parts.push(format!("{p}*"));
    }
    if let Some(p) = m.path_separated_prefix.as_deref().filter(|p| !p.is_empty()) {
        parts.push(format!("PathPrefix:{p}"));
    }
    if let Some(p) = m.path.as_deref().filter(|p| !p.is_empty()) {
        parts.push(p.to_string());
    }
    if let Some(r) = &m.safe_regex {
        parts.push(format!("regex {}", r.regex));
    }
    parts.join(" ")
}

/// The DOMAINS cell: short forms of the virtual host's domains.
fn describe_domains(domains: &[String]) -> String {
    match domains {
        [] => return String::new(),
        [one] => return one.clone(),
        _ => {}
    }
    let kept: Vec<&str> = domains
        .iter()
        .map(String::as_str)
        .filter(|d| !d.contains(':') || (d.matches(':').count() > 2 && d.ends_with(']')))
        .collect();
    let shown: Vec<&str> = kept
        .iter()
        .copied()
        .filter(|d| {
            let shorter = [d.strip_suffix(".svc.cluster.local"), d.strip_suffix(".svc")];
            !shorter.into_iter().flatten().any(|s| kept.contains(&s))
        })
        .collect();
    if shown.len() > 2 {
        format!("{}, {} + {} more...", shown[0], shown[1], shown.len() - 2)
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// istioctl's own cases, from ../shared/conformance/istioctl/derived.
    #[test]
    fn domains_match_istioctl() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/conformance/istioctl/derived/describe_route_domains.tsv"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is missing (../shared is not checked out)");
            return;
        };
        for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            let domains: Vec<String> = serde_json::from_str(cols[1]).expect("domains");
            let want = cols.get(2).copied().unwrap_or("");
            assert_eq!(describe_domains(&domains), want, "{}", cols[0]);
        }
    }
}
