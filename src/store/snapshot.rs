//! Snapshots (`.segx`): a loaded store with every index, in one file that
//! loads at memory speed (`segq index --data P --out FILE.segx`, then
//! `--data FILE.segx` anywhere).
//!
//! Layout: a 32-byte header, then the content.
//!
//! | bytes  | field |
//! |--------|-------|
//! | 0..8   | magic `SEGQSNAP` |
//! | 8..12  | format version (u32, little-endian), [`VERSION`] |
//! | 12..16 | reserved, zero |
//! | 16..24 | content length in bytes (u64) |
//! | 24..32 | XXH3-64 of the content (u64) |
//!
//! The content is the contacts table, the optional accounts table and the
//! link, each a sequence of little-endian fields; every variable-length
//! field carries its length first. Every array starts at a file offset that
//! is a multiple of 8 (zero padding after its length), so a loaded snapshot
//! borrows its big arrays — codes, string text, offsets, packed keys, the
//! containers of bitmaps — straight from the memory-mapped file ([`Buf`])
//! instead of copying them. Each column's body is prefixed with its length,
//! so columns are decoded on two threads while a third pass hashes the file.
//!
//! Every bitmap is exactly roaring's portable serialization without run
//! containers (<https://github.com/RoaringBitmap/RoaringFormatSpec>; what
//! `RoaringBitmap::serialize_into` writes, so any roaring library reads
//! it from the file): the cookie 12346, the container count, a (key,
//! rows - 1) pair and a u32 offset per 2^16-row block that holds rows,
//! then the containers — an ascending u16 array for at most 4096 rows,
//! 1024 little-endian words above (a full block too). Zero padding before
//! it puts it at an 8-byte file offset, so its header is 8 + 8n bytes and
//! its first container is 8-aligned: arrays are borrowed as they are, a
//! bitset is borrowed when the arrays before it hold a multiple of 4 values
//! and copied otherwise, and an array of more than
//! [`SPARSE_MAX`](super::bits::SPARSE_MAX) rows is turned into words for
//! the executor ([`Bits::read_portable_borrowed`]).
//!
//! Reading checks, in this order, before anything is allocated from the
//! file's own numbers: the magic, the version (a newer one is refused by
//! name, an older one — 1 and 2 — with "rebuild it"), that the file is
//! exactly header + content long. Then every length is checked against the
//! bytes that remain before it is used, and every code, row, offset, chunk
//! count and sort order against the table it belongs to (in each bitmap:
//! container count and keys below the table's block count, keys ascending,
//! offsets where the containers are, arrays strictly ascending, each
//! bitset's popcount equal to its stated rows; all bitmaps together span
//! at most as many blocks as the content has bytes, plus 2^20) — so a
//! truncated, corrupted or foreign file is an error, never a panic or an
//! allocation sized by untrusted bytes. The checksum over the whole
//! content is computed alongside and compared before the store is
//! returned: a mismatch is reported as such, whatever the parse found.
//!
//! Writing goes to a temporary file in the target directory, which is
//! fsynced and then renamed over the target (and the directory fsynced), so
//! a crash leaves the old file or the new one, never a torn one — and a
//! process that has the old one mapped keeps reading the old inode.

use super::bits::{Bits, BLOCK_ROWS};
use super::buf::{Backing, Buf, Plain, Text};
use super::column::{
    BoolColumn, Codes, DictColumn, KeyBlock, Keys, NumColumn, Offsets, PostingsOwned,
    PostingsParts, Raw, SetColumn, Strings,
};
use super::{AccountLink, Column, ColumnData, Store, Table};
use crate::schema::FieldType;
use std::io::{Read, Seek, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use xxhash_rust::xxh3::Xxh3;

pub const MAGIC: &[u8; 8] = b"SEGQSNAP";
/// The format version this build writes and reads.
pub const VERSION: u32 = 3;
const HEADER: usize = 32;

/// Writes `store` to `path` atomically.
pub fn write(store: &Store, path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".segx-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let (len, hash) = {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        out.write_all(&[0u8; HEADER])?;
        let mut w = Writer::new(&mut out);
        write_store(&mut w, store)?;
        let result = (w.len, w.hasher.digest());
        out.flush()?;
        result
    };
    let file = tmp.as_file_mut();
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(&header(len, hash))?;
    // tempfile creates files readable by the owner only; a snapshot is data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The snapshot as bytes (for tests and benches).
pub fn to_bytes(store: &Store) -> Vec<u8> {
    let mut content = Vec::new();
    let mut w = Writer::new(&mut content);
    write_store(&mut w, store).expect("writing to memory");
    let (len, hash) = (w.len, w.hasher.digest());
    let mut out = header(len, hash).to_vec();
    out.extend_from_slice(&content);
    out
}

fn header(len: u64, hash: u64) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&len.to_le_bytes());
    h[24..32].copy_from_slice(&hash.to_le_bytes());
    h
}

/// Whether a file starts like a snapshot (for error messages on `.segx`).
pub fn looks_like_snapshot(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == MAGIC
}

/// Checks a header against the file length; returns the content length.
fn check_header(h: &[u8], file_len: u64) -> Result<(u64, u64), String> {
    if h.len() < HEADER {
        return Err(format!(
            "not a segq snapshot: {} bytes is shorter than the header",
            h.len()
        ));
    }
    if &h[..8] != MAGIC {
        return Err(
            "not a segq snapshot (no SEGQSNAP magic at the start); build one with `segq index`"
                .into(),
        );
    }
    let version = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
    if version > VERSION {
        return Err(format!(
            "snapshot format version {version} is newer than this segq reads ({VERSION}); rebuild it with `segq index` or upgrade segq"
        ));
    }
    if version != VERSION {
        return Err(format!("snapshot format version {version} is not supported (this segq reads {VERSION}); rebuild it with `segq index`"));
    }
    if h[12..16] != [0; 4] {
        return Err("the snapshot header is corrupted (reserved bytes are set)".into());
    }
    let len = u64::from_le_bytes(h[16..24].try_into().expect("8 bytes"));
    let hash = u64::from_le_bytes(h[24..32].try_into().expect("8 bytes"));
    if Some(file_len) != len.checked_add(HEADER as u64) {
        let expected = len.saturating_add(HEADER as u64);
        return Err(if file_len < expected {
            format!("the snapshot is truncated: {file_len} bytes of {expected}")
        } else {
            format!(
                "the snapshot has {} bytes after its end",
                file_len - expected
            )
        });
    }
    Ok((len, hash))
}

