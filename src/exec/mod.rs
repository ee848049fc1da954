//! Plan → the contact rows it selects.
//!
//! The executor walks the table one block of 2^16 rows at a time. For each
//! block it starts from a 1024-word mask of the block's rows and filters it
//! through the plan in place: an `and` filters by each child in turn
//! (stopping when the mask is empty), an `or` unions its children evaluated
//! within the mask, a `not` removes what its child keeps. The mask stays in
//! L1, every stored bitmap is read once per block, and nothing the size of
//! the table is built unless the caller asks for the rows:
//! [`count`] adds up popcounts, [`ids`] writes row numbers, [`execute`]
//! builds the bitmap.
//!
//! A leaf on a narrow column also has a *probe*: when the mask holds few
//! rows (after the selective children of an `and`), testing each row's code
//! or key costs less than reading the leaf's bitmaps, and the executor picks
//! whichever its per-block cost estimate says is cheaper.
//!
//! Predicates that are not per-row (`account has`, `account count`, a
//! segment used twice, `is duplicate`) are computed once per run, up front.
//! [`analyze`] (for `explain --analyze`) evaluates node by node instead, to
//! report each node's own count and time.

use crate::plan::logical::*;
use crate::store::bits::{self, Bits, BitsBuilder, Chunk, Words, BLOCK_ROWS, WORDS};
use crate::store::column::{Codes, NumColumn, RangePlan, Raw, MISSING};
use crate::store::kernels;
use crate::store::{ColumnData, Store, Table};
use crate::syntax::ast::CmpOp;
use ahash::AHashMap;
use roaring::RoaringBitmap;
use std::time::{Duration, Instant};

/// Evaluates a plan over the store's contacts.
pub fn execute(plan: &Plan, store: &Store) -> RoaringBitmap {
    execute_bits(plan, store).to_roaring()
}

/// Evaluates a plan over the store's contacts, as [`Bits`].
pub fn execute_bits(plan: &Plan, store: &Store) -> Bits {
    let mut cx = Context::new(store);
    let node = cx.prepare(plan, &store.contacts);
    let parts = par_blocks(
        &node,
        store.contacts.len,
        Vec::new,
        |out: &mut Vec<(usize, Chunk)>, b, w| out.push((b, Chunk::from_words(w))),
    );
    let mut chunks: Vec<(usize, Chunk)> = parts.into_iter().flatten().collect();
    chunks.sort_unstable_by_key(|(b, _)| *b);
    let mut out: Vec<Chunk> = Vec::new();
    for (b, c) in chunks {
        out.resize(b, Chunk::Empty);
        out.push(c);
    }
    Bits::from_chunks(out)
}

/// Counts the contacts matching a plan, without building the result.
pub fn count(plan: &Plan, store: &Store) -> u64 {
    let mut cx = Context::new(store);
    let node = cx.prepare(plan, &store.contacts);
    if let Some(n) = node.exact_count() {
        return n;
    }
    par_blocks(
        &node,
        store.contacts.len,
        || 0u64,
        |n, _, w| *n += kernels::popcount(&w[..]),
    )
    .into_iter()
    .sum()
}

/// The matching contact rows, ascending.
pub fn ids(plan: &Plan, store: &Store) -> Vec<u32> {
    let mut cx = Context::new(store);
    let node = cx.prepare(plan, &store.contacts);
    let hint = node.exact_count().unwrap_or(0) as usize;
    let push = |out: &mut Vec<u32>, b: usize, w: &Words| {
        out.reserve(kernels::popcount(&w[..]) as usize);
        kernels::push_positions(&w[..], (b * BLOCK_ROWS) as u32, out);
    };
    let mut parts = par_blocks(&node, store.contacts.len, || Vec::with_capacity(hint), push);
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    // Each thread took whole blocks in rising order: merge by first row.
    let mut runs: Vec<&[u32]> = Vec::new();
    for p in &parts {
        let mut start = 0;
        while start < p.len() {
            let block = p[start] >> 16;
            let end = start + p[start..].partition_point(|&r| r >> 16 == block);
            runs.push(&p[start..end]);
            start = end;
        }
    }
    runs.sort_unstable_by_key(|r| r[0]);
    let mut out = Vec::with_capacity(runs.iter().map(|r| r.len()).sum());
    for r in runs {
        out.extend_from_slice(r);
    }
    out
}

/// Below this estimated time, a second thread costs more than it saves.
const PARALLEL_MIN: Duration = Duration::from_micros(400);

