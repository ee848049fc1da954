//! Columns and their indexes. Row number = position in the table, so a set
//! of row numbers is an answer with no lookup.
//!
//! Every column keeps, beside its index, the set of rows where it has a
//! value (`present`), both as a [`RoaringBitmap`] and as [`Bits`] (rows in
//! 2^16-row blocks, each a sorted `u16` array or 1,024 dense words) for
//! block-at-a-time evaluation.
//!
//! - [`DictColumn`] (enum, string, ref): the distinct values in one
//!   buffer ([`Strings`]), a code per row ([`Codes`], 8, 16 or 32 bits
//!   wide) and the rows of each value: one bitmap per value up to
//!   4,096 values (`MAX_BITMAP_POSTINGS`), else rows sorted by code, built on
//!   first use (emails are shown far more often than searched).
//! - [`NumColumn`] (int, float, date, datetime): an ordered `i64` key per
//!   row (floats through [`float_key`]), packed per block as
//!   `base + scale * raw` with `raw` as narrow as the block allows
//!   ([`KeyBlock`]). Its index splits the present rows into
//!   [`FINE_BUCKETS`] buckets of contiguous key ranges and similar size,
//!   each with its rows, grouped into [`COARSE_BUCKETS`] coarse buckets
//!   with cumulative ("rows of this bucket and above") bitmaps. A range is
//!   the difference of two cumulative bitmaps, corrected by a few whole
//!   fine buckets, with keys tested only in the (at most two) buckets the
//!   range cuts. Ranges asked for again are kept in a [`RangeCache`].
//! - [`BoolColumn`]: the rows that are true, and the present rows.
//! - [`SetColumn`]: the rows holding each member, and each row's member
//!   codes (for printing).

use super::bits::{self, Bits, BitsBuilder, Words, BLOCK_ROWS};
use super::buf::{Buf, Text};
use super::kernels;
use ahash::{AHashMap, AHashSet};
use hashbrown::HashTable;
use roaring::RoaringBitmap;
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
pub fn bitmap_from_predicate(len: u32, keep: impl FnMut(usize) -> bool) -> RoaringBitmap {
    bits_from_predicate(len, keep).to_roaring()
}

/// Rows `r` of `0..len` with `keep(r)`, as [`Bits`].
pub fn bits_from_predicate(len: u32, mut keep: impl FnMut(usize) -> bool) -> Bits {
    let mut out = BitsBuilder::new();
    let mut w = bits::zero_words();
    for b in 0..(len as usize).div_ceil(BLOCK_ROWS) {
        w.fill(0);
        let base = b * BLOCK_ROWS;
        let end = (base + BLOCK_ROWS).min(len as usize);
        let mut count = 0;
        for r in base..end {
            if keep(r) {
                let i = r - base;
                w[i >> 6] |= 1 << (i & 63);
                count += 1;
            }
        }
        out.push_words(b, &w, count);
    }
    out.finish()
}

fn hash_str(s: &str) -> u64 {
    static STATE: ahash::RandomState =
        ahash::RandomState::with_seeds(0x5e9, 0x51ce, 0xc0de, 0xda7a);
    STATE.hash_one(s)
}

// --------------------------------------------------------------- offsets

/// Ends of consecutive items in a flat buffer, as u32 plus the (rare)
/// places where the running total passed another 4 GiB.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Offsets {
    ends: Buf<u32>,
    /// `wraps[k]` is the first item whose end is at least `(k + 1) << 32`.
    wraps: Vec<u32>,
}

impl Offsets {
    pub fn with_capacity(n: usize) -> Offsets {
        Offsets {
            ends: Buf::with_capacity(n),
            wraps: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds the next item, ending at `end` (not less than the last end).
    pub fn push(&mut self, end: u64) {
        let i = self.ends.len() as u32;
        while (end >> 32) as usize > self.wraps.len() {
            self.wraps.push(i);
        }
        self.ends.make_mut().push(end as u32);
    }

    #[inline]
    pub fn end(&self, i: usize) -> u64 {
        let low = self.ends[i] as u64;
        if self.wraps.is_empty() {
            low
        } else {
            let high = self.wraps.partition_point(|&w| w as usize <= i) as u64;
            (high << 32) | low
        }
    }

    #[inline]
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        start as usize..self.end(i) as usize
    }

    pub fn heap_bytes(&self) -> usize {
        self.ends.heap_bytes() + self.wraps.capacity() * 4
    }

    pub fn reserve(&mut self, n: usize) {
        self.ends.make_mut().reserve(n);
    }

    /// The raw parts, for snapshots.
    pub fn parts(&self) -> (&[u32], &[u32]) {
        (&self.ends, &self.wraps)
    }

    /// From raw parts: `ends` must be consistent with `wraps` (checked).
    pub fn from_parts(
        ends: impl Into<Buf<u32>>,
        wraps: Vec<u32>,
        total: u64,
    ) -> Result<Offsets, String> {
        let o = Offsets {
            ends: ends.into(),
            wraps,
        };
        if o.wraps.windows(2).any(|w| w[0] > w[1])
            || o.wraps.iter().any(|&w| w as usize >= o.ends.len().max(1))
        {
            return Err("offsets: bad wrap points".into());
        }
        let mut last = 0u64;
        if o.wraps.is_empty() {
            if o.ends.windows(2).any(|w| w[0] > w[1]) {
                return Err("offsets are not ascending".into());
            }
            last = o.ends.last().map_or(0, |&e| e as u64);
        } else {
            for i in 0..o.ends.len() {
                let e = o.end(i);
                if e < last {
                    return Err("offsets are not ascending".into());
                }
                last = e;
            }
        }
        if last != total {
            return Err("offsets do not cover their data".into());
        }
        Ok(o)
    }
}

// --------------------------------------------------------------- strings

/// Distinct values of a dictionary, in one buffer.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Strings {
    text: Text,
    ends: Offsets,
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<&str> = self.iter().take(8).collect();
        write!(f, "Strings({} values: {shown:?}…)", self.len())
    }
}

impl Strings {
    pub fn new() -> Strings {
        Strings::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Room for `n` more values of `bytes` bytes in all.
    pub fn reserve(&mut self, n: usize, bytes: usize) {
        self.text.reserve(bytes);
        self.ends.reserve(n);
    }

    /// Whether the text is borrowed from a loaded snapshot.
    pub fn is_mapped(&self) -> bool {
        self.text.is_mapped()
    }

    /// Bytes of all values together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Appends a value; returns its index.
    pub fn push(&mut self, s: &str) -> u32 {
        let i = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        i
    }

    #[inline]
    pub fn get(&self, i: usize) -> &str {
        &self.text.as_str()[self.ends.range(i)]
    }

    /// Whether value `i` is `v` (bytes compared, no boundary checks).
    #[inline]
    pub fn is(&self, i: usize, v: &str) -> bool {
        self.text.as_str().as_bytes().get(self.ends.range(i)) == Some(v.as_bytes())
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }

    pub fn heap_bytes(&self) -> usize {
        self.text.heap_bytes() + self.ends.heap_bytes()
    }

    /// The raw parts, for snapshots.
    pub fn parts(&self) -> (&str, &Offsets) {
        (self.text.as_str(), &self.ends)
    }

    /// From raw parts; every value must lie on character boundaries (checked).
    pub fn from_parts(text: impl Into<Text>, ends: Offsets) -> Result<Strings, String> {
        let text: Text = text.into();
        let s = text.as_str();
        let mut start = 0usize;
        for i in 0..ends.len() {
            let end = ends.end(i) as usize;
            if end > s.len() || !s.is_char_boundary(start) || !s.is_char_boundary(end) {
                return Err("strings: value outside the text or inside a character".into());
            }
            start = end;
        }
        if start != text.len() {
            return Err("strings: text longer than its values".into());
        }
        Ok(Strings { text, ends })
    }
}

impl std::ops::Index<usize> for Strings {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i)
    }
}

impl<S: AsRef<str>> FromIterator<S> for Strings {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Strings {
        let mut out = Strings::new();
        for s in iter {
            out.push(s.as_ref());
        }
        out
    }
}

// ----------------------------------------------------------------- codes

/// A dictionary code per row, as narrow as the dictionary allows; the
/// widest value of each width marks a missing value.
#[derive(Clone, PartialEq, Eq)]
pub enum Codes {
    U8(Buf<u8>),
    U16(Buf<u16>),
    U32(Buf<u32>),
}

impl Default for Codes {
    fn default() -> Codes {
        Codes::U8(Buf::new())
    }
}

impl std::fmt::Debug for Codes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = match self {
            Codes::U8(_) => 8,
            Codes::U16(_) => 16,
            Codes::U32(_) => 32,
        };
        write!(f, "Codes({} rows, u{width})", self.len())
    }
}

impl Codes {
    pub fn new() -> Codes {
        Codes::default()
    }

    /// Codes into a dictionary of `distinct` values ([`MISSING`] for none).
    pub fn from_vec(codes: Vec<u32>, distinct: usize) -> Codes {
        let mut out = Codes::with_width(distinct, codes.len());
        for c in codes {
            out.push(c);
        }
        out
    }

