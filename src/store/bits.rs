//! [`Bits`]: a set of row numbers kept as one chunk per block of 2^16 rows —
//! empty, full, a sorted array of the low 16 bits (sparse), or 1024 words
//! (dense). It is roaring's layout with the chunk of every block reachable
//! by index, which is what the executor needs to evaluate a whole plan one
//! block at a time in a cache-resident buffer (roaring 0.12 keeps its
//! containers private). Chunks are dense from [`SPARSE_MAX`] rows up, lower
//! than roaring's 4096, because ANDing a sorted array into a word buffer
//! costs a few ns per element and a dense chunk ~0.4 µs in all.
//!
//! Bits read and write roaring's portable serialization
//! (<https://github.com/RoaringBitmap/RoaringFormatSpec>), so conversion to
//! and from [`RoaringBitmap`] goes through it at memory speed. Snapshots
//! store every bitmap in it too (without run containers, from an 8-byte
//! aligned offset), and a loaded snapshot's chunks borrow the file's bytes
//! where they can ([`Bits::read_portable_borrowed`], [`Buf`], [`DenseWords`]).

use super::buf::{Backing, Buf};
use super::kernels;
use roaring::RoaringBitmap;
use std::ops::Range;
use std::sync::Arc;

/// Rows per block.
pub const BLOCK_ROWS: usize = 1 << 16;
/// 64-bit words per block.
pub const WORDS: usize = BLOCK_ROWS / 64;
/// One block as a bitset: bit `r % 64` of word `r / 64` is row `r`.
pub type Words = [u64; WORDS];
/// A chunk holds at most this many rows as a sorted array.
pub const SPARSE_MAX: usize = 2048;

/// The rows of one block.
#[derive(Clone, PartialEq, Eq)]
pub enum Chunk {
    Empty,
    Full,
    /// Low 16 bits of each row, ascending; 1..=SPARSE_MAX of them.
    Sparse(Buf<u16>),
    /// More than SPARSE_MAX rows, fewer than all.
    Dense {
        words: DenseWords,
        count: u32,
    },
}

/// The words of a dense chunk: owned, or borrowed from a snapshot.
#[derive(Clone, PartialEq, Eq)]
pub struct DenseWords(Buf<u64>);

impl DenseWords {
    /// A copy of `w`.
    pub fn copy(w: &Words) -> DenseWords {
        DenseWords(Buf::from(&w[..]))
    }

    /// From exactly [`WORDS`] words (checked).
    pub fn from_buf(b: Buf<u64>) -> Result<DenseWords, String> {
        if b.len() == WORDS {
            Ok(DenseWords(b))
        } else {
            Err("a dense chunk does not hold one block of words".into())
        }
    }

    /// Whether the words are borrowed from a snapshot.
    pub fn is_mapped(&self) -> bool {
        self.0.is_mapped()
    }
}

impl std::ops::Deref for DenseWords {
    type Target = Words;

    #[inline]
    fn deref(&self) -> &Words {
        self.0[..].try_into().expect("WORDS long")
    }
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Chunk::Empty => f.write_str("Empty"),
            Chunk::Full => f.write_str("Full"),
            Chunk::Sparse(s) => write!(f, "Sparse({})", s.len()),
            Chunk::Dense { count, .. } => write!(f, "Dense({count})"),
        }
    }
}

static EMPTY: Chunk = Chunk::Empty;

/// A zeroed word buffer on the heap.
pub fn zero_words() -> Box<Words> {
    vec![0u64; WORDS]
        .into_boxed_slice()
        .try_into()
        .expect("WORDS long")
}

impl Chunk {
    /// The chunk holding the set bits of `w`.
    pub fn from_words(w: &Words) -> Chunk {
        let count = kernels::popcount(w) as usize;
        Chunk::from_words_counted(w, count)
    }

    /// As [`Chunk::from_words`], when the count is known.
    pub fn from_words_counted(w: &Words, count: usize) -> Chunk {
        match count {
            0 => Chunk::Empty,
            BLOCK_ROWS => Chunk::Full,
            n if n <= SPARSE_MAX => {
                let mut out = Vec::with_capacity(n);
                push_set_bits(w, 0, &mut out);
                Chunk::Sparse(Buf::from(out))
            }
            n => Chunk::Dense {
                words: DenseWords::copy(w),
                count: n as u32,
            },
        }
    }

    /// The chunk of ascending, distinct low bits.
    pub fn from_sorted(s: &[u16]) -> Chunk {
        Chunk::from_sorted_max(s, SPARSE_MAX)
    }

    /// As [`Chunk::from_sorted`], dense above `sparse_max` rows.
    pub fn from_sorted_max(s: &[u16], sparse_max: usize) -> Chunk {
        match s.len() {
            0 => Chunk::Empty,
            BLOCK_ROWS => Chunk::Full,
            n if n <= sparse_max.min(SPARSE_MAX) => Chunk::Sparse(s.into()),
            n => {
                let mut words = vec![0u64; WORDS];
                for &x in s {
                    words[(x >> 6) as usize] |= 1 << (x & 63);
                }
                Chunk::Dense {
                    words: DenseWords(Buf::from(words)),
                    count: n as u32,
                }
            }
        }
    }