/// Filters every block through `node` and folds the non-empty results into
/// per-thread states. The first block is timed; when the whole table would
/// take longer than [`PARALLEL_MIN`], a second thread joins and the two
/// take blocks from a shared counter (so a busy core costs nothing).
fn par_blocks<S: Send>(
    node: &Node<'_>,
    len: u32,
    make: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, usize, &Words) + Sync,
) -> Vec<S> {
    let blocks = (len as usize).div_ceil(BLOCK_ROWS);
    let mut first = make();
    if matches!(node, Node::Nothing) || blocks == 0 {
        return vec![first];
    }
    let next = std::sync::atomic::AtomicUsize::new(1);
    let work = |state: &mut S| {
        let mut m = bits::zero_words();
        let mut pool = Pool::default();
        loop {
            let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if b >= blocks {
                break;
            }
            fill_rows(&mut m, len, b);
            filter(node, b, &mut m, &mut pool);
            if m.iter().any(|&x| x != 0) {
                visit(state, b, &m);
            }
        }
    };
    let started = Instant::now();
    run_block_range(node, len, 0..1, |b, w| visit(&mut first, b, w));
    let estimate = started.elapsed() * blocks as u32;
    if blocks < 8 || estimate < PARALLEL_MIN {
        work(&mut first);
        return vec![first];
    }
    std::thread::scope(|s| {
        let helper = s.spawn(|| {
            let mut state = make();
            work(&mut state);
            state
        });
        work(&mut first);
        match helper.join() {
            Ok(other) => vec![first, other],
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Filters each block's rows through `node`, handing non-empty results to `sink`.
fn run_blocks(node: &Node<'_>, len: u32, sink: impl FnMut(usize, &Words)) {
    run_block_range(node, len, 0..(len as usize).div_ceil(BLOCK_ROWS), sink)
}

fn run_block_range(
    node: &Node<'_>,
    len: u32,
    blocks: std::ops::Range<usize>,
    mut sink: impl FnMut(usize, &Words),
) {
    if matches!(node, Node::Nothing) {
        return;
    }
    let mut m = bits::zero_words();
    let mut pool = Pool::default();
    for b in blocks {
        fill_rows(&mut m, len, b);
        filter(node, b, &mut m, &mut pool);
        if m.iter().any(|&x| x != 0) {
            sink(b, &m);
        }
    }
}

/// The rows of block `b` of a table of `len` rows.
fn fill_rows(m: &mut Words, len: u32, b: usize) {
    let rows = (len as usize - b * BLOCK_ROWS).min(BLOCK_ROWS);
    if rows == BLOCK_ROWS {
        m.fill(!0);
    } else {
        m.fill(0);
        if rows > 0 {
            bits::set_range(m, 0, rows - 1);
        }
    }
}

/// Spare word buffers, reused across blocks.
#[derive(Default)]
struct Pool(Vec<Box<Words>>);

impl Pool {
    fn take(&mut self) -> Box<Words> {
        self.0.pop().unwrap_or_else(bits::zero_words)
    }

    fn give(&mut self, w: Box<Words>) {
        self.0.push(w);
    }
}

/// A bitmap the executor borrows from the store or computed up front.
enum Rows<'a> {
    Stored(&'a Bits),
    Computed(Bits),
    /// Kept by a column's [`RangeCache`](crate::store::column::RangeCache).
    Shared(std::sync::Arc<Bits>),
}

impl Rows<'_> {
    fn bits(&self) -> &Bits {
        match self {
            Rows::Stored(b) => b,
            Rows::Computed(b) => b,
            Rows::Shared(b) => b,
        }
    }
}

/// How a row's dictionary code is tested when probing.
struct CodeProbe<'a> {
    codes: &'a Codes,
    /// `wanted[c]` for every code of the dictionary
    wanted: Vec<bool>,
}

/// The plan, prepared against one table.
enum Node<'a> {
    All,
    Nothing,
    And(Vec<Node<'a>>),
    Or(Vec<Node<'a>>),
    Not(Box<Node<'a>>),
    Rows(Rows<'a>),
    /// Rows in any of the bitmaps (disjoint when `exact` holds their total).
    AnyOf {
        bits: Vec<&'a Bits>,
        probe: Option<CodeProbe<'a>>,
        exact: Option<u64>,
    },
    Range {
        col: &'a NumColumn,
        plan: RangePlan,
    },
    /// Contacts whose account is set in `accounts` (one bit per account).
    AccountIn {
        account_of: &'a [u32],
        accounts: Vec<u64>,
    },
}

impl Node<'_> {
    /// The count, when known without evaluating.
    fn exact_count(&self) -> Option<u64> {
        match self {
            Node::Nothing => Some(0),
            Node::Rows(r) => Some(r.bits().len()),
            Node::AnyOf { exact, .. } => *exact,
            Node::Range { plan, .. } if plan.edges.is_empty() => Some(plan.inside_count),
            _ => None,
        }
    }
}

struct Context<'a> {
    store: &'a Store,
    segments: AHashMap<String, Bits>,
}

impl<'a> Context<'a> {
    fn new(store: &'a Store) -> Context<'a> {
        Context {
            store,
            segments: AHashMap::new(),
        }
    }

    /// Evaluates a whole plan over `table` into a bitmap.
    fn materialize(&mut self, plan: &Plan, table: &'a Table) -> Bits {
        let node = self.prepare(plan, table);
        if let Node::Rows(Rows::Stored(b)) = &node {
            return (*b).clone();
        }
        let mut out = BitsBuilder::new();
        run_blocks(&node, table.len, |b, w| {
            out.push_words(b, w, kernels::popcount(&w[..]) as usize)
        });
        out.finish()
    }

    fn prepare(&mut self, plan: &Plan, table: &'a Table) -> Node<'a> {
        match plan {
            Plan::All => Node::All,
            Plan::Nothing => Node::Nothing,
            Plan::And(children) => {
                let mut out = Vec::with_capacity(children.len());
                for c in children {
                    match self.prepare(c, table) {
                        Node::Nothing => return Node::Nothing,
                        Node::All => {}
                        n => out.push(n),
                    }
                }
                match out.len() {
                    0 => Node::All,
                    1 => out.pop().expect("one"),
                    _ => Node::And(out),
                }
            }
            Plan::Or(children) => {
                let mut out = Vec::with_capacity(children.len());
                for c in children {
                    match self.prepare(c, table) {
                        Node::All => return Node::All,
                        Node::Nothing => {}
                        n => out.push(n),
                    }
                }
                match out.len() {
                    0 => Node::Nothing,
                    1 => out.pop().expect("one"),
                    _ => Node::Or(out),
                }
            }
            Plan::Not(inner) => match self.prepare(inner, table) {
                Node::All => Node::Nothing,
                Node::Nothing => Node::All,
                n => Node::Not(Box::new(n)),
            },
            Plan::Leaf(leaf) => prepare_leaf(leaf, table),
            Plan::Account(inner) => {
                let (Some(accounts), Some(link)) =
                    (self.store.accounts.as_ref(), self.store.link.as_ref())
                else {
                    return Node::Nothing;
                };
                let matched = self.materialize(inner, accounts);
                account_node(&link.account_of, accounts.len, |set| matched.for_each(set))
            }
            Plan::AccountHas(inner) => {
                let Some(link) = self.store.link.as_ref() else {
                    return Node::Nothing;
                };
                let Some(accounts) = self.store.accounts.as_ref() else {
                    return Node::Nothing;
                };
                let matched = self.materialize(inner, &self.store.contacts);
                account_node(&link.account_of, accounts.len, |set| {
                    matched.for_each(|r| {
                        let a = link.account_of[r as usize];
                        if a != MISSING {
                            set(a);
                        }
                    })
                })
            }
            Plan::AccountCount(c) => {
                let Some(link) = self.store.link.as_ref() else {
                    return Node::Nothing;
                };
                let matched = self.materialize(&c.query, &self.store.contacts);
                let mut per_account = vec![0u64; link.contacts_of.len()];
                matched.for_each(|r| {
                    let a = link.account_of[r as usize];
                    if a != MISSING {
                        per_account[a as usize] += 1;
                    }
                });
                account_node(&link.account_of, link.contacts_of.len() as u32, |set| {
                    for (a, &n) in per_account.iter().enumerate() {
                        if c.op.holds(n, c.n) {
                            set(a as u32);
                        }
                    }
                })
            }
            Plan::Segment(s) => {
                if let Some(hit) = self.segments.get(&s.name) {
                    return Node::Rows(Rows::Computed(hit.clone()));
                }
                let out = self.materialize(&s.plan, table);
                self.segments.insert(s.name.clone(), out.clone());
                Node::Rows(Rows::Computed(out))
            }
        }
    }
}

/// A node keeping contacts whose account `set` marks.
fn account_node<'a>(
    account_of: &'a [u32],
    accounts: u32,
    mark: impl FnOnce(&mut dyn FnMut(u32)),
) -> Node<'a> {
    let mut bitset = vec![0u64; (accounts as usize).div_ceil(64)];
    let mut any = false;
    mark(&mut |a: u32| {
        if let Some(w) = bitset.get_mut(a as usize / 64) {
            *w |= 1 << (a % 64);
            any = true;
        }
    });
    if !any {
        return Node::Nothing;
    }
    Node::AccountIn {
        account_of,
        accounts: bitset,
    }
}

fn prepare_leaf<'a>(leaf: &Leaf, table: &'a Table) -> Node<'a> {
    let column = &table.columns[leaf.field];
    match (&leaf.test, &column.data) {
        (Test::Present, ColumnData::Dict(d)) => Node::Rows(Rows::Stored(d.present_bits())),
        (Test::Present, ColumnData::Num(n)) => Node::Rows(Rows::Stored(n.present_bits())),
        (Test::Present, ColumnData::Bool(c)) => Node::Rows(Rows::Stored(c.present_bits())),
        (Test::Present, ColumnData::Set(s)) => Node::Rows(Rows::Stored(s.present_bits())),
        (Test::DictIn(values), ColumnData::Dict(d)) => {
            let mut codes: Vec<u32> = values.iter().filter_map(|v| d.code(v)).collect();
            codes.sort_unstable();
            codes.dedup();
            dict_codes(d, codes)
        }
        (Test::DictMatch(m), ColumnData::Dict(d)) => {
            dict_codes(d, d.codes_where(|v| m.is_match(v)))
        }
        (Test::Duplicate { fold }, ColumnData::Dict(d)) => {
            Node::Rows(Rows::Stored(d.duplicate_bits(*fold)))
        }
        (Test::Range { lo, hi }, ColumnData::Num(n)) => match n.range_plan(*lo, *hi) {
            None => Node::Nothing,
            Some(p) if p.is_everything(n.coarse_buckets()) => {
                Node::Rows(Rows::Stored(n.present_bits()))
            }
            Some(plan) => {
                let (lo, hi) = (plan.lo, plan.hi);
                match n.ranges.get(lo, hi) {
                    Ok(rows) => Node::Rows(Rows::Shared(rows)),
                    Err(false) => Node::Range { col: n, plan },
                    Err(true) => {
                        // asked for again: keep its rows for next time
                        let node = Node::Range { col: n, plan };
                        let mut out = BitsBuilder::new();
                        run_blocks(&node, table.len, |b, w| {
                            out.push_words(b, w, kernels::popcount(&w[..]) as usize)
                        });
                        let rows = std::sync::Arc::new(out.finish());
                        n.ranges.put(lo, hi, rows.clone());
                        Node::Rows(Rows::Shared(rows))
                    }
                }
            }
        },
        (Test::NumIn(keys), ColumnData::Num(n)) => {
            let mut keys = keys.clone();
            keys.sort_unstable();
            keys.dedup();
            let parts: Vec<Node<'a>> = keys
                .iter()
                .filter_map(|&k| {
                    n.range_plan(std::ops::Bound::Included(k), std::ops::Bound::Included(k))
                })
                .map(|plan| Node::Range { col: n, plan })
                .collect();
            match parts.len() {
                0 => Node::Nothing,
                1 => parts.into_iter().next().expect("one"),
                _ => Node::Or(parts),
            }
        }
        (Test::Duplicate { .. }, ColumnData::Num(n)) => {
            Node::Rows(Rows::Stored(n.duplicate_bits()))
        }
        (Test::Bool(true), ColumnData::Bool(c)) => Node::Rows(Rows::Stored(c.trues_bits())),
        (Test::Bool(false), ColumnData::Bool(c)) => Node::And(vec![
            Node::Rows(Rows::Stored(c.present_bits())),
            Node::Not(Box::new(Node::Rows(Rows::Stored(c.trues_bits())))),
        ]),
        (Test::Duplicate { .. }, ColumnData::Bool(_)) => {
            Node::Rows(Rows::Computed(Bits::from_roaring(&leaf_rows(leaf, table))))
        }
        (Test::SetAny(values), ColumnData::Set(s)) => {
            let mut codes: Vec<u32> = values.iter().filter_map(|v| s.code(v)).collect();
            codes.sort_unstable();
            codes.dedup();
            if codes.is_empty() {
                return Node::Nothing;
            }
            Node::AnyOf {
                bits: codes.iter().map(|&c| s.member_bits(c)).collect(),
                probe: None,
                exact: (codes.len() == 1).then(|| s.member_bits(codes[0]).len()),
            }
        }
        (Test::SetAll(values), ColumnData::Set(s)) => {
            let mut parts = Vec::new();
            for v in values {
                let Some(c) = s.code(v) else {
                    return Node::Nothing;
                };
                parts.push(Node::Rows(Rows::Stored(s.member_bits(c))));
            }
            match parts.len() {
                0 => Node::Nothing,
                1 => parts.pop().expect("one"),
                _ => Node::And(parts),
            }
        }
        (test, _) => unreachable!(
            "the checker never pairs {test:?} with a {} column",
            column.ty
        ),
    }
}

/// Rows holding any of `codes` (ascending, distinct) of a dictionary column.
fn dict_codes<'a>(d: &'a crate::store::column::DictColumn, codes: Vec<u32>) -> Node<'a> {
    if codes.is_empty() {
        return Node::Nothing;
    }
    let exact = Some(codes.iter().map(|&c| d.count(c)).sum());
    if d.postings_bits(codes[0]).is_none() || codes.len() > 16 {
        return Node::Rows(Rows::Computed(d.rows_of_bits(&codes)));
    }
    let bits: Vec<&Bits> = codes.iter().filter_map(|&c| d.postings_bits(c)).collect();
    let mut wanted = vec![false; d.distinct()];
    for &c in &codes {
        wanted[c as usize] = true;
    }
    Node::AnyOf {
        bits,
        probe: Some(CodeProbe {
            codes: &d.codes,
            wanted,
        }),
        exact,
    }
}