    fn with_width(distinct: usize, capacity: usize) -> Codes {
        if distinct < u8::MAX as usize {
            Codes::U8(Buf::with_capacity(capacity))
        } else if distinct < u16::MAX as usize {
            Codes::U16(Buf::with_capacity(capacity))
        } else {
            Codes::U32(Buf::with_capacity(capacity))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of a row, or [`MISSING`].
    #[inline]
    pub fn get(&self, row: usize) -> u32 {
        match self {
            Codes::U8(v) => match v[row] {
                u8::MAX => MISSING,
                c => c as u32,
            },
            Codes::U16(v) => match v[row] {
                u16::MAX => MISSING,
                c => c as u32,
            },
            Codes::U32(v) => v[row],
        }
    }

    /// Appends a code (or [`MISSING`]), widening the storage when needed.
    #[inline]
    pub fn push(&mut self, code: u32) {
        match self {
            Codes::U8(v) if code == MISSING || code < u8::MAX as u32 => {
                v.make_mut().push(code as u8)
            }
            Codes::U16(v) if code == MISSING || code < u16::MAX as u32 => {
                v.make_mut().push(code as u16)
            }
            Codes::U32(v) => v.make_mut().push(code),
            _ => {
                self.widen();
                self.push(code);
            }
        }
    }

    #[cold]
    fn widen(&mut self) {
        *self = match std::mem::take(self) {
            Codes::U8(v) => Codes::U16(
                v.iter()
                    .map(|&c| if c == u8::MAX { u16::MAX } else { c as u16 })
                    .collect(),
            ),
            Codes::U16(v) => Codes::U32(
                v.iter()
                    .map(|&c| if c == u16::MAX { MISSING } else { c as u32 })
                    .collect(),
            ),
            Codes::U32(v) => Codes::U32(v),
        };
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Whether every code is below `n`, or [`MISSING`] when `missing` is
    /// allowed (a vectorised max over the raw codes).
    pub fn all_below(&self, n: usize, missing: bool) -> bool {
        macro_rules! check {
            ($v:expr, $t:ty) => {
                if missing {
                    // MISSING + 1 wraps to 0
                    $v.iter().fold(0 as $t, |m, &c| m.max(c.wrapping_add(1))) as usize <= n
                } else {
                    $v.is_empty()
                        || ($v.iter().fold(0 as $t, |m, &c| m.max(c)) as usize)
                            < n.min(<$t>::MAX as usize)
                }
            };
        }
        match self {
            Codes::U8(v) => check!(v, u8),
            Codes::U16(v) => check!(v, u16),
            Codes::U32(v) => check!(v, u32),
        }
    }

    pub fn to_vec(&self) -> Vec<u32> {
        self.iter().collect()
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.heap_bytes(),
            Codes::U16(v) => v.heap_bytes(),
            Codes::U32(v) => v.heap_bytes(),
        }
    }

    pub fn reserve(&mut self, n: usize) {
        match self {
            Codes::U8(v) => v.make_mut().reserve(n),
            Codes::U16(v) => v.make_mut().reserve(n),
            Codes::U32(v) => v.make_mut().reserve(n),
        }
    }

    pub fn shrink_to_fit(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
        }
    }
}

// ------------------------------------------------------------------ keys

/// The keys of one block of rows: `key = base + scale * raw`, with `raw`
/// as narrow as the block's range allows (frame of reference).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyBlock {
    pub base: i64,
    pub scale: i64,
    pub raw: Raw,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Raw {
    /// every row's key is `base`
    Const,
    U8(Buf<u8>),
    U16(Buf<u16>),
    U32(Buf<u32>),
    /// keys as they are (base 0, scale 1)
    I64(Buf<i64>),
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl KeyBlock {
    /// Packs `values`; only rows with `present(i)` count (others read back
    /// as any value).
    pub fn pack(values: &[i64], present: impl Fn(usize) -> bool) -> KeyBlock {
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for (i, &v) in values.iter().enumerate() {
            if present(i) {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if min >= max {
            return KeyBlock {
                base: if min > max { 0 } else { min },
                scale: 1,
                raw: Raw::Const,
            };
        }
        let range = (max as i128 - min as i128) as u128;
        let as_is = || KeyBlock {
            base: 0,
            scale: 1,
            raw: Raw::I64(values.into()),
        };
        if range > u64::MAX as u128 {
            return as_is();
        }
        let mut g = 0u64;
        for (i, &v) in values.iter().enumerate() {
            if present(i) {
                g = gcd(g, (v as i128 - min as i128) as u64);
                if g == 1 {
                    break;
                }
            }
        }
        if g > i64::MAX as u64 {
            return as_is();
        }
        let span = range as u64 / g;
        let raw_of = |v: i64| ((v as i128 - min as i128) as u64 / g) as i64;
        let pick = |i: usize, v: i64| if present(i) { raw_of(v) } else { 0 };
        let raw = if span <= u8::MAX as u64 {
            Raw::U8(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| pick(i, v) as u8)
                    .collect(),
            )
        } else if span <= u16::MAX as u64 {
            Raw::U16(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| pick(i, v) as u16)
                    .collect(),
            )
        } else if span <= u32::MAX as u64 {
            Raw::U32(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| pick(i, v) as u32)
                    .collect(),
            )
        } else {
            return as_is();
        };
        KeyBlock {
            base: min,
            scale: g as i64,
            raw,
        }
    }

    /// The raw value of row `i` of the block.
    #[inline]
    pub fn raw_at(&self, i: usize) -> i64 {
        match &self.raw {
            Raw::Const => 0,
            Raw::U8(v) => v[i] as i64,
            Raw::U16(v) => v[i] as i64,
            Raw::U32(v) => v[i] as i64,
            Raw::I64(v) => v[i],
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        match &self.raw {
            Raw::I64(v) => v[i],
            _ => self
                .base
                .wrapping_add(self.scale.wrapping_mul(self.raw_at(i))),
        }
    }

    /// Raw bounds `(a, b)` such that `lo <= key <= hi` ⟺ `a <= raw <= b`
    /// for the block's present rows; `None` when no key can match.
    pub fn raw_bounds(&self, lo: i64, hi: i64) -> Option<(i64, i64)> {
        let max_raw: i64 = match &self.raw {
            Raw::I64(_) => return Some((lo, hi)),
            Raw::Const => 0,
            Raw::U8(_) => u8::MAX as i64,
            Raw::U16(_) => u16::MAX as i64,
            Raw::U32(_) => u32::MAX as i64,
        };
        let (base, scale) = (self.base as i128, self.scale as i128);
        let a = (lo as i128 - base).div_euclid(scale)
            + i128::from((lo as i128 - base).rem_euclid(scale) != 0);
        let b = (hi as i128 - base).div_euclid(scale);
        let (a, b) = (a.max(0), b.min(max_raw as i128));
        (a <= b).then_some((a as i64, b as i64))
    }

    fn heap_bytes(&self) -> usize {
        match &self.raw {
            Raw::Const => 0,
            Raw::U8(v) => v.heap_bytes(),
            Raw::U16(v) => v.heap_bytes(),
            Raw::U32(v) => v.heap_bytes(),
            Raw::I64(v) => v.heap_bytes(),
        }
    }
}

/// A numeric key per row, packed per block of 2^16 rows.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    len: usize,
    blocks: Vec<KeyBlock>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({} rows, {} bytes)", self.len, self.heap_bytes())
    }
}

impl Keys {
    /// Packs one key per row; only rows in `present` count.
    pub fn from_vec(keys: &[i64], present: &Bits) -> Keys {
        let mut b = KeysBuilder::new();
        for (r, &k) in keys.iter().enumerate() {
            b.push(present.contains(r as u32).then_some(k));
        }
        b.finish()
    }

    /// From packed blocks: each but the last must hold 2^16 rows (checked).
    pub fn from_blocks(len: usize, blocks: Vec<KeyBlock>) -> Result<Keys, String> {
        if blocks.len() != len.div_ceil(BLOCK_ROWS) {
            return Err("keys: wrong number of blocks".into());
        }
        for (b, kb) in blocks.iter().enumerate() {
            let rows = (len - b * BLOCK_ROWS).min(BLOCK_ROWS);
            let stored = match &kb.raw {
                Raw::Const => rows,
                Raw::U8(v) => v.len(),
                Raw::U16(v) => v.len(),
                Raw::U32(v) => v.len(),
                Raw::I64(v) => v.len(),
            };
            if stored != rows || kb.scale < 1 {
                return Err("keys: a block has the wrong length or scale".into());
            }
        }
        Ok(Keys { len, blocks })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key of a row (any value where the row has none).
    #[inline]
    pub fn get(&self, row: usize) -> i64 {
        self.blocks[row >> 16].get(row & 0xFFFF)
    }

    pub fn block(&self, b: usize) -> &KeyBlock {
        &self.blocks[b]
    }

    /// Block `b`, if the column has that many rows.
    pub fn block_opt(&self, b: usize) -> Option<&KeyBlock> {
        self.blocks.get(b)
    }

    pub fn blocks(&self) -> &[KeyBlock] {
        &self.blocks
    }

    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<KeyBlock>()
            + self.blocks.iter().map(KeyBlock::heap_bytes).sum::<usize>()
    }
}

/// Builds [`Keys`] one row at a time, packing each full block.
#[derive(Debug, Default)]
pub struct KeysBuilder {
    len: usize,
    blocks: Vec<KeyBlock>,
    buf: Vec<i64>,
    present: Vec<bool>,
}

impl KeysBuilder {
    pub fn new() -> KeysBuilder {
        KeysBuilder::default()
    }

    #[inline]
    pub fn push(&mut self, key: Option<i64>) {
        self.buf.push(key.unwrap_or(0));
        self.present.push(key.is_some());
        self.len += 1;
        if self.buf.len() == BLOCK_ROWS {
            self.pack();
        }
    }

