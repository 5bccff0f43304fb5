//! Output: istioctl's proxy-config tables, JSON and YAML, and meshsim's own
//! tables. Knows formats, not semantics.

pub mod envoy_bootstrap;
pub mod gojson;
pub mod gosort;
pub mod goyaml;
pub mod istioctl;
pub mod kinds;
pub mod proxies;
pub mod table;
pub mod tabwriter;
pub mod translate;
