//! The SidecarScope: what one proxy sees (istiod-sidecar.md §3): its Sidecar
//! resource, the services and VirtualServices of each egress listener, the
//! services that get clusters, and the outbound traffic policy.

use crate::registry::catalog::{CatalogService, Port};
use crate::registry::config::{SidecarEntry, VirtualServiceEntry};
use crate::registry::protocol::Protocol;

/// A service as one egress listener (or CDS) sees it: possibly trimmed to
/// some ports.
#[derive(Debug, Clone)]
pub struct ScopedService<'a> {
    pub service: &'a CatalogService,
    pub ports: Vec<Port>,
}

/// What happens to traffic to unknown destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundMode {
    AllowAny,
    RegistryOnly,
}

/// One egress listener of the Sidecar (or the implicit `*/*` one).
#[derive(Debug, Clone)]
pub struct EgressListener<'a> {
    /// The Sidecar's port for this listener; None for the catch-all.
    pub port: Option<EgressPort>,
    pub bind: Option<String>,
    /// `captureMode: NONE`.
    pub capture_none: bool,
    pub services: Vec<ScopedService<'a>>,
    pub virtual_services: Vec<&'a VirtualServiceEntry>,
}

#[derive(Debug, Clone)]
pub struct EgressPort {
    pub number: u16,
    pub protocol: Protocol,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct SidecarScope<'a> {
    pub sidecar: Option<&'a SidecarEntry>,
    /// Ported listeners first as written, the catch-all last.
    pub egress: Vec<EgressListener<'a>>,
    /// Services that get outbound clusters: every egress listener's services
    /// plus VirtualService destinations, one per hostname (§3.5, §3.6).
    pub cds_services: Vec<ScopedService<'a>>,
    pub outbound_mode: OutboundMode,
}