/// Reads a snapshot file: maps it, and decodes it borrowing its arrays
/// from the map (the checksum is computed alongside and compared before
/// the store is returned).
pub fn read(path: &Path) -> Result<Store, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut h = [0u8; HEADER];
    let got = read_up_to(&mut file, &mut h).map_err(|e| e.to_string())?;
    let (_, hash) = check_header(&h[..got], file_len)?;
    let backing = Backing::map(&file).map_err(|e| e.to_string())?;
    if backing.bytes().len() as u64 != file_len || backing.bytes()[..HEADER] != h {
        return Err("the snapshot changed while it was being opened".into());
    }
    read_backing(Arc::new(backing), hash)
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads a snapshot from bytes (copied once, to align its arrays), on
/// this thread.
pub fn from_bytes(bytes: &[u8]) -> Result<Store, String> {
    let (_, hash) = check_header(bytes, bytes.len() as u64)?;
    // All of it is at hand: check the sum before parsing anything.
    if xxhash_rust::xxh3::xxh3_64(&bytes[HEADER..]) != hash {
        return Err(CORRUPTED.into());
    }
    let keep = Arc::new(Backing::copy(bytes));
    let (start, list) = read_start(&keep).map_err(malformed)?;
    let link = read_link(&keep, &start);
    list.work();
    assemble(start, &list, link.map_err(malformed)?).map_err(malformed)
}

fn malformed(e: String) -> String {
    format!("the snapshot is malformed: {e}")
}

const CORRUPTED: &str =
    "the snapshot is corrupted (checksum mismatch); rebuild it with `segq index`";

/// Decodes the content of a checked header + content: a helper thread
/// hashes the content and then decodes columns; this thread reads the
/// table headers and the link, then decodes columns too. The checksum is
/// compared before anything decoded is returned.
fn read_backing(keep: Arc<Backing>, hash: u64) -> Result<Store, String> {
    let (tx, rx) = std::sync::mpsc::channel::<Arc<JobList>>();
    let keep_ref = &keep;
    let (parsed, digest) = std::thread::scope(|scope| {
        let helper = scope.spawn(move || {
            let digest = xxhash_rust::xxh3::xxh3_64(&keep_ref.bytes()[HEADER..]);
            if let Ok(list) = rx.recv() {
                list.work();
            }
            digest
        });
        let parsed = match read_start(keep_ref) {
            Ok((start, list)) => {
                let _ = tx.send(Arc::clone(&list));
                drop(tx);
                let link = read_link(keep_ref, &start);
                list.work();
                Ok((start, list, link))
            }
            Err(e) => {
                drop(tx);
                Err(e)
            }
        };
        let digest = helper
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (parsed, digest)
    });
    if digest != hash {
        return Err(CORRUPTED.into());
    }
    parsed
        .and_then(|(start, list, link)| assemble(start, &list, link?))
        .map_err(malformed)
}

// ---------------------------------------------------------------- writing

struct Writer<'a> {
    out: &'a mut dyn Write,
    hasher: Xxh3,
    len: u64,
    scratch: Vec<u8>,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut dyn Write) -> Writer<'a> {
        Writer {
            out,
            hasher: Xxh3::new(),
            len: 0,
            scratch: Vec::new(),
        }
    }

    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hasher.update(b);
        self.len += b.len() as u64;
        self.out.write_all(b)
    }

    /// Zeros up to the next multiple of 8.
    fn pad(&mut self) -> std::io::Result<()> {
        let n = (8 - self.len % 8) % 8;
        self.raw(&[0u8; 8][..n as usize])
    }

    fn u8(&mut self, v: u8) -> std::io::Result<()> {
        self.raw(&[v])
    }

    fn u32(&mut self, v: u32) -> std::io::Result<()> {
        self.raw(&v.to_le_bytes())
    }

    fn u64(&mut self, v: u64) -> std::io::Result<()> {
        self.raw(&v.to_le_bytes())
    }

    fn i64(&mut self, v: i64) -> std::io::Result<()> {
        self.raw(&v.to_le_bytes())
    }

    /// A count, padding, then the bytes.
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.u64(b.len() as u64)?;
        self.pad()?;
        self.raw(b)
    }

    fn str(&mut self, s: &str) -> std::io::Result<()> {
        self.bytes(s.as_bytes())
    }

    /// A count, padding, then the items as little-endian bytes.
    fn array<T: Copy, const N: usize>(
        &mut self,
        items: &[T],
        to_le: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<()> {
        self.u64(items.len() as u64)?;
        self.pad()?;
        self.items(items, to_le)
    }

    /// Items as little-endian bytes, in large pieces.
    fn items<T: Copy, const N: usize>(
        &mut self,
        items: &[T],
        to_le: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        for piece in items.chunks(1 << 16) {
            scratch.clear();
            for &x in piece {
                scratch.extend_from_slice(&to_le(x));
            }
            self.raw(&scratch)?;
        }
        self.scratch = scratch;
        Ok(())
    }

    fn u32s(&mut self, v: &[u32]) -> std::io::Result<()> {
        self.array(v, u32::to_le_bytes)
    }

    /// Padding, then the set in roaring's portable serialization (no run
    /// containers), which borrows in place when read.
    fn bits(&mut self, b: &Bits) -> std::io::Result<()> {
        self.pad()?;
        b.write_portable_without_runs(|piece| self.raw(piece))
    }

    fn codes(&mut self, c: &Codes) -> std::io::Result<()> {
        match c {
            Codes::U8(v) => {
                self.u8(1)?;
                self.bytes(v)
            }
            Codes::U16(v) => {
                self.u8(2)?;
                self.array(v, u16::to_le_bytes)
            }
            Codes::U32(v) => {
                self.u8(4)?;
                self.u32s(v)
            }
        }
    }

    fn offsets(&mut self, o: &Offsets) -> std::io::Result<()> {
        let (ends, wraps) = o.parts();
        self.u32s(ends)?;
        self.u32s(wraps)
    }
}

