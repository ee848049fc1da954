//! Commands over query files: `check`, `run`, `test` and `fmt`.

use super::{fail, load_engine, report, DataArgs, Exit};
use crate::diagnostic::{line_col, Diagnostic, Sources};
use crate::engine::Engine;
use crate::output::{self, Format};
use crate::plan::check::{check_segment, CheckContext, SegmentChecker};
use crate::plan::{optimize, Catalog};
use crate::segments::{find_files, load_files, Library};
use crate::syntax::ast::{CmpOp, ExpectKind, Item};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    /// `::error file=F,line=L,col=C::message` lines for GitHub Actions
    Github,
}

/// `segq check`: every diagnostic of every file and query; exit 1 on any error.
pub fn check(
    targets: &[String],
    data: &DataArgs,
    schema: Option<&Path>,
    format: CheckFormat,
) -> Result<(), Exit> {
    let (catalog, now) = match schema {
        Some(path) => {
            let schema = crate::schema::load_schema(path).map_err(|e| {
                if e.ends_with('\n') {
                    // rendered diagnostics
                    eprint!("{e}");
                    Exit(2)
                } else {
                    fail(e)
                }
            })?;
            (Catalog::from_schema(&schema), crate::time::now_micros())
        }
        None => {
            let engine = load_engine(
                &DataArgs {
                    segments: Vec::new(),
                    ..data.clone()
                },
                true,
            )?;
            (engine.catalog.clone(), engine.now)
        }
    };
    let mut files: Vec<PathBuf> = Vec::new();
    let mut queries: Vec<&str> = Vec::new();
    for t in targets {
        let p = Path::new(t);
        if p.exists() {
            files.push(p.to_path_buf());
        } else if t.ends_with(".seg") || t.contains('/') && !t.contains(' ') {
            return Err(fail(format!("{t}: no such file or directory")));
        } else {
            queries.push(t);
        }
    }
    files.extend(data.segments.iter().cloned());
    let mut sources = Sources::new();
    let (library, mut diags) = load_files(&files, &mut sources).map_err(fail)?;
    diags.extend(check_library(&library, &catalog, now, &sources));
    for q in queries {
        let source = sources.add("<query>", q);
        match crate::syntax::parse_query(q) {
            Err(errs) => diags.extend(errs.into_iter().map(|d| d.in_source(source))),
            Ok(expr) => {
                let ctx = CheckContext {
                    catalog: &catalog,
                    now,
                    library: &library,
                    source,
                };
                match crate::plan::check(&expr, &ctx) {
                    Ok(c) => diags.extend(c.warnings),
                    Err(d) => diags.extend(d),
                }
            }
        }
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match format {
        CheckFormat::Human => {
            report(&diags, &sources);
        }
        CheckFormat::Github => {
            let mut out = std::io::stdout().lock();
            for d in &diags {
                let _ = writeln!(out, "{}", github_annotation(d, &sources));
            }
        }
    }
    let files_n = find_files(&files).map(|f| f.len()).unwrap_or(0);
    if errors > 0 {
        eprintln!("{errors} error(s) in {files_n} file(s)");
        Err(Exit(1))
    } else {
        eprintln!(
            "ok: {files_n} file(s), {} segment(s), no errors",
            library.names().count()
        );
        Ok(())
    }
}

/// `::error file=queries/x.seg,line=3,col=5::unknown field `rol``
fn github_annotation(d: &Diagnostic, sources: &Sources) -> String {
    let kind = if d.is_error() { "error" } else { "warning" };
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut msg = d.message.clone();
    if let Some(l) = d.primary.as_ref().filter(|l| !l.text.is_empty()) {
        msg.push_str(&format!(": {}", l.text));
    }
    match d
        .primary
        .as_ref()
        .and_then(|l| sources.get(l.source).map(|s| (l, s)))
    {
        Some((label, src)) => {
            let (line, col) = line_col(&src.text, label.span.start);
            format!(
                "::{kind} file={},line={line},col={col}::{}",
                src.name,
                escape(&msg)
            )
        }
        None => format!("::{kind}::{}", escape(&msg)),
    }
}

/// Checks every segment and expectation of a library.
fn check_library(
    library: &Library,
    catalog: &Catalog,
    now: i64,
    _sources: &Sources,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut checker = SegmentChecker::default();
    for name in library.names().map(str::to_string).collect::<Vec<_>>() {
        let (source, _) = library.get(&name).expect("listed");
        let ctx = CheckContext {
            catalog,
            now,
            library,
            source,
        };
        match check_segment(&name, &ctx, &mut checker) {
            Ok(c) => diags.extend(c.warnings),
            Err(d) => diags.extend(d),
        }
    }
    for (source, _, file) in &library.files {
        for item in &file.items {
            let Item::Expect(e) = item else { continue };
            let mut names = vec![&e.segment];
            if let ExpectKind::Within(o) | ExpectKind::Disjoint(o) = &e.kind {
                names.push(o);
            }
            for n in names {
                if library.get(&n.name).is_none() {
                    let mut d = Diagnostic::error(format!("unknown segment `{}`", n.name), n.span);
                    if let Some(h) = crate::diagnostic::did_you_mean(&n.name, library.names()) {
                        d = d.with_label(h);
                    }
                    diags.push(d.in_source(*source));
                }
            }
            match &e.kind {
                ExpectKind::Count { n, .. } => {
                    diags.extend(count_value(n).err().map(|d| (*d).in_source(*source)))
                }
                ExpectKind::CountBetween { low, high } => {
                    diags.extend(count_value(low).err().map(|d| (*d).in_source(*source)));
                    diags.extend(count_value(high).err().map(|d| (*d).in_source(*source)));
                }
                _ => {}
            }
        }
    }
    diags
}

/// `expect x count > -1`: counts are whole numbers
fn count_value(v: &crate::syntax::ast::Value) -> Result<u64, Box<Diagnostic>> {
    match &v.kind {
        crate::syntax::ast::ValueKind::Number(t) => t.parse::<u64>().map_err(|_| {
            Box::new(
                Diagnostic::error("a count is a whole number of at least 0", v.span)
                    .with_label("expected e.g. `0` or `250`"),
            )
        }),
        _ => Err(Box::new(Diagnostic::error("expected a count", v.span))),
    }
}

/// Loads data plus the given files as the library; any file error is exit 1.
fn engine_with_files(paths: &[PathBuf], data: &DataArgs) -> Result<Engine, Exit> {
    let mut all = data.segments.clone();
    all.extend(paths.iter().cloned());
    let data = DataArgs {
        segments: all,
        ..data.clone()
    };
    let engine = load_engine(&data, false)?;
    let diags = check_library(
        &engine.library,
        &engine.catalog,
        engine.now,
        &engine.sources,
    );
    if report(&diags, &engine.sources) {
        return Err(Exit(1));
    }
    Ok(engine)
}

fn segment_rows(engine: &Engine, name: &str) -> roaring::RoaringBitmap {
    let (source, _) = engine.library.get(name).expect("segment exists");
    let ctx = CheckContext {
        catalog: &engine.catalog,
        now: engine.now,
        library: &engine.library,
        source,
    };
    let checked =
        check_segment(name, &ctx, &mut SegmentChecker::default()).expect("checked before");
    engine.execute(&optimize(checked.plan, Some(&engine.store)))
}

/// `segq run`: each segment's name and count, or members with `--format`.
pub fn run(
    paths: &[PathBuf],
    data: &DataArgs,
    only: Option<&str>,
    format: Option<Format>,
    fields: &[String],
) -> Result<(), Exit> {
    let engine = engine_with_files(paths, data)?;
    let names: Vec<String> = match only {
        Some(n) => {
            if engine.library.get(n).is_none() {
                let hint = crate::diagnostic::did_you_mean(n, engine.library.names())
                    .map_or(String::new(), |h| format!("; {h}"));
                return Err(fail(format!("unknown segment `{n}`{hint}")));
            }
            vec![n.to_string()]
        }
        None => engine.library.names().map(str::to_string).collect(),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result: std::io::Result<()> = (|| {
        match format {
            None => {
                let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
                for n in &names {
                    writeln!(out, "{n:<width$}  {}", segment_rows(&engine, n).len())?;
                }
            }
            Some(format) => {
                let store = &engine.store;
                let fields = if fields.is_empty() {
                    output::all_fields(store)
                } else {
                    output::resolve_fields(store, fields).map_err(std::io::Error::other)?
                };
                for n in &names {
                    let rows = segment_rows(&engine, n);
                    let list: Vec<u32> = rows.iter().collect();
                    if format == Format::Table {
                        writeln!(out, "{n}")?;
                    }
                    output::write_rows(&mut out, store, &fields, &list, format, rows.len())?;
                }
            }
        }
        out.flush()
    })();
    super::finish_output(result)
}

/// `segq test`: every expectation, pass or fail with actual values.
pub fn test(paths: &[PathBuf], data: &DataArgs) -> Result<(), Exit> {
    let engine = engine_with_files(paths, data)?;
    let mut cache: ahash::AHashMap<String, roaring::RoaringBitmap> = ahash::AHashMap::new();
    let mut rows = |name: &str| {
        cache
            .entry(name.to_string())
            .or_insert_with(|| segment_rows(&engine, name))
            .clone()
    };
    let (mut passed, mut failed) = (0, 0);
    let mut out = std::io::stdout().lock();
    for (source, _, file) in &engine.library.files {
        let src = engine.sources.get(*source).expect("registered");
        for item in &file.items {
            let Item::Expect(e) = item else { continue };
            let (line, _) = line_col(&src.text, e.span.start);
            let members = rows(&e.segment.name);
            let (ok, detail) = match &e.kind {
                ExpectKind::Count { op, n } => {
                    let want = count_value(n).expect("checked");
                    let got = members.len();
                    (
                        op.holds(got, want),
                        format!("count {got}, expected {} {want}", op_text(*op)),
                    )
                }
                ExpectKind::CountBetween { low, high } => {
                    let (lo, hi) = (
                        count_value(low).expect("checked"),
                        count_value(high).expect("checked"),
                    );
                    let got = members.len();
                    (
                        lo <= got && got <= hi,
                        format!("count {got}, expected between {lo} and {hi}"),
                    )
                }
                ExpectKind::Within(other) => {
                    let outside = members.len() - members.intersection_len(&rows(&other.name));
                    (
                        outside == 0,
                        format!(
                            "{outside} of {} members are not in `{}`",
                            members.len(),
                            other.name
                        ),
                    )
                }
                ExpectKind::Disjoint(other) => {
                    let shared = members.intersection_len(&rows(&other.name));
                    (
                        shared == 0,
                        format!("{shared} members are also in `{}`", other.name),
                    )
                }
            };
            let status = if ok { "pass" } else { "FAIL" };
            let _ = writeln!(out, "{status}  {}:{line}  {e}  ({detail})", src.name);
            if ok {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed > 0 {
        Err(Exit(1))
    } else {
        Ok(())
    }
}

fn op_text(op: CmpOp) -> &'static str {
    op.as_str()
}

/// `segq fmt`: rewrite files canonically (atomically), or `--check`.
pub fn fmt(paths: &[PathBuf], check_only: bool) -> Result<(), Exit> {
    let files = find_files(paths).map_err(fail)?;
    let mut differ = Vec::new();
    let mut broken = false;
    for path in &files {
        let text = match crate::segments::read_query_file(path).map_err(fail)? {
            crate::segments::QueryText::Text(text) => text,
            crate::segments::QueryText::TooBig { head, error } => {
                let mut sources = Sources::new();
                let s = sources.add(path.display().to_string(), head);
                report(&[error.in_source(s)], &sources);
                broken = true;
                continue;
            }
        };
        match crate::fmt::format_file(&text) {
            Err(diags) => {
                let mut sources = Sources::new();
                let s = sources.add(path.display().to_string(), text.clone());
                let diags: Vec<_> = diags.into_iter().map(|d| d.in_source(s)).collect();
                report(&diags, &sources);
                broken = true;
            }
            Ok(formatted) if formatted != text => {
                if check_only {
                    differ.push(path.clone());
                } else {
                    write_atomic(path, formatted.as_bytes())
                        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
                    eprintln!("formatted {}", path.display());
                }
            }
            Ok(_) => {}
        }
    }
    for p in &differ {
        super::print_out(&format!("{}\n", p.display()))?;
    }
    if broken || !differ.is_empty() {
        if !differ.is_empty() {
            eprintln!(
                "{} file(s) are not formatted; run `segq fmt` on them",
                differ.len()
            );
        }
        Err(Exit(1))
    } else {
        Ok(())
    }
}

/// Writes a file through a temporary file in the same directory, fsynced
/// and renamed over the target, so a crash leaves the old or the new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    // The temporary file is private (0600): keep the target's permissions
    // (`segq fmt`), or make a new file readable as `File::create` would.
    match std::fs::metadata(path) {
        Ok(m) => tmp.as_file().set_permissions(m.permissions())?,
        #[cfg(unix)]
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?
        }
        #[cfg(not(unix))]
        Err(_) => {}
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod write_atomic_tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn write_atomic_keeps_the_files_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.seg");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        super::write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o664);
        let fresh = dir.path().join("fresh.seg");
        super::write_atomic(&fresh, b"x").unwrap();
        assert_eq!(mode(&fresh), 0o644);
    }
}
