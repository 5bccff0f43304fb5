//! Manifests at a git revision (`git:REV[:PATH]`), read from the
//! repository's objects with the git command line: the working tree and
//! the index are never touched, so a review can compare `main` with a
//! branch while the checkout holds something else.
//!
//! Why the git CLI rather than gix: anyone reviewing a manifest repository
//! has git; one `ls-tree` and one `cat-file --batch` process read a whole
//! tree (tens of milliseconds); and it keeps meshsim's clean build about 30 s
//! shorter (../shared/docs/dependencies.md).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::diag::Diagnostics;

use super::{Loaded, Skipped, has_manifest_extension, load_text};

/// A tree or file at a revision: `git:REV` or `git:REV:PATH` (PATH relative
/// to the repository's top directory, as in `git show REV:PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRef {
    pub rev: String,
    pub path: String,
}

impl GitRef {
    /// `git:REV[:PATH]`, or None when `spec` is not a git reference.
    pub fn parse(spec: &str) -> Option<GitRef> {
        let rest = spec.strip_prefix("git:")?;
        let (rev, path) = rest.split_once(':').unwrap_or((rest, ""));
        Some(GitRef {
            rev: rev.to_string(),
            path: path.trim_matches('/').to_string(),
        })
    }

    /// How documents read from it name their file: `git:REV:PATH`.
    fn label(&self, file: &str) -> PathBuf {
        PathBuf::from(format!("git:{}:{file}", self.rev))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("git {args}: {message}")]
    Failed { args: String, message: String },
    #[error("{0} does not exist at revision {1}")]
    NoPath(String, String),
    #[error("unexpected output from git cat-file: {0}")]
    Protocol(String),
}

/// Load every manifest under `r` in the repository at `repo`, in the order a
/// directory walk would give (sorted by path, dot-entries skipped).
pub fn load(
    r: &GitRef,
    repo: &Path,
    loaded: &mut Loaded,
    diags: &mut Diagnostics,
) -> Result<(), GitError> {
    let commit = run(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{}^{{commit}}", r.rev),
        ],
    )
    .map_err(|e| match e {
        GitError::Failed { args, .. } => GitError::Failed {
            args,
            message: format!("no commit {}", r.rev),
        },
        e => e,
    })?;
    let commit = commit.trim();
    let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", commit];
    if !r.path.is_empty() {
        args.extend(["--", r.path.as_str()]);
    }
    let listing = run(repo, &args)?;
    let mut blobs: Vec<(PathBuf, String, bool)> = Vec::new();
    for entry in listing.split('\0').filter(|e| !e.is_empty()) {
        // "<mode> <type> <object>\t<path>"
        let Some((head, file)) = entry.split_once('\t') else {
            return Err(GitError::Protocol(entry.to_string()));
        };
        let mut fields = head.split(' ');
        let (mode, kind, object) = (fields.next(), fields.next(), fields.next());
        // Symbolic links and submodules are not files a walk would read.
        if kind != Some("blob") || mode == Some("120000") {
            continue;
        }
        let explicit = file == r.path;
        let below = file
            .strip_prefix(r.path.as_str())
            .unwrap_or(file)
            .trim_start_matches('/');
        if !explicit && below.split('/').any(|c| c.starts_with('.')) {
            continue;
        }
        let object = object.ok_or_else(|| GitError::Protocol(entry.to_string()))?;
        blobs.push((PathBuf::from(file), object.to_string(), explicit));
    }
    if blobs.is_empty() && !r.path.is_empty() {
        return Err(GitError::NoPath(r.path.clone(), r.rev.clone()));
    }
    // Component-wise path order is the order of a sorted directory walk.
    blobs.sort();
    let (wanted, skipped): (Vec<_>, Vec<_>) = blobs
        .into_iter()
        .partition(|(file, _, explicit)| *explicit || has_manifest_extension(file));
    for (file, _, _) in skipped {
        loaded.skipped.push(Skipped {
            file: Arc::from(r.label(&file.to_string_lossy())),
            reason: "not a YAML or JSON file",
        });
    }
    let objects: Vec<&str> = wanted.iter().map(|(_, o, _)| o.as_str()).collect();
    for ((file, _, _), bytes) in wanted.iter().zip(cat_blobs(repo, &objects)?) {
        let label: Arc<Path> = Arc::from(r.label(&file.to_string_lossy()));
        match String::from_utf8(bytes) {
            Ok(text) => load_text(label, text, loaded, diags),
            Err(_) => diags.report(
                crate::diag::Severity::Error,
                "read-failed",
                Some(crate::diag::Span::new(label, 1)),
                None,
                "file is not UTF-8 text",
            ),
        }
    }
    Ok(())
}

/// Run git in `repo` and return its standard output.
fn run(repo: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The contents of `objects`, in order, from one `git cat-file --batch`.
fn cat_blobs(repo: &Path, objects: &[&str]) -> Result<Vec<Vec<u8>>, GitError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| GitError::Protocol("no stdin".into()))?;
    let request: String = objects.iter().map(|o| format!("{o}\n")).collect();
    // Written from another thread: git answers while it reads, and a large
    // tree would otherwise fill both pipes.
    let writer = std::thread::spawn(move || {
        let written = stdin.write_all(request.as_bytes());
        drop(stdin);
        written
    });
    let mut reader = BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| GitError::Protocol("no stdout".into()))?,
    );
    let mut blobs = Vec::with_capacity(objects.len());
    for _ in objects {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        // "<object> blob <size>"
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| GitError::Protocol(header.trim().to_string()))?;
        let mut body = vec![0; size + 1];
        reader.read_exact(&mut body)?;
        body.pop();
        blobs.push(body);
    }
    writer
        .join()
        .map_err(|_| GitError::Protocol("writer thread failed".into()))??;
    child.wait()?;
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(
            GitRef::parse("git:main:overlays/canary/"),
            Some(GitRef {
                rev: "main".into(),
                path: "overlays/canary".into()
            })
        );
        assert_eq!(
            GitRef::parse("git:HEAD~1"),
            Some(GitRef {
                rev: "HEAD~1".into(),
                path: String::new()
            })
        );
        assert_eq!(GitRef::parse("testdata/shop"), None);
    }
}
