//! Analysis of the input as the API server and istiod would judge it, before
//! any proxy is involved. Reads the loaded documents and the typed model;
//! nothing downstream depends on it.

pub mod validate;
