//! A revision of the manifests: paths and git trees loaded in order, later
//! objects replacing earlier ones of the same identity (`base,overlays/canary`).

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, Severity};

use super::Loaded;
use super::git::{self, GitRef};

/// One part of a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Git(GitRef),
}

/// `a,b,git:REV:c`: the parts of a revision, in order.
pub fn parse(spec: &str) -> Vec<Source> {
    spec.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match GitRef::parse(p) {
            Some(r) => Source::Git(r),
            None => Source::Path(PathBuf::from(p)),
        })
        .collect()
}

/// Read every part, in order, into one set of documents; git references are
/// read from the repository at `repo`. A part that cannot be read is an
/// error diagnostic, as an unreadable path is.
pub fn load(sources: &[Source], repo: &Path, diags: &mut Diagnostics) -> Loaded {
    let mut loaded = Loaded::default();
    for source in sources {
        match source {
            Source::Path(p) => {
                let part = super::load(std::slice::from_ref(p), diags);
                loaded.documents.extend(part.documents);
                loaded.dumps.extend(part.dumps);
                loaded.skipped.extend(part.skipped);
                loaded.files_read += part.files_read;
            }
            Source::Git(r) => {
                if let Err(e) = git::load(r, repo, &mut loaded, diags) {
                    diags.report(
                        Severity::Error,
                        "read-failed",
                        None,
                        None,
                        format!("cannot read git:{}:{}: {e}", r.rev, r.path),
                    );
                }
            }
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_in_order() {
        assert_eq!(
            parse("base,git:HEAD:overlays/x"),
            vec![
                Source::Path(PathBuf::from("base")),
                Source::Git(GitRef {
                    rev: "HEAD".into(),
                    path: "overlays/x".into()
                })
            ]
        );
    }
}
