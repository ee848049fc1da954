//! Field types, `schema.toml`, header normalisation and type inference.
//!
//! A [`Schema`] says what each table's columns are. It comes from
//! `schema.toml` (see the README), from inference over the data, or both:
//! declared fields win and the rest are inferred.

use crate::diagnostic::{Diagnostic, Sources};
use crate::syntax::ast::Span;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The type of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// Categorical; `ordered` enums compare by their declared order.
    Enum {
        ordered: bool,
    },
    String,
    Int,
    Float,
    Bool,
    Date,
    DateTime,
    /// Multi-valued enum (`tags`).
    Set,
    /// The contact's account key.
    Ref,
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Enum { ordered: true } => "ordered enum",
            FieldType::Enum { ordered: false } => "enum",
            FieldType::String => "string",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Set => "set",
            FieldType::Ref => "ref",
        }
    }

    /// Numbers, dates and date-times: stored as ordered i64 keys.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Float | FieldType::Date | FieldType::DateTime
        )
    }

    pub fn is_temporal(&self) -> bool {
        matches!(self, FieldType::Date | FieldType::DateTime)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column's declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub name: String,
    pub ty: FieldType,
    /// Declared enum values, in order (required for ordered enums).
    pub values: Option<Vec<String>>,
    /// strftime-style input format for dates and date-times (`%m/%d/%y`).
    pub format: Option<String>,
    /// Separator of set values in CSV cells (default `;`).
    pub separator: String,
    /// For `ref`: the table referred to.
    pub table: Option<String>,
}

impl FieldSpec {
    pub fn new(name: impl Into<String>, ty: FieldType) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            ty,
            values: None,
            format: None,
            separator: ";".to_string(),
            table: None,
        }
    }
}

/// Declarations for one table; `fields` lists only what was declared.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableSchema {
    pub key: Option<String>,
    pub fields: Vec<FieldSpec>,
}

impl TableSchema {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub contacts: TableSchema,
    pub accounts: Option<TableSchema>,
}

