//! A fast reader for the plain block-style YAML manifests are written in.
//!
//! serde_yaml (libyaml underneath) reads about 25 MB/s; on a large mesh that
//! is most of the time before generation starts. Nearly every manifest uses a
//! small part of YAML: block mappings and sequences, one-line plain and quoted
//! scalars, one-line flow collections, literal blocks and comments. [`parse`]
//! reads that part into the events libyaml would produce and declines
//! anything else (anchors, tags, folded or multi-line scalars, tabs, document
//! markers...) by returning `None`; [`Reader`] then hands the events to serde
//! resolving scalars the way serde_yaml does (YAML 1.2 core schema: `null`,
//! `~`, `true`, `0x1f`, `1e3`; a leading zero makes a string). The caller
//! falls back to serde_yaml whenever this reader declines or fails, so errors
//! and unusual documents are always serde_yaml's; `tests` holds both readers
//! to the same result.

use std::borrow::Cow;
use std::fmt;
use std::num::ParseIntError;

use serde::de::{self, DeserializeSeed, Visitor};

/// One parse event, as libyaml reports it (minus positions).
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// `plain` scalars are resolved by type; quoted and literal ones are strings.
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
    },
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
}

/// Nesting beyond this is left to serde_yaml (which limits it at 128).
const MAX_DEPTH: usize = 64;

/// YAML's limit on the length of an implicit (one-line) key.
const MAX_KEY_LEN: usize = 1024;

/// The events of a one-document `text`, or `None` when the text is outside
/// the subset read here.
pub fn parse(text: &str) -> Option<Vec<Event<'_>>> {
    if !plain_text(text) {
        return None;
    }
    let mut lines: Vec<&str> = text.split('\n').collect();
    // Document markers and directives.
    if lines
        .iter()
        .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
    {
        return None;
    }
    // A final newline ends the last line rather than starting another.
    let ends_with_newline = text.ends_with('\n');
    if ends_with_newline {
        lines.pop();
    }
    let mut p = Parser {
        lines,
        ends_with_newline,
        next: 0,
        pending: None,
        events: Vec::with_capacity(text.len() / 8),
        depth: 0,
    };
    let (indent, _) = p.peek()?;
    p.block_map(indent)?;
    // Anything left (a less indented line after the top mapping) is outside
    // the subset.
    p.peek().is_none().then_some(p.events)
}