// ------------------------------------------------------------- per block

/// Whether a range's superset (its coarse span) holds rows out of range.
fn needs_refining(plan: &RangePlan) -> bool {
    !plan.edges.is_empty() || !plan.fine_outside.is_empty()
}

/// Estimated ns to AND or OR a chunk into a word buffer.
fn chunk_cost(c: &Chunk) -> u64 {
    match c {
        Chunk::Empty | Chunk::Full => 10,
        Chunk::Sparse(s) => s.len() as u64,
        Chunk::Dense { .. } => 350,
    }
}

/// Estimated ns to test one row by its code or key: the rows of a mask
/// are far apart, so each test is a cache miss (overlapped with others).
const PROBE_COST: u64 = 20;

fn popcount(m: &Words) -> u64 {
    kernels::popcount(&m[..])
}

/// `m &= rows(node)` within block `b`.
fn filter(node: &Node<'_>, b: usize, m: &mut Words, pool: &mut Pool) {
    match node {
        Node::All => {}
        Node::Nothing => m.fill(0),
        Node::And(children) => {
            // Ranges first keep the rows of every bucket they touch (two
            // word operations); the rows of partly covered buckets are tested
            // at the end, when the other children have thinned the mask.
            let mut deferred = false;
            for c in children {
                match c {
                    Node::Range { col, plan } if needs_refining(plan) => {
                        range_superset(col, plan, b, m);
                        deferred = true;
                    }
                    _ => filter(c, b, m, pool),
                }
                if m.iter().all(|&x| x == 0) {
                    return;
                }
            }
            if deferred {
                for c in children {
                    if let Node::Range { col, plan } = c {
                        if needs_refining(plan) {
                            refine_range(col, plan, b, m, pool);
                        }
                    }
                }
            }
        }
        Node::Or(children) => {
            let mut acc = pool.take();
            let mut part = pool.take();
            acc.fill(0);
            for c in children {
                // Only rows not yet kept need testing.
                part.copy_from_slice(&m[..]);
                kernels::andnot_assign(&mut part[..], &acc[..]);
                filter(c, b, &mut part, pool);
                kernels::or_assign(&mut acc[..], &part[..]);
            }
            m.copy_from_slice(&acc[..]);
            pool.give(acc);
            pool.give(part);
        }
        Node::Not(inner) => {
            let mut part = pool.take();
            part.copy_from_slice(&m[..]);
            filter(inner, b, &mut part, pool);
            kernels::andnot_assign(&mut m[..], &part[..]);
            pool.give(part);
        }
        Node::Rows(r) => r.bits().chunk(b).and_into(m),
        Node::AnyOf { bits, probe, .. } => {
            let dense: u64 = bits.iter().map(|x| chunk_cost(x.chunk(b))).sum();
            if let Some(p) = probe {
                if dense > 200 && popcount(m) * PROBE_COST < dense {
                    probe_codes(p, b, m);
                    return;
                }
            }
            if let [one] = bits.as_slice() {
                one.chunk(b).and_into(m);
                return;
            }
            // Dense chunks are ORed and ANDed in one pass; the others first
            // go into a buffer that joins them as one more dense source.
            let mut dense: Vec<&[u64]> = Vec::with_capacity(bits.len() + 1);
            let mut rest = None;
            for x in bits {
                match x.chunk(b) {
                    Chunk::Dense { words, .. } => dense.push(&words[..]),
                    Chunk::Empty => {}
                    Chunk::Full => return,
                    sparse => {
                        let any = rest.get_or_insert_with(|| {
                            let mut w = pool.take();
                            w.fill(0);
                            w
                        });
                        sparse.or_into(any);
                    }
                }
            }
            if let Some(any) = &rest {
                dense.push(&any[..]);
            }
            kernels::and_any_assign(&mut m[..], &dense);
            if let Some(any) = rest {
                pool.give(any);
            }
        }
        Node::Range { col, plan } => filter_range(col, plan, b, m, pool),
        Node::AccountIn {
            account_of,
            accounts,
        } => {
            let base = b * BLOCK_ROWS;
            for (i, word) in m.iter_mut().enumerate() {
                let mut x = *word;
                while x != 0 {
                    let bit = x.trailing_zeros() as usize;
                    let a = account_of[base + i * 64 + bit];
                    if a == MISSING || accounts[a as usize / 64] & (1 << (a % 64)) == 0 {
                        *word &= !(1 << bit);
                    }
                    x &= x - 1;
                }
            }
        }
    }
}

