//! [`ContactsOf`]: the contacts of each account, as one bitmap per account.
//! Ingest builds it at once; a snapshot builds it from the contact → account
//! array on first use, so loading one (and answering a query that never
//! looks at accounts) does not pay for ~600K small bitmap containers.

use super::bits::{Bits, BitsBuilder, BLOCK_ROWS};
use super::buf::Buf;
use super::column::MISSING;
use roaring::RoaringBitmap;
use std::sync::OnceLock;

/// Account row → its contacts. Derefs to the slice of bitmaps (built on
/// first use when lazy); [`ContactsOf::len`] never builds.
pub struct ContactsOf {
    accounts: usize,
    /// contact row → account row or [`MISSING`], when built lazily
    source: Option<Buf<u32>>,
    built: OnceLock<Vec<RoaringBitmap>>,
}

impl ContactsOf {
    /// Built on first use from `account_of`, whose every value must be
    /// below `accounts` or [`MISSING`] (checked).
    pub fn lazy(account_of: Buf<u32>, accounts: u32) -> Result<ContactsOf, String> {
        if account_of.iter().any(|&a| a != MISSING && a >= accounts) {
            return Err("the link names an account that does not exist".into());
        }
        Ok(ContactsOf {
            accounts: accounts as usize,
            source: Some(account_of),
            built: OnceLock::new(),
        })
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts
    }

    pub fn is_empty(&self) -> bool {
        self.accounts == 0
    }

    /// Whether the bitmaps exist yet.
    pub fn is_built(&self) -> bool {
        self.built.get().is_some()
    }

    fn all(&self) -> &[RoaringBitmap] {
        self.built.get_or_init(|| {
            let account_of = self.source.as_deref().unwrap_or(&[]);
            // Rows grouped by account (a counting sort), then one bitmap each.
            let mut starts = vec![0u32; self.accounts + 1];
            for &a in account_of {
                if a != MISSING {
                    starts[a as usize + 1] += 1;
                }
            }
            for i in 0..self.accounts {
                starts[i + 1] += starts[i];
            }
            let mut fill = starts.clone();
            let mut rows = vec![0u32; starts[self.accounts] as usize];
            for (r, &a) in account_of.iter().enumerate() {
                if a != MISSING {
                    rows[fill[a as usize] as usize] = r as u32;
                    fill[a as usize] += 1;
                }
            }
            starts
                .windows(2)
                .map(|w| {
                    RoaringBitmap::from_sorted_iter(
                        rows[w[0] as usize..w[1] as usize].iter().copied(),
                    )
                    .expect("rows ascend")
                })
                .collect()
        })
    }
}

/// Rows with an account, built a word at a time (branch-free, vectorised).
pub fn linked_rows(account_of: &[u32]) -> Bits {
    let mut out = BitsBuilder::new();
    let mut w = super::bits::zero_words();
    for (b, block) in account_of.chunks(BLOCK_ROWS).enumerate() {
        w.fill(0);
        for (word, rows) in w.iter_mut().zip(block.chunks(64)) {
            *word = rows
                .iter()
                .enumerate()
                .fold(0u64, |m, (j, &a)| m | (u64::from(a != MISSING) << j));
        }
        out.push_words(b, &w, super::kernels::popcount(&w[..]) as usize);
    }
    out.finish()
}

impl std::ops::Deref for ContactsOf {
    type Target = [RoaringBitmap];

    fn deref(&self) -> &[RoaringBitmap] {
        self.all()
    }
}

impl FromIterator<RoaringBitmap> for ContactsOf {
    fn from_iter<I: IntoIterator<Item = RoaringBitmap>>(iter: I) -> ContactsOf {
        let all: Vec<RoaringBitmap> = iter.into_iter().collect();
        ContactsOf {
            accounts: all.len(),
            source: None,
            built: OnceLock::from(all),
        }
    }
}

impl<'a> IntoIterator for &'a ContactsOf {
    type Item = &'a RoaringBitmap;
    type IntoIter = std::slice::Iter<'a, RoaringBitmap>;

    fn into_iter(self) -> Self::IntoIter {
        self.all().iter()
    }
}

impl PartialEq for ContactsOf {
    fn eq(&self, other: &ContactsOf) -> bool {
        self.all() == other.all()
    }
}

impl std::fmt::Debug for ContactsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ContactsOf({} accounts, {})",
            self.accounts,
            if self.is_built() { "built" } else { "lazy" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_contacts_of_match_the_eager_ones() {
        let account_of = vec![2, MISSING, 0, 2, 1, MISSING, 2];
        let lazy = ContactsOf::lazy(Buf::from(account_of.clone()), 4).unwrap();
        assert_eq!(lazy.len(), 4);
        assert!(!lazy.is_built(), "len does not build");
        let eager: ContactsOf = [vec![2u32], vec![4], vec![0, 3, 6], vec![]]
            .into_iter()
            .map(|rows| rows.into_iter().collect::<RoaringBitmap>())
            .collect();
        assert!(eager.is_built());
        assert_eq!(lazy[2].iter().collect::<Vec<_>>(), [0, 3, 6]);
        assert!(lazy.is_built());
        assert_eq!(lazy, eager);
        assert_eq!((&lazy).into_iter().map(|b| b.len()).sum::<u64>(), 5);
        assert!(ContactsOf::lazy(Buf::from(account_of), 2).is_err());
    }
}
