//! Columns and their indexes. Row number = position in the table, so a
//! bitmap of row numbers is an answer with no lookup.
//!
//! - [`DictColumn`] (enum, string, ref): a dictionary of distinct values,
//!   a code per row, and postings per value: a bitmap per value when there
//!   are few, else rows sorted by code (CSR). `=`, `in`, `contains`,
//!   `matches` and `is duplicate` work over distinct values, not rows.
//! - [`NumColumn`] (int, float, date, datetime): an order-preserving i64 key
//!   per row, with a bitmap per distinct value when there are few, else the
//!   rows sorted by key, so a selective range touches only its rows.
//! - [`BoolColumn`]: a bitmap of `true` and one of present rows.
//! - [`SetColumn`]: a bitmap per member value, plus each row's members.

use ahash::AHashMap;
use roaring::{MultiOps, RoaringBitmap};
use std::ops::Bound;
use std::sync::OnceLock;

/// The code of a missing value in [`DictColumn::codes`].
pub const MISSING: u32 = u32::MAX;

/// Above this many distinct values, postings are stored sorted, not as bitmaps.
const MAX_BITMAP_POSTINGS: usize = 4096;

/// Builds a bitmap from unsorted row ids.
pub fn bitmap_from_rows(mut rows: Vec<u32>) -> RoaringBitmap {
    rows.sort_unstable();
    RoaringBitmap::from_sorted_iter(rows).expect("sorted rows")
}

/// Rows `r` of `0..len` with `keep(r)`, built as a dense bitset first.
pub fn bitmap_from_predicate(len: u32, mut keep: impl FnMut(usize) -> bool) -> RoaringBitmap {
    let mut bytes = vec![0u8; (len as usize).div_ceil(8)];
    for (i, byte) in bytes.iter_mut().enumerate() {
        let base = i * 8;
        let mut b = 0u8;
        for bit in 0..8 {
            let r = base + bit;
            if r < len as usize && keep(r) {
                b |= 1 << bit;
            }
        }
        *byte = b;
    }
    RoaringBitmap::from_lsb0_bytes(0, &bytes)
}

// ------------------------------------------------------------------ dict

#[derive(Debug)]
enum Postings {
    Bitmaps(Vec<RoaringBitmap>),
    /// `rows[offsets[c]..offsets[c + 1]]` are the rows of code `c`, ascending.
    Sorted { offsets: Vec<u32>, rows: Vec<u32> },
}

#[derive(Debug)]
pub struct DictColumn {
    /// code → value
    pub values: Vec<String>,
    lookup: AHashMap<String, u32>,
    /// row → code, or [`MISSING`]
    pub codes: Vec<u32>,
    pub present: RoaringBitmap,
    counts: Vec<u32>,
    postings: Postings,
    duplicates: OnceLock<RoaringBitmap>,
}

impl DictColumn {
    /// Builds the indexes. `values` must be distinct; `codes` index into it.
    pub fn new(values: Vec<String>, codes: Vec<u32>) -> DictColumn {
        let lookup = values.iter().enumerate().map(|(i, v)| (v.clone(), i as u32)).collect();
        let mut counts = vec![0u32; values.len()];
        for &c in &codes {
            if c != MISSING {
                counts[c as usize] += 1;
            }
        }
        let present = RoaringBitmap::from_sorted_iter(
            codes.iter().enumerate().filter(|(_, &c)| c != MISSING).map(|(r, _)| r as u32),
        )
        .expect("ascending");
        let postings = if values.len() <= MAX_BITMAP_POSTINGS {
            let mut rows: Vec<Vec<u32>> = counts.iter().map(|&n| Vec::with_capacity(n as usize)).collect();
            for (r, &c) in codes.iter().enumerate() {
                if c != MISSING {
                    rows[c as usize].push(r as u32);
                }
            }
            Postings::Bitmaps(
                rows.into_iter()
                    .map(|r| RoaringBitmap::from_sorted_iter(r).expect("ascending"))
                    .collect(),
            )
        } else {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            let mut acc = 0u32;
            offsets.push(0);
            for &n in &counts {
                acc += n;
                offsets.push(acc);
            }
            let mut fill = offsets.clone();
            let mut rows = vec![0u32; acc as usize];
            for (r, &c) in codes.iter().enumerate() {
                if c != MISSING {
                    rows[fill[c as usize] as usize] = r as u32;
                    fill[c as usize] += 1;
                }
            }
            Postings::Sorted { offsets, rows }
        };
        DictColumn {
            values,
            lookup,
            codes,
            present,
            counts,
            postings,
            duplicates: OnceLock::new(),
        }
    }