// ------------------------------------------------------------ schema.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    contacts: Option<RawTable>,
    accounts: Option<RawTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    key: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, toml::Spanned<RawField>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawField {
    Short(String),
    Long(RawFieldLong),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldLong {
    #[serde(rename = "type")]
    ty: String,
    values: Option<Vec<String>>,
    #[serde(default)]
    ordered: bool,
    format: Option<String>,
    separator: Option<String>,
    table: Option<String>,
}

const TYPE_NAMES: &[&str] = &[
    "enum", "string", "int", "float", "bool", "date", "datetime", "set", "ref",
];

/// Parses `schema.toml` text. Errors point into `src` (source 0).
pub fn parse_schema(src: &str) -> Result<Schema, Vec<Diagnostic>> {
    let raw: RawSchema = toml::from_str(src).map_err(|e| {
        let span = e
            .span()
            .map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        vec![Diagnostic::error(
            format!("invalid schema: {}", e.message()),
            span,
        )]
    })?;
    let mut errors = Vec::new();
    let contacts = match raw.contacts {
        Some(t) => table_schema(t, &mut errors),
        None => TableSchema::default(),
    };
    let accounts = raw.accounts.map(|t| table_schema(t, &mut errors));
    if errors.is_empty() {
        Ok(Schema { contacts, accounts })
    } else {
        Err(errors)
    }
}

fn table_schema(raw: RawTable, errors: &mut Vec<Diagnostic>) -> TableSchema {
    let mut fields = Vec::new();
    for (name, spanned) in raw.fields {
        let span = Span::new(spanned.span().start, spanned.span().end);
        let name = normalize_header(&name);
        let (ty_name, long) = match spanned.into_inner() {
            RawField::Short(t) => (t, None),
            RawField::Long(l) => (l.ty.clone(), Some(l)),
        };
        let ordered = long.as_ref().is_some_and(|l| l.ordered);
        let ty = match ty_name.as_str() {
            "enum" => FieldType::Enum { ordered },
            "string" => FieldType::String,
            "int" => FieldType::Int,
            "float" => FieldType::Float,
            "bool" => FieldType::Bool,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "set" => FieldType::Set,
            "ref" => FieldType::Ref,
            other => {
                let mut d =
                    Diagnostic::error(format!("unknown type `{other}` for field `{name}`"), span);
                d = match crate::diagnostic::did_you_mean(other, TYPE_NAMES.iter().copied()) {
                    Some(help) => d.with_label(help),
                    None => d.with_help(format!("types are {}", TYPE_NAMES.join(", "))),
                };
                errors.push(d);
                continue;
            }
        };
        let mut spec = FieldSpec::new(name.clone(), ty.clone());
        if let Some(l) = long {
            if ordered && !matches!(ty, FieldType::Enum { .. }) {
                errors.push(Diagnostic::error(
                    format!("`ordered` applies to enums, not `{}`", ty),
                    span,
                ));
            }
            if ordered && l.values.is_none() {
                errors.push(
                    Diagnostic::error(
                        format!("ordered enum `{name}` needs its `values` in order"),
                        span,
                    )
                    .with_help("add values = [\"low\", \"mid\", \"high\"]"),
                );
            }
            if let Some(values) = &l.values {
                if !matches!(ty, FieldType::Enum { .. } | FieldType::Set) {
                    errors.push(Diagnostic::error(
                        format!("`values` applies to enums and sets, not `{}`", ty),
                        span,
                    ));
                }
                let mut seen = ahash::AHashSet::new();
                for v in values {
                    if !seen.insert(v.as_str()) {
                        errors.push(Diagnostic::error(
                            format!("value `{v}` is listed twice for `{name}`"),
                            span,
                        ));
                    }
                }
                if values.is_empty() {
                    errors.push(Diagnostic::error(
                        format!("`values` of `{name}` is empty"),
                        span,
                    ));
                }
            }
            if l.format.is_some() && !ty.is_temporal() {
                errors.push(Diagnostic::error(
                    format!("`format` applies to dates and date-times, not `{}`", ty),
                    span,
                ));
            }
            if let Some(sep) = &l.separator {
                if ty != FieldType::Set {
                    errors.push(Diagnostic::error(
                        format!("`separator` applies to sets, not `{}`", ty),
                        span,
                    ));
                }
                if sep.is_empty() {
                    errors.push(Diagnostic::error(
                        format!("the separator of `{name}` is empty"),
                        span,
                    ));
                }
                spec.separator = sep.clone();
            }
            spec.values = l.values;
            spec.format = l.format;
            spec.table = l.table;
        }
        fields.push(spec);
    }
    TableSchema {
        key: raw.key.map(|k| normalize_header(&k)),
        fields,
    }
}

/// Bytes in one `schema.toml`.
pub const MAX_SCHEMA_BYTES: u64 = 16 << 20;

/// Reads a `schema.toml`, refusing one over [`MAX_SCHEMA_BYTES`] before
/// reading it whole.
pub fn read_schema_text(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_SCHEMA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_SCHEMA_BYTES {
        return Err(format!(
            "the file is longer than the limit of {MAX_SCHEMA_BYTES} bytes for a schema"
        ));
    }
    String::from_utf8(bytes).map_err(|_| "the file is not valid UTF-8".to_string())
}

/// Loads and parses a schema file; errors are rendered with the file name.
pub fn load_schema(path: &std::path::Path) -> Result<Schema, String> {
    let text =
        read_schema_text(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_schema(&text).map_err(|diags| {
        let mut sources = Sources::new();
        sources.add(path.display().to_string(), text);
        crate::diagnostic::render_all(&diags, &sources, crate::diagnostic::Style::plain())
    })
}

// ------------------------------------------------------ headers, inference

/// Column header → field name: lower snake_case (`Job Title` → `job_title`,
/// `firstName` → `first_name`). Characters other than letters and digits
/// separate words; an empty result becomes `column`.
pub fn normalize_header(header: &str) -> String {
    let header = header.trim().trim_start_matches('\u{feff}');
    let mut out = String::with_capacity(header.len());
    let mut prev: Option<char> = None;
    for c in header.chars() {
        if c.is_alphanumeric() {
            let boundary = matches!(prev, Some(p) if p.is_lowercase() || p.is_ascii_digit())
                && c.is_uppercase();
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("column");
    }
    out
}

/// A text column with at most this many distinct values, each used at least
/// twice on average, is inferred as an `enum`; otherwise it is a `string`.
pub const ENUM_MAX_DISTINCT: usize = 64;

/// What a column's cells could all be, narrowed as cells are seen.
#[derive(Debug, Clone)]
pub struct Inference {
    pub int: bool,
    pub float: bool,
    pub date: bool,
    pub datetime: bool,
    pub bool: bool,
    pub present: u64,
}

impl Default for Inference {
    fn default() -> Inference {
        Inference {
            int: true,
            float: true,
            date: true,
            datetime: true,
            bool: true,
            present: 0,
        }
    }
}

impl Inference {
    /// Narrows by one non-empty cell.
    pub fn observe(&mut self, cell: &str) {
        self.present += 1;
        let cell = cell.trim();
        if self.int && parse_int(cell).is_none() {
            self.int = false;
        }
        if self.float && parse_float(cell).is_none() {
            self.float = false;
        }
        let is_date = self.date || self.datetime;
        let date = is_date && crate::time::parse_date(cell).is_some();
        if self.date && !date {
            self.date = false;
        }
        if self.datetime && !date && crate::time::parse_datetime(cell).is_none() {
            self.datetime = false;
        }
        if self.bool && !(cell.eq_ignore_ascii_case("true") || cell.eq_ignore_ascii_case("false")) {
            self.bool = false;
        }
    }

    /// The inferred type, given the number of distinct values.
    pub fn decide(&self, distinct: usize) -> FieldType {
        if self.present == 0 {
            FieldType::String
        } else if self.int {
            FieldType::Int
        } else if self.float {
            FieldType::Float
        } else if self.date {
            FieldType::Date
        } else if self.datetime {
            FieldType::DateTime
        } else if self.bool {
            FieldType::Bool
        } else if distinct <= ENUM_MAX_DISTINCT && (distinct as u64) * 2 <= self.present {
            FieldType::Enum { ordered: false }
        } else {
            FieldType::String
        }
    }
}

/// An integer cell: optional sign, digits.
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A finite decimal number cell (`1.5`, `-2`, `1e3`); not `inf` or `NaN`.
pub fn parse_float(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+' || b == b'.')
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(if v == 0.0 { 0.0 } else { v })
}

pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parses_the_spec_example() {
        let src = r#"
[contacts]
key = "id"
[contacts.fields]
role = "enum"
stage = { type = "enum", values = ["lead", "mql"], ordered = true }
closed_on = { type = "date", format = "%m/%d/%y" }
tags = { type = "set", separator = "|" }
account_id = { type = "ref", table = "accounts" }
[accounts]
key = "id"
"#;
        let s = parse_schema(src).unwrap();
        assert_eq!(s.contacts.key.as_deref(), Some("id"));
        assert_eq!(
            s.contacts.field("stage").unwrap().ty,
            FieldType::Enum { ordered: true }
        );
        assert_eq!(s.contacts.field("tags").unwrap().separator, "|");
        assert_eq!(
            s.contacts.field("closed_on").unwrap().format.as_deref(),
            Some("%m/%d/%y")
        );
        assert!(s.accounts.is_some());
    }

    #[test]
    fn schema_rejects_bad_types_with_location() {
        let src = "[contacts.fields]\nrole = \"enmu\"\n";
        let errs = parse_schema(src).unwrap_err();
        assert_eq!(errs[0].message, "unknown type `enmu` for field `role`");
        assert_eq!(errs[0].primary.as_ref().unwrap().span.start, 25);
        let errs = parse_schema("[contacts.fields]\ns = { type = \"enum\", ordered = true }\n")
            .unwrap_err();
        assert!(errs[0].message.contains("needs its `values`"));
        let errs = parse_schema("[contact]\n").unwrap_err();
        assert!(
            errs[0].message.contains("unknown field"),
            "{:?}",
            errs[0].message
        );
    }

    #[test]
    fn normalize_header_makes_snake_case() {
        assert_eq!(normalize_header("Job Title"), "job_title");
        assert_eq!(normalize_header("firstName"), "first_name");
        assert_eq!(normalize_header("\u{feff}ID"), "id");
        assert_eq!(normalize_header("Replies (30d)"), "replies_30d");
        assert_eq!(normalize_header("  "), "column");
        assert_eq!(normalize_header("Ünïcode Näme"), "ünïcode_näme");
    }

    #[test]
    fn inference_narrows_to_the_tightest_type() {
        let infer = |cells: &[&str]| {
            let mut inf = Inference::default();
            let mut distinct = ahash::AHashSet::new();
            for c in cells {
                inf.observe(c);
                distinct.insert(*c);
            }
            inf.decide(distinct.len())
        };
        assert_eq!(infer(&["1", "-2", "30"]), FieldType::Int);
        assert_eq!(infer(&["1", "2.5"]), FieldType::Float);
        assert_eq!(infer(&["2026-01-01", "2025-12-31"]), FieldType::Date);
        assert_eq!(
            infer(&["2026-01-01", "2025-12-31T10:00:00Z"]),
            FieldType::DateTime
        );
        assert_eq!(infer(&["true", "FALSE"]), FieldType::Bool);
        assert_eq!(
            infer(&["a", "b", "a", "b"]),
            FieldType::Enum { ordered: false }
        );
        assert_eq!(infer(&["a", "b", "c"]), FieldType::String);
        assert_eq!(infer(&["0", "1"]), FieldType::Int);
    }
}
