//! Row-at-a-time table building: each row is parsed whole (so a bad cell
//! rejects the row and changes nothing), then appended to typed column
//! builders. Columns the schema does not declare are collected as
//! dictionary codes and typed at [`TableBuilder::finish`], parsing each
//! distinct value once.

use super::bits::BitsBuilder;
use super::column::{
    float_key, BoolColumn, Codes, DictColumn, KeysBuilder, NumColumn, Offsets, SetColumn, Strings,
    MISSING,
};
use super::{Column, ColumnData, Table};
use crate::schema::{parse_bool, parse_float, parse_int, FieldSpec, FieldType, Inference};
use crate::time;
use ahash::{AHashMap, AHashSet};

/// One input cell: CSV gives text; JSON may give a list for a set field.
#[derive(Debug, Clone, Copy)]
pub enum CellIn<'a> {
    Text(&'a str),
    List(&'a [String]),
}

/// What [`TableBuilder::push_batch`] met first, in the order `push_row`
/// checks a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BatchErrorKind {
    /// a `ref` cell naming no account
    Account,
    /// a cell whose value does not fit its column
    Value,
    /// a missing or repeated key
    Key,
}

/// A bad cell of a batch: its row within the batch and column.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchError {
    pub row: usize,
    pub column: usize,
    pub kind: BatchErrorKind,
    pub message: String,
}

/// A cell that does not fit its column.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    /// Column index (0-based) in the table's column order.
    pub column: usize,
    pub message: String,
}

/// A cell after parsing, before it is appended.
#[derive(Debug)]
enum Parsed<'a> {
    Missing,
    Text(&'a str),
    /// A value the column's dictionary already holds.
    Code(u32),
    Key(i64),
    Bool(bool),
    Members(Vec<&'a str>),
}

/// Distinct values in one buffer, a hash table of their codes, and a
/// packed code per row.
///
/// Each table entry holds 32 bits of the value's hash beside its code
/// (`hash << 32 | code`), so neither a probe that meets another value nor
/// a resize reads the values themselves: with millions of distinct values
/// (emails) those reads are cache misses and cost most of the load.
///
/// Values that are small non-negative integers written canonically (`0`,
/// `7`, `215827`; not `007` or `+7`) are kept in `ints` instead, a plain
/// array from the integer to its code: account ids in a `ref` column then
/// cost an array read instead of a hash and three cache misses.
///
/// The first [`SHORT_MAX`] values of at most 16 bytes (enum values, tags,
/// names) are kept in `short` instead, keyed by their bytes themselves.
#[derive(Default)]
struct Dict {
    values: Strings,
    table: hashbrown::HashTable<u64>,
    short: ShortCodes,
    codes: Codes,
    /// `ints[n]` is the code of the value `n` plus one, or 0 when unknown.
    ints: Vec<u32>,
    /// Set once the column looks mostly distinct: from then on values are
    /// kept in row order and coded at finish ([`RowText::into_dictionary`]);
    /// `codes` then holds a placeholder for each present row.
    rows: Option<RowText>,
}

/// Values a [`ShortCodes`] holds at most: its table then stays in a
/// core's cache (192 KiB).
const SHORT_MAX: usize = 4096;

/// Codes of values of at most 16 bytes, found by the bytes themselves
/// packed into two words (with the length, a value's exact identity): no
/// hash of the text through a general hasher and no comparison of bytes
/// kept elsewhere. Open addressing, at most half full.
#[derive(Default)]
struct ShortCodes {
    slots: Vec<ShortSlot>,
    len: usize,
}

#[derive(Clone, Copy, Default)]
struct ShortSlot {
    words: [u64; 2],
    /// The value's length plus one (0: an empty slot).
    len: u32,
    code: u32,
}

/// A value of at most 16 bytes as two words that, with its length, tell
/// it from every other value of that length: for 8 to 16 bytes its first
/// and last eight, for 4 to 7 its first and last four, else each byte.
#[inline]
fn short_words(v: &[u8]) -> Option<[u64; 2]> {
    let n = v.len();
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let half = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) as u64;
    match n {
        0 => Some([0, 0]),
        1..=3 => Some([
            v[0] as u64 | (v[n / 2] as u64) << 8 | (v[n - 1] as u64) << 16,
            0,
        ]),
        4..=7 => Some([half(&v[..4]) | half(&v[n - 4..]) << 32, 0]),
        8..=16 => Some([word(&v[..8]), word(&v[n - 8..])]),
        _ => None,
    }
}

impl ShortCodes {
    #[inline]
    fn slot(&self, words: [u64; 2], len: u32) -> usize {
        let h = (words[0] ^ words[1].rotate_left(29) ^ (len as u64) << 56)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        // the top bits, as many as the table is long
        (h >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    /// The code of the value with these words and length, if held.
    #[inline]
    fn find(&self, words: [u64; 2], len: usize) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let len = len as u32 + 1;
        let mask = self.slots.len() - 1;
        let mut i = self.slot(words, len);
        loop {
            let s = &self.slots[i];
            if s.len == len && s.words == words {
                return Some(s.code);
            }
            if s.len == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn is_full(&self) -> bool {
        self.len >= SHORT_MAX
    }

    /// Adds a value not held yet (the table must not be full).
    fn insert(&mut self, words: [u64; 2], len: usize, code: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            let grown = vec![ShortSlot::default(); (self.slots.len() * 2).max(16)];
            let old = std::mem::replace(&mut self.slots, grown);
            for s in old.into_iter().filter(|s| s.len != 0) {
                self.put(s);
            }
        }
        self.put(ShortSlot {
            words,
            len: len as u32 + 1,
            code,
        });
        self.len += 1;
    }

    fn put(&mut self, slot: ShortSlot) {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(slot.words, slot.len);
        while self.slots[i].len != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }
}

/// The values of the present rows of a mostly distinct column (emails), in
/// row order. Coding them at finish by sorting their hashes reads memory in
/// order; probing a hash table of millions of values per row does not (two
/// cache misses a row, most of the load time of such a column).
#[derive(Debug, Default)]
struct RowText {
    text: Vec<u8>,
    /// End of each value in `text`.
    ends: Vec<u64>,
}

impl RowText {
    fn push(&mut self, v: &str) {
        self.text.extend_from_slice(v.as_bytes());
        self.ends.push(self.text.len() as u64);
    }

    fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        start..self.ends[i] as usize
    }

    fn get(&self, i: usize) -> &[u8] {
        &self.text[self.range(i)]
    }

    /// The distinct values in order of first occurrence, and the code of
    /// each value in that order: the dictionary a [`Dict`] would have built.
    fn into_dictionary(mut self) -> (Strings, Vec<u32>) {
        let n = self.ends.len();
        // Hash tag and row in one word: sorted, equal tags are adjacent and
        // their rows ascend.
        let mut keys: Vec<u64> = (0..n)
            .map(|i| {
                let v = std::str::from_utf8(self.get(i)).expect("values are whole strings");
                (tag(v) as u64) << 32 | i as u64
            })
            .collect();
        radsort::sort(&mut keys);
        // first[i]: the first row holding row i's value.
        let mut first: Vec<u32> = (0..n as u32).collect();
        let mut reps: Vec<u32> = Vec::new();
        let mut seen: AHashMap<&[u8], u32> = AHashMap::new();
        for group in keys.chunk_by(|a, b| a >> 32 == b >> 32) {
            if group.len() == 1 {
                continue;
            }
            reps.clear();
            seen.clear();
            for &k in group {
                let r = k as u32;
                let v = self.get(r as usize);
                // Few values share 32 bits of hash; many would be found by map.
                let rep = if group.len() <= 16 {
                    match reps.iter().find(|&&p| self.get(p as usize) == v) {
                        Some(&p) => p,
                        None => {
                            reps.push(r);
                            r
                        }
                    }
                } else {
                    *seen.entry(v).or_insert(r)
                };
                first[r as usize] = rep;
            }
        }
        drop(seen);
        drop(keys);
        // Codes in order of first occurrence, written over `first` (a row's
        // first row is never later than itself); each first occurrence's
        // text moves down to close the gaps left by repeats.
        let mut next = 0u32;
        let mut at = 0usize;
        let mut values = Offsets::with_capacity(0);
        for i in 0..n {
            let f = first[i] as usize;
            if f == i {
                first[i] = next;
                next += 1;
                let range = self.range(i);
                let len = range.len();
                self.text.copy_within(range, at);
                at += len;
                values.push(at as u64);
            } else {
                first[i] = first[f];
            }
        }
        self.text.truncate(at);
        self.text.shrink_to_fit();
        let text = String::from_utf8(self.text).expect("values are whole strings");
        let values = Strings::from_parts(text, values).expect("values end on their own bounds");
        (values, first)
    }
}

/// Integers up to this are kept in a [`Dict`]'s array (16 MiB at most).
const DICT_INTS: usize = 1 << 22;

/// The value as an index into [`Dict::ints`]: only the canonical decimal
/// form of an integer below [`DICT_INTS`], so text and integer correspond
/// one to one.
#[inline]
fn small_int(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    if b.is_empty() || b.len() > 7 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    let mut n = 0usize;
    for &d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (d - b'0') as usize;
    }
    (n < DICT_INTS).then_some(n)
}

