//! Plan rewrites that never change results: flatten `and`/`or`, fold
//! constants, drop double negation and duplicates, merge ranges on one
//! field, and order `and` children by estimated cardinality (most selective
//! first, subtractions last).

use super::logical::*;
use crate::store::{ColumnData, Store, Table};
use std::ops::Bound;

/// Rewrites a plan; with a store, also orders `and` children by estimate.
pub fn optimize(plan: Plan, store: Option<&Store>) -> Plan {
    let table = store.map(|s| &s.contacts);
    rewrite(plan, store, table)
}

fn rewrite(plan: Plan, store: Option<&Store>, table: Option<&Table>) -> Plan {
    match plan {
        Plan::And(children) => {
            let mut flat = Vec::new();
            for c in children {
                match rewrite(c, store, table) {
                    Plan::And(grand) => flat.extend(grand),
                    Plan::All => {}
                    Plan::Nothing => return Plan::Nothing,
                    other => push_unique(&mut flat, other),
                }
            }
            let mut flat = merge_ranges(flat);
            if flat.iter().any(|c| matches!(c, Plan::Leaf(Leaf { test: Test::Range { lo, hi }, .. }) if range_is_empty(lo, hi))) {
                return Plan::Nothing;
            }
            if let (Some(store), Some(table)) = (store, table) {
                let mut keyed: Vec<(bool, u64, Plan)> = flat
                    .into_iter()
                    .map(|c| (matches!(c, Plan::Not(_)), estimate(&c, store, table), c))
                    .collect();
                keyed.sort_by_key(|(is_not, est, _)| (*is_not, *est));
                flat = keyed.into_iter().map(|(_, _, c)| c).collect();
            }
            match flat.len() {
                0 => Plan::All,
                1 => flat.pop().expect("one child"),
                _ => Plan::And(flat),
            }
        }
        Plan::Or(children) => {
            let mut flat = Vec::new();
            for c in children {
                match rewrite(c, store, table) {
                    Plan::Or(grand) => flat.extend(grand),
                    Plan::Nothing => {}
                    Plan::All => return Plan::All,
                    other => push_unique(&mut flat, other),
                }
            }
            match flat.len() {
                0 => Plan::Nothing,
                1 => flat.pop().expect("one child"),
                _ => Plan::Or(flat),
            }
        }
        Plan::Not(inner) => match rewrite(*inner, store, table) {
            Plan::Not(x) => *x,
            Plan::All => Plan::Nothing,
            Plan::Nothing => Plan::All,
            other => Plan::Not(Box::new(other)),
        },
        Plan::Account(inner) => {
            let accounts = store.and_then(|s| s.accounts.as_ref());
            match rewrite(*inner, store, accounts) {
                Plan::Nothing => Plan::Nothing,
                other => Plan::Account(Box::new(other)),
            }
        }
        Plan::AccountHas(inner) => {
            let contacts = store.map(|s| &s.contacts);
            match rewrite(*inner, store, contacts) {
                Plan::Nothing => Plan::Nothing,
                other => Plan::AccountHas(Box::new(other)),
            }
        }
        Plan::AccountCount(c) => {
            let contacts = store.map(|s| &s.contacts);
            Plan::AccountCount(AccountCount {
                query: Box::new(rewrite(*c.query, store, contacts)),
                ..c
            })
        }
        Plan::Segment(s) => Plan::Segment(SegmentPlan {
            plan: Box::new(rewrite(*s.plan, store, table)),
            name: s.name,
        }),
        leaf @ (Plan::Leaf(_) | Plan::All | Plan::Nothing) => leaf,
    }
}

fn push_unique(list: &mut Vec<Plan>, p: Plan) {
    if !list.contains(&p) {
        list.push(p);
    }
}

fn range_is_empty(lo: &Bound<i64>, hi: &Bound<i64>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
        _ => false,
    }
}

fn tighter_lo(a: Bound<i64>, b: Bound<i64>) -> Bound<i64> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.max(y)),
        (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.max(y)),
        (Bound::Included(i), Bound::Excluded(e)) | (Bound::Excluded(e), Bound::Included(i)) => {
            if i > e {
                Bound::Included(i)
            } else {
                Bound::Excluded(e)
            }
        }
    }
}

