//! The checked, typed logical plan: a closed enum the optimizer rewrites and
//! the executor evaluates, with an `explain` printer.

use crate::schema::FieldType;
use crate::store::column::key_float;
use crate::syntax::ast::CmpOp;
use crate::time;
use std::fmt;
use std::ops::Bound;

/// A plan node. Leaves test one column of the table in context (contacts,
/// or accounts inside [`Plan::Account`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// every row
    All,
    /// no row
    Nothing,
    And(Vec<Plan>),
    Or(Vec<Plan>),
    /// the complement within every row of the table in context
    Not(Box<Plan>),
    Leaf(Leaf),
    /// `account.f ...`: evaluate on accounts, then take their contacts
    Account(Box<Plan>),
    /// `account has (q)`: contacts whose account has a contact matching q
    AccountHas(Box<Plan>),
    /// `account count (q) op n`
    AccountCount(AccountCount),
    /// `@name`: a named segment's plan, kept as a node for explain and caching
    Segment(SegmentPlan),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountCount {
    pub query: Box<Plan>,
    pub op: CmpOp,
    pub n: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentPlan {
    pub name: String,
    pub plan: Box<Plan>,
}

/// A test on one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Column index in the table in context.
    pub field: usize,
    /// Field name as written (with `account.` inside account plans), for explain.
    pub name: String,
    /// The column's type, to print keys as the values they stand for.
    pub ty: FieldType,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// the field has a value
    Present,
    /// dictionary columns (enum, string, ref): the value is one of these, exactly
    DictIn(Vec<String>),
    /// dictionary columns: substring or regex match
    DictMatch(TextMatch),
    /// numeric columns: the key lies within the bounds
    Range { lo: Bound<i64>, hi: Bound<i64> },
    /// numeric columns: the key is one of these
    NumIn(Vec<i64>),
    /// bool columns
    Bool(bool),
    /// set columns: holds any of these members
    SetAny(Vec<String>),
    /// set columns: holds all of these members
    SetAll(Vec<String>),
    /// the value occurs on more than one row (strings trimmed and case-folded)
    Duplicate { fold: bool },
}

/// How a text test matches a value.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// case-insensitive; the needle is lower-cased
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Regex(regex::Regex),
}

impl PartialEq for TextMatch {
    fn eq(&self, other: &TextMatch) -> bool {
        match (self, other) {
            (TextMatch::Contains(a), TextMatch::Contains(b))
            | (TextMatch::StartsWith(a), TextMatch::StartsWith(b))
            | (TextMatch::EndsWith(a), TextMatch::EndsWith(b)) => a == b,
            (TextMatch::Regex(a), TextMatch::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl TextMatch {
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            TextMatch::Contains(n) => value.to_lowercase().contains(n.as_str()),
            TextMatch::StartsWith(n) => value.to_lowercase().starts_with(n.as_str()),
            TextMatch::EndsWith(n) => value.to_lowercase().ends_with(n.as_str()),
            TextMatch::Regex(r) => r.is_match(value),
        }
    }
}

/// A numeric key as the value it stands for in a column of type `ty`.
pub fn key_text(ty: &FieldType, k: i64) -> String {
    match ty {
        FieldType::Float => key_float(k).to_string(),
        FieldType::Date => time::format_date(k),
        FieldType::DateTime => time::format_datetime(k),
        _ => k.to_string(),
    }
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[String]| v.join(", ");
        let key = |k: i64| key_text(&self.ty, k);
        write!(f, "{} ", self.name)?;
        match &self.test {
            Test::Present => f.write_str("is present"),
            Test::DictIn(v) if v.len() == 1 => write!(f, "= {}", v[0]),
            Test::DictIn(v) => write!(f, "in [{}]", list(v)),
            Test::DictMatch(TextMatch::Contains(n)) => write!(f, "contains {n:?}"),
            Test::DictMatch(TextMatch::StartsWith(n)) => write!(f, "starts_with {n:?}"),
            Test::DictMatch(TextMatch::EndsWith(n)) => write!(f, "ends_with {n:?}"),
            Test::DictMatch(TextMatch::Regex(r)) => write!(f, "matches {:?}", r.as_str()),
            Test::Range { lo, hi } => match (lo, hi) {
                (Bound::Included(a), Bound::Included(b)) => {
                    write!(f, "between {} and {}", key(*a), key(*b))
                }
                (Bound::Included(a), Bound::Unbounded) => write!(f, ">= {}", key(*a)),
                (Bound::Excluded(a), Bound::Unbounded) => write!(f, "> {}", key(*a)),
                (Bound::Unbounded, Bound::Included(b)) => write!(f, "<= {}", key(*b)),
                (Bound::Unbounded, Bound::Excluded(b)) => write!(f, "< {}", key(*b)),
                (Bound::Unbounded, Bound::Unbounded) => f.write_str("is present"),
                (lo, hi) => {
                    let (open, a) = match lo {
                        Bound::Included(a) => ("[", key(*a)),
                        Bound::Excluded(a) => ("(", key(*a)),
                        Bound::Unbounded => ("(", "-∞".into()),
                    };
                    let (close, b) = match hi {
                        Bound::Included(b) => ("]", key(*b)),
                        Bound::Excluded(b) => (")", key(*b)),
                        Bound::Unbounded => (")", "∞".into()),
                    };
                    write!(f, "in {open}{a}, {b}{close}")
                }
            },
            Test::NumIn(v) if v.len() == 1 => write!(f, "= {}", key(v[0])),
            Test::NumIn(v) => {
                let v: Vec<String> = v.iter().map(|k| key(*k)).collect();
                write!(f, "in [{}]", v.join(", "))
            }
            Test::Bool(b) => write!(f, "= {b}"),
            Test::SetAny(v) => write!(f, "has any [{}]", list(v)),
            Test::SetAll(v) => write!(f, "has all [{}]", list(v)),
            Test::Duplicate { .. } => f.write_str("is duplicate"),
        }
    }
}

impl Plan {
    /// A one-line label for this node (children are printed below it).
    pub fn label(&self) -> String {
        match self {
            Plan::All => "all".into(),
            Plan::Nothing => "none".into(),
            Plan::And(_) => "and".into(),
            Plan::Or(_) => "or".into(),
            Plan::Not(_) => "not".into(),
            Plan::Leaf(l) => l.to_string(),
            Plan::Account(_) => "account".into(),
            Plan::AccountHas(_) => "account has".into(),
            Plan::AccountCount(c) => format!("account count {} {}", c.op.as_str(), c.n),
            Plan::Segment(s) => format!("@{}", s.name),
        }
    }

    pub fn children(&self) -> Vec<&Plan> {
        match self {
            Plan::All | Plan::Nothing | Plan::Leaf(_) => Vec::new(),
            Plan::And(c) | Plan::Or(c) => c.iter().collect(),
            Plan::Not(p) | Plan::Account(p) | Plan::AccountHas(p) => vec![p],
            Plan::AccountCount(c) => vec![&c.query],
            Plan::Segment(s) => vec![&s.plan],
        }
    }

    /// Whether the node's children run on the accounts table.
    pub fn switches_to_accounts(&self) -> bool {
        matches!(self, Plan::Account(_))
    }
}