/// The 32 bits of a value's hash a [`Dict`] entry keeps.
#[inline]
fn tag(v: &str) -> u32 {
    (DictColumn::hash(v) >> 32) as u32
}

/// The table hash of an entry, from its kept bits alone (spread over 64
/// bits so the table's control bytes get well-mixed top bits).
#[inline]
fn entry_hash(tag: u32) -> u64 {
    (tag as u64 | 1 << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict({:?}, {:?})", self.values, self.codes)
    }
}

impl Dict {
    fn with_values(values: &[String]) -> Dict {
        let mut d = Dict::default();
        for v in values {
            d.code(v);
        }
        d
    }

    fn find(&self, v: &str) -> Option<u32> {
        if let Some(n) = small_int(v) {
            // Small integers are found through `ints` alone.
            return self.ints.get(n).filter(|&&c| c != 0).map(|&c| c - 1);
        }
        if let Some(words) = short_words(v.as_bytes()) {
            match self.short.find(words, v.len()) {
                Some(c) => return Some(c),
                // Until it is full, `short` holds every short value.
                None if !self.short.is_full() => return None,
                None => {}
            }
        }
        self.find_tagged(v, tag(v))
    }

    #[inline]
    fn find_tagged(&self, v: &str, tag: u32) -> Option<u32> {
        self.table
            .find(entry_hash(tag), |&e| {
                (e >> 32) as u32 == tag && self.values.is(e as u32 as usize, v)
            })
            .map(|&e| e as u32)
    }

    fn contains(&self, v: &str) -> bool {
        self.find(v).is_some()
    }

    /// From now on keeps values in row order, coded at [`Dict::resolve`].
    fn defer(&mut self) {
        let mut rows = RowText::default();
        for r in 0..self.codes.len() {
            let c = self.codes.get(r);
            if c != MISSING {
                rows.push(self.values.get(c as usize));
            }
        }
        self.values = Strings::new();
        self.table = hashbrown::HashTable::new();
        self.short = ShortCodes::default();
        self.ints = Vec::new();
        self.rows = Some(rows);
    }

    /// Codes values kept in row order, if any.
    fn resolve(&mut self) {
        let Some(rows) = self.rows.take() else { return };
        let (values, coded) = rows.into_dictionary();
        let mut coded = coded.into_iter();
        let codes: Vec<u32> = self
            .codes
            .iter()
            .map(|c| match c {
                MISSING => MISSING,
                _ => coded.next().expect("a code for each present row"),
            })
            .collect();
        self.codes = Codes::from_vec(codes, values.len());
        self.values = values;
    }

    /// Room for `n` more distinct values without a resize.
    fn reserve_table(&mut self, n: usize) {
        self.table.reserve(n, |&e| entry_hash((e >> 32) as u32));
    }

    /// The value's code, and whether it is new.
    fn code_new(&mut self, v: &str) -> (u32, bool) {
        if let Some(n) = small_int(v) {
            // Kept in `ints` only: no hash, no table entry.
            if let Some(&c) = self.ints.get(n).filter(|&&c| c != 0) {
                return (c - 1, false);
            }
            let c = self.values.push(v);
            if self.ints.len() <= n {
                // Grow geometrically, up to the cap.
                let len = (n + 1).max(self.ints.len() * 2).min(DICT_INTS);
                self.ints.resize(len, 0);
            }
            self.ints[n] = c + 1;
            return (c, true);
        }
        if let Some(words) = short_words(v.as_bytes()) {
            match self.short.find(words, v.len()) {
                Some(c) => return (c, false),
                None if !self.short.is_full() => {
                    let c = self.values.push(v);
                    self.short.insert(words, v.len(), c);
                    return (c, true);
                }
                None => {}
            }
        }
        let t = tag(v);
        match self.find_tagged(v, t) {
            Some(c) => (c, false),
            None => {
                let c = self.values.push(v);
                self.table
                    .insert_unique(entry_hash(t), (t as u64) << 32 | c as u64, |&e| {
                        entry_hash((e >> 32) as u32)
                    });
                (c, true)
            }
        }
    }

    fn code(&mut self, v: &str) -> u32 {
        self.code_new(v).0
    }

    /// Appends a present row of an undeclared column: its value coded now,
    /// or kept in row order once the column is deferred.
    #[inline]
    fn push_text(&mut self, v: &str) {
        match &mut self.rows {
            Some(rows) => {
                rows.push(v);
                self.codes.push(0);
            }
            None => {
                let c = self.code(v);
                self.codes.push(c);
            }
        }
    }

    /// Appends a present row of a column typed at finish, telling
    /// `inference` of each value the first time it is seen.
    #[inline]
    fn push_inferred(&mut self, v: &str, inference: &mut Inference) {
        let (c, new) = self.code_new(v);
        if new {
            inference.observe(v);
        } else {
            inference.present += 1;
        }
        self.codes.push(c);
    }
}

/// The keys of a table as text, for checking `ref` cells: canonical small
/// integers (the usual account ids) as [`IntKeys`], any other key in a
/// hash set, so checking an id costs a bit test instead of hashing a
/// string.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    ints: IntKeys,
    other: AHashSet<String>,
}

impl KeySet {
    pub fn insert(&mut self, key: String) {
        match small_int(&key) {
            Some(n) => self.ints.insert(n as i64),
            None => {
                self.other.insert(key);
            }
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        match small_int(key) {
            Some(n) => self.ints.contains(n as i64),
            None => self.other.contains(key),
        }
    }
}

impl FromIterator<String> for KeySet {
    fn from_iter<I: IntoIterator<Item = String>>(keys: I) -> KeySet {
        let mut set = KeySet::default();
        for k in keys {
            set.insert(k);
        }
        set
    }
}

/// Int keys seen so far: a plain bitset for the usual small non-negative
/// ids (at most 32 MiB of it), a hash set for any other.
#[derive(Debug, Clone, Default)]
struct IntKeys {
    small: Vec<u64>,
    other: AHashSet<i64>,
}

impl IntKeys {
    const SMALL: i64 = 1 << 28;

