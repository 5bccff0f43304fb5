//! Small helpers for writing Envoy proto-JSON.

use serde_json::{Map, Value, json};

/// An `Any`: `@type` first, then the message's fields.
pub fn any(type_name: &str, fields: Value) -> Value {
    let mut m = match fields {
        Value::Object(f) => f,
        _ => Map::new(),
    };
    // A type the fields already name wins. Put in front of the fields in
    // place: a new map would hash every field name of large resources again.
    let url = m
        .shift_remove("@type")
        .unwrap_or_else(|| Value::String(format!("type.googleapis.com/{type_name}")));
    m.shift_insert(0, "@type".to_string(), url);
    Value::Object(m)
}

/// A JSON object of these entries, moved in. `json!` serializes every
/// embedded `Value` again (a deep copy through the serializer), which for
/// whole resources costs more than building them did.
pub fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A `Duration` in its proto-JSON form from seconds: whole seconds bare,
/// else 3, 6 or 9 fractional digits (`10s`, `0.500s`, `0.000100s`).
pub fn duration_secs(secs: f64) -> Value {
    let total = (secs * 1e9).round() as i64;
    let (whole, nanos) = (total / 1_000_000_000, total % 1_000_000_000);
    Value::String(if nanos == 0 {
        format!("{whole}s")
    } else if nanos % 1_000_000 == 0 {
        format!("{whole}.{:03}s", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{whole}.{:06}s", nanos / 1_000)
    } else {
        format!("{whole}.{nanos:09}s")
    })
}

/// An Istio API duration (`1s`, `500ms`, `1m`, `1h`, `1.5s`) as seconds.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().ok()?;
    let scale = match unit {
        "h" => 3600.0,
        "m" => 60.0,
        "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        _ => return None,
    };
    Some(n * scale)
}

/// An Istio API duration as an Envoy `Duration` (None if unparsable).
pub fn duration(s: &str) -> Option<Value> {
    parse_duration(s).map(duration_secs)
}

/// A socket address.
pub fn socket_address(address: &str, port: u32) -> Value {
    json!({"socket_address": {"address": address, "port_value": port}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("10s"), Some(json!("10s")));
        assert_eq!(duration("500ms"), Some(json!("0.500s")));
        assert_eq!(duration("1m"), Some(json!("60s")));
        assert_eq!(duration("1.5s"), Some(json!("1.500s")));
        assert_eq!(duration("x"), None);
        assert_eq!(
            any("a.B", json!({"x": 1})).to_string(),
            r#"{"@type":"type.googleapis.com/a.B","x":1}"#
        );
    }
}
