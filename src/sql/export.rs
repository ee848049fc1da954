//! Loaded data written as CSV in the layout the generated SQL reads: one
//! file per table (and per set field in SQLite), plus `load.sql`. Each
//! file is written to a temporary file and renamed into place.
//!
//! Cells: a missing value is an empty unquoted field (NULL to every
//! engine's CSV reader); dates `YYYY-MM-DD`; date-times
//! `YYYY-MM-DD HH:MM:SS.ffffff` in UTC; floats in shortest round-trip form;
//! bools `true`/`false` (SQLite `1`/`0`); sets as `{"a","b"}` (PostgreSQL),
//! `['a','b']` (ClickHouse, `[]` when missing), a JSON array (DuckDB,
//! Trino, Spark) or rows of `contact_<field>.csv` (SQLite); refs as the
//! account key, trimmed.

use super::ddl::{self, TableFile};
use super::dialect::{float_text, timestamp_text, Dialect};
use super::{Layout, SqlError, ROW_KEY};
use crate::schema::FieldType;
use crate::store::{Cell, Store, Table};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Files written, in load order, `load.sql` last.
    pub files: Vec<PathBuf>,
    /// Rows per CSV file (without the header).
    pub rows: Vec<u64>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Layout(#[from] SqlError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes the store's tables as CSV into `dir` (created if needed), with `load.sql`.
pub fn export(store: &Store, d: Dialect, dir: &Path) -> Result<Written, ExportError> {
    let layout = Layout::from_store(store)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut written = Written {
        files: Vec::new(),
        rows: Vec::new(),
    };
    for file in ddl::tables(&layout, d) {
        let table = if file
            .set_of
            .as_ref()
            .map_or(file.name == "accounts", |(t, _)| t == "accounts")
        {
            store
                .accounts
                .as_ref()
                .expect("the layout lists accounts only when loaded")
        } else {
            &store.contacts
        };
        let path = dir.join(file.file_name());
        let rows = write_atomic(&path, |w| write_table(w, table, &file, d)).map_err(io(&path))?;
        written.files.push(path);
        written.rows.push(rows);
    }
    let load = dir.join("load.sql");
    let script = ddl::load_script(&layout, d);
    write_atomic(&load, |w| w.write_all(script.as_bytes()).map(|_| 0)).map_err(io(&load))?;
    written.files.push(load);
    Ok(written)
}

/// Writes through a temporary file in the same directory, renamed into place.
fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<u64>,
) -> std::io::Result<u64> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    let n = body(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    // Temporary files are private (0600); the export is for other programs to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(n)
}

fn write_table(
    w: &mut dyn Write,
    table: &Table,
    file: &TableFile,
    d: Dialect,
) -> std::io::Result<u64> {
    let header: Vec<String> = file.columns.iter().map(|c| field(&c.name)).collect();
    writeln!(w, "{}", header.join(","))?;
    let mut rows = 0u64;
    if let Some((_, set)) = &file.set_of {
        let col = table.column(set).expect("set column exists");
        for r in 0..table.len {
            if let Cell::Set(members) = col.cell(r) {
                let id = field(&key_text(table, r, d));
                for m in members {
                    writeln!(w, "{id},{}", field(m))?;
                    rows += 1;
                }
            }
        }
        return Ok(rows);
    }
    let sources: Vec<Option<usize>> = file
        .columns
        .iter()
        .map(|c| {
            if c.name == ROW_KEY && table.key.is_none() {
                None
            } else {
                table.column_index(&c.name)
            }
        })
        .collect();
    let mut line = String::new();
    for r in 0..table.len {
        line.clear();
        for (i, src) in sources.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let text = match src {
                None => Some((r + 1).to_string()),
                Some(c) => {
                    let column = &table.columns[*c];
                    cell_text(&column.cell(r), &column.ty, d)
                }
            };
            if let Some(t) = text {
                line.push_str(&field(&t));
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        rows += 1;
    }
    Ok(rows)
}

/// The key of a row as the SQL stores it.
fn key_text(table: &Table, row: u32, d: Dialect) -> String {
    match table.key {
        Some(k) => {
            cell_text(&table.columns[k].cell(row), &table.columns[k].ty, d).unwrap_or_default()
        }
        None => (row + 1).to_string(),
    }
}

/// A cell as CSV text; `None` for a missing value.
pub fn cell_text(cell: &Cell<'_>, ty: &FieldType, d: Dialect) -> Option<String> {
    Some(match cell {
        Cell::Missing if *ty == FieldType::Set && d == Dialect::Clickhouse => "[]".to_string(),
        Cell::Missing => return None,
        Cell::Text(s) if *ty == FieldType::Ref => s.trim().to_string(),
        Cell::Text(s) => s.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => float_text(*f, false),
        Cell::Bool(b) => match d {
            Dialect::Sqlite => if *b { "1" } else { "0" }.to_string(),
            _ => b.to_string(),
        },
        Cell::Date(k) => crate::time::format_date(*k),
        Cell::DateTime(k) => timestamp_text(*k),
        Cell::Set(members) => match d {
            Dialect::Postgres => {
                let items: Vec<String> = members
                    .iter()
                    .map(|m| format!("\"{}\"", m.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            Dialect::Clickhouse => {
                let items: Vec<String> = members
                    .iter()
                    .map(|m| format!("'{}'", m.replace('\\', "\\\\").replace('\'', "\\'")))
                    .collect();
                format!("[{}]", items.join(","))
            }
            _ => serde_json::to_string(members).expect("strings serialise"),
        },
    })
}

/// One CSV field: quoted when it holds a separator, quote, line break,
/// backslash, a leading quote of either kind, or surrounding whitespace
/// (which some readers trim).
fn field(text: &str) -> String {
    let needs = text.is_empty()
        || text.contains([',', '"', '\n', '\r', '\\'])
        || text.starts_with('\'')
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if needs {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_fields_quote_what_readers_would_change() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field(" padded"), "\" padded\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("'quoted'"), "\"'quoted'\"");
    }

    #[test]
    fn export_cells_per_dialect() {
        let set = Cell::Set(vec!["a b", "it's", "q\"x"]);
        assert_eq!(
            cell_text(&set, &FieldType::Set, Dialect::Postgres).unwrap(),
            r#"{"a b","it's","q\"x"}"#
        );
        assert_eq!(
            cell_text(&set, &FieldType::Set, Dialect::Clickhouse).unwrap(),
            r#"['a b','it\'s','q"x']"#
        );
        assert_eq!(
            cell_text(&set, &FieldType::Set, Dialect::Duckdb).unwrap(),
            r#"["a b","it's","q\"x"]"#
        );
        assert_eq!(
            cell_text(&Cell::Missing, &FieldType::Set, Dialect::Clickhouse).unwrap(),
            "[]"
        );
        assert_eq!(
            cell_text(&Cell::Missing, &FieldType::Int, Dialect::Duckdb),
            None
        );
        assert_eq!(
            cell_text(&Cell::Bool(true), &FieldType::Bool, Dialect::Sqlite).unwrap(),
            "1"
        );
        assert_eq!(
            cell_text(&Cell::Text(" 42 "), &FieldType::Ref, Dialect::Trino).unwrap(),
            "42"
        );
        assert_eq!(
            cell_text(&Cell::Float(0.1), &FieldType::Float, Dialect::Spark).unwrap(),
            "0.1"
        );
    }
}