    fn pack(&mut self) {
        let present = &self.present;
        self.blocks.push(KeyBlock::pack(&self.buf, |i| present[i]));
        self.buf.clear();
        self.present.clear();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(mut self) -> Keys {
        if !self.buf.is_empty() {
            self.pack();
        }
        Keys {
            len: self.len,
            blocks: self.blocks,
        }
    }
}

/// `lo..=hi` for bounds; `None` when nothing fits.
pub fn inclusive(lo: Bound<i64>, hi: Bound<i64>) -> Option<(i64, i64)> {
    let l = match lo {
        Bound::Included(a) => a,
        Bound::Excluded(a) => a.checked_add(1)?,
        Bound::Unbounded => i64::MIN,
    };
    let h = match hi {
        Bound::Included(b) => b,
        Bound::Excluded(b) => b.checked_sub(1)?,
        Bound::Unbounded => i64::MAX,
    };
    (l <= h).then_some((l, h))
}

/// Present rows of `present` as a bitset of `len` rows built per block.
fn present_from(len: usize, is_present: impl FnMut(usize) -> bool) -> Bits {
    bits_from_predicate(len as u32, is_present)
}

// ------------------------------------------------------------------ dict

#[derive(Debug)]
enum Postings {
    /// One bitmap per code.
    Bitmaps(Vec<Bits>),
    /// Rows sorted by code, built from the codes when first needed (most
    /// such columns, like email, are only ever shown, never searched).
    Sorted(OnceLock<Csr>),
}

/// `rows[offsets[c]..offsets[c + 1]]` are the rows of code `c`, ascending.
#[derive(Debug)]
struct Csr {
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

/// enum, string and ref columns: a dictionary of distinct values, a code per
/// row, and the rows of each value.
#[derive(Debug)]
pub struct DictColumn {
    /// code → value
    pub values: Strings,
    lookup: OnceLock<HashTable<u32>>,
    /// row → code, or [`MISSING`]
    pub codes: Codes,
    pub present: RoaringBitmap,
    present_bits: Bits,
    counts: OnceLock<Vec<u32>>,
    postings: Postings,
    /// `is duplicate`, exact and case-folded
    duplicates: [OnceLock<RoaringBitmap>; 2],
    duplicate_bits: [OnceLock<Bits>; 2],
    listed: OnceLock<Vec<String>>,
}

impl DictColumn {
    /// Builds the indexes. `values` must be distinct; `codes` index into it.
    pub fn new(values: Vec<String>, codes: Vec<u32>) -> DictColumn {
        let distinct = values.len();
        DictColumn::from_parts(
            values.into_iter().collect(),
            Codes::from_vec(codes, distinct),
            None,
        )
    }

    /// Builds the indexes over distinct `values` and `codes` into them,
    /// reusing the builder's hash table of codes when it has one.
    pub fn from_parts(
        values: Strings,
        mut codes: Codes,
        lookup: Option<HashTable<u32>>,
    ) -> DictColumn {
        codes.shrink_to_fit();
        let len = codes.len();
        let present_bits = present_from(len, |r| codes.get(r) != MISSING);
        let counts = OnceLock::new();
        let postings = if values.len() <= MAX_BITMAP_POSTINGS {
            let mut builders: Vec<BitsBuilder> =
                (0..values.len()).map(|_| BitsBuilder::new()).collect();
            for r in 0..len {
                let c = codes.get(r);
                if c != MISSING {
                    builders[c as usize].push(r as u32);
                }
            }
            let b: Vec<Bits> = builders.into_iter().map(BitsBuilder::finish).collect();
            let _ = counts.set(b.iter().map(|x| x.len() as u32).collect());
            Postings::Bitmaps(b)
        } else {
            Postings::Sorted(OnceLock::new())
        };
        let cell = OnceLock::new();
        if let Some(l) = lookup {
            let _ = cell.set(l);
        }
        DictColumn {
            present: present_bits.to_roaring(),
            present_bits,
            values,
            lookup: cell,
            codes,
            counts,
            postings,
            duplicates: [OnceLock::new(), OnceLock::new()],
            duplicate_bits: [OnceLock::new(), OnceLock::new()],
            listed: OnceLock::new(),
        }
    }

    fn lookup(&self) -> &HashTable<u32> {
        self.lookup.get_or_init(|| {
            let mut t = HashTable::with_capacity(self.values.len());
            for (i, v) in self.values.iter().enumerate() {
                t.insert_unique(hash_str(v), i as u32, |&c| {
                    hash_str(&self.values[c as usize])
                });
            }
            t
        })
    }

    /// A hash table of codes keyed by [`DictColumn::hash`], for builders.
    pub fn hash(value: &str) -> u64 {
        hash_str(value)
    }

    pub fn code(&self, value: &str) -> Option<u32> {
        self.lookup()
            .find(hash_str(value), |&c| self.values.is(c as usize, value))
            .copied()
    }

    pub fn value(&self, row: u32) -> Option<&str> {
        match self.codes.get(row as usize) {
            MISSING => None,
            c => Some(&self.values[c as usize]),
        }
    }

    /// How many distinct values the dictionary holds.
    pub fn distinct(&self) -> usize {
        self.values.len()
    }

    /// The values as owned strings, in code order (built once, for enums).
    pub fn values_vec(&self) -> &[String] {
        self.listed.get_or_init(|| self.values.to_vec())
    }

    /// Rows per code.
    fn counts(&self) -> &[u32] {
        self.counts.get_or_init(|| {
            let mut counts = vec![0u32; self.values.len()];
            for c in self.codes.iter() {
                if c != MISSING {
                    counts[c as usize] += 1;
                }
            }
            counts
        })
    }

    /// Rows sorted by code (built on first use).
    fn csr<'a>(&'a self, cell: &'a OnceLock<Csr>) -> &'a Csr {
        cell.get_or_init(|| {
            let counts = self.counts();
            let mut offsets = Vec::with_capacity(counts.len() + 1);
            let mut acc = 0u32;
            offsets.push(0);
            for &n in counts {
                acc += n;
                offsets.push(acc);
            }
            let mut fill = offsets.clone();
            let mut rows = vec![0u32; acc as usize];
            for (r, c) in self.codes.iter().enumerate() {
                if c != MISSING {
                    rows[fill[c as usize] as usize] = r as u32;
                    fill[c as usize] += 1;
                }
            }
            Csr { offsets, rows }
        })
    }

    /// How many rows hold code `c`.
    pub fn count(&self, code: u32) -> u64 {
        self.counts()[code as usize] as u64
    }

    pub fn present_bits(&self) -> &Bits {
        &self.present_bits
    }

    /// The rows of one code, when postings are bitmaps.
    pub fn postings_bits(&self, code: u32) -> Option<&Bits> {
        match &self.postings {
            Postings::Bitmaps(b) => b.get(code as usize),
            Postings::Sorted { .. } => None,
        }
    }

    /// Rows holding any of `codes`, as [`Bits`].
    pub fn rows_of_bits(&self, codes: &[u32]) -> Bits {
        match &self.postings {
            Postings::Bitmaps(b) => match codes {
                [] => Bits::new(),
                [one] => b[*one as usize].clone(),
                many => {
                    let blocks = many
                        .iter()
                        .map(|&c| b[c as usize].blocks())
                        .max()
                        .unwrap_or(0);
                    let mut out = BitsBuilder::new();
                    let mut w = bits::zero_words();
                    for blk in 0..blocks {
                        w.fill(0);
                        for &c in many {
                            b[c as usize].chunk(blk).or_into(&mut w);
                        }
                        out.push_words(blk, &w, kernels::popcount(&w[..]) as usize);
                    }
                    out.finish()
                }
            },
            Postings::Sorted(cell) => {
                let total: u64 = codes.iter().map(|&c| self.count(c)).sum();
                if total * 16 > self.codes.len() as u64 {
                    let mut wanted = vec![false; self.values.len()];
                    for &c in codes {
                        wanted[c as usize] = true;
                    }
                    let codes_col = &self.codes;
                    bits_from_predicate(codes_col.len() as u32, |r| {
                        let c = codes_col.get(r);
                        c != MISSING && wanted[c as usize]
                    })
                } else {
                    let Csr { offsets, rows } = self.csr(cell);
                    let mut out = Vec::with_capacity(total as usize);
                    for &c in codes {
                        out.extend_from_slice(
                            &rows[offsets[c as usize] as usize..offsets[c as usize + 1] as usize],
                        );
                    }
                    out.sort_unstable();
                    out.dedup();
                    Bits::from_sorted(out)
                }
            }
        }
    }

    /// Rows holding any of `codes`.
    pub fn rows_of(&self, codes: &[u32]) -> RoaringBitmap {
        self.rows_of_bits(codes).to_roaring()
    }

    /// Codes whose value satisfies `keep`, testing each distinct value once.
    pub fn codes_where(&self, mut keep: impl FnMut(&str) -> bool) -> Vec<u32> {
        (0..self.values.len() as u32)
            .filter(|&c| self.counts()[c as usize] > 0 && keep(&self.values[c as usize]))
            .collect()
    }

    /// Rows whose value satisfies `keep`, testing each distinct value once.
    pub fn rows_where(&self, keep: impl FnMut(&str) -> bool) -> RoaringBitmap {
        self.rows_of(&self.codes_where(keep))
    }

    /// Rows whose value (trimmed and case-folded when `fold`) occurs on more
    /// than one row. Computed once, over distinct values.
    pub fn duplicates(&self, fold: bool) -> &RoaringBitmap {
        self.duplicates[fold as usize].get_or_init(|| self.duplicate_bits(fold).to_roaring())
    }

    /// [`DictColumn::duplicates`] as [`Bits`].
    pub fn duplicate_bits(&self, fold: bool) -> &Bits {
        self.duplicate_bits[fold as usize].get_or_init(|| {
            let mut groups: AHashMap<std::borrow::Cow<str>, (u64, Vec<u32>)> = AHashMap::new();
            for (c, v) in self.values.iter().enumerate() {
                if self.counts()[c] == 0 {
                    continue;
                }
                let key = if fold {
                    std::borrow::Cow::Owned(v.trim().to_lowercase())
                } else {
                    std::borrow::Cow::Borrowed(v)
                };
                let g = groups.entry(key).or_default();
                g.0 += self.counts()[c] as u64;
                g.1.push(c as u32);
            }
            let codes: Vec<u32> = groups
                .into_values()
                .filter(|(n, _)| *n > 1)
                .flat_map(|(_, c)| c)
                .collect();
            self.rows_of_bits(&codes)
        })
    }

