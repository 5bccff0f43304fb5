//! JSON as istioctl prints it: Go `encoding/json` indentation (4 spaces,
//! `"key": value`) and escaping (`<`, `>`, `&`, U+2028/9 as `\u` escapes),
//! plus the legacy jsonpb layout of `bootstrap`/`secret -o json`, which
//! indents the contents of `google.protobuf.Struct` values deeper than the
//! object around them.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::{Number, Value};

/// `json.MarshalIndent(v, "", "    ")` of an already-ordered value.
pub fn to_go_json(value: &Value) -> String {
    encode_go_json(value).unwrap_or_default()
}

/// Like [`to_go_json`], serialising `value` straight to text (no tree).
pub fn encode_go_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut buf = Vec::with_capacity(4096);
    let formatter = GoFormatter(PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut buf, formatter,
    ))?;
    // The formatter writes only valid UTF-8 (serde_json checks strings).
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// serde_json's pretty printer with Go's HTML-safe escapes and float format.
struct GoFormatter(PrettyFormatter<'static>);

impl Formatter for GoFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        match serde_json::Number::from_f64(value) {
            Some(n) => w.write_all(go_number(&n).as_bytes()),
            None => w.write_all(b"null"),
        }
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// jsonpb with `Indent: "    "`: like [`to_go_json`], except that the values
/// at which `is_struct` (given the path of object keys) says a Struct starts
/// get jsonpb's extra indentation.
pub fn to_jsonpb_indented(value: &Value, is_struct: &dyn Fn(&[&str]) -> bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0, &mut Vec::new(), is_struct);
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_value<'v>(
    out: &mut String,
    value: &'v Value,
    indent: usize,
    path: &mut Vec<&'v str>,
    is_struct: &dyn Fn(&[&str]) -> bool,
) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                pad(out, indent + 4);
                write_string(out, k);
                out.push_str(": ");
                path.push(k);
                if is_struct(path) && is_container(v) {
                    // A Struct field whose key sits at K: entries at K+8, close at K+4.
                    write_struct(out, v, indent + 12);
                } else {
                    write_value(out, v, indent + 4, path, is_struct);
                }
                path.pop();
            }
            out.push('\n');
            pad(out, indent);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                pad(out, indent + 4);
                write_value(out, v, indent + 4, path, is_struct);
            }
            out.push('\n');
            pad(out, indent);
            out.push(']');
        }
        other => write_scalar(out, other),
    }
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// A Struct/ListValue with jsonpb's layout: entries at `base`, closing bracket
/// at `base - 4`; a nested Struct/ListValue at entry indentation P gets
/// `P + 12` (it is wrapped in two more messages, Value and Struct).
fn write_struct(out: &mut String, value: &Value, base: usize) {
    let entry = |out: &mut String, v: &Value| {
        if is_container(v) {
            write_struct(out, v, base + 12);
        } else {
            write_value(out, v, base, &mut Vec::new(), &|_| false);
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                pad(out, base);
                write_string(out, k);
                out.push_str(": ");
                entry(out, v);
            }
            out.push('\n');
            pad(out, base - 4);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('\n');
                pad(out, base);
                entry(out, v);
            }
            out.push('\n');
            pad(out, base - 4);
            out.push(']');
        }
        other => write_value(out, other, base, &mut Vec::new(), &|_| false),
    }
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => write_string(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// A JSON number as Go's `encoding/json` writes a float64 (integers as such).
pub fn go_number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == f.trunc() && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust writes `1e-7` / `1e21`; Go writes `1e-07` → cleaned to `1e-7`, and `1e+21`.
        let e = format!("{f:e}");
        return match e.split_once('e') {
            Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
            _ => e,
        };
    }
    format!("{f}")
}

/// A JSON string with Go's escaping (HTML-safe).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let v = serde_json::json!({"a": "<b> & \u{1}", "e": {}, "l": []});
        assert_eq!(
            to_go_json(&v),
            "{\n    \"a\": \"\\u003cb\\u003e \\u0026 \\u0001\",\n    \"e\": {},\n    \"l\": []\n}"
        );
    }

    #[test]
    fn numbers_like_go() {
        let n = |s: &str| go_number(&serde_json::from_str::<Number>(s).expect("number"));
        assert_eq!(n("1.0"), "1");
        assert_eq!(n("0.5"), "0.5");
        assert_eq!(n("1e-7"), "1e-7");
        assert_eq!(n("1e21"), "1e+21");
    }

    #[test]
    fn struct_quirk() {
        let v = serde_json::json!({"node": {"metadata": {"A": "1", "L": {"app": "r"}}}});
        let got = to_jsonpb_indented(&v, &|p| p.ends_with(&["node", "metadata"]));
        let want = "{\n    \"node\": {\n        \"metadata\": {\n                \"A\": \"1\",\n                \"L\": {\n                            \"app\": \"r\"\n                        }\n            }\n    }\n}";
        assert_eq!(got, want);
    }
}
