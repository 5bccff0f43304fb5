//! Finding the line of a field path in a document's text.
//!
//! serde_yaml reports positions only for errors, but an unknown field is a
//! warning about a value it accepted. Reading the text once more by indentation
//! finds the line for block-style YAML (nearly all manifests); where the scan
//! loses its way the caller falls back to the document's first line.

use std::fmt;

use super::Format;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path into a document, shown as `spec.ports[0].name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based (line, column) of the last segment of `path`, if the scan finds it.
pub fn find(text: &str, format: Format, path: &FieldPath) -> Option<(usize, usize)> {
    match format {
        Format::Yaml => find_yaml(text, path),
        Format::Json => find_json(text, path),
    }
}

/// Column where the key of a line starts once leading spaces and sequence
/// dashes are passed over, and the key text from there.
fn key_start(line: &str) -> (usize, &str) {
    let mut col = 0;
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        col += rest.len() - trimmed.len();
        match trimmed.strip_prefix("- ") {
            Some(after) => {
                col += 2;
                rest = after;
            }
            None => return (col, trimmed),
        }
    }
}

fn is_key(body: &str, key: &str) -> bool {
    let quoted = |q: char| {
        body.strip_prefix(q)
            .and_then(|b| b.strip_prefix(key))
            .and_then(|b| b.strip_prefix(q))
    };
    let after = body
        .strip_prefix(key)
        .or_else(|| quoted('"'))
        .or_else(|| quoted('\''));
    matches!(after, Some(a) if a.starts_with(':'))
}

fn find_yaml(text: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    // The line we stand on, the column of the node it holds, and whether the
    // next key may be on this very line (just after a sequence dash).
    let mut at = 0usize;
    let mut parent_col: isize = -1;
    let mut same_line = true;
    let mut found = None;
    for seg in &path.0 {
        let first = if same_line { at } else { at + 1 };
        match seg {
            Segment::Key(k) => {
                let mut hit = None;
                // Keys of this mapping all sit at the column of its first key;
                // deeper lines belong to nested values.
                let mut child_col = None;
                for (i, line) in lines.iter().enumerate().skip(first) {
                    let t = line.trim_start();
                    if t.is_empty() || t.starts_with('#') {
                        continue;
                    }
                    let (col, body) = key_start(line);
                    if i > at && (col as isize) <= parent_col && !(i == first && same_line) {
                        break;
                    }
                    if *child_col.get_or_insert(col) == col && is_key(body, k) {
                        hit = Some((i, col));
                        break;
                    }
                }
                let (i, col) = hit?;
                at = i;
                parent_col = col as isize;
                same_line = false;
                found = Some((i + 1, col + 1));
            }
            Segment::Index(n) => {
                let mut count = 0usize;
                let mut dash_col = None;
                let mut hit = None;
                for (i, line) in lines.iter().enumerate().skip(at + 1) {
                    let trimmed = line.trim_start_matches(' ');
                    if trimmed.is_empty() || trimmed.starts_with('#') {
                        continue;
                    }
                    let indent = (line.len() - trimmed.len()) as isize;
                    if indent < parent_col {
                        break;
                    }
                    if !trimmed.starts_with('-') {
                        if dash_col.is_none() || Some(indent) <= dash_col {
                            break;
                        }
                        continue;
                    }
                    let d = *dash_col.get_or_insert(indent);
                    if indent == d {
                        if count == *n {
                            hit = Some((i, indent));
                            break;
                        }
                        count += 1;
                    }
                }
                let (i, col) = hit?;
                at = i;
                parent_col = col;
                same_line = true;
                found = Some((i + 1, col as usize + 1));
            }
        }
    }
    found
}

/// JSON manifests are rare and usually machine-written: look for the last
/// key's first occurrence after the previous key's.
fn find_json(text: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let mut offset = 0usize;
    let mut found = None;
    for seg in &path.0 {
        if let Segment::Key(k) = seg {
            let needle = format!("\"{k}\"");
            let i = text[offset..].find(&needle)? + offset;
            offset = i + needle.len();
            let line = text[..i].matches('\n').count() + 1;
            let col = i - text[..i].rfind('\n').map(|p| p + 1).unwrap_or(0) + 1;
            found = Some((line, col));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segs: &[&str]) -> FieldPath {
        FieldPath(
            segs.iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(n) => Segment::Index(n),
                    Err(_) => Segment::Key((*s).to_string()),
                })
                .collect(),
        )
    }

    const DOC: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - name: http\n    port: 80\n  - port: 81\n    bogus: 1\n  selector:\n    app: a\n  bogus: 2\n";

    #[test]
    fn finds_keys_inside_sequences() {
        assert_eq!(
            find_yaml(DOC, &path(&["spec", "ports", "1", "bogus"])),
            Some((10, 5))
        );
        assert_eq!(
            find_yaml(DOC, &path(&["spec", "ports", "1", "port"])),
            Some((9, 5))
        );
        assert_eq!(find_yaml(DOC, &path(&["spec", "bogus"])), Some((13, 3)));
    }

    #[test]
    fn does_not_leave_the_parent_block() {
        assert_eq!(find_yaml(DOC, &path(&["metadata", "selector"])), None);
    }

    #[test]
    fn json_paths() {
        let text = "{\n \"spec\": {\n  \"x\": 1\n }\n}";
        assert_eq!(find_json(text, &path(&["spec", "x"])), Some((3, 3)));
    }

    #[test]
    fn displays_like_jsonpath() {
        assert_eq!(
            path(&["spec", "ports", "0", "name"]).to_string(),
            "spec.ports[0].name"
        );
    }
}
