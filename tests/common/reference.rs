//! The reference evaluator: a row-by-row reading of language.md over the
//! typed rows of [`Data`], sharing no code with segq.
//!
//! - A predicate on a missing value is false; `!=`, `not in`,
//!   `not between` and `has none` require a value; an empty set is missing.
//! - `not q` is the complement within all contacts.
//! - Strings, enums and refs compare exactly with `=`; text tests are
//!   case-insensitive substring tests; `matches` is an unanchored regex.
//! - `is duplicate`: strings and refs trimmed and lower-cased, other types
//!   exact; the value occurs on more than one row of its table.
//! - Numbers compare by value (an int field against `2.5` compares as a
//!   number), ordered enums by their declared order, dates as their
//!   midnight UTC; `today` is midnight of `now`'s date, `N unit ago` is
//!   `now - N unit`, `within d` is `[now - d, now]`.
//! - `account.f p`: the contact's account satisfies `p`; a contact without
//!   an account matches no `account…` predicate, `account has (q)` or
//!   `account count (q) op n` (which counts the account's contacts
//!   matching `q`, 0 when none do).

use super::data::{Data, Table, Ty, Val, MICROS_PER_DAY};
use super::query::{Cmp, Lit, Op, Pred, Quant, TextOp, Q};
use regex::Regex;
use std::cmp::Ordering;
use std::collections::HashMap;

pub struct Reference<'a> {
    data: &'a Data,
    now: i64,
    segments: HashMap<String, Q>,
    segment_rows: HashMap<String, Vec<bool>>,
    /// (account table?, field) → occurrences per duplicate key
    dup_counts: HashMap<(bool, usize), HashMap<String, usize>>,
    regexes: HashMap<String, Regex>,
}

impl<'a> Reference<'a> {
    pub fn new(data: &'a Data, segments: HashMap<String, Q>) -> Reference<'a> {
        Reference {
            data,
            now: data.now,
            segments,
            segment_rows: HashMap::new(),
            dup_counts: HashMap::new(),
            regexes: HashMap::new(),
        }
    }

    /// The contacts matching `q`, one flag per contact row.
    pub fn eval(&mut self, q: &Q) -> Vec<bool> {
        let n = self.data.contacts.rows.len();
        match q {
            Q::All => vec![true; n],
            Q::None => vec![false; n],
            Q::And(children) => {
                let mut acc = vec![true; n];
                for c in children {
                    let x = self.eval(c);
                    acc.iter_mut().zip(x).for_each(|(a, b)| *a &= b);
                }
                acc
            }
            Q::Or(children) => {
                let mut acc = vec![false; n];
                for c in children {
                    let x = self.eval(c);
                    acc.iter_mut().zip(x).for_each(|(a, b)| *a |= b);
                }
                acc
            }
            Q::Not(inner) => self.eval(inner).into_iter().map(|b| !b).collect(),
            Q::Pred(p) if p.account => {
                let accounts = &self.data.accounts;
                let per_account: Vec<bool> = (0..accounts.rows.len())
                    .map(|r| self.holds(true, p, r))
                    .collect();
                self.data
                    .account_of
                    .iter()
                    .map(|a| a.is_some_and(|a| per_account[a]))
                    .collect()
            }
            Q::Pred(p) => (0..n).map(|r| self.holds(false, p, r)).collect(),
            Q::Has(inner) => {
                let counts = self.per_account_counts(inner);
                self.data
                    .account_of
                    .iter()
                    .map(|a| a.is_some_and(|a| counts[a] > 0))
                    .collect()
            }
            Q::Count(inner, op, k) => {
                let counts = self.per_account_counts(inner);
                self.data
                    .account_of
                    .iter()
                    .map(|a| a.is_some_and(|a| op.holds(counts[a].cmp(k))))
                    .collect()
            }
            Q::Seg(name) => {
                if let Some(rows) = self.segment_rows.get(name) {
                    return rows.clone();
                }
                let def = self
                    .segments
                    .get(name)
                    .unwrap_or_else(|| panic!("no segment {name}"))
                    .clone();
                let rows = self.eval(&def);
                self.segment_rows.insert(name.clone(), rows.clone());
                rows
            }
        }
    }

    /// For each account, how many of its contacts match `q`.
    fn per_account_counts(&mut self, q: &Q) -> Vec<u64> {
        let matched = self.eval(q);
        self.data
            .members
            .iter()
            .map(|contacts| contacts.iter().filter(|&&c| matched[c]).count() as u64)
            .collect()
    }

    fn table(&self, account: bool) -> &'a Table {
        if account {
            &self.data.accounts
        } else {
            &self.data.contacts
        }
    }

