//! The reference's own query tree, its rendering to query text (with
//! random but equivalent spellings: keyword case, whitespace, comments,
//! redundant parentheses, `is null` for `is missing`, `segment x` for `@x`,
//! quotes, underscores in numbers, trailing commas, date-time offsets), and
//! a random generator of trees over a [`Data`] set.
//!
//! Nothing here uses segq: the tree is what the reference evaluates, and
//! the text is what the engine parses.

use super::data::{
    civil_from_days, days_from_civil, fmt_date, Data, Table, Ty, Val, MICROS_PER_DAY,
    MICROS_PER_HOUR, MICROS_PER_SECOND,
};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

pub const CMPS: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    /// Whether `a op b` holds, given how `a` compares with `b`.
    pub fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Ne => o != Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    H,
    D,
    W,
    Mo,
    Y,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur {
    pub amount: i64,
    pub unit: Unit,
}

impl Dur {
    pub fn micros(self) -> i64 {
        let hours = match self.unit {
            Unit::H => 1,
            Unit::D => 24,
            Unit::W => 7 * 24,
            Unit::Mo => 30 * 24,
            Unit::Y => 365 * 24,
        };
        self.amount * hours * MICROS_PER_HOUR
    }

    fn text(self) -> String {
        let unit = match self.unit {
            Unit::H => "h",
            Unit::D => "d",
            Unit::W => "w",
            Unit::Mo => "mo",
            Unit::Y => "y",
        };
        format!("{}{unit}", self.amount)
    }
}

/// A literal and what it denotes.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A word or string: enum values, strings, set members, needles.
    Text(String),
    Int(i64),
    /// A decimal literal as written (`2.5`, `-0.25`).
    Dec(String),
    Bool(bool),
    /// A date literal: its midnight.
    Date(i64),
    /// A date-time literal as written, and its instant.
    DateTime(String, i64),
    Today,
    Ago(Dur),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
    Matches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    One,
    Any,
    All,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Cmp(Cmp, Lit),
    In { negated: bool, values: Vec<Lit> },
    Between { negated: bool, lo: Lit, hi: Lit },
    Missing,
    Present,
    Duplicate,
    Text(TextOp, Lit),
    Has(Quant, Vec<Lit>),
    Within(Dur),
    Before(Lit),
    After(Lit),
    Bare,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pred {
    /// `account.f`: a field of the accounts table.
    pub account: bool,
    pub field: usize,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Q {
    All,
    None,
    And(Vec<Q>),
    Or(Vec<Q>),
    Not(Box<Q>),
    Pred(Pred),
    /// `account has (q)`
    Has(Box<Q>),
    /// `account count (q) op n`
    Count(Box<Q>, Cmp, u64),
    /// `@name`
    Seg(String),
}

impl Q {
    /// Names of the forms used, for the coverage table.
    pub fn kinds(&self, data: &Data, out: &mut Vec<String>) {
        match self {
            Q::All => out.push("all".into()),
            Q::None => out.push("none".into()),
            Q::And(c) | Q::Or(c) => {
                out.push(
                    if matches!(self, Q::And(_)) {
                        "and"
                    } else {
                        "or"
                    }
                    .into(),
                );
                for x in c {
                    x.kinds(data, out);
                }
            }
            Q::Not(x) => {
                out.push("not".into());
                x.kinds(data, out);
            }
            Q::Pred(p) => {
                let table = if p.account {
                    &data.accounts
                } else {
                    &data.contacts
                };
                let ty = ty_name(&table.fields[p.field].ty);
                if p.account {
                    out.push("account.f".into());
                }
                if let Op::Cmp(_, lit) = &p.op {
                    out.push(format!("{ty} compared with {}", lit_kind(lit)));
                }
                let op = match &p.op {
                    Op::Cmp(c, lit) => format!("{} {} {}", ty, c.as_str(), lit_kind(lit)),
                    Op::In { negated, .. } => {
                        format!("{ty} {}in", if *negated { "not " } else { "" })
                    }
                    Op::Between { negated, .. } => {
                        format!("{ty} {}between", if *negated { "not " } else { "" })
                    }
                    Op::Missing => "is missing".into(),
                    Op::Present => "is present".into(),
                    Op::Duplicate => format!("{ty} is duplicate"),
                    Op::Text(t, _) => format!("{t:?}"),
                    Op::Has(q, _) => format!("has {q:?}"),
                    Op::Within(d) => format!("within {:?}", d.unit),
                    Op::Before(l) => format!("before {}", lit_kind(l)),
                    Op::After(l) => format!("after {}", lit_kind(l)),
                    Op::Bare => "bare bool".into(),
                };
                out.push(op);
            }
            Q::Has(x) => {
                out.push("account has".into());
                x.kinds(data, out);
            }
            Q::Count(x, c, n) => {
                out.push(format!(
                    "account count {} {}",
                    c.as_str(),
                    if *n == 0 { "0" } else { "n" }
                ));
                x.kinds(data, out);
            }
            Q::Seg(_) => out.push("@segment".into()),
        }
    }
}

fn ty_name(ty: &Ty) -> &'static str {
    match ty {
        Ty::Enum { .. } => "enum",
        Ty::Ordered(_) => "ordered",
        Ty::Str => "string",
        Ty::Int => "int",
        Ty::Float => "float",
        Ty::Bool => "bool",
        Ty::Date => "date",
        Ty::DateTime => "datetime",
        Ty::Set => "set",
        Ty::Ref => "ref",
    }
}

