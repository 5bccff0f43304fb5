//! Envoy configuration types (v3), as istiod pushes them and as Envoy's
//! admin `/config_dump` and `/clusters?format=json` print them.
//!
//! Each type reads proto-JSON in either field spelling (Envoy's snake_case or
//! lowerCamelCase) and writes lowerCamelCase in proto declaration order, the
//! form istioctl prints. Only the fields meshsim looks at are modelled; the
//! rest of every message is kept verbatim ([`proto::Unknown`]), so a dump
//! survives a round trip. All types are plain structs with `Default`, so the
//! generator can build them field by field.

pub mod admin;
pub mod any;
pub mod cluster;
pub mod core;
pub mod endpoint;
pub mod generate;
pub mod listener;
pub mod proto;
pub mod route;
pub mod secret;

pub use admin::{Clusters, ConfigDump};
pub use any::Any;

/// Why an input is not an Envoy dump.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("error unmarshalling config dump response from Envoy: {0}")]
    Parse(#[from] serde_json::Error),
}

impl ConfigDump {
    /// Read a `/config_dump` JSON text.
    pub fn from_json(text: &str) -> Result<ConfigDump, DumpError> {
        Ok(serde_json::from_str(text)?)
    }
}

impl Clusters {
    /// Read a `/clusters?format=json` JSON text.
    pub fn from_json(text: &str) -> Result<Clusters, DumpError> {
        Ok(serde_json::from_str(text)?)
    }
}
