//! The YAML reader (and writer): the one module that names `serde_yaml`
//! (with [`super::block_yaml`], the fast reader it tries first).
//!
//! serde_yaml is deprecated upstream; keeping it behind this file makes a swap
//! (serde_norway has the same API) a one-file change. Everything that turns
//! document text into values goes through [`decode`], which also reports every
//! field the target type does not have (via serde_ignored) instead of dropping it.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::block_yaml;
use super::locate::{FieldPath, Segment};
use super::{Document, DumpKind, Format, Header};

/// A document that is not valid YAML/JSON or does not fit its type. `line`
/// and `col` are 1-based within the text decoded (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl DecodeError {
    fn from_yaml(e: &serde_yaml::Error) -> Self {
        let (line, col) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        DecodeError {
            line,
            col,
            message: strip_position(&e.to_string()),
        }
    }

    fn from_json(e: &serde_json::Error) -> Self {
        DecodeError {
            line: e.line(),
            col: e.column(),
            message: strip_position(&e.to_string()),
        }
    }
}

/// Both parsers write " at line X column Y" into messages (relative to the
/// document, so wrong for the file); we print positions ourselves.
fn strip_position(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let skip = after
            .find(|c: char| !(c.is_ascii_digit() || c == ' ' || "column".contains(c)))
            .unwrap_or(after.len());
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

fn to_field_path(path: &serde_ignored::Path<'_>) -> FieldPath {
    fn walk(path: &serde_ignored::Path<'_>, out: &mut Vec<Segment>) {
        match path {
            serde_ignored::Path::Root => {}
            serde_ignored::Path::Seq { parent, index } => {
                walk(parent, out);
                out.push(Segment::Index(*index));
            }
            serde_ignored::Path::Map { parent, key } => {
                walk(parent, out);
                out.push(Segment::Key(key.clone()));
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut segments = Vec::new();
    walk(path, &mut segments);
    FieldPath(segments)
}

thread_local! {
    /// Whether [`decode_text`] tries the fast reader; tests turn it off to
    /// hold the two readers to the same results.
    pub(crate) static FAST_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Decode a text into `T`, calling `unknown` with the path of every field `T`
/// has no place for.
pub fn decode_text<T: DeserializeOwned>(
    text: &str,
    unknown: &mut dyn FnMut(FieldPath),
) -> Result<T, DecodeError> {
    // Most documents are plain block YAML that the fast reader takes.
    if FAST_READER.get()
        && let Some(value) = read_fast(text, unknown)
    {
        return Ok(value);
    }
    // JSON is read by the YAML parser too (JSON is YAML's flow style): one
    // deserializer instantiated per model type instead of two halves the
    // build of the hundreds of typed structs, and JSON manifests are rare.
    let mut callback = |p: serde_ignored::Path<'_>| unknown(to_field_path(&p));
    parse_as_go_does(text, |t| {
        serde_ignored::deserialize(serde_yaml::Deserializer::from_str(t), &mut callback)
    })
    .map_err(|e| DecodeError::from_yaml(&e))
}

/// `text` read by the fast reader, `None` when it declines or fails. Unknown
/// fields are passed on only once it has read the whole document, as
/// serde_yaml reads it again from the start otherwise.
fn read_fast<T: DeserializeOwned>(text: &str, unknown: &mut dyn FnMut(FieldPath)) -> Option<T> {
    let events = block_yaml::parse(text)?;
    let mut found = Vec::new();
    let value = serde_ignored::deserialize(&mut block_yaml::Reader::new(&events), |p| {
        found.push(to_field_path(&p))
    })
    .ok()?;
    found.into_iter().for_each(unknown);
    Some(value)
}

/// Parse `text`, reading plain scalars in flow collections the way Go's
/// YAML reader (the one kubectl and the API server use) does.
///
/// libyaml, under serde_yaml, refuses a plain scalar in a flow collection
/// that ends in `:` right before a flow indicator (`[1.2.3.4, 2001:db8::]`,
/// `{a: b:}`): "found unexpected ':'". Go's reader ends such a scalar only
/// at `: ` or at the indicator, so it reads `2001:db8::` as a string. The
/// error points at that colon: the scalar it ends is quoted and the text
/// parsed again, once per such scalar. Quoting adds two characters to the
/// line and no line, so an error found after it keeps its line (its column
/// may be two off when on that line).
fn parse_as_go_does<T>(
    text: &str,
    mut parse: impl FnMut(&str) -> Result<T, serde_yaml::Error>,
) -> Result<T, serde_yaml::Error> {
    let first = match parse(text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let (mut fixed, mut err) = (Cow::Borrowed(text), first);
    // Each round quotes one scalar; a document has few.
    for _ in 0..256 {
        let Some(next) = quote_flow_scalar(&fixed, &err) else {
            break;
        };
        match parse(&next) {
            Ok(v) => return Ok(v),
            Err(e) => {
                err = e;
                fixed = Cow::Owned(next);
            }
        }
    }
    Err(err)
}

/// `serde_yaml::from_str` through [`parse_as_go_does`].
fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, serde_yaml::Error> {
    parse_as_go_does(text, |t| serde_yaml::from_str(t))
}

/// `text` with the flow plain scalar whose trailing colon `err` (libyaml's
/// "found unexpected ':'") points at single-quoted; `None` for other errors.
fn quote_flow_scalar(text: &str, err: &serde_yaml::Error) -> Option<String> {
    if !err.to_string().starts_with("found unexpected ':'") {
        return None;
    }
    let colon = err.location()?.index();
    let bytes = text.as_bytes();
    if bytes.get(colon) != Some(&b':')
        || !bytes.get(colon + 1).is_some_and(|c| b",[]{}?".contains(c))
    {
        return None;
    }
    // The scalar starts after the flow indicator, value indicator (`: `) or
    // line start before it, and any blanks.
    let mut start = colon;
    while start > 0 {
        let c = bytes[start - 1];
        let value_indicator = c == b':' && bytes[start].is_ascii_whitespace();
        if b"[{,\n".contains(&c) || value_indicator {
            break;
        }
        start -= 1;
    }
    while bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    let scalar = &text[start..=colon];
    Some(format!(
        "{}'{}'{}",
        &text[..start],
        scalar.replace('\'', "''"),
        &text[colon + 1..]
    ))
}

/// Decode a whole document.
pub fn decode<T: DeserializeOwned>(
    doc: &Document,
    unknown: &mut dyn FnMut(FieldPath),
) -> Result<T, DecodeError> {
    decode_text(&doc.text, unknown)
}

#[derive(Deserialize)]
struct HeaderDoc {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<HeaderMeta>,
}

#[derive(Deserialize)]
struct HeaderMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Read `apiVersion`, `kind`, `metadata.name` and `metadata.namespace`.
/// `Ok(None)` when the document is no Kubernetes object (no kind).
///
/// Block-style YAML is read by a line scan, which costs a small fraction of a
/// parse; anything else (JSON, flow style, anchors) goes through the parser.
pub fn read_header(doc: &Document) -> Result<Option<Header>, DecodeError> {
    if doc.format == Format::Yaml
        && let Some(h) = scan_header(&doc.text)
    {
        return Ok(Some(h));
    }
    let parsed: Result<HeaderDoc, DecodeError> = match doc.format {
        Format::Json => serde_json::from_str(&doc.text).map_err(|e| DecodeError::from_json(&e)),
        Format::Yaml => from_yaml(&doc.text).map_err(|e| DecodeError::from_yaml(&e)),
    };
    let h = match parsed {
        Ok(h) => h,
        // Valid YAML/JSON of another shape (a list, `kind: {...}`) is no
        // Kubernetes object; only text that does not parse at all is an error.
        Err(e) => {
            return match from_yaml::<IgnoredAny>(&doc.text) {
                Ok(_) => Ok(None),
                Err(_) => Err(e),
            };
        }
    };
    Ok(match (h.api_version, h.kind) {
        (Some(api_version), Some(kind)) if !kind.is_empty() => {
            let meta = h.metadata.unwrap_or(HeaderMeta {
                name: None,
                namespace: None,
            });
            Some(Header {
                api_version,
                kind,
                name: meta.name.unwrap_or_default(),
                namespace: meta.namespace.filter(|n| !n.is_empty()),
            })
        }
        _ => None,
    })
}

/// A plain or simply quoted scalar; `None` for anything the scan should not
/// guess at (anchors, tags, block scalars, flow collections).
fn simple_scalar(raw: &str) -> Option<String> {
    let v = match raw.find(" #") {
        Some(i) => &raw[..i],
        None => raw,
    }
    .trim();
    if v.is_empty() || v.starts_with(['&', '*', '!', '|', '>', '[', '{', '%', '@', '`']) {
        return None;
    }
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return (!inner.contains('\\')).then(|| inner.to_string());
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return (!inner.contains('\'')).then(|| inner.to_string());
    }
    if v.starts_with(['"', '\'']) {
        return None;
    }
    Some(v.to_string())
}

fn scan_header(text: &str) -> Option<Header> {
    let mut api_version = None;
    let mut kind = None;
    let mut name = None;
    let mut namespace = None;
    let mut in_meta = false;
    let mut meta_indent = None;
    let mut keyed = false;
    for line in text.lines() {
        if line.is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            if line.starts_with('\t') || line == "-" || line.starts_with("- ") {
                // A sequence at the top is no object; one as a key's value
                // (`ports:` then `- name: http`, kubectl's style) is skipped,
                // but for metadata's, which the parser judges.
                if !keyed || (in_meta && meta_indent.is_none()) {
                    return None;
                }
                in_meta = false;
                continue;
            }
            in_meta = false;
            keyed = true;
            if let Some(v) = line.strip_prefix("apiVersion:") {
                api_version = Some(simple_scalar(v)?);
            } else if let Some(v) = line.strip_prefix("kind:") {
                kind = Some(simple_scalar(v)?);
            } else if let Some(v) = line.strip_prefix("metadata:") {
                let rest = v.trim();
                if !(rest.is_empty() || rest.starts_with('#')) {
                    // `metadata: {name: x}`: let the parser read it.
                    return None;
                }
                in_meta = true;
            }
            continue;
        }
        if in_meta {
            let m = *meta_indent.get_or_insert(indent);
            if indent != m {
                continue;
            }
            let body = &line[indent..];
            if let Some(v) = body.strip_prefix("name:") {
                name = Some(simple_scalar(v)?);
            } else if let Some(v) = body.strip_prefix("namespace:") {
                namespace = Some(simple_scalar(v)?);
            }
        }
    }
    Some(Header {
        api_version: api_version?,
        kind: kind?,
        name: name.unwrap_or_default(),
        namespace: namespace.filter(|n| !n.is_empty()),
    })
}

#[derive(Deserialize)]
struct JsonList<'a> {
    #[serde(borrow, default)]
    items: Vec<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct ValueList {
    #[serde(default)]
    items: Vec<serde_json::Value>,
}

/// The items of a `kind: List` document, each a document of its own.
pub fn list_items(list: &Document) -> Result<Vec<Document>, DecodeError> {
    let item = |text: Arc<str>, line: usize, exact: bool, format: Format| Document {
        file: list.file.clone(),
        text,
        line,
        exact_lines: exact,
        format,
        header: Header::default(),
    };
    match list.format {
        Format::Json => {
            let parsed: JsonList<'_> =
                serde_json::from_str(&list.text).map_err(|e| DecodeError::from_json(&e))?;
            let base = list.text.as_ptr() as usize;
            Ok(parsed
                .items
                .into_iter()
                .map(|raw| {
                    let offset = raw.get().as_ptr() as usize - base;
                    let line = list.line + list.text[..offset].matches('\n').count();
                    item(Arc::from(raw.get()), line, true, Format::Json)
                })
                .collect())
        }
        Format::Yaml => {
            if let Some(items) = split_block_list(&list.text) {
                return Ok(items
                    .into_iter()
                    .map(|(rel, text)| item(Arc::from(text), list.line + rel, true, Format::Yaml))
                    .collect());
            }
            let parsed: ValueList =
                from_yaml(&list.text).map_err(|e| DecodeError::from_yaml(&e))?;
            Ok(parsed
                .items
                .into_iter()
                .map(|v| item(Arc::from(v.to_string()), list.line, false, Format::Json))
                .collect())
        }
    }
}

/// Split `items:` of a block-style list into item texts re-based to column 0,
/// each with its line offset from the list's first line. `None` when the list
/// is not written in plain block style.
fn split_block_list(text: &str) -> Option<Vec<(usize, String)>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("items:"))?;
    let rest = lines[start]["items:".len()..].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let mut items: Vec<(usize, String)> = Vec::new();
    let mut col = None;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            if let Some((_, cur)) = items.last_mut() {
                cur.push('\n');
            }
            continue;
        }
        let c = *col.get_or_insert(indent);
        if indent < c || (indent == c && !trimmed.starts_with('-')) {
            break;
        }
        // Keys of an item sit two columns right of its dash: dedent by that.
        let body = if indent == c {
            let after = trimmed.strip_prefix('-')?;
            if !(after.is_empty() || after.starts_with(' ')) {
                return None;
            }
            items.push((i, String::new()));
            after.strip_prefix(' ').unwrap_or(after)
        } else {
            line.get(c + 2..).unwrap_or(trimmed)
        };
        let (_, cur) = items.last_mut()?;
        cur.push_str(body);
        cur.push('\n');
    }
    Some(items)
}