fn lit_kind(l: &Lit) -> &'static str {
    match l {
        Lit::Text(_) => "text",
        Lit::Int(_) => "int",
        Lit::Dec(_) => "decimal",
        Lit::Bool(_) => "bool",
        Lit::Date(_) => "date",
        Lit::DateTime(..) => "datetime",
        Lit::Today => "today",
        Lit::Ago(_) => "ago",
    }
}

// ----------------------------------------------------------------- rendering

/// Writes query text for a tree, spelling it randomly but equivalently.
pub struct Renderer<'a> {
    pub data: &'a Data,
    pub rng: &'a mut ChaCha8Rng,
    out: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    AndChild,
    OrChild,
    NotChild,
}

fn is_bare_word(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !segq::syntax::ast::KEYWORDS.contains(&s.to_ascii_lowercase().as_str())
}

impl<'a> Renderer<'a> {
    pub fn new(data: &'a Data, rng: &'a mut ChaCha8Rng) -> Renderer<'a> {
        Renderer {
            data,
            rng,
            out: String::new(),
        }
    }

    pub fn render(&mut self, q: &Q) -> String {
        self.out.clear();
        if self.rng.gen_bool(0.05) {
            self.out.push_str("# a comment before the query\n");
        }
        self.q(q, Ctx::Top);
        if self.rng.gen_bool(0.05) {
            self.out.push_str("  # trailing comment");
        }
        std::mem::take(&mut self.out)
    }

    /// A keyword in random case.
    fn kw(&mut self, k: &str) {
        match self.rng.gen_range(0..10) {
            0 => self.out.push_str(&k.to_uppercase()),
            1 => {
                let mut c = k.chars();
                if let Some(f) = c.next() {
                    self.out.extend(f.to_uppercase());
                    self.out.push_str(c.as_str());
                }
            }
            _ => self.out.push_str(k),
        }
    }

    /// Whitespace between tokens: usually one space.
    fn ws(&mut self) {
        let s = match self.rng.gen_range(0..40) {
            0 => "\n  ",
            1 => "\t",
            2 => "  ",
            3 => " # note: and/or (not) \"x\"\n ",
            _ => " ",
        };
        self.out.push_str(s);
    }

    /// Optional whitespace around punctuation.
    fn maybe_ws(&mut self) {
        if self.rng.gen_bool(0.7) {
            self.out.push(' ');
        }
    }

    fn q(&mut self, q: &Q, ctx: Ctx) {
        let needed = match q {
            Q::Or(_) => matches!(ctx, Ctx::AndChild | Ctx::NotChild),
            Q::And(_) => ctx == Ctx::NotChild,
            _ => false,
        };
        let parens = needed || self.rng.gen_bool(0.04);
        if parens {
            self.out.push('(');
            if self.rng.gen_bool(0.2) {
                self.out.push(' ');
            }
        }
        match q {
            Q::All => self.kw("all"),
            Q::None => self.kw("none"),
            Q::And(children) | Q::Or(children) => {
                let (word, child_ctx) = if matches!(q, Q::And(_)) {
                    ("and", Ctx::AndChild)
                } else {
                    ("or", Ctx::OrChild)
                };
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        self.ws();
                        self.kw(word);
                        self.ws();
                    }
                    self.q(c, child_ctx);
                }
            }
            Q::Not(inner) => {
                self.kw("not");
                self.ws();
                self.q(inner, Ctx::NotChild);
            }
            Q::Pred(p) => self.pred(p),
            Q::Has(inner) => {
                self.kw("account");
                self.ws();
                self.kw("has");
                self.maybe_ws();
                self.out.push('(');
                self.q(inner, Ctx::Top);
                self.out.push(')');
            }
            Q::Count(inner, op, n) => {
                self.kw("account");
                self.ws();
                self.kw("count");
                self.maybe_ws();
                self.out.push('(');
                self.q(inner, Ctx::Top);
                self.out.push(')');
                self.maybe_ws();
                self.out.push_str(op.as_str());
                self.maybe_ws();
                let _ = write!(self.out, "{n}");
            }
            Q::Seg(name) => {
                if self.rng.gen_bool(0.8) {
                    let _ = write!(self.out, "@{name}");
                } else {
                    self.kw("segment");
                    self.ws();
                    self.out.push_str(name);
                }
            }
        }
        if parens {
            self.out.push(')');
        }
    }

    fn field(&mut self, p: &Pred) {
        let table = if p.account {
            &self.data.accounts
        } else {
            &self.data.contacts
        };
        let name = table.fields[p.field].name;
        if p.account {
            self.kw("account");
            self.out.push('.');
        }
        if self.rng.gen_bool(0.05) {
            let _ = write!(self.out, "`{name}`");
        } else {
            self.out.push_str(name);
        }
    }

    fn pred(&mut self, p: &Pred) {
        self.field(p);
        match &p.op {
            Op::Bare => {}
            Op::Cmp(op, lit) => {
                self.maybe_ws();
                self.out.push_str(op.as_str());
                self.maybe_ws();
                self.lit(lit);
            }
            Op::In { negated, values } => {
                self.ws();
                if *negated {
                    self.kw("not");
                    self.ws();
                }
                self.kw("in");
                self.maybe_ws();
                self.list(values);
            }
            Op::Between { negated, lo, hi } => {
                self.ws();
                if *negated {
                    self.kw("not");
                    self.ws();
                }
                self.kw("between");
                self.ws();
                self.lit(lo);
                self.ws();
                self.kw("and");
                self.ws();
                self.lit(hi);
            }
            Op::Missing => {
                self.ws();
                self.kw("is");
                self.ws();
                match self.rng.gen_range(0..3) {
                    0 => self.kw("missing"),
                    1 => self.kw("null"),
                    _ => {
                        self.kw("not");
                        self.ws();
                        self.kw("present");
                    }
                }
            }
            Op::Present => {
                self.ws();
                self.kw("is");
                self.ws();
                match self.rng.gen_range(0..3) {
                    0 => self.kw("present"),
                    1 => {
                        self.kw("not");
                        self.ws();
                        self.kw("null");
                    }
                    _ => {
                        self.kw("not");
                        self.ws();
                        self.kw("missing");
                    }
                }
            }
            Op::Duplicate => {
                self.ws();
                self.kw("is");
                self.ws();
                self.kw("duplicate");
            }
            Op::Text(op, lit) => {
                self.ws();
                self.kw(match op {
                    TextOp::Contains => "contains",
                    TextOp::StartsWith => "starts_with",
                    TextOp::EndsWith => "ends_with",
                    TextOp::Matches => "matches",
                });
                self.ws();
                self.lit(lit);
            }
            Op::Has(quant, values) => {
                self.ws();
                self.kw("has");
                self.ws();
                match quant {
                    Quant::One => self.lit(&values[0]),
                    _ => {
                        self.kw(match quant {
                            Quant::Any => "any",
                            Quant::All => "all",
                            _ => "none",
                        });
                        self.maybe_ws();
                        self.list(values);
                    }
                }
            }
            Op::Within(d) => {
                self.ws();
                self.kw("within");
                self.ws();
                self.out.push_str(&d.text());
            }
            Op::Before(lit) | Op::After(lit) => {
                self.ws();
                self.kw(if matches!(p.op, Op::Before(_)) {
                    "before"
                } else {
                    "after"
                });
                self.ws();
                self.lit(lit);
            }
        }
    }

    fn list(&mut self, values: &[Lit]) {
        self.out.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
                self.maybe_ws();
            }
            self.lit(v);
        }
        if self.rng.gen_bool(0.1) {
            self.out.push(',');
        }
        self.out.push(']');
    }

    fn quoted(&mut self, s: &str) {
        let q = if self.rng.gen_bool(0.7) { '"' } else { '\'' };
        self.out.push(q);
        for c in s.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                c if c == q => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                // An escaped other quote is the quote itself.
                '"' | '\'' if self.rng.gen_bool(0.3) => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                c => self.out.push(c),
            }
        }
        self.out.push(q);
    }

    fn lit(&mut self, lit: &Lit) {
        match lit {
            Lit::Text(s) => {
                if is_bare_word(s) && self.rng.gen_bool(0.6) {
                    self.out.push_str(s);
                } else {
                    self.quoted(s);
                }
            }
            Lit::Int(i) => {
                let digits = i.unsigned_abs().to_string();
                if i < &0 {
                    self.out.push('-');
                }
                if digits.len() > 3 && self.rng.gen_bool(0.3) {
                    // 1_000_000
                    let first = digits.len() % 3;
                    let mut parts = Vec::new();
                    if first > 0 {
                        parts.push(&digits[..first]);
                    }
                    let mut at = first;
                    while at < digits.len() {
                        parts.push(&digits[at..at + 3]);
                        at += 3;
                    }
                    self.out.push_str(&parts.join("_"));
                } else {
                    self.out.push_str(&digits);
                }
            }
            Lit::Dec(s) => self.out.push_str(s),
            Lit::Bool(b) => self.kw(if *b { "true" } else { "false" }),
            Lit::Date(t) => self.out.push_str(&fmt_date(*t)),
            Lit::DateTime(text, _) => self.out.push_str(text),
            Lit::Today => self.kw("today"),
            Lit::Ago(d) => {
                self.out.push_str(&d.text());
                self.ws();
                self.kw("ago");
            }
        }
    }
}

