//! The tables the generated SQL reads, as CREATE TABLE statements per
//! dialect (`segq sql --ddl`), and the script that loads the CSV files of
//! `segq export` into them (`load.sql`).

use super::dialect::Dialect;
use super::{ColumnLayout, Layout, TableLayout, ROW_KEY};
use crate::schema::FieldType;

/// A column of a CSV file / SQL table: name and stored type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: FieldType,
    pub key: bool,
}

/// A table as written: its columns in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableFile {
    pub name: String,
    pub columns: Vec<Column>,
    /// For set tables: the table and field the members belong to.
    pub set_of: Option<(String, String)>,
}

impl TableFile {
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.name)
    }

    fn key(&self) -> Vec<&Column> {
        self.columns.iter().filter(|c| c.key).collect()
    }
}

/// The tables of a layout in a dialect, in load order.
pub fn tables(layout: &Layout, d: Dialect) -> Vec<TableFile> {
    let mut out = Vec::new();
    for t in layout
        .accounts
        .iter()
        .chain(std::iter::once(&layout.contacts))
    {
        out.push(main_table(layout, t, d));
        if !d.has_arrays() {
            for set in t.set_fields() {
                out.push(set_table(layout, t, set));
            }
        }
    }
    out
}

fn main_table(layout: &Layout, t: &TableLayout, d: Dialect) -> TableFile {
    let mut columns = Vec::new();
    if t.row_key {
        columns.push(Column {
            name: ROW_KEY.to_string(),
            ty: FieldType::Int,
            key: true,
        });
    }
    for c in &t.columns {
        if c.ty == FieldType::Set && !d.has_arrays() {
            continue;
        }
        columns.push(Column {
            name: c.name.clone(),
            ty: layout.stored_type(&c.ty),
            key: !t.row_key && c.name == t.key,
        });
    }
    TableFile {
        name: t.name.clone(),
        columns,
        set_of: None,
    }
}

fn set_table(layout: &Layout, t: &TableLayout, set: &ColumnLayout) -> TableFile {
    TableFile {
        name: t.set_table(&set.name),
        columns: vec![
            Column {
                name: t.set_id(),
                ty: layout.stored_type(&t.key_ty),
                key: true,
            },
            Column {
                name: "value".into(),
                ty: FieldType::String,
                key: true,
            },
        ],
        set_of: Some((t.name.clone(), set.name.clone())),
    }
}

/// The SQL type of a stored column.
pub fn sql_type(d: Dialect, ty: &FieldType, nullable: bool) -> String {
    let base = match (d, ty) {
        (Dialect::Sqlite, FieldType::Int | FieldType::Bool) => "INTEGER",
        (Dialect::Sqlite, FieldType::Float) => "REAL",
        (Dialect::Sqlite, _) => "TEXT",
        (Dialect::Duckdb, FieldType::Int) => "BIGINT",
        (Dialect::Duckdb, FieldType::Float) => "DOUBLE",
        (Dialect::Duckdb, FieldType::Bool) => "BOOLEAN",
        (Dialect::Duckdb, FieldType::Date) => "DATE",
        (Dialect::Duckdb, FieldType::DateTime) => "TIMESTAMP",
        (Dialect::Duckdb, FieldType::Set) => "VARCHAR[]",
        (Dialect::Duckdb, _) => "VARCHAR",
        (Dialect::Postgres, FieldType::Int) => "BIGINT",
        (Dialect::Postgres, FieldType::Float) => "DOUBLE PRECISION",
        (Dialect::Postgres, FieldType::Bool) => "BOOLEAN",
        (Dialect::Postgres, FieldType::Date) => "DATE",
        (Dialect::Postgres, FieldType::DateTime) => "TIMESTAMP",
        (Dialect::Postgres, FieldType::Set) => "TEXT[]",
        (Dialect::Postgres, _) => "TEXT",
        (Dialect::Trino, FieldType::Int) => "BIGINT",
        (Dialect::Trino, FieldType::Float) => "DOUBLE",
        (Dialect::Trino, FieldType::Bool) => "BOOLEAN",
        (Dialect::Trino, FieldType::Date) => "DATE",
        (Dialect::Trino, FieldType::DateTime) => "TIMESTAMP(6)",
        (Dialect::Trino, FieldType::Set) => "ARRAY(VARCHAR)",
        (Dialect::Trino, _) => "VARCHAR",
        (Dialect::Spark, FieldType::Int) => "BIGINT",
        (Dialect::Spark, FieldType::Float) => "DOUBLE",
        (Dialect::Spark, FieldType::Bool) => "BOOLEAN",
        (Dialect::Spark, FieldType::Date) => "DATE",
        (Dialect::Spark, FieldType::DateTime) => "TIMESTAMP",
        (Dialect::Spark, FieldType::Set) => "ARRAY<STRING>",
        (Dialect::Spark, _) => "STRING",
        (Dialect::Clickhouse, ty) => {
            let inner = match ty {
                FieldType::Int => "Int64",
                FieldType::Float => "Float64",
                FieldType::Bool => "Bool",
                FieldType::Date => "Date32",
                FieldType::DateTime => "DateTime64(6, 'UTC')",
                // Arrays cannot be NULL in ClickHouse: an empty array is missing.
                FieldType::Set => return "Array(String)".into(),
                _ => "String",
            };
            let t = if nullable {
                format!("Nullable({inner})")
            } else {
                inner.to_string()
            };
            return if matches!(ty, FieldType::Enum { .. }) {
                format!("LowCardinality({t})")
            } else {
                t
            };
        }
    };
    base.to_string()
}