fn type_tag(t: &FieldType) -> u8 {
    match t {
        FieldType::Enum { ordered: false } => 0,
        FieldType::Enum { ordered: true } => 1,
        FieldType::String => 2,
        FieldType::Int => 3,
        FieldType::Float => 4,
        FieldType::Bool => 5,
        FieldType::Date => 6,
        FieldType::DateTime => 7,
        FieldType::Set => 8,
        FieldType::Ref => 9,
    }
}

fn tag_type(t: u8) -> Result<FieldType, String> {
    Ok(match t {
        0 => FieldType::Enum { ordered: false },
        1 => FieldType::Enum { ordered: true },
        2 => FieldType::String,
        3 => FieldType::Int,
        4 => FieldType::Float,
        5 => FieldType::Bool,
        6 => FieldType::Date,
        7 => FieldType::DateTime,
        8 => FieldType::Set,
        9 => FieldType::Ref,
        _ => return Err(format!("unknown field type {t}")),
    })
}

fn write_store(w: &mut Writer<'_>, store: &Store) -> std::io::Result<()> {
    write_table(w, &store.contacts)?;
    match &store.accounts {
        Some(a) => {
            w.u8(1)?;
            write_table(w, a)?;
        }
        None => w.u8(0)?,
    }
    match &store.link {
        Some(l) => {
            w.u8(1)?;
            w.u32(l.field as u32)?;
            // (the contacts of each account follow from it)
            w.u32s(&l.account_of)?;
        }
        None => w.u8(0)?,
    }
    Ok(())
}

fn write_table(w: &mut Writer<'_>, t: &Table) -> std::io::Result<()> {
    w.str(&t.name)?;
    w.u32(t.len)?;
    w.u32(t.key.map_or(u32::MAX, |k| k as u32))?;
    w.u32(t.columns.len() as u32)?;
    for (c, sep) in t.columns.iter().zip(&t.separators) {
        w.str(&c.name)?;
        w.u8(type_tag(&c.ty))?;
        w.str(sep)?;
        // The body, prefixed with its length, from an 8-aligned offset.
        let mut body = Vec::new();
        let mut bw = Writer::new(&mut body);
        write_column(&mut bw, c)?;
        w.pad()?;
        w.bytes(&body)?;
    }
    Ok(())
}