    /// The postings, for snapshots.
    pub fn postings_parts(&self) -> PostingsParts<'_> {
        match &self.postings {
            Postings::Bitmaps(b) => PostingsParts::Bitmaps(b),
            Postings::Sorted(_) => PostingsParts::Sorted,
        }
    }

    /// Reassembles a column of `len` rows from snapshot parts, checking
    /// every code, row and offset against the dictionary and the table.
    pub fn from_snapshot(
        values: Strings,
        codes: Codes,
        present: Bits,
        postings: PostingsOwned,
        len: u32,
    ) -> Result<DictColumn, String> {
        let n = values.len();
        if codes.len() != len as usize {
            return Err("dict: codes do not cover the table".into());
        }
        if !codes.all_below(n, true) {
            return Err("dict: a code outside the dictionary".into());
        }
        check_rows(&present, len)?;
        let counts = OnceLock::new();
        let postings = match postings {
            PostingsOwned::Bitmaps(b) => {
                if b.len() != n {
                    return Err("dict: one bitmap per value expected".into());
                }
                for x in &b {
                    check_rows(x, len)?;
                }
                let _ = counts.set(b.iter().map(|x| x.len() as u32).collect());
                Postings::Bitmaps(b)
            }
            PostingsOwned::Sorted => Postings::Sorted(OnceLock::new()),
        };
        Ok(DictColumn {
            present: present.to_roaring(),
            present_bits: present,
            values,
            lookup: OnceLock::new(),
            codes,
            counts,
            postings,
            duplicates: [OnceLock::new(), OnceLock::new()],
            duplicate_bits: [OnceLock::new(), OnceLock::new()],
            listed: OnceLock::new(),
        })
    }

    /// Approximate bytes held (for reports).
    pub fn heap_bytes(&self) -> usize {
        let postings = match &self.postings {
            Postings::Bitmaps(b) => b.iter().map(Bits::heap_bytes).sum(),
            Postings::Sorted(cell) => cell
                .get()
                .map_or(0, |c| c.offsets.capacity() * 4 + c.rows.capacity() * 4),
        };
        self.values.heap_bytes()
            + self.lookup.get().map_or(0, |t| t.capacity() * 5)
            + self.codes.heap_bytes()
            + self.present_bits.heap_bytes()
            + self.counts.get().map_or(0, |c| c.capacity() * 4)
            + postings
    }
}

/// A dictionary column's postings, borrowed for a snapshot.
pub enum PostingsParts<'a> {
    Bitmaps(&'a [Bits]),
    /// rows sorted by code, rebuilt from the codes when needed
    Sorted,
}

/// A dictionary column's postings, read from a snapshot.
pub enum PostingsOwned {
    Bitmaps(Vec<Bits>),
    Sorted,
}

/// Every row of `bits` lies below `len`.
pub fn check_rows(bits: &Bits, len: u32) -> Result<(), String> {
    let mut max: Option<u32> = None;
    if let Some(b) = (0..bits.blocks())
        .rev()
        .find(|&b| !bits.chunk(b).is_empty())
    {
        let mut last = 0u16;
        bits.chunk(b).for_each(|x| last = x);
        max = Some(((b as u32) << 16) | last as u32);
    }
    match max {
        Some(m) if m >= len => Err(format!("a bitmap holds row {m} of a table of {len}")),
        _ => Ok(()),
    }
}

// ------------------------------------------------------------------- num

/// Maps an f64 to an i64 with the same order (finite values; -0.0 → 0.0).
pub fn float_key(v: f64) -> i64 {
    let v = if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

pub fn key_float(k: i64) -> f64 {
    f64::from_bits((k ^ (((k >> 63) as u64) >> 1) as i64) as u64)
}

/// Fine buckets of a numeric index: rows are split by key into about this
/// many buckets of similar size (never splitting a key; a heavy key alone).
/// Columns with fewer distinct keys get one bucket per key, so every range
/// on them is answered from bitmaps alone.
pub const FINE_BUCKETS: usize = 1024;
/// Coarse groups of consecutive fine buckets, each with a cumulative bitmap.
pub const COARSE_BUCKETS: usize = 32;
/// Up to this many distinct keys, their counts are kept (exact estimates,
/// `.values`, duplicates).
const EXACT_DISTINCT: usize = 4096;

/// The index of a numeric column (see the module docs): fine buckets by
/// key with their rows, grouped into coarse buckets with cumulative bitmaps.
#[derive(Debug, Default)]
struct NumIndex {
    /// Smallest and largest key in each fine bucket; buckets ascend and are disjoint.
    min: Vec<i64>,
    max: Vec<i64>,
    counts: Vec<u64>,
    /// Rows of each fine bucket.
    eq: Vec<Bits>,
    /// First fine bucket of each coarse bucket (`coarse[0] == 0`).
    coarse: Vec<u32>,
    /// `ge[k - 1]`: rows of coarse buckets `k..` (all of them: the present rows).
    ge: Vec<Bits>,
    /// Distinct keys with their counts, when there are few.
    distinct: Option<Vec<(i64, u64)>>,
}

/// How a range test maps onto a numeric column's buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct RangePlan {
    /// Inclusive bounds on the key.
    pub lo: i64,
    pub hi: i64,
    /// Coarse buckets `a..b` touched by the range: `ge(a) - ge(b)` is a superset.
    pub span: (usize, usize),
    /// Coarse buckets `a..b` wholly inside the range.
    pub coarse_inside: Option<(usize, usize)>,
    /// Fine buckets inside the range, but not in `coarse_inside`.
    pub fine_inside: Vec<usize>,
    /// Fine buckets in `span` wholly outside the range.
    pub fine_outside: Vec<usize>,
    /// Fine buckets partly inside (at most two): each row's key is tested.
    pub edges: Vec<usize>,
    /// Rows in fine buckets wholly inside the range.
    pub inside_count: u64,
}

impl RangePlan {
    /// Whether the range keeps every present row.
    pub fn is_everything(&self, coarse: usize) -> bool {
        self.edges.is_empty()
            && self.fine_inside.is_empty()
            && self.coarse_inside == Some((0, coarse))
    }
}

/// int, float, date and datetime columns: a packed key per row and a
/// bucketed, range-encoded bitmap index (see the module docs).
#[derive(Debug)]
pub struct NumColumn {
    /// row → key (meaningless where the row is not present)
    pub keys: Keys,
    pub present: RoaringBitmap,
    present_bits: Bits,
    index: NumIndex,
    duplicates: OnceLock<RoaringBitmap>,
    duplicate_bits: OnceLock<Bits>,
    /// Rows of ranges asked for more than once (see [`RangeCache`]).
    pub ranges: RangeCache,
}

/// The rows of recently repeated ranges of one numeric column. A range the
/// index cannot answer from whole buckets costs key tests in its edge
/// buckets every time; an analyst's session, a dashboard refresh or a
/// segment library asks for the same ranges again and again. A range is
/// kept from its second request on (a one-off query never pays for the
/// copy), at most [`RangeCache::ENTRIES`] per column, least recently used
/// first out: at most `ENTRIES` bitmaps of one bit per row each.
#[derive(Debug, Default)]
pub struct RangeCache {
    /// Most recent last.
    entries: std::sync::Mutex<Vec<RangeEntry>>,
}

/// (lo, hi, requests, rows once kept)
type RangeEntry = (i64, i64, u32, Option<std::sync::Arc<Bits>>);

impl RangeCache {
    pub const ENTRIES: usize = 4;

    /// The kept rows of `lo..=hi`, or whether they should be kept now
    /// (`Err(true)` from the second request on). Counts the request.
    pub fn get(&self, lo: i64, hi: i64) -> Result<std::sync::Arc<Bits>, bool> {
        let Ok(mut e) = self.entries.lock() else {
            return Err(false);
        };
        match e.iter().position(|x| x.0 == lo && x.1 == hi) {
            Some(i) => {
                let mut hit = e.remove(i);
                hit.2 = hit.2.saturating_add(1);
                let out = hit.3.clone().ok_or(hit.2 >= 2);
                e.push(hit);
                out
            }
            None => {
                if e.len() >= Self::ENTRIES * 4 {
                    // forget the oldest request that kept nothing, else the oldest
                    let i = e.iter().position(|x| x.3.is_none()).unwrap_or(0);
                    e.remove(i);
                }
                e.push((lo, hi, 1, None));
                Err(false)
            }
        }
    }

    /// How many ranges are kept.
    pub fn kept(&self) -> usize {
        self.entries
            .lock()
            .map_or(0, |e| e.iter().filter(|x| x.3.is_some()).count())
    }

    /// Keeps the rows of `lo..=hi`, dropping the least recently used kept
    /// range past [`RangeCache::ENTRIES`].
    pub fn put(&self, lo: i64, hi: i64, rows: std::sync::Arc<Bits>) {
        let Ok(mut e) = self.entries.lock() else {
            return;
        };
        if let Some(x) = e.iter_mut().find(|x| x.0 == lo && x.1 == hi) {
            x.3 = Some(rows);
        }
        while e.iter().filter(|x| x.3.is_some()).count() > Self::ENTRIES {
            let i = e.iter().position(|x| x.3.is_some()).expect("one kept");
            e.remove(i);
        }
    }
}

impl NumColumn {
    pub fn new(keys: Vec<i64>, present: RoaringBitmap) -> NumColumn {
        let bits = Bits::from_roaring(&present);
        let keys = Keys::from_vec(&keys, &bits);
        NumColumn::from_parts(keys, bits)
    }