/// Keeps rows of `m` whose code is wanted.
fn probe_codes(p: &CodeProbe<'_>, b: usize, m: &mut Words) {
    let base = b * BLOCK_ROWS;
    let wanted = &p.wanted;
    let keep = |c: u32| c != MISSING && wanted[c as usize];
    match p.codes {
        Codes::U8(v) => retain_bits(m, |r| {
            let c = v[base + r];
            c != u8::MAX && wanted[c as usize]
        }),
        Codes::U16(v) => retain_bits(m, |r| {
            let c = v[base + r];
            c != u16::MAX && wanted[c as usize]
        }),
        Codes::U32(v) => retain_bits(m, |r| keep(v[base + r])),
    }
}

thread_local! {
    /// Row positions to test, gathered before testing so that the tests'
    /// loads are independent and overlap (no branch on a loaded value).
    static CANDIDATES: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub static STATS: [std::sync::atomic::AtomicU64; 4] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 4];
/// Clears the bits of `m` at `candidates` for which `keep` is false.
#[inline]
fn drop_failing(m: &mut Words, candidates: &[u16], keep: impl Fn(usize) -> bool) {
    STATS[0].fetch_add(
        candidates.len() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    STATS[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for &x in candidates {
        let x = x as usize;
        let fail = u64::from(!keep(x));
        m[x >> 6] &= !(fail << (x & 63));
    }
}

/// Clears the set bits of `m` for which `keep` is false.
#[inline]
fn retain_bits(m: &mut Words, keep: impl Fn(usize) -> bool) {
    CANDIDATES.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        bits::push_set_bits(&m[..], 0, &mut c);
        drop_failing(m, &c, keep);
    });
}

