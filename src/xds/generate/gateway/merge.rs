//! The servers of every Gateway that applies to a gateway proxy, merged
//! into listener ports as istiod merges them (istiod-gateway-security.md
//! §1.2-§1.4): service ports resolved to container ports, conflicting
//! servers dropped in config order, route names assigned.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::istio::Server;
use crate::registry::config::GatewayEntry;
use crate::registry::config::gateways::Selected;
use crate::registry::protocol::Protocol;

use super::super::Proxy;
use super::super::inbound::ServiceTarget;

/// One server of one gateway, as the listener and route builders read it.
#[derive(Debug, Clone)]
pub struct MergedServer<'a> {
    pub gateway: &'a GatewayEntry,
    pub server: &'a Server,
    /// `ns/name` of the gateway, as VirtualServices name it.
    pub gateway_name: String,
    pub protocol: Protocol,
    /// The server's own port number (not the resolved container port).
    pub port: u16,
    /// SNI hosts (namespaces stripped, sorted, unique) when it has TLS.
    pub sni_hosts: Vec<String>,
    /// Its HTTPS route name (`https.443.name.gw.ns`), or "" when none.
    pub tls_route: String,
}

impl MergedServer<'_> {
    pub fn tls_mode(&self) -> Option<&str> {
        self.server
            .tls
            .as_ref()
            .map(|t| t.mode.as_deref().unwrap_or("PASSTHROUGH"))
    }

    /// PASSTHROUGH or AUTO_PASSTHROUGH (an unset mode is PASSTHROUGH).
    pub fn passthrough(&self) -> bool {
        matches!(self.tls_mode(), Some("PASSTHROUGH" | "AUTO_PASSTHROUGH"))
    }

    /// TLS set on a non-HTTP server (HTTP servers' TLS is only a redirect).
    fn is_tls_server(&self) -> bool {
        self.server.tls.is_some() && !self.protocol.is_http()
    }

    /// Served by an HTTP connection manager.
    pub fn is_http(&self) -> bool {
        self.protocol.is_http() || (self.protocol == Protocol::Https && !self.passthrough())
    }

    pub fn https_redirect(&self) -> bool {
        self.server
            .tls
            .as_ref()
            .is_some_and(|t| t.https_redirect == Some(true))
    }
}

/// A listener port's servers.
#[derive(Debug)]
pub struct PortServers {
    /// The resolved (container) port Envoy listens on.
    pub port: u16,
    /// The protocol of the server that opened the port.
    pub protocol: Protocol,
    pub bind: String,
    /// Indexes into [`Merged::servers`], in merge order.
    pub servers: Vec<usize>,
    /// The shared HTTP route name of plaintext HTTP servers.
    pub route_name: String,
}

#[derive(Debug, Default)]
pub struct Merged<'a> {
    pub servers: Vec<MergedServer<'a>>,
    /// Listener ports in the order they were opened.
    pub ports: Vec<PortServers>,
    /// Servers behind each HTTP route name.
    pub by_route: BTreeMap<String, Vec<usize>>,
    /// Some server does AUTO_PASSTHROUGH.
    pub auto_passthrough: bool,
    /// `kubernetes-gateway://` credentials this proxy may read.
    pub verified_credentials: BTreeSet<String>,
}