    /// Does row `r` of the predicate's table satisfy it?
    fn holds(&mut self, account: bool, p: &Pred, r: usize) -> bool {
        let table = self.table(account);
        let ty = &table.fields[p.field].ty;
        let value = table.rows[r][p.field].as_ref();
        let Some(v) = value else {
            // A predicate on a missing value is false; `is missing` is the one exception.
            return matches!(p.op, Op::Missing);
        };
        match &p.op {
            Op::Missing => false,
            Op::Present => true,
            Op::Duplicate => {
                let counts = self
                    .dup_counts
                    .entry((account, p.field))
                    .or_insert_with(|| {
                        let mut m = HashMap::new();
                        for row in &table.rows {
                            if let Some(v) = &row[p.field] {
                                *m.entry(dup_key(ty, v)).or_insert(0) += 1;
                            }
                        }
                        m
                    });
                counts[&dup_key(ty, v)] > 1
            }
            Op::Bare => *v == Val::Bool(true),
            Op::Cmp(op, lit) => match op {
                Cmp::Eq => self.equals(ty, v, lit),
                Cmp::Ne => !self.equals(ty, v, lit),
                _ => op.holds(self.order(ty, v, lit)),
            },
            Op::In { negated, values } => {
                let any = values.iter().any(|l| self.equals(ty, v, l));
                any != *negated
            }
            Op::Between { negated, lo, hi } => {
                let inside = self.order(ty, v, lo) != Ordering::Less
                    && self.order(ty, v, hi) != Ordering::Greater;
                inside != *negated
            }
            Op::Text(op, lit) => {
                let Val::Text(s) = v else {
                    panic!("text test on {v:?}")
                };
                let needle = lit_text(lit);
                match op {
                    TextOp::Contains => s.to_lowercase().contains(&needle.to_lowercase()),
                    TextOp::StartsWith => s.to_lowercase().starts_with(&needle.to_lowercase()),
                    TextOp::EndsWith => s.to_lowercase().ends_with(&needle.to_lowercase()),
                    TextOp::Matches => self
                        .regexes
                        .entry(needle.clone())
                        .or_insert_with(|| Regex::new(&needle).expect("test regexes are valid"))
                        .is_match(s),
                }
            }
            Op::Has(quant, values) => {
                let Val::Set(members) = v else {
                    panic!("has on {v:?}")
                };
                let has = |l: &Lit| members.iter().any(|m| *m == lit_text(l));
                match quant {
                    Quant::One | Quant::Any => values.iter().any(has),
                    Quant::All => values.iter().all(has),
                    Quant::None => !values.iter().any(has),
                }
            }
            Op::Within(d) => {
                let Val::Time(t) = v else {
                    panic!("within on {v:?}")
                };
                *t >= self.now - d.micros() && *t <= self.now
            }
            Op::Before(lit) => self.order(ty, v, lit) == Ordering::Less,
            Op::After(lit) => self.order(ty, v, lit) == Ordering::Greater,
        }
    }

    /// The instant a temporal literal denotes.
    fn instant(&self, lit: &Lit) -> i64 {
        match lit {
            Lit::Date(t) | Lit::DateTime(_, t) => *t,
            Lit::Today => self.now.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY,
            Lit::Ago(d) => self.now - d.micros(),
            other => panic!("not a date: {other:?}"),
        }
    }

    fn equals(&self, ty: &Ty, v: &Val, lit: &Lit) -> bool {
        match (v, lit) {
            (Val::Text(s), _) => *s == lit_text(lit),
            (Val::Bool(b), Lit::Bool(l)) => b == l,
            _ => self.order(ty, v, lit) == Ordering::Equal,
        }
    }

    /// How a value compares with a literal of its field's type.
    fn order(&self, ty: &Ty, v: &Val, lit: &Lit) -> Ordering {
        match (v, lit) {
            (Val::Int(x), Lit::Int(y)) => x.cmp(y),
            (Val::Int(x), Lit::Dec(y)) => {
                (*x as f64).partial_cmp(&y.parse::<f64>().unwrap()).unwrap()
            }
            (Val::Float(x), Lit::Int(y)) => x.partial_cmp(&(*y as f64)).unwrap(),
            (Val::Float(x), Lit::Dec(y)) => x.partial_cmp(&y.parse::<f64>().unwrap()).unwrap(),
            (Val::Time(t), lit) => t.cmp(&self.instant(lit)),
            (Val::Text(s), Lit::Text(l)) => {
                let Ty::Ordered(values) = ty else {
                    panic!("ordering an unordered {ty:?}")
                };
                let pos = |x: &str| {
                    values
                        .iter()
                        .position(|v| *v == x)
                        .unwrap_or_else(|| panic!("{x} is not declared"))
                };
                pos(s).cmp(&pos(l))
            }
            _ => panic!("cannot compare {v:?} with {lit:?}"),
        }
    }
}

/// The text of a word, string or number literal.
fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Text(s) | Lit::Dec(s) => s.clone(),
        Lit::Int(i) => i.to_string(),
        Lit::Bool(b) => b.to_string(),
        other => panic!("not text: {other:?}"),
    }
}

/// What `is duplicate` groups by.
fn dup_key(ty: &Ty, v: &Val) -> String {
    match v {
        Val::Text(s) if matches!(ty, Ty::Str | Ty::Ref) => s.trim().to_lowercase(),
        Val::Text(s) => s.clone(),
        Val::Int(i) => i.to_string(),
        Val::Float(x) => x.to_bits().to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Time(t) => t.to_string(),
        Val::Set(_) => panic!("is duplicate on a set"),
    }
}
