//! The Gateway API CRDs' CEL rules users hit (§5.4; gateway-api v1.6):
//! Gateway and ListenerSet listeners, route backendRefs to Services. The
//! API server applies the CRD defaults first, so a `tls` block without a
//! mode is judged as `mode: Terminate`.

use serde_json::Value;

use super::Findings;

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn items(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

pub fn check(kind: &str, raw: &Value, f: &mut Findings) {
    let spec = raw.get("spec");
    match kind {
        "Gateway" | "ListenerSet" => listeners(items(spec.and_then(|s| s.get("listeners"))), f),
        "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" => {
            for (i, rule) in items(spec.and_then(|s| s.get("rules"))).iter().enumerate() {
                for (j, backend) in items(rule.get("backendRefs")).iter().enumerate() {
                    let service = s(backend, "group").unwrap_or("").is_empty()
                        && s(backend, "kind").unwrap_or("Service") == "Service";
                    if service && backend.get("port").is_none_or(Value::is_null) {
                        f.error(format!(
                            "spec.rules[{i}].backendRefs[{j}]: Invalid value: \"object\": Must have port for Service reference"
                        ));
                    }
                }
            }
        }
        _ => {}
    }
}

fn listeners(ls: &[Value], f: &mut Findings) {
    let array_rule = |f: &mut Findings, holds: bool, message: &str| {
        if !holds {
            f.error(format!(
                "spec.listeners: Invalid value: \"array\": {message}"
            ));
        }
    };
    fn proto(l: &Value) -> &str {
        s(l, "protocol").unwrap_or("")
    }
    fn has(l: &Value, k: &str) -> bool {
        l.get(k).is_some_and(|v| !v.is_null())
    }
    /// The TLS mode after defaulting; None without `tls`.
    fn mode(l: &Value) -> Option<&str> {
        l.get("tls")
            .filter(|t| !t.is_null())
            .map(|t| s(t, "mode").unwrap_or("Terminate"))
    }
    for (i, l) in ls.iter().enumerate() {
        if let Some(tls) = l.get("tls").filter(|t| !t.is_null())
            && mode(l) == Some("Terminate")
            && items(tls.get("certificateRefs")).is_empty()
            && tls
                .get("options")
                .and_then(Value::as_object)
                .is_none_or(|o| o.is_empty())
        {
            f.error(format!(
                "spec.listeners[{i}].tls: Invalid value: \"object\": certificateRefs or options must be specified when mode is Terminate"
            ));
        }
    }
    array_rule(
        f,
        ls.iter()
            .all(|l| !matches!(proto(l), "HTTP" | "TCP" | "UDP") || !has(l, "tls")),
        "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    );
    array_rule(
        f,
        ls.iter()
            .all(|l| proto(l) != "HTTPS" || matches!(mode(l), None | Some("" | "Terminate"))),
        "tls mode must be Terminate for protocol HTTPS",
    );
    array_rule(
        f,
        ls.iter()
            .all(|l| proto(l) != "TLS" || mode(l).is_some_and(|m| !m.is_empty())),
        "tls mode must be set for protocol TLS",
    );
    array_rule(
        f,
        ls.iter().all(|l| {
            !matches!(proto(l), "TCP" | "UDP") || s(l, "hostname").unwrap_or("").is_empty()
        }),
        "hostname must not be specified for protocols ['TCP', 'UDP']",
    );
    let unique = |key: fn(&Value) -> String| {
        let keys: Vec<String> = ls.iter().map(key).collect();
        keys.iter()
            .all(|k| keys.iter().filter(|x| *x == k).count() == 1)
    };
    array_rule(
        f,
        unique(|l| s(l, "name").unwrap_or("").to_string()),
        "Listener name must be unique within the Gateway",
    );
    array_rule(
        f,
        unique(|l| {
            format!(
                "{}|{}|{:?}",
                l.get("port").unwrap_or(&Value::Null),
                s(l, "protocol").unwrap_or(""),
                s(l, "hostname")
            )
        }),
        "Combination of port, protocol and hostname must be unique for each listener",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(kind: &str, doc: Value) -> Vec<String> {
        let mut f = Findings::default();
        check(kind, &doc, &mut f);
        f.errors
    }

    #[test]
    fn listener_rules() {
        let ok = json!({"spec": {"listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP"},
            {"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "a.com",
             "tls": {"certificateRefs": [{"name": "cert"}]}},
            {"name": "tls", "port": 443, "protocol": "TLS", "hostname": "b.com", "tls": {"mode": "Passthrough"}},
        ]}});
        assert!(errors("Gateway", ok).is_empty());
        let bad = json!({"spec": {"listeners": [
            {"name": "a", "port": 80, "protocol": "HTTP", "tls": {"certificateRefs": [{"name": "c"}]}},
            {"name": "a", "port": 81, "protocol": "TCP", "hostname": "x.com"},
            {"name": "b", "port": 443, "protocol": "HTTPS", "tls": {}},
        ]}});
        assert_eq!(
            errors("Gateway", bad),
            vec![
                "spec.listeners[2].tls: Invalid value: \"object\": certificateRefs or options must be specified when mode is Terminate",
                "spec.listeners: Invalid value: \"array\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
                "spec.listeners: Invalid value: \"array\": hostname must not be specified for protocols ['TCP', 'UDP']",
                "spec.listeners: Invalid value: \"array\": Listener name must be unique within the Gateway",
            ]
        );
    }

    #[test]
    fn service_backends_need_a_port() {
        let route = json!({"spec": {"rules": [{"backendRefs": [{"name": "a"}, {"name": "b", "port": 80}]}]}});
        assert_eq!(
            errors("HTTPRoute", route),
            vec![
                "spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference"
            ]
        );
    }
}