    fn contains(&self, k: i64) -> bool {
        if (0..Self::SMALL).contains(&k) {
            self.small
                .get(k as usize / 64)
                .is_some_and(|w| w >> (k % 64) & 1 == 1)
        } else {
            self.other.contains(&k)
        }
    }

    fn insert(&mut self, k: i64) {
        if (0..Self::SMALL).contains(&k) {
            let w = k as usize / 64;
            if w >= self.small.len() {
                self.small.resize((w + 1).next_power_of_two(), 0);
            }
            self.small[w] |= 1 << (k % 64);
        } else {
            self.other.insert(k);
        }
    }
}

#[derive(Debug)]
enum Builder {
    Dict {
        dict: Dict,
        declared: bool,
    },
    Num {
        keys: KeysBuilder,
        present: BitsBuilder,
    },
    Bool {
        trues: BitsBuilder,
        present: BitsBuilder,
    },
    Set {
        dict: Dict,
        declared: bool,
        offsets: Offsets,
        members: Codes,
    },
    /// Undeclared: raw text codes, typed at finish.
    Infer {
        dict: Dict,
        inference: Inference,
    },
}

/// Builds one table from rows of cells in column order.
#[derive(Debug)]
pub struct TableBuilder {
    name: String,
    specs: Vec<Option<FieldSpec>>,
    names: Vec<String>,
    builders: Vec<Builder>,
    key: Option<usize>,
    text_keys: AHashSet<String>,
    int_keys: IntKeys,
    len: u32,
    /// Account keys a `ref` cell must name, once set.
    ref_keys: Option<KeySet>,
    /// The `ref` columns, and per column the code a pre-check found.
    ref_columns: Vec<usize>,
    known: Vec<Option<u32>>,
    /// Time spent on each column's cells (kept when tracing).
    spent: Vec<std::time::Duration>,
}

/// Whether `SEGQ_TRACE` asks for timings of the load on stderr.
pub fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SEGQ_TRACE").is_some())
}

/// A traced step on stderr: wall time since the first step, and the CPU
/// time the whole process has used so far (to tell idle cores from busy).
pub fn trace_step(what: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let since = *START.get_or_init(std::time::Instant::now);
    // utime and stime, in clock ticks (100 a second), follow the command
    // name, which may hold spaces but ends at the last `)`.
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| f.get(i)?.parse::<f64>().ok();
            Some((ticks(11)? + ticks(12)?) / 100.0)
        })
        .map_or(String::new(), |c| format!(" (process CPU {c:.2} s)"));
    eprintln!("{what}: {:.2} s{cpu}", since.elapsed().as_secs_f64());
}

/// Rows a table may hold: row numbers are u32 and `u32::MAX` marks "none".
pub const MAX_ROWS: u32 = u32::MAX - 1;

