//! The in-memory store: one [`Table`] of contacts, optionally one of
//! accounts, and the link between them. Built once by [`ingest`] (or from a
//! snapshot); every predicate is answered from the column indexes.

pub mod bits;
pub mod buf;
pub mod build;
pub mod column;
pub mod ingest;
pub mod kernels;
pub mod link;
pub mod snapshot;

use crate::schema::FieldType;
use column::{BoolColumn, DictColumn, NumColumn, SetColumn};
use roaring::RoaringBitmap;

pub use build::TableBuilder;

/// A column: its name, type and indexed data.
#[derive(Debug)]
pub struct Column {
    pub name: String,
    pub ty: FieldType,
    pub data: ColumnData,
}

#[derive(Debug)]
pub enum ColumnData {
    /// enum, string and ref columns
    Dict(DictColumn),
    /// int, float, date and datetime columns
    Num(NumColumn),
    Bool(BoolColumn),
    Set(SetColumn),
}

/// One value of one row, for output.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// microseconds since the epoch, at midnight
    Date(i64),
    DateTime(i64),
    Set(Vec<&'a str>),
}

impl Column {
    pub fn present(&self) -> &RoaringBitmap {
        match &self.data {
            ColumnData::Dict(c) => &c.present,
            ColumnData::Num(c) => &c.present,
            ColumnData::Bool(c) => &c.present,
            ColumnData::Set(c) => &c.present,
        }
    }

    pub fn cell(&self, row: u32) -> Cell<'_> {
        match &self.data {
            ColumnData::Dict(c) => c.value(row).map_or(Cell::Missing, Cell::Text),
            ColumnData::Num(c) => match c.key(row) {
                None => Cell::Missing,
                Some(k) => match self.ty {
                    FieldType::Float => Cell::Float(column::key_float(k)),
                    FieldType::Date => Cell::Date(k),
                    FieldType::DateTime => Cell::DateTime(k),
                    _ => Cell::Int(k),
                },
            },
            ColumnData::Bool(c) => c.value(row).map_or(Cell::Missing, Cell::Bool),
            ColumnData::Set(c) => {
                let members: Vec<&str> = c.members(row).collect();
                if members.is_empty() {
                    Cell::Missing
                } else {
                    Cell::Set(members)
                }
            }
        }
    }

    /// Distinct values in dictionary (declared) order: enum and set columns.
    pub fn dictionary(&self) -> Option<&[String]> {
        match &self.data {
            ColumnData::Dict(c) if matches!(self.ty, FieldType::Enum { .. }) => {
                Some(c.values_vec())
            }
            ColumnData::Set(c) => Some(&c.values),
            _ => None,
        }
    }
}

impl Cell<'_> {
    /// The value as text, as it is written in CSV output (missing → empty).
    pub fn to_text(&self, set_separator: &str) -> String {
        match self {
            Cell::Missing => String::new(),
            Cell::Text(s) => s.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => crate::time::format_date(*d),
            Cell::DateTime(d) => crate::time::format_datetime(*d),
            Cell::Set(members) => members.join(set_separator),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Missing => Value::Null,
            Cell::Text(s) => Value::String(s.to_string()),
            Cell::Int(i) => Value::from(*i),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Date(_) | Cell::DateTime(_) => Value::String(self.to_text("")),
            Cell::Set(m) => Value::Array(m.iter().map(|s| Value::String(s.to_string())).collect()),
        }
    }
}

/// A table: columns of equal length, row number = position.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    pub len: u32,
    pub columns: Vec<Column>,
    /// Index of the key column, if the table has one.
    pub key: Option<usize>,
    /// Every row: `0..len`.
    pub all: RoaringBitmap,
    /// Set separators, per column (for CSV output of set fields).
    pub separators: Vec<String>,
}

impl Table {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The key of a row as text: the key column's value, or the 1-based row number.
    pub fn key_text(&self, row: u32) -> String {
        match self.key {
            Some(k) => self.columns[k].cell(row).to_text(";"),
            None => (row + 1).to_string(),
        }
    }
}

/// Contacts ↔ accounts.
#[derive(Debug)]
pub struct AccountLink {
    /// The contacts column holding the account key.
    pub field: usize,
    /// contact row → account row, or [`column::MISSING`]
    pub account_of: Vec<u32>,
    /// account row → its contacts (derefs to `[RoaringBitmap]`; built on
    /// first use after loading a snapshot)
    pub contacts_of: link::ContactsOf,
    /// contacts that have an account
    pub linked: RoaringBitmap,
}

impl AccountLink {
    /// The link from each contact's account row (or [`column::MISSING`]):
    /// with the rows that have an account, and the contacts of each
    /// account (built on first use). Every account row must be below
    /// `accounts` (checked).
    pub fn new(
        field: usize,
        account_of: buf::Buf<u32>,
        accounts: u32,
    ) -> Result<AccountLink, String> {
        let linked = link::linked_rows(&account_of).to_roaring();
        let copy = account_of.to_vec();
        Ok(AccountLink {
            field,
            account_of: copy,
            contacts_of: link::ContactsOf::lazy(account_of, accounts)?,
            linked,
        })
    }

    /// Contacts of any account in `accounts`.
    pub fn contacts_of_accounts(&self, accounts: &RoaringBitmap) -> RoaringBitmap {
        use roaring::MultiOps;
        if accounts.len() as usize * 2 > self.contacts_of.len() {
            // Most accounts: cheaper to scan contacts.
            column::bitmap_from_predicate(self.account_of.len() as u32, |r| {
                let a = self.account_of[r];
                a != column::MISSING && accounts.contains(a)
            })
        } else {
            accounts
                .iter()
                .map(|a| &self.contacts_of[a as usize])
                .union()
        }
    }
}

#[derive(Debug)]
pub struct Store {
    pub contacts: Table,
    pub accounts: Option<Table>,
    pub link: Option<AccountLink>,
}

impl Store {
    pub fn table(&self, account: bool) -> Option<&Table> {
        if account {
            self.accounts.as_ref()
        } else {
            Some(&self.contacts)
        }
    }
}
