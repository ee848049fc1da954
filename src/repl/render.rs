//! What the REPL prints: result rows (table, expanded, CSV, JSONL),
//! breakdowns, and the schema. Each function returns the text; the
//! session writes it.

use crate::output::{self, Format};
use crate::plan::explain::group;
use crate::schema::FieldType;
use crate::store::{column, Cell, Column, ColumnData, Store, Table};
use comfy_table::{CellAlignment, ContentArrangement};
use std::fmt::Write as _;

/// How query results are shown: `.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Table,
    Csv,
    Jsonl,
    /// One block per contact, a line per field (psql's `\x`).
    Expanded,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["table", "csv", "jsonl", "expanded"];

    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Some(Mode::Table),
            "csv" => Some(Mode::Csv),
            "jsonl" => Some(Mode::Jsonl),
            "expanded" => Some(Mode::Expanded),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Table => "table",
            Mode::Csv => "csv",
            Mode::Jsonl => "jsonl",
            Mode::Expanded => "expanded",
        }
    }
}

/// Widest cell text in a table before it is cut with `…`.
const MAX_CELL: usize = 40;

fn cut(s: &str, max: usize) -> String {
    let one_line = s.replace('\n', " ⏎ ");
    if one_line.chars().count() > max {
        let kept: String = one_line.chars().take(max - 1).collect();
        format!("{kept}…")
    } else {
        one_line
    }
}

fn new_table(fit_terminal: bool) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    if fit_terminal {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table
}

fn field_type<'a>(store: &'a Store, f: &output::FieldRef) -> &'a FieldType {
    let table = store
        .table(f.account)
        .expect("field resolved against its table");
    &table.columns[f.index].ty
}

fn right_aligned(ty: &FieldType) -> bool {
    matches!(ty, FieldType::Int | FieldType::Float)
}

/// `0.8 µs`, `12.5 µs`, `3.412 ms`, `1.250 s`.
pub fn duration(d: std::time::Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.1} µs")
    } else if micros < 1e6 {
        format!("{:.3} ms", micros / 1e3)
    } else {
        format!("{:.3} s", micros / 1e6)
    }
}

/// `1 contact`, `1,234 contacts`.
pub fn contacts(n: u64) -> String {
    format!("{} contact{}", group(n), if n == 1 { "" } else { "s" })
}

/// The line under a result: its size, and how many rows were shown.
pub fn count_line(total: u64, shown: usize) -> String {
    if shown as u64 >= total || shown == 0 {
        format!("{}\n", contacts(total))
    } else {
        format!(
            "{} ({} shown; .limit N for more)\n",
            contacts(total),
            group(shown as u64)
        )
    }
}