/// A file with `{{` that is not valid YAML is a Go (Helm) template source. A
/// real manifest may hold `{{` inside strings (the injector's templates, a
/// Prometheus rule) and still parse, so the parse decides, not the braces.
pub fn is_go_template(text: &str) -> bool {
    serde_yaml::Deserializer::from_str(text).any(|doc| IgnoredAny::deserialize(doc).is_err())
}

/// Write a value as YAML (meshsim's own views; istioctl's YAML has its own
/// writer in render, which must match Go byte for byte).
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(value)
}

#[derive(Deserialize)]
struct DumpProbe {
    #[serde(default)]
    configs: Option<IgnoredAny>,
    #[serde(default)]
    cluster_statuses: Option<IgnoredAny>,
    #[serde(default)]
    kind: Option<IgnoredAny>,
}

/// Is this JSON an Envoy admin dump, and which?
pub fn envoy_dump_kind(text: &str) -> Option<DumpKind> {
    let probe: DumpProbe = serde_json::from_str(text).ok()?;
    if probe.kind.is_some() {
        return None;
    }
    if probe.configs.is_some() {
        Some(DumpKind::ConfigDump)
    } else if probe.cluster_statuses.is_some() {
        Some(DumpKind::Clusters)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast<T: DeserializeOwned>(text: &str) -> Option<T> {
        read_fast(text, &mut |_| {})
    }

    #[test]
    fn fast_reader_reads_documents_as_serde_yaml_does() {
        let cases = [
            "# lead\napiVersion: apps/v1   # c\nkind: Deployment\n\nmetadata:\n  name: web\n  labels: {app: web, 'tier': \"front\"}\n  annotations:\n    a.io/x: 'it''s # not a comment'\n    b: \"tab\\there \\u00e9\\x41 \\\" \\\\ \\/\"\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        args: [\"--x\", -v, 3, 1.5, ~, true]\n        ports:\n        -   containerPort: 80\n            name: http\n        - {containerPort: 81}\n      # between\n      volumes: []\n",
            "a:\n- x\n-\n  y: 1\n- - n1\n  - n2\n-\n- # c\nb: {}\nc:\nd: # only a comment\ne: [[1, 2], {f: [g]}]\n",
            "url: http://x.y/z#frag\nt: a:b\nh: a#b\nsp: a  b   # c\nu: caf\u{e9} \u{2713}\n\"quoted key\": 1\n'single': 2\n80: port\nnull: n\ntrue: t\n-k: v\nk : v2\n",
            "lit: |\n  line 1\n    more\n\n  # kept\n  last\n\n\nstrip: |-\n  a\n\n  b\n\nkeep: |+\n  a\n\n\nws: |\n  a\n     \n  b\nafter: 1\n",
            "- a\n",
            "a: 1",
            "a: |\n  x\nb: |\n\n  y\nnbsp: |\n  \u{a0}\n  z\n",
            "items:\n- name: a\n  value: |\n    v1\n    v2\n- name: b\n",
            "empty: ''\ne2: \"\"\nn1: ~\nn2: Null\ni: [0x1F, -0x1F, 0o17, 0b101, 007, -7, +7, 1e3, .5, .inf, -.inf, .nan, 18446744073709551615, -9223372036854775808]\n",
        ];
        let mut taken = 0;
        for text in cases {
            let slow: Result<serde_json::Value, _> = serde_yaml::from_str(text);
            if let Some(v) = fast::<serde_json::Value>(text) {
                taken += 1;
                assert_eq!(Some(v), slow.ok(), "{text}");
            }
        }
        // Only `- a` (a top-level sequence) is declined.
        assert_eq!(taken, cases.len() - 1);
    }

    #[test]
    fn fast_reader_declines_what_it_does_not_read() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >\n  folded\n",
            "a: |2\n   x\n",
            "a: b\n  c\n",
            "a:\n  multi\n  line\n",
            "a: \"x\n  y\"\n",
            "a:\tb\n",
            "a: b\r\n",
            "---\na: 1\n",
            "a: 1\n...\n",
            "? a\n: b\n",
            "a: [1,\n  2]\n",
            "a: [1, 2,]\n",
            "a: [a: b]\n",
            "a: [http://x]\n",
            "a: b: c\n",
            "a: b:\n",
            "a:b\n",
            "a: |\n  no final newline",
            "a: \"\\q\"\n",
            "a: \"x\"y\n",
            "plain\n",
            "  a: 1\nb: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: \u{feff}x\n",
        ] {
            assert!(block_yaml::parse(text).is_none(), "{text:?}");
        }
    }

    /// Every scalar, into every type, reads as serde_yaml reads it, and fails
    /// (to be read again by serde_yaml) where serde_yaml fails.
    #[test]
    fn fast_reader_resolves_scalars_as_serde_yaml_does() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Typed {
            u: Option<u32>,
            i: Option<i64>,
            b: Option<bool>,
            f: Option<f64>,
            s: Option<String>,
            v: Option<serde_json::Value>,
            l: Option<Vec<String>>,
            m: Option<std::collections::BTreeMap<String, String>>,
            e: Option<Mode>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        enum Mode {
            #[serde(rename = "STRICT")]
            Strict,
        }
        let scalars = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "yes",
            "off",
            "0",
            "7",
            "-7",
            "+7",
            "++7",
            "+-7",
            "007",
            "-007",
            "0x1F",
            "-0x1F",
            "+0x1f",
            "0x-1",
            "0o17",
            "0b101",
            "0xZZ",
            "1_000",
            "1e3",
            "1.5",
            ".5",
            "5.",
            "-.5",
            "+.5",
            ".inf",
            "-.inf",
            "+.inf",
            ".nan",
            ".NaN",
            "nan",
            "inf",
            "infinity",
            "1.2.3",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "'7'",
            "\"true\"",
            "'null'",
            "\"\"",
            "''",
            "a b",
            "STRICT",
            "'STRICT'",
            "strict",
            "[]",
            "{}",
            "[a, 'b']",
            "{k: v}",
            "{k: 1}",
        ];
        let (mut taken, mut read) = (0, 0);
        for field in ["u", "i", "b", "f", "s", "v", "l", "m", "e"] {
            for scalar in scalars {
                let text = format!("{field}: {scalar}\n");
                let slow: Result<Typed, _> = serde_yaml::from_str(&text);
                read += usize::from(slow.is_ok());
                if let Some(v) = fast::<Typed>(&text) {
                    taken += 1;
                    // Compared as Debug text: NaN is not equal to itself.
                    let slow = slow.as_ref().map(|s| format!("{s:?}"));
                    assert_eq!(
                        Ok(format!("{v:?}")),
                        slow.map_err(|e| e.to_string()),
                        "{text}"
                    );
                }
            }
        }
        // It takes every one serde_yaml reads.
        assert_eq!(taken, read);
    }

    #[test]
    fn header_scan_reads_block_yaml() {
        let h = scan_header("apiVersion: apps/v1 # c\nkind: \"Deployment\"\nmetadata:\n  labels:\n    name: no\n  name: 'web'\n  namespace: shop\nspec: {}\n").expect("header");
        assert_eq!(h.api_version, "apps/v1");
        assert_eq!(h.kind, "Deployment");
        assert_eq!(h.name, "web");
        assert_eq!(h.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn header_scan_defers_to_parser_on_flow_metadata() {
        assert!(scan_header("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n").is_none());
    }

    #[test]
    fn header_scan_skips_sequences_that_are_values() {
        // kubectl writes a key's sequence at the key's indentation.
        let text = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nports:\n- name: http\n  port: 80\nmetadata:\n  name: web-1\nendpoints:\n- addresses: [10.0.0.1]\n";
        let h = scan_header(text).expect("header");
        assert_eq!(
            (h.kind.as_str(), h.name.as_str()),
            ("EndpointSlice", "web-1")
        );
        let read: HeaderDoc = from_yaml(text).expect("parses");
        assert_eq!(read.metadata.and_then(|m| m.name).as_deref(), Some("web-1"));
        // A sequence at the top, or as metadata, is the parser's to judge.
        assert!(scan_header("- apiVersion: v1\n  kind: Pod\n").is_none());
        assert!(scan_header("apiVersion: v1\nkind: Pod\nmetadata:\n- name: a\n").is_none());
    }

    #[test]
    fn flow_scalars_ending_in_a_colon_read_as_go_reads_them() {
        let v: serde_json::Value = decode_text(
            "addresses: [1.2.3.4, 001:db8::]\nm: {a: b:, 'c': [x y::, z]}\nkeep: [a, b]\n",
            &mut |_| {},
        )
        .expect("decodes");
        assert_eq!(
            v,
            serde_json::json!({
                "addresses": ["1.2.3.4", "001:db8::"],
                "m": {"a": "b:", "c": ["x y::", "z"]},
                "keep": ["a", "b"],
            })
        );
        // A real syntax error after such a scalar is still found, on its line.
        let e = decode_text::<serde_json::Value>("a: [b::]\nc: d: e\n", &mut |_| {})
            .expect_err("invalid");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn decode_reports_unknown_fields_with_paths() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default)]
            #[expect(dead_code, reason = "only its absence from the report matters")]
            a: Vec<Inner>,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default)]
            #[expect(dead_code, reason = "only its absence from the report matters")]
            b: Option<String>,
        }
        let mut seen = Vec::new();
        let _: T = decode_text("a:\n- b: x\n  c: y\nz: 1\n", &mut |p| {
            seen.push(p.to_string())
        })
        .expect("decodes");
        assert_eq!(seen, vec!["a[0].c", "z"]);
    }
}
