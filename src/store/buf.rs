//! [`Buf`]: a read-only array of plain values that is either owned (a
//! `Vec`) or borrowed from the bytes of a loaded snapshot ([`Backing`]: a
//! memory-mapped file, or an 8-byte-aligned heap copy), which it keeps alive
//! through an `Arc`. Loading a snapshot then costs no copy and no fresh
//! memory for its big flat arrays (codes, string text, offsets, packed keys,
//! bitmap chunks): the file's cached pages are mapped and faulted in only
//! where touched. [`Text`] is a `Buf<u8>` known to be UTF-8.
//!
//! Why this module holds `unsafe`: mapping a file is `unsafe` (memmap2), a
//! borrowed `Buf` is a raw pointer into the bytes its `Arc` keeps alive, and
//! [`Text`] hands out `&str` without re-validating on every access. Every
//! borrowed `Buf` is made by [`Buf::mapped`], which checks the range,
//! alignment and length; `Text` is only made from a `String` or from bytes
//! checked to be UTF-8.
//!
//! A mapped file must not be changed in place while it is loaded (segq
//! never does: snapshots are replaced by rename, so a loaded one keeps its
//! old inode).

#![allow(unsafe_code)]

use std::ops::{Deref, Range};
use std::ptr::NonNull;
use std::sync::Arc;

/// The bytes a snapshot is read from.
pub struct Backing {
    inner: Inner,
}

enum Inner {
    Map(memmap2::Mmap),
    /// A copy in 8-byte words (so arrays in it are aligned), and its length.
    Heap(Vec<u64>, usize),
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Map(_) => "mapped",
            Inner::Heap(..) => "heap",
        };
        write!(f, "Backing({kind}, {} bytes)", self.bytes().len())
    }
}

impl Backing {
    /// Maps a file read-only. The file must not be changed in place while
    /// the mapping (or any `Buf` borrowing from it) lives.
    pub fn map(file: &std::fs::File) -> std::io::Result<Backing> {
        // SAFETY: the map is read-only; segq replaces snapshot files by
        // rename, never in place (see the module docs).
        let map = unsafe { memmap2::Mmap::map(file)? };
        Ok(Backing {
            inner: Inner::Map(map),
        })
    }

    /// An aligned heap copy of `bytes`.
    pub fn copy(bytes: &[u8]) -> Backing {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Backing {
            inner: Inner::Heap(words, bytes.len()),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.inner {
            Inner::Map(m) => m,
            Inner::Heap(w, len) => &bytemuck::cast_slice::<u64, u8>(w)[..*len],
        }
    }
}

/// Plain little-endian values a [`Buf`] can borrow from a file.
pub trait Plain: bytemuck::Pod + PartialEq + std::fmt::Debug + Send + Sync {
    /// The value from its little-endian representation.
    fn le_to_native(self) -> Self;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            #[inline]
            fn le_to_native(self) -> Self {
                <$t>::from_le(self)
            }
        }
    )*};
}
plain!(u8, u16, u32, u64, i64);

/// A read-only array, owned or borrowed from a [`Backing`].
pub struct Buf<T: Plain> {
    repr: Repr<T>,
}

enum Repr<T> {
    Owned(Vec<T>),
    Mapped {
        ptr: NonNull<T>,
        len: usize,
        _keep: Arc<Backing>,
    },
}

// SAFETY: a mapped Buf is a shared, immutable view of bytes its Arc keeps
// alive; `Backing` is Send + Sync, and so are the plain values.
unsafe impl<T: Plain> Send for Buf<T> {}
unsafe impl<T: Plain> Sync for Buf<T> {}

impl<T: Plain> Buf<T> {
    pub fn new() -> Buf<T> {
        Buf::from(Vec::new())
    }

    pub fn with_capacity(n: usize) -> Buf<T> {
        Buf::from(Vec::with_capacity(n))
    }

