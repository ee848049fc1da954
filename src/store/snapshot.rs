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
//! field carries its length first. Bitmaps are in roaring's portable
//! serialization (any roaring library reads them).
//!
//! Reading checks, in this order, before anything is allocated from the
//! file's own numbers: the magic, the version (a newer one is refused by
//! name), that the file is exactly header + content long, and the checksum.
//! Then every length is checked against the bytes that remain before it is
//! used, and every code, row and offset against the table it belongs to —
//! so a truncated, corrupted or foreign file is an error, never a panic or
//! an allocation sized by untrusted bytes.
//!
//! Writing goes to a temporary file in the target directory, which is
//! fsynced and then renamed over the target (and the directory fsynced), so
//! a crash leaves the old file or the new one, never a torn one.

use super::bits::Bits;
use super::column::{
    BoolColumn, Codes, DictColumn, KeyBlock, Keys, NumColumn, Offsets, PostingsOwned,
    PostingsParts, Raw, SetColumn, Strings,
};
use super::{AccountLink, Column, ColumnData, Store, Table};
use crate::schema::FieldType;
use roaring::RoaringBitmap;
use std::io::{Read, Seek, Write};
use std::path::Path;
use xxhash_rust::xxh3::Xxh3;

pub const MAGIC: &[u8; 8] = b"SEGQSNAP";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
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
        let mut w = Writer {
            out: &mut out,
            hasher: Xxh3::new(),
            len: 0,
            scratch: Vec::new(),
        };
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
    let mut w = Writer {
        out: &mut content,
        hasher: Xxh3::new(),
        len: 0,
        scratch: Vec::new(),
    };
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

/// Reads a snapshot file, straight into the store's structures (the
/// checksum is computed on the way and compared at the end).
pub fn read(path: &Path) -> Result<Store, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut h = [0u8; HEADER];
    let got = read_up_to(&mut file, &mut h).map_err(|e| e.to_string())?;
    let (len, hash) = check_header(&h[..got], file_len)?;
    let mut src = std::io::BufReader::with_capacity(1 << 20, file);
    read_content(&mut src, len, hash)
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

/// Reads a snapshot from bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<Store, String> {
    let (len, hash) = check_header(bytes, bytes.len() as u64)?;
    let mut content = &bytes[HEADER..];
    // All of it is at hand: check the sum before parsing anything.
    if xxhash_rust::xxh3::xxh3_64(content) != hash {
        return Err(CORRUPTED.into());
    }
    read_content(&mut content, len, hash)
}

const CORRUPTED: &str =
    "the snapshot is corrupted (checksum mismatch); rebuild it with `segq index`";

/// Parses `len` bytes of content whose XXH3 must be `hash`. Every length
/// is checked against the bytes that remain before anything is allocated;
/// a damaged file fails on the first inconsistency or on the checksum.
fn read_content(src: &mut dyn Read, len: u64, hash: u64) -> Result<Store, String> {
    let mut r = Reader {
        src,
        remaining: len,
        hasher: Xxh3::new(),
        scratch: Vec::new(),
    };
    let parsed = read_store(&mut r).and_then(|store| {
        if r.remaining == 0 {
            Ok(store)
        } else {
            Err("bytes left after the store".to_string())
        }
    });
    // Hash whatever was not parsed, so a damaged file is named as such.
    let _ = r.skip_rest();
    if r.hasher.digest() != hash {
        return Err(CORRUPTED.into());
    }
    parsed.map_err(|e| format!("the snapshot is malformed: {e}"))
}

// ---------------------------------------------------------------- writing

struct Writer<'a> {
    out: &'a mut dyn Write,
    hasher: Xxh3,
    len: u64,
    scratch: Vec<u8>,
}

impl Writer<'_> {
    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.hasher.update(b);
        self.len += b.len() as u64;
        self.out.write_all(b)
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

    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.u64(b.len() as u64)?;
        self.raw(b)
    }

    fn str(&mut self, s: &str) -> std::io::Result<()> {
        self.bytes(s.as_bytes())
    }

    /// A count, then the items as little-endian bytes, in large pieces.
    fn array<T: Copy, const N: usize>(
        &mut self,
        items: &[T],
        to_le: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<()> {
        self.u64(items.len() as u64)?;
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

    fn bits(&mut self, b: &Bits) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(b.portable_size());
        b.write_portable(&mut bytes);
        self.bytes(&bytes)
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
            w.u32s(&l.account_of)?;
            // contacts of each account, as CSR
            let mut offsets = Vec::with_capacity(l.contacts_of.len() + 1);
            let mut rows = Vec::new();
            offsets.push(0u32);
            for b in &l.contacts_of {
                rows.extend(b.iter());
                offsets.push(rows.len() as u32);
            }
            w.u32s(&offsets)?;
            w.u32s(&rows)?;
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
    }
    Ok(())
}