/// A date-time literal for instant `t`, in one of the spellings the grammar
/// accepts: `T`/`t`, `Z`/`z`/offsets with and without a colon, no offset
/// (UTC), seconds optional when zero, fractional seconds.
pub fn datetime_literal(rng: &mut ChaCha8Rng, t: i64) -> Lit {
    let offset: i64 = *[0, 0, 0, 120, -330, 60, -600].choose(rng).unwrap();
    let local = t + offset * 60 * MICROS_PER_SECOND;
    let (y, m, d) = civil_from_days(local.div_euclid(MICROS_PER_DAY));
    let in_day = local.rem_euclid(MICROS_PER_DAY);
    let secs = in_day / MICROS_PER_SECOND;
    let frac = in_day % MICROS_PER_SECOND;
    let sep = if rng.gen_bool(0.85) { 'T' } else { 't' };
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60
    );
    if secs % 60 != 0 || frac != 0 || rng.gen_bool(0.8) {
        let _ = write!(s, ":{:02}", secs % 60);
        if frac != 0 {
            let _ = write!(s, ".{frac:06}");
        }
    }
    if offset == 0 {
        s.push_str(["Z", "Z", "z", "+00:00", ""].choose(rng).unwrap());
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.abs();
        let colon = if rng.gen_bool(0.7) { ":" } else { "" };
        let _ = write!(s, "{sign}{:02}{colon}{:02}", o / 60, o % 60);
    }
    Lit::DateTime(s, t)
}