    /// Borrows `n` values at byte range `at` of `keep` (checked: in range,
    /// aligned, a whole number of values). On a big-endian machine the
    /// values are copied and converted instead.
    pub fn mapped(keep: &Arc<Backing>, at: Range<usize>) -> Result<Buf<T>, String> {
        let bytes = keep
            .bytes()
            .get(at)
            .ok_or("an array runs past the end of the data")?;
        let size = std::mem::size_of::<T>();
        if bytes.len() % size != 0 {
            return Err("an array's length is not a whole number of values".into());
        }
        let values: &[T] = bytemuck::try_cast_slice(bytes)
            .map_err(|_| "an array is not aligned in the file".to_string())?;
        if cfg!(target_endian = "big") {
            return Ok(Buf::from(
                values.iter().map(|&v| v.le_to_native()).collect::<Vec<T>>(),
            ));
        }
        Ok(Buf {
            repr: Repr::Mapped {
                ptr: NonNull::from(values).cast(),
                len: values.len(),
                _keep: Arc::clone(keep),
            },
        })
    }

    /// As [`Buf::mapped`], but a range that is not aligned for `T` is
    /// copied into an owned array instead of refused.
    pub fn mapped_or_copied(keep: &Arc<Backing>, at: Range<usize>) -> Result<Buf<T>, String> {
        let bytes = keep
            .bytes()
            .get(at.clone())
            .ok_or("an array runs past the end of the data")?;
        let size = std::mem::size_of::<T>();
        if (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>()) {
            return Buf::mapped(keep, at);
        }
        if bytes.len() % size != 0 {
            return Err("an array's length is not a whole number of values".into());
        }
        Ok(bytes
            .chunks_exact(size)
            .map(|b| bytemuck::pod_read_unaligned::<T>(b).le_to_native())
            .collect())
    }

    /// Whether the values are borrowed from a snapshot.
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped { .. })
    }

    /// The values as a growable vector (copied first when borrowed).
    pub fn make_mut(&mut self) -> &mut Vec<T> {
        if let Repr::Mapped { .. } = self.repr {
            self.repr = Repr::Owned(self.to_vec());
        }
        match &mut self.repr {
            Repr::Owned(v) => v,
            Repr::Mapped { .. } => unreachable!("just made owned"),
        }
    }

    pub fn into_vec(self) -> Vec<T> {
        match self.repr {
            Repr::Owned(v) => v,
            Repr::Mapped { .. } => self.to_vec(),
        }
    }

    /// Bytes held on the heap (none when borrowed).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Owned(v) => v.capacity() * std::mem::size_of::<T>(),
            Repr::Mapped { .. } => 0,
        }
    }

    pub fn shrink_to_fit(&mut self) {
        if let Repr::Owned(v) = &mut self.repr {
            v.shrink_to_fit();
        }
    }
}

impl<T: Plain> Deref for Buf<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(v) => v,
            // SAFETY: made by `Buf::mapped` from a checked, aligned slice of
            // the bytes `_keep` holds alive and nobody mutates.
            Repr::Mapped { ptr, len, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
        }
    }
}

impl<T: Plain> Default for Buf<T> {
    fn default() -> Buf<T> {
        Buf::new()
    }
}

impl<T: Plain> Clone for Buf<T> {
    fn clone(&self) -> Buf<T> {
        match &self.repr {
            Repr::Owned(v) => Buf::from(v.clone()),
            Repr::Mapped { ptr, len, _keep } => Buf {
                repr: Repr::Mapped {
                    ptr: *ptr,
                    len: *len,
                    _keep: Arc::clone(_keep),
                },
            },
        }
    }
}

impl<T: Plain> PartialEq for Buf<T> {
    fn eq(&self, other: &Buf<T>) -> bool {
        **self == **other
    }
}

impl<T: Plain + Eq> Eq for Buf<T> {}

impl<T: Plain> std::fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Plain> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Buf<T> {
        Buf {
            repr: Repr::Owned(v),
        }
    }
}

impl<T: Plain> From<Box<[T]>> for Buf<T> {
    fn from(v: Box<[T]>) -> Buf<T> {
        Buf::from(v.into_vec())
    }
}

