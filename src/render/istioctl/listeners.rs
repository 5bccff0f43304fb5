//! `proxy-config listener` (spec §3.2).

use std::borrow::Cow;

use super::{Options, Output, RenderError, encode, section_url, table};
use crate::render::gosort::sort_slice;
use crate::render::tabwriter::Params;
use crate::xds::Any;
use crate::xds::admin::ConfigDump;
use crate::xds::listener::{
    FilterChain, FilterChainMatch, HTTP_CONNECTION_MANAGER, HttpConnectionManager, Listener,
    TCP_PROXY, TcpProxy,
};
use crate::xds::route::RouteConfiguration;

/// A listener with the values istioctl derives from it.
struct Row<'a> {
    listener: &'a Listener,
    address: &'a str,
    addresses: String,
    port: u32,
    r#type: &'static str,
}

pub(super) fn render(
    dump: &ConfigDump,
    opts: &Options,
    all: bool,
    out: &mut String,
) -> Result<(), RenderError> {
    let section = section!(dump, ListenersConfigDump, else NoListenerSection)?;
    let listeners: Vec<&Listener> = section
        .dynamic_listeners
        .iter()
        .filter_map(|d| d.active_state.as_ref()?.listener.as_ref())
        .chain(
            section
                .static_listeners
                .iter()
                .filter_map(|s| s.listener.as_ref()),
        )
        .filter_map(|a| match a {
            Any::Listener(l) => Some(&**l),
            _ => None,
        })
        .collect();
    if listeners.is_empty() {
        return Err(RenderError::NoListeners);
    }
    let mut rows: Vec<Row<'_>> = listeners.iter().map(|l| derive(l)).collect();
    rows.retain(|r| keep(r, opts));
    if opts.output != Output::Short {
        // Dump order, not sorted.
        let kept: Vec<&Listener> = rows.iter().map(|r| r.listener).collect();
        return encode(&kept, opts.output, out);
    }
    sort_slice(&mut rows, |a, b| {
        if a.port != b.port {
            return a.port < b.port;
        }
        if a.address != b.address {
            return a.address < b.address;
        }
        a.r#type < b.r#type
    });
    let mut table_rows = Vec::new();
    let mut header: Vec<String> = if opts.verbose {
        vec![
            "ADDRESSES".into(),
            "PORT".into(),
            "MATCH".into(),
            "DESTINATION".into(),
        ]
    } else {
        vec!["ADDRESSES".into(), "PORT".into(), "TYPE".into()]
    };
    if all {
        header.insert(0, "NAME".into());
    }
    table_rows.push(header);
    for row in &rows {
        let name = format!("listener/{}", row.listener.name);
        if opts.verbose {
            let mut pairs: Vec<(String, String)> = chains(row.listener)
                .map(|c| {
                    (
                        describe_match(c.filter_chain_match.as_ref()),
                        destination(c),
                    )
                })
                .collect();
            sort_slice(&mut pairs, |a, b| a.1 > b.1);
            for (m, d) in pairs {
                let mut cells = vec![row.addresses.clone(), row.port.to_string(), m, d];
                if all {
                    cells.insert(0, name.clone());
                }
                table_rows.push(cells);
            }
        } else {
            let mut cells = vec![
                row.addresses.clone(),
                row.port.to_string(),
                row.r#type.to_string(),
            ];
            if all {
                cells.insert(0, name);
            }
            table_rows.push(cells);
        }
    }
    table(&table_rows, Params::padding(1), out);
    Ok(())
}

fn chains(l: &Listener) -> impl Iterator<Item = &FilterChain> {
    l.filter_chains
        .iter()
        .chain(l.default_filter_chain.as_ref())
}

fn derive(l: &Listener) -> Row<'_> {
    let socket = l.address.as_ref().and_then(|a| a.socket_address.as_ref());
    let address = match (socket, l.address.as_ref().and_then(|a| a.pipe.as_ref())) {
        (Some(s), _) => s.address.as_str(),
        (None, Some(p)) => p.path.as_str(),
        _ => "",
    };
    let mut addresses = address.to_string();
    for extra in &l.additional_addresses {
        addresses.push(',');
        let a = extra
            .address
            .as_ref()
            .and_then(|a| a.socket_address.as_ref());
        addresses.push_str(a.map(|s| s.address.as_str()).unwrap_or(""));
    }
    let (mut http, mut tcp) = (0, 0);
    for filter in chains(l).flat_map(|c| &c.filters) {
        if filter.name == HTTP_CONNECTION_MANAGER {
            http += 1;
        } else if filter.name == TCP_PROXY
            && tcp_proxy(filter.typed_config.as_ref()).is_some_and(|t| !t.mentions_blackhole())
        {
            tcp += 1;
        }
    }
    let r#type = match (http > 0, tcp > 0) {
        (true, false) => "HTTP",
        (true, true) => "HTTP+TCP",
        (false, true) => "TCP",
        (false, false) => "UNKNOWN",
    };
    Row {
        listener: l,
        address,
        addresses,
        port: socket.map(|s| s.port_value).unwrap_or(0),
        r#type,
    }
}

