//! Plan → SQL text, one exhaustive match.
//!
//! Two-valued logic: segq's `not q` is the complement of `q`, while SQL's
//! `NOT` of a NULL comparison is NULL. A condition that is not under any
//! `NOT` may be NULL where segq says false (WHERE drops both alike, and
//! AND/OR of true/false/NULL agree with AND/OR of true/false/false). Under
//! a `NOT`, every leaf is made never-NULL — `(col IS NOT NULL AND …)` —
//! unless an `AND` sibling already requires the column to be present.
//! Subquery tests (`account.f`, `account has`, `is duplicate`, sets in
//! SQLite) are `IN`/`NOT IN` on non-NULL keys, guarded the same way.

use super::dialect::Dialect;
use super::{Layout, TableLayout};
use crate::plan::logical::{AccountCount, Leaf, Plan, Test, TextMatch};
use crate::schema::FieldType;
use crate::store::column::key_float;
use crate::syntax::ast::CmpOp;
use crate::time::MICROS_PER_DAY;
use std::ops::Bound;

/// Lines longer than this are broken at `AND`/`OR`.
const WIDTH: usize = 80;

/// How tightly a fragment binds, to parenthesise it correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prec {
    /// a comparison, `IN`, `IS`, `NOT x`
    Cmp,
    And,
    Or,
}

#[derive(Debug, Clone)]
struct Frag {
    text: String,
    prec: Prec,
}

impl Frag {
    fn new(text: impl Into<String>, prec: Prec) -> Frag {
        Frag {
            text: text.into(),
            prec,
        }
    }

    fn cmp(text: impl Into<String>) -> Frag {
        Frag::new(text, Prec::Cmp)
    }

    /// The text in parentheses (on their own lines when it spans several).
    fn wrapped(&self) -> String {
        if self.text.contains('\n') {
            format!("(\n{}\n)", indent(&self.text, 2))
        } else {
            format!("({})", self.text)
        }
    }
}

/// The table a condition reads, under an alias.
struct Scope<'l> {
    alias: String,
    table: &'l TableLayout,
    accounts: bool,
}

impl Scope<'_> {
    fn col(&self, d: Dialect, name: &str) -> String {
        format!("{}.{}", self.alias, d.ident(name))
    }

    fn key(&self, d: Dialect) -> String {
        self.col(d, &self.table.key)
    }
}

struct Renderer<'l> {
    layout: &'l Layout,
    d: Dialect,
    /// `@name` reads the view `name` instead of inlining its plan.
    views: bool,
    next_alias: usize,
}

pub(super) fn statement(plan: &Plan, layout: &Layout, d: Dialect, count: bool) -> String {
    let mut r = Renderer {
        layout,
        d,
        views: false,
        next_alias: 0,
    };
    let select = if count {
        "count(*)".to_string()
    } else {
        format!("c.{}", d.ident(&layout.contacts.key))
    };
    r.select(plan, &select)
}

pub(super) fn view(name: &str, plan: &Plan, layout: &Layout, d: Dialect) -> String {
    let mut r = Renderer {
        layout,
        d,
        views: true,
        next_alias: 0,
    };
    let body = r.select(plan, "c.*");
    let name = d.quoted_ident(name);
    match d {
        Dialect::Sqlite => format!("DROP VIEW IF EXISTS {name};\nCREATE VIEW {name} AS\n{body}"),
        _ => format!("CREATE OR REPLACE VIEW {name} AS\n{body}"),
    }
}

impl<'l> Renderer<'l> {
    fn select(&mut self, plan: &Plan, what: &str) -> String {
        let scope = Scope {
            alias: "c".into(),
            table: &self.layout.contacts,
            accounts: false,
        };
        let mut out = format!("SELECT {what}\nFROM {} AS c", self.layout.contacts.name);
        if *plan != Plan::All {
            let cond = self.cond(plan, &scope, false, &[]);
            out.push_str("\nWHERE ");
            out.push_str(&indent_rest(&cond.text, 2));
        }
        out
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("{prefix}{}", self.next_alias)
    }

