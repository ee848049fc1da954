//! Rows and breakdowns out: choosing fields (including `account.f`),
//! sorting, and writing table, CSV, JSONL or ids. The library writes to any
//! `io::Write`; the binary passes stdout.

use crate::schema::FieldType;
use crate::store::column::MISSING;
use crate::store::{Cell, ColumnData, Store, Table};
use roaring::RoaringBitmap;
use std::cmp::Ordering;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Jsonl,
    Ids,
}

/// A field to print: a contacts column or an account column.
#[derive(Debug, Clone)]
pub struct FieldRef {
    pub label: String,
    pub account: bool,
    pub index: usize,
}

/// Resolves `a,b,account.c` against the store, with did-you-mean errors.
pub fn resolve_fields(store: &Store, names: &[String]) -> Result<Vec<FieldRef>, String> {
    names
        .iter()
        .map(|n| resolve_field(store, n.trim()))
        .collect()
}

pub fn resolve_field(store: &Store, name: &str) -> Result<FieldRef, String> {
    let (account, bare) = match name.strip_prefix("account.") {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let table = if account {
        store
            .accounts
            .as_ref()
            .ok_or_else(|| format!("`{name}`: no accounts table is loaded"))?
    } else {
        &store.contacts
    };
    match table.column_index(bare) {
        Some(index) => Ok(FieldRef {
            label: name.to_string(),
            account,
            index,
        }),
        None => {
            let names = table.columns.iter().map(|c| c.name.as_str());
            let prefix = if account { "account." } else { "" };
            let hint = crate::diagnostic::nearest(bare, names, 1)
                .first()
                .map_or(String::new(), |best| {
                    format!("; did you mean `{prefix}{best}`?")
                });
            Err(format!("unknown field `{name}`{hint}"))
        }
    }
}

/// The default fields: every contacts column.
pub fn all_fields(store: &Store) -> Vec<FieldRef> {
    store
        .contacts
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| FieldRef {
            label: c.name.clone(),
            account: false,
            index: i,
        })
        .collect()
}

fn table_of<'a>(store: &'a Store, f: &FieldRef) -> &'a Table {
    if f.account {
        store.accounts.as_ref().expect("resolved against accounts")
    } else {
        &store.contacts
    }
}

/// The value of field `f` for contact `row`.
pub fn cell<'a>(store: &'a Store, f: &FieldRef, row: u32) -> Cell<'a> {
    if f.account {
        let Some(link) = &store.link else {
            return Cell::Missing;
        };
        let a = link.account_of[row as usize];
        if a == MISSING {
            return Cell::Missing;
        }
        table_of(store, f).columns[f.index].cell(a)
    } else {
        store.contacts.columns[f.index].cell(row)
    }
}

fn separator<'a>(store: &'a Store, f: &FieldRef) -> &'a str {
    &table_of(store, f).separators[f.index]
}