fn write_column(w: &mut Writer<'_>, c: &Column) -> std::io::Result<()> {
    match &c.data {
        ColumnData::Dict(d) => {
            w.u8(0)?;
            let (text, ends) = d.values.parts();
            w.str(text)?;
            w.offsets(ends)?;
            w.codes(&d.codes)?;
            w.bits(d.present_bits())?;
            match d.postings_parts() {
                PostingsParts::Bitmaps(b) => {
                    w.u8(0)?;
                    w.u64(b.len() as u64)?;
                    for x in b {
                        w.bits(x)?;
                    }
                }
                PostingsParts::Sorted => w.u8(1)?,
            }
        }
        ColumnData::Num(n) => {
            w.u8(1)?;
            w.u64(n.keys.len() as u64)?;
            w.u64(n.keys.blocks().len() as u64)?;
            for kb in n.keys.blocks() {
                w.i64(kb.base)?;
                w.i64(kb.scale)?;
                match &kb.raw {
                    Raw::Const => w.u8(0)?,
                    Raw::U8(v) => {
                        w.u8(1)?;
                        w.bytes(v)?;
                    }
                    Raw::U16(v) => {
                        w.u8(2)?;
                        w.array(v, u16::to_le_bytes)?;
                    }
                    Raw::U32(v) => {
                        w.u8(4)?;
                        w.u32s(v)?;
                    }
                    Raw::I64(v) => {
                        w.u8(8)?;
                        w.array(v, i64::to_le_bytes)?;
                    }
                }
            }
            w.bits(n.present_bits())?;
            let (buckets, coarse, ge, distinct) = n.index_parts();
            w.u64(buckets.len() as u64)?;
            for (min, max, count, rows) in buckets {
                w.i64(min)?;
                w.i64(max)?;
                w.u64(count)?;
                w.bits(rows)?;
            }
            w.u32s(coarse)?;
            w.u64(ge.len() as u64)?;
            for b in ge {
                w.bits(b)?;
            }
            match distinct {
                Some(d) => {
                    w.u8(1)?;
                    w.array(d, |(k, n): (i64, u64)| {
                        let mut b = [0u8; 16];
                        b[..8].copy_from_slice(&k.to_le_bytes());
                        b[8..].copy_from_slice(&n.to_le_bytes());
                        b
                    })?;
                }
                None => w.u8(0)?,
            }
        }
        ColumnData::Bool(b) => {
            w.u8(2)?;
            w.bits(b.trues_bits())?;
            w.bits(b.present_bits())?;
        }
        ColumnData::Set(s) => {
            w.u8(3)?;
            w.u64(s.values.len() as u64)?;
            for v in &s.values {
                w.str(v)?;
            }
            let (offsets, members) = s.parts();
            w.offsets(offsets)?;
            w.codes(members)?;
            w.u64(s.member_parts().len() as u64)?;
            for b in s.member_parts() {
                w.bits(b)?;
            }
            w.bits(s.present_bits())?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- reading

type R<T> = Result<T, String>;

/// A cursor over `keep`'s bytes `pos..end`; arrays it returns borrow them.
struct Reader<'a> {
    keep: &'a Arc<Backing>,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    /// Blocks of 2^16 rows in the table being read: no bitmap reaches past them.
    blocks: usize,
    /// Block slots the bitmaps of the whole file may still take ([`JobList::slots`]).
    slots: Option<&'a AtomicUsize>,
}

impl<'a> Reader<'a> {
    fn new(keep: &'a Arc<Backing>, range: Range<usize>) -> Reader<'a> {
        Reader {
            keep,
            bytes: keep.bytes(),
            pos: range.start,
            end: range.end,
            blocks: 1 << 16,
            slots: None,
        }
    }

    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn take(&mut self, n: usize) -> R<Range<usize>> {
        if n > self.remaining() {
            return Err("unexpected end of data".into());
        }
        let r = self.pos..self.pos + n;
        self.pos += n;
        Ok(r)
    }

    fn slice(&mut self, n: usize) -> R<&'a [u8]> {
        let r = self.take(n)?;
        Ok(&self.bytes[r])
    }

    /// Skips the zeros up to the next multiple of 8.
    fn pad(&mut self) -> R<()> {
        let n = (8 - self.pos % 8) % 8;
        if self.slice(n)?.iter().any(|&b| b != 0) {
            return Err("nonzero padding".into());
        }
        Ok(())
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.slice(1)?[0])
    }

    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(
            self.slice(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(
            self.slice(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn i64(&mut self) -> R<i64> {
        Ok(self.u64()? as i64)
    }

    /// A count of items of `size` bytes each, checked against what remains.
    fn count(&mut self, size: usize) -> R<usize> {
        let n = self.u64()?;
        if n.checked_mul(size.max(1) as u64)
            .is_none_or(|b| b > self.remaining() as u64)
        {
            return Err(format!("a length of {n} runs past the end of the data"));
        }
        Ok(n as usize)
    }

    /// A count, padding, then that many items, borrowed.
    fn buf<T: Plain>(&mut self) -> R<Buf<T>> {
        let size = std::mem::size_of::<T>();
        let n = self.count(size)?;
        self.pad()?;
        let at = self.take(n * size)?;
        Buf::mapped(self.keep, at)
    }

    fn string(&mut self) -> R<String> {
        let n = self.count(1)?;
        self.pad()?;
        let b = self.slice(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }

    fn text(&mut self) -> R<Text> {
        let n = self.count(1)?;
        self.pad()?;
        let at = self.take(n)?;
        Text::mapped(self.keep, at)
    }

    /// Padding, then one set in roaring's portable serialization.
    fn bits(&mut self) -> R<Bits> {
        self.pad()?;
        let (bits, used) =
            Bits::read_portable_borrowed(self.keep, self.pos..self.end, self.blocks)?;
        self.pos += used;
        let spent = bits.blocks();
        if let Some(slots) = self.slots {
            slots
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(spent)
                })
                .map_err(|_| "the bitmaps span more blocks than a file of this size holds")?;
        }
        Ok(bits)
    }

    fn codes(&mut self, len: usize) -> R<Codes> {
        let codes = match self.u8()? {
            1 => Codes::U8(self.buf()?),
            2 => Codes::U16(self.buf()?),
            4 => Codes::U32(self.buf()?),
            w => return Err(format!("unknown code width {w}")),
        };
        if codes.len() != len {
            return Err("codes do not cover the table".into());
        }
        Ok(codes)
    }

    fn offsets(&mut self, total: u64) -> R<Offsets> {
        let ends: Buf<u32> = self.buf()?;
        let wraps: Buf<u32> = self.buf()?;
        Offsets::from_parts(ends, wraps.into_vec(), total)
    }

    fn u32_vec(&mut self) -> R<Vec<u32>> {
        Ok(self.buf::<u32>()?.into_vec())
    }
}

/// Column bodies to decode, shared by two threads.
struct JobList {
    keep: Arc<Backing>,
    /// (table row count, body range, result slot), largest body first
    columns: Vec<(u32, Range<usize>, usize)>,
    next: AtomicUsize,
    done: Vec<Mutex<Option<R<ColumnData>>>>,
    /// Block slots (one [`Chunk`](super::bits::Chunk) each, empty ones too)
    /// all bitmaps together may take: the content's length in bytes plus
    /// 2^20. A bitmap's container costs 10 bytes of file but its key can
    /// claim up to 2^16 slots, so without this a small crafted file with a
    /// large row count could make the reader allocate gigabytes.
    slots: AtomicUsize,
}

impl JobList {
    /// Decodes columns until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some((len, range, slot)) = self.columns.get(i) else {
                return;
            };
            let mut r = Reader::new(&self.keep, range.clone());
            r.blocks = (*len as usize).div_ceil(BLOCK_ROWS);
            r.slots = Some(&self.slots);
            let data = read_column(&mut r, *len).and_then(|d| {
                if r.remaining() == 0 {
                    Ok(d)
                } else {
                    Err("bytes left after a column".into())
                }
            });
            *self.done[*slot].lock().unwrap_or_else(|p| p.into_inner()) = Some(data);
        }
    }

    fn take(&self, slot: usize) -> R<ColumnData> {
        self.done[slot]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or("a column was not decoded")?
    }
}

/// A table's header, its columns' bodies still to decode.
struct TableHead {
    name: String,
    len: u32,
    key: Option<usize>,
    columns: Vec<(String, FieldType)>,
    separators: Vec<String>,
}

/// The table headers, and where the link starts.
struct Start {
    contacts: TableHead,
    accounts: Option<TableHead>,
    link_at: usize,
}

fn read_start(keep: &Arc<Backing>) -> R<(Start, Arc<JobList>)> {
    let mut r = Reader::new(keep, HEADER..keep.bytes().len());
    let mut columns: Vec<(u32, Range<usize>, usize)> = Vec::new();
    let contacts = read_table_head(&mut r, &mut columns)?;
    let accounts = match r.u8()? {
        0 => None,
        1 => Some(read_table_head(&mut r, &mut columns)?),
        x => return Err(format!("bad accounts flag {x}")),
    };
    let n = columns.len();
    columns.sort_by_key(|(_, range, _)| std::cmp::Reverse(range.len()));
    let list = JobList {
        keep: Arc::clone(keep),
        columns,
        next: AtomicUsize::new(0),
        slots: AtomicUsize::new(keep.bytes().len() + (1 << 20)),
        done: (0..n).map(|_| Mutex::new(None)).collect(),
    };
    let start = Start {
        contacts,
        accounts,
        link_at: r.pos,
    };
    Ok((start, Arc::new(list)))
}

fn read_table_head(
    r: &mut Reader<'_>,
    bodies: &mut Vec<(u32, Range<usize>, usize)>,
) -> R<TableHead> {
    let name = r.string()?;
    let len = r.u32()?;
    if len > super::build::MAX_ROWS {
        return Err("too many rows".into());
    }
    let key = match r.u32()? {
        u32::MAX => None,
        k => Some(k as usize),
    };
    let ncols = r.u32()? as usize;
    if ncols > crate::store::ingest::limits::MAX_COLUMNS {
        return Err("too many columns".into());
    }
    let mut columns = Vec::with_capacity(ncols);
    let mut separators = Vec::with_capacity(ncols);
    for _ in 0..ncols {
        let cname = r.string()?;
        let ty = tag_type(r.u8()?)?;
        separators.push(r.string()?);
        r.pad()?;
        let n = r.count(1)?;
        r.pad()?;
        let body = r.take(n)?;
        bodies.push((len, body, bodies.len()));
        columns.push((cname, ty));
    }
    if key.is_some_and(|k| k >= columns.len()) {
        return Err("the key names a column that does not exist".into());
    }
    Ok(TableHead {
        name,
        len,
        key,
        columns,
        separators,
    })
}

fn read_link(keep: &Arc<Backing>, start: &Start) -> R<Option<AccountLink>> {
    let mut r = Reader::new(keep, start.link_at..keep.bytes().len());
    let contacts_len = start.contacts.len;
    let link = match r.u8()? {
        0 => None,
        1 => {
            let field = r.u32()? as usize;
            let naccounts = start
                .accounts
                .as_ref()
                .ok_or("a link without an accounts table")?
                .len;
            let account_of: Buf<u32> = r.buf()?;
            if account_of.len() != contacts_len as usize {
                return Err("the link does not cover the contacts".into());
            }
            Some(AccountLink::new(field, account_of, naccounts)?)
        }
        x => return Err(format!("bad link flag {x}")),
    };
    if r.remaining() != 0 {
        return Err("bytes left after the store".into());
    }
    Ok(link)
}

/// The tables from their headers and decoded columns, with the link.
fn assemble(start: Start, list: &JobList, link: Option<AccountLink>) -> R<Store> {
    let mut slot = 0;
    let mut build = |t: TableHead| -> R<Table> {
        let mut columns = Vec::with_capacity(t.columns.len());
        for (name, ty) in t.columns {
            let data = list.take(slot)?;
            slot += 1;
            let kind_ok = matches!(
                (&ty, &data),
                (
                    FieldType::Enum { .. } | FieldType::String | FieldType::Ref,
                    ColumnData::Dict(_)
                ) | (
                    FieldType::Int | FieldType::Float | FieldType::Date | FieldType::DateTime,
                    ColumnData::Num(_)
                ) | (FieldType::Bool, ColumnData::Bool(_))
                    | (FieldType::Set, ColumnData::Set(_))
            );
            if !kind_ok {
                return Err(format!(
                    "column `{name}` is stored as the wrong kind for a {ty}"
                ));
            }
            columns.push(Column { name, ty, data });
        }
        Ok(Table {
            name: t.name,
            len: t.len,
            columns,
            key: t.key,
            all: Bits::all(t.len).to_roaring(),
            separators: t.separators,
        })
    };
    let contacts = build(start.contacts)?;
    let accounts = start.accounts.map(&mut build).transpose()?;
    if let Some(l) = &link {
        if !matches!(
            contacts.columns.get(l.field).map(|c| &c.data),
            Some(ColumnData::Dict(_))
        ) {
            return Err("the link names a column that is not a reference".into());
        }
    }
    Ok(Store {
        contacts,
        accounts,
        link,
    })
}

fn read_column(r: &mut Reader<'_>, len: u32) -> R<ColumnData> {
    Ok(match r.u8()? {
        0 => {
            let text = r.text()?;
            let ends = r.offsets(text.len() as u64)?;
            let values = Strings::from_parts(text, ends)?;
            let codes = r.codes(len as usize)?;
            let present = r.bits()?;
            let postings = match r.u8()? {
                0 => {
                    let n = r.count(8)?;
                    let mut b = Vec::with_capacity(n);
                    for _ in 0..n {
                        b.push(r.bits()?);
                    }
                    PostingsOwned::Bitmaps(b)
                }
                1 => PostingsOwned::Sorted,
                x => return Err(format!("unknown postings kind {x}")),
            };
            ColumnData::Dict(DictColumn::from_snapshot(
                values, codes, present, postings, len,
            )?)
        }
        1 => {
            let nkeys = r.u64()? as usize;
            let nblocks = r.count(17)?;
            let mut blocks = Vec::with_capacity(nblocks);
            for _ in 0..nblocks {
                let base = r.i64()?;
                let scale = r.i64()?;
                let raw = match r.u8()? {
                    0 => Raw::Const,
                    1 => Raw::U8(r.buf()?),
                    2 => Raw::U16(r.buf()?),
                    4 => Raw::U32(r.buf()?),
                    8 => Raw::I64(r.buf()?),
                    x => return Err(format!("unknown key width {x}")),
                };
                blocks.push(KeyBlock { base, scale, raw });
            }
            let keys = Keys::from_blocks(nkeys, blocks)?;
            let present = r.bits()?;
            let nb = r.count(24)?;
            let mut buckets = Vec::with_capacity(nb);
            for _ in 0..nb {
                let (min, max, count) = (r.i64()?, r.i64()?, r.u64()?);
                buckets.push((min, max, count, r.bits()?));
            }
            let coarse = r.u32_vec()?;
            let nge = r.count(8)?;
            let mut ge = Vec::with_capacity(nge);
            for _ in 0..nge {
                ge.push(r.bits()?);
            }
            let distinct = match r.u8()? {
                0 => None,
                1 => {
                    let n = r.count(16)?;
                    r.pad()?;
                    let raw = r.slice(n * 16)?;
                    Some(
                        raw.chunks_exact(16)
                            .map(|b| {
                                (
                                    i64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                                    u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
                                )
                            })
                            .collect(),
                    )
                }
                x => return Err(format!("bad distinct flag {x}")),
            };
            ColumnData::Num(NumColumn::from_index_parts(
                len, keys, present, buckets, coarse, ge, distinct,
            )?)
        }
        2 => {
            let trues = r.bits()?;
            let present = r.bits()?;
            super::column::check_rows(&present, len)?;
            super::column::check_rows(&trues, len)?;
            ColumnData::Bool(BoolColumn::from_bits(trues, present))
        }
        3 => {
            let n = r.count(8)?;
            let mut values = Vec::with_capacity(n);
            for _ in 0..n {
                values.push(r.string()?);
            }
            let ends: Buf<u32> = r.buf()?;
            let wraps: Buf<u32> = r.buf()?;
            let members = match r.u8()? {
                1 => Codes::U8(r.buf()?),
                2 => Codes::U16(r.buf()?),
                4 => Codes::U32(r.buf()?),
                w => return Err(format!("unknown code width {w}")),
            };
            let offsets = Offsets::from_parts(ends, wraps.into_vec(), members.len() as u64)?;
            let nbits = r.count(8)?;
            let mut bits = Vec::with_capacity(nbits);
            for _ in 0..nbits {
                bits.push(r.bits()?);
            }
            let present = r.bits()?;
            ColumnData::Set(SetColumn::from_snapshot(
                values, offsets, members, bits, present, len,
            )?)
        }
        x => return Err(format!("unknown column kind {x}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::store::bits::Chunk;
    use crate::store::Cell;
    use roaring::RoaringBitmap;

    fn small() -> Store {
        crate::store::ingest::generated(&crate::gen::GenConfig {
            contacts: 400,
            accounts: 16,
            seed: 3,
            today_days: 20_600,
        })
    }

    fn assert_same(a: &Store, b: &Store) {
        fn tables(a: &Table, b: &Table) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.len, b.len);
            assert_eq!(a.key, b.key);
            assert_eq!(a.separators, b.separators);
            assert_eq!(a.columns.len(), b.columns.len());
            for (x, y) in a.columns.iter().zip(&b.columns) {
                assert_eq!((&x.name, &x.ty), (&y.name, &y.ty));
                assert_eq!(x.present(), y.present(), "{}", x.name);
                for r in 0..a.len {
                    assert_eq!(x.cell(r), y.cell(r), "{} row {r}", x.name);
                }
            }
        }
        tables(&a.contacts, &b.contacts);
        match (&a.accounts, &b.accounts) {
            (Some(x), Some(y)) => tables(x, y),
            (None, None) => {}
            _ => panic!("accounts differ"),
        }
        let (la, lb) = (a.link.as_ref().unwrap(), b.link.as_ref().unwrap());
        assert_eq!(la.field, lb.field);
        assert_eq!(la.account_of, lb.account_of);
        assert_eq!(la.contacts_of, lb.contacts_of);
        assert_eq!(la.linked, lb.linked);
    }

    #[test]
    fn snapshot_round_trip_keeps_every_cell_and_answer() {
        for seed in [3, 4] {
            let store = crate::store::ingest::generated(&crate::gen::GenConfig {
                contacts: 70_000 + seed * 1_000,
                accounts: 900,
                seed,
                today_days: 20_600,
            });
            let bytes = to_bytes(&store);
            let back = from_bytes(&bytes).unwrap();
            assert_same(&store, &back);
            let now = 20_600 * crate::time::MICROS_PER_DAY;
            let mut a = Engine::new(store, now);
            let mut b = Engine::new(back, now);
            for q in [
                "role in [decision_maker, champion] and replies_30d > 2",
                "industry in [software, fintech] and company_size between 200 and 5000 and score >= 70",
                "stage >= opportunity and not account has (role = decision_maker and replies_30d > 0)",
                "title contains \"head of\" and email is duplicate",
                "tags has any [webinar] or opted_in = false or last_activity is missing",
                "account.tier = enterprise and created_at < 2025-06-01",
            ] {
                let pa = a.compile(q).unwrap().plan;
                let pb = b.compile(q).unwrap().plan;
                assert_eq!(a.execute(&pa), b.execute(&pb), "{q}");
            }
        }
    }

    #[test]
    fn snapshot_of_a_csv_with_inferred_types_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("contacts.csv"),
            "id,name,score,seen,ok,when\n1,Ann,2.5,2026-01-01,true,2026-01-01T10:00:00Z\n2,,,,,\n3,Bo,-1,2025-12-31,false,2026-01-02T00:00:01Z\n",
        )
        .unwrap();
        let (store, _) = crate::store::ingest::load_path(dir.path(), &Default::default()).unwrap();
        let path = dir.path().join("s.segx");
        write(&store, &path).unwrap();
        let back = read(&path).unwrap();
        for (x, y) in store.contacts.columns.iter().zip(&back.contacts.columns) {
            for r in 0..3 {
                assert_eq!(x.cell(r), y.cell(r));
            }
        }
        assert_eq!(back.contacts.columns[2].cell(2), Cell::Float(-1.0));
        assert!(back.link.is_none());
    }

    #[test]
    fn snapshot_rejects_every_flipped_byte_and_truncation() {
        let bytes = to_bytes(&small());
        for cut in 0..bytes.len() {
            assert!(from_bytes(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut damaged = bytes.clone();
        for i in 0..bytes.len() {
            damaged[i] ^= 0x20;
            assert!(from_bytes(&damaged).is_err(), "flip at byte {i}");
            damaged[i] = bytes[i];
        }
    }

    #[test]
    fn snapshot_errors_name_the_problem() {
        let bytes = to_bytes(&small());
        let err = |b: &[u8]| from_bytes(b).err().unwrap();
        assert!(err(b"id,name\n1,a\n").contains("not a segq snapshot"));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
        assert!(
            err(&newer).contains("newer than this segq reads"),
            "{}",
            err(&newer)
        );
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(err(&flipped).contains("checksum"));
    }

    #[test]
    fn linked_rows_are_the_rows_with_an_account() {
        use crate::store::column::MISSING;
        let account_of: Vec<u32> = (0..200_000u32)
            .map(|r| {
                if r % 3 == 0 || (70_000..140_000).contains(&r) {
                    MISSING
                } else {
                    r % 7
                }
            })
            .collect();
        let want: Vec<u32> = (0..200_000u32)
            .filter(|&r| account_of[r as usize] != MISSING)
            .collect();
        assert_eq!(crate::store::link::linked_rows(&account_of).to_vec(), want);
        assert!(super::super::link::linked_rows(&[]).is_empty());
    }

    #[test]
    fn snapshot_of_format_version_1_is_refused_by_name() {
        for version in [1u32, 2] {
            let mut old = to_bytes(&small());
            old[8..12].copy_from_slice(&version.to_le_bytes());
            let e = from_bytes(&old).err().unwrap();
            assert!(
                e.contains(&format!("version {version} is not supported"))
                    && e.contains("rebuild it with `segq index`"),
                "{e}"
            );
        }
    }

    /// Every bitmap the writer stores, as the snapshot writer walks them.
    fn bitmaps(t: &Table) -> Vec<&Bits> {
        let mut out = Vec::new();
        for c in &t.columns {
            match &c.data {
                ColumnData::Dict(d) => {
                    out.push(d.present_bits());
                    if let PostingsParts::Bitmaps(b) = d.postings_parts() {
                        out.extend(b);
                    }
                }
                ColumnData::Num(n) => {
                    out.push(n.present_bits());
                    let (buckets, _, ge, _) = n.index_parts();
                    out.extend(buckets.into_iter().map(|(_, _, _, rows)| rows));
                    out.extend(ge);
                }
                ColumnData::Bool(b) => out.extend([b.trues_bits(), b.present_bits()]),
                ColumnData::Set(s) => {
                    out.extend(s.member_parts());
                    out.push(s.present_bits());
                }
            }
        }
        out
    }

    /// Tiny bitmaps whose keys claim many blocks of a huge table cannot
    /// make the reader allocate far more than the file holds.
    #[test]
    fn snapshot_bitmap_blocks_are_bounded_by_the_file_size() {
        let blocks = 4_000u32;
        let late = Bits::from_sorted([(blocks - 1) << 16]);
        let table = |ncols: usize| Table {
            name: "contacts".into(),
            len: blocks << 16,
            columns: (0..ncols)
                .map(|i| Column {
                    name: format!("b{i}"),
                    ty: FieldType::Bool,
                    data: ColumnData::Bool(crate::store::column::BoolColumn::from_bits(
                        late.clone(),
                        late.clone(),
                    )),
                })
                .collect(),
            key: None,
            all: roaring::RoaringBitmap::new(),
            separators: vec![String::new(); ncols],
        };
        let store = |ncols| Store {
            contacts: table(ncols),
            accounts: None,
            link: None,
        };
        // 2 bitmaps of 4,000 blocks a column: 20 columns fit, 160 do not
        let ok = from_bytes(&to_bytes(&store(20))).unwrap();
        assert_eq!(ok.contacts.columns[19].present().len(), 1);
        let big = to_bytes(&store(160));
        assert!(big.len() < 100_000, "{}", big.len());
        let e = from_bytes(&big).err().unwrap();
        assert!(
            e.contains("more blocks than a file of this size holds"),
            "{e}"
        );
    }

    /// Each bitmap in a snapshot is exactly what `RoaringBitmap::serialize_into`
    /// writes, at an 8-byte aligned offset, and roaring reads it from the file.
    #[test]
    fn snapshot_bitmaps_are_roaring_portable_in_the_file() {
        let store = crate::store::ingest::generated(&crate::gen::GenConfig {
            contacts: 70_000,
            accounts: 300,
            seed: 5,
            today_days: 20_600,
        });
        let file = to_bytes(&store);
        let candidates: Vec<usize> = (0..file.len() - 8)
            .step_by(8)
            .filter(|&at| file[at..at + 4] == 12346u32.to_le_bytes())
            .collect();
        let mut kinds = [0usize; 4];
        let all = bitmaps(&store.contacts);
        for bits in &all {
            for b in 0..bits.blocks() {
                kinds[match bits.chunk(b) {
                    Chunk::Empty => continue,
                    Chunk::Sparse(_) => 0,
                    Chunk::Dense { count, .. } if *count <= 4096 => 1,
                    Chunk::Dense { .. } => 2,
                    Chunk::Full => 3,
                }] += 1;
            }
            let roaring = bits.to_roaring();
            let mut theirs = Vec::new();
            RoaringBitmap::from_sorted_iter(roaring.iter())
                .unwrap()
                .serialize_into(&mut theirs)
                .unwrap();
            let at = *candidates
                .iter()
                .find(|&&at| file[at..].starts_with(&theirs))
                .unwrap_or_else(|| panic!("{bits:?} is not in the file as roaring writes it"));
            let read = RoaringBitmap::deserialize_from(&file[at..]).unwrap();
            assert_eq!(read, roaring);
        }
        // arrays, arrays from dense chunks, bitsets, full blocks
        assert!(kinds.iter().all(|&k| k > 0), "{kinds:?}");
        assert!(all.len() > 100, "{}", all.len());
        // and the loaded store borrows its arrays and (aligned) bitsets
        let back = from_bytes(&file).unwrap();
        let (mut sparse, mut mapped, mut copied) = (0, 0, 0);
        for bits in bitmaps(&back.contacts) {
            for b in 0..bits.blocks() {
                match bits.chunk(b) {
                    Chunk::Sparse(s) => {
                        assert!(s.is_mapped());
                        sparse += 1;
                    }
                    Chunk::Dense { words, count } if *count > 4096 => match words.is_mapped() {
                        true => mapped += 1,
                        false => copied += 1,
                    },
                    _ => {}
                }
            }
        }
        assert!(sparse > 0 && mapped > copied, "{sparse} {mapped} {copied}");
    }

    /// The big arrays of a loaded snapshot are borrowed from its bytes, not copied.
    #[test]
    fn snapshot_arrays_are_borrowed_from_the_file() {
        let back = from_bytes(&to_bytes(&small())).unwrap();
        let (mut dict, mut num, mut chunks) = (0, 0, 0);
        for c in &back.contacts.columns {
            match &c.data {
                ColumnData::Dict(d) => {
                    let mapped = match &d.codes {
                        Codes::U8(v) => v.is_mapped(),
                        Codes::U16(v) => v.is_mapped(),
                        Codes::U32(v) => v.is_mapped(),
                    };
                    assert!(mapped, "{}", c.name);
                    assert!(d.values.is_mapped(), "{}", c.name);
                    dict += 1;
                }
                ColumnData::Num(n) => {
                    for kb in n.keys.blocks() {
                        match &kb.raw {
                            Raw::Const => {}
                            Raw::U8(v) => assert!(v.is_mapped()),
                            Raw::U16(v) => assert!(v.is_mapped()),
                            Raw::U32(v) => assert!(v.is_mapped()),
                            Raw::I64(v) => assert!(v.is_mapped()),
                        }
                    }
                    num += 1;
                }
                _ => {}
            }
        }
        for c in &back.contacts.columns {
            if let ColumnData::Num(n) = &c.data {
                for i in 0..n.coarse_buckets() {
                    let b = n.buckets_from(i);
                    for k in 0..b.blocks() {
                        match b.chunk(k) {
                            Chunk::Sparse(s) => {
                                assert!(s.is_mapped());
                                chunks += 1;
                            }
                            Chunk::Dense { words, .. } => {
                                assert!(words.is_mapped());
                                chunks += 1;
                            }
                            Chunk::Empty | Chunk::Full => {}
                        }
                    }
                }
            }
        }
        assert!(dict >= 5 && num >= 5 && chunks > 0, "{dict} {num} {chunks}");
        let link = back.link.as_ref().unwrap();
        assert!(!link.contacts_of.is_built(), "built on first use");
        assert_eq!(link.contacts_of.len(), 16);
        let small = small();
        assert_eq!(link.contacts_of, small.link.as_ref().unwrap().contacts_of);
    }

    /// A damaged or cut file on disk is named as such by `read` (the
    /// two-thread path), and an intact one reads back.
    #[test]
    fn snapshot_file_damage_is_reported_by_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.segx");
        let store = small();
        write(&store, &path).unwrap();
        assert_same(&store, &read(&path).unwrap());
        let bytes = std::fs::read(&path).unwrap();
        for at in [HEADER, HEADER + 7, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            std::fs::write(&path, &damaged).unwrap();
            let e = read(&path).err().unwrap();
            assert!(e.contains("checksum"), "flip at {at}: {e}");
        }
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read(&path).err().unwrap().contains("truncated"));
        std::fs::write(&path, &bytes[..HEADER - 1]).unwrap();
        assert!(read(&path).err().unwrap().contains("not a segq snapshot"));
    }

    /// A file with a valid checksum but nonsense inside is refused too.
    #[test]
    fn snapshot_validates_content_behind_a_valid_checksum() {
        let bytes = to_bytes(&small());
        let content = &bytes[HEADER..];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            let mut c = content.to_vec();
            for _ in 0..3 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = (rng % c.len() as u64) as usize;
                c[i] = (rng >> 32) as u8;
            }
            let mut file = header(c.len() as u64, xxhash_rust::xxh3::xxh3_64(&c)).to_vec();
            file.extend_from_slice(&c);
            // must not panic; may load when the change is harmless
            let _ = from_bytes(&file);
        }
    }
}