// ---------------------------------------------------------------- reading

struct Reader<'a> {
    src: &'a mut dyn Read,
    /// Content bytes not read yet: no length may exceed it.
    remaining: u64,
    hasher: Xxh3,
    scratch: Vec<u8>,
}

type R<T> = Result<T, String>;

fn io_err(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "unexpected end of data".into()
    } else {
        e.to_string()
    }
}

impl Reader<'_> {
    fn fill(&mut self, out: &mut [u8]) -> R<()> {
        if out.len() as u64 > self.remaining {
            return Err("unexpected end of data".into());
        }
        self.src.read_exact(out).map_err(io_err)?;
        self.hasher.update(out);
        self.remaining -= out.len() as u64;
        Ok(())
    }

    fn skip_rest(&mut self) -> R<()> {
        let mut buf = vec![0u8; 1 << 16];
        while self.remaining > 0 {
            let n = (self.remaining as usize).min(buf.len());
            self.fill(&mut buf[..n])?;
        }
        Ok(())
    }

    fn u8(&mut self) -> R<u8> {
        let mut b = [0u8; 1];
        self.fill(&mut b)?;
        Ok(b[0])
    }

    fn u32(&mut self) -> R<u32> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> R<u64> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn i64(&mut self) -> R<i64> {
        Ok(self.u64()? as i64)
    }

    /// A count of items of `size` bytes each, checked against what remains.
    fn count(&mut self, size: usize) -> R<usize> {
        let n = self.u64()?;
        if n.checked_mul(size.max(1) as u64)
            .is_none_or(|b| b > self.remaining)
        {
            return Err(format!("a length of {n} runs past the end of the data"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> R<Vec<u8>> {
        let n = self.count(1)?;
        let mut v = vec![0u8; n];
        self.fill(&mut v)?;
        Ok(v)
    }

    fn string(&mut self) -> R<String> {
        String::from_utf8(self.bytes()?).map_err(|_| "a string is not UTF-8".to_string())
    }

    /// A count, then items of `N` little-endian bytes.
    fn array<T: bytemuck::Pod + Default, const N: usize>(
        &mut self,
        from_le: impl Fn([u8; N]) -> T,
    ) -> R<Vec<T>> {
        debug_assert_eq!(std::mem::size_of::<T>(), N);
        let n = self.count(N)?;
        let mut v = vec![T::default(); n];
        self.fill(bytemuck::cast_slice_mut(&mut v))?;
        if cfg!(target_endian = "big") {
            for x in v.iter_mut() {
                let bytes: [u8; N] = bytemuck::cast_slice(std::slice::from_ref(x))
                    .try_into()
                    .expect("N bytes");
                *x = from_le(bytes);
            }
        }
        Ok(v)
    }

    fn u32s(&mut self) -> R<Vec<u32>> {
        self.array(u32::from_le_bytes)
    }

    fn bits(&mut self) -> R<Bits> {
        let n = self.count(1)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(n, 0);
        let filled = self.fill(&mut scratch);
        let parsed = filled.and_then(|_| Bits::read_portable(&scratch));
        self.scratch = scratch;
        let (bits, used) = parsed?;
        if used != n {
            return Err("a bitmap is followed by stray bytes".into());
        }
        Ok(bits)
    }

    fn codes(&mut self, len: u32) -> R<Codes> {
        let codes = match self.u8()? {
            1 => Codes::U8(self.bytes()?),
            2 => Codes::U16(self.array(u16::from_le_bytes)?),
            4 => Codes::U32(self.u32s()?),
            w => return Err(format!("unknown code width {w}")),
        };
        if codes.len() != len as usize {
            return Err("codes do not cover the table".into());
        }
        Ok(codes)
    }

    fn offsets(&mut self, total: u64) -> R<Offsets> {
        let ends = self.u32s()?;
        let wraps = self.u32s()?;
        Offsets::from_parts(ends, wraps, total)
    }
}

fn read_store(r: &mut Reader<'_>) -> R<Store> {
    let contacts = read_table(r)?;
    let accounts = match r.u8()? {
        0 => None,
        1 => Some(read_table(r)?),
        x => return Err(format!("bad accounts flag {x}")),
    };
    let link = match r.u8()? {
        0 => None,
        1 => {
            let field = r.u32()? as usize;
            if !matches!(
                contacts.columns.get(field).map(|c| &c.data),
                Some(ColumnData::Dict(_))
            ) {
                return Err("the link names a column that is not a reference".into());
            }
            let naccounts = accounts
                .as_ref()
                .ok_or("a link without an accounts table")?
                .len;
            let account_of = r.u32s()?;
            if account_of.len() != contacts.len as usize
                || account_of
                    .iter()
                    .any(|&a| a != super::column::MISSING && a >= naccounts)
            {
                return Err("the link names an account that does not exist".into());
            }
            let offsets = r.u32s()?;
            let rows = r.u32s()?;
            if offsets.len() != naccounts as usize + 1
                || offsets.first() != Some(&0)
                || offsets.windows(2).any(|w| w[0] > w[1])
                || offsets.last().map(|&o| o as usize) != Some(rows.len())
                || rows.iter().any(|&x| x >= contacts.len)
            {
                return Err("bad contacts-of-account lists".into());
            }
            let contacts_of: Vec<RoaringBitmap> = offsets
                .windows(2)
                .map(|w| {
                    let part = &rows[w[0] as usize..w[1] as usize];
                    if part.windows(2).all(|p| p[0] < p[1]) {
                        RoaringBitmap::from_sorted_iter(part.iter().copied())
                            .map_err(|_| "unsorted".to_string())
                    } else {
                        Err("the contacts of an account are not ascending".to_string())
                    }
                })
                .collect::<R<_>>()?;
            let linked = super::column::bits_from_predicate(contacts.len, |r| {
                account_of[r] != super::column::MISSING
            })
            .to_roaring();
            Some(AccountLink {
                field,
                account_of,
                contacts_of,
                linked,
            })
        }
        x => return Err(format!("bad link flag {x}")),
    };
    Ok(Store {
        contacts,
        accounts,
        link,
    })
}

fn read_table(r: &mut Reader<'_>) -> R<Table> {
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
        let data = match r.u8()? {
            0 => {
                let text = r.string()?;
                let ends = r.offsets(text.len() as u64)?;
                let values = Strings::from_parts(text, ends)?;
                let codes = r.codes(len)?;
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
                        1 => Raw::U8(r.bytes()?.into()),
                        2 => Raw::U16(r.array(u16::from_le_bytes)?.into()),
                        4 => Raw::U32(r.u32s()?.into()),
                        8 => Raw::I64(r.array(i64::from_le_bytes)?.into()),
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
                let coarse = r.u32s()?;
                let nge = r.count(8)?;
                let mut ge = Vec::with_capacity(nge);
                for _ in 0..nge {
                    ge.push(r.bits()?);
                }
                let distinct = match r.u8()? {
                    0 => None,
                    1 => {
                        let raw: Vec<[u64; 2]> = r.array(|b: [u8; 16]| {
                            [
                                u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                                u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
                            ]
                        })?;
                        Some(raw.into_iter().map(|[k, n]| (k as i64, n)).collect())
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
                let (ends, wraps) = (r.u32s()?, r.u32s()?);
                let members = match r.u8()? {
                    1 => Codes::U8(r.bytes()?),
                    2 => Codes::U16(r.array(u16::from_le_bytes)?),
                    4 => Codes::U32(r.u32s()?),
                    w => return Err(format!("unknown code width {w}")),
                };
                let offsets = Offsets::from_parts(ends, wraps, members.len() as u64)?;
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
        };
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
                "column `{cname}` is stored as the wrong kind for a {ty}"
            ));
        }
        columns.push(Column {
            name: cname,
            ty,
            data,
        });
    }
    if key.is_some_and(|k| k >= columns.len()) {
        return Err("the key names a column that does not exist".into());
    }
    Ok(Table {
        name,
        len,
        columns,
        key,
        all: Bits::all(len).to_roaring(),
        separators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::store::Cell;

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
