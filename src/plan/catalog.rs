//! What the checker knows about the data: field names, types and known
//! values, from a loaded [`Store`] or from a schema alone.

use crate::schema::{FieldType, Schema, TableSchema};
use crate::store::{ColumnData, Store, Table};

#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: String,
    pub ty: FieldType,
    /// Enum/set values: declared (in order), or every value in the data.
    pub values: Option<Vec<String>>,
    /// The values that occur in the data (for enum and set columns of a
    /// store): a value declared in schema.toml but on no row is still worth
    /// a warning.
    pub occurring: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct TableCatalog {
    /// In column order: a field's index is its column index in the store.
    pub fields: Vec<FieldInfo>,
}

impl TableCatalog {
    pub fn field(&self, name: &str) -> Option<(usize, &FieldInfo)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    fn from_table(table: &Table, declared: Option<&TableSchema>) -> TableCatalog {
        let fields = table
            .columns
            .iter()
            .map(|c| {
                let declared_values = declared
                    .and_then(|d| d.field(&c.name))
                    .and_then(|f| f.values.clone());
                let (data_values, occurring) = match &c.data {
                    ColumnData::Dict(d) if matches!(c.ty, FieldType::Enum { .. }) => {
                        let all = d.values_vec().to_vec();
                        let used = all
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| d.count(*i as u32) > 0)
                            .map(|(_, v)| v.clone())
                            .collect();
                        (Some(all), Some(used))
                    }
                    ColumnData::Set(s) => {
                        let used = s
                            .values
                            .iter()
                            .zip(&s.bitmaps)
                            .filter(|(_, b)| !b.is_empty())
                            .map(|(v, _)| v.clone())
                            .collect();
                        (Some(s.values.clone()), Some(used))
                    }
                    _ => (None, None),
                };
                FieldInfo {
                    name: c.name.clone(),
                    ty: c.ty.clone(),
                    values: declared_values.or(data_values),
                    occurring,
                }
            })
            .collect();
        TableCatalog { fields }
    }

    fn from_schema(ts: &TableSchema) -> TableCatalog {
        TableCatalog {
            fields: ts
                .fields
                .iter()
                .map(|f| FieldInfo {
                    name: f.name.clone(),
                    ty: f.ty.clone(),
                    values: f.values.clone(),
                    occurring: None,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub contacts: TableCatalog,
    pub accounts: Option<TableCatalog>,
}

impl Catalog {
    pub fn from_store(store: &Store) -> Catalog {
        Catalog {
            contacts: TableCatalog::from_table(&store.contacts, None),
            accounts: store
                .accounts
                .as_ref()
                .map(|a| TableCatalog::from_table(a, None)),
        }
    }

    /// Only the declared fields are known (`segq check --schema`).
    pub fn from_schema(schema: &Schema) -> Catalog {
        Catalog {
            contacts: TableCatalog::from_schema(&schema.contacts),
            accounts: schema.accounts.as_ref().map(TableCatalog::from_schema),
        }
    }

    pub fn table(&self, account: bool) -> Option<&TableCatalog> {
        if account {
            self.accounts.as_ref()
        } else {
            Some(&self.contacts)
        }
    }
}
