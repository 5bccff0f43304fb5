//! `envoy.extensions.transport_sockets.tls.v3`: SDS secrets.

use super::core::{DataSource, TypedExtensionConfig};
use super::proto::message;

message! {
    /// `envoy.extensions.transport_sockets.tls.v3.Secret`.
    pub struct Secret {
        name: String = "name" | "name",
        tls_certificate: Option<TlsCertificate> = "tls_certificate" | "tlsCertificate",
        validation_context: Option<CertificateValidationContext> = "validation_context" | "validationContext",
    }
}

message! {
    /// `TlsCertificate`: a certificate chain and its key.
    pub struct TlsCertificate {
        certificate_chain: Option<DataSource> = "certificate_chain" | "certificateChain",
        private_key: Option<DataSource> = "private_key" | "privateKey",
    }
}

message! {
    /// `CertificateValidationContext`: what peers are checked against.
    pub struct CertificateValidationContext {
        trusted_ca: Option<DataSource> = "trusted_ca" | "trustedCa",
        custom_validator_config: Option<TypedExtensionConfig> = "custom_validator_config" | "customValidatorConfig",
    }
}

message! {
    /// `SPIFFECertValidatorConfig`: one trust bundle per trust domain.
    pub struct SpiffeCertValidatorConfig {
        trust_domains: Vec<TrustDomain> = "trust_domains" | "trustDomains",
    }
}

message! {
    /// `SPIFFECertValidatorConfig.TrustDomain`.
    pub struct TrustDomain {
        name: String = "name" | "name",
        trust_bundle: Option<DataSource> = "trust_bundle" | "trustBundle",
    }
}