/// Keeps rows of `m` whose raw key lies in `ra..=rb` (and that are present).
fn probe_keys(col: &NumColumn, b: usize, m: &mut Words, ra: i64, rb: i64) {
    let present = col.present_bits().chunk(b);
    if !matches!(present, Chunk::Full) {
        present.and_into(m);
    }
    let kb = col.keys.block(b);
    match &kb.raw {
        Raw::Const => {
            if !(ra <= 0 && 0 <= rb) {
                m.fill(0);
            }
        }
        Raw::U8(v) => retain_bits(m, |r| (ra..=rb).contains(&(v[r] as i64))),
        Raw::U16(v) => retain_bits(m, |r| (ra..=rb).contains(&(v[r] as i64))),
        Raw::U32(v) => retain_bits(m, |r| (ra..=rb).contains(&(v[r] as i64))),
        Raw::I64(v) => retain_bits(m, |r| (ra..=rb).contains(&v[r])),
    }
}

/// Rows of every coarse bucket a range touches (a superset of its rows).
fn range_superset(col: &NumColumn, plan: &RangePlan, b: usize, m: &mut Words) {
    let (a, c) = plan.span;
    match (col.buckets_from(a).chunk(b), col.buckets_from(c).chunk(b)) {
        (Chunk::Dense { words: x, .. }, Chunk::Dense { words: y, .. }) => {
            kernels::and_andnot_assign(&mut m[..], &x[..], &y[..])
        }
        (x, y) => {
            x.and_into(m);
            y.andnot_into(m);
        }
    }
}

