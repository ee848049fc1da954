//! Word kernels over bitset blocks, dispatched at run time to the best
//! instruction set the CPU has (AVX-512 VPOPCNTDQ, AVX2 + POPCNT, POPCNT,
//! or plain x86-64 / other targets).
//!
//! Why this module holds `unsafe` (with src/store/buf.rs, the only modules that do): the default x86-64
//! target has no `popcnt` instruction, and counting bits in software made
//! an AND-count of two 10M-row bitmaps 3× slower (30 → 88 µs) and a column
//! scan 6× slower in the measurements in `/work/shared/notes/performance.md`.
//! Building for the local CPU (`target-cpu=native`) would make a binary that
//! crashes elsewhere, so each kernel is compiled several times with
//! `#[target_feature]` and the caller picks one after
//! `is_x86_feature_detected!`. Calling a `#[target_feature]` function is
//! `unsafe` only because the feature must exist; each call below is guarded
//! by the detection of exactly the features it was compiled with.
#![allow(unsafe_code)]

macro_rules! define_kernels {
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        pub fn popcount(a: &[u64]) -> u64 {
            let mut n = 0u64;
            for w in a {
                n += u64::from(w.count_ones());
            }
            n
        }

        $(#[$attr])*
        pub fn and_popcount(a: &[u64], b: &[u64]) -> u64 {
            let mut n = 0u64;
            for (x, y) in a.iter().zip(b) {
                n += u64::from((x & y).count_ones());
            }
            n
        }

        $(#[$attr])*
        pub fn andnot_popcount(a: &[u64], b: &[u64]) -> u64 {
            let mut n = 0u64;
            for (x, y) in a.iter().zip(b) {
                n += u64::from((x & !y).count_ones());
            }
            n
        }

        $(#[$attr])*
        pub fn and_assign(a: &mut [u64], b: &[u64]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x &= *y;
            }
        }

        $(#[$attr])*
        pub fn or_assign(a: &mut [u64], b: &[u64]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x |= *y;
            }
        }

        $(#[$attr])*
        pub fn andnot_assign(a: &mut [u64], b: &[u64]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x &= !*y;
            }
        }

        /// `a &= b & !c`
        $(#[$attr])*
        pub fn and_andnot_assign(a: &mut [u64], b: &[u64], c: &[u64]) {
            for ((x, y), z) in a.iter_mut().zip(b).zip(c) {
                *x &= *y & !*z;
            }
        }

        /// `a &= s[0] | s[1] | …`, reading every source once, side by side.
        $(#[$attr])*
        pub fn and_any_assign<const N: usize>(a: &mut [u64], s: [&[u64]; N]) {
            let n = s.iter().fold(a.len(), |n, x| n.min(x.len()));
            for i in 0..n {
                let mut acc = 0u64;
                for x in &s {
                    acc |= x[i];
                }
                a[i] &= acc;
            }
        }

        /// Appends `base + i` for every set bit `i` of `w`, ascending.
        /// Branch-free per word: eight positions are written whatever the
        /// word holds and the length moves by its popcount, so sparse
        /// words (half of them empty) cost no mispredicted branches.
        $(#[$attr])*
        pub fn push_positions(w: &[u64], base: u32, out: &mut Vec<u32>) {
            let mut buf = [0u32; 128];
            let mut n = 0usize;
            for (i, &word) in w.iter().enumerate() {
                let at = base.wrapping_add((i as u32) * 64);
                let count = word.count_ones() as usize;
                let mut x = word;
                for k in 0..8 {
                    buf[n + k] = at.wrapping_add(x.trailing_zeros());
                    x &= x.wrapping_sub(1);
                }
                let mut k = 8;
                while x != 0 {
                    buf[n + k] = at.wrapping_add(x.trailing_zeros());
                    x &= x - 1;
                    k += 1;
                }
                n += count;
                if n >= 64 {
                    out.extend_from_slice(&buf[..n]);
                    n = 0;
                }
            }
            out.extend_from_slice(&buf[..n]);
        }
    };
}

mod portable {
    define_kernels!();
}

#[cfg(target_arch = "x86_64")]
mod popcnt {
    define_kernels!(#[target_feature(enable = "popcnt")]);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    define_kernels!(#[target_feature(enable = "avx2,popcnt")]);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    define_kernels!(#[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,avx2,popcnt")]);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Popcnt,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vpopcntdq")
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("popcnt")
        {
            return Level::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
            return Level::Avx2;
        }
        if std::is_x86_feature_detected!("popcnt") {
            return Level::Popcnt;
        }
    }
    Level::Portable
}

#[inline]
fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(detect)
}

/// The instruction set the kernels use on this CPU (for reports).
pub fn instruction_set() -> &'static str {
    match level() {
        Level::Portable => "portable",
        #[cfg(target_arch = "x86_64")]
        Level::Popcnt => "popcnt",
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => "avx2",
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => "avx512",
    }
}

macro_rules! dispatch {
    ($name:ident($($arg:expr),*)) => {
        match level() {
            Level::Portable => portable::$name($($arg),*),
            // SAFETY: each arm runs only after `detect` found every feature
            // that module was compiled with.
            #[cfg(target_arch = "x86_64")]
            Level::Popcnt => unsafe { popcnt::$name($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { avx2::$name($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { avx512::$name($($arg),*) },
        }
    };
}

/// Set bits in `a`.
#[inline]
pub fn popcount(a: &[u64]) -> u64 {
    dispatch!(popcount(a))
}

/// Set bits in `a & b` (over the shorter length).
#[inline]
pub fn and_popcount(a: &[u64], b: &[u64]) -> u64 {
    dispatch!(and_popcount(a, b))
}

/// Set bits in `a & !b` (over the shorter length).
#[inline]
pub fn andnot_popcount(a: &[u64], b: &[u64]) -> u64 {
    dispatch!(andnot_popcount(a, b))
}

/// `a &= b`
#[inline]
pub fn and_assign(a: &mut [u64], b: &[u64]) {
    dispatch!(and_assign(a, b))
}

/// `a |= b`
#[inline]
pub fn or_assign(a: &mut [u64], b: &[u64]) {
    dispatch!(or_assign(a, b))
}

/// `a &= !b`
#[inline]
pub fn andnot_assign(a: &mut [u64], b: &[u64]) {
    dispatch!(andnot_assign(a, b))
}

/// `a &= b & !c`
#[inline]
pub fn and_andnot_assign(a: &mut [u64], b: &[u64], c: &[u64]) {
    dispatch!(and_andnot_assign(a, b, c))
}

/// Appends `base + i` for every set bit `i` of `w`, ascending.
#[inline]
pub fn push_positions(w: &[u64], base: u32, out: &mut Vec<u32>) {
    dispatch!(push_positions(w, base, out))
}

/// `a &= s[0] | s[1] | …` in one pass (up to 8 sources; more are folded first).
pub fn and_any_assign(a: &mut [u64], s: &[&[u64]]) {
    match s {
        [] => a.fill(0),
        [x] => and_assign(a, x),
        [x, y] => dispatch!(and_any_assign(a, [*x, *y])),
        [x, y, z] => dispatch!(and_any_assign(a, [*x, *y, *z])),
        [x, y, z, u] => dispatch!(and_any_assign(a, [*x, *y, *z, *u])),
        [x, y, z, u, v] => dispatch!(and_any_assign(a, [*x, *y, *z, *u, *v])),
        [x, y, z, u, v, w] => dispatch!(and_any_assign(a, [*x, *y, *z, *u, *v, *w])),
        [x, y, z, u, v, w, p] => dispatch!(and_any_assign(a, [*x, *y, *z, *u, *v, *w, *p])),
        [x, y, z, u, v, w, p, q] => dispatch!(and_any_assign(a, [*x, *y, *z, *u, *v, *w, *p, *q])),
        many => {
            let mut any = vec![0u64; a.len()];
            for x in many {
                or_assign(&mut any, x);
            }
            and_assign(a, &any);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_agree_with_portable_code() {
        let a: Vec<u64> = (0..1024u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let b: Vec<u64> = (0..1024u64)
            .map(|i| (i * 31).rotate_left(7) ^ 0xF0F0)
            .collect();
        let c: Vec<u64> = (0..1024u64).map(|i| !i.wrapping_mul(77)).collect();
        assert_eq!(popcount(&a), portable::popcount(&a));
        assert_eq!(
            and_popcount(&a, &b),
            a.iter()
                .zip(&b)
                .map(|(x, y)| (x & y).count_ones() as u64)
                .sum::<u64>()
        );
        assert_eq!(
            andnot_popcount(&a, &b),
            a.iter()
                .zip(&b)
                .map(|(x, y)| (x & !y).count_ones() as u64)
                .sum::<u64>()
        );
        let mut x = a.clone();
        and_assign(&mut x, &b);
        assert!(x
            .iter()
            .zip(a.iter().zip(&b))
            .all(|(r, (p, q))| *r == p & q));
        let mut x = a.clone();
        or_assign(&mut x, &b);
        assert!(x
            .iter()
            .zip(a.iter().zip(&b))
            .all(|(r, (p, q))| *r == p | q));
        let mut x = a.clone();
        andnot_assign(&mut x, &b);
        assert!(x
            .iter()
            .zip(a.iter().zip(&b))
            .all(|(r, (p, q))| *r == p & !q));
        let mut x = a.clone();
        and_andnot_assign(&mut x, &b, &c);
        assert!((0..1024).all(|i| x[i] == a[i] & b[i] & !c[i]));
        for n in 0..11 {
            let srcs: Vec<Vec<u64>> = (0..n as u64)
                .map(|k| {
                    b.iter()
                        .map(|w| w.rotate_left(k as u32 * 7) & c[k as usize])
                        .collect()
                })
                .collect();
            let refs: Vec<&[u64]> = srcs.iter().map(Vec::as_slice).collect();
            let mut x = a.clone();
            and_any_assign(&mut x, &refs);
            assert!(
                (0..1024).all(|i| x[i] == a[i] & srcs.iter().fold(0, |acc, s| acc | s[i])),
                "{n} sources"
            );
        }
        assert!(!instruction_set().is_empty());
        let mut got = Vec::new();
        push_positions(&a, 1 << 16, &mut got);
        let mut want = Vec::new();
        for (i, w) in a.iter().enumerate() {
            for bit in 0..64 {
                if w >> bit & 1 == 1 {
                    want.push((1 << 16) + (i * 64 + bit) as u32);
                }
            }
        }
        assert_eq!(got, want);
    }
}
