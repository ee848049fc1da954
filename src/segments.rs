//! Named segments: query files (`*.seg`) loaded together into a library
//! that `@name` resolves through.

use crate::diagnostic::{Diagnostic, SourceId, Sources};
use crate::syntax::ast::{File, Item, SegmentDef};
use crate::syntax::limits;
use ahash::AHashMap;
use std::path::{Path, PathBuf};

/// Every segment definition of the files loaded together.
#[derive(Debug, Default)]
pub struct Library {
    /// Parsed files with their source ids.
    pub files: Vec<(SourceId, PathBuf, File)>,
    defs: AHashMap<String, (SourceId, SegmentDef)>,
    /// Definition order, for listing.
    order: Vec<String>,
}

impl Library {
    pub fn new() -> Library {
        Library::default()
    }

    /// Adds a parsed file. Duplicate names are errors pointing at both.
    pub fn add_file(
        &mut self,
        source: SourceId,
        path: PathBuf,
        file: File,
        errors: &mut Vec<Diagnostic>,
    ) {
        for item in &file.items {
            if let Item::Segment(def) = item {
                self.add(source, def.clone(), errors);
            }
        }
        self.files.push((source, path, file));
    }

    /// Defines one segment (files, or `.segment` in the REPL).
    pub fn add(&mut self, source: SourceId, def: SegmentDef, errors: &mut Vec<Diagnostic>) {
        let name = def.name.name.clone();
        if let Some((first_src, first)) = self.defs.get(&name) {
            errors.push(
                Diagnostic::error(format!("segment `{name}` is defined twice"), def.name.span)
                    .in_source(source)
                    .with_label("defined again here")
                    .with_secondary(*first_src, first.name.span, "first defined here")
                    .with_help(
                        "rename one of them; names are shared by every file loaded together",
                    ),
            );
            return;
        }
        if self.defs.len() >= limits::MAX_SEGMENTS {
            errors.push(
                Diagnostic::error(
                    format!("more than {} segments are loaded", limits::MAX_SEGMENTS),
                    def.name.span,
                )
                .in_source(source),
            );
            return;
        }
        self.order.push(name.clone());
        self.defs.insert(name, (source, def));
    }

    /// Replaces (or adds) a definition, for the REPL's `.segment`.
    pub fn define(&mut self, source: SourceId, def: SegmentDef) {
        let name = def.name.name.clone();
        if !self.defs.contains_key(&name) {
            self.order.push(name.clone());
        }
        self.defs.insert(name, (source, def));
    }

    /// Removes a definition: the REPL undoes a `.segment` that does not check.
    pub fn remove(&mut self, name: &str) -> Option<(SourceId, SegmentDef)> {
        self.order.retain(|n| n != name);
        self.defs.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<(SourceId, &SegmentDef)> {
        self.defs.get(name).map(|(s, d)| (*s, d))
    }

    /// Names in definition order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// `*.seg` files named directly or found (recursively, sorted) in directories.
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "seg") {
            out.push(path);
        }
    }
    Ok(())
}

/// A query file's text; or, for a file over [`limits::MAX_FILE_BYTES`]
/// (which is not read whole), its first bytes and the parser's size error.
#[derive(Debug)]
pub enum QueryText {
    Text(String),
    TooBig { head: String, error: Diagnostic },
}

/// Reads a query file, never more than the size limit (plus one byte).
pub fn read_query_file(path: &Path) -> Result<QueryText, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    let mut bytes = Vec::new();
    file.take(limits::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if len.max(bytes.len() as u64) > limits::MAX_FILE_BYTES as u64 {
        bytes.truncate(4096);
        let size = len.max(bytes.len() as u64);
        return Ok(QueryText::TooBig {
            head: String::from_utf8_lossy(&bytes).into_owned(),
            error: Diagnostic::error(
                format!(
                    "input is {size} bytes, more than the limit of {}",
                    limits::MAX_FILE_BYTES
                ),
                crate::syntax::ast::Span { start: 0, end: 0 },
            ),
        });
    }
    String::from_utf8(bytes).map(QueryText::Text).map_err(|_| {
        format!(
            "cannot read {}: stream did not contain valid UTF-8",
            path.display()
        )
    })
}

/// Reads and parses query files into a library. Returns every diagnostic
/// (parse errors, duplicates); I/O problems are `Err`.
pub fn load_files(
    paths: &[PathBuf],
    sources: &mut Sources,
) -> Result<(Library, Vec<Diagnostic>), String> {
    let mut library = Library::new();
    let mut diags = Vec::new();
    for path in find_files(paths)? {
        let text = match read_query_file(&path)? {
            QueryText::Text(text) => text,
            QueryText::TooBig { head, error } => {
                let source = sources.add(path.display().to_string(), head);
                diags.push(error.in_source(source));
                continue;
            }
        };
        let source = sources.add(path.display().to_string(), text.clone());
        // A statement with a syntax error is reported; the others still load.
        let (file, errs) = crate::syntax::parse::parse_file_recovering(&text);
        diags.extend(errs.into_iter().map(|d| d.in_source(source)));
        library.add_file(source, path, file, &mut diags);
    }
    Ok((library, diags))
}
