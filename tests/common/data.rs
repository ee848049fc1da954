//! The reference data set: typed rows generated from a seed, written as CSV
//! and `schema.toml` text. The typed rows are what the reference evaluator
//! reads; the text is what segq loads. Each cell is generated as a pair
//! (value, text) where the text is one of several spellings of the value
//! (surrounding spaces, `+5`, `.5`, date-time offsets, set members with
//! spaces and repeats), and a missing value is an empty or blank cell.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

pub const STAGES: &[&str] = &["lead", "mql", "sql", "opportunity", "customer", "churned"];
pub const SENIORITIES: &[&str] = &["ic", "manager", "director", "vp", "c_level"];
pub const TIERS: &[&str] = &["bronze", "silver", "gold", "platinum"];
pub const ROLES: &[&str] = &[
    "decision_maker",
    "champion",
    "influencer",
    "user",
    "blocker",
    "economic_buyer",
];
/// `antarctica` is declared but never occurs.
pub const REGIONS: &[&str] = &["amer", "emea", "apac", "latam", "antarctica"];
pub const INDUSTRIES: &[&str] = &["saas", "fintech", "healthcare", "retail", "manufacturing"];
pub const TAGS: &[&str] = &[
    "webinar",
    "trial",
    "newsletter",
    "event",
    "partner-referral",
    "ébauche",
];
pub const PRODUCTS: &[&str] = &["crm", "analytics", "api"];

/// A field's type as the reference understands it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Unordered enum; `declared` lists the values schema.toml declares.
    Enum {
        declared: Option<&'static [&'static str]>,
    },
    /// Ordered enum, values in order.
    Ordered(&'static [&'static str]),
    Str,
    Int,
    Float,
    Bool,
    Date,
    DateTime,
    Set,
    Ref,
}

