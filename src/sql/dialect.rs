//! What differs between SQL engines: quoting, literals, and the spelling
//! of the few functions a segment needs (case folding, substring and
//! regex tests, arrays). Everything here returns SQL text.

use crate::time;
use std::fmt::Write as _;

/// A SQL engine that `segq sql` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Dialect {
    Sqlite,
    Duckdb,
    Postgres,
    Trino,
    Spark,
    Clickhouse,
}

/// Every dialect, in the order the docs list them.
pub const ALL: [Dialect; 6] = [
    Dialect::Sqlite,
    Dialect::Duckdb,
    Dialect::Postgres,
    Dialect::Trino,
    Dialect::Spark,
    Dialect::Clickhouse,
];

/// The first and last instant a temporal literal may name, per engine
/// (microseconds): 0001-01-01 to 9999-12-31, and ClickHouse's Date32 /
/// DateTime64 range 1900-01-01 to 2299-12-31.
const SQL_MIN: i64 = -62_135_596_800_000_000;
const SQL_MAX: i64 = 253_402_300_799_999_999;
const CLICKHOUSE_MIN: i64 = -2_208_988_800_000_000;
const CLICKHOUSE_MAX: i64 = 10_413_791_999_999_999;

/// Characters Rust's `str::trim` removes (Unicode `White_Space`), which
/// `is duplicate` strips before comparing strings.
pub const WHITESPACE: [char; 25] = [
    '\u{9}', '\u{a}', '\u{b}', '\u{c}', '\u{d}', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Words some engine reserves; a column with such a name is quoted.
const RESERVED: &[&str] = &[
    "abs",
    "all",
    "allocate",
    "alter",
    "analyse",
    "analyze",
    "and",
    "anti",
    "any",
    "are",
    "array",
    "as",
    "asc",
    "asymmetric",
    "at",
    "authorization",
    "avg",
    "begin",
    "between",
    "bigint",
    "binary",
    "blob",
    "boolean",
    "both",
    "by",
    "call",
    "called",
    "cardinality",
    "cascaded",
    "case",
    "cast",
    "ceil",
    "char",
    "character",
    "check",
    "clob",
    "close",
    "collate",
    "collation",
    "column",
    "commit",
    "concurrently",
    "condition",
    "connect",
    "constraint",
    "contains",
    "convert",
    "corresponding",
    "count",
    "create",
    "cross",
    "cube",
    "current",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "cycle",
    "date",
    "day",
    "deallocate",
    "dec",
    "decimal",
    "declare",
    "default",
    "deferrable",
    "delete",
    "deref",
    "desc",
    "describe",
    "deterministic",
    "disconnect",
    "distinct",
    "do",
    "double",
    "drop",
    "dynamic",
    "each",
    "element",
    "else",
    "end",
    "escape",
    "every",
    "except",
    "exec",
    "execute",
    "exists",
    "extract",
    "false",
    "fetch",
    "filter",
    "final",
    "first",
    "float",
    "for",
    "foreign",
    "free",
    "freeze",
    "from",
    "full",
    "function",
    "fusion",
    "get",
    "glob",
    "global",
    "grant",
    "group",
    "grouping",
    "having",
    "hold",
    "hour",
    "identity",
    "if",
    "ilike",
    "in",
    "index",
    "indicator",
    "initially",
    "inner",
    "inout",
    "insensitive",
    "insert",
    "int",
    "integer",
    "intersect",
    "intersection",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "lead",
    "leading",
    "left",
    "like",
    "limit",
    "local",
    "localtime",
    "localtimestamp",
    "lower",
    "map",
    "match",
    "max",
    "member",
    "merge",
    "method",
    "min",
    "minus",
    "minute",
    "mod",
    "modifies",
    "module",
    "month",
    "multiset",
    "national",
    "natural",
    "nchar",
    "nclob",
    "new",
    "no",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "of",
    "offset",
    "old",
    "on",
    "only",
    "open",
    "or",
    "order",
    "out",
    "outer",
    "over",
    "overlaps",
    "overlay",
    "parameter",
    "partition",
    "placing",
    "position",
    "precision",
    "prepare",
    "primary",
    "procedure",
    "qualify",
    "range",
    "reads",
    "real",
    "recursive",
    "ref",
    "references",
    "referencing",
    "regexp",
    "release",
    "rename",
    "replace",
    "result",
    "return",
    "returning",
    "returns",
    "revoke",
    "right",
    "rlike",
    "role",
    "rollback",
    "rollup",
    "row",
    "rows",
    "sample",
    "savepoint",
    "scope",
    "scroll",
    "search",
    "second",
    "select",
    "semi",
    "sensitive",
    "session_user",
    "set",
    "settings",
    "similar",
    "smallint",
    "some",
    "specific",
    "sql",
    "start",
    "static",
    "struct",
    "submultiset",
    "sum",
    "symmetric",
    "system",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "timezone_hour",
    "timezone_minute",
    "to",
    "top",
    "trailing",
    "translate",
    "translation",
    "treat",
    "trigger",
    "trim",
    "true",
    "uescape",
    "union",
    "unique",
    "unknown",
    "unnest",
    "update",
    "upper",
    "user",
    "using",
    "value",
    "values",
    "varchar",
    "variadic",
    "varying",
    "verbose",
    "when",
    "whenever",
    "where",
    "window",
    "with",
    "within",
    "without",
    "year",
];

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Duckdb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Trino => "trino",
            Dialect::Spark => "spark",
            Dialect::Clickhouse => "clickhouse",
        }
    }

    /// Whether set fields are array columns (else a `contact_<field>` table).
    pub fn has_arrays(self) -> bool {
        self != Dialect::Sqlite
    }

    /// An identifier, quoted when it is not a plain lower-case word or is
    /// reserved by some engine.
    pub fn ident(self, name: &str) -> String {
        let plain = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && RESERVED.binary_search(&name).is_err();
        if plain {
            name.to_string()
        } else {
            self.quoted_ident(name)
        }
    }

    /// An identifier, always quoted (view names keep their case).
    pub fn quoted_ident(self, name: &str) -> String {
        match self {
            Dialect::Spark | Dialect::Clickhouse => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A string literal that reads back as exactly `s` (control and
    /// non-space whitespace characters are escaped, so the SQL text stays
    /// printable).
    pub fn string(self, s: &str) -> String {
        let special = |c: char| c.is_control() || (c.is_whitespace() && c != ' ');
        match self {
            Dialect::Spark => {
                let mut out = String::from("'");
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if special(c) => {
                            let _ = write!(out, "\\u{:04X}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Dialect::Clickhouse => {
                let mut out = String::from("'");
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if special(c) => {
                            let mut buf = [0u8; 4];
                            for b in c.encode_utf8(&mut buf).bytes() {
                                let _ = write!(out, "\\x{b:02X}");
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Dialect::Postgres | Dialect::Trino if s.chars().any(special) => {
                // U&'...' (standard SQL Unicode escapes): `\XXXX`, `\+XXXXXX`.
                let mut out = String::from("U&'");
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("''"),
                        c if special(c) && (c as u32) <= 0xFFFF => {
                            let _ = write!(out, "\\{:04X}", c as u32);
                        }
                        c if special(c) => {
                            let _ = write!(out, "\\+{:06X}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('\'');
                out
            }
            Dialect::Sqlite | Dialect::Duckdb if s.chars().any(special) => {
                // 'ab' || char(10) || 'cd'
                let func = if self == Dialect::Sqlite {
                    "char"
                } else {
                    "chr"
                };
                let mut parts: Vec<String> = Vec::new();
                let mut run = String::new();
                for c in s.chars() {
                    if special(c) {
                        if !run.is_empty() {
                            parts.push(format!("'{}'", run.replace('\'', "''")));
                            run.clear();
                        }
                        parts.push(format!("{func}({})", c as u32));
                    } else {
                        run.push(c);
                    }
                }
                if !run.is_empty() {
                    parts.push(format!("'{}'", run.replace('\'', "''")));
                }
                format!("({})", parts.join(" || "))
            }
            _ => format!("'{}'", s.replace('\'', "''")),
        }
    }

    pub fn bool(self, b: bool) -> &'static str {
        match (self, b) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// A condition that always holds / never holds.
    pub fn truth(self, b: bool) -> &'static str {
        if b {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// A double literal with exactly the value `v` (shortest round-trip
    /// digits, with an exponent so every engine reads it as a double).
    pub fn float(self, v: f64) -> String {
        float_text(v, true)
    }

    /// The instants a temporal literal may name.
    pub fn temporal_range(self) -> (i64, i64) {
        match self {
            Dialect::Clickhouse => (CLICKHOUSE_MIN, CLICKHOUSE_MAX),
            _ => (SQL_MIN, SQL_MAX),
        }
    }

    /// A date literal; `micros` is a midnight UTC.
    pub fn date(self, micros: i64) -> String {
        let text = time::format_date(micros);
        match self {
            Dialect::Sqlite => format!("'{text}'"),
            Dialect::Clickhouse => format!("toDate32('{text}')"),
            _ => format!("DATE '{text}'"),
        }
    }

    /// A timestamp literal (UTC, microseconds).
    pub fn timestamp(self, micros: i64) -> String {
        let text = timestamp_text(micros);
        match self {
            Dialect::Sqlite => format!("'{text}'"),
            Dialect::Clickhouse => format!("toDateTime64('{text}', 6, 'UTC')"),
            _ => format!("TIMESTAMP '{text}'"),
        }
    }

    /// Lower-cases text (Unicode where the engine can).
    pub fn lower(self, e: &str) -> String {
        match self {
            Dialect::Clickhouse => format!("lowerUTF8({e})"),
            _ => format!("lower({e})"),
        }
    }

    /// Trimmed of [`WHITESPACE`] and lower-cased: how `is duplicate`
    /// compares strings.
    pub fn fold(self, e: &str) -> String {
        let set: String = WHITESPACE.iter().collect();
        let set = match self {
            Dialect::Clickhouse => String::new(),
            Dialect::Sqlite => {
                let codes: Vec<String> =
                    WHITESPACE.iter().map(|c| (*c as u32).to_string()).collect();
                format!("char({})", codes.join(", "))
            }
            _ => self.string(&set),
        };
        let trimmed = match self {
            Dialect::Sqlite | Dialect::Duckdb => format!("trim({e}, {set})"),
            Dialect::Postgres => format!("btrim({e}, {set})"),
            Dialect::Trino | Dialect::Spark => format!("trim(BOTH {set} FROM {e})"),
            // ClickHouse trims bytes, which would cut multi-byte characters: a regex.
            Dialect::Clickhouse => {
                let class = "[\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]";
                let re = self.string(&format!("^{class}+|{class}+$"));
                format!("replaceRegexpAll({e}, {re}, '')")
            }
        };
        self.lower(&trimmed)
    }

    /// A text expression of a column that may not be text (an int key).
    pub fn as_text(self, e: &str) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({e} AS TEXT)"),
            Dialect::Duckdb | Dialect::Trino => format!("CAST({e} AS VARCHAR)"),
            Dialect::Spark => format!("CAST({e} AS STRING)"),
            Dialect::Clickhouse => format!("toString({e})"),
        }
    }

    /// `lowered` contains `needle` (non-empty, already lower-case).
    pub fn contains(self, lowered: &str, needle: &str) -> String {
        let n = self.string(needle);
        match self {
            Dialect::Sqlite | Dialect::Spark => format!("instr({lowered}, {n}) > 0"),
            Dialect::Duckdb => format!("contains({lowered}, {n})"),
            Dialect::Postgres | Dialect::Trino => format!("strpos({lowered}, {n}) > 0"),
            Dialect::Clickhouse => format!("position({lowered}, {n}) > 0"),
        }
    }

    pub fn starts_with(self, lowered: &str, needle: &str) -> String {
        let n = self.string(needle);
        let len = needle.chars().count();
        match self {
            Dialect::Sqlite => format!("substr({lowered}, 1, {len}) = {n}"),
            Dialect::Duckdb | Dialect::Postgres | Dialect::Trino => {
                format!("starts_with({lowered}, {n})")
            }
            Dialect::Spark => format!("left({lowered}, {len}) = {n}"),
            Dialect::Clickhouse => format!("startsWith({lowered}, {n})"),
        }
    }

    pub fn ends_with(self, lowered: &str, needle: &str) -> String {
        let n = self.string(needle);
        let len = needle.chars().count();
        match self {
            Dialect::Sqlite | Dialect::Trino => format!("substr({lowered}, -{len}) = {n}"),
            Dialect::Duckdb => format!("ends_with({lowered}, {n})"),
            Dialect::Postgres | Dialect::Spark => format!("right({lowered}, {len}) = {n}"),
            Dialect::Clickhouse => format!("endsWith({lowered}, {n})"),
        }
    }

    /// The regular expression matches somewhere in `e`.
    pub fn regex(self, e: &str, pattern: &str) -> String {
        let p = self.string(pattern);
        match self {
            Dialect::Sqlite => format!("{e} REGEXP {p}"),
            Dialect::Duckdb => format!("regexp_matches({e}, {p})"),
            Dialect::Postgres => format!("{e} ~ {p}"),
            Dialect::Trino => format!("regexp_like({e}, {p})"),
            Dialect::Spark => format!("{e} RLIKE {p}"),
            Dialect::Clickhouse => format!("match({e}, {p})"),
        }
    }

    /// An array literal of strings.
    pub fn array(self, values: &[String]) -> String {
        let items: Vec<String> = values.iter().map(|v| self.string(v)).collect();
        let items = items.join(", ");
        match self {
            Dialect::Duckdb | Dialect::Clickhouse => format!("[{items}]"),
            Dialect::Postgres => format!("ARRAY[{items}]::text[]"),
            Dialect::Trino => format!("ARRAY[{items}]"),
            Dialect::Spark => format!("array({items})"),
            Dialect::Sqlite => unreachable!("sqlite has no arrays"),
        }
    }

    /// The array holds at least one element (never NULL).
    pub fn array_present(self, e: &str) -> String {
        match self {
            Dialect::Duckdb => format!("coalesce(len({e}), 0) > 0"),
            Dialect::Postgres | Dialect::Trino => format!("coalesce(cardinality({e}), 0) > 0"),
            Dialect::Spark => format!("coalesce(size({e}), 0) > 0"),
            Dialect::Clickhouse => format!("notEmpty({e})"),
            Dialect::Sqlite => unreachable!("sqlite has no arrays"),
        }
    }

    /// The array holds any of `values`.
    pub fn array_any(self, e: &str, values: &[String]) -> String {
        if let [one] = values {
            return self.array_has(e, one);
        }
        let a = self.array(values);
        match self {
            Dialect::Duckdb => format!("list_has_any({e}, {a})"),
            Dialect::Postgres => format!("{e} && {a}"),
            Dialect::Trino | Dialect::Spark => format!("arrays_overlap({e}, {a})"),
            Dialect::Clickhouse => format!("hasAny({e}, {a})"),
            Dialect::Sqlite => unreachable!("sqlite has no arrays"),
        }
    }

    /// The array holds every one of `values`.
    pub fn array_all(self, e: &str, values: &[String]) -> String {
        if let [one] = values {
            return self.array_has(e, one);
        }
        let a = self.array(values);
        match self {
            Dialect::Duckdb => format!("list_has_all({e}, {a})"),
            Dialect::Postgres => format!("{e} @> {a}"),
            Dialect::Trino => format!("cardinality(array_except({a}, {e})) = 0"),
            Dialect::Spark => format!("size(array_except({a}, {e})) = 0"),
            Dialect::Clickhouse => format!("hasAll({e}, {a})"),
            Dialect::Sqlite => unreachable!("sqlite has no arrays"),
        }
    }

    fn array_has(self, e: &str, value: &str) -> String {
        let v = self.string(value);
        match self {
            Dialect::Duckdb => format!("list_contains({e}, {v})"),
            Dialect::Postgres => format!("{v} = ANY({e})"),
            Dialect::Trino => format!("contains({e}, {v})"),
            Dialect::Spark => format!("array_contains({e}, {v})"),
            Dialect::Clickhouse => format!("has({e}, {v})"),
            Dialect::Sqlite => unreachable!("sqlite has no arrays"),
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Dialect, String> {
        ALL.iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown dialect `{s}`: expected one of sqlite, duckdb, postgres, trino, spark, clickhouse"))
    }
}

/// `2026-01-31 09:30:00.000000`: UTC, always six fractional digits, so the
/// text sorts as the instant does (SQLite compares it as text).
pub fn timestamp_text(micros: i64) -> String {
    let day = micros.div_euclid(time::MICROS_PER_DAY) * time::MICROS_PER_DAY;
    let rest = micros - day;
    let secs = rest / time::MICROS_PER_SECOND;
    let frac = rest % time::MICROS_PER_SECOND;
    format!(
        "{} {:02}:{:02}:{:02}.{:06}",
        time::format_date(day),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        frac
    )
}

/// A float as the shortest text that reads back as the same f64;
/// `exponent` appends one (`2.5E0`) so SQL reads a double, not a decimal.
pub fn float_text(v: f64, exponent: bool) -> String {
    let plain = v.to_string();
    if plain.len() > 24 {
        format!("{v:e}")
    } else if exponent {
        format!("{plain}E0")
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_reserved_words_are_sorted_for_binary_search() {
        assert!(
            RESERVED.windows(2).all(|w| w[0] < w[1]),
            "{:?}",
            RESERVED.windows(2).find(|w| w[0] >= w[1])
        );
    }

    #[test]
    fn sql_identifiers_are_quoted_only_when_needed() {
        assert_eq!(Dialect::Postgres.ident("replies_30d"), "replies_30d");
        assert_eq!(Dialect::Postgres.ident("order"), "\"order\"");
        assert_eq!(Dialect::Postgres.ident("Title"), "\"Title\"");
        assert_eq!(Dialect::Spark.ident("date"), "`date`");
        assert_eq!(Dialect::Clickhouse.ident("a`b"), "`a``b`");
    }

    #[test]
    fn sql_string_literals_escape_per_dialect() {
        let s = "it's a\\b\tc";
        assert_eq!(
            Dialect::Sqlite.string(s),
            "('it''s a\\b' || char(9) || 'c')"
        );
        assert_eq!(Dialect::Duckdb.string("x'y"), "'x''y'");
        assert_eq!(Dialect::Postgres.string(s), "U&'it''s a\\\\b\\0009c'");
        assert_eq!(Dialect::Trino.string("a\u{a0}"), "U&'a\\00A0'");
        assert_eq!(Dialect::Spark.string(s), "'it\\'s a\\\\b\\u0009c'");
        assert_eq!(
            Dialect::Clickhouse.string("it's\u{a0}"),
            "'it\\'s\\xC2\\xA0'"
        );
        assert_eq!(Dialect::Postgres.string("plain é"), "'plain é'");
    }

    #[test]
    fn sql_temporal_and_float_literals() {
        let t = time::parse_datetime("2026-01-31T09:30:00.25Z").unwrap();
        assert_eq!(timestamp_text(t), "2026-01-31 09:30:00.250000");
        assert_eq!(timestamp_text(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(
            Dialect::Clickhouse.timestamp(t),
            "toDateTime64('2026-01-31 09:30:00.250000', 6, 'UTC')"
        );
        assert_eq!(
            Dialect::Trino.date(time::parse_date("2026-01-31").unwrap()),
            "DATE '2026-01-31'"
        );
        assert_eq!(float_text(2.5, true), "2.5E0");
        assert_eq!(float_text(0.1, false), "0.1");
        assert_eq!(float_text(1e300, true), "1e300");
        assert_eq!(float_text(-1.5e-300, true), "-1.5e-300");
        for v in [
            0.1,
            1e300,
            -1.5e-300,
            123456.789,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(float_text(v, false).parse::<f64>().unwrap(), v);
        }
    }
}