impl TableBuilder {
    /// `columns`: each column's name and its declaration, if declared.
    /// `key`: the key column's index.
    pub fn new(
        name: &str,
        columns: Vec<(String, Option<FieldSpec>)>,
        key: Option<usize>,
    ) -> TableBuilder {
        let mut names = Vec::new();
        let mut specs = Vec::new();
        let mut builders = Vec::new();
        for (n, spec) in columns {
            let builder = match &spec {
                None => Builder::Infer {
                    dict: Dict::default(),
                    inference: Inference::default(),
                },
                Some(s) => match s.ty {
                    FieldType::Enum { .. } | FieldType::String | FieldType::Ref => Builder::Dict {
                        dict: s
                            .values
                            .as_deref()
                            .map_or_else(Dict::default, Dict::with_values),
                        declared: s.values.is_some(),
                    },
                    FieldType::Int | FieldType::Float | FieldType::Date | FieldType::DateTime => {
                        Builder::Num {
                            keys: KeysBuilder::new(),
                            present: BitsBuilder::new(),
                        }
                    }
                    FieldType::Bool => Builder::Bool {
                        trues: BitsBuilder::new(),
                        present: BitsBuilder::new(),
                    },
                    FieldType::Set => Builder::Set {
                        dict: s
                            .values
                            .as_deref()
                            .map_or_else(Dict::default, Dict::with_values),
                        declared: s.values.is_some(),
                        offsets: Offsets::default(),
                        members: Codes::new(),
                    },
                },
            };
            names.push(n);
            specs.push(spec);
            builders.push(builder);
        }
        TableBuilder {
            name: name.to_string(),
            specs,
            names,
            builders,
            key,
            text_keys: AHashSet::new(),
            int_keys: IntKeys::default(),
            len: 0,
            ref_keys: None,
            ref_columns: Vec::new(),
            known: Vec::new(),
            spent: Vec::new(),
        }
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    /// Checks every `ref` cell against the accounts' keys (trimmed) before
    /// anything else in its row; a value the column already holds was
    /// checked when it first came. The error's message starts with
    /// `refers to unknown account`.
    pub fn set_ref_keys(&mut self, keys: KeySet) {
        self.ref_columns = (0..self.specs.len())
            .filter(|&i| {
                self.specs[i]
                    .as_ref()
                    .is_some_and(|s| s.ty == FieldType::Ref)
            })
            .collect();
        self.known = vec![None; self.specs.len()];
        self.ref_keys = Some(keys);
    }

    /// Expects about `rows` rows in all: sizes per-row storage once, and
    /// the dictionaries of columns whose values are mostly distinct so far,
    /// instead of growing them step by step.
    pub fn reserve(&mut self, rows: usize) {
        let more = rows.saturating_sub(self.len as usize);
        let seen = self.len.max(1) as usize;
        for (i, b) in self.builders.iter_mut().enumerate() {
            let mostly_distinct = |dict: &Dict| dict.values.len() * 2 > seen && seen >= 256;
            match b {
                // A plain string column (not a key, not a reference, values
                // not declared) of mostly distinct values is coded at finish.
                Builder::Dict {
                    dict,
                    declared: false,
                } if mostly_distinct(dict)
                    && self.key != Some(i)
                    && self.specs[i]
                        .as_ref()
                        .is_some_and(|s| s.ty == FieldType::String) =>
                {
                    dict.codes.reserve(more);
                    dict.defer();
                }
                Builder::Dict { dict, .. } | Builder::Infer { dict, .. } => {
                    dict.codes.reserve(more);
                    if mostly_distinct(dict) {
                        let distinct = more * dict.values.len() / seen;
                        dict.values.reserve(
                            distinct,
                            distinct * dict.values.text_len() / dict.values.len().max(1),
                        );
                        // The first rows cannot tell a column of distinct
                        // values (emails) from one of many repeated ones
                        // (account ids): a table sized for every row would
                        // turn the latter's lookups into cache misses. Grow
                        // past a million by resizing, which is cheap here.
                        dict.reserve_table(distinct.min(1 << 20));
                    }
                }
                Builder::Set {
                    offsets, members, ..
                } => {
                    offsets.reserve(more);
                    members.reserve(more);
                }
                Builder::Num { .. } | Builder::Bool { .. } => {}
            }
        }
    }

    /// Checks a parsed key cell (present, not seen before) and records it.
    fn check_key(&mut self, k: usize, parsed: &Parsed<'_>, cell: CellIn<'_>) -> Result<(), String> {
        let fresh = match parsed {
            Parsed::Missing => return Err(format!("the key `{}` is missing", self.names[k])),
            Parsed::Key(v) => !self.int_keys.contains(*v),
            Parsed::Code(_) => match cell {
                CellIn::Text(t) => !self.text_keys.contains(t),
                CellIn::List(_) => true,
            },
            // An undeclared dictionary holds exactly the keys seen so far.
            Parsed::Text(t) => match &self.builders[k] {
                Builder::Dict {
                    dict,
                    declared: false,
                }
                | Builder::Infer { dict, .. } => !dict.contains(t),
                _ => !self.text_keys.contains(*t),
            },
            _ => true,
        };
        if !fresh {
            return Err(format!("duplicate key {}", cell_text(cell)));
        }
        match (parsed, &self.builders[k]) {
            (Parsed::Key(v), _) => self.int_keys.insert(*v),
            (
                Parsed::Text(_),
                Builder::Dict {
                    declared: false, ..
                }
                | Builder::Infer { .. },
            ) => {}
            (Parsed::Text(t), _) => {
                self.text_keys.insert(t.to_string());
            }
            (Parsed::Code(_), _) => {
                if let CellIn::Text(t) = cell {
                    self.text_keys.insert(t.to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The `ref` check of one cell: the code it already has, if any.
    fn check_ref(&self, i: usize, cell: CellIn<'_>) -> Result<Option<u32>, String> {
        let (Some(keys), CellIn::Text(t), Builder::Dict { dict, .. }) =
            (&self.ref_keys, cell, &self.builders[i])
        else {
            return Ok(None);
        };
        let trimmed = t.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        match dict.find(t) {
            Some(c) => Ok(Some(c)),
            None if keys.contains(trimmed) => Ok(None),
            None => Err(format!("refers to unknown account {trimmed:?}")),
        }
    }

    /// Appends `rows` rows column by column — one column's cells in a tight
    /// loop, several times faster than [`TableBuilder::push_row`] — where
    /// `cell(r, i)` is row `r`'s cell of column `i`. Unlike `push_row`, a
    /// bad cell does not leave its row out: after an error the builder holds
    /// part of the batch and must be dropped. The error is the one
    /// `push_row` would have met first: the earliest row, and in it an
    /// unknown account before a bad value before a bad key.
    pub fn push_batch<'a>(
        &mut self,
        rows: usize,
        cell: impl Fn(usize, usize) -> CellIn<'a>,
    ) -> Result<(), BatchError> {
        if self.len as u64 + rows as u64 > MAX_ROWS as u64 {
            return Err(BatchError {
                row: 0,
                column: 0,
                kind: BatchErrorKind::Value,
                message: format!("table `{}` is full ({MAX_ROWS} rows)", self.name),
            });
        }
        let mut first: Option<BatchError> = None;
        let trace = tracing();
        if trace {
            self.spent
                .resize(self.builders.len(), std::time::Duration::ZERO);
        }
        for i in 0..self.builders.len() {
            let started = trace.then(std::time::Instant::now);
            let limit = first.as_ref().map_or(rows, |e| e.row + 1);
            let is_ref = self.ref_keys.is_some() && self.ref_columns.contains(&i);
            // Cells go through a loop specialised to the column; a cell it
            // leaves (a new account, a list, a bad value; every text key)
            // goes the general way, and the loop goes on after it.
            let keyed = self.key == Some(i);
            let text = |r: usize| match cell(r, i) {
                CellIn::Text(t) => Some(t),
                CellIn::List(_) => None,
            };
            let mut r = 0;
            while r < limit {
                if !keyed || matches!(self.builders[i], Builder::Num { .. }) {
                    let spec = self.specs[i].as_ref();
                    let refs = self.ref_keys.as_ref().filter(|_| is_ref);
                    let unique = keyed.then_some(&mut self.int_keys);
                    let builder = &mut self.builders[i];
                    r = fast_cells(builder, spec, refs, unique, self.len, r..limit, text);
                    if r == limit {
                        break;
                    }
                }
                let c = cell(r, i);
                let mut fail = |kind: BatchErrorKind, message: String| {
                    let e = BatchError {
                        row: r,
                        column: i,
                        kind,
                        message,
                    };
                    if first
                        .as_ref()
                        .is_none_or(|f| (e.row, e.kind) < (f.row, f.kind))
                    {
                        first = Some(e);
                    }
                };
                if is_ref {
                    match self.check_ref(i, c) {
                        Ok(known) => self.known[i] = known,
                        Err(m) => {
                            fail(BatchErrorKind::Account, m);
                            break;
                        }
                    }
                }
                let p = match self.parse(i, c) {
                    Ok(p) => p,
                    Err(m) => {
                        fail(BatchErrorKind::Value, m);
                        break;
                    }
                };
                if keyed {
                    if let Err(m) = self.check_key(i, &p, c) {
                        fail(BatchErrorKind::Key, m);
                        break;
                    }
                }
                append(&mut self.builders[i], self.len + r as u32, p);
                r += 1;
            }
            if is_ref {
                self.known[i] = None;
            }
            if let Some(t) = started {
                self.spent[i] += t.elapsed();
            }
        }
        match first {
            Some(e) => Err(e),
            None => {
                self.len += rows as u32;
                Ok(())
            }
        }
    }

    /// Parses and appends one row, or rejects it whole.
    pub fn push_row(&mut self, cells: &[CellIn<'_>]) -> Result<(), CellError> {
        debug_assert_eq!(cells.len(), self.builders.len());
        if self.len >= MAX_ROWS {
            return Err(CellError {
                column: 0,
                message: format!("table `{}` is full ({MAX_ROWS} rows)", self.name),
            });
        }
        for j in 0..self.ref_columns.len() {
            let i = self.ref_columns[j];
            self.known[i] = self
                .check_ref(i, cells[i])
                .map_err(|message| CellError { column: i, message })?;
        }
        let mut parsed = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            let p = self
                .parse(i, *cell)
                .map_err(|message| CellError { column: i, message })?;
            parsed.push(p);
        }
        if let Some(k) = self.key {
            self.check_key(k, &parsed[k], cells[k])
                .map_err(|message| CellError { column: k, message })?;
        }
        let row = self.len;
        for (b, p) in self.builders.iter_mut().zip(parsed) {
            append(b, row, p);
        }
        self.len += 1;
        Ok(())
    }

    fn parse<'a>(&self, i: usize, cell: CellIn<'a>) -> Result<Parsed<'a>, String> {
        let builder = &self.builders[i];
        let spec = self.specs[i].as_ref();
        let text = match cell {
            CellIn::List(items) => {
                return match builder {
                    Builder::Set { dict, declared, .. } => {
                        let mut members: Vec<&str> = Vec::new();
                        let sep = spec.map_or(";", |s| s.separator.as_str());
                        for item in items {
                            // As in a CSV cell: members are trimmed, and a member
                            // holding the separator could not be written back out.
                            let item = item.trim();
                            if item.is_empty() {
                                continue;
                            }
                            if !sep.is_empty() && item.contains(sep) {
                                return Err(format!(
                                    "set member {} contains the separator {sep:?}",
                                    quote(item)
                                ));
                            }
                            if *declared && !dict.contains(item) {
                                return Err(not_declared(item, spec));
                            }
                            if !members.contains(&item) {
                                members.push(item);
                            }
                        }
                        Ok(if members.is_empty() {
                            Parsed::Missing
                        } else {
                            Parsed::Members(members)
                        })
                    }
                    _ => Err(format!(
                        "a list is only allowed for set fields, and `{}` is not one",
                        self.names[i]
                    )),
                };
            }
            CellIn::Text(t) => t,
        };
        if is_blank(text) {
            return Ok(Parsed::Missing);
        }
        match builder {
            Builder::Infer { .. } => Ok(Parsed::Text(text)),
            Builder::Dict { dict, declared } => {
                if let Some(c) = self.known.get(i).copied().flatten() {
                    Ok(Parsed::Code(c))
                } else if *declared {
                    match dict.find(text) {
                        Some(c) => Ok(Parsed::Code(c)),
                        None => Err(not_declared(text, spec)),
                    }
                } else {
                    Ok(Parsed::Text(text))
                }
            }
            Builder::Bool { .. } => parse_bool(text)
                .map(Parsed::Bool)
                .ok_or_else(|| format!("{} is not a bool (true or false)", quote(text))),
            Builder::Num { .. } => {
                let spec = spec.expect("declared");
                parse_key(&spec.ty, spec.format.as_deref(), text)
                    .map(Parsed::Key)
                    .ok_or_else(|| {
                        let what = match (&spec.ty, &spec.format) {
                            (_, Some(f)) => format!("a {} in the format `{f}`", spec.ty),
                            (FieldType::Int, _) => "an int".to_string(),
                            (FieldType::Float, _) => "a number".to_string(),
                            (FieldType::Date, _) => "a date (YYYY-MM-DD)".to_string(),
                            _ => "a date-time (YYYY-MM-DDTHH:MM:SSZ)".to_string(),
                        };
                        format!("{} is not {what}", quote(text))
                    })
            }
            Builder::Set { dict, declared, .. } => {
                let sep = spec.map_or(";", |s| s.separator.as_str());
                let mut members: Vec<&str> = Vec::new();
                let mut add = |m: &'a str| {
                    let m = m.trim();
                    if m.is_empty() {
                        return Ok(());
                    }
                    if *declared && !dict.contains(m) {
                        return Err(not_declared(m, spec));
                    }
                    if !members.contains(&m) {
                        members.push(m);
                    }
                    Ok(())
                };
                // A one-character separator splits by char: a substring
                // search per cell cost more than the rest of the cell.
                match sep.as_bytes() {
                    [b] if b.is_ascii() => text.split(*b as char).try_for_each(&mut add)?,
                    _ => text.split(sep).try_for_each(&mut add)?,
                }
                Ok(if members.is_empty() {
                    Parsed::Missing
                } else {
                    Parsed::Members(members)
                })
            }
        }
    }

    /// Finishes every column: typed, indexed, ready to query.
    pub fn finish(self) -> Table {
        TableBuilder::finish_all(vec![self])
            .pop()
            .expect("one table per builder")
    }

    /// Finishes builders of the same rows (column groups of one table)
    /// with one pool of two threads, the dearest columns of all of them
    /// first, so no group's last column waits alone.
    pub fn finish_all(builders: Vec<TableBuilder>) -> Vec<Table> {
        let mut jobs = Vec::new();
        let mut heads = Vec::new();
        for b in builders {
            for (name, spent) in b.names.iter().zip(&b.spent) {
                eprintln!("cells of {}.{name}: {:.2} s", b.name, spent.as_secs_f64());
            }
            let mut separators = Vec::new();
            let n = b.builders.len();
            for (i, ((name, spec), builder)) in
                b.names.into_iter().zip(b.specs).zip(b.builders).enumerate()
            {
                separators.push(
                    spec.as_ref()
                        .map_or(";".to_string(), |s| s.separator.clone()),
                );
                jobs.push((name, spec, builder, b.key == Some(i)));
            }
            heads.push((b.name, b.len, b.key, separators, n));
        }
        let len = heads.iter().map(|h| h.1).max().unwrap_or(0);
        let t0 = std::time::Instant::now();
        let mut columns = finish_columns(jobs, len).into_iter();
        if tracing() {
            eprintln!("finish all: {:.2} s", t0.elapsed().as_secs_f64());
            trace_step("finished");
        }
        heads
            .into_iter()
            .map(|(name, len, key, separators, n)| Table {
                name,
                len,
                columns: columns.by_ref().take(n).collect(),
                key,
                all: super::bits::Bits::all(len).to_roaring(),
                separators,
            })
            .collect()
    }
}

/// Whether a cell is empty or only whitespace (a missing value).
#[inline]
fn is_blank(text: &str) -> bool {
    // Most cells start and end with a visible ASCII character.
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => false,
        _ => text.trim().is_empty(),
    }
}

/// Appends the text cells `rows` of one column (not a text key) in a loop
/// specialised to its builder, exactly as [`TableBuilder::parse`] and
/// [`append`] would one cell at a time, and returns the first row it left
/// alone, for the general path to append or report: a list cell, or a
/// cell that does not fit (in a `ref` column, whose table's keys are
/// `refs`, one naming no account; in a numeric key column, whose keys so
/// far are `unique`, a missing or repeated key). Rows are numbered from
/// `base`.
#[allow(clippy::too_many_arguments)]
fn fast_cells<'a>(
    builder: &mut Builder,
    spec: Option<&FieldSpec>,
    refs: Option<&KeySet>,
    unique: Option<&mut IntKeys>,
    base: u32,
    rows: std::ops::Range<usize>,
    text: impl Fn(usize) -> Option<&'a str>,
) -> usize {
    let limit = rows.end;
    debug_assert!(unique.is_none() || matches!(builder, Builder::Num { .. }));
    match builder {
        Builder::Bool { trues, present } => {
            for r in rows.clone() {
                let Some(t) = text(r) else { return r };
                if is_blank(t) {
                    continue;
                }
                let Some(v) = parse_bool(t) else { return r };
                present.push(base + r as u32);
                if v {
                    trues.push(base + r as u32);
                }
            }
            limit
        }
        Builder::Num { keys, present } => {
            let Some(spec) = spec else {
                return rows.start;
            };
            let format = spec.format.as_deref();
            let out = (keys, present, unique, base, rows, text);
            match (&spec.ty, format) {
                (FieldType::Int, _) => num_cells(out, parse_int),
                (FieldType::Date, None) => num_cells(out, time::parse_date),
                (FieldType::DateTime, None) => num_cells(out, |t| {
                    time::parse_date(t).or_else(|| time::parse_datetime(t))
                }),
                (ty, format) => num_cells(out, |t| parse_key(ty, format, t)),
            }
        }
        Builder::Dict { dict, declared } => {
            for r in rows.clone() {
                let Some(t) = text(r) else { return r };
                if is_blank(t) {
                    dict.codes.push(MISSING);
                } else if let Some(keys) = refs {
                    // A value seen before names a known account.
                    let c = match dict.find(t) {
                        Some(c) => c,
                        None if keys.contains(t.trim()) => dict.code(t),
                        None => return r,
                    };
                    dict.codes.push(c);
                } else if *declared {
                    let Some(c) = dict.find(t) else { return r };
                    dict.codes.push(c);
                } else {
                    dict.push_text(t);
                }
            }
            limit
        }
        Builder::Infer { dict, inference } => {
            for r in rows.clone() {
                let Some(t) = text(r) else { return r };
                if is_blank(t) {
                    dict.codes.push(MISSING);
                } else {
                    dict.push_inferred(t, inference);
                }
            }
            limit
        }
        Builder::Set {
            dict,
            declared,
            offsets,
            members,
        } => {
            let sep = spec.map_or(";", |s| s.separator.as_str());
            let mut cell_codes: Vec<u32> = Vec::new();
            for r in rows.clone() {
                let Some(t) = text(r) else { return r };
                cell_codes.clear();
                if !is_blank(t) {
                    let mut add = |m: &str| {
                        let m = m.trim();
                        if m.is_empty() {
                            return Some(());
                        }
                        let c = if *declared {
                            dict.find(m)?
                        } else {
                            dict.code(m)
                        };
                        if !cell_codes.contains(&c) {
                            cell_codes.push(c);
                        }
                        Some(())
                    };
                    let fits = match sep.as_bytes() {
                        [b] if b.is_ascii() => t.split(*b as char).try_for_each(&mut add),
                        _ => t.split(sep).try_for_each(&mut add),
                    };
                    if fits.is_none() {
                        return r;
                    }
                }
                for &c in &cell_codes {
                    members.push(c);
                }
                offsets.push(members.len() as u64);
            }
            limit
        }
    }
}

