//! Loading: from paths to raw documents that remember where they came from.
//!
//! This stage knows files, directories, stdin and document boundaries; it knows
//! nothing about Istio. Each YAML or JSON document becomes a [`Document`] holding
//! its own text, the file it came from and the line it starts on, so every later
//! diagnostic can name `file:line`. `kind: List` (and `*List`) documents are
//! opened up into their items here, each with its own line. Envoy config dumps
//! are recognised by content and handed on as [`EnvoyDump`]s, unparsed.

pub(crate) mod block_yaml;
pub mod git;
mod locate;
pub mod revision;
pub mod yaml;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostics, Severity, Span};

pub use locate::{FieldPath, Segment};

/// How a document's text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// `apiVersion`, `kind` and the identity fields of a document, read before its
/// typed body so that a body that fails to decode can still be named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Header {
    /// The API group: `networking.istio.io` for `networking.istio.io/v1`, "" for `v1`.
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(_, v)| v)
            .unwrap_or(&self.api_version)
    }

    /// `Kind namespace/name` (or `Kind name`) for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) if !self.name.is_empty() => format!("{} {}/{}", self.kind, ns, self.name),
            _ if !self.name.is_empty() => format!("{} {}", self.kind, self.name),
            _ => self.kind.clone(),
        }
    }
}

/// One YAML or JSON document with its origin.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: Arc<Path>,
    /// The document's own text (for list items, the item re-based to column 0).
    pub text: Arc<str>,
    /// Line in `file` of the first line of `text`.
    pub line: usize,
    /// False when `text` was re-serialised (a flow-style list item): every
    /// position then maps to `line`.
    pub exact_lines: bool,
    pub format: Format,
    pub header: Header,
}

impl Document {
    /// The document's first line.
    pub fn span(&self) -> Span {
        Span::new(self.file.clone(), self.line)
    }

    /// A position inside the document (1-based line within `text`) in file terms.
    pub fn span_at(&self, rel_line: usize, col: usize) -> Span {
        if !self.exact_lines || rel_line == 0 {
            return self.span();
        }
        Span {
            file: self.file.clone(),
            line: self.line + rel_line - 1,
            col,
        }
    }

    /// Where a field sits, found by reading the text (serde_yaml gives no positions
    /// for values it accepted).
    pub fn locate(&self, path: &FieldPath) -> Span {
        match locate::find(&self.text, self.format, path) {
            Some((line, col)) => self.span_at(line, col),
            None => self.span(),
        }
    }
}

/// What an Envoy admin endpoint printed, recognised by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpKind {
    /// `/config_dump` (what `istioctl proxy-config --file` reads).
    ConfigDump,
    /// `/clusters?format=json` (what the endpoint view reads).
    Clusters,
}

#[derive(Debug, Clone)]
pub struct EnvoyDump {
    pub file: Arc<Path>,
    pub kind: DumpKind,
    pub text: Arc<str>,
}

/// A file passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: Arc<Path>,
    pub reason: &'static str,
}

/// Everything read from the inputs.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub dumps: Vec<EnvoyDump>,
    pub skipped: Vec<Skipped>,
    pub files_read: usize,
}

impl Loaded {
    /// Add what a later input gave.
    fn append(&mut self, mut later: Loaded) {
        self.documents.append(&mut later.documents);
        self.dumps.append(&mut later.dumps);
        self.skipped.append(&mut later.skipped);
        self.files_read += later.files_read;
    }
}

/// What to read: paths in order; `-` is standard input.
pub fn load(paths: &[PathBuf], diags: &mut Diagnostics) -> Loaded {
    let mut loaded = Loaded::default();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            match std::io::stdin().read_to_string(&mut text) {
                Ok(_) => load_text(Arc::from(Path::new("<stdin>")), text, &mut loaded, diags),
                Err(e) => diags.report(
                    Severity::Error,
                    "read-failed",
                    None,
                    None,
                    format!("cannot read standard input: {e}"),
                ),
            }
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                // Files are read and split on every core, then joined in
                // their sorted order (which later-replaces-earlier relies on).
                let files = walk(path, diags);
                for (part, part_diags) in crate::parallel::map_owned(files, |file| {
                    let mut part = Loaded::default();
                    let mut part_diags = Diagnostics::default();
                    load_file(&file, false, &mut part, &mut part_diags);
                    (part, part_diags)
                }) {
                    loaded.append(part);
                    diags.append(part_diags);
                }
            }
            // A file named explicitly is read whatever its extension.
            Ok(_) => load_file(path, true, &mut loaded, diags),
            Err(e) => diags.report(
                Severity::Error,
                "read-failed",
                None,
                None,
                format!("cannot read {}: {e}", path.display()),
            ),
        }
    }
    loaded
}

