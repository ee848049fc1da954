//! `explain`: the plan as an indented tree with estimated (and, with
//! `--analyze`, actual) counts and times per node.

use super::logical::Plan;
use super::optimize::estimate;
use crate::exec::Profile;
use crate::store::{Store, Table};
use std::fmt::Write as _;

/// Renders the plan tree. `profile` holds actual (count, time) per node in pre-order.
pub fn explain(plan: &Plan, store: &Store, profile: Option<&Profile>) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    walk(
        plan,
        store,
        &store.contacts,
        "",
        "",
        profile,
        &mut index,
        &mut lines,
    );
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (label, stats) in lines {
        let pad = width - label.chars().count();
        let _ = writeln!(out, "{label}{}  {stats}", " ".repeat(pad));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn walk<'a>(
    plan: &Plan,
    store: &'a Store,
    table: &'a Table,
    lead: &str,
    child_lead: &str,
    profile: Option<&Profile>,
    index: &mut usize,
    lines: &mut Vec<(String, String)>,
) {
    let est = estimate(plan, store, table);
    let mut stats = format!("est {}", group(est));
    if let Some(p) = profile {
        if let Some((actual, took)) = p.nodes.get(*index) {
            let _ = write!(
                stats,
                "  actual {}  {:.3} ms",
                group(*actual),
                took.as_secs_f64() * 1e3
            );
        }
    }
    *index += 1;
    lines.push((format!("{lead}{}", plan.label()), stats));
    let inner_table = match plan {
        Plan::Account(_) => store.accounts.as_ref().unwrap_or(table),
        Plan::AccountHas(_) | Plan::AccountCount(_) => &store.contacts,
        _ => table,
    };
    let children = plan.children();
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (branch, cont) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        walk(
            child,
            store,
            inner_table,
            &format!("{child_lead}{branch}"),
            &format!("{child_lead}{cont}"),
            profile,
            index,
            lines,
        );
    }
}

/// 1234567 → "1,234,567"
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