// ----------------------------------------------------------------- generator

const UNKNOWN_TEXT: &[&str] = &[
    "nobody", "champoin", "Champion", "webinar ", "zzz", "A999", "ÉMEA",
];
const NEEDLES: &[&str] = &[
    "head of",
    "É",
    "sales, emea",
    "\n",
    " ",
    "\"",
    "'",
    "ñ",
    "@",
    "gmail",
    "GÉNÉRALE",
    "a0",
    "_",
];
const REGEXES: &[&str] = &[
    "^Head",
    "(?i)^head of",
    "EMEA$",
    "[0-9]{2}@",
    "é",
    "(?i)VP|director",
    r"\s$",
    r"^\s",
    "\n",
    r"gmail\.com$",
    r"^[a-z]+\.[a-z]+[0-9]*@",
    "Générale",
    "^A0[0-4]",
    ".*",
    "(?i)acme",
    "^(decision|economic)_",
    "er$",
    "\"Growth\"",
    "O'Brien",
    r"(?i)^\p{Lu}",
    "^[^a-z]*$",
];

/// Generates random query trees over a data set.
pub struct Gen<'a> {
    pub data: &'a Data,
    pub rng: ChaCha8Rng,
    /// Segments that queries may refer to.
    pub segments: Vec<String>,
    /// Set when the last tree uses an enum or set value that occurs nowhere
    /// (in an `=`, `!=`, `in`, `not in` or `has`): the engine must warn.
    pub warns: bool,
    /// Per table (contacts, accounts), per field: distinct present values.
    pools: [Vec<Vec<Val>>; 2],
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a Data, rng: ChaCha8Rng) -> Gen<'a> {
        let pool = |t: &Table| {
            (0..t.fields.len())
                .map(|f| t.distinct(f))
                .collect::<Vec<_>>()
        };
        Gen {
            pools: [pool(&data.contacts), pool(&data.accounts)],
            data,
            rng,
            segments: Vec::new(),
            warns: false,
        }
    }

    /// A whole query.
    pub fn query(&mut self) -> Q {
        self.warns = false;
        self.q(0, false)
    }

    /// `inside_account`: within `account has (..)`/`account count (..)`,
    /// where nesting another is allowed but kept rare.
    fn q(&mut self, depth: usize, inside_account: bool) -> Q {
        let leaf = [0.3, 0.5, 0.75, 1.0][depth.min(3)];
        if self.rng.gen_bool(leaf) {
            return self.leaf();
        }
        match self.rng.gen_range(0..100) {
            0..=34 => {
                let n = self.rng.gen_range(2..=4);
                Q::And((0..n).map(|_| self.q(depth + 1, inside_account)).collect())
            }
            35..=64 => {
                let n = self.rng.gen_range(2..=3);
                Q::Or((0..n).map(|_| self.q(depth + 1, inside_account)).collect())
            }
            65..=79 => Q::Not(Box::new(self.q(depth + 1, inside_account))),
            _ if inside_account && self.rng.gen_bool(0.7) => self.leaf(),
            _ => {
                if self.rng.gen_bool(0.5) {
                    Q::Has(Box::new(self.q(depth + 1, true)))
                } else {
                    let op = *CMPS.choose(&mut self.rng).unwrap();
                    let n = *[0, 0, 1, 1, 2, 3, 5].choose(&mut self.rng).unwrap();
                    Q::Count(Box::new(self.q(depth + 1, true)), op, n)
                }
            }
        }
    }

    fn leaf(&mut self) -> Q {
        match self.rng.gen_range(0..100) {
            0..=1 => Q::All,
            2..=3 => Q::None,
            4..=9 if !self.segments.is_empty() => {
                Q::Seg(self.segments.choose(&mut self.rng).unwrap().clone())
            }
            10..=29 => {
                let f = self.rng.gen_range(0..self.data.accounts.fields.len());
                Q::Pred(Pred {
                    account: true,
                    field: f,
                    op: self.op(true, f),
                })
            }
            _ => {
                // skip the key column most of the time
                let n = self.data.contacts.fields.len();
                let f = if self.rng.gen_bool(0.03) {
                    0
                } else {
                    self.rng.gen_range(1..n)
                };
                Q::Pred(Pred {
                    account: false,
                    field: f,
                    op: self.op(false, f),
                })
            }
        }
    }

    fn table(&self, account: bool) -> &'a Table {
        if account {
            &self.data.accounts
        } else {
            &self.data.contacts
        }
    }

    fn sample(&mut self, account: bool, f: usize) -> Option<Val> {
        let pool = &self.pools[account as usize][f];
        pool.choose(&mut self.rng).cloned()
    }

    /// Known values of an enum or set field: declared and occurring.
    fn known(&self, account: bool, f: usize) -> Vec<String> {
        let t = self.table(account);
        let mut out = t.members(f);
        match &t.fields[f].ty {
            Ty::Enum { declared: Some(d) } | Ty::Ordered(d) => {
                out.extend(d.iter().map(|s| s.to_string()))
            }
            _ => {}
        }
        out
    }

    /// A value for `=`/`in`/`has` on a text or set field, sometimes one that never occurs.
    fn text_value(&mut self, account: bool, f: usize) -> Lit {
        let ty = self.table(account).fields[f].ty.clone();
        let roll = self.rng.gen_range(0..100);
        let s = if roll < 8 {
            UNKNOWN_TEXT.choose(&mut self.rng).unwrap().to_string()
        } else if let (true, Ty::Enum { declared: Some(d) }) = (roll < 12, &ty) {
            // declared values are known, whether or not they occur
            d.choose(&mut self.rng).unwrap().to_string()
        } else if roll < 14 && ty == Ty::Str {
            // a spelling that differs from the stored one: `=` is exact
            let base = self.text_sample(account, f);
            match self.rng.gen_range(0..3) {
                0 => base.to_uppercase(),
                1 => base.trim().to_string(),
                _ => format!("{base} "),
            }
        } else {
            self.text_sample(account, f)
        };
        if matches!(ty, Ty::Enum { .. } | Ty::Ordered(_) | Ty::Set)
            && !self.known(account, f).contains(&s)
        {
            self.warns = true;
        }
        Lit::Text(s)
    }

    /// A present text value (or set member) of the field.
    fn text_sample(&mut self, account: bool, f: usize) -> String {
        match self.sample(account, f) {
            Some(Val::Text(s)) => s,
            Some(Val::Set(m)) => m.choose(&mut self.rng).unwrap().clone(),
            _ => "nothing".to_string(),
        }
    }

    fn ordered_value(&mut self, values: &[&str]) -> Lit {
        Lit::Text(values.choose(&mut self.rng).unwrap().to_string())
    }

    fn number(&mut self, account: bool, f: usize, ty: &Ty) -> Lit {
        let roll = self.rng.gen_range(0..100);
        match (self.sample(account, f), roll) {
            (Some(Val::Int(i)), 0..=59) => Lit::Int(i),
            (Some(Val::Float(x)), 0..=49) => {
                let s = format!("{x}");
                if s.contains('.') {
                    Lit::Dec(s)
                } else {
                    Lit::Int(x as i64)
                }
            }
            (_, 60..=74) => {
                // a decimal against an int field: `replies_30d > 1.5`
                let whole = self.rng.gen_range(-2..25);
                let frac = *["5", "25", "0", "999", "001"]
                    .choose(&mut self.rng)
                    .unwrap();
                Lit::Dec(format!("{whole}.{frac}"))
            }
            _ => {
                let i = match ty {
                    Ty::Float => self.rng.gen_range(-5..=105),
                    _ => *[
                        0,
                        1,
                        2,
                        3,
                        5,
                        10,
                        100,
                        1000,
                        5000,
                        -1,
                        999_999_999_999,
                        10_000,
                    ]
                    .choose(&mut self.rng)
                    .unwrap(),
                };
                Lit::Int(i)
            }
        }
    }

    fn instant(&mut self, account: bool, f: usize) -> Lit {
        let now = self.data.now;
        let day = now.div_euclid(MICROS_PER_DAY);
        match self.rng.gen_range(0..100) {
            0..=39 => match self.sample(account, f) {
                Some(Val::Time(t)) => {
                    if t.rem_euclid(MICROS_PER_DAY) == 0 && self.rng.gen_bool(0.7) {
                        Lit::Date(t)
                    } else {
                        datetime_literal(&mut self.rng, t)
                    }
                }
                _ => Lit::Today,
            },
            40..=51 => Lit::Date((day + self.rng.gen_range(-800..30)) * MICROS_PER_DAY),
            52..=54 => {
                // far from the data, before the epoch included
                let (y, m, d) = *[
                    (1900, 1, 1),
                    (1969, 7, 20),
                    (1969, 12, 31),
                    (1970, 1, 1),
                    (2999, 12, 31),
                ]
                .choose(&mut self.rng)
                .unwrap();
                Lit::Date(days_from_civil(y, m, d) * MICROS_PER_DAY)
            }
            55..=64 => {
                let t = now
                    + self.rng.gen_range(-60 * 24..48) * MICROS_PER_HOUR
                    + self.rng.gen_range(0..3600) * MICROS_PER_SECOND;
                datetime_literal(&mut self.rng, t)
            }
            65..=74 => Lit::Today,
            _ => Lit::Ago(self.duration()),
        }
    }

    fn duration(&mut self) -> Dur {
        let unit = *[
            Unit::H,
            Unit::D,
            Unit::D,
            Unit::D,
            Unit::W,
            Unit::Mo,
            Unit::Y,
        ]
        .choose(&mut self.rng)
        .unwrap();
        let amount = match unit {
            Unit::H => *[0, 1, 6, 12, 24, 36, 48].choose(&mut self.rng).unwrap(),
            Unit::D => *[0, 1, 7, 30, 90, 365, 1000].choose(&mut self.rng).unwrap(),
            Unit::W => self.rng.gen_range(0..60),
            Unit::Mo => self.rng.gen_range(0..40),
            Unit::Y => self.rng.gen_range(0..4),
        };
        Dur { amount, unit }
    }

    /// A value of the field's own type, for comparisons.
    fn value(&mut self, account: bool, f: usize) -> Lit {
        let ty = self.table(account).fields[f].ty.clone();
        match &ty {
            Ty::Enum { .. } | Ty::Str | Ty::Ref | Ty::Set => self.text_value(account, f),
            Ty::Ordered(values) => {
                if self.rng.gen_bool(0.05) {
                    self.text_value(account, f)
                } else {
                    self.ordered_value(values)
                }
            }
            Ty::Int | Ty::Float => self.number(account, f, &ty),
            Ty::Bool => Lit::Bool(self.rng.gen_bool(0.5)),
            Ty::Date | Ty::DateTime => self.instant(account, f),
        }
    }

    fn list(&mut self, account: bool, f: usize, n: usize) -> Vec<Lit> {
        (0..n).map(|_| self.value(account, f)).collect()
    }

    fn needle(&mut self, account: bool, f: usize) -> Lit {
        if self.rng.gen_bool(0.25) {
            return Lit::Text(NEEDLES.choose(&mut self.rng).unwrap().to_string());
        }
        let s = self.text_sample(account, f);
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return Lit::Text("x".into());
        }
        let len = self.rng.gen_range(1..=chars.len().min(8));
        let start = match self.rng.gen_range(0..3) {
            0 => 0,
            1 => chars.len() - len,
            _ => self.rng.gen_range(0..=chars.len() - len),
        };
        let mut needle: String = chars[start..start + len].iter().collect();
        if self.rng.gen_bool(0.3) {
            needle = needle.to_uppercase();
        }
        if needle.chars().all(|c| c.is_ascii_digit()) && self.rng.gen_bool(0.5) {
            if let Ok(i) = needle.parse::<i64>() {
                if i.to_string() == needle {
                    return Lit::Int(i);
                }
            }
        }
        Lit::Text(needle)
    }

    /// A predicate operator that fits the field's type.
    fn op(&mut self, account: bool, f: usize) -> Op {
        let ty = self.table(account).fields[f].ty.clone();
        let roll = self.rng.gen_range(0..100);
        // forms every type has
        match roll {
            0..=4 => return Op::Missing,
            5..=9 => return Op::Present,
            10..=12 if ty != Ty::Set => return Op::Duplicate,
            _ => {}
        }
        let roll = self.rng.gen_range(0..100);
        match &ty {
            Ty::Set => {
                let quant = match roll {
                    0..=24 => Quant::One,
                    25..=49 => Quant::Any,
                    50..=74 => Quant::All,
                    _ => Quant::None,
                };
                let n = if quant == Quant::One {
                    1
                } else {
                    self.rng.gen_range(1..=3)
                };
                let values = (0..n)
                    .map(|_| self.text_value(account, f))
                    .collect::<Vec<_>>();
                Op::Has(quant, values)
            }
            Ty::Bool => match roll {
                0..=39 => Op::Bare,
                40..=79 => Op::Cmp(
                    *[Cmp::Eq, Cmp::Ne].choose(&mut self.rng).unwrap(),
                    Lit::Bool(self.rng.gen_bool(0.5)),
                ),
                _ => Op::In {
                    negated: self.rng.gen_bool(0.5),
                    values: (0..self.rng.gen_range(1..=2))
                        .map(|_| Lit::Bool(self.rng.gen_bool(0.5)))
                        .collect(),
                },
            },
            Ty::Enum { .. } | Ty::Str | Ty::Ref => match roll {
                0..=29 => Op::Cmp(
                    *[Cmp::Eq, Cmp::Ne].choose(&mut self.rng).unwrap(),
                    self.value(account, f),
                ),
                30..=54 => {
                    let n = self.rng.gen_range(1..=4);
                    Op::In {
                        negated: self.rng.gen_bool(0.4),
                        values: self.list(account, f, n),
                    }
                }
                _ => self.text_op(account, f),
            },
            Ty::Ordered(values) => match roll {
                0..=39 => {
                    let op = *CMPS.choose(&mut self.rng).unwrap();
                    let v = if matches!(op, Cmp::Eq | Cmp::Ne) {
                        self.value(account, f)
                    } else {
                        self.ordered_value(values)
                    };
                    Op::Cmp(op, v)
                }
                40..=59 => {
                    let n = self.rng.gen_range(1..=3);
                    Op::In {
                        negated: self.rng.gen_bool(0.4),
                        values: self.list(account, f, n),
                    }
                }
                60..=79 => Op::Between {
                    negated: self.rng.gen_bool(0.3),
                    lo: self.ordered_value(values),
                    hi: self.ordered_value(values),
                },
                _ => self.text_op(account, f),
            },
            Ty::Int | Ty::Float => match roll {
                0..=54 => Op::Cmp(*CMPS.choose(&mut self.rng).unwrap(), self.value(account, f)),
                55..=74 => {
                    let n = self.rng.gen_range(1..=4);
                    Op::In {
                        negated: self.rng.gen_bool(0.4),
                        values: self.list(account, f, n),
                    }
                }
                _ => Op::Between {
                    negated: self.rng.gen_bool(0.3),
                    lo: self.value(account, f),
                    hi: self.value(account, f),
                },
            },
            Ty::Date | Ty::DateTime => match roll {
                0..=34 => Op::Cmp(*CMPS.choose(&mut self.rng).unwrap(), self.value(account, f)),
                35..=44 => {
                    let n = self.rng.gen_range(1..=3);
                    Op::In {
                        negated: self.rng.gen_bool(0.4),
                        values: self.list(account, f, n),
                    }
                }
                45..=59 => Op::Between {
                    negated: self.rng.gen_bool(0.3),
                    lo: self.value(account, f),
                    hi: self.value(account, f),
                },
                60..=74 => Op::Within(self.duration()),
                75..=87 => Op::Before(self.value(account, f)),
                _ => Op::After(self.value(account, f)),
            },
        }
    }

    fn text_op(&mut self, account: bool, f: usize) -> Op {
        match self.rng.gen_range(0..4) {
            0 => Op::Text(TextOp::Contains, self.needle(account, f)),
            1 => Op::Text(TextOp::StartsWith, self.needle(account, f)),
            2 => Op::Text(TextOp::EndsWith, self.needle(account, f)),
            _ => {
                let re = if self.rng.gen_bool(0.8) {
                    REGEXES.choose(&mut self.rng).unwrap().to_string()
                } else {
                    // a value of the field, escaped: matches itself
                    regex_escape(&self.text_sample(account, f))
                };
                Op::Text(TextOp::Matches, Lit::Text(re))
            }
        }
    }
}

/// Escapes regex metacharacters (the reference's own, not regex::escape, so
/// the escaping itself is tested too).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