/// No tabs, carriage returns, control characters, byte order marks or
/// Unicode line breaks: each changes how lines or indentation are read.
fn plain_text(text: &str) -> bool {
    let ascii_ok = text
        .bytes()
        .all(|b| b == b'\n' || (b' '..0x7f).contains(&b) || b >= 0x80);
    if !ascii_ok {
        return false;
    }
    text.is_ascii()
        || !text.chars().any(|c| {
            matches!(
                c,
                '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ) || ('\u{80}'..'\u{a0}').contains(&c)
        })
}

struct Parser<'a> {
    lines: Vec<&'a str>,
    ends_with_newline: bool,
    /// Index of the next line not yet read.
    next: usize,
    /// The rest of a line after `- `, read as a line of its own at that column.
    pending: Option<(usize, &'a str)>,
    events: Vec<Event<'a>>,
    depth: usize,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let body = line.trim_start_matches(' ');
    body.is_empty() || body.starts_with('#')
}

/// `-` followed by a space or the end: a block sequence entry.
fn is_entry(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// A value part that holds nothing but (maybe) a comment.
fn is_empty_value(rest: &str) -> bool {
    let rest = rest.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// What may follow a value on its line: nothing, or blanks and a comment.
fn ends_line(rest: &str) -> bool {
    rest.is_empty() || (rest.starts_with(' ') && is_empty_value(rest))
}

impl<'a> Parser<'a> {
    /// The next line with content: its column and its text from there.
    fn peek(&mut self) -> Option<(usize, &'a str)> {
        if let Some(p) = self.pending {
            return Some(p);
        }
        while let Some(line) = self.lines.get(self.next) {
            if !is_blank_or_comment(line) {
                let indent = indent_of(line);
                return Some((indent, &line[indent..]));
            }
            self.next += 1;
        }
        None
    }

    fn consume(&mut self) {
        if self.pending.take().is_none() {
            self.next += 1;
        }
    }

    fn scalar(&mut self, text: impl Into<Cow<'a, str>>, plain: bool) {
        self.events.push(Event::Scalar {
            text: text.into(),
            plain,
        });
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// The node below a key or `-` whose value is on the following lines;
    /// `parent` is the column of the collection holding it. A sequence may
    /// sit at the column of the mapping it is a value in.
    fn block_node(&mut self, parent: usize, seq_at_parent: bool) -> Option<()> {
        match self.peek() {
            Some((indent, body)) if indent > parent => {
                if is_entry(body) {
                    self.block_seq(indent)
                } else {
                    self.block_map(indent)
                }
            }
            Some((indent, body)) if indent == parent && seq_at_parent && is_entry(body) => {
                self.block_seq(indent)
            }
            // Nothing below: an empty plain scalar, which reads as null.
            _ => {
                self.scalar("", true);
                Some(())
            }
        }
    }

    fn block_map(&mut self, indent: usize) -> Option<()> {
        self.enter()?;
        self.events.push(Event::MapStart);
        while let Some((at, body)) = self.peek() {
            if at < indent {
                break;
            }
            if at > indent || is_entry(body) {
                return None;
            }
            let (key, rest) = self.key(body)?;
            self.consume();
            self.events.push(key);
            if is_empty_value(rest) {
                self.block_node(indent, true)?;
            } else {
                self.inline(rest.trim_start_matches(' '), indent)?;
            }
        }
        self.events.push(Event::MapEnd);
        self.depth -= 1;
        Some(())
    }

    fn block_seq(&mut self, indent: usize) -> Option<()> {
        self.enter()?;
        self.events.push(Event::SeqStart);
        while let Some((at, body)) = self.peek() {
            if at < indent || (at == indent && !is_entry(body)) {
                break;
            }
            if at > indent {
                return None;
            }
            self.consume();
            let item = &body[1..];
            if is_empty_value(item) {
                self.block_node(indent, false)?;
                continue;
            }
            let trimmed = item.trim_start_matches(' ');
            let column = at + 1 + (item.len() - trimmed.len());
            if is_entry(trimmed) {
                self.pending = Some((column, trimmed));
                self.block_seq(column)?;
            } else if self.key(trimmed).is_some() {
                self.pending = Some((column, trimmed));
                self.block_map(column)?;
            } else {
                self.inline(trimmed, indent)?;
            }
        }
        self.events.push(Event::SeqEnd);
        self.depth -= 1;
        Some(())
    }

    /// `key:` at the start of `body`: the key's event and the text after the
    /// colon. `None` when `body` is no simple key.
    fn key(&self, body: &'a str) -> Option<(Event<'a>, &'a str)> {
        let (event, rest) = match body.as_bytes().first()? {
            b'"' | b'\'' => {
                let (text, rest) = quoted(body)?;
                let rest = rest.trim_start_matches(' ');
                (
                    Event::Scalar { text, plain: false },
                    rest.strip_prefix(':')?,
                )
            }
            _ if starts_plain(body) => {
                let colon = plain_key_end(body)?;
                let key = body[..colon].trim_end_matches(' ');
                (
                    Event::Scalar {
                        text: Cow::Borrowed(key),
                        plain: true,
                    },
                    &body[colon + 1..],
                )
            }
            _ => return None,
        };
        let key_len = body.len() - rest.len();
        (key_len <= MAX_KEY_LEN && (rest.is_empty() || rest.starts_with(' ')))
            .then_some((event, rest))
    }

    /// A value written on the line of its key or `-`: a quoted or plain
    /// scalar, a flow collection or a literal block. `parent` is the column
    /// of the collection holding it.
    fn inline(&mut self, text: &'a str, parent: usize) -> Option<()> {
        let rest = match text.as_bytes()[0] {
            b'"' | b'\'' => {
                let (value, rest) = quoted(text)?;
                self.scalar(value, false);
                rest
            }
            b'[' | b'{' => {
                let mut s = text;
                self.flow_node(&mut s)?;
                s
            }
            b'|' => return self.literal(&text[1..], parent),
            _ if starts_plain(text) => {
                let value = match text.find(" #") {
                    Some(i) => &text[..i],
                    None => text,
                }
                .trim_end_matches(' ');
                // `a: b: c` and `a: b:` are errors, not scalars.
                if value.contains(": ") || value.ends_with(':') {
                    return None;
                }
                self.scalar(value, true);
                ""
            }
            _ => return None,
        };
        if !ends_line(rest) {
            return None;
        }
        // A more indented line after it would continue a multi-line scalar
        // (or be an error): leave both to serde_yaml.
        match self.peek() {
            Some((indent, _)) if indent > parent => None,
            _ => Some(()),
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose header, after the `|`,
    /// is `header`.
    fn literal(&mut self, header: &'a str, parent: usize) -> Option<()> {
        let (chomp, rest) = match header.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, &header[1..]),
            Some(b'+') => (Chomp::Keep, &header[1..]),
            _ => (Chomp::Clip, header),
        };
        if !ends_line(rest) {
            return None;
        }
        // The header's own line is consumed; the block starts on the next,
        // indented as its first non-blank line is.
        let start = self.next;
        let first = (start..self.lines.len())
            .find(|&i| !self.lines[i].trim_start_matches(' ').is_empty())?;
        let indent = indent_of(self.lines[first]);
        // A first line not indented past the parent, or a blank line before
        // it with more spaces than its indentation, is read differently by
        // libyaml.
        if indent <= parent || self.lines[start..first].iter().any(|l| l.len() > indent) {
            return None;
        }
        // Lines are joined by the break ending each; blank lines (spaces up
        // to the indentation) add a break each; what chomping decides is the
        // break after the last content line and the blank lines after it.
        let mut out = String::new();
        let mut breaks = 0;
        let mut content = false;
        let mut end = start;
        while let Some(line) = self.lines.get(end) {
            if line.len() <= indent && line.trim_start_matches(' ').is_empty() {
                breaks += 1;
            } else if indent_of(line) >= indent {
                if content {
                    out.push('\n');
                }
                out.extend(std::iter::repeat_n('\n', breaks));
                breaks = 0;
                content = true;
                out.push_str(&line[indent..]);
            } else {
                break;
            }
            end += 1;
        }
        // At the end of a text without a final newline the last line has no
        // break for chomping to keep.
        if end == self.lines.len() && !self.ends_with_newline {
            return None;
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => out.push('\n'),
            Chomp::Keep => out.extend(std::iter::repeat_n('\n', breaks + 1)),
        }
        self.next = end;
        self.scalar(out, false);
        Some(())
    }

    /// A one-line flow collection or scalar at the start of `s`; `s` is left
    /// after it.
    fn flow_node(&mut self, s: &mut &'a str) -> Option<()> {
        *s = s.trim_start_matches(' ');
        match s.as_bytes().first()? {
            b'[' => self.flow_collection(s, (Event::SeqStart, b']', Event::SeqEnd), |p, s| {
                p.flow_node(s)?;
                // `[a: b]` is a one-pair mapping in a sequence.
                (!s.trim_start_matches(' ').starts_with(':')).then_some(())
            }),
            b'{' => self.flow_collection(s, (Event::MapStart, b'}', Event::MapEnd), |p, s| {
                p.flow_scalar(s)?;
                *s = s.trim_start_matches(' ').strip_prefix(": ")?;
                p.flow_node(s)
            }),
            _ => self.flow_scalar(s),
        }
    }

    /// A flow collection whose opening bracket starts `s`: its items up to
    /// `close`, separated by commas (no trailing comma, no empty items).
    fn flow_collection(
        &mut self,
        s: &mut &'a str,
        (start, close, end): (Event<'a>, u8, Event<'a>),
        mut item: impl FnMut(&mut Self, &mut &'a str) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        self.events.push(start);
        *s = s[1..].trim_start_matches(' ');
        if s.as_bytes().first() != Some(&close) {
            loop {
                item(self, s)?;
                *s = s.trim_start_matches(' ');
                match s.as_bytes().first()? {
                    b',' => *s = &s[1..],
                    c if *c == close => break,
                    _ => return None,
                }
            }
        }
        *s = &s[1..];
        self.events.push(end);
        self.depth -= 1;
        Some(())
    }

    fn flow_scalar(&mut self, s: &mut &'a str) -> Option<()> {
        *s = s.trim_start_matches(' ');
        if s.starts_with(['"', '\'']) {
            let (text, rest) = quoted(s)?;
            *s = rest;
            self.scalar(text, false);
            return Some(());
        }
        if !starts_plain(s) {
            return None;
        }
        let end = s
            .find([',', '[', ']', '{', '}', ':', '#'])
            .unwrap_or(s.len());
        // Only `,`, `]` and `}` end a flow scalar here; a colon, a comment or
        // an opening bracket inside one is left to serde_yaml.
        if !matches!(s.as_bytes().get(end), Some(b',' | b']' | b'}' | b':')) {
            return None;
        }
        let text = s[..end].trim_end_matches(' ');
        if text.is_empty() {
            return None;
        }
        *s = &s[end..];
        self.scalar(text, true);
        Some(())
    }
}

enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// Whether a plain scalar may start `s`: not with an indicator, except `-`
/// before a character that cannot follow a sequence entry.
fn starts_plain(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'-') => bytes
            .get(1)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.'),
        Some(c) => !b"?:,[]{}#&*!|>'\"%@` ".contains(c),
    }
}

/// Where the colon ending a plain key is: the first `:` followed by a space
/// or the end, before any comment.
fn plain_key_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|c| *c == b' ') => return Some(i),
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            _ => {}
        }
    }
    None
}