    /// Builds the index over packed keys and the present rows.
    pub fn from_parts(keys: Keys, present: Bits) -> NumColumn {
        let index = NumIndex::build(&keys, &present);
        NumColumn {
            keys,
            present: present.to_roaring(),
            present_bits: present,
            index,
            duplicates: OnceLock::new(),
            duplicate_bits: OnceLock::new(),
            ranges: RangeCache::default(),
        }
    }

    pub fn key(&self, row: u32) -> Option<i64> {
        self.present_bits
            .contains(row)
            .then(|| self.keys.get(row as usize))
    }

    pub fn present_bits(&self) -> &Bits {
        &self.present_bits
    }

    /// Number of coarse buckets.
    pub fn coarse_buckets(&self) -> usize {
        self.index.coarse.len()
    }

    /// Rows of fine bucket `i`.
    pub fn bucket_rows(&self, i: usize) -> &Bits {
        &self.index.eq[i]
    }

    /// Rows of coarse buckets `k..` (the present rows for 0, none past the last).
    pub fn buckets_from(&self, k: usize) -> &Bits {
        static NONE: OnceLock<Bits> = OnceLock::new();
        match k {
            0 => &self.present_bits,
            k if k <= self.index.ge.len() => &self.index.ge[k - 1],
            _ => NONE.get_or_init(Bits::new),
        }
    }

    /// How a range maps onto the buckets; `None` when no key can match.
    pub fn range_plan(&self, lo: Bound<i64>, hi: Bound<i64>) -> Option<RangePlan> {
        let (l, h) = inclusive(lo, hi)?;
        let ix = &self.index;
        let nf = ix.eq.len();
        // Fine buckets touched: first..last.
        let first = ix.max.partition_point(|&m| m < l);
        let last = ix.min.partition_point(|&m| m <= h);
        if first >= last {
            return None;
        }
        let coarse_of = |f: usize| ix.coarse.partition_point(|&c| c as usize <= f) - 1;
        let coarse_end = |k: usize| ix.coarse.get(k + 1).map_or(nf, |&c| c as usize);
        let (ca, cb) = (coarse_of(first), coarse_of(last - 1) + 1);
        let inside = |f: usize| l <= ix.min[f] && ix.max[f] <= h;
        let mut plan = RangePlan {
            lo: l,
            hi: h,
            span: (ca, cb),
            coarse_inside: None,
            fine_inside: Vec::new(),
            fine_outside: Vec::new(),
            edges: Vec::new(),
            inside_count: 0,
        };
        for k in ca..cb {
            let fines = ix.coarse[k] as usize..coarse_end(k);
            if fines.clone().all(|f| inside(f) || ix.counts[f] == 0) {
                plan.coarse_inside = Some(match plan.coarse_inside {
                    None => (k, k + 1),
                    Some((a, _)) => (a, k + 1),
                });
                plan.inside_count += fines.map(|f| ix.counts[f]).sum::<u64>();
                continue;
            }
            for f in fines {
                if f < first || f >= last {
                    plan.fine_outside.push(f);
                } else if inside(f) {
                    plan.fine_inside.push(f);
                    plan.inside_count += ix.counts[f];
                } else {
                    plan.edges.push(f);
                }
            }
        }
        Some(plan)
    }

    /// Present rows with a key within the bounds, as [`Bits`].
    pub fn range_bits(&self, lo: Bound<i64>, hi: Bound<i64>) -> Bits {
        let Some(plan) = self.range_plan(lo, hi) else {
            return Bits::new();
        };
        let mut out = BitsBuilder::new();
        let mut w = bits::zero_words();
        for b in 0..self.present_bits.blocks() {
            self.range_block(&plan, b, &mut w);
            out.push_words(b, &w, kernels::popcount(&w[..]) as usize);
        }
        out.finish()
    }

    /// Writes the rows of block `b` that satisfy `plan` into `w`.
    pub fn range_block(&self, plan: &RangePlan, b: usize, w: &mut Words) {
        match plan.coarse_inside {
            Some((a, c)) => {
                self.buckets_from(a).chunk(b).write_to(w);
                self.buckets_from(c).chunk(b).andnot_into(w);
            }
            None => w.fill(0),
        }
        for &f in &plan.fine_inside {
            self.index.eq[f].chunk(b).or_into(w);
        }
        if plan.edges.is_empty() {
            return;
        }
        let kb = self.keys.block(b);
        let Some((ra, rb)) = kb.raw_bounds(plan.lo, plan.hi) else {
            return;
        };
        for &e in &plan.edges {
            self.index.eq[e].chunk(b).for_each(|x| {
                let raw = kb.raw_at(x as usize);
                if ra <= raw && raw <= rb {
                    w[(x >> 6) as usize] |= 1 << (x & 63);
                }
            });
        }
    }

    /// Present rows with a key within the bounds.
    pub fn range(&self, lo: Bound<i64>, hi: Bound<i64>) -> RoaringBitmap {
        self.range_bits(lo, hi).to_roaring()
    }

    /// How many present rows have a key within the bounds: bucket counts,
    /// plus a test of each row in the (at most two) partly covered buckets.
    pub fn range_len(&self, lo: Bound<i64>, hi: Bound<i64>) -> u64 {
        let Some(plan) = self.range_plan(lo, hi) else {
            return 0;
        };
        if let Some(d) = &self.index.distinct {
            let a = d.partition_point(|(k, _)| *k < plan.lo);
            let b = d.partition_point(|(k, _)| *k <= plan.hi);
            return d[a..b.max(a)].iter().map(|(_, n)| n).sum();
        }
        let mut n = plan.inside_count;
        for &e in &plan.edges {
            self.index.eq[e].for_each(|r| {
                let k = self.keys.get(r as usize);
                if plan.lo <= k && k <= plan.hi {
                    n += 1;
                }
            });
        }
        n
    }