/// Manifest files under `dir`: sorted by name, dot-entries skipped, so the
/// order (and with it "later replaces earlier") is the same on every machine.
fn walk(dir: &Path, diags: &mut Diagnostics) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => diags.report(
                Severity::Error,
                "read-failed",
                None,
                None,
                format!("cannot walk {}: {e}", dir.display()),
            ),
        }
    }
    files
}

pub(crate) fn has_manifest_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn load_file(path: &Path, explicit: bool, loaded: &mut Loaded, diags: &mut Diagnostics) {
    let file: Arc<Path> = Arc::from(path);
    if !explicit && !has_manifest_extension(path) {
        loaded.skipped.push(Skipped {
            file,
            reason: "not a YAML or JSON file",
        });
        return;
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_text(file, text, loaded, diags),
            Err(_) => diags.report(
                Severity::Error,
                "read-failed",
                Some(Span::new(file, 1)),
                None,
                "file is not UTF-8 text",
            ),
        },
        Err(e) => diags.report(
            Severity::Error,
            "read-failed",
            Some(Span::new(file, 1)),
            None,
            format!("cannot read: {e}"),
        ),
    }
}

/// Split one file's text into documents and classify them.
pub fn load_text(file: Arc<Path>, text: String, loaded: &mut Loaded, diags: &mut Diagnostics) {
    loaded.files_read += 1;
    let text: Arc<str> = Arc::from(text);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Some(kind) = yaml::envoy_dump_kind(&text)
    {
        loaded.dumps.push(EnvoyDump { file, kind, text });
        return;
    }
    if text.contains("{{") && yaml::is_go_template(&text) {
        loaded.skipped.push(Skipped {
            file,
            reason: "Go template (a Helm chart source): render it first",
        });
        return;
    }
    let format = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        Format::Json
    } else {
        Format::Yaml
    };
    let before = loaded.documents.len();
    let mut without_kind = 0usize;
    for (line, range) in split_documents(&text, format) {
        let doc_text: Arc<str> = if range.start == 0 && range.end == text.len() {
            text.clone()
        } else {
            Arc::from(&text[range])
        };
        let mut doc = Document {
            file: file.clone(),
            text: doc_text,
            line,
            exact_lines: true,
            format,
            header: Header::default(),
        };
        match yaml::read_header(&doc) {
            Ok(Some(header)) => {
                doc.header = header;
                if is_list_kind(&doc.header) {
                    expand_list(doc, loaded, diags);
                } else {
                    loaded.documents.push(doc);
                }
            }
            Ok(None) => without_kind += 1,
            Err(e) => diags.report(
                Severity::Error,
                "parse-error",
                Some(doc.span_at(e.line, e.col)),
                None,
                e.message,
            ),
        }
    }
    if loaded.documents.len() == before && without_kind > 0 {
        loaded.skipped.push(Skipped {
            file,
            reason: "holds no Kubernetes object (no apiVersion/kind)",
        });
    } else if without_kind > 0 {
        diags.report(
            Severity::Warning,
            "no-kind",
            Some(Span::new(file, 1)),
            None,
            format!("{without_kind} document(s) without apiVersion/kind skipped"),
        );
    }
}

fn is_list_kind(h: &Header) -> bool {
    // `kind: List` from `kubectl get -o yaml`, and typed lists (DeploymentList,
    // ServiceList...) from the API itself; no real kind ends in "List".
    h.kind.ends_with("List")
}

fn expand_list(list: Document, loaded: &mut Loaded, diags: &mut Diagnostics) {
    match yaml::list_items(&list) {
        Ok(items) => {
            for item in items {
                match yaml::read_header(&item) {
                    Ok(Some(header)) => {
                        let mut item = item;
                        item.header = header;
                        if is_list_kind(&item.header) {
                            expand_list(item, loaded, diags);
                        } else {
                            loaded.documents.push(item);
                        }
                    }
                    Ok(None) => diags.report(
                        Severity::Warning,
                        "no-kind",
                        Some(item.span()),
                        Some(list.header.describe()),
                        "list item without apiVersion/kind skipped",
                    ),
                    Err(e) => diags.report(
                        Severity::Error,
                        "parse-error",
                        Some(item.span_at(e.line, e.col)),
                        None,
                        e.message,
                    ),
                }
            }
        }
        Err(e) => diags.report(
            Severity::Error,
            "parse-error",
            Some(list.span_at(e.line, e.col)),
            Some(list.header.describe()),
            e.message,
        ),
    }
}