    pub fn len(&self) -> u32 {
        match self {
            Chunk::Empty => 0,
            Chunk::Full => BLOCK_ROWS as u32,
            Chunk::Sparse(s) => s.len() as u32,
            Chunk::Dense { count, .. } => *count,
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Chunk::Empty)
    }

    pub fn contains(&self, low: u16) -> bool {
        match self {
            Chunk::Empty => false,
            Chunk::Full => true,
            Chunk::Sparse(s) => s.binary_search(&low).is_ok(),
            Chunk::Dense { words, .. } => words[(low >> 6) as usize] & (1 << (low & 63)) != 0,
        }
    }

    /// Copies the chunk into `w`.
    pub fn write_to(&self, w: &mut Words) {
        match self {
            Chunk::Empty => w.fill(0),
            Chunk::Full => w.fill(!0),
            Chunk::Sparse(s) => {
                w.fill(0);
                for &x in s.iter() {
                    w[(x >> 6) as usize] |= 1 << (x & 63);
                }
            }
            Chunk::Dense { words, .. } => w.copy_from_slice(&words[..]),
        }
    }

    /// `w &= self`
    pub fn and_into(&self, w: &mut Words) {
        match self {
            Chunk::Empty => w.fill(0),
            Chunk::Full => {}
            Chunk::Sparse(s) => {
                let mut i = 0;
                let mut next = 0usize;
                while i < s.len() {
                    let wi = (s[i] >> 6) as usize;
                    w[next..wi].fill(0);
                    let mut m = 0u64;
                    while i < s.len() && (s[i] >> 6) as usize == wi {
                        m |= 1 << (s[i] & 63);
                        i += 1;
                    }
                    w[wi] &= m;
                    next = wi + 1;
                }
                w[next..].fill(0);
            }
            Chunk::Dense { words, .. } => kernels::and_assign(w, &words[..]),
        }
    }

    /// `w |= self`
    pub fn or_into(&self, w: &mut Words) {
        match self {
            Chunk::Empty => {}
            Chunk::Full => w.fill(!0),
            Chunk::Sparse(s) => {
                for &x in s.iter() {
                    w[(x >> 6) as usize] |= 1 << (x & 63);
                }
            }
            Chunk::Dense { words, .. } => kernels::or_assign(w, &words[..]),
        }
    }

    /// `w &= !self`
    pub fn andnot_into(&self, w: &mut Words) {
        match self {
            Chunk::Empty => {}
            Chunk::Full => w.fill(0),
            Chunk::Sparse(s) => {
                for &x in s.iter() {
                    w[(x >> 6) as usize] &= !(1 << (x & 63));
                }
            }
            Chunk::Dense { words, .. } => kernels::andnot_assign(w, &words[..]),
        }
    }

    /// `|w & self|`
    pub fn and_count(&self, w: &Words) -> u64 {
        match self {
            Chunk::Empty => 0,
            Chunk::Full => kernels::popcount(w),
            Chunk::Sparse(s) => s
                .iter()
                .map(|&x| (w[(x >> 6) as usize] >> (x & 63)) & 1)
                .sum(),
            Chunk::Dense { words, .. } => kernels::and_popcount(w, &words[..]),
        }
    }

    /// `|self ∩ other|`
    pub fn intersection_len(&self, other: &Chunk) -> u64 {
        match (self, other) {
            (Chunk::Empty, _) | (_, Chunk::Empty) => 0,
            (Chunk::Full, x) | (x, Chunk::Full) => x.len() as u64,
            (Chunk::Dense { words, .. }, x) | (x, Chunk::Dense { words, .. }) => x.and_count(words),
            (Chunk::Sparse(a), Chunk::Sparse(b)) => {
                let (mut i, mut j, mut n) = (0, 0, 0u64);
                while i < a.len() && j < b.len() {
                    match a[i].cmp(&b[j]) {
                        std::cmp::Ordering::Less => i += 1,
                        std::cmp::Ordering::Greater => j += 1,
                        std::cmp::Ordering::Equal => {
                            n += 1;
                            i += 1;
                            j += 1;
                        }
                    }
                }
                n
            }
        }
    }

    /// Calls `f` with each row's low 16 bits, ascending.
    pub fn for_each(&self, mut f: impl FnMut(u16)) {
        match self {
            Chunk::Empty => {}
            Chunk::Full => (0..=u16::MAX).for_each(f),
            Chunk::Sparse(s) => s.iter().for_each(|&x| f(x)),
            Chunk::Dense { words, .. } => for_each_set_bit(&words[..], |x| f(x as u16)),
        }
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Chunk::Empty | Chunk::Full => 0,
            Chunk::Sparse(s) => s.len() * 2,
            Chunk::Dense { .. } => WORDS * 8,
        }
    }
}

/// Calls `f` with the index of each set bit of `w`, ascending.
#[inline]
pub fn for_each_set_bit(w: &[u64], mut f: impl FnMut(usize)) {
    for (i, &word) in w.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            f(i * 64 + x.trailing_zeros() as usize);
            x &= x - 1;
        }
    }
}