/// [`fast_cells`] for a numeric column whose cells `parse` reads.
#[inline]
fn num_cells<'a, 'k>(
    (keys, present, mut unique, base, rows, text): (
        &mut KeysBuilder,
        &mut BitsBuilder,
        Option<&'k mut IntKeys>,
        u32,
        std::ops::Range<usize>,
        impl Fn(usize) -> Option<&'a str>,
    ),
    parse: impl Fn(&str) -> Option<i64>,
) -> usize {
    let limit = rows.end;
    for r in rows {
        let Some(t) = text(r) else { return r };
        if is_blank(t) {
            if unique.is_some() {
                return r;
            }
            keys.push(None);
            continue;
        }
        let Some(k) = parse(t) else { return r };
        if let Some(seen) = unique.as_deref_mut() {
            if seen.contains(k) {
                return r;
            }
            seen.insert(k);
        }
        keys.push(Some(k));
        present.push(base + r as u32);
    }
    limit
}

fn cell_text(cell: CellIn<'_>) -> String {
    match cell {
        CellIn::Text(t) => quote(t),
        CellIn::List(l) => format!("{l:?}"),
    }
}

fn quote(text: &str) -> String {
    let short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

fn not_declared(value: &str, spec: Option<&FieldSpec>) -> String {
    let values = spec.and_then(|s| s.values.as_ref());
    let near = values
        .map(|v| crate::diagnostic::nearest(value, v.iter().map(String::as_str), 3))
        .unwrap_or_default();
    let mut msg = format!(
        "{} is not one of the values declared for `{}`",
        quote(value),
        spec.map_or("?", |s| s.name.as_str())
    );
    if !near.is_empty() {
        msg.push_str(&format!(" (nearest: {})", near.join(", ")));
    }
    msg
}

/// Parses a numeric/temporal cell to its ordered i64 key.
pub fn parse_key(ty: &FieldType, format: Option<&str>, text: &str) -> Option<i64> {
    match (ty, format) {
        (FieldType::Date, Some(f)) => time::parse_with_format(text, f, false),
        (FieldType::DateTime, Some(f)) => time::parse_with_format(text, f, true),
        (FieldType::Int, _) => parse_int(text),
        (FieldType::Float, _) => parse_float(text).map(float_key),
        (FieldType::Date, None) => time::parse_date(text),
        (FieldType::DateTime, None) => {
            time::parse_date(text).or_else(|| time::parse_datetime(text))
        }
        _ => None,
    }
}

fn append(b: &mut Builder, row: u32, p: Parsed<'_>) {
    match (b, p) {
        (Builder::Dict { dict, .. } | Builder::Infer { dict, .. }, Parsed::Missing) => {
            dict.codes.push(MISSING)
        }
        (Builder::Infer { dict, inference }, Parsed::Text(t)) => dict.push_inferred(t, inference),
        (Builder::Dict { dict, .. }, Parsed::Text(t)) => dict.push_text(t),
        (Builder::Dict { dict, .. }, Parsed::Code(c)) => dict.codes.push(c),
        (Builder::Num { keys, .. }, Parsed::Missing) => keys.push(None),
        (Builder::Num { keys, present }, Parsed::Key(k)) => {
            keys.push(Some(k));
            present.push(row);
        }
        (Builder::Bool { .. }, Parsed::Missing) => {}
        (Builder::Bool { trues, present }, Parsed::Bool(v)) => {
            present.push(row);
            if v {
                trues.push(row);
            }
        }
        (
            Builder::Set {
                offsets, members, ..
            },
            Parsed::Missing,
        ) => offsets.push(members.len() as u64),
        (
            Builder::Set {
                dict,
                offsets,
                members,
                ..
            },
            Parsed::Members(m),
        ) => {
            for v in m {
                members.push(dict.code(v));
            }
            offsets.push(members.len() as u64);
        }
        (b, p) => unreachable!("cell {p:?} for builder {b:?}"),
    }
}

/// Whether every value of an undeclared key column reads back as written
/// once typed `ty`. Keys are unique as text, so a key column is typed only
/// then: otherwise `7` and `007` would become one key twice, and `007`
/// would no longer find its account.
fn canonical_keys(ty: &FieldType, values: &Strings) -> bool {
    match ty {
        FieldType::Int => values.iter().all(|v| {
            let digits = v.strip_prefix('-').unwrap_or(v);
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && if digits.len() == 1 {
                    v != "-0"
                } else {
                    !digits.starts_with('0')
                }
        }),
        FieldType::Float | FieldType::Date | FieldType::DateTime => values.iter().all(|v| {
            parse_key(ty, None, v).is_some_and(|k| crate::plan::logical::key_text(ty, k) == v)
        }),
        FieldType::Bool => values.iter().all(|v| v == "true" || v == "false"),
        _ => true,
    }
}

fn finish_column(
    name: String,
    spec: Option<FieldSpec>,
    builder: Builder,
    len: u32,
    is_key: bool,
) -> Column {
    match builder {
        Builder::Dict { mut dict, .. } => {
            dict.resolve();
            Column {
                name,
                ty: spec.expect("declared").ty,
                data: ColumnData::Dict(DictColumn::from_parts(dict.values, dict.codes, None)),
            }
        }
        Builder::Num { keys, present } => Column {
            name,
            ty: spec.expect("declared").ty,
            data: ColumnData::Num(NumColumn::from_parts(keys.finish(), present.finish())),
        },
        Builder::Bool { trues, present } => Column {
            name,
            ty: FieldType::Bool,
            data: ColumnData::Bool(BoolColumn::from_bits(trues.finish(), present.finish())),
        },
        Builder::Set {
            dict,
            offsets,
            members,
            ..
        } => Column {
            name,
            ty: FieldType::Set,
            data: ColumnData::Set(SetColumn::from_parts(
                dict.values.to_vec(),
                offsets,
                members,
            )),
        },
        Builder::Infer { dict, inference } => {
            let mut ty = inference.decide(dict.values.len());
            if is_key && !canonical_keys(&ty, &dict.values) {
                ty = FieldType::String;
            }
            let data = match ty {
                FieldType::Int | FieldType::Float | FieldType::Date | FieldType::DateTime => {
                    let code_keys: Vec<i64> = dict
                        .values
                        .iter()
                        .map(|v| parse_key(&ty, None, v).expect("inference checked every value"))
                        .collect();
                    let mut keys = KeysBuilder::new();
                    let mut present = BitsBuilder::new();
                    for (r, c) in dict.codes.iter().enumerate() {
                        if c == MISSING {
                            keys.push(None);
                        } else {
                            keys.push(Some(code_keys[c as usize]));
                            present.push(r as u32);
                        }
                    }
                    ColumnData::Num(NumColumn::from_parts(keys.finish(), present.finish()))
                }
                FieldType::Bool => {
                    let code_bool: Vec<bool> = dict
                        .values
                        .iter()
                        .map(|v| parse_bool(v) == Some(true))
                        .collect();
                    let mut trues = BitsBuilder::new();
                    let mut present = BitsBuilder::new();
                    for (r, c) in dict.codes.iter().enumerate() {
                        if c != MISSING {
                            present.push(r as u32);
                            if code_bool[c as usize] {
                                trues.push(r as u32);
                            }
                        }
                    }
                    ColumnData::Bool(BoolColumn::from_bits(trues.finish(), present.finish()))
                }
                _ => ColumnData::Dict(DictColumn::from_parts(dict.values, dict.codes, None)),
            };
            let _ = len;
            Column { name, ty, data }
        }
    }
}

/// Finishes columns on up to two threads, most expensive first; results
/// keep the column order.
fn finish_columns(jobs: Vec<(String, Option<FieldSpec>, Builder, bool)>, len: u32) -> Vec<Column> {
    let n = jobs.len();
    let cost = |b: &Builder| match b {
        // values kept in row order are coded at finish: among the dearest
        Builder::Dict {
            dict: Dict {
                rows: Some(rows), ..
            },
            ..
        } => 3 + rows.ends.len().min(4 << 20),
        Builder::Dict { dict, .. } | Builder::Infer { dict, .. } => {
            2 + dict.values.len().min(1 << 20)
        }
        Builder::Num { .. } => 3 << 20,
        Builder::Set { .. } => 2 << 20,
        Builder::Bool { .. } => 1,
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&jobs[i].2)));
    type Job = (String, Option<FieldSpec>, Builder, bool);
    let slots: Vec<std::sync::Mutex<Option<Job>>> = jobs
        .into_iter()
        .map(|j| std::sync::Mutex::new(Some(j)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<std::sync::Mutex<Option<Column>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let work = || loop {
        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(&i) = order.get(k) else { break };
        let job = slots[i]
            .lock()
            .expect("no panics while held")
            .take()
            .expect("taken once");
        let t0 = std::time::Instant::now();
        let cname = job.0.clone();
        let column = finish_column(job.0, job.1, job.2, len, job.3);
        if tracing() {
            eprintln!("finish {cname}: {:.2} s", t0.elapsed().as_secs_f64());
        }
        *done[i].lock().expect("no panics while held") = Some(column);
    };
    let threads = if (len as usize) < (1 << 16) { 1 } else { 2 };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        work();
        for h in helpers {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    done.into_iter()
        .map(|c| {
            c.into_inner()
                .expect("no panics while held")
                .expect("every column finished")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Cell;

    fn text(cells: &[&'static str]) -> Vec<CellIn<'static>> {
        cells.iter().map(|c| CellIn::Text(c)).collect()
    }

    #[test]
    fn build_infers_types_and_keeps_missing() {
        let mut b = TableBuilder::new(
            "contacts",
            vec![
                ("id".into(), None),
                ("score".into(), None),
                ("role".into(), None),
                ("when".into(), None),
            ],
            Some(0),
        );
        b.push_row(&text(&["1", "3.5", "dm", "2026-01-01"]))
            .unwrap();
        b.push_row(&text(&["2", "", "dm", ""])).unwrap();
        b.push_row(&text(&["3", "4", "ch", "2026-01-02"])).unwrap();
        b.push_row(&text(&["4", "4", "ch", "2026-01-02"])).unwrap();
        let err = b.push_row(&text(&["4", "1", "x", ""])).unwrap_err();
        assert_eq!(
            err,
            CellError {
                column: 0,
                message: "duplicate key \"4\"".into()
            }
        );
        let t = b.finish();
        assert_eq!(t.len, 4);
        let ty: Vec<_> = t.columns.iter().map(|c| c.ty.clone()).collect();
        assert_eq!(
            ty,
            [
                FieldType::Int,
                FieldType::Float,
                FieldType::Enum { ordered: false },
                FieldType::Date
            ]
        );
        assert_eq!(t.columns[1].cell(1), Cell::Missing);
        assert_eq!(t.columns[1].cell(0), Cell::Float(3.5));
    }

    #[test]
    fn build_rejects_a_bad_row_whole() {
        let mut spec = FieldSpec::new("n", FieldType::Int);
        spec.values = None;
        let mut b = TableBuilder::new(
            "contacts",
            vec![("s".into(), None), ("n".into(), Some(spec))],
            None,
        );
        b.push_row(&text(&["a", "1"])).unwrap();
        let err = b.push_row(&text(&["b", "x1"])).unwrap_err();
        assert_eq!(err.column, 1);
        assert_eq!(err.message, "\"x1\" is not an int");
        let t = b.finish();
        assert_eq!(t.len, 1);
        assert_eq!(t.columns[0].cell(0), Cell::Text("a"));
    }

    #[test]
    fn build_checks_declared_enum_values_and_sets() {
        let mut stage = FieldSpec::new("stage", FieldType::Enum { ordered: true });
        stage.values = Some(vec!["lead".into(), "mql".into()]);
        let tags = FieldSpec::new("tags", FieldType::Set);
        let mut b = TableBuilder::new(
            "c",
            vec![("stage".into(), Some(stage)), ("tags".into(), Some(tags))],
            None,
        );
        b.push_row(&text(&["mql", "a; b;a"])).unwrap();
        let err = b.push_row(&text(&["mq", ""])).unwrap_err();
        assert!(err.message.contains("nearest: mql"), "{}", err.message);
        let t = b.finish();
        assert_eq!(t.columns[1].cell(0), Cell::Set(vec!["a", "b"]));
        assert_eq!(t.columns[0].dictionary().unwrap(), ["lead", "mql"]);
    }

    #[test]
    fn build_types_an_inferred_key_only_when_every_key_reads_back() {
        // fuzz finding (csv_ingest): keys `3` and `\x0c3` were distinct as
        // text, then one int 3 twice; the export did not load again
        let key_type = |keys: &[&'static str]| {
            let mut b = TableBuilder::new("c", vec![("id".into(), None)], Some(0));
            for k in keys {
                b.push_row(&text(&[k])).unwrap();
            }
            let t = b.finish();
            (t.columns[0].ty.clone(), t.key_text(0))
        };
        assert_eq!(
            key_type(&["1", "2", "-3", "0", "10"]),
            (FieldType::Int, "1".into())
        );
        assert_eq!(key_type(&["3", "\x0c3"]), (FieldType::String, "3".into()));
        assert_eq!(key_type(&["007", "7"]), (FieldType::String, "007".into()));
        assert_eq!(key_type(&["+1"]).0, FieldType::String);
        assert_eq!(key_type(&["-0"]).0, FieldType::String);
        assert_eq!(key_type(&["1.5", "2.25"]).0, FieldType::Float);
        assert_eq!(key_type(&["1.50"]).0, FieldType::String);
        assert_eq!(key_type(&["2026-01-01", "2026-01-02"]).0, FieldType::Date);
        assert_eq!(
            key_type(&["2026-01-01T00:00:00Z", "2026-01-01 00:00"]).0,
            FieldType::String
        );
        // not a key: normalised as documented
        let mut b = TableBuilder::new("c", vec![("n".into(), None)], None);
        b.push_row(&text(&["007"])).unwrap();
        b.push_row(&text(&["7"])).unwrap();
        let t = b.finish();
        assert_eq!(
            (t.columns[0].ty.clone(), t.columns[0].cell(0)),
            (FieldType::Int, Cell::Int(7))
        );
    }

    #[test]
    fn build_json_list_members_are_trimmed_and_exclude_the_separator() {
        // fuzz check (jsonl_ingest, export → reload): `[" c"]` came back as
        // `c`, and `["a;b"]` as two members, once written as CSV
        let tags = FieldSpec::new("tags", FieldType::Set);
        let mut b = TableBuilder::new("c", vec![("tags".into(), Some(tags))], None);
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = list(&[" c", "d ", "c", " "]);
        b.push_row(&[CellIn::List(&ok)]).unwrap();
        let bad = list(&["a;b"]);
        let err = b.push_row(&[CellIn::List(&bad)]).unwrap_err();
        assert_eq!(
            err.message,
            "set member \"a;b\" contains the separator \";\""
        );
        let t = b.finish();
        assert_eq!(t.len, 1);
        assert_eq!(t.columns[0].cell(0), Cell::Set(vec!["c", "d"]));
    }

    #[test]
    fn small_int_accepts_only_canonical_small_integers() {
        assert_eq!(small_int("0"), Some(0));
        assert_eq!(small_int("215827"), Some(215_827));
        assert_eq!(small_int("4194303"), Some(DICT_INTS - 1));
        for v in [
            "", "007", "00", "+7", "-7", " 7", "7 ", "1e3", "4194304", "12345678", "٣",
        ] {
            assert_eq!(small_int(v), None, "{v:?}");
        }
    }

    #[test]
    fn dict_codes_integers_and_their_other_spellings_apart() {
        let mut d = Dict::default();
        let values = ["7", "007", "215827", "7", "x", "0", "215827", " 7", "0"];
        let codes: Vec<(u32, bool)> = values.iter().map(|v| d.code_new(v)).collect();
        assert_eq!(
            codes,
            [
                (0, true),
                (1, true),
                (2, true),
                (0, false),
                (3, true),
                (4, true),
                (2, false),
                (5, true),
                (4, false)
            ]
        );
        for (i, v) in ["7", "007", "215827", "x", "0", " 7"].iter().enumerate() {
            assert_eq!(d.find(v), Some(i as u32), "{v:?}");
            assert_eq!(d.values.get(i), *v);
        }
        assert_eq!(d.find("8"), None);
        assert_eq!(d.find("07"), None);
        // A table grown from empty keeps finding every value.
        let mut big = Dict::default();
        for n in 0..50_000u32 {
            assert_eq!(big.code_new(&format!("v{n}")), (n, true));
        }
        assert!((0..50_000u32).all(|n| big.find(&format!("v{n}")) == Some(n)));
        // Integers past the array's cap go through the table.
        let far = (DICT_INTS + 5).to_string();
        assert_eq!(d.code_new(&far), (6, true));
        assert_eq!(d.find(&far), Some(6));
        assert_eq!(d.code_new(&far), (6, false));
    }

    #[test]
    fn short_values_past_the_short_table_are_found_in_the_hash_table() {
        let mut d = Dict::default();
        let value = |n: usize| format!("s{n}");
        let n = SHORT_MAX + 500;
        for i in 0..n {
            assert_eq!(d.code_new(&value(i)), (i as u32, true));
        }
        assert!(d.short.is_full());
        for i in 0..n {
            assert_eq!(d.find(&value(i)), Some(i as u32));
            assert_eq!(d.code_new(&value(i)), (i as u32, false));
        }
        assert_eq!(d.find("s-1"), None);
        // long values never enter the short table
        let long = "x".repeat(17);
        assert_eq!(d.code_new(&long), (n as u32, true));
        assert_eq!(d.find(&long), Some(n as u32));
        assert_eq!(d.find(&long[1..]), None);
    }

    proptest::proptest! {
        /// Two values of at most 16 bytes get the same words and length
        /// exactly when they are equal.
        #[test]
        fn short_words_tell_every_two_values_apart(
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=16),
            b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=16),
            flip in 0usize..16,
        ) {
            let words = |v: &[u8]| (short_words(v), v.len());
            proptest::prop_assert_eq!(words(&a) == words(&b), a == b);
            // and a value differing from `a` in one byte
            if !a.is_empty() {
                let mut c = a.clone();
                c[flip % a.len()] ^= 1;
                proptest::prop_assert_ne!(words(&a), words(&c));
            }
            proptest::prop_assert_eq!(short_words(&[0u8; 17]), None);
        }
    }

    #[test]
    fn key_set_holds_integer_keys_and_their_other_spellings_apart() {
        let keys: KeySet = ["7", "0", "acme", "007", "4194304", "130"]
            .into_iter()
            .map(String::from)
            .collect();
        for k in ["7", "0", "acme", "007", "4194304", "130"] {
            assert!(keys.contains(k), "{k:?}");
        }
        for k in [
            "8", "07", "+7", " 7", "ACME", "", "1", "129", "131", "4194305", "64",
        ] {
            assert!(!keys.contains(k), "{k:?}");
        }
        assert!(!KeySet::default().contains("0"));
    }

    #[test]
    fn build_codes_mostly_distinct_strings_at_finish_as_a_hash_table_would() {
        // Values like emails: mostly distinct, some repeated near and far,
        // some missing, some sharing a prefix; and a plain repeated column.
        let value = |r: usize| match r % 7 {
            0 => String::new(),
            3 => format!("dup{}@x.io", r % 50),
            5 => format!("user{}@x.io", r / 5),
            _ => format!("user{r}@x.io"),
        };
        let build = |defer: bool| {
            let cols = vec![
                (
                    "email".to_string(),
                    Some(FieldSpec::new("email", FieldType::String)),
                ),
                (
                    "city".to_string(),
                    Some(FieldSpec::new("city", FieldType::String)),
                ),
            ];
            let mut b = TableBuilder::new("c", cols, None);
            let rows: Vec<[String; 2]> = (0..20_000)
                .map(|r| [value(r), format!("c{}", r % 9)])
                .collect();
            let cell = |r: usize, i: usize| CellIn::Text(&rows[r][i]);
            b.push_batch(1000, cell).unwrap();
            if defer {
                b.reserve(rows.len());
            }
            b.push_batch(rows.len() - 1000, |r, i| cell(r + 1000, i))
                .unwrap();
            let deferred =
                matches!(&b.builders[0], Builder::Dict { dict, .. } if dict.rows.is_some());
            assert_eq!(deferred, defer);
            assert!(matches!(&b.builders[1], Builder::Dict { dict, .. } if dict.rows.is_none()));
            b.finish()
        };
        let (hashed, sorted) = (build(false), build(true));
        for c in 0..2 {
            let (ColumnData::Dict(h), ColumnData::Dict(s)) =
                (&hashed.columns[c].data, &sorted.columns[c].data)
            else {
                panic!("string columns are dictionaries");
            };
            assert_eq!(h.values, s.values);
            assert_eq!(h.codes.to_vec(), s.codes.to_vec());
            assert_eq!(h.code("dup3@x.io"), s.code("dup3@x.io"));
            assert_eq!(s.code("dup3@x.io").is_some(), c == 0);
        }
        for r in [0, 3, 5, 6, 10, 17, 19_999] {
            assert_eq!(
                hashed.columns[0].cell(r),
                sorted.columns[0].cell(r),
                "row {r}"
            );
        }
    }

    #[test]
    fn row_text_dictionary_keeps_first_occurrences_in_order() {
        let mut rows = RowText::default();
        for v in ["b", "a", "b", "", "ü", "a", "", "c"] {
            rows.push(v);
        }
        let (values, codes) = rows.into_dictionary();
        assert_eq!(values.to_vec(), ["b", "a", "", "ü", "c"]);
        assert_eq!(codes, [0, 1, 0, 2, 3, 1, 2, 4]);
    }
}