    pub fn code(&self, value: &str) -> Option<u32> {
        self.lookup.get(value).copied()
    }

    pub fn value(&self, row: u32) -> Option<&str> {
        match self.codes[row as usize] {
            MISSING => None,
            c => Some(&self.values[c as usize]),
        }
    }

    /// How many rows hold code `c`.
    pub fn count(&self, code: u32) -> u64 {
        self.counts[code as usize] as u64
    }

    /// Rows holding any of `codes`.
    pub fn rows_of(&self, codes: &[u32]) -> RoaringBitmap {
        match &self.postings {
            Postings::Bitmaps(b) => match codes {
                [] => RoaringBitmap::new(),
                [one] => b[*one as usize].clone(),
                many => many.iter().map(|&c| &b[c as usize]).union(),
            },
            Postings::Sorted { offsets, rows } => {
                let total: u64 = codes.iter().map(|&c| self.count(c)).sum();
                if total * 16 > self.codes.len() as u64 {
                    let mut wanted = vec![false; self.values.len()];
                    for &c in codes {
                        wanted[c as usize] = true;
                    }
                    let codes_col = &self.codes;
                    bitmap_from_predicate(codes_col.len() as u32, |r| {
                        let c = codes_col[r];
                        c != MISSING && wanted[c as usize]
                    })
                } else {
                    let mut out = Vec::with_capacity(total as usize);
                    for &c in codes {
                        out.extend_from_slice(&rows[offsets[c as usize] as usize..offsets[c as usize + 1] as usize]);
                    }
                    bitmap_from_rows(out)
                }
            }
        }
    }

    /// Rows whose value satisfies `keep`, testing each distinct value once.
    pub fn rows_where(&self, mut keep: impl FnMut(&str) -> bool) -> RoaringBitmap {
        let codes: Vec<u32> = (0..self.values.len() as u32)
            .filter(|&c| self.counts[c as usize] > 0 && keep(&self.values[c as usize]))
            .collect();
        self.rows_of(&codes)
    }