    /// An estimate of [`NumColumn::range_len`] from bucket counts alone
    /// (partly covered buckets count by the share of their key range).
    pub fn range_estimate(&self, lo: Bound<i64>, hi: Bound<i64>) -> u64 {
        let Some(plan) = self.range_plan(lo, hi) else {
            return 0;
        };
        if self.index.distinct.is_some() {
            return self.range_len(lo, hi);
        }
        let ix = &self.index;
        let mut n = plan.inside_count as f64;
        for &e in &plan.edges {
            let (a, b) = (ix.min[e] as f64, ix.max[e] as f64);
            let (l, h) = ((plan.lo as f64).max(a), (plan.hi as f64).min(b));
            let share = if b > a {
                ((h - l) / (b - a)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            n += share * ix.counts[e] as f64;
        }
        n.round() as u64
    }

    /// Rows whose key occurs on more than one row.
    pub fn duplicates(&self) -> &RoaringBitmap {
        self.duplicates
            .get_or_init(|| self.duplicate_bits().to_roaring())
    }

    /// [`NumColumn::duplicates`] as [`Bits`].
    pub fn duplicate_bits(&self) -> &Bits {
        self.duplicate_bits.get_or_init(|| {
            if let Some(d) = &self.index.distinct {
                let dup: AHashSet<i64> =
                    d.iter().filter(|(_, n)| *n > 1).map(|(k, _)| *k).collect();
                let mut out = BitsBuilder::new();
                self.present_bits.for_each(|r| {
                    if dup.contains(&self.keys.get(r as usize)) {
                        out.push(r);
                    }
                });
                return out.finish();
            }
            let mut pairs: Vec<(i64, u32)> = Vec::with_capacity(self.present_bits.len() as usize);
            self.present_bits
                .for_each(|r| pairs.push((self.keys.get(r as usize), r)));
            pairs.sort_unstable();
            let mut rows = Vec::new();
            let mut i = 0;
            while i < pairs.len() {
                let mut j = i + 1;
                while j < pairs.len() && pairs[j].0 == pairs[i].0 {
                    j += 1;
                }
                if j - i > 1 {
                    rows.extend(pairs[i..j].iter().map(|p| p.1));
                }
                i = j;
            }
            rows.sort_unstable();
            Bits::from_sorted(rows)
        })
    }

    /// Distinct keys with their row counts, ascending (for `.values`).
    pub fn value_counts(&self) -> Vec<(i64, u64)> {
        if let Some(d) = &self.index.distinct {
            return d.clone();
        }
        let mut keys: Vec<i64> = Vec::with_capacity(self.present_bits.len() as usize);
        self.present_bits
            .for_each(|r| keys.push(self.keys.get(r as usize)));
        keys.sort_unstable();
        let mut out: Vec<(i64, u64)> = Vec::new();
        for k in keys {
            match out.last_mut() {
                Some((last, n)) if *last == k => *n += 1,
                _ => out.push((k, 1)),
            }
        }
        out
    }

    /// Approximate bytes held (for reports).
    pub fn heap_bytes(&self) -> usize {
        let ix = &self.index;
        self.keys.heap_bytes()
            + self.present_bits.heap_bytes()
            + ix.eq
                .iter()
                .chain(&ix.ge)
                .map(Bits::heap_bytes)
                .sum::<usize>()
            + ix.distinct.as_ref().map_or(0, |d| d.capacity() * 16)
    }

    /// The index's parts, for snapshots: per fine bucket (min, max, count,
    /// rows), the first fine bucket of each coarse bucket, the cumulative
    /// bitmaps and the distinct-value table.
    #[allow(clippy::type_complexity)]
    pub fn index_parts(
        &self,
    ) -> (
        Vec<(i64, i64, u64, &Bits)>,
        &[u32],
        &[Bits],
        Option<&[(i64, u64)]>,
    ) {
        let ix = &self.index;
        let buckets = (0..ix.eq.len())
            .map(|i| (ix.min[i], ix.max[i], ix.counts[i], &ix.eq[i]))
            .collect();
        (buckets, &ix.coarse, &ix.ge, ix.distinct.as_deref())
    }

    /// Reassembles a column of `len` rows from snapshot parts, checking that
    /// the buckets ascend and partition the present rows.
    pub fn from_index_parts(
        len: u32,
        keys: Keys,
        present: Bits,
        buckets: Vec<(i64, i64, u64, Bits)>,
        coarse: Vec<u32>,
        ge: Vec<Bits>,
        distinct: Option<Vec<(i64, u64)>>,
    ) -> Result<NumColumn, String> {
        let coarse_ok = if buckets.is_empty() {
            coarse.is_empty() && ge.is_empty()
        } else {
            coarse.first() == Some(&0)
                && coarse.windows(2).all(|w| w[0] < w[1])
                && coarse.last().is_some_and(|&c| (c as usize) < buckets.len())
                && ge.len() + 1 == coarse.len()
        };
        if !coarse_ok {
            return Err("num index: bad coarse buckets".into());
        }
        let mut total = 0u64;
        let mut last_max: Option<i64> = None;
        for (min, max, count, rows) in &buckets {
            if min > max || last_max.is_some_and(|m| m >= *min) || rows.len() != *count {
                return Err("num index: buckets out of order or miscounted".into());
            }
            last_max = Some(*max);
            total = total
                .checked_add(*count)
                .ok_or("num index: buckets miscounted")?;
        }
        if total != present.len() {
            return Err("num index: buckets do not cover the present rows".into());
        }
        if keys.len() != len as usize {
            return Err("num: keys do not cover the table".into());
        }
        check_rows(&present, len)?;
        for b in buckets.iter().map(|x| &x.3).chain(&ge) {
            check_rows(b, len)?;
        }
        if let Some(d) = &distinct {
            let sum = d.iter().try_fold(0u64, |acc, x| acc.checked_add(x.1));
            if d.windows(2).any(|w| w[0].0 >= w[1].0) || sum != Some(total) {
                return Err("num index: bad distinct-value table".into());
            }
        }
        let mut index = NumIndex::default();
        for (min, max, count, rows) in buckets {
            index.min.push(min);
            index.max.push(max);
            index.counts.push(count);
            index.eq.push(rows);
        }
        index.coarse = coarse;
        index.ge = ge;
        index.distinct = distinct;
        Ok(NumColumn {
            keys,
            present: present.to_roaring(),
            present_bits: present,
            index,
            duplicates: OnceLock::new(),
            duplicate_bits: OnceLock::new(),
            ranges: RangeCache::default(),
        })
    }
}

impl NumIndex {
    fn build(keys: &Keys, present: &Bits) -> NumIndex {
        let n = present.len();
        if n == 0 {
            return NumIndex::default();
        }
        // A strided sample says whether the distinct keys are few.
        let stride = (keys.len() / 262_144).max(1);
        let mut sample: Vec<i64> = (0..keys.len())
            .step_by(stride)
            .filter(|&r| present.contains(r as u32))
            .map(|r| keys.get(r))
            .collect();
        if sample.is_empty() {
            present.for_each(|r| sample.push(keys.get(r as usize)));
        }
        sample.sort_unstable();
        let mut sample_counts: Vec<(i64, u64)> = Vec::new();
        for &k in &sample {
            match sample_counts.last_mut() {
                Some((last, c)) if *last == k => *c += 1,
                _ => sample_counts.push((k, 1)),
            }
        }
        let distinct = if sample_counts.len() <= EXACT_DISTINCT / 2 {
            count_distinct(keys, present)
        } else {
            None
        };
        let starts: Vec<i64> = match &distinct {
            Some(d) if d.len() <= FINE_BUCKETS => d.iter().map(|(k, _)| *k).collect(),
            Some(d) => bucket_starts(d, n, FINE_BUCKETS),
            None => bucket_starts(&sample_counts, sample.len() as u64, FINE_BUCKETS),
        };
        let nb = starts.len();
        let mut eq: Vec<BitsBuilder> = (0..nb).map(|_| BitsBuilder::new()).collect();
        let mut min = vec![i64::MAX; nb];
        let mut max = vec![i64::MIN; nb];
        let mut counts = vec![0u64; nb];
        let finder = BucketFinder::new(&starts);
        let bucket_of = |k: i64| finder.find(k);
        let mut lut: Vec<u32> = Vec::new();
        for b in 0..present.blocks() {
            let kb = keys.block(b);
            let base = (b as u32) << 16;
            let chunk = present.chunk(b);
            // Narrow blocks map raw values to buckets through a table.
            let span = match &kb.raw {
                Raw::Const => Some(0usize),
                Raw::U8(_) => Some(u8::MAX as usize),
                Raw::U16(v) => v.iter().max().map(|&m| m as usize).filter(|&m| m < 8192),
                _ => None,
            };
            let mut add = |x: u16, i: usize, k: i64| {
                eq[i].push(base | x as u32);
                counts[i] += 1;
                min[i] = min[i].min(k);
                max[i] = max[i].max(k);
            };
            match span {
                Some(span) => {
                    lut.clear();
                    lut.extend((0..=span as i64).map(|raw| {
                        bucket_of(kb.base.wrapping_add(kb.scale.wrapping_mul(raw))) as u32
                    }));
                    chunk.for_each(|x| {
                        let raw = kb.raw_at(x as usize) as usize;
                        let i = lut[raw.min(span)] as usize;
                        add(x, i, kb.get(x as usize));
                    });
                }
                None => chunk.for_each(|x| {
                    let k = kb.get(x as usize);
                    add(x, bucket_of(k), k);
                }),
            }
        }
        // Drop empty buckets (possible with sampled starts).
        let keep: Vec<usize> = (0..nb).filter(|&i| counts[i] > 0).collect();
        let mut eq: Vec<Option<BitsBuilder>> = eq.into_iter().map(Some).collect();
        let eq: Vec<Bits> = keep
            .iter()
            .map(|&i| eq[i].take().expect("once").finish())
            .collect();
        let min: Vec<i64> = keep.iter().map(|&i| min[i]).collect();
        let max: Vec<i64> = keep.iter().map(|&i| max[i]).collect();
        let counts: Vec<u64> = keep.iter().map(|&i| counts[i]).collect();
        // Coarse buckets: consecutive fine buckets of similar total size.
        let target = n.div_ceil(COARSE_BUCKETS as u64).max(1);
        let mut coarse: Vec<u32> = Vec::new();
        let mut acc = 0u64;
        for (f, &c) in counts.iter().enumerate() {
            if coarse.is_empty() || (acc > 0 && (acc >= target || c >= target)) {
                coarse.push(f as u32);
                acc = 0;
            }
            acc += c;
        }
        let nc = coarse.len();
        let mut ge: Vec<BitsBuilder> = (1..nc).map(|_| BitsBuilder::new()).collect();
        let mut w = bits::zero_words();
        for b in 0..present.blocks() {
            w.fill(0);
            let mut k = nc;
            for f in (0..eq.len()).rev() {
                eq[f].chunk(b).or_into(&mut w);
                if k > 1 && f == coarse[k - 1] as usize {
                    k -= 1;
                    ge[k - 1].push_words(b, &w, kernels::popcount(&w[..]) as usize);
                }
            }
        }
        NumIndex {
            min,
            max,
            counts,
            eq,
            coarse,
            ge: ge.into_iter().map(BitsBuilder::finish).collect(),
            distinct,
        }
    }
}

/// Finds the bucket of a key among ascending bucket starts: the last start
/// not above the key (or bucket 0). A table over the range of the starts,
/// split into [`BucketFinder::SLOTS`] equal slots, gives the few buckets a
/// slot spans, so most keys need no search at all — a plain binary search
/// over 1,024 starts was most of the time spent indexing a numeric column.
struct BucketFinder<'a> {
    starts: &'a [i64],
    first: i64,
    shift: u32,
    /// `slots[j]`: the bucket of the first key of slot `j`.
    slots: Vec<u32>,
}

impl<'a> BucketFinder<'a> {
    const SLOTS: u128 = 4096;

