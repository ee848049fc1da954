//! Plan → RoaringBitmap of contact rows: one exhaustive match over the plan.

use crate::plan::logical::*;
use crate::store::column::MISSING;
use crate::store::{ColumnData, Store, Table};
use crate::syntax::ast::CmpOp;
use ahash::AHashMap;
use roaring::RoaringBitmap;
use std::time::{Duration, Instant};

/// Evaluates a plan over the store's contacts.
pub fn execute(plan: &Plan, store: &Store) -> RoaringBitmap {
    Executor::new(store).run(plan)
}

/// Counts the contacts matching a plan, without building the result where
/// an intersection count suffices.
pub fn count(plan: &Plan, store: &Store) -> u64 {
    let mut ex = Executor::new(store);
    match plan {
        Plan::And(children) if children.len() == 2 => {
            let (a, b) = (&children[0], &children[1]);
            match b {
                Plan::Not(inner) => {
                    let a = ex.eval(a, &store.contacts);
                    let b = ex.eval(inner, &store.contacts);
                    a.len() - a.intersection_len(&b)
                }
                _ => {
                    let a = ex.eval(a, &store.contacts);
                    if a.is_empty() {
                        return 0;
                    }
                    let b = ex.eval(b, &store.contacts);
                    a.intersection_len(&b)
                }
            }
        }
        _ => ex.run(plan).len(),
    }
}

/// Per-node actual counts and times, in pre-order (for `explain --analyze`).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub nodes: Vec<(u64, Duration)>,
}

/// Evaluates and records each node's result size and time, in pre-order.
pub fn analyze(plan: &Plan, store: &Store) -> (RoaringBitmap, Profile) {
    let mut ex = Executor::new(store);
    ex.profile = Some(Vec::new());
    let out = ex.run(plan);
    let mut nodes = ex.profile.take().unwrap_or_default();
    nodes.sort_by_key(|(order, _, _)| *order);
    (
        out,
        Profile {
            nodes: nodes.into_iter().map(|(_, n, t)| (n, t)).collect(),
        },
    )
}

struct Executor<'a> {
    store: &'a Store,
    segments: AHashMap<String, RoaringBitmap>,
    /// (pre-order index, count, time) when profiling
    profile: Option<Vec<(usize, u64, Duration)>>,
    next_node: usize,
}