/// Estimated ns to read the chunks of block `b` of some fine buckets.
fn fine_cost(col: &NumColumn, fines: &[usize], b: usize) -> u64 {
    fines
        .iter()
        .map(|&f| chunk_cost(col.bucket_rows(f).chunk(b)))
        .sum()
}

/// After [`range_superset`]: keeps the rows of `m` that are in range, by
/// whichever is cheapest — testing each row's key, removing the fine buckets
/// that lie outside, or rebuilding from the buckets that lie inside.
fn refine_range(col: &NumColumn, plan: &RangePlan, b: usize, m: &mut Words, pool: &mut Pool) {
    let Some((ra, rb)) = col
        .keys
        .block_opt(b)
        .and_then(|kb| kb.raw_bounds(plan.lo, plan.hi))
    else {
        m.fill(0);
        return;
    };
    let edges = fine_cost(col, &plan.edges, b);
    let outside = fine_cost(col, &plan.fine_outside, b);
    if outside + edges > 100 && popcount(m) * PROBE_COST <= outside + edges {
        probe_keys(col, b, m, ra, rb);
        return;
    }
    let inside = fine_cost(col, &plan.fine_inside, b)
        + plan
            .coarse_inside
            .map_or(0, |_| 2 * chunk_cost(&Chunk::Full));
    if inside < outside {
        rebuild_range(col, plan, b, m, pool, ra, rb);
        return;
    }
    for &f in &plan.fine_outside {
        col.bucket_rows(f).chunk(b).andnot_into(m);
    }
    if !plan.edges.is_empty() {
        edge_candidates(col, &plan.edges, b, m, |m, c, kb| {
            drop_failing(m, c, |x| {
                let raw = kb.raw_at(x);
                ra <= raw && raw <= rb
            })
        });
    }
}