/// Orders two cells of one column: missing last, numbers and dates by value,
/// ordered enums by declared order, text lexicographically.
fn compare_cells(a: &Cell<'_>, b: &Cell<'_>, order: Option<&[String]>) -> Ordering {
    match (a, b) {
        (Cell::Missing, Cell::Missing) => Ordering::Equal,
        (Cell::Missing, _) => Ordering::Greater,
        (_, Cell::Missing) => Ordering::Less,
        (Cell::Int(x), Cell::Int(y))
        | (Cell::Date(x), Cell::Date(y))
        | (Cell::DateTime(x), Cell::DateTime(y)) => x.cmp(y),
        (Cell::Float(x), Cell::Float(y)) => x.total_cmp(y),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Text(x), Cell::Text(y)) => match order {
            Some(o) => o
                .iter()
                .position(|v| v == x)
                .cmp(&o.iter().position(|v| v == y)),
            None => x.cmp(y),
        },
        (Cell::Set(x), Cell::Set(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Rows of `result` in output order: sorted by `sort` (missing last), else
/// by row; cut to `limit`.
pub fn ordered_rows(
    store: &Store,
    result: &RoaringBitmap,
    sort: Option<(&FieldRef, bool)>,
    limit: Option<usize>,
) -> Vec<u32> {
    match sort {
        None => result.iter().take(limit.unwrap_or(usize::MAX)).collect(),
        Some((f, desc)) => {
            let column = &table_of(store, f).columns[f.index];
            let order = match column.ty {
                FieldType::Enum { ordered: true } => column.dictionary(),
                _ => None,
            };
            let mut rows: Vec<(Cell<'_>, u32)> =
                result.iter().map(|r| (cell(store, f, r), r)).collect();
            rows.sort_by(|(a, ra), (b, rb)| {
                let ord = match (a, b) {
                    (Cell::Missing, _) | (_, Cell::Missing) => compare_cells(a, b, order),
                    _ if desc => compare_cells(b, a, order),
                    _ => compare_cells(a, b, order),
                };
                ord.then(ra.cmp(rb))
            });
            rows.into_iter()
                .map(|(_, r)| r)
                .take(limit.unwrap_or(usize::MAX))
                .collect()
        }
    }
}

/// Writes rows in a format. `total` is the full result size, for the table footer.
pub fn write_rows(
    out: &mut dyn Write,
    store: &Store,
    fields: &[FieldRef],
    rows: &[u32],
    format: Format,
    total: u64,
) -> io::Result<()> {
    match format {
        Format::Ids => {
            for &r in rows {
                writeln!(out, "{}", store.contacts.key_text(r))?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(fields.iter().map(|f| f.label.as_str()))?;
            for &r in rows {
                w.write_record(
                    fields
                        .iter()
                        .map(|f| cell(store, f, r).to_text(separator(store, f))),
                )?;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            for &r in rows {
                let mut obj = serde_json::Map::new();
                for f in fields {
                    obj.insert(f.label.clone(), cell(store, f, r).to_json());
                }
                writeln!(out, "{}", serde_json::Value::Object(obj))?;
            }
        }
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            // On a terminal, fit the table to its width.
            table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            table.set_header(fields.iter().map(|f| f.label.as_str()));
            for &r in rows {
                table.add_row(fields.iter().map(|f| {
                    let text = cell(store, f, r).to_text(", ");
                    truncate(&text, 40)
                }));
            }
            writeln!(out, "{table}")?;
            let shown = rows.len() as u64;
            if total > shown {
                writeln!(
                    out,
                    "{} rows, {} shown (--limit N to see more)",
                    crate::plan::explain::group(total),
                    shown
                )?;
            } else {
                let noun = if total == 1 { "row" } else { "rows" };
                writeln!(out, "{} {noun}", crate::plan::explain::group(total))?;
            }
        }
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    // CRLF or a lone CR inside a cell would move the terminal's cursor
    let one_line = s
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', " ⏎ ");
    if one_line.chars().count() > max {
        let cut: String = one_line.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// `--by FIELD`: (value, count) pairs over `result`, largest first (ordered
/// enums in declared order); missing values last as `None`.
pub fn breakdown(
    store: &Store,
    f: &FieldRef,
    result: &RoaringBitmap,
) -> Vec<(Option<String>, u64)> {
    let table = table_of(store, f);
    let column = &table.columns[f.index];
    let mut counts: Vec<(Option<String>, u64)> = Vec::new();
    let mut per_value = |value: String, rows_in_table: &RoaringBitmap| {
        let n = if f.account {
            let link = store.link.as_ref().expect("accounts are linked");
            link.contacts_of_accounts(rows_in_table)
                .intersection_len(result)
        } else {
            rows_in_table.intersection_len(result)
        };
        if n > 0 {
            counts.push((Some(value), n));
        }
    };
    match &column.data {
        ColumnData::Dict(d) if d.values.len() <= 4096 => {
            for (c, v) in d.values.iter().enumerate() {
                per_value(v.to_string(), &d.rows_of(&[c as u32]));
            }
        }
        ColumnData::Set(s) => {
            for (c, v) in s.values.iter().enumerate() {
                per_value(v.clone(), &s.bitmaps[c]);
            }
        }
        ColumnData::Bool(b) => {
            per_value("true".into(), &b.trues);
            per_value("false".into(), &(&b.present - &b.trues));
        }
        _ => {
            // Many distinct values: count row by row.
            let mut map: ahash::AHashMap<String, u64> = ahash::AHashMap::new();
            for r in result {
                let c = cell(store, f, r);
                if c != Cell::Missing {
                    *map.entry(c.to_text(separator(store, f))).or_default() += 1;
                }
            }
            counts.extend(map.into_iter().map(|(k, v)| (Some(k), v)));
        }
    }
    let ordered = matches!(column.ty, FieldType::Enum { ordered: true });
    if !ordered {
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    let present: RoaringBitmap = if f.account {
        let link = store.link.as_ref().expect("accounts are linked");
        link.contacts_of_accounts(column.present())
    } else {
        column.present().clone()
    };
    let missing = result.len() - result.intersection_len(&present);
    if missing > 0 {
        counts.push((None, missing));
    }
    counts
}

/// Writes a breakdown as a table (value, count, share), CSV or JSONL.
pub fn write_breakdown(
    out: &mut dyn Write,
    label: &str,
    counts: &[(Option<String>, u64)],
    total: u64,
    format: Format,
) -> io::Result<()> {
    let share = |n: u64| {
        if total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / total as f64
        }
    };
    match format {
        Format::Csv | Format::Ids => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([label, "count"])?;
            for (v, n) in counts {
                w.write_record([v.clone().unwrap_or_default(), n.to_string()])?;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            for (v, n) in counts {
                writeln!(out, "{}", serde_json::json!({ label: v, "count": n }))?;
            }
        }
        Format::Table => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([label, "count", "share"]);
            for (v, n) in counts {
                table.add_row([
                    v.clone().unwrap_or_else(|| "(missing)".into()),
                    crate::plan::explain::group(*n),
                    format!("{:.1}%", share(*n)),
                ]);
            }
            for i in 1..=2 {
                if let Some(c) = table.column_mut(i) {
                    c.set_cell_alignment(comfy_table::CellAlignment::Right);
                }
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} contacts", crate::plan::explain::group(total))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod resolve_tests {
    use super::*;

    #[test]
    fn resolve_field_suggests_names_as_written() {
        let store = crate::store::ingest::generated(&crate::gen::GenConfig {
            contacts: 40,
            accounts: 4,
            seed: 1,
            today_days: 20_000,
        });
        let err = resolve_field(&store, "account.industy").unwrap_err();
        assert_eq!(
            err,
            "unknown field `account.industy`; did you mean `account.industry`?"
        );
        let err = resolve_field(&store, "emial").unwrap_err();
        assert_eq!(err, "unknown field `emial`; did you mean `email`?");
        assert!(resolve_field(&store, "account.industry").is_ok_and(|f| f.account));
    }

    #[test]
    fn table_cells_are_one_line() {
        assert_eq!(truncate("a\r\nb\rc\nd", 40), "a ⏎ b ⏎ c ⏎ d");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