/// Byte ranges of the documents in a YAML stream, with the line each starts
/// on. A `---` line at column 0 always separates documents (inside a block
/// scalar it would have to be indented), so a line scan is exact and lets
/// every document know its line without help from the parser.
pub fn split_documents(text: &str, format: Format) -> Vec<(usize, std::ops::Range<usize>)> {
    if format == Format::Json {
        return vec![(1, 0..text.len())];
    }
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    let mut line_no = 0usize;
    // A document starts at its first line of content, so its line (and every
    // "defined at") points at the object, not at the comments above it.
    let push = |docs: &mut Vec<_>, mut line: usize, range: std::ops::Range<usize>| {
        let mut start = range.start;
        for l in text[range.clone()].split_inclusive('\n') {
            let t = l.trim();
            if !t.is_empty() && !t.starts_with('#') {
                docs.push((line, start..range.end));
                return;
            }
            start += l.len();
            line += 1;
        }
    };
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = if let Some(rest) = bare.strip_prefix("---") {
            Some(rest)
        } else if bare == "..." {
            Some("")
        } else {
            None
        };
        if let Some(rest) = marker
            && (rest.is_empty() || rest.starts_with([' ', '\t']))
        {
            push(&mut docs, start_line, start..offset);
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                start = offset + line.len();
                start_line = line_no + 1;
            } else {
                // `--- {flow: doc}` or `--- !tag`: keep the marker line, YAML
                // parses a leading marker fine.
                start = offset;
                start_line = line_no;
            }
        }
        offset += line.len();
    }
    push(&mut docs, start_line, start..text.len());
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> (Loaded, Diagnostics) {
        let mut loaded = Loaded::default();
        let mut diags = Diagnostics::default();
        load_text(
            Arc::from(Path::new("t.yaml")),
            text.to_string(),
            &mut loaded,
            &mut diags,
        );
        (loaded, diags)
    }

    #[test]
    fn splits_documents_and_keeps_lines() {
        let text = "# c\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n\n---   # x\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n...\n";
        let (loaded, diags) = load_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<_> = loaded
            .documents
            .iter()
            .map(|d| (d.line, d.header.kind.as_str(), d.header.name.as_str()))
            .collect();
        assert_eq!(got, vec![(3, "Service", "a"), (10, "Pod", "b")]);
    }

    #[test]
    fn expands_block_lists_with_item_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: ServiceList\n  items: []\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n";
        let (loaded, diags) = load_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<_> = loaded
            .documents
            .iter()
            .map(|d| (d.line, d.header.kind.as_str()))
            .collect();
        assert_eq!(got, vec![(4, "Service"), (11, "Pod")]);
    }

    #[test]
    fn expands_json_lists() {
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}},\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"}}]}";
        let (loaded, diags) = load_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<_> = loaded
            .documents
            .iter()
            .map(|d| (d.line, d.header.name.as_str()))
            .collect();
        assert_eq!(got, vec![(2, "a"), (3, "b")]);
    }

    #[test]
    fn files_without_objects_are_skipped_not_errors() {
        let (loaded, diags) = load_str("apiVersion: v2\nname: chart\nversion: 1.0.0\n");
        assert!(diags.is_empty());
        assert!(loaded.documents.is_empty());
        assert_eq!(loaded.skipped.len(), 1);
    }

    #[test]
    fn bad_yaml_names_file_line_and_column() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n";
        let (loaded, diags) = load_str(text);
        assert_eq!(loaded.documents.len(), 1);
        let d = diags.iter().next().expect("a diagnostic");
        assert_eq!(d.severity, Severity::Error);
        let span = d.span.as_ref().expect("span");
        assert!(span.line >= 9, "{d}");
    }

    #[test]
    fn recognises_envoy_dumps() {
        let (loaded, _) = load_str(
            "{\"configs\": [{\"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\"}]}",
        );
        assert_eq!(loaded.dumps.len(), 1);
        assert_eq!(loaded.dumps[0].kind, DumpKind::ConfigDump);
    }
}
