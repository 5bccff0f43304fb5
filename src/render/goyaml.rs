//! YAML as istioctl prints it: JSON converted by `sigs.k8s.io/yaml`, i.e.
//! written by Go's yaml.v2. Keys sorted in yaml.v2's natural order, block
//! style, sequences not indented under their key, and strings quoted only
//! when yaml.v2 would read them back as something else.
//!
//! Not reproduced: yaml.v2 folds long scalars that contain spaces at column
//! 80; Envoy config rarely has such strings.

use std::cmp::Ordering;

use serde_json::Value;

/// The YAML text of `value`, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            write_scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| key_order(a.0, b.0));
    for (k, v) in entries {
        pad(out, indent);
        out.push_str(&scalar_string(k, indent));
        out.push(':');
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(out, m, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, indent);
            }
            other => {
                out.push(' ');
                write_scalar(out, other, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        let nested = match item {
            Value::Object(m) if !m.is_empty() => {
                let mut s = String::new();
                write_map(&mut s, m, indent + 2);
                Some(s)
            }
            Value::Array(a) if !a.is_empty() => {
                let mut s = String::new();
                write_seq(&mut s, a, indent + 2);
                Some(s)
            }
            _ => None,
        };
        pad(out, indent);
        out.push('-');
        match nested {
            // The first line of the item goes on the dash line.
            Some(s) => {
                out.push(' ');
                out.push_str(&s[indent + 2..]);
            }
            None => {
                out.push(' ');
                write_scalar(out, item, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_f64() => out.push_str(&go_float_g(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&scalar_string(s, indent)),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`.
fn go_float_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f != 0.0 && !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// A string as yaml.v2 writes it: plain, single-quoted, double-quoted or literal.
fn scalar_string(s: &str, indent: usize) -> String {
    if resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if s.chars().any(|c| !printable(c) && c != '\n') {
        return double_quoted(s);
    }
    if s.contains('\n') {
        let bad_break = s.contains(" \n") || s.ends_with(' ');
        if bad_break {
            return double_quoted(s);
        }
        return literal(s, indent);
    }
    if plain_allowed(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn literal(s: &str, indent: usize) -> String {
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let indicator = if s.starts_with(' ') { "2" } else { "" };
    let mut out = format!("|{indicator}{chomp}");
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if !printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether yaml.v2's emitter may write `s` as a plain scalar (block context).
fn plain_allowed(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    let second = s[first.len_utf8()..].chars().next();
    if matches!(first, '?' | ':' | '-') && second.is_none_or(|c| c == ' ') {
        return false;
    }
    !(s.contains(": ") || s.ends_with(':') || s.contains(" #"))
}

/// Whether yaml.v2 would resolve the plain scalar `s` to a non-string.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<",
    ];
    WORDS.contains(&s) || is_number(s) || is_timestamp(s)
}

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    let digits =
        |x: &str, radix: u32| !x.is_empty() && x.chars().all(|c| c == '_' || c.is_digit(radix));
    if let Some(h) = t.strip_prefix("0x") {
        return digits(h, 16);
    }
    if let Some(b) = t.strip_prefix("0b") {
        return digits(b, 2);
    }
    if let Some(o) = t.strip_prefix("0o") {
        return digits(o, 8);
    }
    if t.starts_with(|c: char| c.is_ascii_digit()) && t.contains(':') {
        // Sexagesimal (`1:20`).
        let mut parts = t.split(':');
        let head_ok = parts.next().is_some_and(|p| digits(p, 10));
        return head_ok
            && parts.all(|p| {
                let p = p.split('.').next().unwrap_or(p);
                !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit())
            });
    }
    if digits(t, 10) && t.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    // Float: (\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some(("", frac)) => digits(frac, 10),
        Some((int, frac)) => digits(int, 10) && (frac.is_empty() || digits(frac, 10)),
        None => digits(mant, 10),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mant_ok && exp_ok && mant.chars().any(|c| c.is_ascii_digit())
}

/// yaml.v2's timestamp forms: `2006-1-2`, with `T`/`t`/` ` and a time,
/// fractional seconds, and (not after a space) a zone.
fn is_timestamp(s: &str) -> bool {
    fn num(s: &str, min: usize, max: usize) -> Option<&str> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (min..=max).contains(&n).then(|| &s[n..])
    }
    fn step(s: &str, sep: char, min: usize, max: usize) -> Option<&str> {
        s.strip_prefix(sep).and_then(|r| num(r, min, max))
    }
    let Some(rest) = num(s, 4, 4)
        .and_then(|r| step(r, '-', 1, 2))
        .and_then(|r| step(r, '-', 1, 2))
    else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let spaced = rest.starts_with(' ');
    let Some(rest) = rest
        .strip_prefix(['T', 't', ' '])
        .and_then(|r| num(r, 1, 2))
        .and_then(|r| step(r, ':', 1, 2))
        .and_then(|r| step(r, ':', 1, 2))
    else {
        return false;
    };
    let rest = match rest.strip_prefix('.') {
        Some(r) => match num(r, 1, 9) {
            Some(r) => r,
            None => return false,
        },
        None => rest,
    };
    if rest.is_empty() {
        return true;
    }
    if spaced {
        return false;
    }
    rest == "Z"
        || rest
            .strip_prefix(['+', '-'])
            .and_then(|r| num(r, 2, 2))
            .and_then(|r| step(r, ':', 2, 2))
            .is_some_and(str::is_empty)
}

/// yaml.v2's `keyList.Less` for string keys.
fn key_order(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // Two non-letters: compare the digit runs that start here numerically.
        let mut an = 0u64;
        let mut bn = 0u64;
        // A zero inside a longer number: yaml.v2 seeds both runs with 1.
        if (ar[i] == '0' || br[i] == '0')
            && ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|&c| c != '0')
        {
            an = 1;
            bn = 1;
        }
        let mut j = i;
        while j < ar.len() && ar[j].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(u64::from(ar[j] as u8 - b'0'));
            j += 1;
        }
        let alen = j - i;
        let mut k = i;
        while k < br.len() && br[k].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(u64::from(br[k] as u8 - b'0'));
            k += 1;
        }
        let blen = k - i;
        if an != bn {
            return an.cmp(&bn);
        }
        if alen != blen {
            return alen.cmp(&blen);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(scalar_string("1605", 0), "\"1605\"");
        assert_eq!(
            scalar_string("2022-12-08T11:03:53.361Z", 0),
            "\"2022-12-08T11:03:53.361Z\""
        );
        assert_eq!(
            scalar_string("2022-12-08T09:07:09Z/10", 0),
            "2022-12-08T09:07:09Z/10"
        );
        assert_eq!(scalar_string("@type", 0), "'@type'");
        assert_eq!(scalar_string("*", 0), "'*'");
        assert_eq!(scalar_string("", 0), "\"\"");
        assert_eq!(scalar_string("127.0.0.1", 0), "127.0.0.1");
        assert_eq!(scalar_string("outbound|9080||a", 0), "outbound|9080||a");
    }

    #[test]
    fn key_order_puts_non_letters_first() {
        let mut keys = vec!["name", "@type", "typedConfig", "a10", "a9"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["@type", "a9", "a10", "name", "typedConfig"]);
    }
}