    fn new(starts: &'a [i64]) -> BucketFinder<'a> {
        let first = starts.first().copied().unwrap_or(0);
        let last = starts.last().copied().unwrap_or(0);
        let span = (last as i128 - first as i128) as u128;
        let mut shift = 0u32;
        while (span >> shift) >= Self::SLOTS {
            shift += 1;
        }
        let mut f = BucketFinder {
            starts,
            first,
            shift,
            slots: Vec::new(),
        };
        let n = (span >> shift) as usize + 2;
        f.slots = (0..n)
            .map(|j| {
                let k = first as i128 + ((j as i128) << shift);
                f.search(k.min(i64::MAX as i128) as i64, 0, starts.len()) as u32
            })
            .collect();
        f
    }

    /// The last start not above `k` among `starts[lo..hi]` (or `lo`).
    #[inline]
    fn search(&self, k: i64, lo: usize, hi: usize) -> usize {
        let (mut lo, mut len) = (lo, hi - lo);
        while len > 1 {
            let half = len / 2;
            lo = if self.starts[lo + half] <= k {
                lo + half
            } else {
                lo
            };
            len -= half;
        }
        lo
    }

    #[inline]
    fn find(&self, k: i64) -> usize {
        if k <= self.first || self.starts.len() < 2 {
            return 0;
        }
        let j = (((k as i128 - self.first as i128) as u128) >> self.shift) as usize;
        if j + 1 >= self.slots.len() {
            return self.starts.len() - 1;
        }
        let (a, b) = (self.slots[j] as usize, self.slots[j + 1] as usize);
        if a == b {
            a
        } else {
            self.search(k, a, b + 1)
        }
    }
}

/// Counts of each distinct key, ascending; `None` past [`EXACT_DISTINCT`].
fn count_distinct(keys: &Keys, present: &Bits) -> Option<Vec<(i64, u64)>> {
    let mut map: AHashMap<i64, u64> = AHashMap::new();
    let mut over = false;
    let mut hist: Vec<u32> = Vec::new();
    for b in 0..present.blocks() {
        let kb = keys.block(b);
        let chunk = present.chunk(b);
        // Narrow blocks count raw values in an array first.
        let span = match &kb.raw {
            Raw::Const => Some(0usize),
            Raw::U8(_) => Some(u8::MAX as usize),
            Raw::U16(v) => v.iter().max().map(|&m| m as usize).filter(|&m| m < 8192),
            _ => None,
        };
        if let Some(span) = span {
            hist.clear();
            hist.resize(span + 1, 0);
            chunk.for_each(|x| hist[(kb.raw_at(x as usize) as usize).min(span)] += 1);
            for (raw, &c) in hist.iter().enumerate() {
                if c > 0 {
                    *map.entry(kb.base.wrapping_add(kb.scale.wrapping_mul(raw as i64)))
                        .or_insert(0) += c as u64;
                }
            }
            over = map.len() > EXACT_DISTINCT;
        } else {
            chunk.for_each(|x| {
                if !over {
                    *map.entry(kb.get(x as usize)).or_insert(0) += 1;
                    over = map.len() > EXACT_DISTINCT;
                }
            });
        }
        if over {
            return None;
        }
    }
    let mut v: Vec<(i64, u64)> = map.into_iter().collect();
    v.sort_unstable();
    Some(v)
}

/// Bucket start keys over ascending (key, count): about `buckets` buckets
/// of equal count, never splitting a key, a heavy key alone.
fn bucket_starts(counts: &[(i64, u64)], total: u64, buckets: usize) -> Vec<i64> {
    let target = total.div_ceil(buckets as u64).max(1);
    let mut starts = Vec::new();
    let mut acc = 0u64;
    for &(k, c) in counts {
        if starts.is_empty() || (acc > 0 && (acc >= target || c >= target)) {
            starts.push(k);
            acc = 0;
        }
        acc += c;
    }
    starts
}

// ------------------------------------------------------------------ bool

#[derive(Debug)]
pub struct BoolColumn {
    pub trues: RoaringBitmap,
    pub present: RoaringBitmap,
    trues_bits: Bits,
    present_bits: Bits,
}

impl BoolColumn {
    pub fn new(trues: RoaringBitmap, present: RoaringBitmap) -> BoolColumn {
        BoolColumn {
            trues_bits: Bits::from_roaring(&trues),
            present_bits: Bits::from_roaring(&present),
            trues,
            present,
        }
    }

    pub fn from_bits(trues: Bits, present: Bits) -> BoolColumn {
        BoolColumn {
            trues: trues.to_roaring(),
            present: present.to_roaring(),
            trues_bits: trues,
            present_bits: present,
        }
    }

    pub fn value(&self, row: u32) -> Option<bool> {
        self.present_bits
            .contains(row)
            .then(|| self.trues_bits.contains(row))
    }

    pub fn rows(&self, value: bool) -> RoaringBitmap {
        if value {
            self.trues.clone()
        } else {
            &self.present - &self.trues
        }
    }

    pub fn trues_bits(&self) -> &Bits {
        &self.trues_bits
    }

    pub fn present_bits(&self) -> &Bits {
        &self.present_bits
    }

    pub fn heap_bytes(&self) -> usize {
        self.trues_bits.heap_bytes() * 2 + self.present_bits.heap_bytes() * 2
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
    bits: Vec<Bits>,
    /// rows with at least one member
    pub present: RoaringBitmap,
    present_bits: Bits,
    /// `members[offsets.range(r)]` are row r's member codes
    offsets: Offsets,
    members: Codes,
}

impl SetColumn {
    /// `rows[r]` holds row r's member codes (distinct) into `values`.
    pub fn new(values: Vec<String>, rows: Vec<Vec<u32>>) -> SetColumn {
        let mut offsets = Offsets::with_capacity(rows.len());
        let mut members = Codes::new();
        let mut total = 0u64;
        for codes in &rows {
            for &c in codes {
                members.push(c);
            }
            total += codes.len() as u64;
            offsets.push(total);
        }
        SetColumn::from_parts(values, offsets, members)
    }

    /// From each row's member codes, flat: `members[offsets.range(r)]`.
    pub fn from_parts(values: Vec<String>, offsets: Offsets, mut members: Codes) -> SetColumn {
        members.shrink_to_fit();
        let lookup = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        let mut builders: Vec<BitsBuilder> =
            (0..values.len()).map(|_| BitsBuilder::new()).collect();
        let mut present = BitsBuilder::new();
        for r in 0..offsets.len() {
            let range = offsets.range(r);
            if !range.is_empty() {
                present.push(r as u32);
            }
            for i in range {
                builders[members.get(i) as usize].push(r as u32);
            }
        }
        let bits: Vec<Bits> = builders.into_iter().map(BitsBuilder::finish).collect();
        let present_bits = present.finish();
        SetColumn {
            values,
            lookup,
            bitmaps: bits.iter().map(Bits::to_roaring).collect(),
            bits,
            present: present_bits.to_roaring(),
            present_bits,
            offsets,
            members,
        }
    }

    pub fn code(&self, value: &str) -> Option<u32> {
        self.lookup.get(value).copied()
    }

    pub fn members(&self, row: u32) -> impl Iterator<Item = &str> {
        self.offsets
            .range(row as usize)
            .map(|i| self.values[self.members.get(i) as usize].as_str())
    }

    /// Rows holding member `code`.
    pub fn member_bits(&self, code: u32) -> &Bits {
        &self.bits[code as usize]
    }

    pub fn present_bits(&self) -> &Bits {
        &self.present_bits
    }

    /// The flat member lists, for snapshots.
    pub fn parts(&self) -> (&Offsets, &Codes) {
        (&self.offsets, &self.members)
    }

    /// The rows of each member, for snapshots.
    pub fn member_parts(&self) -> &[Bits] {
        &self.bits
    }

    /// Reassembles a column of `len` rows from snapshot parts (checked).
    pub fn from_snapshot(
        values: Vec<String>,
        offsets: Offsets,
        members: Codes,
        bits: Vec<Bits>,
        present: Bits,
        len: u32,
    ) -> Result<SetColumn, String> {
        let n = values.len();
        if offsets.len() != len as usize
            || (len > 0 && offsets.end(len as usize - 1) != members.len() as u64)
            || (len == 0 && !members.is_empty())
        {
            return Err("set: offsets do not match the members".into());
        }
        if !members.all_below(n, false) || bits.len() != n {
            return Err("set: a member outside the dictionary".into());
        }
        check_rows(&present, len)?;
        for b in &bits {
            check_rows(b, len)?;
        }
        let lookup = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        Ok(SetColumn {
            values,
            lookup,
            bitmaps: bits.iter().map(Bits::to_roaring).collect(),
            bits,
            present: present.to_roaring(),
            present_bits: present,
            offsets,
            members,
        })
    }

    pub fn heap_bytes(&self) -> usize {
        self.bits.iter().map(Bits::heap_bytes).sum::<usize>() * 2
            + self.present_bits.heap_bytes() * 2
            + self.offsets.heap_bytes()
            + self.members.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn range_cache_keeps_a_range_from_its_second_request_and_few_of_them() {
        let c = RangeCache::default();
        let rows =
            |n: u32| std::sync::Arc::new(Bits::from_roaring(&RoaringBitmap::from_iter(0..n)));
        assert!(matches!(c.get(1, 5), Err(false)));
        assert!(matches!(c.get(1, 5), Err(true)));
        c.put(1, 5, rows(3));
        assert_eq!(c.get(1, 5).map(|b| b.len()), Ok(3));
        assert!(
            matches!(c.get(1, 6), Err(false)),
            "another range is its own"
        );
        // keeping more than ENTRIES drops the least recently used
        for k in 10..10 + RangeCache::ENTRIES as i64 {
            let _ = c.get(k, k);
            let _ = c.get(k, k);
            c.put(k, k, rows(k as u32));
        }
        assert!(matches!(c.get(1, 5), Err(false)), "(1, 5) was dropped");
        let kept = (10..10 + RangeCache::ENTRIES as i64)
            .filter(|&k| c.get(k, k).is_ok())
            .count();
        assert_eq!(kept, RangeCache::ENTRIES);
        // requests that kept nothing do not pile up
        for k in 100..1000 {
            let _ = c.get(k, k);
        }
        assert!(c.entries.lock().unwrap().len() <= RangeCache::ENTRIES * 4);
        assert_eq!(
            c.entries
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.3.is_some())
                .count(),
            RangeCache::ENTRIES
        );
    }