    /// Rows whose value (trimmed and case-folded when `fold`) occurs on more
    /// than one row. Computed once, over distinct values.
    pub fn duplicates(&self, fold: bool) -> &RoaringBitmap {
        self.duplicates.get_or_init(|| {
            let mut groups: AHashMap<std::borrow::Cow<str>, (u64, Vec<u32>)> = AHashMap::new();
            for (c, v) in self.values.iter().enumerate() {
                if self.counts[c] == 0 {
                    continue;
                }
                let key = if fold {
                    std::borrow::Cow::Owned(v.trim().to_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(v.as_str())
                };
                let g = groups.entry(key).or_default();
                g.0 += self.counts[c] as u64;
                g.1.push(c as u32);
            }
            let codes: Vec<u32> = groups.into_values().filter(|(n, _)| *n > 1).flat_map(|(_, c)| c).collect();
            self.rows_of(&codes)
        })
    }
}

// ------------------------------------------------------------------- num

#[derive(Debug)]
enum NumIndex {
    /// Distinct keys ascending, with the rows of each.
    Values { keys: Vec<i64>, bitmaps: Vec<RoaringBitmap> },
    /// Present rows sorted by (key, row).
    Sorted { order: Vec<u32> },
}

/// Maps an f64 to an i64 with the same order (finite values; -0.0 → 0.0).
pub fn float_key(v: f64) -> i64 {
    let v = if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

pub fn key_float(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

/// Above this many distinct keys, a numeric column is indexed by sorted rows.
const MAX_VALUE_BITMAPS: usize = 1024;

#[derive(Debug)]
pub struct NumColumn {
    /// row → key (meaningless where the row is not present)
    pub keys: Vec<i64>,
    pub present: RoaringBitmap,
    index: NumIndex,
    duplicates: OnceLock<RoaringBitmap>,
}

impl NumColumn {
    pub fn new(keys: Vec<i64>, present: RoaringBitmap) -> NumColumn {
        let mut distinct: Vec<i64> = present.iter().map(|r| keys[r as usize]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let index = if distinct.len() <= MAX_VALUE_BITMAPS {
            let mut rows: Vec<Vec<u32>> = vec![Vec::new(); distinct.len()];
            for r in &present {
                let i = distinct.binary_search(&keys[r as usize]).expect("key is distinct");
                rows[i].push(r);
            }
            NumIndex::Values {
                keys: distinct,
                bitmaps: rows
                    .into_iter()
                    .map(|r| RoaringBitmap::from_sorted_iter(r).expect("ascending"))
                    .collect(),
            }
        } else {
            let mut order: Vec<u32> = present.iter().collect();
            order.sort_by_key(|&r| (keys[r as usize], r));
            NumIndex::Sorted { order }
        };
        NumColumn {
            keys,
            present,
            index,
            duplicates: OnceLock::new(),
        }
    }

    pub fn key(&self, row: u32) -> Option<i64> {
        self.present.contains(row).then(|| self.keys[row as usize])
    }

    /// Present rows with a key within the bounds.
    pub fn range(&self, lo: Bound<i64>, hi: Bound<i64>) -> RoaringBitmap {
        let empty = match (lo, hi) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b)) | (Bound::Excluded(a), Bound::Included(b)) => {
                a >= b
            }
            _ => false,
        };
        if empty {
            return RoaringBitmap::new();
        }
        let first = |k: i64, lo: Bound<i64>| match lo {
            Bound::Included(a) => k >= a,
            Bound::Excluded(a) => k > a,
            Bound::Unbounded => true,
        };
        let past = |k: i64, hi: Bound<i64>| match hi {
            Bound::Included(b) => k > b,
            Bound::Excluded(b) => k >= b,
            Bound::Unbounded => false,
        };
        match &self.index {
            NumIndex::Values { keys, bitmaps } => {
                let a = keys.partition_point(|&k| !first(k, lo));
                let b = keys.partition_point(|&k| !past(k, hi));
                if a >= b {
                    return RoaringBitmap::new();
                }
                let inside = b - a;
                if inside * 2 > keys.len() {
                    // Cheaper to remove the values outside the range.
                    let outside = bitmaps[..a].iter().chain(&bitmaps[b..]).union();
                    &self.present - outside
                } else {
                    bitmaps[a..b].iter().union()
                }
            }
            NumIndex::Sorted { order } => {
                let keys = &self.keys;
                let a = order.partition_point(|&r| !first(keys[r as usize], lo));
                let b = order.partition_point(|&r| !past(keys[r as usize], hi));
                if a >= b {
                    RoaringBitmap::new()
                } else if (b - a) * 16 > keys.len() {
                    let present = &self.present;
                    let mut out = bitmap_from_predicate(keys.len() as u32, |r| {
                        let k = keys[r];
                        first(k, lo) && !past(k, hi)
                    });
                    out &= present;
                    out
                } else {
                    bitmap_from_rows(order[a..b].to_vec())
                }
            }
        }
    }

    /// How many present rows have a key within the bounds (binary searches only).
    pub fn range_len(&self, lo: Bound<i64>, hi: Bound<i64>) -> u64 {
        let first = |k: i64| match lo {
            Bound::Included(a) => k >= a,
            Bound::Excluded(a) => k > a,
            Bound::Unbounded => true,
        };
        let past = |k: i64| match hi {
            Bound::Included(b) => k > b,
            Bound::Excluded(b) => k >= b,
            Bound::Unbounded => false,
        };
        match &self.index {
            NumIndex::Values { keys, bitmaps } => {
                let a = keys.partition_point(|&k| !first(k));
                let b = keys.partition_point(|&k| !past(k));
                bitmaps.get(a..b.max(a)).map_or(0, |s| s.iter().map(RoaringBitmap::len).sum())
            }
            NumIndex::Sorted { order } => {
                let a = order.partition_point(|&r| !first(self.keys[r as usize]));
                let b = order.partition_point(|&r| !past(self.keys[r as usize]));
                b.saturating_sub(a) as u64
            }
        }
    }

    /// Rows whose key occurs on more than one row.
    pub fn duplicates(&self) -> &RoaringBitmap {
        self.duplicates.get_or_init(|| match &self.index {
            NumIndex::Values { bitmaps, .. } => bitmaps.iter().filter(|b| b.len() > 1).union(),
            NumIndex::Sorted { order } => {
                let mut rows = Vec::new();
                let mut i = 0;
                while i < order.len() {
                    let k = self.keys[order[i] as usize];
                    let mut j = i + 1;
                    while j < order.len() && self.keys[order[j] as usize] == k {
                        j += 1;
                    }
                    if j - i > 1 {
                        rows.extend_from_slice(&order[i..j]);
                    }
                    i = j;
                }
                bitmap_from_rows(rows)
            }
        })
    }

    /// Distinct keys with their row counts, ascending (for `.values`).
    pub fn value_counts(&self) -> Vec<(i64, u64)> {
        match &self.index {
            NumIndex::Values { keys, bitmaps } => keys.iter().zip(bitmaps).map(|(&k, b)| (k, b.len())).collect(),
            NumIndex::Sorted { order } => {
                let mut out: Vec<(i64, u64)> = Vec::new();
                for &r in order {
                    let k = self.keys[r as usize];
                    match out.last_mut() {
                        Some((last, n)) if *last == k => *n += 1,
                        _ => out.push((k, 1)),
                    }
                }
                out
            }
        }
    }
}

// ------------------------------------------------------------------ bool

#[derive(Debug)]
pub struct BoolColumn {
    pub trues: RoaringBitmap,
    pub present: RoaringBitmap,
}

impl BoolColumn {
    pub fn value(&self, row: u32) -> Option<bool> {
        self.present.contains(row).then(|| self.trues.contains(row))
    }