    /// `neg`: under a NOT, so the result must never be NULL. `known`:
    /// columns an AND sibling already requires to be present.
    fn cond(&mut self, plan: &Plan, s: &Scope<'_>, neg: bool, known: &[String]) -> Frag {
        let d = self.d;
        match plan {
            Plan::All => Frag::cmp(d.truth(true)),
            Plan::Nothing => Frag::cmp(d.truth(false)),
            Plan::And(children) if children.is_empty() => Frag::cmp(d.truth(true)),
            Plan::Or(children) if children.is_empty() => Frag::cmp(d.truth(false)),
            Plan::And(children) => {
                let children = &merge_accounts(children, true);
                // The first leaf on each column witnesses its presence for the others.
                let mut witnesses: Vec<(String, usize)> = Vec::new();
                for (i, c) in children.iter().enumerate() {
                    if let Plan::Leaf(l) = c {
                        let name = column_name(l, s).to_string();
                        if !witnesses.iter().any(|(n, _)| *n == name) {
                            witnesses.push((name, i));
                        }
                    }
                }
                let parts: Vec<Frag> = children
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let mut k = known.to_vec();
                        for (n, w) in &witnesses {
                            if *w != i && !k.contains(n) {
                                k.push(n.clone());
                            }
                        }
                        self.cond(c, s, neg, &k)
                    })
                    .collect();
                join(parts, "AND")
            }
            Plan::Or(children) => {
                let children = &merge_accounts(children, false);
                let parts: Vec<Frag> = children
                    .iter()
                    .map(|c| self.cond(c, s, neg, known))
                    .collect();
                join(parts, "OR")
            }
            Plan::Not(inner) => {
                if let Plan::Leaf(
                    l @ Leaf {
                        test: Test::Present,
                        ..
                    },
                ) = &**inner
                {
                    if l.ty != FieldType::Set {
                        return Frag::cmp(format!("{} IS NULL", s.col(d, column_name(l, s))));
                    }
                }
                let f = self.cond(inner, s, true, known);
                Frag::cmp(format!("NOT {}", f.wrapped()))
            }
            Plan::Leaf(l) => self.leaf(l, s, neg, known),
            Plan::Account(inner) => {
                let (Some(link), Some(accounts)) = (&self.layout.link, &self.layout.accounts)
                else {
                    return Frag::cmp(d.truth(false));
                };
                let a = self.alias("a");
                let inner_scope = Scope {
                    alias: a.clone(),
                    table: accounts,
                    accounts: true,
                };
                let mut sub = format!(
                    "SELECT {a}.{}\nFROM {} AS {a}",
                    d.ident(&accounts.key),
                    accounts.name
                );
                if **inner != Plan::All {
                    let cond = self.cond(inner, &inner_scope, false, &[]);
                    sub.push_str(&format!("\nWHERE {}", indent_rest(&cond.text, 2)));
                }
                let test = in_subquery(&s.col(d, link), &sub, false);
                guard(d, s, link, Frag::cmp(test), neg, known)
            }
            Plan::AccountHas(inner) => {
                let Some(link) = self.layout.link.clone() else {
                    return Frag::cmp(d.truth(false));
                };
                let sub = self.linked_contacts(&link, inner, None);
                let test = in_subquery(&s.col(d, &link), &sub, false);
                guard(d, s, &link, Frag::cmp(test), neg, known)
            }
            Plan::AccountCount(c) => self.account_count(c, s, neg, known),
            Plan::Segment(seg) => {
                if self.views && !s.accounts {
                    let view = d.quoted_ident(&seg.name);
                    let key = d.ident(&self.layout.contacts.key);
                    Frag::cmp(format!("{} IN (SELECT {key} FROM {view})", s.key(d)))
                } else {
                    self.cond(&seg.plan, s, neg, known)
                }
            }
        }
    }

    /// `SELECT cN.link FROM contacts AS cN WHERE cN.link IS NOT NULL AND q
    /// [GROUP BY cN.link HAVING count(*) op n]`
    fn linked_contacts(&mut self, link: &str, q: &Plan, having: Option<(CmpOp, u64)>) -> String {
        let d = self.d;
        let c = self.alias("c");
        let scope = Scope {
            alias: c.clone(),
            table: &self.layout.contacts,
            accounts: false,
        };
        let link_col = scope.col(d, link);
        // `link is present and q`, so the AND witnesses the link for q's leaves.
        let present = Plan::Leaf(Leaf {
            field: usize::MAX,
            name: link.to_string(),
            ty: FieldType::Ref,
            test: Test::Present,
        });
        let both = match q {
            Plan::All => present,
            Plan::And(children) => Plan::And(
                std::iter::once(present)
                    .chain(children.iter().cloned())
                    .collect(),
            ),
            other => Plan::And(vec![present, other.clone()]),
        };
        let cond = self.cond(&both, &scope, false, &[]);
        let mut sub = format!(
            "SELECT {link_col}\nFROM {} AS {c}\nWHERE {}",
            self.layout.contacts.name,
            indent_rest(&cond.text, 2)
        );
        if let Some((op, n)) = having {
            sub.push_str(&format!(
                "\nGROUP BY {link_col}\nHAVING count(*) {} {n}",
                sql_op(op)
            ));
        }
        sub
    }

    /// Accounts whose count of matching contacts is 0 are in the result when
    /// `0 op n` holds; they have no group, so those are taken as "not among
    /// the accounts where the count fails".
    fn account_count(
        &mut self,
        c: &AccountCount,
        s: &Scope<'_>,
        neg: bool,
        known: &[String],
    ) -> Frag {
        let d = self.d;
        let Some(link) = self.layout.link.clone() else {
            return Frag::cmp(d.truth(false));
        };
        let col = s.col(d, &link);
        if c.op.holds(0, c.n) {
            let sub = self.linked_contacts(&link, &c.query, Some((negate(c.op), c.n)));
            let test = in_subquery(&col, &sub, true);
            // `NULL NOT IN (<empty>)` is true: contacts without an account need the guard always.
            guard(d, s, &link, Frag::cmp(test), true, known)
        } else {
            let sub = self.linked_contacts(&link, &c.query, Some((c.op, c.n)));
            let test = in_subquery(&col, &sub, false);
            guard(d, s, &link, Frag::cmp(test), neg, known)
        }
    }

    fn leaf(&mut self, l: &Leaf, s: &Scope<'_>, neg: bool, known: &[String]) -> Frag {
        let d = self.d;
        let name = column_name(l, s);
        let col = s.col(d, name);
        let never = Frag::cmp(d.truth(false));
        let test = match &l.test {
            Test::Present if l.ty == FieldType::Set => return self.set_present(s, name),
            Test::Present => return Frag::cmp(format!("{col} IS NOT NULL")),
            Test::DictIn(values) => {
                let lits: Vec<String> = if l.ty == FieldType::Ref && self.layout.ref_is_int() {
                    // Only the canonical text of an integer names an int key.
                    values
                        .iter()
                        .filter_map(|v| v.parse::<i64>().ok().filter(|i| i.to_string() == *v))
                        .map(|i| i.to_string())
                        .collect()
                } else {
                    values.iter().map(|v| d.string(v)).collect()
                };
                match in_list(&col, &lits) {
                    Some(t) => Frag::cmp(t),
                    None => return never,
                }
            }
            Test::DictMatch(m) => {
                let text = if l.ty == FieldType::Ref && self.layout.ref_is_int() {
                    d.as_text(&col)
                } else {
                    col.clone()
                };
                match m {
                    TextMatch::Contains(n) | TextMatch::StartsWith(n) | TextMatch::EndsWith(n)
                        if n.is_empty() =>
                    {
                        return Frag::cmp(format!("{col} IS NOT NULL"))
                    }
                    TextMatch::Contains(n) => Frag::cmp(d.contains(&d.lower(&text), n)),
                    TextMatch::StartsWith(n) => Frag::cmp(d.starts_with(&d.lower(&text), n)),
                    TextMatch::EndsWith(n) => Frag::cmp(d.ends_with(&d.lower(&text), n)),
                    TextMatch::Regex(r) => Frag::cmp(d.regex(&text, r.as_str())),
                }
            }
            Test::Range { lo, hi } => match self.range(&l.ty, &col, *lo, *hi) {
                Some(f) => f,
                None => return never,
            },
            Test::NumIn(keys) => {
                let lits: Vec<String> = keys
                    .iter()
                    .filter_map(|k| self.num_literal(&l.ty, *k))
                    .collect();
                match in_list(&col, &lits) {
                    Some(t) => Frag::cmp(t),
                    None => return never,
                }
            }
            Test::Bool(b) => Frag::cmp(format!("{col} = {}", d.bool(*b))),
            Test::SetAny(values) | Test::SetAll(values) => {
                let mut distinct: Vec<String> = Vec::new();
                for v in values {
                    if !distinct.contains(v) {
                        distinct.push(v.clone());
                    }
                }
                let all = matches!(l.test, Test::SetAll(_));
                if !d.has_arrays() {
                    return self.set_table_test(s, name, &distinct, all);
                }
                let t = Frag::cmp(if all {
                    d.array_all(&col, &distinct)
                } else {
                    d.array_any(&col, &distinct)
                });
                if d == Dialect::Clickhouse {
                    return t; // arrays are never NULL there
                }
                t
            }
            Test::Duplicate { fold } => {
                if l.ty == FieldType::Set {
                    return never; // the checker rejects it
                }
                let g = self.alias("d");
                let inner = format!("{g}.{}", d.ident(name));
                if *fold && !(l.ty == FieldType::Ref && self.layout.ref_is_int()) {
                    // Rows whose trimmed, lower-cased value more than one row has:
                    // a window count keeps the long folding expression written once.
                    let key = d.ident(&s.table.key);
                    let sub = format!(
                        "SELECT {g}.k\nFROM (\n  SELECT {g}.{key} AS k, count(*) OVER (PARTITION BY {}) AS n\n  FROM {} AS {g}\n  WHERE {inner} IS NOT NULL\n) AS {g}\nWHERE {g}.n > 1",
                        d.fold(&inner),
                        s.table.name
                    );
                    return Frag::cmp(in_subquery(&s.key(d), &sub, false));
                }
                let sub = format!(
                    "SELECT {inner}\nFROM {} AS {g}\nWHERE {inner} IS NOT NULL\nGROUP BY {inner}\nHAVING count(*) > 1",
                    s.table.name
                );
                Frag::cmp(in_subquery(&col, &sub, false))
            }
        };
        guard(d, s, name, test, neg, known)
    }

    /// A literal for a numeric key, or `None` when no value of the column can equal it.
    fn num_literal(&self, ty: &FieldType, k: i64) -> Option<String> {
        let d = self.d;
        let (min, max) = d.temporal_range();
        match ty {
            FieldType::Float => Some(d.float(key_float(k))),
            FieldType::Date => {
                (k.rem_euclid(MICROS_PER_DAY) == 0 && (min..=max).contains(&k)).then(|| d.date(k))
            }
            FieldType::DateTime => (min..=max).contains(&k).then(|| d.timestamp(k)),
            _ => Some(k.to_string()),
        }
    }

    /// A range test; `None` when no value can lie in it.
    fn range(&self, ty: &FieldType, col: &str, lo: Bound<i64>, hi: Bound<i64>) -> Option<Frag> {
        let d = self.d;
        let (mut lo, mut hi) = (lo, hi);
        if *ty == FieldType::Date {
            // Dates are midnights: a bound between midnights moves to the nearest one inside.
            lo = match lo {
                Bound::Included(t) | Bound::Excluded(t) if t.rem_euclid(MICROS_PER_DAY) != 0 => {
                    Bound::Included(
                        t.div_euclid(MICROS_PER_DAY)
                            .saturating_add(1)
                            .saturating_mul(MICROS_PER_DAY),
                    )
                }
                b => b,
            };
            hi = match hi {
                Bound::Included(t) | Bound::Excluded(t) if t.rem_euclid(MICROS_PER_DAY) != 0 => {
                    Bound::Included(t.div_euclid(MICROS_PER_DAY).saturating_mul(MICROS_PER_DAY))
                }
                b => b,
            };
        }
        if ty.is_temporal() {
            // Bounds beyond what the engine can write: no bound, or no value.
            let (min, max) = d.temporal_range();
            match lo {
                Bound::Included(t) | Bound::Excluded(t) if t < min => lo = Bound::Unbounded,
                Bound::Included(t) | Bound::Excluded(t) if t > max => return None,
                _ => {}
            }
            match hi {
                Bound::Included(t) | Bound::Excluded(t) if t > max => hi = Bound::Unbounded,
                Bound::Included(t) | Bound::Excluded(t) if t < min => return None,
                _ => {}
            }
        }
        let empty = match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        if empty {
            return None;
        }
        let lit = |k: i64| match ty {
            FieldType::Float => d.float(key_float(k)),
            FieldType::Date => d.date(k),
            FieldType::DateTime => d.timestamp(k),
            _ => k.to_string(),
        };
        Some(match (lo, hi) {
            (Bound::Unbounded, Bound::Unbounded) => Frag::cmp(format!("{col} IS NOT NULL")),
            (Bound::Included(a), Bound::Included(b)) if a == b => {
                Frag::cmp(format!("{col} = {}", lit(a)))
            }
            (Bound::Included(a), Bound::Included(b)) => {
                Frag::cmp(format!("{col} BETWEEN {} AND {}", lit(a), lit(b)))
            }
            (lo, hi) => {
                let mut parts = Vec::new();
                match lo {
                    Bound::Included(a) => parts.push(format!("{col} >= {}", lit(a))),
                    Bound::Excluded(a) => parts.push(format!("{col} > {}", lit(a))),
                    Bound::Unbounded => {}
                }
                match hi {
                    Bound::Included(b) => parts.push(format!("{col} <= {}", lit(b))),
                    Bound::Excluded(b) => parts.push(format!("{col} < {}", lit(b))),
                    Bound::Unbounded => {}
                }
                if parts.len() == 1 {
                    Frag::cmp(parts.remove(0))
                } else {
                    Frag::new(parts.join(" AND "), Prec::And)
                }
            }
        })
    }

    fn set_present(&mut self, s: &Scope<'_>, name: &str) -> Frag {
        let d = self.d;
        if d.has_arrays() {
            return Frag::cmp(d.array_present(&s.col(d, name)));
        }
        let t = self.alias("t");
        let sub = format!(
            "SELECT {t}.{} FROM {} AS {t}",
            s.table.set_id(),
            s.table.set_table(name)
        );
        Frag::cmp(in_subquery(&s.key(d), &sub, false))
    }

    /// SQLite: members live in `contact_<field>(contact_id, value)`.
    fn set_table_test(&mut self, s: &Scope<'_>, name: &str, values: &[String], all: bool) -> Frag {
        let d = self.d;
        let t = self.alias("t");
        let id = format!("{t}.{}", s.table.set_id());
        let lits: Vec<String> = values.iter().map(|v| d.string(v)).collect();
        let value_test =
            in_list(&format!("{t}.value"), &lits).unwrap_or_else(|| d.truth(false).to_string());
        let mut sub = format!(
            "SELECT {id}\nFROM {} AS {t}\nWHERE {value_test}",
            s.table.set_table(name)
        );
        if all && values.len() > 1 {
            sub.push_str(&format!(
                "\nGROUP BY {id}\nHAVING count(DISTINCT {t}.value) = {}",
                values.len()
            ));
        }
        Frag::cmp(in_subquery(&s.key(d), &sub, false))
    }
}