/// `m &= rows(range)`, from the buckets inside the range (exact).
fn rebuild_range(
    col: &NumColumn,
    plan: &RangePlan,
    b: usize,
    m: &mut Words,
    pool: &mut Pool,
    ra: i64,
    rb: i64,
) {
    let mut before = pool.take();
    before.copy_from_slice(&m[..]);
    match plan.coarse_inside {
        Some((a, c)) => {
            col.buckets_from(a).chunk(b).and_into(m);
            col.buckets_from(c).chunk(b).andnot_into(m);
        }
        None => m.fill(0),
    }
    for &f in &plan.fine_inside {
        match col.bucket_rows(f).chunk(b) {
            Chunk::Empty => {}
            Chunk::Sparse(s) => {
                for &x in s.iter() {
                    let (i, bit) = ((x >> 6) as usize, 1u64 << (x & 63));
                    m[i] |= before[i] & bit;
                }
            }
            Chunk::Dense { words, .. } => {
                for i in 0..WORDS {
                    m[i] |= before[i] & words[i];
                }
            }
            Chunk::Full => m.copy_from_slice(&before[..]),
        }
    }
    if !plan.edges.is_empty() {
        edge_candidates(col, &plan.edges, b, &*before, |_, c, kb| {
            for &x in c {
                let x = x as usize;
                let raw = kb.raw_at(x);
                let keep = u64::from(ra <= raw && raw <= rb);
                m[x >> 6] |= keep << (x & 63);
            }
        });
    }
    pool.give(before);
}

/// Gathers the rows of `m` in the given fine buckets and hands them, with
/// the block's keys, to `test`.
fn edge_candidates<M>(
    col: &NumColumn,
    edges: &[usize],
    b: usize,
    m: M,
    test: impl FnOnce(M, &[u16], &crate::store::column::KeyBlock),
) where
    M: std::ops::Deref<Target = Words>,
{
    CANDIDATES.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        for &e in edges {
            match col.bucket_rows(e).chunk(b) {
                Chunk::Empty => {}
                Chunk::Sparse(s) => c.extend(
                    s.iter()
                        .filter(|&&x| m[(x >> 6) as usize] & (1 << (x & 63)) != 0),
                ),
                Chunk::Dense { words, .. } => {
                    for i in 0..WORDS {
                        let mut x = words[i] & m[i];
                        while x != 0 {
                            c.push((i * 64) as u16 | x.trailing_zeros() as u16);
                            x &= x - 1;
                        }
                    }
                }
                Chunk::Full => bits::push_set_bits(&m[..], 0, &mut c),
            }
        }
        test(m, &c, col.keys.block(b));
    });
}

