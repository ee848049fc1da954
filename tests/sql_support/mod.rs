//! Shared by the SQL tests: random segment queries over a loaded store
//! (every predicate kind, values drawn from the data plus some that never
//! occur), and the engine's answer as key texts.

#![allow(dead_code)]

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use segq::engine::Engine;
use segq::schema::FieldType;
use segq::store::{Cell, Store, Table};
use std::collections::BTreeSet;

/// A column's values, collected from its cells.
struct Pool {
    name: String,
    ty: FieldType,
    /// distinct texts (enum, string, ref; set members)
    texts: Vec<String>,
    /// distinct numeric values: ints, floats, or micros for dates
    ints: Vec<i64>,
    floats: Vec<f64>,
}

fn pools(table: &Table) -> Vec<Pool> {
    table
        .columns
        .iter()
        .map(|c| {
            let mut texts = BTreeSet::new();
            let mut ints = BTreeSet::new();
            let mut floats: Vec<f64> = Vec::new();
            for r in 0..table.len {
                match c.cell(r) {
                    Cell::Text(t) => {
                        texts.insert(t.to_string());
                    }
                    Cell::Int(i) | Cell::Date(i) | Cell::DateTime(i) => {
                        ints.insert(i);
                    }
                    Cell::Float(f) => floats.push(f),
                    Cell::Set(m) => texts.extend(m.iter().map(|s| s.to_string())),
                    Cell::Bool(_) | Cell::Missing => {}
                }
            }
            floats.sort_by(f64::total_cmp);
            floats.dedup();
            let mut texts: Vec<String> = texts.into_iter().collect();
            if let Some(declared) = c.dictionary() {
                for v in declared {
                    if !texts.contains(v) {
                        texts.push(v.clone());
                    }
                }
            }
            Pool {
                name: c.name.clone(),
                ty: c.ty.clone(),
                texts,
                ints: ints.into_iter().collect(),
                floats,
            }
        })
        .collect()
}

/// Which predicate kinds were generated (the tests assert every one was).
pub const KINDS: &[&str] = &[
    "eq",
    "ne",
    "in",
    "not_in",
    "order",
    "between",
    "not_between",
    "missing",
    "present",
    "duplicate",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "bool",
    "has",
    "has_any",
    "has_all",
    "has_none",
    "within",
    "before",
    "after",
    "ago",
    "today",
    "account_field",
    "account_has",
    "account_count",
    "segment",
    "not",
    "or",
];

pub struct QueryGen {
    rng: ChaCha8Rng,
    contacts: Vec<Pool>,
    accounts: Vec<Pool>,
    /// Segments that queries may name.
    pub segments: Vec<String>,
    /// Regexes only from the subset RE2, Java and Rust agree on (for DuckDB).
    pub portable_regex: bool,
    pub kinds: BTreeSet<&'static str>,
}