impl<T: Plain> From<&[T]> for Buf<T> {
    fn from(v: &[T]) -> Buf<T> {
        Buf::from(v.to_vec())
    }
}

impl<T: Plain> FromIterator<T> for Buf<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Buf<T> {
        Buf::from(iter.into_iter().collect::<Vec<T>>())
    }
}

/// UTF-8 text in a [`Buf`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(Buf<u8>);

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl Text {
    /// Borrows the bytes at `at` of `keep`, checked to be UTF-8.
    pub fn mapped(keep: &Arc<Backing>, at: Range<usize>) -> Result<Text, String> {
        let buf = Buf::mapped(keep, at)?;
        std::str::from_utf8(&buf).map_err(|_| "a string is not UTF-8".to_string())?;
        Ok(Text(buf))
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: a Text is only made from a String, from bytes checked to
        // be UTF-8, or by appending strs.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push_str(&mut self, s: &str) {
        self.0.make_mut().extend_from_slice(s.as_bytes());
    }

    pub fn reserve(&mut self, n: usize) {
        self.0.make_mut().reserve(n);
    }

    pub fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }

    pub fn is_mapped(&self) -> bool {
        self.0.is_mapped()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Buf::from(s.into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backing() -> Arc<Backing> {
        let mut bytes = Vec::new();
        for i in 0u64..8 {
            bytes.extend_from_slice(&(i * 3).to_le_bytes());
        }
        bytes.extend_from_slice("héllo".as_bytes());
        bytes.extend_from_slice(&[0xff, 0xfe]);
        Arc::new(Backing::copy(&bytes))
    }

    #[test]
    fn buf_borrows_checked_ranges_and_copies_on_write() {
        let keep = backing();
        let b: Buf<u64> = Buf::mapped(&keep, 8..32).unwrap();
        assert!(b.is_mapped());
        assert_eq!(&b[..], &[3, 6, 9]);
        assert_eq!(b.heap_bytes(), 0);
        let c = b.clone();
        assert!(c.is_mapped());
        assert_eq!(c, Buf::from(vec![3u64, 6, 9]));
        let mut d = c.clone();
        d.make_mut().push(12);
        assert!(!d.is_mapped());
        assert_eq!(&d[..], &[3, 6, 9, 12]);
        assert_eq!(&c[..], &[3, 6, 9], "the borrowed original is untouched");
        // out of range, misaligned, ragged
        assert!(Buf::<u64>::mapped(&keep, 60..76).is_err());
        assert!(Buf::<u64>::mapped(&keep, 4..12).is_err());
        assert!(Buf::<u32>::mapped(&keep, 8..14).is_err());
        assert!(Buf::<u16>::mapped(&keep, 8..14).is_ok());
        // misaligned ranges are copied instead, checked the same way
        let m: Buf<u64> = Buf::mapped_or_copied(&keep, 4..20).unwrap();
        assert!(!m.is_mapped());
        assert_eq!(&m[..], &[3 << 32, 6 << 32]);
        let a: Buf<u64> = Buf::mapped_or_copied(&keep, 8..24).unwrap();
        assert!(a.is_mapped());
        assert_eq!(&a[..], &[3, 6]);
        assert!(Buf::<u64>::mapped_or_copied(&keep, 4..14).is_err());
        assert!(Buf::<u64>::mapped_or_copied(&keep, 68..80).is_err());
        // the bytes stay alive as long as a borrower does
        drop(keep);
        assert_eq!(b.into_vec(), vec![3, 6, 9]);
    }

    #[test]
    fn text_is_checked_utf8() {
        let keep = backing();
        let t = Text::mapped(&keep, 64..70).unwrap();
        assert_eq!(t.as_str(), "héllo");
        assert!(t.is_mapped());
        assert!(Text::mapped(&keep, 64..72).is_err());
        assert!(Text::mapped(&keep, 64..66).is_err(), "inside a character");
        let mut t2 = t.clone();
        t2.push_str("!");
        assert_eq!(t2.as_str(), "héllo!");
        assert_eq!(Text::from("x".to_string()).as_str(), "x");
    }
}
