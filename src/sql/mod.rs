//! Segments beyond one machine: a checked [`Plan`] compiled to one SQL
//! statement for SQLite, DuckDB, PostgreSQL, Trino, Spark or ClickHouse,
//! with segq's semantics exactly (see the README, "When one machine is not
//! enough"); the tables that SQL expects ([`ddl`]), and the data written in
//! that layout ([`export`]).
//!
//! The layout, per table (`contacts`, `accounts`):
//! - one column per field, named as in segq; a missing value is `NULL`;
//! - the key column (`_row`, the 1-based row number, when the data has no key);
//! - a set field is an array column where the engine has arrays, and in
//!   SQLite a table `contact_<field>(contact_id, value)` (accounts:
//!   `account_<field>(account_id, value)`), one row per member;
//! - dates are `DATE`, date-times `TIMESTAMP` in UTC (SQLite: ISO text,
//!   `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS.ffffff`, which sort as they
//!   compare); bools are `BOOLEAN` (SQLite: 0/1);
//! - the contacts' `ref` column holds the account key (trimmed), with the
//!   key's type.

pub mod ddl;
pub mod dialect;
pub mod export;
mod render;

pub use dialect::Dialect;

use crate::plan::Plan;
use crate::schema::{FieldType, Schema, TableSchema};
use crate::store::{Store, Table};

/// The name of the key column added to a table that has no key.
pub const ROW_KEY: &str = "_row";

/// A layout the SQL cannot express.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SqlError(pub String);

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnLayout {
    pub name: String,
    pub ty: FieldType,
}

/// How one table is laid out in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct TableLayout {
    /// `contacts` or `accounts`.
    pub name: String,
    /// `contact` or `account`: prefix of set tables and their id column.
    pub singular: String,
    /// The key column: the data's key, or [`ROW_KEY`].
    pub key: String,
    pub key_ty: FieldType,
    /// The key is [`ROW_KEY`], added by the export.
    pub row_key: bool,
    /// The data's columns, in order (without an added [`ROW_KEY`]).
    pub columns: Vec<ColumnLayout>,
}

impl TableLayout {
    fn from_table(table: &Table, singular: &str) -> TableLayout {
        let columns: Vec<ColumnLayout> = table
            .columns
            .iter()
            .map(|c| ColumnLayout {
                name: c.name.clone(),
                ty: c.ty.clone(),
            })
            .collect();
        let (key, key_ty, row_key) = match table.key {
            Some(k) => (columns[k].name.clone(), columns[k].ty.clone(), false),
            None => (ROW_KEY.to_string(), FieldType::Int, true),
        };
        TableLayout {
            name: table.name.clone(),
            singular: singular.to_string(),
            key,
            key_ty,
            row_key,
            columns,
        }
    }

    fn from_schema(name: &str, singular: &str, ts: &TableSchema, default_key: &str) -> TableLayout {
        let mut columns: Vec<ColumnLayout> = ts
            .fields
            .iter()
            .map(|f| ColumnLayout {
                name: f.name.clone(),
                ty: f.ty.clone(),
            })
            .collect();
        let key = ts.key.clone().unwrap_or_else(|| default_key.to_string());
        // The key first; an undeclared key is text, the type every key fits.
        let key_column = match columns.iter().position(|c| c.name == key) {
            Some(i) => columns.remove(i),
            None => ColumnLayout {
                name: key.clone(),
                ty: FieldType::String,
            },
        };
        let key_ty = key_column.ty.clone();
        columns.insert(0, key_column);
        TableLayout {
            name: name.to_string(),
            singular: singular.to_string(),
            key,
            key_ty,
            row_key: false,
            columns,
        }
    }

    /// The table holding the members of set field `field` (array-less engines).
    pub fn set_table(&self, field: &str) -> String {
        format!("{}_{}", self.singular, field)
    }

    /// The id column of set tables: `contact_id`, `account_id`.
    pub fn set_id(&self) -> String {
        format!("{}_id", self.singular)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnLayout> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Set fields, in column order.
    pub fn set_fields(&self) -> impl Iterator<Item = &ColumnLayout> {
        self.columns.iter().filter(|c| c.ty == FieldType::Set)
    }
}

/// The tables the generated SQL reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub contacts: TableLayout,
    pub accounts: Option<TableLayout>,
    /// The contacts column holding the account key, when contacts link to accounts.
    pub link: Option<String>,
}

impl Layout {
    /// The layout of loaded data (`segq sql --data`, `segq export`).
    pub fn from_store(store: &Store) -> Result<Layout, SqlError> {
        let layout = Layout {
            contacts: TableLayout::from_table(&store.contacts, "contact"),
            accounts: store
                .accounts
                .as_ref()
                .map(|a| TableLayout::from_table(a, "account")),
            link: store
                .link
                .as_ref()
                .map(|l| store.contacts.columns[l.field].name.clone()),
        };
        layout.validate()?;
        Ok(layout)
    }