impl QueryGen {
    pub fn new(store: &Store, seed: u64) -> QueryGen {
        use rand::SeedableRng;
        QueryGen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            contacts: pools(&store.contacts),
            accounts: store.accounts.as_ref().map(pools).unwrap_or_default(),
            segments: Vec::new(),
            portable_regex: false,
            kinds: BTreeSet::new(),
        }
    }

    fn kind(&mut self, k: &'static str) {
        debug_assert!(KINDS.contains(&k), "{k}");
        self.kinds.insert(k);
    }

    pub fn query(&mut self) -> String {
        self.expr(0)
    }

    fn expr(&mut self, depth: u32) -> String {
        let r = self.rng.gen_range(0..100);
        if depth >= 3 || r < 40 {
            return self.pred(false);
        }
        match r {
            40..=54 => format!("{} and {}", self.expr(depth + 1), self.expr(depth + 1)),
            55..=66 => {
                self.kind("or");
                format!("({} or {})", self.expr(depth + 1), self.expr(depth + 1))
            }
            67..=76 => {
                self.kind("not");
                format!("not ({})", self.expr(depth + 1))
            }
            77..=82 if !self.accounts.is_empty() => {
                self.kind("account_has");
                format!("account has ({})", self.expr(depth + 1))
            }
            83..=88 if !self.accounts.is_empty() => {
                self.kind("account_count");
                let op = *["=", "!=", "<", "<=", ">", ">="]
                    .choose(&mut self.rng)
                    .unwrap();
                let n = self.rng.gen_range(0..4);
                format!("account count ({}) {op} {n}", self.expr(depth + 1))
            }
            89..=94 if !self.segments.is_empty() => {
                self.kind("segment");
                let s = self.segments.choose(&mut self.rng).unwrap().clone();
                if self.rng.gen_bool(0.5) {
                    format!("@{s}")
                } else {
                    format!("segment {s}")
                }
            }
            95..=96 => "all".into(),
            97 => "none".into(),
            _ => self.pred(false),
        }
    }

    fn pred(&mut self, in_account: bool) -> String {
        if !in_account && !self.accounts.is_empty() && self.rng.gen_bool(0.15) {
            self.kind("account_field");
            return self.pred(true);
        }
        let pools = if in_account {
            &self.accounts
        } else {
            &self.contacts
        };
        let i = self.rng.gen_range(0..pools.len());
        let (name, ty) = (pools[i].name.clone(), pools[i].ty.clone());
        let field = if in_account {
            format!("account.{name}")
        } else {
            name
        };
        let r = self.rng.gen_range(0..100);
        if r < 6 {
            self.kind("missing");
            return format!("{field} is missing");
        }
        if r < 11 {
            self.kind("present");
            return format!(
                "{field} is {}",
                if self.rng.gen_bool(0.5) {
                    "present"
                } else {
                    "not null"
                }
            );
        }
        if r < 15 && ty != FieldType::Set {
            self.kind("duplicate");
            return format!("{field} is duplicate");
        }
        let pool = if in_account {
            &self.accounts[i]
        } else {
            &self.contacts[i]
        };
        match ty {
            FieldType::Enum { .. } | FieldType::String | FieldType::Ref => {
                let ordered = matches!(ty, FieldType::Enum { ordered: true });
                let texts = pool.texts.clone();
                self.text_pred(&field, &texts, ordered)
            }
            FieldType::Int | FieldType::Float => {
                let values: Vec<String> = if ty == FieldType::Int {
                    pool.ints.iter().map(|i| i.to_string()).collect()
                } else {
                    pool.floats.iter().map(|f| decimal(*f)).collect()
                };
                self.num_pred(&field, &values, ty == FieldType::Int)
            }
            FieldType::Date | FieldType::DateTime => {
                let ints = pool.ints.clone();
                self.time_pred(&field, &ints, ty == FieldType::Date)
            }
            FieldType::Bool => {
                self.kind("bool");
                match self.rng.gen_range(0..4) {
                    0 => field,
                    1 => format!("{field} = true"),
                    2 => format!("{field} = false"),
                    _ => {
                        self.kind("ne");
                        format!("{field} != {}", self.rng.gen_bool(0.5))
                    }
                }
            }
            FieldType::Set => {
                let texts = pool.texts.clone();
                let list = |g: &mut QueryGen| {
                    let n = g.rng.gen_range(1..4);
                    let items: Vec<String> = (0..n)
                        .map(|_| g.pick_text(&texts))
                        .map(|v| quote(&v))
                        .collect();
                    items.join(", ")
                };
                match self.rng.gen_range(0..4) {
                    0 => {
                        self.kind("has");
                        let v = self.pick_text(&texts);
                        format!("{field} has {}", quote(&v))
                    }
                    1 => {
                        self.kind("has_any");
                        format!("{field} has any [{}]", list(self))
                    }
                    2 => {
                        self.kind("has_all");
                        format!("{field} has all [{}]", list(self))
                    }
                    _ => {
                        self.kind("has_none");
                        format!("{field} has none [{}]", list(self))
                    }
                }
            }
        }
    }

    /// A value from the data, now and then one that never occurs.
    fn pick_text(&mut self, texts: &[String]) -> String {
        if texts.is_empty() || self.rng.gen_bool(0.08) {
            return "never_seen".into();
        }
        texts.choose(&mut self.rng).unwrap().clone()
    }

    fn text_pred(&mut self, field: &str, texts: &[String], ordered: bool) -> String {
        let pick = |g: &mut QueryGen| {
            let v = g.pick_text(texts);
            quote(&v)
        };
        let r = self.rng.gen_range(0..100);
        match r {
            0..=14 => {
                self.kind("eq");
                format!("{field} = {}", pick(self))
            }
            15..=24 => {
                self.kind("ne");
                format!("{field} != {}", pick(self))
            }
            25..=34 => {
                self.kind("in");
                format!("{field} in [{}, {}]", pick(self), pick(self))
            }
            35..=41 => {
                self.kind("not_in");
                format!("{field} not in [{}, {}]", pick(self), pick(self))
            }
            42..=51 if ordered && !texts.is_empty() => {
                self.kind("order");
                let op = *["<", "<=", ">", ">="].choose(&mut self.rng).unwrap();
                let v = texts.choose(&mut self.rng).unwrap().clone();
                format!("{field} {op} {}", quote(&v))
            }
            42..=59 => {
                self.kind("contains");
                let s = self.snippet(texts);
                format!("{field} contains {}", quote(&s))
            }
            60..=67 => {
                self.kind("starts_with");
                let s = self.snippet(texts);
                let s: String = s.chars().take(self.rng.gen_range(0..5)).collect();
                format!("{field} starts_with {}", quote(&s))
            }
            68..=75 => {
                self.kind("ends_with");
                let s = self.snippet(texts);
                let n = s.chars().count();
                let s: String = s
                    .chars()
                    .skip(n.saturating_sub(self.rng.gen_range(0..5)))
                    .collect();
                format!("{field} ends_with {}", quote(&s))
            }
            _ => {
                self.kind("matches");
                let re = self.regex(texts);
                format!("{field} matches {}", quote(&re))
            }
        }
    }

    /// A piece of some value, its case changed at random.
    fn snippet(&mut self, texts: &[String]) -> String {
        let v = self.pick_text(texts);
        let chars: Vec<char> = v.chars().collect();
        let a = self.rng.gen_range(0..=chars.len());
        // Mostly non-empty; an empty needle matches every present value.
        let shortest = if a < chars.len() && self.rng.gen_bool(0.9) {
            a + 1
        } else {
            a
        };
        let b = self.rng.gen_range(shortest..=chars.len().min(a + 6));
        let s: String = chars[a..b].iter().collect();
        if self.rng.gen_bool(0.3) {
            s.to_uppercase()
        } else {
            s
        }
    }

    fn regex(&mut self, texts: &[String]) -> String {
        let portable = [
            "^[a-m]",
            "com$",
            "o.e",
            "^(vp|head)",
            "[0-9][0-9]",
            "(?i)^HEAD",
            "a|e",
            "^.{3,5}$",
            "x",
        ];
        if self.rng.gen_bool(0.4) {
            return portable.choose(&mut self.rng).unwrap().to_string();
        }
        let s = self.snippet(texts);
        let mut re = regex::escape(&s);
        if self.portable_regex {
            // RE2 and Java read these escapes as Rust does only for ASCII punctuation.
            re = s
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
                .collect();
        }
        match self.rng.gen_range(0..4) {
            0 => format!("^{re}"),
            1 => format!("{re}$"),
            2 => format!("(?i){re}"),
            _ => re,
        }
    }

    fn num_pred(&mut self, field: &str, values: &[String], int: bool) -> String {
        let pick = |g: &mut QueryGen| -> String {
            match g.rng.gen_range(0..10) {
                0 => format!("{}.5", g.rng.gen_range(-3..60)),
                1 => g.rng.gen_range(-5..100).to_string(),
                _ if !values.is_empty() => values.choose(&mut g.rng).unwrap().clone(),
                _ => "1".into(),
            }
        };
        let _ = int;
        match self.rng.gen_range(0..10) {
            0 | 1 => {
                self.kind("eq");
                format!("{field} = {}", pick(self))
            }
            2 => {
                self.kind("ne");
                format!("{field} != {}", pick(self))
            }
            3..=5 => {
                self.kind("order");
                let op = *["<", "<=", ">", ">="].choose(&mut self.rng).unwrap();
                format!("{field} {op} {}", pick(self))
            }
            6 => {
                self.kind("between");
                format!("{field} between {} and {}", pick(self), pick(self))
            }
            7 => {
                self.kind("not_between");
                format!("{field} not between {} and {}", pick(self), pick(self))
            }
            8 => {
                self.kind("in");
                format!(
                    "{field} in [{}, {}, {}]",
                    pick(self),
                    pick(self),
                    pick(self)
                )
            }
            _ => {
                self.kind("not_in");
                format!("{field} not in [{}, {}]", pick(self), pick(self))
            }
        }
    }

    fn time_pred(&mut self, field: &str, values: &[i64], date: bool) -> String {
        let point = |g: &mut QueryGen| -> String {
            match g.rng.gen_range(0..10) {
                0 => {
                    g.kind("today");
                    "today".into()
                }
                1..=3 => {
                    g.kind("ago");
                    let unit = *["h", "d", "w", "mo", "y"].choose(&mut g.rng).unwrap();
                    format!("{}{unit} ago", g.rng.gen_range(0..40))
                }
                _ if !values.is_empty() => {
                    let k = *values.choose(&mut g.rng).unwrap();
                    let shift = [0, 0, 1, -1, 3_600_000_000, -86_400_000_000]
                        .choose(&mut g.rng)
                        .copied()
                        .unwrap_or(0);
                    let k = k + shift;
                    if date || g.rng.gen_bool(0.3) {
                        segq::time::format_date(k.div_euclid(86_400_000_000) * 86_400_000_000)
                    } else {
                        segq::time::format_datetime(k)
                    }
                }
                _ => "2026-01-01".into(),
            }
        };
        match self.rng.gen_range(0..10) {
            0 | 1 => {
                self.kind("within");
                let unit = *["h", "d", "w", "mo", "y"].choose(&mut self.rng).unwrap();
                format!("{field} within {}{unit}", self.rng.gen_range(1..50))
            }
            2 => {
                self.kind("before");
                format!("{field} before {}", point(self))
            }
            3 => {
                self.kind("after");
                format!("{field} after {}", point(self))
            }
            4 | 5 => {
                self.kind("order");
                let op = *["<", "<=", ">", ">="].choose(&mut self.rng).unwrap();
                format!("{field} {op} {}", point(self))
            }
            6 => {
                self.kind("eq");
                format!("{field} = {}", point(self))
            }
            7 => {
                self.kind("ne");
                format!("{field} != {}", point(self))
            }
            8 => {
                self.kind("between");
                format!("{field} between {} and {}", point(self), point(self))
            }
            _ => {
                self.kind("not_between");
                format!("{field} not between {} and {}", point(self), point(self))
            }
        }
    }
}

/// A quoted string in the query language.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float as a decimal literal of the language (no exponent).
pub fn decimal(f: f64) -> String {
    let s = f.to_string();
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// The keys of the contacts a query matches, by the engine, sorted.
pub fn engine_ids(engine: &Engine, rows: &roaring::RoaringBitmap) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| engine.store.contacts.key_text(r))
        .collect();
    ids.sort();
    ids
}

/// Defines `n` random segments (each may name earlier ones) in the engine's
/// library; returns their names and the file text defining them.
pub fn define_segments(engine: &mut Engine, gen: &mut QueryGen, n: usize) -> (Vec<String>, String) {
    let mut text = String::new();
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("seg_{i}");
        let q = gen.query();
        text.push_str(&format!("segment {name} = {q};\n"));
        names.push(name.clone());
        gen.segments.push(name);
    }
    let source = engine.sources.add("segments.seg", text.clone());
    let file =
        segq::syntax::parse_file(&text).unwrap_or_else(|e| panic!("segments parse: {e:?}\n{text}"));
    let mut errors = Vec::new();
    engine
        .library
        .add_file(source, "segments.seg".into(), file, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    (names, text)
}