fn filter_range(col: &NumColumn, plan: &RangePlan, b: usize, m: &mut Words, pool: &mut Pool) {
    let Some((ra, rb)) = col
        .keys
        .block_opt(b)
        .and_then(|kb| kb.raw_bounds(plan.lo, plan.hi))
    else {
        m.fill(0);
        return;
    };
    let dense = fine_cost(col, &plan.fine_inside, b)
        + fine_cost(col, &plan.edges, b)
        + plan.coarse_inside.map_or(0, |_| 700);
    if dense > 200 && popcount(m) * PROBE_COST < dense {
        probe_keys(col, b, m, ra, rb);
        return;
    }
    rebuild_range(col, plan, b, m, pool, ra, rb);
}

// ------------------------------------------------------------ profiling

/// Per-node actual counts and times, in pre-order (for `explain --analyze`).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub nodes: Vec<(u64, Duration)>,
}

/// Evaluates and records each node's result size and time, in pre-order.
pub fn analyze(plan: &Plan, store: &Store) -> (RoaringBitmap, Profile) {
    let mut ex = Profiler::new(store);
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

/// Node-at-a-time evaluation, so each node's own count and time can be
/// reported.
struct Profiler<'a> {
    store: &'a Store,
    segments: AHashMap<String, RoaringBitmap>,
    /// (pre-order index, count, time) when profiling
    profile: Option<Vec<(usize, u64, Duration)>>,
    next_node: usize,
}

impl<'a> Profiler<'a> {
    fn new(store: &'a Store) -> Profiler<'a> {
        Profiler {
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
                let (Some(accounts), Some(link)) =
                    (self.store.accounts.as_ref(), self.store.link.as_ref())
                else {
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
                let Some(c) = s.code(v) else {
                    return RoaringBitmap::new();
                };
                let b = &s.bitmaps[c as usize];
                out = Some(match out {
                    None => b.clone(),
                    Some(acc) => acc & b,
                });
            }
            out.unwrap_or_default()
        }
        (test, _) => unreachable!(
            "the checker never pairs {test:?} with a {} column",
            column.ty
        ),
    }
}

/// Holds for `op` over counts.
pub fn holds(op: CmpOp, a: u64, b: u64) -> bool {
    op.holds(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    fn engine() -> Engine {
        let store = crate::store::ingest::generated(&crate::gen::GenConfig {
            contacts: 150_000,
            accounts: 3_000,
            seed: 11,
            today_days: 20_600,
        });
        Engine::new(store, 20_600 * crate::time::MICROS_PER_DAY)
    }

    /// Every query gives the same rows through the block executor, its
    /// count and ids, and node-at-a-time evaluation.
    #[test]
    fn exec_block_evaluation_agrees_with_node_at_a_time() {
        let mut e = engine();
        let queries = [
            "role in [decision_maker, champion] and replies_30d > 2",
            "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea",
            "industry in [software, fintech, healthcare, retail, media] and company_size between 200 and 5000 and last_activity within 30d and score >= 70",
            "role = blocker",
            "stage >= opportunity and not account has (role = decision_maker and replies_30d > 0)",
            "title contains \"head of\" and email is duplicate",
            "company_size in [1, 2, 50, 51] or score < 3",
            "not (opted_in = false) and tags has any [webinar, trial]",
            "last_activity is missing or created_at >= 2024-01-01",
            "account.tier = enterprise and account count (replies_30d > 0) >= 2",
            "score between 30 and 31 and company_size > 1000",
            "id in [1, 5, 149999] or email is missing",
        ];
        for q in queries {
            let plan = e.compile(q).unwrap_or_else(|d| panic!("{q}: {d:?}")).plan;
            let (reference, _) = analyze(&plan, &e.store);
            let rows = execute(&plan, &e.store);
            assert_eq!(rows, reference, "{q}");
            assert_eq!(count(&plan, &e.store), reference.len(), "{q}");
            assert_eq!(
                ids(&plan, &e.store),
                reference.iter().collect::<Vec<_>>(),
                "{q}"
            );
            // By now repeated ranges come from the columns' range caches.
            assert_eq!(execute(&plan, &e.store), reference, "{q} (cached ranges)");
            assert_eq!(
                count(&plan, &e.store),
                reference.len(),
                "{q} (cached ranges)"
            );
        }
        let kept: usize = e
            .store
            .contacts
            .columns
            .iter()
            .filter_map(|c| match &c.data {
                ColumnData::Num(n) => Some(n.ranges.kept()),
                _ => None,
            })
            .sum();
        assert!(kept > 0, "ranges asked for repeatedly are kept");
    }
}