    /// The layout a schema alone describes (`segq sql --schema`): declared
    /// fields, the key (`id` unless declared), the first `ref` field as the link.
    pub fn from_schema(schema: &Schema) -> Result<Layout, SqlError> {
        let contacts = TableLayout::from_schema("contacts", "contact", &schema.contacts, "id");
        let accounts = schema
            .accounts
            .as_ref()
            .map(|a| TableLayout::from_schema("accounts", "account", a, "id"));
        let link = accounts
            .as_ref()
            .and_then(|_| contacts.columns.iter().find(|c| c.ty == FieldType::Ref))
            .map(|c| c.name.clone());
        let layout = Layout {
            contacts,
            accounts,
            link,
        };
        layout.validate()?;
        Ok(layout)
    }

    fn validate(&self) -> Result<(), SqlError> {
        for t in std::iter::once(&self.contacts).chain(&self.accounts) {
            if let Some(c) = t.columns.iter().find(|c| c.name == ROW_KEY && t.row_key) {
                return Err(SqlError(format!(
                    "`{}` has no key and a column named `{}`; declare a key in schema.toml",
                    t.name, c.name
                )));
            }
        }
        if let (Some(_), Some(accounts)) = (&self.link, &self.accounts) {
            if !matches!(
                accounts.key_ty,
                FieldType::Int | FieldType::String | FieldType::Enum { .. } | FieldType::Ref
            ) {
                return Err(SqlError(format!(
                    "the accounts key `{}` is {}; SQL output supports int and text account keys",
                    accounts.key,
                    accounts.key_ty.name()
                )));
            }
        }
        Ok(())
    }

    /// Whether the account key (and so the contacts' ref column) is an integer.
    pub fn ref_is_int(&self) -> bool {
        self.accounts
            .as_ref()
            .is_some_and(|a| a.key_ty == FieldType::Int)
    }

    /// The SQL type a column is stored as (refs take the account key's type).
    pub fn stored_type(&self, ty: &FieldType) -> FieldType {
        match ty {
            FieldType::Ref if self.ref_is_int() => FieldType::Int,
            FieldType::Ref => FieldType::String,
            other => other.clone(),
        }
    }
}

/// One complete statement selecting the contacts a plan matches:
/// `SELECT c.<key> FROM contacts AS c WHERE …`, or `SELECT count(*) …`.
/// Named segments are inlined.
pub fn compile(plan: &Plan, layout: &Layout, dialect: Dialect, count: bool) -> String {
    render::statement(plan, layout, dialect, count)
}