/// Appends `base + i` for each set bit `i` of `w`.
#[inline]
pub fn push_set_bits<T: TryFrom<usize>>(w: &[u64], base: usize, out: &mut Vec<T>) {
    for_each_set_bit(w, |i| {
        if let Ok(v) = T::try_from(base + i) {
            out.push(v);
        }
    });
}

/// A set of rows, one [`Chunk`] per block of 2^16 rows.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Bits {
    chunks: Vec<Chunk>,
    len: u64,
}

impl std::fmt::Debug for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bits({} rows in {:?})", self.len, self.chunks)
    }
}

impl Bits {
    pub fn new() -> Bits {
        Bits::default()
    }

    /// Rows `0..len`.
    pub fn all(len: u32) -> Bits {
        let mut out = Bits::new();
        let full_blocks = len as usize / BLOCK_ROWS;
        out.chunks.resize(full_blocks, Chunk::Full);
        let rest = len as usize % BLOCK_ROWS;
        if rest > 0 {
            let mut w = zero_words();
            for (i, word) in w.iter_mut().enumerate() {
                let lo = i * 64;
                if lo + 64 <= rest {
                    *word = !0;
                } else if lo < rest {
                    *word = (1u64 << (rest - lo)) - 1;
                }
            }
            out.chunks.push(Chunk::from_words_counted(&w, rest));
        }
        out.len = len as u64;
        out
    }

    /// From ascending, distinct rows.
    pub fn from_sorted(rows: impl IntoIterator<Item = u32>) -> Bits {
        let mut b = BitsBuilder::new();
        for r in rows {
            b.push(r);
        }
        b.finish()
    }

    /// From chunks indexed by block.
    pub fn from_chunks(mut chunks: Vec<Chunk>) -> Bits {
        while chunks.last().is_some_and(Chunk::is_empty) {
            chunks.pop();
        }
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        Bits { chunks, len }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Blocks up to the last non-empty one.
    pub fn blocks(&self) -> usize {
        self.chunks.len()
    }

    /// The chunk of block `b` (empty past the end).
    #[inline]
    pub fn chunk(&self, b: usize) -> &Chunk {
        self.chunks.get(b).unwrap_or(&EMPTY)
    }

    pub fn contains(&self, row: u32) -> bool {
        self.chunk((row >> 16) as usize).contains(row as u16)
    }

    /// Calls `f` with each row, ascending.
    pub fn for_each(&self, mut f: impl FnMut(u32)) {
        for (b, c) in self.chunks.iter().enumerate() {
            let base = (b as u32) << 16;
            c.for_each(|x| f(base | x as u32));
        }
    }

    /// The rows, ascending.
    pub fn to_vec(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len as usize);
        self.for_each(|r| out.push(r));
        out
    }

    /// `|self ∩ other|`
    pub fn intersection_len(&self, other: &Bits) -> u64 {
        self.chunks
            .iter()
            .zip(&other.chunks)
            .map(|(a, b)| a.intersection_len(b))
            .sum()
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self.chunks.iter().map(Chunk::heap_bytes).sum::<usize>()
    }

    /// Combines two sets block by block with a word operation.
    fn combine(&self, other: &Bits, blocks: usize, op: impl Fn(&mut Words, &Chunk)) -> Bits {
        let mut w = zero_words();
        let chunks = (0..blocks)
            .map(|b| {
                self.chunk(b).write_to(&mut w);
                op(&mut w, other.chunk(b));
                Chunk::from_words(&w)
            })
            .collect();
        Bits::from_chunks(chunks)
    }

    pub fn and(&self, other: &Bits) -> Bits {
        self.combine(other, self.blocks().min(other.blocks()), |w, c| {
            c.and_into(w)
        })
    }

    pub fn or(&self, other: &Bits) -> Bits {
        self.combine(other, self.blocks().max(other.blocks()), |w, c| {
            c.or_into(w)
        })
    }

    pub fn andnot(&self, other: &Bits) -> Bits {
        self.combine(other, self.blocks(), |w, c| c.andnot_into(w))
    }

    pub fn from_roaring(r: &RoaringBitmap) -> Bits {
        let mut bytes = Vec::with_capacity(r.serialized_size());
        r.serialize_into(&mut bytes).expect("writing to memory");
        let (bits, used) = Bits::read_portable(&bytes).expect("roaring writes valid bitmaps");
        debug_assert_eq!(used, bytes.len());
        bits
    }

    pub fn to_roaring(&self) -> RoaringBitmap {
        let mut bytes = Vec::with_capacity(self.portable_size());
        self.write_portable(&mut bytes);
        RoaringBitmap::deserialize_unchecked_from(&bytes[..]).expect("bits write valid bitmaps")
    }

    /// Non-empty chunks with their block index.
    fn containers(&self) -> impl Iterator<Item = (usize, &Chunk)> {
        self.chunks
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
    }

