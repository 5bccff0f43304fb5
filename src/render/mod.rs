//! Output: istioctl's proxy-config tables, JSON and YAML, and meshsim's own
//! tables. Knows formats, not semantics.

pub mod kinds;
pub mod proxies;
pub mod table;
pub mod gosort;
pub mod tabwriter;