fn keep(r: &Row<'_>, opts: &Options) -> bool {
    if !opts.address.is_empty() {
        let extra = r.listener.additional_addresses.iter().filter_map(|a| {
            a.address
                .as_ref()?
                .socket_address
                .as_ref()
                .map(|s| s.address.as_str())
        });
        if !std::iter::once(r.address)
            .chain(extra)
            .any(|a| a.eq_ignore_ascii_case(&opts.address))
        {
            return false;
        }
    }
    (opts.port == 0 || r.port == opts.port)
        && (opts.r#type.is_empty() || r.r#type.eq_ignore_ascii_case(&opts.r#type))
}

fn tcp_proxy(config: Option<&Any>) -> Option<Cow<'_, TcpProxy>> {
    match config? {
        Any::TcpProxy(t) => Some(Cow::Borrowed(&**t)),
        Any::Other { fields, .. } => fields.reparse().ok().map(Cow::Owned),
        _ => None,
    }
}

fn http_connection_manager(config: Option<&Any>) -> Result<Cow<'_, HttpConnectionManager>, String> {
    match config {
        Some(Any::HttpConnectionManager(h)) => Ok(Cow::Borrowed(&**h)),
        Some(Any::Other { fields, .. }) => {
            fields.reparse().map(Cow::Owned).map_err(|e| e.to_string())
        }
        Some(other) => Err(format!("unexpected type {}", other.type_url())),
        None => Ok(Cow::Owned(HttpConnectionManager::default())),
    }
}

/// The MATCH cell of a filter chain.
fn describe_match(m: Option<&FilterChainMatch>) -> String {
    let Some(m) = m else {
        return "ALL".into();
    };
    let mut parts = Vec::new();
    if !m.server_names.is_empty() {
        parts.push(format!("SNI: {}", m.server_names.join(",")));
    }
    if !m.transport_protocol.is_empty() {
        parts.push(format!("Trans: {}", m.transport_protocol));
    }
    if !m.application_protocols.is_empty() {
        let joined = m.application_protocols.join(",");
        let named = match joined.as_str() {
            "http/1.0,http/1.1,h2c,istio-http/1.0,istio-http/1.1,istio-h2" => "HTTP TLS",
            "istio,istio-http/1.0,istio-http/1.1,istio-h2" => "Istio HTTP Plain",
            "istio-peer-exchange,istio" => "TCP TLS",
            "http/1.0,http/1.1,h2c" => "HTTP",
            other => other,
        };
        parts.push(format!("App: {named}"));
    }
    let port = m
        .destination_port
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    if !m.prefix_ranges.is_empty() {
        let ranges: Vec<String> = m
            .prefix_ranges
            .iter()
            .map(|r| format!("{}/{}", r.address_prefix, r.prefix_len.unwrap_or(0)))
            .collect();
        parts.push(format!("Addr: {}{port}", ranges.join(",")));
    } else if !port.is_empty() {
        parts.push(format!("Addr: *{port}"));
    }
    if parts.is_empty() {
        "ALL".into()
    } else {
        parts.join("; ")
    }
}

/// The DESTINATION cell of a filter chain.
fn destination(chain: &FilterChain) -> String {
    for filter in &chain.filters {
        if filter.name == HTTP_CONNECTION_MANAGER {
            return match http_connection_manager(filter.typed_config.as_ref()) {
                Ok(h) => match (&h.route_config, &h.rds) {
                    (Some(rc), _) => describe_inline(rc),
                    (None, Some(rds)) if !rds.route_config_name.is_empty() => {
                        format!("Route: {}", rds.route_config_name)
                    }
                    _ => "HTTP".into(),
                },
                Err(e) => e,
            };
        }
        if filter.name == TCP_PROXY
            && let Some(t) = tcp_proxy(filter.typed_config.as_ref())
            && !t.mentions_blackhole()
        {
            return cluster_cell(t.cluster.as_deref().unwrap_or(""));
        }
    }
    "Non-HTTP/Non-TCP".into()
}

fn cluster_cell(cluster: &str) -> String {
    if cluster.contains("Cluster") {
        cluster.to_string()
    } else {
        format!("Cluster: {cluster}")
    }
}

fn describe_inline(rc: &RouteConfiguration) -> String {
    if let [vh] = rc.virtual_hosts.as_slice()
        && vh.domains == ["*"]
        && let [route] = vh.routes.as_slice()
        && route.r#match.as_ref().and_then(|m| m.prefix.as_deref()) == Some("/")
        && let Some(cluster) = route.route.as_ref().and_then(|a| a.cluster.as_deref())
    {
        return cluster_cell(cluster);
    }
    let hosts: Vec<String> = rc
        .virtual_hosts
        .iter()
        .map(|vh| {
            let routes: Vec<String> = vh
                .routes
                .iter()
                .map(|r| super::routes::describe_match(r.r#match.as_ref()))
                .collect();
            let routes = routes.join(", ");
            if vh.domains == ["*"] {
                routes
            } else {
                format!("{} {routes}", vh.domains.join("/"))
            }
        })
        .collect();
    format!("Inline Route: {}", hosts.join("; "))
}