/// A present value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Microseconds since the epoch (a date is its midnight UTC).
    Time(i64),
    /// Distinct members, never empty.
    Set(Vec<String>),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Text(s) => write!(f, "{s:?}"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Float(x) => write!(f, "{x}"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Time(t) => f.write_str(&fmt_datetime(*t)),
            Val::Set(m) => write!(f, "{m:?}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The field name queries use (the normalised header).
    pub name: &'static str,
    /// The CSV header as written.
    pub header: &'static str,
    pub ty: Ty,
    /// The right-hand side in schema.toml; `None` leaves the type to inference.
    pub schema: Option<String>,
}

#[derive(Debug, Default)]
pub struct Table {
    pub fields: Vec<Field>,
    /// `rows[r][f]`: the value of field `f` in row `r`.
    pub rows: Vec<Vec<Option<Val>>>,
    /// The CSV cells, as written.
    pub cells: Vec<Vec<String>>,
}

impl Table {
    pub fn field(&self, name: &str) -> usize {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    /// Distinct present values of a field, in first-seen order.
    pub fn distinct(&self, f: usize) -> Vec<Val> {
        let mut out: Vec<Val> = Vec::new();
        for row in &self.rows {
            if let Some(v) = &row[f] {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        out
    }

    /// Distinct set members (or enum values) occurring in a field.
    pub fn members(&self, f: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for row in &self.rows {
            let items: Vec<&String> = match &row[f] {
                Some(Val::Set(m)) => m.iter().collect(),
                Some(Val::Text(t)) => vec![t],
                _ => continue,
            };
            for m in items {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
        out
    }

    /// One row as `name=value` pairs, for failure messages.
    pub fn describe_row(&self, r: usize) -> String {
        let mut s = String::new();
        for (f, field) in self.fields.iter().enumerate() {
            let v = self.rows[r][f]
                .as_ref()
                .map_or("∅".to_string(), |v| v.to_string());
            let _ = write!(s, "{}={} ", field.name, v);
        }
        s
    }
}

/// Contacts, accounts and the link between them.
#[derive(Debug)]
pub struct Data {
    pub contacts: Table,
    pub accounts: Table,
    /// contact row → account row
    pub account_of: Vec<Option<usize>>,
    /// account row → its contact rows
    pub members: Vec<Vec<usize>>,
    /// `now` in microseconds.
    pub now: i64,
}

// ------------------------------------------------------------------ calendar

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-06-15`
pub fn fmt_date(micros: i64) -> String {
    let (y, m, d) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-06-15T12:00:00Z`, with `.ffffff` when there are fractional seconds.
pub fn fmt_datetime(micros: i64) -> String {
    fmt_datetime_offset(micros, 0, true, "T", "Z")
}

/// The local wall time at `offset_minutes` east of UTC, with the offset.
pub fn fmt_datetime_offset(
    micros: i64,
    offset_minutes: i64,
    seconds: bool,
    t: &str,
    z: &str,
) -> String {
    let local = micros + offset_minutes * 60 * MICROS_PER_SECOND;
    let day = local.div_euclid(MICROS_PER_DAY);
    let in_day = local.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(day);
    let secs = in_day / MICROS_PER_SECOND;
    let frac = in_day % MICROS_PER_SECOND;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}{t}{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60
    );
    if seconds || secs % 60 != 0 || frac != 0 {
        let _ = write!(s, ":{:02}", secs % 60);
        if frac != 0 {
            let _ = write!(s, ".{frac:06}");
        }
    }
    if offset_minutes == 0 {
        s.push_str(z);
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let o = offset_minutes.abs();
        let _ = write!(s, "{sign}{:02}:{:02}", o / 60, o % 60);
    }
    s
}

/// 2026-06-15T12:00:00Z
pub fn default_now() -> i64 {
    days_from_civil(2026, 6, 15) * MICROS_PER_DAY + 12 * MICROS_PER_HOUR
}

// ---------------------------------------------------------------- generation

type Cell = (Option<Val>, String);

fn missing(rng: &mut ChaCha8Rng) -> Cell {
    (
        None,
        ["", "", "", " ", "  "].choose(rng).unwrap().to_string(),
    )
}

fn text(s: &str) -> Cell {
    (Some(Val::Text(s.to_string())), s.to_string())
}

fn int_cell(rng: &mut ChaCha8Rng, v: i64, fancy: bool) -> Cell {
    let t = if !fancy {
        v.to_string()
    } else {
        match rng.gen_range(0..20) {
            0 => format!(" {v}"),
            1 => format!("{v} "),
            2 if v >= 0 => format!("+{v}"),
            _ => v.to_string(),
        }
    };
    (Some(Val::Int(v)), t)
}

fn float_cell(rng: &mut ChaCha8Rng, hundredths: i64) -> Cell {
    let v = hundredths as f64 / 100.0;
    let t = match rng.gen_range(0..30) {
        0 if hundredths % 100 == 0 => format!("{}.0", hundredths / 100),
        1 if hundredths < 100 => format!("{v}").trim_start_matches('0').to_string(),
        2 if hundredths % 10 == 0 && hundredths > 0 => format!("{}e-1", hundredths / 10),
        3 => format!(" {v} "),
        _ => format!("{v}"),
    };
    let t = if t.is_empty() { "0".to_string() } else { t };
    // The spelling must denote the value exactly.
    assert_eq!(t.trim().parse::<f64>().ok(), Some(v), "{t}");
    (Some(Val::Float(v)), t)
}

fn bool_cell(rng: &mut ChaCha8Rng, b: bool) -> Cell {
    let t = match (b, rng.gen_range(0..6)) {
        (true, 0) => "TRUE",
        (true, 1) => "True",
        (true, _) => "true",
        (false, 0) => "FALSE",
        (false, 1) => "False",
        (false, _) => "false",
    };
    (Some(Val::Bool(b)), t.to_string())
}

fn date_cell(day: i64) -> Cell {
    let t = day * MICROS_PER_DAY;
    (Some(Val::Time(t)), fmt_date(t))
}

fn datetime_cell(rng: &mut ChaCha8Rng, t: i64) -> Cell {
    let text = if t.rem_euclid(MICROS_PER_DAY) == 0 && rng.gen_bool(0.5) {
        fmt_date(t)
    } else {
        match rng.gen_range(0..8) {
            0 => fmt_datetime_offset(t, 120, true, "T", "Z"),
            1 => fmt_datetime_offset(t, -330, true, "T", "Z"),
            2 => fmt_datetime_offset(t, 0, true, " ", ""),
            3 => fmt_datetime_offset(t, 0, true, "T", "+00:00"),
            _ => fmt_datetime(t),
        }
    };
    (Some(Val::Time(t)), text)
}

fn set_cell(rng: &mut ChaCha8Rng, pool: &[&str], max: usize) -> Cell {
    let n = rng.gen_range(0..=max);
    let mut written: Vec<String> = Vec::new();
    let mut members: Vec<String> = Vec::new();
    for _ in 0..n {
        let m = *pool.choose(rng).unwrap();
        let spelled = match rng.gen_range(0..8) {
            0 => format!(" {m}"),
            1 => format!("{m} "),
            _ => m.to_string(),
        };
        written.push(spelled);
        if !members.iter().any(|x| x == m) {
            members.push(m.to_string());
        }
    }
    if rng.gen_bool(0.05) {
        written.push(String::new()); // `a;` — an empty member is dropped
    }
    let text = written.join(";");
    if members.is_empty() {
        // An empty set is missing: "", ";" and " ; " all are.
        let t = [text.as_str(), ";", " ; ", ""]
            .choose(rng)
            .unwrap()
            .to_string();
        return (None, t);
    }
    (Some(Val::Set(members)), text)
}

fn weighted<'a>(rng: &mut ChaCha8Rng, items: &[&'a str], weights: &[u32]) -> &'a str {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items.iter().zip(weights) {
        if x < *w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1]
}

fn field(name: &'static str, header: &'static str, ty: Ty, schema: Option<&str>) -> Field {
    Field {
        name,
        header,
        ty,
        schema: schema.map(str::to_string),
    }
}

fn toml_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

const FIRST: &[&str] = &[
    "Zoë", "José", "Anna", "Łukasz", "Søren", "Chloé", "Mei", "Ömer", "John", "María", "Aiko",
    "Noah",
];
const LAST: &[&str] = &[
    "Ågren", "Núñez", "Smith", "Müller", "O'Brien", "Dubois", "Li", "Kowalski", "García",
    "Nakamura",
];
const DOMAINS: &[&str] = &[
    "acme.com",
    "globex.io",
    "initech.co.uk",
    "gmail.com",
    "société.fr",
];
const TITLES: &[&str] = &[
    "Head of Sales, EMEA",
    "Directrice Générale",
    "VP \"Growth\"",
    "CTO\nCo-founder",
    "head of marketing",
    "Account Executive",
    "Ingénieur commercial",
    "Chief Revenue Officer",
    "  Sales Manager  ",
    "Head of Sales",
    "DIRECTOR OF OPERATIONS",
    "Founder & CEO",
    "VP Sales; Americas",
    "Développeur, back-end",
];
const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Société Générale",
    "Müller & Söhne, GmbH",
    "\"Quoted\" Inc",
    "Stark Industries",
    "Wayne Enterprises",
    "Tyrell",
];

fn ascii_slug(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ë' | 'é' => 'e',
            'Ł' => 'l',
            'ø' | 'Ø' | 'Ö' | 'ö' => 'o',
            'Å' | 'á' => 'a',
            'ú' => 'u',
            'ñ' => 'n',
            'í' => 'i',
            'ü' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Spells a string differently but equal after trimming and case folding.
fn variant(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.gen_range(0..5) {
        0 => s.to_uppercase(),
        1 => format!("{s} "),
        2 => format!(" {}", s.to_lowercase()),
        3 => s.to_string(),
        _ => {
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i % 2 == 0 {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn accounts(rng: &mut ChaCha8Rng, n: usize, now: i64) -> Table {
    let today = now.div_euclid(MICROS_PER_DAY);
    let mut t = Table {
        fields: vec![
            field("id", "ID", Ty::Str, Some("\"string\"")),
            field("name", "Name", Ty::Str, Some("\"string\"")),
            field(
                "industry",
                "Industry",
                Ty::Enum { declared: None },
                Some("\"enum\""),
            ),
            field("employees", "Employees", Ty::Int, Some("\"int\"")),
            field(
                "tier",
                "Tier",
                Ty::Ordered(TIERS),
                Some(&format!(
                    "{{ type = \"enum\", values = {}, ordered = true }}",
                    toml_list(TIERS)
                )),
            ),
            field("arr", "ARR", Ty::Float, Some("\"float\"")),
            field("renewal_on", "Renewal On", Ty::Date, Some("\"date\"")),
            field("active", "Active", Ty::Bool, Some("\"bool\"")),
            field(
                "products",
                "Products",
                Ty::Set,
                Some("{ type = \"set\", separator = \";\" }"),
            ),
        ],
        ..Table::default()
    };
    let mut names: Vec<String> = Vec::new();
    for i in 0..n {
        let mut row: Vec<Cell> = Vec::new();
        row.push(text(&format!("A{:03}", i + 1)));
        row.push(if rng.gen_bool(0.05) {
            missing(rng)
        } else if !names.is_empty() && rng.gen_bool(0.15) {
            let base = names.choose(rng).unwrap().clone();
            let v = variant(rng, &base);
            text(&v)
        } else {
            let base = COMPANIES.choose(rng).unwrap();
            let name = if rng.gen_bool(0.5) {
                base.to_string()
            } else {
                format!("{base} {}", i + 1)
            };
            names.push(name.clone());
            text(&name)
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            text(INDUSTRIES.choose(rng).unwrap())
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            let v =
                [1, 10, 50, 200, 1000, 5000, 50_000][rng.gen_range(0..7)] + rng.gen_range(0..50);
            int_cell(rng, v, true)
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            text(TIERS.choose(rng).unwrap())
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            {
                let v = rng.gen_range(0..100_000_000);
                float_cell(rng, v)
            }
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            date_cell(today + rng.gen_range(-400..400))
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            {
                let v = rng.gen_bool(0.7);
                bool_cell(rng, v)
            }
        });
        row.push(set_cell(rng, PRODUCTS, 3));
        push_row(&mut t, row);
    }
    t
}

fn contacts(
    rng: &mut ChaCha8Rng,
    n: usize,
    n_accounts: usize,
    now: i64,
) -> (Table, Vec<Option<usize>>) {
    let today = now.div_euclid(MICROS_PER_DAY);
    let stage_schema = format!(
        "{{ type = \"enum\", values = {}, ordered = true }}",
        toml_list(STAGES)
    );
    let seniority_schema = format!(
        "{{ type = \"enum\", values = {}, ordered = true }}",
        toml_list(SENIORITIES)
    );
    let region_schema = format!("{{ type = \"enum\", values = {} }}", toml_list(REGIONS));
    let mut t = Table {
        fields: vec![
            field("id", "id", Ty::Int, Some("\"int\"")),
            field("email", "Email", Ty::Str, Some("\"string\"")),
            field("name", "Name", Ty::Str, Some("\"string\"")),
            field("title", "TITLE", Ty::Str, Some("\"string\"")),
            field(
                "role",
                "Role",
                Ty::Enum { declared: None },
                Some("\"enum\""),
            ),
            field(
                "region",
                "Region",
                Ty::Enum {
                    declared: Some(REGIONS),
                },
                Some(&region_schema),
            ),
            field("stage", "Stage", Ty::Ordered(STAGES), Some(&stage_schema)),
            field(
                "seniority",
                "Seniority",
                Ty::Ordered(SENIORITIES),
                Some(&seniority_schema),
            ),
            field("replies_30d", "Replies (30d)", Ty::Int, Some("\"int\"")),
            // Left to inference: all cells are integers.
            field("meetings_30d", "meetings_30d", Ty::Int, None),
            field("company_size", "Company Size", Ty::Int, Some("\"int\"")),
            field("score", "score", Ty::Float, Some("\"float\"")),
            field("last_activity", "lastActivity", Ty::Date, Some("\"date\"")),
            field(
                "created_at",
                "Created At",
                Ty::DateTime,
                Some("\"datetime\""),
            ),
            field("opted_in", "Opted In", Ty::Bool, Some("\"bool\"")),
            field(
                "tags",
                "Tags",
                Ty::Set,
                Some("{ type = \"set\", separator = \";\" }"),
            ),
            field(
                "account_id",
                "account_id",
                Ty::Ref,
                Some("{ type = \"ref\", table = \"accounts\" }"),
            ),
        ],
        ..Table::default()
    };
    let mut emails: Vec<String> = Vec::new();
    let mut account_of = Vec::new();
    // The last few accounts have no contacts.
    let linked_accounts = n_accounts.saturating_sub(5).max(1);
    for i in 0..n {
        let mut row: Vec<Cell> = Vec::new();
        row.push(int_cell(rng, i as i64 + 1, false));
        let first = *FIRST.choose(rng).unwrap();
        let last = *LAST.choose(rng).unwrap();
        // email: duplicates differ in case and surrounding space
        row.push(if rng.gen_bool(0.05) {
            missing(rng)
        } else if !emails.is_empty() && rng.gen_bool(0.12) {
            let base = emails.choose(rng).unwrap().clone();
            let v = variant(rng, &base);
            text(&v)
        } else {
            let e = format!(
                "{}.{}{}@{}",
                ascii_slug(first),
                ascii_slug(last),
                rng.gen_range(0..40),
                DOMAINS.choose(rng).unwrap()
            );
            emails.push(e.clone());
            text(&e)
        });
        row.push(match rng.gen_range(0..40) {
            0..=2 => missing(rng),
            3 => text("李雷"),
            _ => text(&format!("{first} {last}")),
        });
        row.push(match rng.gen_range(0..25) {
            0..=1 => missing(rng),
            2..=4 => text(&format!(
                "{} of {}",
                ["Head", "Director", "VP"].choose(rng).unwrap(),
                ["Sales", "Marketing", "Sales, EMEA", "Opérations"]
                    .choose(rng)
                    .unwrap()
            )),
            _ => text(TITLES.choose(rng).unwrap()),
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            text(weighted(rng, ROLES, &[14, 12, 25, 30, 4, 8]))
        });
        row.push(if rng.gen_bool(0.07) {
            missing(rng)
        } else {
            text(weighted(rng, &REGIONS[..4], &[40, 30, 20, 10]))
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            text(weighted(rng, STAGES, &[35, 25, 12, 12, 10, 6]))
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            text(weighted(rng, SENIORITIES, &[35, 30, 18, 10, 7]))
        });
        row.push(if rng.gen_bool(0.06) {
            missing(rng)
        } else {
            let v = match rng.gen_range(0..100) {
                0..=64 => 0,
                65..=84 => rng.gen_range(1..=3),
                85..=98 => rng.gen_range(4..=20),
                _ => rng.gen_range(100..=500),
            };
            int_cell(rng, v, true)
        });
        row.push(if rng.gen_bool(0.06) {
            missing(rng)
        } else {
            let v = if rng.gen_bool(0.75) {
                0
            } else {
                rng.gen_range(1..=4)
            };
            int_cell(rng, v, false)
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            let v = match rng.gen_range(0..100) {
                0..=2 => 0,
                3 => rng.gen_range(1_000_000_000_000..2_000_000_000_000),
                _ => {
                    let magnitude = 10f64.powf(rng.gen_range(0.0..5.3));
                    magnitude as i64 + 1
                }
            };
            int_cell(rng, v, true)
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            {
                let v = rng.gen_range(0..=10_000);
                float_cell(rng, v)
            }
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            let back = match rng.gen_range(0..200) {
                0 => today - days_from_civil(1969, 7, 20),
                1..=59 => rng.gen_range(0..40),
                60..=69 => 0,
                70..=79 => -rng.gen_range(1..10),
                _ => rng.gen_range(0..1100),
            };
            date_cell(today - back)
        });
        row.push(if rng.gen_bool(0.08) {
            missing(rng)
        } else {
            let t = match rng.gen_range(0..30) {
                0 => now,
                1 => now - 30 * MICROS_PER_DAY,
                2 => today * MICROS_PER_DAY,
                3 => (today - rng.gen_range(0..400)) * MICROS_PER_DAY,
                4 => now + rng.gen_range(1..48) * MICROS_PER_HOUR,
                5 => now - rng.gen_range(0..48) * MICROS_PER_HOUR - rng.gen_range(0..1000) * 1000,
                6..=12 => now - rng.gen_range(0..60 * MICROS_PER_DAY),
                _ => {
                    now - rng.gen_range(0..1500) * MICROS_PER_DAY
                        - rng.gen_range(0..86_400) * MICROS_PER_SECOND
                }
            };
            datetime_cell(rng, t)
        });
        row.push(if rng.gen_bool(0.1) {
            missing(rng)
        } else {
            {
                let v = rng.gen_bool(0.6);
                bool_cell(rng, v)
            }
        });
        row.push(set_cell(rng, TAGS, 3));
        let account = if rng.gen_bool(0.15) {
            None
        } else {
            // skewed: low account numbers get more contacts
            let a = rng.gen_range(0..linked_accounts);
            Some(if rng.gen_bool(0.4) { a / 4 } else { a })
        };
        row.push(match account {
            None => missing(rng),
            Some(a) => {
                let key = format!("A{:03}", a + 1);
                if rng.gen_bool(0.03) {
                    (Some(Val::Text(format!(" {key} "))), format!(" {key} "))
                } else {
                    text(&key)
                }
            }
        });
        account_of.push(account);
        push_row(&mut t, row);
    }
    (t, account_of)
}

fn push_row(t: &mut Table, row: Vec<Cell>) {
    let (vals, cells): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    assert_eq!(vals.len(), t.fields.len());
    t.rows.push(vals);
    t.cells.push(cells);
}

/// Every column but the key has missing values: blank out a cell where a
/// column has none.
fn ensure_missing(
    rng: &mut ChaCha8Rng,
    t: &mut Table,
    key: usize,
    account_of: Option<&mut Vec<Option<usize>>>,
) {
    let mut account_of = account_of;
    for f in 0..t.fields.len() {
        if f == key || t.rows.iter().any(|r| r[f].is_none()) {
            continue;
        }
        let r = rng.gen_range(0..t.rows.len());
        t.rows[r][f] = None;
        t.cells[r][f] = String::new();
        if t.fields[f].ty == Ty::Ref {
            if let Some(a) = account_of.as_deref_mut() {
                a[r] = None;
            }
        }
    }
}

/// Generates the data set.
pub fn generate(rng: &mut ChaCha8Rng, n_contacts: usize, n_accounts: usize, now: i64) -> Data {
    let mut accounts = accounts(rng, n_accounts, now);
    ensure_missing(rng, &mut accounts, 0, None);
    let (mut contacts, mut account_of) = contacts(rng, n_contacts, n_accounts, now);
    ensure_missing(rng, &mut contacts, 0, Some(&mut account_of));
    let mut members = vec![Vec::new(); n_accounts];
    for (c, a) in account_of.iter().enumerate() {
        if let Some(a) = a {
            members[*a].push(c);
        }
    }
    Data {
        contacts,
        accounts,
        account_of,
        members,
        now,
    }
}

fn write_csv(t: &Table, path: &Path) {
    let mut w = csv::WriterBuilder::new()
        .from_path(path)
        .expect("create csv");
    w.write_record(t.fields.iter().map(|f| f.header))
        .expect("header");
    for row in &t.cells {
        w.write_record(row).expect("row");
    }
    w.flush().expect("flush");
}

fn schema_table(out: &mut String, name: &str, t: &Table) {
    let _ = writeln!(out, "[{name}]\nkey = \"id\"\n\n[{name}.fields]");
    for f in &t.fields {
        if let Some(s) = &f.schema {
            let _ = writeln!(out, "{} = {s}", f.name);
        }
    }
    out.push('\n');
}

/// The schema.toml text.
pub fn schema_toml(data: &Data) -> String {
    let mut out = String::from("# generated by tests/common/data.rs\n");
    schema_table(&mut out, "contacts", &data.contacts);
    schema_table(&mut out, "accounts", &data.accounts);
    out
}

/// Writes contacts.csv, accounts.csv and schema.toml into `dir`.
pub fn write(data: &Data, dir: &Path) {
    write_csv(&data.contacts, &dir.join("contacts.csv"));
    write_csv(&data.accounts, &dir.join("accounts.csv"));
    std::fs::write(dir.join("schema.toml"), schema_toml(data)).expect("write schema");
}

/// Sanity checks on the generated data itself, so the differential test
/// cannot pass vacuously.
pub fn check_shape(data: &Data) {
    for t in [&data.contacts, &data.accounts] {
        for (f, field) in t.fields.iter().enumerate().skip(1) {
            let missing = t.rows.iter().filter(|r| r[f].is_none()).count();
            assert!(missing > 0, "{} has no missing values", field.name);
            assert!(missing < t.rows.len(), "{} is all missing", field.name);
        }
    }
    let emails = data.contacts.field("email");
    let folded: Vec<String> = data
        .contacts
        .rows
        .iter()
        .filter_map(|r| match &r[emails] {
            Some(Val::Text(s)) => Some(s.trim().to_lowercase()),
            _ => None,
        })
        .collect();
    let distinct: HashSet<&String> = folded.iter().collect();
    assert!(distinct.len() < folded.len(), "emails have duplicates");
    assert!(
        data.members.iter().any(Vec::is_empty),
        "some account has no contacts"
    );
    assert!(
        data.account_of.iter().any(Option::is_none),
        "some contact has no account"
    );
}