    /// Bytes [`Bits::write_portable`] writes.
    pub fn portable_size(&self) -> usize {
        let n = self.containers().count();
        let has_run = self.chunks.iter().any(|c| matches!(c, Chunk::Full));
        let mut size = if has_run { 4 + n.div_ceil(8) } else { 8 };
        size += 4 * n;
        if !has_run || n >= NO_OFFSET_THRESHOLD {
            size += 4 * n;
        }
        for (_, c) in self.containers() {
            size += match c {
                Chunk::Full => 2 + 4,
                c if c.len() as usize <= ARRAY_MAX => 2 * c.len() as usize,
                _ => 8 * WORDS,
            };
        }
        size
    }

    /// Appends roaring's portable serialization of the set.
    pub fn write_portable(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let containers: Vec<(usize, &Chunk)> = self.containers().collect();
        let n = containers.len();
        let has_run = containers.iter().any(|(_, c)| matches!(c, Chunk::Full));
        if has_run {
            out.extend_from_slice(&(SERIAL_COOKIE | (((n - 1) as u32) << 16)).to_le_bytes());
            let mut flags = vec![0u8; n.div_ceil(8)];
            for (i, (_, c)) in containers.iter().enumerate() {
                if matches!(c, Chunk::Full) {
                    flags[i / 8] |= 1 << (i % 8);
                }
            }
            out.extend_from_slice(&flags);
        } else {
            out.extend_from_slice(&SERIAL_COOKIE_NO_RUNCONTAINER.to_le_bytes());
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for (b, c) in &containers {
            out.extend_from_slice(&(*b as u16).to_le_bytes());
            out.extend_from_slice(&((c.len() - 1) as u16).to_le_bytes());
        }
        if !has_run || n >= NO_OFFSET_THRESHOLD {
            let header_end = out.len() + 4 * n;
            let mut offset = header_end - start;
            for (_, c) in &containers {
                out.extend_from_slice(&(offset as u32).to_le_bytes());
                offset += match c {
                    Chunk::Full => 2 + 4,
                    c if c.len() as usize <= ARRAY_MAX => 2 * c.len() as usize,
                    _ => 8 * WORDS,
                };
            }
        }
        for (_, c) in &containers {
            match c {
                Chunk::Full => {
                    out.extend_from_slice(&1u16.to_le_bytes());
                    out.extend_from_slice(&0u16.to_le_bytes());
                    out.extend_from_slice(&u16::MAX.to_le_bytes());
                }
                c if c.len() as usize <= ARRAY_MAX => {
                    c.for_each(|x| out.extend_from_slice(&x.to_le_bytes()))
                }
                Chunk::Dense { words, .. } => {
                    for w in words.iter() {
                        out.extend_from_slice(&w.to_le_bytes());
                    }
                }
                _ => unreachable!("sparse chunks are arrays"),
            }
        }
    }

    /// Reads one bitmap in roaring's portable serialization from the start
    /// of `bytes`, checking every length against the input before use and
    /// every container for order and cardinality. Returns the set and the
    /// bytes it took.
    pub fn read_portable(bytes: &[u8]) -> Result<(Bits, usize), String> {
        let mut r = Reader { bytes, pos: 0 };
        let cookie = r.u32()?;
        let (n, run_flags) = if cookie & 0xFFFF == SERIAL_COOKIE {
            let n = (cookie >> 16) as usize + 1;
            let flags = r.take(n.div_ceil(8))?;
            (n, Some(flags))
        } else if cookie == SERIAL_COOKIE_NO_RUNCONTAINER {
            let n = r.u32()? as usize;
            if n > 1 << 16 {
                return Err(format!("{n} containers (at most 65536)"));
            }
            (n, None)
        } else {
            return Err("not a roaring bitmap (unknown cookie)".into());
        };
        let header = r.take(4 * n)?;
        let has_offsets = run_flags.is_none() || n >= NO_OFFSET_THRESHOLD;
        let offsets = if has_offsets {
            Some(r.take(4 * n)?)
        } else {
            None
        };
        let is_run = |i: usize| run_flags.is_some_and(|f| f[i / 8] & (1 << (i % 8)) != 0);
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut len = 0u64;
        let mut words = zero_words();
        let mut last_key: Option<u16> = None;
        for i in 0..n {
            let key = u16::from_le_bytes([header[4 * i], header[4 * i + 1]]);
            let card = u16::from_le_bytes([header[4 * i + 2], header[4 * i + 3]]) as usize + 1;
            if last_key.is_some_and(|k| k >= key) {
                return Err("container keys are not ascending".into());
            }
            last_key = Some(key);
            if let Some(o) = offsets {
                let at = u32::from_le_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
                    as usize;
                if at != r.pos {
                    return Err("a container offset does not match its position".into());
                }
            }
            let chunk = if is_run(i) {
                let runs = r.u16()? as usize;
                let data = r.take(4 * runs)?;
                words.fill(0);
                let mut total = 0usize;
                let mut next_free = 0usize;
                for k in 0..runs {
                    let start = u16::from_le_bytes([data[4 * k], data[4 * k + 1]]) as usize;
                    let length = u16::from_le_bytes([data[4 * k + 2], data[4 * k + 3]]) as usize;
                    let end = start + length;
                    if start < next_free || end > u16::MAX as usize {
                        return Err("run container with overlapping or out-of-range runs".into());
                    }
                    next_free = end + 1;
                    total += length + 1;
                    set_range(&mut words, start, end);
                }
                if total != card {
                    return Err("run container cardinality does not match its header".into());
                }
                Chunk::from_words_counted(&words, card)
            } else if card <= ARRAY_MAX {
                let data = r.take(2 * card)?;
                let mut values = Vec::with_capacity(card);
                let mut prev: Option<u16> = None;
                for k in 0..card {
                    let v = u16::from_le_bytes([data[2 * k], data[2 * k + 1]]);
                    if prev.is_some_and(|p| p >= v) {
                        return Err("array container is not strictly ascending".into());
                    }
                    prev = Some(v);
                    values.push(v);
                }
                Chunk::from_sorted(&values)
            } else {
                let data = r.take(8 * WORDS)?;
                for (k, w) in words.iter_mut().enumerate() {
                    *w = u64::from_le_bytes(data[8 * k..8 * k + 8].try_into().expect("8 bytes"));
                }
                if kernels::popcount(&words[..]) as usize != card {
                    return Err("bitmap container cardinality does not match its header".into());
                }
                Chunk::from_words_counted(&words, card)
            };
            let b = key as usize;
            if chunks.len() < b {
                chunks.resize(b, Chunk::Empty);
            }
            len += card as u64;
            chunks.push(chunk);
        }
        Ok((Bits { chunks, len }, r.pos))
    }
}

impl Bits {
    /// Bytes [`Bits::write_portable_without_runs`] writes.
    pub fn portable_size_without_runs(&self) -> usize {
        8 + self
            .containers()
            .map(|(_, c)| 8 + container_size_without_runs(c))
            .sum::<usize>()
    }