    #[test]
    fn bucket_finder_agrees_with_a_binary_search() {
        let plain = |starts: &[i64], k: i64| starts.iter().rposition(|&s| s <= k).unwrap_or(0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut cases: Vec<Vec<i64>> = vec![
            vec![5],
            vec![i64::MIN, 0, i64::MAX],
            vec![-3, -1, 0, 2, 1_000_000_000_000],
            (0..1024).map(|i| i * 37).collect(),
            // heavy-tailed: many starts among small keys, few large
            (0..1024i64).map(|i| i * i * i).collect(),
        ];
        for _ in 0..20 {
            let mut v: Vec<i64> = (0..rng.gen_range(1..1100))
                .map(|_| rng.gen_range(-1_000_000i64..1_000_000_000_000))
                .collect();
            v.sort_unstable();
            v.dedup();
            cases.push(v);
        }
        for starts in &cases {
            let f = BucketFinder::new(starts);
            let mut keys: Vec<i64> = vec![i64::MIN, i64::MAX, 0, -1];
            for &s in starts {
                keys.extend([s.saturating_sub(1), s, s.saturating_add(1)]);
            }
            let (lo, hi) = (starts[0], *starts.last().unwrap());
            for _ in 0..2000 {
                keys.push(rng.gen_range(lo.saturating_sub(10)..=hi.saturating_add(10)));
            }
            for k in keys {
                assert_eq!(
                    f.find(k),
                    plain(starts, k),
                    "key {k} in {} starts",
                    starts.len()
                );
            }
        }
    }

    fn bm(rows: &[u32]) -> RoaringBitmap {
        rows.iter().copied().collect()
    }

    #[test]
    fn dict_postings_agree_between_layouts() {
        let values: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
        let codes: Vec<u32> = (0..20_000u32)
            .map(|r| if r % 7 == 0 { MISSING } else { r % 5000 })
            .collect();
        let col = DictColumn::new(values, codes.clone());
        let want: RoaringBitmap = (0..20_000u32)
            .filter(|r| r % 7 != 0 && (r % 5000 == 3 || r % 5000 == 9))
            .collect();
        assert_eq!(col.rows_of(&[3, 9]), want);
        let many: Vec<u32> = (0..4000).collect();
        let want: RoaringBitmap = (0..20_000u32)
            .filter(|r| r % 7 != 0 && r % 5000 < 4000)
            .collect();
        assert_eq!(col.rows_of(&many), want);
        assert_eq!(
            col.present.len(),
            codes.iter().filter(|&&c| c != MISSING).count() as u64
        );
        assert_eq!(col.code("v4999"), Some(4999));
        assert_eq!(col.code("v5000"), None);
    }

    #[test]
    fn dict_duplicates_fold_case_and_space() {
        let values = vec![
            "a@x.io".to_string(),
            "A@x.io ".to_string(),
            "b@x.io".to_string(),
        ];
        let col = DictColumn::new(values, vec![0, 1, 2, MISSING]);
        assert_eq!(*col.duplicates(true), bm(&[0, 1]));
        assert_eq!(*col.duplicates(false), bm(&[]));
    }

    #[test]
    fn codes_all_below_checks_every_width() {
        for width in [8u32, 16, 32] {
            let mut c = match width {
                8 => Codes::U8(Buf::new()),
                16 => Codes::U16(Buf::new()),
                _ => Codes::U32(Buf::new()),
            };
            assert!(c.all_below(0, false) && c.all_below(0, true));
            for x in [0, 4, MISSING, 2] {
                c.push(x);
            }
            assert_eq!(c.get(2), MISSING, "u{width}");
            assert!(c.all_below(5, true));
            assert!(!c.all_below(4, true));
            assert!(!c.all_below(5, false), "missing is not a member");
            assert!(!c.all_below(usize::MAX, false), "nor for a huge dictionary");
            let mut d = c.clone();
            match &mut d {
                Codes::U8(v) => v.make_mut().retain(|&x| x != u8::MAX),
                Codes::U16(v) => v.make_mut().retain(|&x| x != u16::MAX),
                Codes::U32(v) => v.make_mut().retain(|&x| x != u32::MAX),
            }
            assert!(d.all_below(5, false) && !d.all_below(4, false));
        }
    }

    #[test]
    fn codes_widen_and_keep_missing() {
        let mut c = Codes::new();
        c.push(MISSING);
        c.push(3);
        for i in 0..300 {
            c.push(i);
        }
        c.push(70_000);
        c.push(MISSING);
        assert!(matches!(c, Codes::U32(_)));
        assert_eq!(c.get(0), MISSING);
        assert_eq!(c.get(1), 3);
        assert_eq!(c.get(2 + 299), 299);
        assert_eq!(c.get(302), 70_000);
        assert_eq!(c.get(303), MISSING);
    }

    #[test]
    fn strings_index_and_offsets_wrap() {
        let s: Strings = ["", "ab", "ü", "xyz"].into_iter().collect();
        assert_eq!(s.iter().collect::<Vec<_>>(), ["", "ab", "ü", "xyz"]);
        assert_eq!(&s[2], "ü");
        let mut o = Offsets::default();
        o.push(10);
        o.push((1u64 << 32) + 5);
        o.push((1u64 << 32) + 9);
        o.push(3u64 << 32);
        assert_eq!(o.end(0), 10);
        assert_eq!(o.range(1), 10..(1usize << 32) + 5);
        assert_eq!(o.end(2), (1u64 << 32) + 9);
        assert_eq!(o.end(3), 3u64 << 32);
    }

    #[test]
    fn keys_pack_per_block_and_bound_raw_values() {
        let day = 86_400_000_000i64;
        let keys: Vec<i64> = (0..150_000i64)
            .map(|r| 19_000 * day + (r % 1000) * day)
            .collect();
        let present = Bits::from_sorted((0..150_000u32).filter(|r| r % 3 != 0));
        let k = Keys::from_vec(&keys, &present);
        assert!(
            matches!(k.block(0).raw, Raw::U16(_)),
            "{:?}",
            k.block(0).scale
        );
        assert_eq!(k.block(0).scale, day);
        present.for_each(|r| assert_eq!(k.get(r as usize), keys[r as usize]));
        let kb = k.block(1);
        let (a, b) = kb.raw_bounds(19_010 * day + 1, 19_020 * day).unwrap();
        assert_eq!(
            (kb.base + a * kb.scale, kb.base + b * kb.scale),
            (19_011 * day, 19_020 * day)
        );
        let wide: Vec<i64> = vec![i64::MIN, i64::MAX, 0];
        let k = Keys::from_vec(&wide, &Bits::all(3));
        assert_eq!((0..3).map(|r| k.get(r)).collect::<Vec<_>>(), wide);
    }

    fn check_ranges(keys: &[i64], present: &RoaringBitmap, bounds: &[(Bound<i64>, Bound<i64>)]) {
        let col = NumColumn::new(keys.to_vec(), present.clone());
        for &(lo, hi) in bounds {
            let want: RoaringBitmap = present
                .iter()
                .filter(|&r| {
                    inclusive(lo, hi).is_some_and(|(l, h)| (l..=h).contains(&keys[r as usize]))
                })
                .collect();
            assert_eq!(col.range(lo, hi), want, "{lo:?} {hi:?}");
            assert_eq!(col.range_len(lo, hi), want.len(), "{lo:?} {hi:?}");
        }
        for r in 0..keys.len() as u32 {
            assert_eq!(col.key(r), present.contains(r).then(|| keys[r as usize]));
        }
    }

    #[test]
    fn num_range_agrees_with_a_scan_for_every_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for distinct in [1i64, 10, 60, 5000, 1_000_000] {
            let keys: Vec<i64> = (0..140_000)
                .map(|_| rng.gen_range(0..distinct) - distinct / 2)
                .collect();
            let present: RoaringBitmap = (0..140_000u32).filter(|r| r % 11 != 0).collect();
            let mut bounds = vec![
                (Bound::Included(-3), Bound::Excluded(4)),
                (Bound::Excluded(0), Bound::Unbounded),
                (Bound::Unbounded, Bound::Included(-distinct / 4)),
                (Bound::Included(5), Bound::Included(2)),
                (Bound::Unbounded, Bound::Unbounded),
                (Bound::Excluded(i64::MAX), Bound::Unbounded),
            ];
            for _ in 0..20 {
                let a = rng.gen_range(-distinct..distinct);
                let b = rng.gen_range(a..=distinct);
                bounds.push((Bound::Included(a), Bound::Included(b)));
            }
            check_ranges(&keys, &present, &bounds);
        }
    }

    /// Counts near 2^64 in a crafted snapshot are an error, not an overflow.
    #[test]
    fn num_index_parts_with_overflowing_counts_are_refused() {
        let present = Bits::all(2);
        let keys = Keys::from_vec(&[5, 7], &present);
        let parts = |distinct: Vec<(i64, u64)>| {
            NumColumn::from_index_parts(
                2,
                keys.clone(),
                present.clone(),
                vec![
                    (5, 5, 1, Bits::from_sorted([0])),
                    (7, 7, 1, Bits::from_sorted([1])),
                ],
                vec![0],
                vec![],
                Some(distinct),
            )
        };
        assert!(parts(vec![(5, 1), (7, 1)]).is_ok());
        assert!(parts(vec![(5, u64::MAX), (7, 3)]).is_err());
    }

    #[test]
    fn num_duplicates_and_value_counts() {
        let keys = vec![5, 7, 5, 9, 7, 1];
        let present = bm(&[0, 1, 2, 3, 4]);
        let col = NumColumn::new(keys, present);
        assert_eq!(*col.duplicates(), bm(&[0, 1, 2, 4]));
        assert_eq!(col.value_counts(), vec![(5, 2), (7, 2), (9, 1)]);
    }

    #[test]
    fn float_keys_keep_order() {
        let vals = [-1e300, -2.5, -0.0, 0.0, 1e-300, 3.5, 1e300];
        for w in vals.windows(2) {
            assert!(float_key(w[0]) <= float_key(w[1]), "{w:?}");
            assert_eq!(key_float(float_key(w[1])), w[1]);
        }
    }

    #[test]
    fn set_members_round_trip() {
        let col = SetColumn::new(
            vec!["a".into(), "b".into()],
            vec![vec![0, 1], vec![], vec![1]],
        );
        assert_eq!(col.members(0).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(col.members(1).count(), 0);
        assert_eq!(col.bitmaps[1], bm(&[0, 2]));
        assert_eq!(col.present, bm(&[0, 2]));
    }
}
