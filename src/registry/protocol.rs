//! Which application protocol a port carries, as istiod decides it
//! (istiod-sidecar.md §1.3): from a Kubernetes port's name or appProtocol, or
//! from a ServiceEntry's or Sidecar's declared protocol.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Http,
    Http2,
    HttpProxy,
    Grpc,
    GrpcWeb,
    Https,
    Tls,
    Tcp,
    Udp,
    Mongo,
    Redis,
    Mysql,
    /// Nothing declared: istiod sniffs the traffic ("auto").
    Unsupported,
}

impl Protocol {
    /// istiod's `protocol.Parse`: the case-insensitive name, else unsupported.
    pub fn parse(s: &str) -> Protocol {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "grpc" => Protocol::Grpc,
            "grpc-web" => Protocol::GrpcWeb,
            "http" => Protocol::Http,
            "http_proxy" => Protocol::HttpProxy,
            "http2" => Protocol::Http2,
            "https" => Protocol::Https,
            "tls" => Protocol::Tls,
            "mongo" => Protocol::Mongo,
            "redis" => Protocol::Redis,
            "mysql" => Protocol::Mysql,
            _ => Protocol::Unsupported,
        }
    }

    /// A Kubernetes Service or container port: UDP by its L4 protocol, else
    /// from appProtocol (which wins over the name), else from the name's
    /// prefix before `-`; server-first well-known ports are never sniffed.
    pub fn of_kube_port(
        port: u16,
        name: Option<&str>,
        l4: &str,
        app_protocol: Option<&str>,
    ) -> Protocol {
        if l4.eq_ignore_ascii_case("UDP") {
            return Protocol::Udp;
        }
        let declared = match app_protocol.filter(|a| !a.is_empty()) {
            Some("kubernetes.io/h2c") => return Protocol::Http2,
            Some("kubernetes.io/ws") => return Protocol::Http,
            Some("kubernetes.io/wss") => return Protocol::Https,
            Some(a) => a,
            None => name.unwrap_or(""),
        };
        let parsed = if declared.to_ascii_lowercase().starts_with("grpc-web") {
            Protocol::GrpcWeb
        } else {
            Protocol::parse(declared.split('-').next().unwrap_or(""))
        };
        if parsed == Protocol::Unsupported && matches!(port, 25 | 53 | 3306 | 27017) {
            return Protocol::Tcp;
        }
        parsed
    }

    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http
                | Protocol::Http2
                | Protocol::HttpProxy
                | Protocol::Grpc
                | Protocol::GrpcWeb
        )
    }

    /// HTTP/2 on the wire to the upstream.
    pub fn is_http2(self) -> bool {
        matches!(self, Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb)
    }

    pub fn is_grpc(self) -> bool {
        matches!(self, Protocol::Grpc | Protocol::GrpcWeb)
    }

    /// TCP-class: everything proxied as bytes.
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            Protocol::Tcp
                | Protocol::Https
                | Protocol::Tls
                | Protocol::Mongo
                | Protocol::Redis
                | Protocol::Mysql
        )
    }

    /// TLS-class: routed by SNI.
    pub fn is_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Tls)
    }

    pub fn is_unsupported(self) -> bool {
        self == Protocol::Unsupported
    }

    /// istiod's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Http2 => "HTTP2",
            Protocol::HttpProxy => "HTTP_PROXY",
            Protocol::Grpc => "GRPC",
            Protocol::GrpcWeb => "GRPC-Web",
            Protocol::Https => "HTTPS",
            Protocol::Tls => "TLS",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Mongo => "Mongo",
            Protocol::Redis => "Redis",
            Protocol::Mysql => "MySQL",
            Protocol::Unsupported => "UnsupportedProtocol",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Protocol::{self, *};

    #[test]
    fn kube_ports() {
        let p = |port, name, l4, app| Protocol::of_kube_port(port, name, l4, app);
        assert_eq!(p(80, Some("http"), "TCP", None), Http);
        assert_eq!(p(80, Some("http-web"), "TCP", None), Http);
        assert_eq!(p(80, Some("HTTP2-x"), "TCP", None), Http2);
        assert_eq!(p(80, Some("grpc-web-x"), "TCP", None), GrpcWeb);
        assert_eq!(p(80, Some("httpbin"), "TCP", None), Unsupported);
        assert_eq!(p(80, Some("h2c"), "TCP", None), Unsupported);
        assert_eq!(p(80, None, "TCP", None), Unsupported);
        assert_eq!(p(3306, None, "TCP", None), Tcp);
        assert_eq!(p(3306, Some("mysql"), "TCP", None), Mysql);
        assert_eq!(p(53, Some("dns"), "UDP", None), Udp);
        assert_eq!(p(80, Some("tcp"), "TCP", Some("http")), Http);
        assert_eq!(p(80, Some("tcp"), "TCP", Some("kubernetes.io/h2c")), Http2);
        assert_eq!(p(80, None, "TCP", Some("kubernetes.io/wss")), Https);
    }
}
