//! The abstract syntax tree of queries and query files.
//!
//! Every node carries a [`Span`] (byte offsets into its source). `Display`
//! prints canonical text that parses back to the same tree; spans are
//! location metadata and compare equal whatever their offsets, so
//! `parse(&q.to_string()) == q` holds for every parsed `q`.

use std::fmt;

/// A half-open byte range `start..end` in one source text.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Spans never make two trees different: they say where, not what.
impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// A boolean expression over contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `all`
    All,
    /// `none`
    None,
    /// `a and b and c` (a parenthesised `and` stays a nested node)
    And(Vec<Expr>),
    /// `a or b or c`
    Or(Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `role = champion`
    Pred(Predicate),
    /// `@hot` or `segment hot`
    Segment(Ident),
    /// `account has (q)`
    AccountHas(Box<Expr>),
    /// `account count (q) >= 2`
    AccountCount {
        query: Box<Expr>,
        op: CmpOp,
        n: Value,
    },
}

/// A name as written, with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `role`, `account.industry` or `` `job title` ``.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// `account.f`: a field of the contact's account
    pub account: bool,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub field: FieldRef,
    pub op: PredOp,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
    Matches,
}

impl TextOp {
    pub fn as_str(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts_with",
            TextOp::EndsWith => "ends_with",
            TextOp::Matches => "matches",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasQuant {
    /// `has v`
    One,
    Any,
    All,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PredOp {
    /// `= v`, `!= v`, `< v` ...
    Compare { op: CmpOp, value: Value },
    /// `in [..]`, `not in [..]`
    In { negated: bool, values: Vec<Value> },
    /// `between a and b`, `not between a and b`
    Between {
        negated: bool,
        low: Value,
        high: Value,
    },
    /// `is missing` (`is null`, `is not present`)
    IsMissing,
    /// `is present` (`is not null`, `is not missing`)
    IsPresent,
    /// `is duplicate`
    IsDuplicate,
    /// `contains s`, `starts_with s`, `ends_with s`, `matches re`
    Text { op: TextOp, value: Value },
    /// `has v`, `has any [..]`, `has all [..]`, `has none [..]`
    Has { quant: HasQuant, values: Vec<Value> },
    /// `within 30d`
    Within { value: Value },
    /// `before X`
    Before { value: Value },
    /// `after X`
    After { value: Value },
    /// a bare boolean field: `opted_in`
    Bare,
}

/// A literal as written. Numbers, dates and durations keep their text; the
/// checker turns them into typed values and reports overflow or bad dates.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Hours,
    Days,
    Weeks,
    /// 30 days
    Months,
    /// 365 days
    Years,
}

impl DurationUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationUnit::Hours => "h",
            DurationUnit::Days => "d",
            DurationUnit::Weeks => "w",
            DurationUnit::Months => "mo",
            DurationUnit::Years => "y",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            DurationUnit::Hours => 3_600,
            DurationUnit::Days => 86_400,
            DurationUnit::Weeks => 7 * 86_400,
            DurationUnit::Months => 30 * 86_400,
            DurationUnit::Years => 365 * 86_400,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// `decision_maker`
    Word(String),
    /// `"head of"` (unescaped)
    Str(String),
    /// `-3.5`, `1000` (underscores removed)
    Number(String),
    Bool(bool),
    /// `2026-01-31`
    Date(String),
    /// `2026-01-31T09:30:00Z`
    DateTime(String),
    /// `30d`: amount digits (underscores removed) and unit
    Duration {
        amount: String,
        unit: DurationUnit,
    },
    /// `30d ago`
    Ago {
        amount: String,
        unit: DurationUnit,
    },
    /// `today`
    Today,
}

impl ValueKind {
    /// The text of a word or string value, the usual way to name enum values.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ValueKind::Word(s) | ValueKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What kind of literal this is, for messages: "a number", "a date".
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Word(_) => "a word",
            ValueKind::Str(_) => "a string",
            ValueKind::Number(_) => "a number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Date(_) => "a date",
            ValueKind::DateTime(_) => "a date-time",
            ValueKind::Duration { .. } => "a duration",
            ValueKind::Ago { .. } => "a relative date",
            ValueKind::Today => "`today`",
        }
    }
}

/// A query file: segment definitions and expectations, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Segment(SegmentDef),
    Expect(Expectation),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Segment(s) => s.span,
            Item::Expect(e) => e.span,
        }
    }
}

/// `segment hot = @engaged and stage >= opportunity;`
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentDef {
    pub name: Ident,
    pub query: Expr,
    pub span: Span,
}

/// `expect hot count > 0;`
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub segment: Ident,
    pub kind: ExpectKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectKind {
    /// `count >= 10`
    Count { op: CmpOp, n: Value },
    /// `count between 10 and 20`
    CountBetween { low: Value, high: Value },
    /// `within decision_makers`: every member is also in the other segment
    Within(Ident),
    /// `disjoint churned`: no member is in the other segment
    Disjoint(Ident),
}

// ---------------------------------------------------------------- Display

/// Words the grammar reserves; a value spelled like one must be quoted.
const RESERVED_VALUES: &[&str] = &["and", "or", "not", "true", "false", "today"];