/// A one-line single- or double-quoted scalar at the start of `s`: its
/// value and the text after the closing quote.
fn quoted(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let quote = s.as_bytes()[0];
    let body = &s[1..];
    if quote == b'\'' {
        let mut out: Option<String> = None;
        let mut from = 0;
        let mut i = 0;
        let bytes = body.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(&body[from..=i]);
                    i += 2;
                    from = i;
                    continue;
                }
                let value = match out {
                    Some(mut o) => {
                        o.push_str(&body[from..i]);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(&body[..i]),
                };
                return Some((value, &body[i + 1..]));
            }
            i += 1;
        }
        return None;
    }
    let close = body.find(['"', '\\'])?;
    if body.as_bytes()[close] == b'"' {
        return Some((Cow::Borrowed(&body[..close]), &body[close + 1..]));
    }
    let mut out = String::from(&body[..close]);
    let mut chars = body[close..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), &body[close + i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let simple = match e {
                    '\\' | '"' | '/' | ' ' => Some(e),
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    '0' => Some('\0'),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return None,
                };
                let mut code = 0u32;
                for _ in 0..digits {
                    code = code * 16 + chars.next()?.1.to_digit(16)?;
                }
                out.push(char::from_u32(code)?);
            }
            c => out.push(c),
        }
    }
    None
}