    pub fn rows(&self, value: bool) -> RoaringBitmap {
        if value {
            self.trues.clone()
        } else {
            &self.present - &self.trues
        }
    }
}

// ------------------------------------------------------------------- set

#[derive(Debug)]
pub struct SetColumn {
    /// code → member value
    pub values: Vec<String>,
    lookup: AHashMap<String, u32>,
    /// rows holding each member
    pub bitmaps: Vec<RoaringBitmap>,
    /// rows with at least one member
    pub present: RoaringBitmap,
    /// `members[offsets[r]..offsets[r + 1]]` are row r's member codes
    offsets: Vec<u32>,
    members: Vec<u32>,
}

impl SetColumn {
    /// `rows[r]` holds row r's member codes (distinct) into `values`.
    pub fn new(values: Vec<String>, rows: Vec<Vec<u32>>) -> SetColumn {
        let lookup = values.iter().enumerate().map(|(i, v)| (v.clone(), i as u32)).collect();
        let mut per_value: Vec<Vec<u32>> = vec![Vec::new(); values.len()];
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut members = Vec::new();
        offsets.push(0);
        for (r, codes) in rows.iter().enumerate() {
            for &c in codes {
                per_value[c as usize].push(r as u32);
            }
            members.extend_from_slice(codes);
            offsets.push(members.len() as u32);
        }
        let present = RoaringBitmap::from_sorted_iter(
            rows.iter().enumerate().filter(|(_, c)| !c.is_empty()).map(|(r, _)| r as u32),
        )
        .expect("ascending");
        SetColumn {
            values,
            lookup,
            bitmaps: per_value
                .into_iter()
                .map(|r| RoaringBitmap::from_sorted_iter(r).expect("ascending"))
                .collect(),
            present,
            offsets,
            members,
        }
    }