fn tighter_hi(a: Bound<i64>, b: Bound<i64>) -> Bound<i64> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Included(x), Bound::Included(y)) => Bound::Included(x.min(y)),
        (Bound::Excluded(x), Bound::Excluded(y)) => Bound::Excluded(x.min(y)),
        (Bound::Included(i), Bound::Excluded(e)) | (Bound::Excluded(e), Bound::Included(i)) => {
            if i < e {
                Bound::Included(i)
            } else {
                Bound::Excluded(e)
            }
        }
    }
}

/// `x >= 1 and x < 5` → one range leaf on x.
fn merge_ranges(children: Vec<Plan>) -> Vec<Plan> {
    let mut out: Vec<Plan> = Vec::with_capacity(children.len());
    for c in children {
        if let Plan::Leaf(Leaf {
            field,
            test: Test::Range { lo, hi },
            ..
        }) = &c
        {
            let existing = out.iter_mut().find_map(|o| match o {
                Plan::Leaf(
                    l @ Leaf {
                        test: Test::Range { .. },
                        ..
                    },
                ) if l.field == *field => Some(l),
                _ => None,
            });
            if let Some(l) = existing {
                if let Test::Range { lo: elo, hi: ehi } = &mut l.test {
                    *elo = tighter_lo(*elo, *lo);
                    *ehi = tighter_hi(*ehi, *hi);
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Estimated rows of a plan over `table` (exact for most leaves).
pub fn estimate(plan: &Plan, store: &Store, table: &Table) -> u64 {
    let n = table.len as u64;
    match plan {
        Plan::All => n,
        Plan::Nothing => 0,
        Plan::And(children) => {
            let mut est = n as f64;
            for c in children {
                let e = estimate(c, store, table) as f64;
                est *= if n == 0 { 0.0 } else { e / n as f64 };
            }
            est.round() as u64
        }
        Plan::Or(children) => children
            .iter()
            .map(|c| estimate(c, store, table))
            .sum::<u64>()
            .min(n),
        Plan::Not(inner) => n.saturating_sub(estimate(inner, store, table)),
        Plan::Leaf(leaf) => estimate_leaf(leaf, table),
        Plan::Account(inner) => {
            let (Some(acc), Some(link)) = (&store.accounts, &store.link) else {
                return 0;
            };
            let frac = if acc.len == 0 {
                0.0
            } else {
                estimate(inner, store, acc) as f64 / acc.len as f64
            };
            (frac * link.linked.len() as f64).round() as u64
        }
        Plan::AccountHas(_) | Plan::AccountCount(_) => {
            store.link.as_ref().map_or(0, |l| l.linked.len() / 2)
        }
        Plan::Segment(s) => estimate(&s.plan, store, table),
    }
}

fn estimate_leaf(leaf: &Leaf, table: &Table) -> u64 {
    let column = &table.columns[leaf.field];
    let n = table.len as u64;
    match (&leaf.test, &column.data) {
        (Test::Present, _) => column.present().len(),
        (Test::DictIn(values), ColumnData::Dict(d)) => values
            .iter()
            .filter_map(|v| d.code(v))
            .map(|c| d.count(c))
            .sum(),
        (Test::Range { lo, hi }, ColumnData::Num(c)) => c.range_len(*lo, *hi),
        (Test::NumIn(keys), ColumnData::Num(c)) => keys
            .iter()
            .map(|&k| c.range_len(Bound::Included(k), Bound::Included(k)))
            .sum(),
        (Test::Bool(true), ColumnData::Bool(b)) => b.trues.len(),
        (Test::Bool(false), ColumnData::Bool(b)) => b.present.len() - b.trues.len(),
        (Test::SetAny(values), ColumnData::Set(s)) => values
            .iter()
            .filter_map(|v| s.code(v))
            .map(|c| s.bitmaps[c as usize].len())
            .sum::<u64>()
            .min(s.present.len()),
        (Test::SetAll(values), ColumnData::Set(s)) => values
            .iter()
            .map(|v| s.code(v).map_or(0, |c| s.bitmaps[c as usize].len()))
            .min()
            .unwrap_or(0),
        _ => n / 10,
    }
}