/// `CREATE TABLE` statements for the layout, with a comment on what the
/// SQL expects of the data.
pub fn ddl(layout: &Layout, d: Dialect) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "-- segq SQL layout for {d}: one row per contact / account; a missing value is NULL.\n"
    ));
    match d {
        Dialect::Sqlite => out.push_str(
            "-- dates are TEXT 'YYYY-MM-DD', date-times TEXT 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), bools 0/1;\n\
             -- set fields are tables contact_<field>(contact_id, value) and account_<field>(account_id, value);\n\
             -- `matches` needs a REGEXP function (the sqlite3 shell has one; register one elsewhere).\n",
        ),
        Dialect::Clickhouse => out.push_str("-- set fields are Array(String); an empty array is a missing set.\n"),
        Dialect::Spark => out.push_str("-- run with spark.sql.session.timeZone = UTC: timestamps are UTC.\n"),
        _ => out.push_str("-- TIMESTAMP values are UTC.\n"),
    }
    for t in tables(layout, d) {
        out.push('\n');
        out.push_str(&create_table(&t, d));
        out.push_str(";\n");
        if d == Dialect::Sqlite && t.set_of.is_some() {
            out.push_str(&format!("CREATE INDEX {0}_value ON {0} (value);\n", t.name));
        }
    }
    out
}