    pub fn code(&self, value: &str) -> Option<u32> {
        self.lookup.get(value).copied()
    }

    pub fn members(&self, row: u32) -> impl Iterator<Item = &str> {
        let r = row as usize;
        self.members[self.offsets[r] as usize..self.offsets[r + 1] as usize]
            .iter()
            .map(|&c| self.values[c as usize].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bm(rows: &[u32]) -> RoaringBitmap {
        rows.iter().copied().collect()
    }

    #[test]
    fn dict_postings_agree_between_layouts() {
        let values: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
        let codes: Vec<u32> = (0..20_000u32).map(|r| if r % 7 == 0 { MISSING } else { r % 5000 }).collect();
        let col = DictColumn::new(values, codes.clone());
        let want: RoaringBitmap = (0..20_000u32).filter(|r| r % 7 != 0 && (r % 5000 == 3 || r % 5000 == 9)).collect();
        assert_eq!(col.rows_of(&[3, 9]), want);
        let many: Vec<u32> = (0..4000).collect();
        let want: RoaringBitmap = (0..20_000u32).filter(|r| r % 7 != 0 && r % 5000 < 4000).collect();
        assert_eq!(col.rows_of(&many), want);
        assert_eq!(col.present.len(), codes.iter().filter(|&&c| c != MISSING).count() as u64);
    }

    #[test]
    fn dict_duplicates_fold_case_and_space() {
        let values = vec!["a@x.io".to_string(), "A@x.io ".to_string(), "b@x.io".to_string()];
        let col = DictColumn::new(values, vec![0, 1, 2, MISSING]);
        assert_eq!(*col.duplicates(true), bm(&[0, 1]));
    }

    #[test]
    fn num_range_agrees_between_layouts() {
        for distinct in [10i64, 5000] {
            let keys: Vec<i64> = (0..10_000i64).map(|r| (r * 7919) % distinct - distinct / 2).collect();
            let present: RoaringBitmap = (0..10_000u32).filter(|r| r % 11 != 0).collect();
            let col = NumColumn::new(keys.clone(), present.clone());
            for (lo, hi) in [
                (Bound::Included(-3), Bound::Excluded(4)),
                (Bound::Excluded(0), Bound::Unbounded),
                (Bound::Unbounded, Bound::Included(-distinct / 4)),
                (Bound::Included(5), Bound::Included(2)),
                (Bound::Unbounded, Bound::Unbounded),
            ] {
                let want: RoaringBitmap = present
                    .iter()
                    .filter(|&r| {
                        let k = keys[r as usize];
                        (match lo {
                            Bound::Included(a) => k >= a,
                            Bound::Excluded(a) => k > a,
                            Bound::Unbounded => true,
                        }) && (match hi {
                            Bound::Included(b) => k <= b,
                            Bound::Excluded(b) => k < b,
                            Bound::Unbounded => true,
                        })
                    })
                    .collect();
                assert_eq!(col.range(lo, hi), want, "distinct {distinct} {lo:?} {hi:?}");
            }
        }
    }

    #[test]
    fn float_keys_keep_order() {
        let vals = [-1e300, -2.5, -0.0, 0.0, 1e-300, 3.5, 1e300];
        for w in vals.windows(2) {
            assert!(float_key(w[0]) <= float_key(w[1]), "{w:?}");
            assert_eq!(key_float(float_key(w[1])), w[1]);
        }
    }
}