impl<'a> Executor<'a> {
    fn new(store: &'a Store) -> Executor<'a> {
        Executor {
            store,
            segments: AHashMap::new(),
            profile: None,
            next_node: 0,
        }
    }

    fn run(&mut self, plan: &Plan) -> RoaringBitmap {
        self.eval(plan, &self.store.contacts)
    }

    fn eval(&mut self, plan: &Plan, table: &'a Table) -> RoaringBitmap {
        if self.profile.is_none() {
            return self.eval_node(plan, table);
        }
        let id = self.next_node;
        self.next_node += 1;
        let start = Instant::now();
        let out = self.eval_node(plan, table);
        let took = start.elapsed();
        if let Some(p) = &mut self.profile {
            p.push((id, out.len(), took));
        }
        out
    }

    /// Skips the pre-order ids of a subtree that was not evaluated.
    fn skip(&mut self, plan: &Plan) {
        if let Some(p) = &mut self.profile {
            p.push((self.next_node, 0, Duration::ZERO));
            self.next_node += 1;
            for c in plan.children() {
                self.skip(c);
            }
        }
    }

    fn eval_node(&mut self, plan: &Plan, table: &'a Table) -> RoaringBitmap {
        match plan {
            Plan::All => table.all.clone(),
            Plan::Nothing => RoaringBitmap::new(),
            Plan::And(children) => {
                let mut acc: Option<RoaringBitmap> = None;
                let mut iter = children.iter();
                for child in iter.by_ref() {
                    match (&mut acc, child) {
                        (Some(a), Plan::Not(inner)) => {
                            let id = self.next_node;
                            self.next_node += 1;
                            let start = Instant::now();
                            let b = self.eval(inner, table);
                            *a -= &b;
                            if let Some(p) = &mut self.profile {
                                p.push((id, table.len as u64 - b.len(), start.elapsed()));
                            }
                        }
                        (Some(a), _) => *a &= self.eval(child, table),
                        (None, _) => acc = Some(self.eval(child, table)),
                    }
                    if acc.as_ref().is_some_and(RoaringBitmap::is_empty) {
                        break;
                    }
                }
                for rest in iter {
                    self.skip(rest);
                }
                acc.unwrap_or_else(|| table.all.clone())
            }
            Plan::Or(children) => {
                let mut acc = RoaringBitmap::new();
                for child in children {
                    acc |= self.eval(child, table);
                }
                acc
            }
            Plan::Not(inner) => &table.all - self.eval(inner, table),
            Plan::Leaf(leaf) => leaf_rows(leaf, table),
            Plan::Account(inner) => {
                let (Some(accounts), Some(link)) = (self.store.accounts.as_ref(), self.store.link.as_ref()) else {
                    return RoaringBitmap::new();
                };
                let matched = self.eval(inner, accounts);
                link.contacts_of_accounts(&matched)
            }
            Plan::AccountHas(inner) => {
                let Some(link) = self.store.link.as_ref() else {
                    return RoaringBitmap::new();
                };
                let matched = self.eval(inner, &self.store.contacts);
                let accounts: RoaringBitmap = matched
                    .iter()
                    .map(|r| link.account_of[r as usize])
                    .filter(|&a| a != MISSING)
                    .collect();
                link.contacts_of_accounts(&accounts)
            }
            Plan::AccountCount(c) => {
                let Some(link) = self.store.link.as_ref() else {
                    return RoaringBitmap::new();
                };
                let matched = self.eval(&c.query, &self.store.contacts);
                let mut per_account = vec![0u64; link.contacts_of.len()];
                for r in &matched {
                    let a = link.account_of[r as usize];
                    if a != MISSING {
                        per_account[a as usize] += 1;
                    }
                }
                let accounts: RoaringBitmap = per_account
                    .iter()
                    .enumerate()
                    .filter(|(_, &n)| c.op.holds(n, c.n))
                    .map(|(a, _)| a as u32)
                    .collect();
                link.contacts_of_accounts(&accounts)
            }
            Plan::Segment(s) => {
                if self.profile.is_none() {
                    if let Some(hit) = self.segments.get(&s.name) {
                        return hit.clone();
                    }
                }
                let out = self.eval(&s.plan, table);
                self.segments.insert(s.name.clone(), out.clone());
                out
            }
        }
    }
}

/// The rows of one column test.
pub fn leaf_rows(leaf: &Leaf, table: &Table) -> RoaringBitmap {
    let column = &table.columns[leaf.field];
    match (&leaf.test, &column.data) {
        (Test::Present, _) => column.present().clone(),
        (Test::DictIn(values), ColumnData::Dict(d)) => {
            let codes: Vec<u32> = values.iter().filter_map(|v| d.code(v)).collect();
            d.rows_of(&codes)
        }
        (Test::DictMatch(m), ColumnData::Dict(d)) => d.rows_where(|v| m.is_match(v)),
        (Test::Duplicate { fold }, ColumnData::Dict(d)) => d.duplicates(*fold).clone(),
        (Test::Range { lo, hi }, ColumnData::Num(n)) => n.range(*lo, *hi),
        (Test::NumIn(keys), ColumnData::Num(n)) => {
            let mut out = RoaringBitmap::new();
            for &k in keys {
                out |= n.range(std::ops::Bound::Included(k), std::ops::Bound::Included(k));
            }
            out
        }
        (Test::Duplicate { .. }, ColumnData::Num(n)) => n.duplicates().clone(),
        (Test::Bool(b), ColumnData::Bool(c)) => c.rows(*b),
        (Test::Duplicate { .. }, ColumnData::Bool(c)) => {
            let mut out = RoaringBitmap::new();
            let trues = c.trues.len();
            let falses = c.present.len() - trues;
            if trues > 1 {
                out |= &c.trues;
            }
            if falses > 1 {
                out |= &c.present - &c.trues;
            }
            out
        }
        (Test::SetAny(values), ColumnData::Set(s)) => {
            let mut out = RoaringBitmap::new();
            for v in values {
                if let Some(c) = s.code(v) {
                    out |= &s.bitmaps[c as usize];
                }
            }
            out
        }
        (Test::SetAll(values), ColumnData::Set(s)) => {
            let mut out: Option<RoaringBitmap> = None;
            for v in values {
                let Some(c) = s.code(v) else { return RoaringBitmap::new() };
                let b = &s.bitmaps[c as usize];
                out = Some(match out {
                    None => b.clone(),
                    Some(acc) => acc & b,
                });
            }
            out.unwrap_or_default()
        }
        (test, _) => unreachable!("the checker never pairs {test:?} with a {} column", column.ty),
    }
}

/// Holds for `op` over counts.
pub fn holds(op: CmpOp, a: u64, b: u64) -> bool {
    op.holds(a, b)
}