/// Merge the servers of `selected` (in config order) for `proxy`.
pub fn merge<'a>(
    proxy: &Proxy,
    selected: &[Selected<'a>],
    targets: &[ServiceTarget],
) -> Merged<'a> {
    let mut m = Merged::default();
    let mut opened: BTreeSet<u16> = BTreeSet::new();
    // A plaintext port's key (its first server's protocol and bind).
    let mut plaintext: BTreeMap<u16, (Protocol, String)> = BTreeMap::new();
    // TLS hosts claimed per port, with their bind.
    let mut tls_hosts = ClaimedHosts::new();
    for sel in selected {
        let g = sel.gateway;
        // A Gateway API gateway's credentials are the proxy's own only when
        // the proxy runs in its namespace as its service account.
        let identity_verified = proxy.namespace == g.service_namespace
            && g.service_account
                .as_ref()
                .is_none_or(|sa| *sa == proxy.service_account);
        for server in &g.servers {
            let Some(port) = server
                .port
                .as_ref()
                .and_then(|p| p.number)
                .and_then(|n| u16::try_from(n).ok())
            else {
                continue;
            };
            let protocol = Protocol::parse(
                server
                    .port
                    .as_ref()
                    .and_then(|p| p.protocol.as_deref())
                    .unwrap_or(""),
            );
            let bind = server.bind.clone().unwrap_or_default();
            let mut ms = MergedServer {
                gateway: g,
                server,
                gateway_name: g.full_name(),
                protocol,
                port,
                sni_hosts: Vec::new(),
                tls_route: String::new(),
            };
            if identity_verified {
                verify_credentials(&ms, g, &mut m.verified_credentials);
            }
            for resolved in resolve_ports(port, targets, sel.by_service) {
                let route = route_name(&ms, resolved, g);
                if server.tls.is_some() {
                    if !claim_hosts(&mut tls_hosts, resolved, &server.hosts, &bind) {
                        // istiod: "duplicate host names", the server is skipped.
                        continue;
                    }
                    let sni: BTreeSet<String> = server
                        .hosts
                        .iter()
                        .map(|h| h.split_once('/').map_or(h.as_str(), |(_, h)| h).to_string())
                        .collect();
                    ms.sni_hosts = sni.into_iter().collect();
                    ms.tls_route = route.clone();
                    if ms.tls_mode() == Some("AUTO_PASSTHROUGH") {
                        m.auto_passthrough = true;
                    }
                }
                let key = (resolved, protocol, bind.clone());
                if opened.insert(resolved) {
                    m.open(&ms, key, route, &mut plaintext);
                    continue;
                }
                if let Some((current_protocol, current_bind)) = plaintext.get(&resolved).cloned() {
                    let mergeable = (protocol.is_http() || protocol == current_protocol)
                        && current_protocol.is_http();
                    if current_bind == bind && (!mergeable || route.is_empty()) {
                        // istiod: "conflict with existing server".
                        continue;
                    }
                    let target = if current_bind == bind {
                        (resolved, current_protocol, current_bind)
                    } else {
                        key
                    };
                    match m.port_index(&target) {
                        Some(i) => {
                            // Same route name: it embeds port and bind.
                            let id = m.push_server(&ms);
                            m.ports[i].servers.push(id);
                            m.by_route.entry(route).or_default().push(id);
                        }
                        None => m.open(&ms, target, route, &mut plaintext),
                    }
                    continue;
                }
                if !ms.is_tls_server() {
                    m.open(&ms, key, route, &mut plaintext);
                    continue;
                }
                // Another TLS server on a TLS port: told apart by SNI.
                if ms.is_http() && (route.is_empty() || m.by_route.contains_key(&route)) {
                    continue;
                }
                let id = m.push_server(&ms);
                if ms.is_http() {
                    m.by_route.insert(route, vec![id]);
                }
                match m.port_index(&key) {
                    Some(i) => m.ports[i].servers.push(id),
                    None => m.ports.push(PortServers {
                        port: resolved,
                        protocol,
                        bind: bind.clone(),
                        servers: vec![id],
                        route_name: String::new(),
                    }),
                }
            }
        }
    }
    m
}

impl<'a> Merged<'a> {
    /// istiod's `addPlainTextServer`: a new listener key for the server.
    fn open(
        &mut self,
        ms: &MergedServer<'a>,
        (port, protocol, bind): (u16, Protocol, String),
        route: String,
        plaintext: &mut BTreeMap<u16, (Protocol, String)>,
    ) {
        if !ms.is_tls_server() {
            plaintext.insert(port, (protocol, bind.clone()));
        }
        let id = self.push_server(ms);
        if ms.is_http() {
            self.by_route.insert(route.clone(), vec![id]);
        }
        self.ports.push(PortServers {
            port,
            protocol,
            bind,
            servers: vec![id],
            route_name: route,
        });
    }