/// Deserializes a value from [`parse`]'s events as serde_yaml would.
pub struct Reader<'e, 'a> {
    events: &'e [Event<'a>],
    pos: usize,
}

impl<'e, 'a> Reader<'e, 'a> {
    pub fn new(events: &'e [Event<'a>]) -> Self {
        Reader { events, pos: 0 }
    }

    fn next(&mut self) -> Result<&'e Event<'a>, Declined> {
        let e = self.events.get(self.pos).ok_or(Declined)?;
        self.pos += 1;
        Ok(e)
    }

    /// The next scalar, plain or (with `any_style`) of any style.
    fn next_scalar(&mut self, any_style: bool) -> Result<&'e str, Declined> {
        match self.next()? {
            Event::Scalar { text, plain } if *plain || any_style => Ok(text),
            _ => Err(Declined),
        }
    }

    /// Steps over one whole node.
    fn skip(&mut self) -> Result<(), Declined> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::SeqStart | Event::MapStart => depth += 1,
                Event::SeqEnd | Event::MapEnd => depth -= 1,
                Event::Scalar { .. } => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// A sequence (`seq`) or mapping; an empty plain scalar where one is
    /// asked for reads as an empty one.
    fn collection<'de, V: Visitor<'de>>(
        &mut self,
        seq: bool,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        match self.events.get(self.pos).ok_or(Declined)? {
            Event::SeqStart if seq => {
                self.pos += 1;
                let value = visitor.visit_seq(Items { r: self })?;
                self.end_collection(value)
            }
            Event::MapStart if !seq => {
                self.pos += 1;
                let value = visitor.visit_map(Items { r: self })?;
                self.end_collection(value)
            }
            Event::Scalar { text, plain: true } if text.is_empty() => {
                self.pos += 1;
                if seq {
                    visitor.visit_seq(Empty)
                } else {
                    visitor.visit_map(Empty)
                }
            }
            _ => Err(Declined),
        }
    }

    /// Like serde_yaml, a visitor must take every item of a collection.
    fn end_collection<T>(&mut self, value: T) -> Result<T, Declined> {
        match self.next()? {
            Event::SeqEnd | Event::MapEnd => Ok(value),
            _ => Err(Declined),
        }
    }
}