    /// Roaring's portable serialization without run containers (cookie
    /// 12346): what `RoaringBitmap::serialize_into` writes for a bitmap
    /// that was never `optimize`d, and what every roaring library reads.
    /// The cookie, the container count, a (key, rows - 1) pair and an
    /// offset per container, then the containers: a chunk of at most 4096
    /// rows as an ascending u16 array whatever its kind here, a bigger one
    /// (a full block too) as 1024 little-endian words. From an 8-byte
    /// aligned start, every array is 2-byte aligned, and a bitset is 8-byte
    /// aligned when the arrays before it hold a multiple of 4 values.
    /// `emit` gets the bytes in pieces.
    pub fn write_portable_without_runs<E>(
        &self,
        mut emit: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let containers: Vec<(usize, &Chunk)> = self.containers().collect();
        let n = containers.len();
        let mut piece: Vec<u8> = Vec::with_capacity((8 + 8 * n).max(8 * WORDS));
        piece.extend_from_slice(&SERIAL_COOKIE_NO_RUNCONTAINER.to_le_bytes());
        piece.extend_from_slice(&(n as u32).to_le_bytes());
        for (b, c) in &containers {
            piece.extend_from_slice(&(*b as u16).to_le_bytes());
            piece.extend_from_slice(&((c.len() - 1) as u16).to_le_bytes());
        }
        let mut offset = 8 + 8 * n;
        for (_, c) in &containers {
            piece.extend_from_slice(&(offset as u32).to_le_bytes());
            offset += container_size_without_runs(c);
        }
        emit(&piece)?;
        for (_, c) in &containers {
            match c {
                Chunk::Dense { words, count }
                    if *count as usize > ARRAY_MAX && cfg!(target_endian = "little") =>
                {
                    emit(bytemuck::cast_slice(&words[..]))?
                }
                Chunk::Sparse(s) if cfg!(target_endian = "little") => {
                    emit(bytemuck::cast_slice(&s[..]))?
                }
                c => {
                    piece.clear();
                    if c.len() as usize > ARRAY_MAX {
                        let mut w = zero_words();
                        c.write_to(&mut w);
                        w.iter()
                            .for_each(|x| piece.extend_from_slice(&x.to_le_bytes()));
                    } else {
                        c.for_each(|x| piece.extend_from_slice(&x.to_le_bytes()));
                    }
                    emit(&piece)?;
                }
            }
        }
        Ok(())
    }