    fn port_index(&self, (port, protocol, bind): &(u16, Protocol, String)) -> Option<usize> {
        self.ports
            .iter()
            .position(|p| p.port == *port && p.protocol == *protocol && p.bind == *bind)
    }

    fn push_server(&mut self, s: &MergedServer<'a>) -> usize {
        self.servers.push(s.clone());
        self.servers.len() - 1
    }
}

/// Hosts claimed per listener port, with the bind that claimed them.
pub type ClaimedHosts = BTreeMap<u16, BTreeMap<String, String>>;

/// istiod's `CheckDuplicates`: claim `hosts` on `port` for `bind`, unless
/// one of them is already claimed there with the same bind (then nothing
/// is claimed and the caller skips what asked). Envoy rejects two chains
/// with the same SNI match.
pub fn claim_hosts(claimed: &mut ClaimedHosts, port: u16, hosts: &[String], bind: &str) -> bool {
    let known = claimed.entry(port).or_default();
    if hosts
        .iter()
        .any(|h| known.get(h).is_some_and(|b| b == bind))
    {
        return false;
    }
    for h in hosts {
        known.insert(h.clone(), bind.to_string());
    }
    true
}

/// istiod's `resolvePorts`: the container port(s) a server port maps to
/// through the proxy's services. By selector, the first service with that
/// port decides, and a port no service has is used as written; through the
/// gateway's own services, every mapping counts and no mapping means no
/// listener.
fn resolve_ports(number: u16, targets: &[ServiceTarget], by_service: bool) -> Vec<u16> {
    let mut out: BTreeSet<u16> = BTreeSet::new();
    for t in targets {
        if t.port.port == number {
            if !by_service {
                return vec![t.target_port];
            }
            out.insert(t.target_port);
        }
    }
    if out.is_empty() && !by_service {
        return vec![number];
    }
    out.into_iter().collect()
}

/// `http.<resolved port>` for HTTP servers, `https.<port>.<port name>.<gw>.<ns>`
/// for terminated HTTPS, "" otherwise; `.<bind>` appended when bound.
fn route_name(s: &MergedServer, resolved: u16, g: &GatewayEntry) -> String {
    let bind = s
        .server
        .bind
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| format!(".{b}"))
        .unwrap_or_default();
    if s.protocol.is_http() {
        format!("http.{resolved}{bind}")
    } else if s.protocol == Protocol::Https && !s.passthrough() {
        let name = s
            .server
            .port
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .unwrap_or("");
        format!(
            "https.{}.{name}.{}.{}{bind}",
            s.port, g.meta.name, g.meta.namespace
        )
    } else {
        String::new()
    }
}

/// Record the `kubernetes-gateway://` credentials of a server the proxy may
/// read: those in its own namespace (ReferenceGrants are checked when the
/// Gateway API is translated).
fn verify_credentials(s: &MergedServer, g: &GatewayEntry, out: &mut BTreeSet<String>) {
    let Some(tls) = &s.server.tls else { return };
    let mut names: Vec<&str> = tls.credential_names.iter().map(String::as_str).collect();
    if names.is_empty() {
        names.extend(tls.credential_name.as_deref());
    }
    let mutual = matches!(tls.mode.as_deref(), Some("MUTUAL" | "OPTIONAL_MUTUAL"));
    for cn in names
        .into_iter()
        .chain(tls.ca_cert_credential_name.as_deref())
    {
        let Some(rest) = cn.strip_prefix("kubernetes-gateway://") else {
            continue;
        };
        let ns = rest
            .split_once('/')
            .map_or(g.meta.namespace.as_str(), |(ns, _)| ns);
        if ns == g.meta.namespace || g.service_namespace != g.meta.namespace {
            out.insert(cn.to_string());
            if mutual {
                out.insert(format!("{cn}-cacert"));
            }
        }
    }
}