/// This reader's only error: the caller then asks serde_yaml, whose error
/// (with its position) is the one reported.
#[derive(Debug)]
pub struct Declined;

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("left to serde_yaml")
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Decimal digits with a leading zero (`0755`, `-007`): a string in YAML 1.2.
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

/// An integer as serde_yaml reads one: an optional sign (a `-` only when
/// `negative` is allowed), `0x`/`0o`/`0b` radix prefixes, decimal otherwise.
fn parse_int<T>(
    s: &str,
    from_str_radix: fn(&str, u32) -> Result<T, ParseIntError>,
    negative: bool,
) -> Option<T> {
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    // One sign at most, and `-` only after none.
    let (minus, magnitude) = match unsigned.strip_prefix('-') {
        Some(m) if negative && unsigned.len() == s.len() => (true, m),
        Some(_) => return None,
        None => (false, unsigned),
    };
    if magnitude.starts_with(['+', '-']) {
        return None;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = magnitude.strip_prefix(prefix) {
            if digits.starts_with(['+', '-']) {
                return None;
            }
            let parsed = if minus {
                from_str_radix(&format!("-{digits}"), radix)
            } else {
                from_str_radix(digits, radix)
            };
            if let Ok(v) = parsed {
                return Some(v);
            }
        }
    }
    if leading_zero_digits(s) {
        return None;
    }
    from_str_radix(unsigned, 10).ok()
}

/// A finite float, or YAML's `.inf`/`.nan` spellings.
fn parse_float(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    if unsigned.len() < s.len() && unsigned.starts_with(['+', '-']) {
        return None;
    }
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN.copysign(1.0));
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A plain scalar read without a type asked for.
fn visit_plain<'de, V: Visitor<'de>>(s: &str, visitor: V) -> Result<V::Value, Declined> {
    if is_null(s) {
        return visitor.visit_unit();
    }
    if let Some(b) = parse_bool(s) {
        return visitor.visit_bool(b);
    }
    if let Some(v) = parse_int(s, u64::from_str_radix, false) {
        return visitor.visit_u64(v);
    }
    if s.starts_with('-') {
        if let Some(v) = parse_int(s, i64::from_str_radix, true) {
            return visitor.visit_i64(v);
        }
    }
    if let Some(v) = parse_int(s, u128::from_str_radix, false) {
        return visitor.visit_u128(v);
    }
    if s.starts_with('-') {
        if let Some(v) = parse_int(s, i128::from_str_radix, true) {
            return visitor.visit_i128(v);
        }
    }
    if !leading_zero_digits(s)
        && let Some(f) = parse_float(s)
    {
        return visitor.visit_f64(f);
    }
    visitor.visit_str(s)
}