/// The rows of a result in `mode`. Table and expanded modes end with the
/// count line; CSV and JSONL print only rows.
pub fn rows(
    store: &Store,
    fields: &[output::FieldRef],
    rows: &[u32],
    total: u64,
    mode: Mode,
    fit_terminal: bool,
) -> String {
    let mut out = String::new();
    match mode {
        Mode::Table => {
            if !rows.is_empty() {
                let mut table = new_table(fit_terminal);
                table.set_header(fields.iter().map(|f| f.label.as_str()));
                for &r in rows {
                    table.add_row(
                        fields
                            .iter()
                            .map(|f| cut(&output::cell(store, f, r).to_text(", "), MAX_CELL)),
                    );
                }
                for (i, f) in fields.iter().enumerate() {
                    if right_aligned(field_type(store, f)) {
                        if let Some(c) = table.column_mut(i) {
                            c.set_cell_alignment(CellAlignment::Right);
                        }
                    }
                }
                let _ = writeln!(out, "{table}");
            }
            out.push_str(&count_line(total, rows.len()));
        }
        Mode::Expanded => {
            let width = fields
                .iter()
                .map(|f| f.label.chars().count())
                .max()
                .unwrap_or(0);
            for (n, &r) in rows.iter().enumerate() {
                let head = format!("-[ contact {} ]", n + 1);
                let _ = writeln!(
                    out,
                    "{head}{}",
                    "-".repeat((width + 3).saturating_sub(head.len()) + 8)
                );
                for f in fields {
                    let text = output::cell(store, f, r).to_text(", ").replace('\n', " ⏎ ");
                    let _ = writeln!(out, "{:width$} | {text}", f.label);
                }
            }
            out.push_str(&count_line(total, rows.len()));
        }
        Mode::Csv | Mode::Jsonl => {
            let format = if mode == Mode::Csv {
                Format::Csv
            } else {
                Format::Jsonl
            };
            let mut bytes = Vec::new();
            let _ = output::write_rows(&mut bytes, store, fields, rows, format, total);
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    out
}

/// A breakdown (value, count): `.by` and `.values`. In table mode at most
/// `max_rows` values are listed, with a line saying how many more there are.
pub fn breakdown(
    label: &str,
    counts: &[(Option<String>, u64)],
    total: u64,
    mode: Mode,
    max_rows: usize,
) -> String {
    let mut bytes = Vec::new();
    let format = match mode {
        Mode::Csv => Format::Csv,
        Mode::Jsonl => Format::Jsonl,
        Mode::Table | Mode::Expanded => Format::Table,
    };
    let shown = if format == Format::Table {
        &counts[..counts.len().min(max_rows)]
    } else {
        counts
    };
    let _ = output::write_breakdown(&mut bytes, label, shown, total, format);
    let mut out = String::from_utf8_lossy(&bytes).into_owned();
    if shown.len() < counts.len() {
        let _ = writeln!(
            out,
            "{} more values not shown (.mode csv lists them all)",
            group((counts.len() - shown.len()) as u64)
        );
    }
    out
}

/// A numeric key as text: an int, a float, a date or a date-time.
fn key_text(ty: &FieldType, key: i64) -> String {
    match ty {
        FieldType::Float => Cell::Float(column::key_float(key)).to_text(""),
        FieldType::Date => Cell::Date(key).to_text(""),
        FieldType::DateTime => Cell::DateTime(key).to_text(""),
        _ => Cell::Int(key).to_text(""),
    }
}

/// `.values` of a numeric contacts column: every distinct value, ascending.
pub fn numeric_values(column: &Column) -> Option<Vec<(Option<String>, u64)>> {
    let ColumnData::Num(num) = &column.data else {
        return None;
    };
    let mut counts: Vec<(Option<String>, u64)> = num
        .value_counts()
        .into_iter()
        .map(|(k, n)| (Some(key_text(&column.ty, k)), n))
        .collect();
    let missing = num.keys.len() as u64 - num.present.len();
    if missing > 0 {
        counts.push((None, missing));
    }
    Some(counts)
}

/// How many distinct values a column holds, and a short summary of them.
fn summary(column: &Column) -> (Option<usize>, String) {
    match &column.data {
        ColumnData::Dict(d) => {
            let n = d.values.len();
            let text = if matches!(column.ty, FieldType::Enum { .. }) {
                list_some(d.values_vec())
            } else {
                String::new()
            };
            (Some(n), text)
        }
        ColumnData::Set(s) => (Some(s.values.len()), list_some(&s.values)),
        ColumnData::Bool(_) => (Some(2), "true, false".into()),
        ColumnData::Num(n) => {
            let mut keys = n.present.iter().map(|r| n.keys.get(r as usize));
            let Some(first) = keys.next() else {
                return (None, String::new());
            };
            let (lo, hi) = keys.fold((first, first), |(lo, hi), k| (lo.min(k), hi.max(k)));
            (
                None,
                format!(
                    "{} … {}",
                    key_text(&column.ty, lo),
                    key_text(&column.ty, hi)
                ),
            )
        }
    }
}

fn list_some(values: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut text = values
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > SHOWN {
        let _ = write!(text, ", … ({} more)", values.len() - SHOWN);
    }
    text
}

fn schema_rows(table: &Table, prefix: &str, only: Option<usize>, out: &mut comfy_table::Table) {
    for (i, column) in table.columns.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let (distinct, values) = summary(column);
        let missing = table.len as u64 - column.present().len();
        let key = if table.key == Some(i) { " (key)" } else { "" };
        out.add_row(vec![
            format!("{prefix}{}", column.name),
            format!("{}{key}", column.ty),
            group(missing),
            distinct.map_or(String::new(), |d| group(d as u64)),
            if only.is_some() {
                values
            } else {
                cut(&values, 60)
            },
        ]);
    }
}

/// `.schema`: every field (or one) with its type, missing count, distinct
/// values and a summary of them.
pub fn schema(store: &Store, only: Option<&output::FieldRef>, fit_terminal: bool) -> String {
    let mut table = new_table(fit_terminal);
    table.set_header(["field", "type", "missing", "distinct", "values"]);
    match only {
        Some(f) if f.account => schema_rows(
            store.accounts.as_ref().expect("resolved"),
            "account.",
            Some(f.index),
            &mut table,
        ),
        Some(f) => schema_rows(&store.contacts, "", Some(f.index), &mut table),
        None => {
            schema_rows(&store.contacts, "", None, &mut table);
            if let Some(accounts) = &store.accounts {
                schema_rows(accounts, "account.", None, &mut table);
            }
        }
    }
    for i in 2..=3 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("{table}\n");
    let _ = write!(out, "{}", contacts(store.contacts.len as u64));
    if let Some(accounts) = &store.accounts {
        let _ = write!(
            out,
            ", {} account{}",
            group(accounts.len as u64),
            if accounts.len == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
    out
}

/// A plain table (`.segments`), with the columns `right` aligned right.
pub fn simple_table(
    header: &[&str],
    rows: Vec<Vec<String>>,
    right: &[usize],
    fit_terminal: bool,
) -> String {
    let mut table = new_table(fit_terminal);
    table.set_header(header.iter().copied());
    for row in rows {
        table.add_row(row);
    }
    for &i in right {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!("{table}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_count_line() {
        assert_eq!(count_line(1, 1), "1 contact\n");
        assert_eq!(count_line(0, 0), "0 contacts\n");
        assert_eq!(
            count_line(12_345, 10),
            "12,345 contacts (10 shown; .limit N for more)\n"
        );
        assert_eq!(count_line(12_345, 0), "12,345 contacts\n");
    }

    #[test]
    fn render_durations() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_nanos(800)), "0.8 µs");
        assert_eq!(duration(Duration::from_micros(3412)), "3.412 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.250 s");
    }

    #[test]
    fn render_cut_long_cells() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abcdef", 5), "abcd…");
        assert_eq!(cut("a\nb", 10), "a ⏎ b");
    }

    #[test]
    fn render_modes_parse() {
        for name in Mode::NAMES {
            assert_eq!(Mode::parse(name).unwrap().name(), *name);
        }
        assert_eq!(Mode::parse("CSV"), Some(Mode::Csv));
        assert_eq!(Mode::parse("xml"), None);
    }
}