/// `account.a = 1 and account.b = 2` is `account.(a = 1 and b = 2)`: a
/// contact has one account, so one subquery serves every account test of
/// an AND (or an OR).
fn merge_accounts(children: &[Plan], and: bool) -> Vec<Plan> {
    let inner: Vec<Plan> = children
        .iter()
        .filter_map(|c| match c {
            Plan::Account(p) => Some((**p).clone()),
            _ => None,
        })
        .collect();
    if inner.len() < 2 {
        return children.to_vec();
    }
    let mut merged = Some(Plan::Account(Box::new(if and {
        Plan::And(inner)
    } else {
        Plan::Or(inner)
    })));
    children
        .iter()
        .filter_map(|c| match c {
            Plan::Account(_) => merged.take(),
            other => Some(other.clone()),
        })
        .collect()
}

/// The column a leaf tests, without the `account.` prefix.
fn column_name<'a>(l: &'a Leaf, s: &Scope<'_>) -> &'a str {
    if s.accounts {
        l.name.strip_prefix("account.").unwrap_or(&l.name)
    } else {
        &l.name
    }
}

/// Makes `test` false where column `name` is NULL, when that matters.
fn guard(d: Dialect, s: &Scope<'_>, name: &str, test: Frag, neg: bool, known: &[String]) -> Frag {
    if !neg || known.iter().any(|k| k == name) {
        return test;
    }
    let test = match test.prec {
        Prec::Or => test.wrapped(),
        _ => test.text,
    };
    Frag::new(
        format!("{} IS NOT NULL AND {test}", s.col(d, name)),
        Prec::And,
    )
}