/// `CREATE VIEW <name> AS SELECT c.* FROM contacts AS c WHERE …` per
/// segment, in the order given (dependencies first, see [`view_order`]);
/// a segment referring to another reads its view.
pub fn compile_views(segments: &[(String, Plan)], layout: &Layout, dialect: Dialect) -> String {
    let mut out = String::new();
    for (name, plan) in segments {
        out.push_str(&render::view(name, plan, layout, dialect));
        out.push_str(";\n\n");
    }
    out.truncate(out.trim_end().len());
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Orders segments so each comes after every segment it refers to
/// (otherwise keeping the given order). `plans` are the segments'
/// checked bodies.
pub fn view_order(plans: &[(String, Plan)]) -> Vec<usize> {
    fn refs(plan: &Plan, out: &mut Vec<String>) {
        match plan {
            Plan::Segment(s) => out.push(s.name.clone()),
            other => {
                for c in other.children() {
                    refs(c, out);
                }
            }
        }
    }
    fn visit(i: usize, plans: &[(String, Plan)], state: &mut [u8], order: &mut Vec<usize>) {
        if state[i] != 0 {
            return; // done, or a cycle (the checker has reported it)
        }
        state[i] = 1;
        let mut deps = Vec::new();
        refs(&plans[i].1, &mut deps);
        for d in deps {
            if let Some(j) = plans.iter().position(|(n, _)| *n == d) {
                visit(j, plans, state, order);
            }
        }
        state[i] = 2;
        order.push(i);
    }
    let mut state = vec![0u8; plans.len()];
    let mut order = Vec::with_capacity(plans.len());
    for i in 0..plans.len() {
        visit(i, plans, &mut state, &mut order);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::{check, CheckContext};
    use crate::plan::Catalog;
    use crate::segments::Library;

    const SCHEMA: &str = r#"
[contacts]
key = "id"
[contacts.fields]
id = "int"
role = "enum"
title = "string"
last_seen = "date"
tags = "set"
account_id = { type = "ref", table = "accounts" }
[accounts]
[accounts.fields]
id = "int"
tier = { type = "enum", values = ["smb", "enterprise"], ordered = true }
employees = "int"
"#;

    #[track_caller]
    fn sql(query: &str, d: Dialect) -> String {
        let schema = crate::schema::parse_schema(SCHEMA).unwrap();
        let catalog = Catalog::from_schema(&schema);
        let library = Library::new();
        let ctx = CheckContext {
            catalog: &catalog,
            now: crate::time::parse_now("2026-03-15T12:00:00Z").unwrap(),
            library: &library,
            source: crate::diagnostic::Sources::new().add("<query>", query),
        };
        let plan = check(&crate::syntax::parse_query(query).unwrap(), &ctx)
            .unwrap()
            .plan;
        compile(&plan, &Layout::from_schema(&schema).unwrap(), d, false)
    }

    #[test]
    fn sql_not_makes_nullable_leaves_two_valued() {
        let q = sql("not role = champion", Dialect::Postgres);
        assert!(
            q.ends_with("WHERE NOT (c.\"role\" IS NOT NULL AND c.\"role\" = 'champion')"),
            "{q}"
        );
        // `!=` needs presence; the presence test makes the guard under `not` redundant
        let q = sql("role != champion", Dialect::Postgres);
        assert!(
            q.ends_with("WHERE c.\"role\" IS NOT NULL AND NOT (c.\"role\" = 'champion')"),
            "{q}"
        );
        // outside any `not`, NULL acts as false: no guard
        let q = sql("role = champion or title contains \"vp\"", Dialect::Duckdb);
        assert!(
            q.ends_with("WHERE c.\"role\" = 'champion' OR contains(lower(c.title), 'vp')"),
            "{q}"
        );
        assert_eq!(
            sql("role is missing", Dialect::Trino).lines().last(),
            Some("WHERE c.\"role\" IS NULL")
        );
    }

    #[test]
    fn sql_account_tests_of_one_and_share_a_subquery() {
        let q = sql(
            "account.tier >= enterprise and account.employees > 10",
            Dialect::Trino,
        );
        assert_eq!(q.matches("FROM accounts").count(), 1, "{q}");
        assert!(
            q.contains("a1.tier = 'enterprise'") && q.contains("a1.employees > 10"),
            "{q}"
        );
        // a contact without an account matches `not account...`
        let q = sql("not account.employees > 10", Dialect::Trino);
        assert!(
            q.contains("WHERE NOT (c.account_id IS NOT NULL AND c.account_id IN ("),
            "{q}"
        );
    }

    #[test]
    fn sql_dates_compare_with_whole_days() {
        // now is the 15th at 12:00: `within 1d` starts at noon on the 14th, so
        // the only whole date inside is the 15th
        let q = sql("last_seen within 1d", Dialect::Spark);
        assert!(q.ends_with("WHERE c.last_seen = DATE '2026-03-15'"), "{q}");
        let q = sql("last_seen > 2026-03-01T06:00:00Z", Dialect::Sqlite);
        assert!(q.ends_with("c.last_seen >= '2026-03-02'"), "{q}");
        let q = sql("last_seen = 2026-03-01T06:00:00Z", Dialect::Duckdb);
        assert!(q.ends_with("WHERE FALSE"), "{q}");
        let q = sql("last_seen > 9999y ago", Dialect::Clickhouse);
        assert!(q.ends_with("WHERE c.last_seen IS NOT NULL"), "{q}");
    }

    #[test]
    fn sql_sets_are_tables_in_sqlite_and_arrays_elsewhere() {
        let q = sql("tags has all [a, b, a]", Dialect::Sqlite);
        assert!(
            q.contains("FROM contact_tags AS t1")
                && q.contains("HAVING count(DISTINCT t1.value) = 2"),
            "{q}"
        );
        assert!(sql("tags has any [a, b]", Dialect::Postgres)
            .ends_with("c.tags && ARRAY['a', 'b']::text[]"));
        assert!(sql("tags has a", Dialect::Clickhouse).ends_with("has(c.tags, 'a')"));
    }

    #[test]
    fn sql_views_come_after_what_they_name() {
        let seg = |name: &str, inner: Plan| {
            Plan::Segment(crate::plan::logical::SegmentPlan {
                name: name.into(),
                plan: Box::new(inner),
            })
        };
        let plans = vec![
            (
                "hot".to_string(),
                Plan::And(vec![seg("a", Plan::All), seg("b", Plan::All)]),
            ),
            ("a".to_string(), seg("b", Plan::All)),
            ("b".to_string(), Plan::All),
        ];
        assert_eq!(view_order(&plans), vec![2, 1, 0]);
    }

    #[test]
    fn sql_clickhouse_trims_what_rust_trims() {
        // The character class ClickHouse's fold strips is exactly Rust's whitespace.
        let text = Dialect::Clickhouse.fold("x");
        let class = text.split('\'').nth(1).unwrap().replace("\\\\", "\\");
        let re = regex::Regex::new(&class).unwrap();
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            let s = format!("{c}");
            assert_eq!(re.is_match(&s), c.is_whitespace(), "{c:?}");
        }
        assert_eq!(
            dialect::WHITESPACE
                .iter()
                .filter(|c| c.is_whitespace())
                .count(),
            25
        );
    }
}