macro_rules! integers {
    ($($method:ident => $visit:ident($ty:ty, $negative:expr);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
            let s = self.next_scalar(false)?;
            visitor.$visit(parse_int(s, <$ty>::from_str_radix, $negative).ok_or(Declined)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Reader<'_, '_> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        match self.events.get(self.pos).ok_or(Declined)? {
            Event::Scalar { text, plain } => {
                self.pos += 1;
                if *plain {
                    visit_plain(text, visitor)
                } else {
                    visitor.visit_str(text)
                }
            }
            Event::SeqStart => self.deserialize_seq(visitor),
            Event::MapStart => self.deserialize_map(visitor),
            Event::SeqEnd | Event::MapEnd => Err(Declined),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        visitor.visit_bool(parse_bool(self.next_scalar(false)?).ok_or(Declined)?)
    }

    integers! {
        deserialize_i8 => visit_i64(i64, true);
        deserialize_i16 => visit_i64(i64, true);
        deserialize_i32 => visit_i64(i64, true);
        deserialize_i64 => visit_i64(i64, true);
        deserialize_i128 => visit_i128(i128, true);
        deserialize_u8 => visit_u64(u64, false);
        deserialize_u16 => visit_u64(u64, false);
        deserialize_u32 => visit_u64(u64, false);
        deserialize_u64 => visit_u64(u64, false);
        deserialize_u128 => visit_u128(u128, false);
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        visitor.visit_f64(parse_float(self.next_scalar(false)?).ok_or(Declined)?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        visitor.visit_str(self.next_scalar(true)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        match self.events.get(self.pos).ok_or(Declined)? {
            Event::Scalar { text, plain: true } if is_null(text) => {
                self.pos += 1;
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        if is_null(self.next_scalar(false)?) {
            visitor.visit_unit()
        } else {
            Err(Declined)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.collection(true, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.collection(false, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Declined> {
        self.deserialize_map(visitor)
    }

    /// serde_yaml reads an untagged enum only from a scalar naming a unit
    /// variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Declined> {
        match self.events.get(self.pos).ok_or(Declined)? {
            Event::Scalar { .. } => visitor.visit_enum(UnitVariant { r: self }),
            _ => Err(Declined),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Declined> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// The items of a sequence or the entries of a mapping being read.
struct Items<'r, 'e, 'a> {
    r: &'r mut Reader<'e, 'a>,
}

impl Items<'_, '_, '_> {
    fn at_end(&self) -> bool {
        matches!(
            self.r.events.get(self.r.pos),
            Some(Event::SeqEnd | Event::MapEnd) | None
        )
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, '_, '_> {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Declined> {
        if self.at_end() {
            return Ok(None);
        }
        seed.deserialize(&mut *self.r).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, '_, '_> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Declined> {
        if self.at_end() {
            return Ok(None);
        }
        seed.deserialize(&mut *self.r).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Declined> {
        seed.deserialize(&mut *self.r)
    }
}

/// A collection given as an empty plain scalar.
struct Empty;

impl<'de> de::SeqAccess<'de> for Empty {
    type Error = Declined;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        _: T,
    ) -> Result<Option<T::Value>, Declined> {
        Ok(None)
    }
}

impl<'de> de::MapAccess<'de> for Empty {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        _: K,
    ) -> Result<Option<K::Value>, Declined> {
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }
}

struct UnitVariant<'r, 'e, 'a> {
    r: &'r mut Reader<'e, 'a>,
}

impl<'de, 'r, 'e, 'a> de::EnumAccess<'de> for UnitVariant<'r, 'e, 'a> {
    type Error = Declined;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Declined> {
        Ok((seed.deserialize(&mut *self.r)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_, '_, '_> {
    type Error = Declined;

    fn unit_variant(self) -> Result<(), Declined> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, Declined> {
        Err(Declined)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Declined> {
        Err(Declined)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Declined> {
        Err(Declined)
    }
}