    /// Reads one bitmap in roaring's portable serialization without run
    /// containers (as [`Bits::write_portable_without_runs`] writes it) from
    /// `keep`'s bytes `at`, borrowing what it can: arrays of at most
    /// [`SPARSE_MAX`] rows as [`Buf<u16>`], bitsets at 8-byte aligned
    /// offsets as [`DenseWords`]; a misaligned bitset is copied, and an
    /// array of more rows becomes dense words (as the executor wants).
    ///
    /// Checks before use: every length against the bytes at hand, the
    /// container count and every key against `max_blocks` (so nothing is
    /// allocated from the input's own numbers beyond that), keys strictly
    /// ascending, each offset equal to where its container starts, arrays
    /// strictly ascending, and each bitset's popcount equal to its stated
    /// rows. Returns the set and the bytes it took.
    pub fn read_portable_borrowed(
        keep: &Arc<Backing>,
        at: Range<usize>,
        max_blocks: usize,
    ) -> Result<(Bits, usize), String> {
        let start = at.start;
        let bytes = keep
            .bytes()
            .get(at)
            .ok_or("a bitmap runs past the end of the data")?;
        let mut r = Reader { bytes, pos: 0 };
        match r.u32()? {
            SERIAL_COOKIE_NO_RUNCONTAINER => {}
            c if c & 0xFFFF == SERIAL_COOKIE => {
                return Err("a bitmap has run containers (a snapshot stores none)".into())
            }
            _ => {
                return Err("a bitmap is not in roaring's portable format (unknown cookie)".into())
            }
        }
        let n = r.u32()? as usize;
        if n > max_blocks {
            return Err(format!(
                "a bitmap has {n} containers for a table of {max_blocks} blocks"
            ));
        }
        let header = r.take(4 * n)?;
        let offsets = r.take(4 * n)?;
        let mut chunks: Vec<Chunk> = Vec::with_capacity(n);
        let mut len = 0u64;
        for i in 0..n {
            let key = u16::from_le_bytes([header[4 * i], header[4 * i + 1]]) as usize;
            let card = u16::from_le_bytes([header[4 * i + 2], header[4 * i + 3]]) as usize + 1;
            if key < chunks.len() {
                return Err("bitmap container keys are not ascending".into());
            }
            if key >= max_blocks {
                return Err(format!(
                    "a bitmap container's key {key} is past the table's {max_blocks} blocks"
                ));
            }
            let o = &offsets[4 * i..4 * i + 4];
            if u32::from_le_bytes([o[0], o[1], o[2], o[3]]) as usize != r.pos {
                return Err("a bitmap container offset does not match its position".into());
            }
            let chunk = if card <= ARRAY_MAX {
                let from = start + r.pos;
                r.take(2 * card)?;
                let s: Buf<u16> = Buf::mapped_or_copied(keep, from..from + 2 * card)?;
                if !strictly_ascending(&s) {
                    return Err("a bitmap array container is not strictly ascending".into());
                }
                if card <= SPARSE_MAX {
                    Chunk::Sparse(s)
                } else {
                    let mut w = zero_words();
                    for &x in s.iter() {
                        w[(x >> 6) as usize] |= 1 << (x & 63);
                    }
                    Chunk::Dense {
                        words: DenseWords(Buf::from(w as Box<[u64]>)),
                        count: card as u32,
                    }
                }
            } else {
                let from = start + r.pos;
                r.take(8 * WORDS)?;
                let words =
                    DenseWords::from_buf(Buf::mapped_or_copied(keep, from..from + 8 * WORDS)?)?;
                if kernels::popcount(&words[..]) as usize != card {
                    return Err("a bitmap container's rows do not match its words".into());
                }
                if card == BLOCK_ROWS {
                    Chunk::Full
                } else {
                    Chunk::Dense {
                        words,
                        count: card as u32,
                    }
                }
            };
            chunks.resize(key, Chunk::Empty);
            chunks.push(chunk);
            len += card as u64;
        }
        Ok((Bits { chunks, len }, r.pos))
    }
}

/// Whether `s` is strictly ascending (no early exit, so it vectorises).
fn strictly_ascending(s: &[u16]) -> bool {
    let tail = s.get(1..).unwrap_or_default();
    !s.iter().zip(tail).fold(false, |bad, (a, b)| bad | (a >= b))
}

/// Bytes of a chunk's container in the portable format without runs.
fn container_size_without_runs(c: &Chunk) -> usize {
    if c.len() as usize <= ARRAY_MAX {
        2 * c.len() as usize
    } else {
        8 * WORDS
    }
}

const SERIAL_COOKIE_NO_RUNCONTAINER: u32 = 12346;
const SERIAL_COOKIE: u32 = 12347;
const NO_OFFSET_THRESHOLD: usize = 4;
/// Containers of at most this many values are arrays in the portable format.
const ARRAY_MAX: usize = 4096;

/// Sets bits `start..=end` of a block.
pub fn set_range(w: &mut Words, start: usize, end: usize) {
    let (a, b) = (start / 64, end / 64);
    let lo_mask = !0u64 << (start % 64);
    let hi_mask = !0u64 >> (63 - end % 64);
    if a == b {
        w[a] |= lo_mask & hi_mask;
    } else {
        w[a] |= lo_mask;
        w[a + 1..b].fill(!0);
        w[b] |= hi_mask;
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("bitmap is truncated")?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Builds [`Bits`] from ascending rows.
#[derive(Debug)]
pub struct BitsBuilder {
    chunks: Vec<Chunk>,
    block: usize,
    current: Vec<u16>,
    len: u64,
    sparse_max: usize,
}

impl Default for BitsBuilder {
    fn default() -> BitsBuilder {
        BitsBuilder::with_sparse_max(SPARSE_MAX)
    }
}

impl BitsBuilder {
    pub fn new() -> BitsBuilder {
        BitsBuilder::default()
    }

    /// A builder whose chunks are dense above `sparse_max` rows (at most
    /// [`SPARSE_MAX`]): for bitmaps read word by word.
    pub fn with_sparse_max(sparse_max: usize) -> BitsBuilder {
        BitsBuilder {
            chunks: Vec::new(),
            block: 0,
            current: Vec::new(),
            len: 0,
            sparse_max,
        }
    }

    /// Adds a row larger than every row added before.
    #[inline]
    pub fn push(&mut self, row: u32) {
        let b = (row >> 16) as usize;
        if b != self.block {
            self.flush();
            self.block = b;
        }
        debug_assert!(
            self.current.last().is_none_or(|&l| l < row as u16),
            "rows ascend"
        );
        self.current.push(row as u16);
    }

    fn flush(&mut self) {
        if self.current.is_empty() {
            return;
        }
        if self.chunks.len() < self.block {
            self.chunks.resize(self.block, Chunk::Empty);
        }
        self.len += self.current.len() as u64;
        self.chunks
            .push(Chunk::from_sorted_max(&self.current, self.sparse_max));
        self.current.clear();
    }

    /// Adds a whole block as words (blocks ascending, after any pushed rows).
    pub fn push_words(&mut self, block: usize, w: &Words, count: usize) {
        self.flush();
        if count == 0 {
            return;
        }
        if self.chunks.len() < block {
            self.chunks.resize(block, Chunk::Empty);
        }
        self.len += count as u64;
        self.chunks.push(Chunk::from_words_counted(w, count));
        self.block = block + 1;
    }

    pub fn finish(mut self) -> Bits {
        self.flush();
        Bits::from_chunks(self.chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_rows(seed: u64, n: u32, density: f64) -> Vec<u32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).filter(|_| rng.gen_bool(density)).collect()
    }

    fn shapes() -> Vec<Vec<u32>> {
        let mut out = vec![
            vec![],
            vec![0],
            vec![65535, 65536],
            (0..65536 * 2 + 17).collect(),
            (70_000..200_000).collect(),
        ];
        for (i, d) in [0.001, 0.02, 0.04, 0.3, 0.99].into_iter().enumerate() {
            out.push(random_rows(i as u64, 300_000, d));
        }
        out
    }

    #[test]
    fn bits_round_trip_through_roaring_both_ways() {
        for rows in shapes() {
            let bits = Bits::from_sorted(rows.iter().copied());
            assert_eq!(bits.len(), rows.len() as u64);
            assert_eq!(bits.to_vec(), rows);
            let roaring = bits.to_roaring();
            assert_eq!(roaring.iter().collect::<Vec<_>>(), rows);
            assert_eq!(Bits::from_roaring(&roaring), bits);
            // roaring reads what Bits write, with its own validation
            let mut bytes = Vec::new();
            bits.write_portable(&mut bytes);
            assert_eq!(bytes.len(), bits.portable_size());
            let checked = RoaringBitmap::deserialize_from(&bytes[..]).unwrap();
            assert_eq!(checked, roaring);
            // and Bits read roaring's run containers
            let mut optimized = roaring.clone();
            optimized.optimize();
            assert_eq!(Bits::from_roaring(&optimized), bits);
        }
    }

    #[test]
    fn bits_set_operations_match_roaring() {
        let sets: Vec<Vec<u32>> = shapes();
        for a in &sets {
            for b in &sets {
                let (ba, bb) = (
                    Bits::from_sorted(a.iter().copied()),
                    Bits::from_sorted(b.iter().copied()),
                );
                let (ra, rb): (RoaringBitmap, RoaringBitmap) =
                    (a.iter().copied().collect(), b.iter().copied().collect());
                assert_eq!(ba.and(&bb).to_roaring(), &ra & &rb);
                assert_eq!(ba.or(&bb).to_roaring(), &ra | &rb);
                assert_eq!(ba.andnot(&bb).to_roaring(), &ra - &rb);
                assert_eq!(ba.intersection_len(&bb), ra.intersection_len(&rb));
            }
        }
    }

    #[test]
    fn bits_all_covers_exactly_the_rows() {
        for len in [0u32, 1, 63, 64, 65_535, 65_536, 65_537, 200_001] {
            let all = Bits::all(len);
            assert_eq!(all.len(), len as u64);
            assert_eq!(all.to_roaring(), (0..len).collect::<RoaringBitmap>());
        }
    }

    fn without_runs(bits: &Bits) -> Vec<u8> {
        let mut out = Vec::new();
        bits.write_portable_without_runs(|p| {
            out.extend_from_slice(p);
            Ok::<(), ()>(())
        })
        .unwrap();
        out
    }

    /// `bytes` at offset 8 of a backing, read back with `max_blocks`.
    fn borrowed(bytes: &[u8], max_blocks: usize) -> Result<(Bits, usize), String> {
        let mut file = vec![0u8; 8];
        file.extend_from_slice(bytes);
        let keep = Arc::new(Backing::copy(&file));
        Bits::read_portable_borrowed(&keep, 8..file.len(), max_blocks)
    }

    #[test]
    fn bits_portable_without_runs_is_what_roaring_writes() {
        let mut shapes = shapes();
        // blocks of 2049..=4096 rows: dense here, arrays in the portable format
        shapes.push(random_rows(7, 200_000, 0.05));
        for rows in shapes {
            let bits = Bits::from_sorted(rows.iter().copied());
            let bytes = without_runs(&bits);
            assert_eq!(bytes.len(), bits.portable_size_without_runs());
            let roaring = RoaringBitmap::from_sorted_iter(rows.iter().copied()).unwrap();
            let mut theirs = Vec::new();
            roaring.serialize_into(&mut theirs).unwrap();
            assert_eq!(bytes, theirs, "{} rows", rows.len());
            assert_eq!(
                RoaringBitmap::deserialize_from(&bytes[..]).unwrap(),
                roaring
            );
            let (back, used) = borrowed(&bytes, 1 << 16).unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(back, bits, "{} rows", rows.len());
        }
    }

    #[test]
    fn bits_borrow_arrays_and_aligned_bitsets_and_copy_the_rest() {
        let dense = |b: u32| {
            random_rows(b as u64, 65_536, 0.4)
                .into_iter()
                .map(move |r| (b << 16) | r)
        };
        let kinds = |bits: &Bits| -> Vec<(&'static str, bool)> {
            (0..bits.blocks())
                .map(|b| match bits.chunk(b) {
                    Chunk::Sparse(s) => ("sparse", s.is_mapped()),
                    Chunk::Dense { words, .. } => ("dense", words.is_mapped()),
                    Chunk::Full => ("full", false),
                    Chunk::Empty => ("empty", false),
                })
                .collect()
        };
        // 3 rows (6 bytes) before the words: the bitsets after it are misaligned
        let odd = Bits::from_sorted([5, 9, 700].into_iter().chain(dense(1)).chain(dense(3)));
        let (back, _) = borrowed(&without_runs(&odd), 4).unwrap();
        assert_eq!(back, odd);
        let want = [
            ("sparse", true),
            ("dense", false),
            ("empty", false),
            ("dense", false),
        ];
        assert_eq!(kinds(&back), want);
        // 4 rows (8 bytes): aligned again
        let even = Bits::from_sorted(
            dense(0)
                .chain([65_536 + 3, 65_536 + 4, 65_536 + 8, 65_536 + 9])
                .chain(dense(2))
                .chain((3 << 16)..(4 << 16)),
        );
        let (back, _) = borrowed(&without_runs(&even), 4).unwrap();
        assert_eq!(back, even);
        let want = [
            ("dense", true),
            ("sparse", true),
            ("dense", true),
            ("full", false),
        ];
        assert_eq!(kinds(&back), want);
    }

    #[test]
    fn bits_strictly_ascending_sees_every_pair() {
        assert!(strictly_ascending(&[]) && strictly_ascending(&[7]));
        let mut s: Vec<u16> = (0..3000).map(|i| i * 3).collect();
        assert!(strictly_ascending(&s));
        for at in [2, 1500, 2999] {
            let keep = s[at];
            s[at] = s[at - 1];
            assert!(!strictly_ascending(&s), "equal at {at}");
            s[at] = s[at - 1] - 1;
            assert!(!strictly_ascending(&s), "descending at {at}");
            s[at] = keep;
        }
    }

    #[test]
    fn bits_portable_reader_checks_everything_before_use() {
        let bits = Bits::from_sorted([1, 2, 3].into_iter().chain((1 << 16)..(1 << 16) + 5000));
        let good = without_runs(&bits);
        assert!(borrowed(&good, 2).is_ok());
        for cut in 0..good.len() {
            assert!(borrowed(&good[..cut], 2).is_err(), "truncated at {cut}");
        }
        let err = |f: &dyn Fn(&mut Vec<u8>), max: usize| {
            let mut b = good.clone();
            f(&mut b);
            borrowed(&b, max).expect_err("refused")
        };
        // layout: cookie, n = 2, (0, 2), (1, 4999), offsets 24, 30, [1, 2, 3], words
        assert!(err(&|_| {}, 1).contains("2 containers for a table of 1 blocks"));
        assert!(err(&|b| b[0] = 0x3b, 2).contains("run containers"));
        assert!(err(&|b| b[0] = 0, 2).contains("unknown cookie"));
        assert!(err(&|b| b[12] = 0, 2).contains("not ascending"));
        assert!(err(&|b| b[12] = 2, 2).contains("key 2 is past the table's 2 blocks"));
        assert!(err(&|b| b[20] = 25, 2).contains("offset does not match"));
        assert!(err(&|b| b[26] = 3, 2).contains("not strictly ascending"));
        assert!(err(&|b| b[10] = 3, 2).contains("offset does not match"));
        assert!(err(&|b| b[40] ^= 1, 2).contains("rows do not match its words"));
        assert!(err(&|b| b[6] = 0xff, 1 << 24).contains("truncated"));
        // every flipped byte: refused or read, never a panic
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x81;
            let _ = borrowed(&b, 2);
        }
    }

    #[test]
    fn bits_reject_damaged_input_without_panicking() {
        let bits = Bits::from_sorted(
            random_rows(9, 150_000, 0.05)
                .into_iter()
                .chain(200_000..270_000),
        );
        let mut bytes = Vec::new();
        bits.write_portable(&mut bytes);
        for cut in 0..bytes.len() {
            assert!(
                Bits::read_portable(&bytes[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        assert!(Bits::read_portable(&[0xff; 8]).is_err());
    }
}