/// The language's keywords (case-insensitive). A field spelled like one is
/// written in backticks.
pub const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "between",
    "is",
    "missing",
    "present",
    "null",
    "duplicate",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "has",
    "any",
    "all",
    "none",
    "within",
    "before",
    "after",
    "ago",
    "today",
    "account",
    "count",
    "true",
    "false",
    "segment",
];

pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Writes `s` as a double-quoted string literal.
pub fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.account {
            f.write_str("account.")?;
        }
        if is_ident(&self.name) && !is_keyword(&self.name) {
            f.write_str(&self.name)
        } else {
            write!(f, "`{}`", self.name)
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueKind::Word(w)
                if is_ident(w) && !RESERVED_VALUES.contains(&w.to_ascii_lowercase().as_str()) =>
            {
                f.write_str(w)
            }
            ValueKind::Word(s) | ValueKind::Str(s) => write_quoted(f, s),
            ValueKind::Number(n) => f.write_str(n),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Date(d) | ValueKind::DateTime(d) => f.write_str(d),
            ValueKind::Duration { amount, unit } => write!(f, "{amount}{}", unit.as_str()),
            ValueKind::Ago { amount, unit } => write!(f, "{amount}{} ago", unit.as_str()),
            ValueKind::Today => f.write_str("today"),
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, values: &[Value]) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str("]")
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        match &self.op {
            PredOp::Compare { op, value } => write!(f, " {} {value}", op.as_str()),
            PredOp::In { negated, values } => {
                f.write_str(if *negated { " not in " } else { " in " })?;
                write_list(f, values)
            }
            PredOp::Between { negated, low, high } => {
                let not = if *negated { " not" } else { "" };
                write!(f, "{not} between {low} and {high}")
            }
            PredOp::IsMissing => f.write_str(" is missing"),
            PredOp::IsPresent => f.write_str(" is present"),
            PredOp::IsDuplicate => f.write_str(" is duplicate"),
            PredOp::Text { op, value } => write!(f, " {} {value}", op.as_str()),
            PredOp::Has { quant, values } => match quant {
                HasQuant::One => write!(f, " has {}", values[0]),
                HasQuant::Any => {
                    f.write_str(" has any ")?;
                    write_list(f, values)
                }
                HasQuant::All => {
                    f.write_str(" has all ")?;
                    write_list(f, values)
                }
                HasQuant::None => {
                    f.write_str(" has none ")?;
                    write_list(f, values)
                }
            },
            PredOp::Within { value } => write!(f, " within {value}"),
            PredOp::Before { value } => write!(f, " before {value}"),
            PredOp::After { value } => write!(f, " after {value}"),
            PredOp::Bare => Ok(()),
        }
    }
}

impl Expr {
    /// Writes a child of `and`, `or` or `not`, parenthesised where the
    /// parser would otherwise read it differently. `in_or`: the parent is an
    /// `or`, under which an `and` needs no parentheses.
    fn write_child(&self, f: &mut fmt::Formatter<'_>, in_or: bool) -> fmt::Result {
        let needs_parens = match &self.kind {
            ExprKind::And(_) => !in_or,
            ExprKind::Or(_) => true,
            _ => false,
        };
        if needs_parens {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl Expr {
    /// This expression as an operand of `and` (or of `or`, with `in_or`),
    /// parenthesised where it must be.
    pub fn operand_text(&self, in_or: bool) -> String {
        struct Operand<'a>(&'a Expr, bool);
        impl fmt::Display for Operand<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_child(f, self.1)
            }
        }
        Operand(self, in_or).to_string()
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::All => f.write_str("all"),
            ExprKind::None => f.write_str("none"),
            ExprKind::And(children) | ExprKind::Or(children) => {
                let sep = if matches!(self.kind, ExprKind::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, child) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    // A nested chain of the same operator was parenthesised in
                    // the source (chains are flattened by the parser), so it is
                    // parenthesised again.
                    child.write_child(f, matches!(self.kind, ExprKind::Or(_)))?;
                }
                Ok(())
            }
            ExprKind::Not(inner) => {
                f.write_str("not ")?;
                inner.write_child(f, false)
            }
            ExprKind::Pred(p) => write!(f, "{p}"),
            ExprKind::Segment(name) => write!(f, "@{}", name.name),
            ExprKind::AccountHas(q) => write!(f, "account has ({q})"),
            ExprKind::AccountCount { query, op, n } => {
                write!(f, "account count ({query}) {} {n}", op.as_str())
            }
        }
    }
}

impl fmt::Display for SegmentDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} = {};", self.name.name, self.query)
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expect {} ", self.segment.name)?;
        match &self.kind {
            ExpectKind::Count { op, n } => write!(f, "count {} {n};", op.as_str()),
            ExpectKind::CountBetween { low, high } => {
                write!(f, "count between {low} and {high};")
            }
            ExpectKind::Within(other) => write!(f, "within {};", other.name),
            ExpectKind::Disjoint(other) => write!(f, "disjoint {};", other.name),
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Segment(s) => write!(f, "{s}"),
            Item::Expect(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "{item}")?;
        }
        Ok(())
    }
}
