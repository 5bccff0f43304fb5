//! Diagnostics: what meshsim has to say about the user's input.
//!
//! Problems in manifests never abort a run. Every stage pushes a [`Diagnostic`]
//! into a [`Diagnostics`] sink and keeps going; the CLI prints them to stderr as
//! `LEVEL file:line:col: object: message` and turns errors into exit code 2 at
//! the end (ripgrep's way), so one broken document never hides the rest.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// How bad a diagnostic is. Errors make the run exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in an input file. `line` and `col` count from 1; `col` 0 means unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: Arc<Path>,
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(file: Arc<Path>, line: usize) -> Self {
        Span { file, line, col: 0 }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if self.col > 0 {
            write!(f, ":{}", self.col)?;
        }
        Ok(())
    }
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case code, so tests and users can filter (`unknown-field`).
    pub code: &'static str,
    pub span: Option<Span>,
    /// `Kind namespace/name` of the object concerned, when known.
    pub object: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.severity)?;
        if let Some(span) = &self.span {
            write!(f, " {span}")?;
        }
        f.write_str(":")?;
        if let Some(object) = &self.object {
            write!(f, " {object}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// The sink every stage writes into.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Add what another sink collected, after this one's.
    pub fn append(&mut self, mut later: Diagnostics) {
        self.items.append(&mut later.items);
    }

    /// Shorthand for the common case.
    pub fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: Option<Span>,
        object: Option<String>,
        message: impl Into<String>,
    ) {
        self.push(Diagnostic {
            severity,
            code,
            span,
            object,
            message: message.into(),
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