/// `col = a` / `col IN (a, b)`; `None` for an empty list.
fn in_list(col: &str, lits: &[String]) -> Option<String> {
    match lits {
        [] => None,
        [one] => Some(format!("{col} = {one}")),
        many => Some(format!("{col} IN ({})", many.join(", "))),
    }
}

/// `lhs [NOT] IN (<subquery>)`, on one line when it is short.
fn in_subquery(lhs: &str, sub: &str, not: bool) -> String {
    let op = if not { "NOT IN" } else { "IN" };
    let one_line = sub.replace('\n', " ");
    if !sub.contains("\n  ") && lhs.len() + one_line.len() + 8 <= WIDTH {
        format!("{lhs} {op} ({one_line})")
    } else {
        format!("{lhs} {op} (\n{}\n)", indent(sub, 2))
    }
}

/// Joins conditions with AND/OR, breaking lines when long.
fn join(parts: Vec<Frag>, op: &str) -> Frag {
    let mut parts = parts;
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let prec = if op == "AND" { Prec::And } else { Prec::Or };
    let texts: Vec<String> = parts
        .iter()
        .map(|p| match (prec, p.prec) {
            (Prec::And, Prec::Or) | (Prec::Or, Prec::And) => p.wrapped(),
            _ => p.text.clone(),
        })
        .collect();
    let one_line = texts.join(&format!(" {op} "));
    let text = if one_line.contains('\n') || one_line.len() > WIDTH {
        texts.join(&format!("\n{op} "))
    } else {
        one_line
    };
    Frag::new(text, prec)
}

fn sql_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

/// Every line indented by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every line but the first indented by `n` spaces.
fn indent_rest(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_string();
    for l in lines {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(l);
    }
    out
}
