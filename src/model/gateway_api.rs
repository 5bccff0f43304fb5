//! Gateway API kinds (standard and experimental channels of v1.6) and the
//! Inference Extension's InferencePool, as their CRDs serve them.