fn create_table(t: &TableFile, d: Dialect) -> String {
    let mut lines: Vec<String> = Vec::new();
    let keys = t.key();
    for c in &t.columns {
        let mut line = format!("  {} {}", d.ident(&c.name), sql_type(d, &c.ty, !c.key));
        if c.key && matches!(d, Dialect::Sqlite | Dialect::Duckdb | Dialect::Postgres) {
            line.push_str(" NOT NULL");
        }
        lines.push(line);
    }
    let key_list = keys
        .iter()
        .map(|c| d.ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    if matches!(d, Dialect::Sqlite | Dialect::Duckdb | Dialect::Postgres) {
        lines.push(format!("  PRIMARY KEY ({key_list})"));
    }
    let mut out = format!("CREATE TABLE {} (\n{}\n)", t.name, lines.join(",\n"));
    match d {
        Dialect::Spark => out.push_str(" USING parquet"),
        Dialect::Clickhouse => {
            out.push_str(&format!("\nENGINE = MergeTree\nORDER BY ({key_list})"))
        }
        _ => {}
    }
    out
}

/// `load.sql`: creates the tables and loads the CSV files beside it.
pub fn load_script(layout: &Layout, d: Dialect) -> String {
    let tables = tables(layout, d);
    let mut out = String::new();
    let how = match d {
        Dialect::Sqlite => "cd <this directory> && sqlite3 segq.db < load.sql",
        Dialect::Duckdb => "cd <this directory> && duckdb segq.duckdb < load.sql",
        Dialect::Postgres => "cd <this directory> && psql -v ON_ERROR_STOP=1 -f load.sql",
        Dialect::Clickhouse => "cd <this directory> && clickhouse-client --multiquery < load.sql",
        Dialect::Spark => "cd <this directory> && spark-sql -f load.sql",
        Dialect::Trino => {
            "upload each CSV to its own folder, set the locations below, run with the trino CLI"
        }
    };
    out.push_str(&format!(
        "-- Loads the CSV files written by `segq export --dialect {d}`.\n-- Run: {how}\n\n"
    ));
    if d == Dialect::Spark {
        out.push_str("SET spark.sql.session.timeZone = UTC;\n\n");
    }
    out.push_str(&ddl(layout, d));
    out.push('\n');
    for t in &tables {
        let file = t.file_name();
        let name = &t.name;
        let cols = |f: &dyn Fn(&Column) -> String| {
            t.columns.iter().map(f).collect::<Vec<_>>().join(",\n  ")
        };
        match d {
            Dialect::Sqlite => {
                out.push_str(&format!(".import --csv --skip 1 {file} {name}\n"));
                let nullable: Vec<String> = t
                    .columns
                    .iter()
                    .filter(|c| !c.key)
                    .map(|c| format!("{0} = NULLIF({0}, '')", d.ident(&c.name)))
                    .collect();
                if !nullable.is_empty() {
                    out.push_str(&format!(
                        "UPDATE {name} SET\n  {};\n",
                        nullable.join(",\n  ")
                    ));
                }
            }
            Dialect::Duckdb => {
                let select = cols(&|c| {
                    let col = d.ident(&c.name);
                    match &c.ty {
                        FieldType::Set => format!("CAST(CAST({col} AS JSON) AS VARCHAR[])"),
                        FieldType::String | FieldType::Enum { .. } | FieldType::Ref => col,
                        ty => format!("CAST({col} AS {})", sql_type(d, ty, true)),
                    }
                });
                out.push_str(&format!(
                    "INSERT INTO {name} SELECT\n  {select}\nFROM read_csv('{file}', header = true, all_varchar = true, quote = '\"', escape = '\"');\n"
                ));
            }
            Dialect::Postgres => {
                out.push_str(&format!(
                    "\\copy {name} FROM '{file}' WITH (FORMAT csv, HEADER true)\n"
                ));
            }
            Dialect::Clickhouse => {
                out.push_str(&format!(
                    "INSERT INTO {name} FROM INFILE '{file}' FORMAT CSVWithNames;\n"
                ));
            }
            Dialect::Spark => {
                out.push_str(&format!(
                    "CREATE OR REPLACE TEMPORARY VIEW {name}_csv\nUSING csv OPTIONS (path '{file}', header 'true', multiLine 'true', escape '\"');\n"
                ));
                let select = cols(&|c| {
                    let col = d.ident(&c.name);
                    match &c.ty {
                        FieldType::Set => format!("from_json({col}, 'array<string>')"),
                        FieldType::String | FieldType::Enum { .. } | FieldType::Ref => col,
                        ty => format!("CAST({col} AS {})", sql_type(d, ty, true)),
                    }
                });
                out.push_str(&format!(
                    "INSERT INTO {name} SELECT\n  {select}\nFROM {name}_csv;\n"
                ));
            }
            Dialect::Trino => {
                let staging = cols(&|c| format!("{} VARCHAR", d.ident(&c.name)));
                out.push_str(&format!(
                    "CREATE TABLE {name}_csv (\n  {staging}\n)\nWITH (format = 'CSV', skip_header_line_count = 1, external_location = 's3://<bucket>/<prefix>/{name}/');\n"
                ));
                let select = cols(&|c| {
                    let col = format!("NULLIF({}, '')", d.ident(&c.name));
                    match &c.ty {
                        FieldType::Set => format!("CAST(json_parse({col}) AS ARRAY(VARCHAR))"),
                        FieldType::String | FieldType::Enum { .. } | FieldType::Ref => col,
                        ty => format!("CAST({col} AS {})", sql_type(d, ty, true)),
                    }
                });
                out.push_str(&format!(
                    "INSERT INTO {name} SELECT\n  {select}\nFROM {name}_csv;\n"
                ));
            }
        }
    }
    out
}
