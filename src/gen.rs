//! Deterministic synthetic B2B sales-contact data set generator.
//!
//! Everything is derived from a single `ChaCha8Rng` seeded with
//! [`GenConfig::seed`]: accounts are generated first, then contacts in id
//! order, so the output is identical for a given configuration no matter how
//! it is consumed. Only basic IEEE arithmetic (`+ - * /`, `sqrt`) is used on
//! floats, so the output does not depend on the platform's libm either.
//!
//! Memory use is proportional to the number of *accounts* (a 16-byte record
//! plus a 12-byte alias-table entry each) and independent of the number of
//! contacts; rows are built in one reused buffer.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Parameters of a generated data set.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub contacts: u64,
    pub accounts: u64, // default elsewhere: max(1, contacts / 25)
    pub seed: u64,
    /// "today" as days since 1970-01-01 (UTC); dates are generated relative to it, so output is deterministic.
    pub today_days: i64,
}

/// Header of `contacts.csv`, in column order.
pub const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "role",
    "seniority",
    "stage",
    "region",
    "industry",
    "company_size",
    "replies_30d",
    "meetings_30d",
    "opens_30d",
    "score",
    "last_activity",
    "created_at",
    "opted_in",
    "tags",
    "account_id",
];

/// Header of `accounts.csv`, in column order.
pub const ACCOUNT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "domain",
    "industry",
    "employees",
    "tier",
    "region",
];

// ---------------------------------------------------------------------------
// Rates (per mille) of deliberately dirty / missing values.

/// Contacts whose email repeats an earlier contact's (exact, case variant or trailing space).
const EMAIL_DUP_PM: u32 = 20;
/// Missing email (among the non-duplicate contacts).
const EMAIL_MISSING_PM: u32 = 30;
const TITLE_MISSING_PM: u32 = 80;
const ROLE_MISSING_PM: u32 = 20;
const SENIORITY_MISSING_PM: u32 = 40;
const LAST_ACTIVITY_MISSING_PM: u32 = 50;
const OPTED_IN_MISSING_PM: u32 = 10;
const OPTED_IN_TRUE_PM: u32 = 700;
const ACCOUNT_MISSING_PM: u32 = 100;

/// Window (days before today) of `last_activity`.
const LAST_ACTIVITY_WINDOW: u32 = 3 * 365;
/// Window (days before today) of `created_at`.
const CREATED_WINDOW: u32 = 5 * 365;

/// Number of earlier emails remembered as duplicate sources.
const RING: usize = 4096;
/// How often `write_dataset` reports progress (contacts; a power of two).
const PROGRESS_EVERY: u64 = 1 << 16;

// ---------------------------------------------------------------------------
// Domains.

const ROLES: &[&str] = &[
    "decision_maker",
    "champion",
    "influencer",
    "evaluator",
    "end_user",
    "blocker",
];
const ROLE_W: &[u32] = &[14, 12, 25, 15, 31, 3];

const SENIORITIES: &[&str] = &["ic", "manager", "director", "vp", "c_level"];
/// Seniority weights per role (rows in `ROLES` order).
const SENIORITY_W: [[u32; 5]; 6] = [
    [0, 8, 27, 38, 27],   // decision_maker
    [15, 40, 30, 12, 3],  // champion
    [30, 38, 22, 8, 2],   // influencer
    [50, 33, 13, 4, 0],   // evaluator
    [78, 18, 4, 0, 0],    // end_user
    [10, 30, 30, 20, 10], // blocker
];

const STAGES: &[&str] = &["lead", "mql", "sql", "opportunity", "customer", "churned"];
const STAGE_W: &[u32] = &[40, 25, 12, 10, 9, 4];
/// Per stage: chance (per mille) of any engagement in the last 30 days.
const ACTIVE_PM: [u32; 6] = [250, 450, 600, 800, 750, 200];
/// Per stage: mean of the geometric part of `opens_30d` for active contacts.
const OPENS_MEAN: [f64; 6] = [1.5, 2.5, 3.5, 5.5, 4.5, 1.0];
/// Per stage: chance that an open leads to a reply.
const REPLY_P: [f64; 6] = [0.10, 0.15, 0.22, 0.30, 0.25, 0.05];
/// Per stage: chance that a reply leads to a meeting.
const MEETING_P: [f64; 6] = [0.15, 0.25, 0.35, 0.45, 0.35, 0.10];
/// Per stage: base of `score`.
const SCORE_BASE: [i64; 6] = [10, 25, 40, 55, 60, 15];

const REGIONS: &[&str] = &[
    "namer", "emea", "apac", "latam", "anz", "mea", "india", "china",
];
const REGION_W: &[u32] = &[35, 25, 10, 8, 5, 4, 7, 6];

const INDUSTRIES: &[&str] = &[
    "software",
    "fintech",
    "healthcare",
    "retail",
    "media",
    "manufacturing",
    "logistics",
    "education",
    "government",
    "energy",
    "telecom",
    "insurance",
    "banking",
    "biotech",
    "automotive",
    "hospitality",
    "real_estate",
    "legal",
    "agriculture",
    "gaming",
];
const INDUSTRY_W: &[u32] = &[12, 6, 7, 6, 4, 8, 5, 4, 3, 4, 4, 5, 5, 4, 4, 3, 3, 2, 2, 3];
const IND_EDUCATION: usize = 7;
const IND_GOVERNMENT: usize = 8;

/// Company-name suffixes typical of each industry (`INDUSTRIES` order).
const INDUSTRY_SUFFIXES: [&[&str]; 20] = [
    &["Software", "Systems", "Labs", "Cloud", "Data"],
    &["Pay", "Payments", "Fintech", "Capital"],
    &["Health", "Medical", "Care", "Clinics"],
    &["Retail", "Outfitters", "Market", "Stores"],
    &["Media", "Studios", "Publishing", "Broadcasting"],
    &["Manufacturing", "Industries", "Works", "Fabrication"],
    &["Logistics", "Freight", "Shipping", "Transport"],
    &["Learning", "Academy", "Education", "Institute"],
    &["Public Services", "Civic Systems", "Authority", "Council"],
    &["Energy", "Power", "Renewables", "Utilities"],
    &["Telecom", "Networks", "Communications", "Wireless"],
    &["Insurance", "Assurance", "Underwriters", "Mutual"],
    &["Bank", "Bancorp", "Financial", "Trust"],
    &["Biotech", "Therapeutics", "Biosciences", "Genomics"],
    &["Motors", "Automotive", "Mobility", "Auto Parts"],
    &["Hotels", "Hospitality", "Resorts", "Travel"],
    &["Realty", "Properties", "Real Estate", "Homes"],
    &["Legal", "Law Group", "Legal Services", "Advocates"],
    &["Farms", "Agriculture", "AgriTech", "Seeds"],
    &["Games", "Interactive", "Gaming", "Entertainment"],
];
const GENERIC_SUFFIXES: &[&str] = &[
    "Group",
    "Holdings",
    "Partners",
    "Solutions",
    "Analytics",
    "Technologies",
    "Global",
    "Corp",
    "Dynamics",
    "Ventures",
];

const COMPANY_PREFIXES: &[&str] = &[
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Wide World",
    "Blue Yonder",
    "Litware",
    "Adventure Works",
    "Proseware",
    "Lucerne",
    "Alpine",
    "Summit",
    "Pinnacle",
    "Horizon",
    "Evergreen",
    "Redwood",
    "Silverline",
    "Bluewave",
    "Ironclad",
    "Brightpath",
    "Clearwater",
    "Keystone",
    "Meridian",
    "Nimbus",
    "Orion",
    "Polaris",
    "Quantum",
    "Sterling",
    "Vertex",
    "Zenith",
    "Apex",
    "Beacon",
    "Cascade",
    "Crescent",
    "Everest",
    "Falcon",
    "Granite",
    "Harbor",
    "Juniper",
    "Lighthouse",
    "Maple",
    "Nova",
    "Oakridge",
    "Pioneer",
    "Riverbend",
    "Sapphire",
    "Titan",
    "Unity",
    "Vanguard",
    "Willow",
    "Atlas",
    "Cobalt",
    "Delta",
    "Echo",
    "Frontier",
    "Helix",
    "Insight",
    "Kinetic",
    "Lumen",
    "Momentum",
    "Northstar",
    "Octave",
    "Prism",
    "Radiant",
    "Sequoia",
    "Tidewater",
    "Copperleaf",
];

/// Top-level domains; the weights cover the general ones, `.edu` and `.gov`
/// are used for education and government accounts only.
const TLDS: &[&str] = &[".com", ".io", ".co", ".net", ".ai", ".org", ".edu", ".gov"];
const TLD_W: &[u32] = &[70, 10, 6, 6, 4, 4];
const TLD_EDU: usize = 6;
const TLD_GOV: usize = 7;

const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "aol.com",
    "gmx.net",
];
const FREE_MAIL_W: &[u32] = &[45, 18, 12, 9, 7, 4, 2, 3];

const TIERS: &[&str] = &["smb", "mid_market", "enterprise"];

const TAGS: &[&str] = &[
    "webinar",
    "trial",
    "newsletter",
    "conference",
    "ebook",
    "demo_request",
    "pricing_page",
    "partner",
    "referral",
    "event_2026",
    "beta",
    "case_study",
    "whitepaper",
    "podcast",
    "roadshow",
    "linkedin_ad",
    "google_ad",
    "cold_outbound",
    "inbound",
    "abm_target",
    "competitor_user",
    "renewal",
    "upsell",
    "nps_promoter",
    "nps_detractor",
    "churn_risk",
    "champion_left",
    "event_2025",
    "community",
    "api_user",
];
const TAG_W: &[u32] = &[
    14, 8, 16, 9, 7, 6, 6, 3, 4, 5, 2, 4, 5, 3, 2, 6, 6, 7, 8, 3, 2, 2, 2, 2, 1, 1, 1, 4, 3, 2,
];
/// Weights of the number of tags (0..=4).
const TAG_COUNT_W: &[u32] = &[35, 30, 20, 10, 5];

/// Departments a title belongs to; weights per role below.
const DEPT_COUNT: usize = 10;
/// Department weights per role (`ROLES` order); columns: sales, marketing,
/// engineering, it, finance, operations, procurement, product, people,
/// customer success.
const DEPT_W: [[u32; DEPT_COUNT]; 6] = [
    [16, 12, 12, 12, 14, 10, 6, 8, 4, 6], // decision_maker
    [18, 16, 14, 10, 4, 10, 2, 14, 3, 9], // champion
    [16, 16, 14, 10, 6, 10, 3, 12, 4, 9], // influencer
    [8, 8, 24, 24, 6, 10, 4, 12, 1, 3],   // evaluator
    [18, 14, 20, 10, 6, 10, 3, 8, 4, 7],  // end_user
    [4, 2, 6, 20, 26, 8, 26, 2, 4, 2],    // blocker
];
/// Job titles per department and seniority (ic, manager, director, vp, c_level).
const TITLES: [[&[&str]; 5]; DEPT_COUNT] = [
    [
        &["Account Executive", "Sales Development Representative"],
        &["Sales Manager", "Sales Operations Manager"],
        &["Director of Sales", "Head of Sales"],
        &["VP of Sales"],
        &["Chief Revenue Officer"],
    ],
    [
        &["Marketing Specialist", "Content Marketing Specialist"],
        &["Marketing Manager", "Demand Generation Manager"],
        &["Director of Marketing", "Head of Marketing"],
        &["VP of Marketing"],
        &["Chief Marketing Officer"],
    ],
    [
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Data Engineer",
        ],
        &["Engineering Manager"],
        &["Director of Engineering", "Head of Engineering"],
        &["VP of Engineering"],
        &["Chief Technology Officer"],
    ],
    [
        &["Systems Administrator", "IT Specialist"],
        &["IT Manager"],
        &["Director of IT", "Head of IT"],
        &["VP of IT"],
        &["Chief Information Officer"],
    ],
    [
        &["Financial Analyst", "Accountant"],
        &["Finance Manager"],
        &["Director of Finance", "Head of Finance"],
        &["VP of Finance"],
        &["Chief Financial Officer"],
    ],
    [
        &["Operations Analyst"],
        &["Operations Manager", "Revenue Operations Manager"],
        &["Director of Operations", "Head of Operations"],
        &["VP of Operations"],
        &["Chief Operating Officer"],
    ],
    [
        &["Procurement Specialist", "Buyer"],
        &["Procurement Manager"],
        &["Director of Procurement", "Head of Procurement"],
        &["VP of Procurement"],
        &["Chief Procurement Officer"],
    ],
    [
        &["Product Analyst", "Product Designer"],
        &["Product Manager"],
        &["Director of Product", "Head of Product"],
        &["VP of Product"],
        &["Chief Product Officer"],
    ],
    [
        &["HR Generalist", "Recruiter"],
        &["HR Manager"],
        &["Director of People", "Head of People"],
        &["VP of People"],
        &["Chief People Officer"],
    ],
    [
        &["Customer Success Associate", "Support Engineer"],
        &["Customer Success Manager"],
        &["Director of Customer Success", "Head of Customer Success"],
        &["VP of Customer Success"],
        &["Chief Customer Officer"],
    ],
];
const CEO_TITLE: &str = "Chief Executive Officer";

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ann",
    "Wei",
    "Priya",
    "Raj",
    "Mohammed",
    "Fatima",
    "Hiroshi",
    "Yuki",
    "Mei",
    "Chen",
    "Olga",
    "Ivan",
    "Sofia",
    "Lucas",
    "Mateo",
    "Camila",
    "Valentina",
    "Diego",
    "Elena",
    "Marco",
    "Giulia",
    "Luca",
    "Emma",
    "Noah",
    "Liam",
    "Olivia",
    "Ava",
    "Mia",
    "Ethan",
    "Chloe",
    "Lena",
    "Jonas",
    "Anna",
    "Lars",
    "Ingrid",
    "Pierre",
    "Camille",
    "Hugo",
    "Aisha",
    "Omar",
    "Kwame",
    "Amara",
    "Sipho",
    "Thandiwe",
    "Arjun",
    "Ananya",
    "Ji-woo",
    "Min-jun",
    "Siobhan",
    "Sean",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kim",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Singh",
    "Patel",
    "Kumar",
    "Sharma",
    "Gupta",
    "Khan",
    "Ali",
    "Hassan",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Watanabe",
    "Mueller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Rossi",
    "Russo",
    "Bianchi",
    "Dubois",
    "Laurent",
    "Moreau",
    "Silva",
    "Santos",
    "Oliveira",
    "Costa",
    "Ivanov",
    "Petrov",
    "Novak",
    "Kowalski",
    "Nowak",
    "Jensen",
    "Hansen",
    "Larsen",
    "Andersson",
    "Johansson",
    "O'Brien",
    "O'Connor",
    "Murphy",
    "Okafor",
    "Mensah",
    "Van der Berg",
];

// ---------------------------------------------------------------------------
// Public API.

/// `schema.toml` text describing both tables.
pub fn schema_toml() -> String {
    fn list(values: &[&str]) -> String {
        let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        format!("[{}]", quoted.join(", "))
    }
    fn enum_field(values: &[&str], ordered: bool) -> String {
        if ordered {
            format!(
                "{{ type = \"enum\", values = {}, ordered = true }}",
                list(values)
            )
        } else {
            format!("{{ type = \"enum\", values = {} }}", list(values))
        }
    }
    let contact_types: [(&str, String); 20] = [
        ("id", "\"int\"".into()),
        ("email", "\"string\"".into()),
        ("first_name", "\"string\"".into()),
        ("last_name", "\"string\"".into()),
        ("title", "\"string\"".into()),
        ("role", enum_field(ROLES, false)),
        ("seniority", enum_field(SENIORITIES, true)),
        ("stage", enum_field(STAGES, true)),
        ("region", enum_field(REGIONS, false)),
        ("industry", enum_field(INDUSTRIES, false)),
        ("company_size", "\"int\"".into()),
        ("replies_30d", "\"int\"".into()),
        ("meetings_30d", "\"int\"".into()),
        ("opens_30d", "\"int\"".into()),
        ("score", "\"int\"".into()),
        ("last_activity", "\"date\"".into()),
        ("created_at", "\"datetime\"".into()),
        ("opted_in", "\"bool\"".into()),
        ("tags", "{ type = \"set\", separator = \";\" }".into()),
        (
            "account_id",
            "{ type = \"ref\", table = \"accounts\" }".into(),
        ),
    ];
    let account_types: [(&str, String); 7] = [
        ("id", "\"int\"".into()),
        ("name", "\"string\"".into()),
        ("domain", "\"string\"".into()),
        ("industry", enum_field(INDUSTRIES, false)),
        ("employees", "\"int\"".into()),
        ("tier", enum_field(TIERS, true)),
        ("region", enum_field(REGIONS, false)),
    ];
    debug_assert!(contact_types
        .iter()
        .map(|(n, _)| *n)
        .eq(CONTACT_COLUMNS.iter().copied()));
    debug_assert!(account_types
        .iter()
        .map(|(n, _)| *n)
        .eq(ACCOUNT_COLUMNS.iter().copied()));

    let mut out = String::from("[contacts]\nkey = \"id\"\n\n[contacts.fields]\n");
    for (name, ty) in &contact_types {
        out.push_str(&format!("{name} = {ty}\n"));
    }
    out.push_str("\n[accounts]\nkey = \"id\"\n\n[accounts.fields]\n");
    for (name, ty) in &account_types {
        out.push_str(&format!("{name} = {ty}\n"));
    }
    out
}

/// Calls `contact(row)` once per contact in id order and `account(row)` once per account; each row is a slice of cell strings in column order, "" meaning missing.
///
/// All accounts are produced before the first contact.
pub fn generate(
    cfg: &GenConfig,
    mut account: impl FnMut(&[&str]),
    mut contact: impl FnMut(&[&str]),
) {
    let result = generate_inner(
        cfg,
        |row| {
            account(row);
            Ok(())
        },
        |row| {
            contact(row);
            Ok(())
        },
    );
    debug_assert!(result.is_ok());
}

/// Writes contacts.csv, accounts.csv and schema.toml into `dir` (created if needed). Each file is written to a temporary file in the same directory and renamed into place. `progress` is called now and then with the number of contacts written so far.
pub fn write_dataset(cfg: &GenConfig, dir: &Path, progress: &mut dyn FnMut(u64)) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let names = ["contacts.csv", "accounts.csv", "schema.toml"];
    let tmps: Vec<PathBuf> = names.iter().map(|n| temp_path(dir, n)).collect();
    let result = write_files(cfg, &tmps, progress).and_then(|written| {
        for (tmp, name) in tmps.iter().zip(names) {
            fs::rename(tmp, dir.join(name))?;
        }
        progress(written);
        Ok(())
    });
    if result.is_err() {
        for tmp in &tmps {
            let _ = fs::remove_file(tmp);
        }
    }
    result
}

// ---------------------------------------------------------------------------
// File output.

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.tmp-{}", std::process::id()))
}

type CsvOut = csv::Writer<BufWriter<File>>;

fn csv_writer(path: &Path) -> io::Result<CsvOut> {
    let file = File::create(path)?;
    Ok(csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(BufWriter::with_capacity(1 << 20, file)))
}

fn finish_csv(w: CsvOut) -> io::Result<()> {
    let buf = w.into_inner().map_err(|e| e.into_error())?;
    let file = buf.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// Writes the three files to `tmps` (contacts, accounts, schema); returns the number of contacts.
fn write_files(
    cfg: &GenConfig,
    tmps: &[PathBuf],
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    let mut contacts = csv_writer(&tmps[0])?;
    let mut accounts = csv_writer(&tmps[1])?;
    contacts.write_record(CONTACT_COLUMNS)?;
    accounts.write_record(ACCOUNT_COLUMNS)?;
    let mut written = 0u64;
    generate_inner(
        cfg,
        |row| Ok(accounts.write_record(row)?),
        |row| {
            contacts.write_record(row)?;
            written += 1;
            if written & (PROGRESS_EVERY - 1) == 0 {
                progress(written);
            }
            Ok(())
        },
    )?;
    finish_csv(accounts)?;
    finish_csv(contacts)?;
    let mut schema = File::create(&tmps[2])?;
    schema.write_all(schema_toml().as_bytes())?;
    schema.sync_all()?;
    Ok(written)
}

// ---------------------------------------------------------------------------
// Random helpers.

/// Uniform integer in `0..n` (multiply-shift; bias below n / 2^32). `n` must be > 0.
#[inline]
fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

#[inline]
fn below_usize(rng: &mut ChaCha8Rng, n: usize) -> usize {
    below(rng, n as u32) as usize
}

#[inline]
fn chance_pm(rng: &mut ChaCha8Rng, per_mille: u32) -> bool {
    below(rng, 1000) < per_mille
}

/// Index drawn with probability proportional to `w`.
#[inline]
fn pick(rng: &mut ChaCha8Rng, w: &[u32]) -> usize {
    let total: u32 = w.iter().sum();
    let mut x = below(rng, total);
    for (i, &wi) in w.iter().enumerate() {
        if x < wi {
            return i;
        }
        x -= wi;
    }
    w.len() - 1
}

/// Number of successes in `n` Bernoulli(`p`) trials.
#[inline]
fn binomial(rng: &mut ChaCha8Rng, n: u64, p: f64) -> u64 {
    (0..n).filter(|_| rng.gen::<f64>() < p).count() as u64
}

/// Geometric number of failures with the given mean (capped).
#[inline]
fn geometric(rng: &mut ChaCha8Rng, mean: f64, cap: u64) -> u64 {
    let q = mean / (1.0 + mean);
    let mut n = 0;
    while n < cap && rng.gen::<f64>() < q {
        n += 1;
    }
    n
}

/// Heavy-tailed company size in 1..=100000: a decade is chosen by weight, the
/// value inside it is skewed towards the decade's low end.
fn sample_employees(rng: &mut ChaCha8Rng) -> u32 {
    const DECADE_W: &[u32] = &[220, 300, 260, 150, 68, 2];
    let k = pick(rng, DECADE_W) as u32;
    if k == 5 {
        return 100_000;
    }
    let lo = 10u32.pow(k);
    let u: f64 = rng.gen();
    let span = f64::from(9 * lo);
    (lo + (span * u * u) as u32).min(100_000)
}

fn tier_of(employees: u32) -> &'static str {
    match employees {
        0..=99 => TIERS[0],
        100..=999 => TIERS[1],
        _ => TIERS[2],
    }
}

/// Walker/Vose alias table for O(1) weighted sampling of accounts.
struct Alias {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let sum: f64 = weights.iter().sum();
        let mut prob: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| prob[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s as usize] = l;
            prob[l as usize] += prob[s as usize] - 1.0;
            if prob[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for &i in large.iter().chain(small.iter()) {
            prob[i as usize] = 1.0;
        }
        Alias { prob, alias }
    }

    #[inline]
    fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let i = below_usize(rng, self.prob.len());
        if rng.gen::<f64>() < self.prob[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

// ---------------------------------------------------------------------------
// Formatting helpers.

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let y = yoe as i64 + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn push_u64(buf: &mut String, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend(tmp[i..].iter().map(|&b| b as char));
}

#[inline]
fn push_2(buf: &mut String, v: u32) {
    buf.push((b'0' + (v / 10 % 10) as u8) as char);
    buf.push((b'0' + (v % 10) as u8) as char);
}

/// `YYYY-MM-DD`.
fn push_date(buf: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    if (0..10_000).contains(&y) {
        let y = y as u32;
        push_2(buf, y / 100);
        push_2(buf, y % 100);
    } else {
        if y < 0 {
            buf.push('-');
        }
        push_u64(buf, y.unsigned_abs());
    }
    buf.push('-');
    push_2(buf, m);
    buf.push('-');
    push_2(buf, d);
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn push_datetime(buf: &mut String, days: i64, secs: u32) {
    push_date(buf, days);
    buf.push('T');
    push_2(buf, secs / 3600);
    buf.push(':');
    push_2(buf, secs / 60 % 60);
    buf.push(':');
    push_2(buf, secs % 60);
    buf.push('Z');
}

/// Lower-case ASCII letters and digits of `s` (for emails and domains).
fn email_part(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

const MAX_COLS: usize = 20;

/// One row built in a reused buffer; cell `k` is `buf[ends[k-1]..ends[k]]`.
struct Row {
    buf: String,
    ends: Vec<usize>,
}

impl Row {
    fn new() -> Row {
        Row {
            buf: String::with_capacity(512),
            ends: Vec::with_capacity(MAX_COLS),
        }
    }
    #[inline]
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
    #[inline]
    fn end(&mut self) {
        self.ends.push(self.buf.len());
    }
    #[inline]
    fn str(&mut self, s: &str) {
        self.buf.push_str(s);
        self.end();
    }
    #[inline]
    fn int(&mut self, v: u64) {
        push_u64(&mut self.buf, v);
        self.end();
    }
    #[inline]
    fn empty(&mut self) {
        self.end();
    }
    fn emit<F: FnMut(&[&str]) -> io::Result<()>>(&self, f: &mut F) -> io::Result<()> {
        let mut cells = [""; MAX_COLS];
        let mut start = 0;
        for (cell, &end) in cells.iter_mut().zip(&self.ends) {
            *cell = &self.buf[start..end];
            start = end;
        }
        f(&cells[..self.ends.len()])
    }
}

// ---------------------------------------------------------------------------
// Generation.

/// Compact account record kept in memory while contacts are generated.
struct Account {
    prefix: u16,
    suffix: u16,
    /// 1 for the first company with this name, n for the n-th (appended to name and domain).
    number: u32,
    tld: u8,
    industry: u8,
    region: u8,
    employees: u32,
}

/// Static lookup tables derived once per run.
struct Tables {
    /// Deduplicated company-name suffixes (all industries + generic).
    suffixes: Vec<&'static str>,
    /// Per industry: indices into `suffixes` it may use.
    industry_suffixes: Vec<Vec<u16>>,
    prefix_lc: Vec<String>,
    suffix_lc: Vec<String>,
    first_lc: Vec<String>,
    last_lc: Vec<String>,
}

impl Tables {
    fn new() -> Tables {
        let mut suffixes: Vec<&'static str> = Vec::new();
        let mut index_of = |s: &'static str| -> u16 {
            match suffixes.iter().position(|&x| x == s) {
                Some(i) => i as u16,
                None => {
                    suffixes.push(s);
                    (suffixes.len() - 1) as u16
                }
            }
        };
        let industry_suffixes: Vec<Vec<u16>> = INDUSTRY_SUFFIXES
            .iter()
            .map(|own| {
                own.iter()
                    .chain(GENERIC_SUFFIXES)
                    .map(|&s| index_of(s))
                    .collect()
            })
            .collect();
        Tables {
            suffix_lc: suffixes.iter().map(|s| email_part(s)).collect(),
            suffixes,
            industry_suffixes,
            prefix_lc: COMPANY_PREFIXES.iter().map(|s| email_part(s)).collect(),
            first_lc: FIRST_NAMES.iter().map(|s| email_part(s)).collect(),
            last_lc: LAST_NAMES.iter().map(|s| email_part(s)).collect(),
        }
    }

    fn push_domain(&self, buf: &mut String, a: &Account) {
        buf.push_str(&self.prefix_lc[a.prefix as usize]);
        buf.push_str(&self.suffix_lc[a.suffix as usize]);
        if a.number > 1 {
            push_u64(buf, u64::from(a.number));
        }
        buf.push_str(TLDS[a.tld as usize]);
    }
}

/// An earlier contact whose email may be duplicated.
struct Prev {
    email: String,
    first: u16,
    last: u16,
    /// Account index + 1, 0 for none.
    account: u32,
}

fn generate_inner<A, C>(cfg: &GenConfig, mut account: A, mut contact: C) -> io::Result<()>
where
    A: FnMut(&[&str]) -> io::Result<()>,
    C: FnMut(&[&str]) -> io::Result<()>,
{
    assert!(
        cfg.accounts < u64::from(u32::MAX),
        "too many accounts: {}",
        cfg.accounts
    );
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let t = Tables::new();
    let mut row = Row::new();

    // ---- accounts ----
    let m = cfg.accounts as usize;
    let mut accounts: Vec<Account> = Vec::with_capacity(m);
    let mut popularity: Vec<f64> = Vec::with_capacity(m);
    let mut name_counts = vec![0u32; COMPANY_PREFIXES.len() * t.suffixes.len()];
    for id in 1..=cfg.accounts {
        let industry = pick(&mut rng, INDUSTRY_W);
        let region = pick(&mut rng, REGION_W);
        let employees = sample_employees(&mut rng);
        let prefix = below_usize(&mut rng, COMPANY_PREFIXES.len());
        let own = &t.industry_suffixes[industry];
        let suffix = own[below_usize(&mut rng, own.len())] as usize;
        let count = &mut name_counts[prefix * t.suffixes.len() + suffix];
        *count += 1;
        let tld = match industry {
            IND_EDUCATION if chance_pm(&mut rng, 500) => TLD_EDU,
            IND_GOVERNMENT if chance_pm(&mut rng, 700) => TLD_GOV,
            _ => pick(&mut rng, TLD_W),
        };
        // Bigger companies have more contacts; the random factor spreads it out.
        popularity.push(f64::from(employees).sqrt() * (0.25 + 1.5 * rng.gen::<f64>()));
        let a = Account {
            prefix: prefix as u16,
            suffix: suffix as u16,
            number: *count,
            tld: tld as u8,
            industry: industry as u8,
            region: region as u8,
            employees,
        };

        row.clear();
        row.int(id);
        row.buf.push_str(COMPANY_PREFIXES[prefix]);
        row.buf.push(' ');
        row.buf.push_str(t.suffixes[suffix]);
        if a.number > 1 {
            row.buf.push(' ');
            push_u64(&mut row.buf, u64::from(a.number));
        }
        row.end();
        t.push_domain(&mut row.buf, &a);
        row.end();
        row.str(INDUSTRIES[industry]);
        row.int(u64::from(employees));
        row.str(tier_of(employees));
        row.str(REGIONS[region]);
        row.emit(&mut account)?;
        accounts.push(a);
    }
    let alias = if m > 0 {
        Some(Alias::new(&popularity))
    } else {
        None
    };
    drop(popularity);
    drop(name_counts);

    // ---- contacts ----
    let mut ring: Vec<Prev> = Vec::with_capacity(RING.min(cfg.contacts as usize));
    let mut tag_idx = [0usize; 4];
    for id in 1..=cfg.contacts {
        row.clear();
        row.int(id);

        // Identity: either a duplicate of an earlier contact or a new person.
        let (first, last, acct);
        if !ring.is_empty() && chance_pm(&mut rng, EMAIL_DUP_PM) {
            let p = &ring[below_usize(&mut rng, ring.len())];
            first = p.first as usize;
            last = p.last as usize;
            acct = p.account.checked_sub(1).map(|a| a as usize);
            match below(&mut rng, 100) {
                0..=44 => row.buf.push_str(&p.email),
                45..=79 => {
                    if chance_pm(&mut rng, 150) {
                        row.buf
                            .extend(p.email.chars().map(|c| c.to_ascii_uppercase()));
                    } else {
                        // Capitalise each part of the local name: Ann.Lee@acme.com
                        let mut up = true;
                        let mut local = true;
                        for c in p.email.chars() {
                            if c == '@' {
                                local = false;
                            }
                            row.buf.push(if local && up {
                                c.to_ascii_uppercase()
                            } else {
                                c
                            });
                            up = matches!(c, '.' | '_');
                        }
                    }
                }
                _ => {
                    row.buf.push_str(&p.email);
                    row.buf.push(' ');
                }
            }
            row.end();
        } else {
            first = below_usize(&mut rng, FIRST_NAMES.len());
            last = below_usize(&mut rng, LAST_NAMES.len());
            acct = match &alias {
                Some(al) if !chance_pm(&mut rng, ACCOUNT_MISSING_PM) => Some(al.sample(&mut rng)),
                _ => None,
            };
            if chance_pm(&mut rng, EMAIL_MISSING_PM) {
                row.empty();
            } else {
                let start = row.buf.len();
                push_email(
                    &mut rng,
                    &t,
                    &mut row.buf,
                    first,
                    last,
                    acct.map(|a| &accounts[a]),
                );
                let email = &row.buf[start..];
                let slot = if ring.len() < RING {
                    ring.push(Prev {
                        email: String::new(),
                        first: 0,
                        last: 0,
                        account: 0,
                    });
                    Some(ring.len() - 1)
                } else if below(&mut rng, 8) == 0 {
                    Some(below_usize(&mut rng, RING))
                } else {
                    None
                };
                if let Some(slot) = slot {
                    let p = &mut ring[slot];
                    p.email.clear();
                    p.email.push_str(email);
                    p.first = first as u16;
                    p.last = last as u16;
                    p.account = acct.map_or(0, |a| a as u32 + 1);
                }
                row.end();
            }
        }
        row.str(FIRST_NAMES[first]);
        row.str(LAST_NAMES[last]);

        // Role, seniority, title.
        let role = pick(&mut rng, ROLE_W);
        let seniority = pick(&mut rng, &SENIORITY_W[role]);
        let dept = pick(&mut rng, &DEPT_W[role]);
        let title = if seniority == 4 && role == 0 && chance_pm(&mut rng, 150) {
            CEO_TITLE
        } else {
            let options = TITLES[dept][seniority];
            options[below_usize(&mut rng, options.len())]
        };
        if chance_pm(&mut rng, TITLE_MISSING_PM) {
            row.empty();
        } else {
            row.str(title);
        }
        if chance_pm(&mut rng, ROLE_MISSING_PM) {
            row.empty();
        } else {
            row.str(ROLES[role]);
        }
        if chance_pm(&mut rng, SENIORITY_MISSING_PM) {
            row.empty();
        } else {
            row.str(SENIORITIES[seniority]);
        }

        let stage = pick(&mut rng, STAGE_W);
        row.str(STAGES[stage]);

        // Firmographics: the account's when there is one.
        match acct {
            Some(a) => {
                let a = &accounts[a];
                row.str(REGIONS[a.region as usize]);
                row.str(INDUSTRIES[a.industry as usize]);
                row.int(u64::from(a.employees));
            }
            None => {
                row.str(REGIONS[pick(&mut rng, REGION_W)]);
                row.str(INDUSTRIES[pick(&mut rng, INDUSTRY_W)]);
                row.int(u64::from(sample_employees(&mut rng)));
            }
        }

        // Engagement: opens >= replies >= meetings, more for later stages.
        let (mut opens, mut replies, mut meetings) = (0, 0, 0);
        if chance_pm(&mut rng, ACTIVE_PM[stage]) {
            let mean = OPENS_MEAN[stage] * (0.3 + 1.4 * rng.gen::<f64>());
            opens = 1 + geometric(&mut rng, mean, 98);
            replies = binomial(&mut rng, opens, REPLY_P[stage]);
            meetings = binomial(&mut rng, replies, MEETING_P[stage]);
        }
        row.int(replies);
        row.int(meetings);
        row.int(opens);
        let noise = i64::from(below(&mut rng, 21)) - 10;
        let score = SCORE_BASE[stage]
            + 2 * opens as i64
            + 8 * replies as i64
            + 15 * meetings as i64
            + noise;
        row.int(score.clamp(0, 100) as u64);

        // Dates: last activity skewed to recent (more so when engaged), creation before it.
        let u: f64 = rng.gen();
        let skew = if opens > 0 { u * u * u } else { u * u.sqrt() };
        let last_ago =
            ((f64::from(LAST_ACTIVITY_WINDOW) * skew) as u32).min(LAST_ACTIVITY_WINDOW - 1);
        if chance_pm(&mut rng, LAST_ACTIVITY_MISSING_PM) {
            row.empty();
        } else {
            push_date(&mut row.buf, cfg.today_days - i64::from(last_ago));
            row.end();
        }
        let created_ago = last_ago + 1 + below(&mut rng, CREATED_WINDOW - last_ago);
        push_datetime(
            &mut row.buf,
            cfg.today_days - i64::from(created_ago),
            below(&mut rng, 86_400),
        );
        row.end();

        if chance_pm(&mut rng, OPTED_IN_MISSING_PM) {
            row.empty();
        } else if chance_pm(&mut rng, OPTED_IN_TRUE_PM) {
            row.str("true");
        } else {
            row.str("false");
        }

        // Tags: 0-4 distinct, sorted by tag list order.
        let n_tags = pick(&mut rng, TAG_COUNT_W);
        let mut k = 0;
        while k < n_tags {
            let tag = pick(&mut rng, TAG_W);
            if !tag_idx[..k].contains(&tag) {
                tag_idx[k] = tag;
                k += 1;
            }
        }
        tag_idx[..n_tags].sort_unstable();
        for (i, &tag) in tag_idx[..n_tags].iter().enumerate() {
            if i > 0 {
                row.buf.push(';');
            }
            row.buf.push_str(TAGS[tag]);
        }
        row.end();

        match acct {
            Some(a) => row.int(a as u64 + 1),
            None => row.empty(),
        }
        row.emit(&mut contact)?;
    }
    Ok(())
}

/// Appends a lower-case email for the given names: at the account's domain
/// (usually) or at a free-mail / unlisted company domain.
fn push_email(
    rng: &mut ChaCha8Rng,
    t: &Tables,
    buf: &mut String,
    first: usize,
    last: usize,
    account: Option<&Account>,
) {
    let (f, l) = (&t.first_lc[first], &t.last_lc[last]);
    let corporate = match account {
        Some(_) => chance_pm(rng, 880),
        None => chance_pm(rng, 350),
    };
    if corporate {
        match below(rng, 100) {
            0..=73 => {
                buf.push_str(f);
                buf.push('.');
                if chance_pm(rng, 300) {
                    // Middle initial, as large companies do to tell namesakes apart.
                    buf.push((b'a' + below(rng, 26) as u8) as char);
                    buf.push('.');
                }
                buf.push_str(l);
            }
            74..=85 => {
                buf.push_str(&f[..1]);
                buf.push_str(l);
            }
            86..=91 => {
                buf.push_str(f);
                buf.push('_');
                buf.push_str(l);
            }
            _ => {
                buf.push_str(f);
                buf.push_str(l);
            }
        }
        buf.push('@');
        match account {
            Some(a) => t.push_domain(buf, a),
            None => {
                // A company that is not in the accounts table.
                buf.push_str(&t.prefix_lc[below_usize(rng, t.prefix_lc.len())]);
                buf.push_str(&t.suffix_lc[below_usize(rng, t.suffix_lc.len())]);
                buf.push_str(".com");
            }
        }
    } else {
        buf.push_str(f);
        if chance_pm(rng, 600) {
            buf.push('.');
        }
        buf.push_str(l);
        // Plain first.last is long gone at free-mail providers: mostly add a number.
        if chance_pm(rng, 950) {
            push_u64(buf, u64::from(1 + below(rng, 9999)));
        }
        buf.push('@');
        buf.push_str(FREE_MAIL[pick(rng, FREE_MAIL_W)]);
    }
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    const TODAY: i64 = 20_600; // 2026-05-27

    fn cfg(contacts: u64, seed: u64) -> GenConfig {
        GenConfig {
            contacts,
            accounts: (contacts / 25).max(1),
            seed,
            today_days: TODAY,
        }
    }

    type Rows = Vec<Vec<String>>;

    fn collect(cfg: &GenConfig) -> (Rows, Rows) {
        let (mut accounts, mut contacts) = (Vec::new(), Vec::new());
        generate(
            cfg,
            |r| accounts.push(r.iter().map(|s| s.to_string()).collect()),
            |r| contacts.push(r.iter().map(|s| s.to_string()).collect()),
        );
        (accounts, contacts)
    }

    fn col(name: &str) -> usize {
        CONTACT_COLUMNS.iter().position(|c| *c == name).unwrap()
    }

    /// Inverse of `civil_from_days` (Hinnant's `days_from_civil`).
    fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn parse_date(s: &str) -> i64 {
        assert_eq!(s.len(), 10, "bad date {s:?}");
        let b = s.as_bytes();
        assert!(b[4] == b'-' && b[7] == b'-', "bad date {s:?}");
        let y: i64 = s[0..4].parse().unwrap();
        let m: u32 = s[5..7].parse().unwrap();
        let d: u32 = s[8..10].parse().unwrap();
        assert!(
            (1..=12).contains(&m) && (1..=31).contains(&d),
            "bad date {s:?}"
        );
        let days = days_from_civil(y, m, d);
        assert_eq!(civil_from_days(days), (y, m, d), "invalid date {s:?}");
        days
    }

    /// Returns (days, seconds of day).
    fn parse_datetime(s: &str) -> (i64, u32) {
        assert_eq!(s.len(), 20, "bad datetime {s:?}");
        let b = s.as_bytes();
        assert!(b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z');
        let h: u32 = s[11..13].parse().unwrap();
        let mi: u32 = s[14..16].parse().unwrap();
        let se: u32 = s[17..19].parse().unwrap();
        assert!(h < 24 && mi < 60 && se < 60, "bad time {s:?}");
        (parse_date(&s[..10]), h * 3600 + mi * 60 + se)
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(TODAY), (2026, 5, 27));
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        let mut s = String::new();
        push_datetime(&mut s, 19_782, 3600 * 13 + 60 * 5 + 9);
        assert_eq!(s, "2024-02-29T13:05:09Z");
        s.clear();
        push_u64(&mut s, 0);
        s.push(',');
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, format!("0,{}", u64::MAX));
    }

    #[test]
    fn deterministic_per_seed() {
        let a = collect(&cfg(2000, 7));
        let b = collect(&cfg(2000, 7));
        let c = collect(&cfg(2000, 8));
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
        assert_ne!(a.1, c.1);
        // A prefix of a larger run: accounts fixed, contacts generated in order.
        let mut small = cfg(500, 7);
        small.accounts = 80;
        let d = collect(&small);
        assert_eq!(d.0, a.0[..80].to_vec());
        assert_eq!(d.1, a.1[..500].to_vec());
    }

    #[test]
    fn values_in_domain_and_missing_rates() {
        let n = 20_000;
        let (accounts, contacts) = collect(&cfg(n, 42));
        assert_eq!(contacts.len(), n as usize);
        assert_eq!(accounts.len(), 800);

        // Accounts.
        let mut names = HashSet::new();
        let mut domains = HashSet::new();
        for (i, a) in accounts.iter().enumerate() {
            assert_eq!(a.len(), ACCOUNT_COLUMNS.len());
            assert_eq!(a[0], (i + 1).to_string());
            assert!(names.insert(a[1].clone()), "duplicate name {}", a[1]);
            assert!(domains.insert(a[2].clone()), "duplicate domain {}", a[2]);
            assert!(a[2].contains('.') && a[2] == a[2].to_lowercase());
            assert!(INDUSTRIES.contains(&a[3].as_str()));
            let e: u32 = a[4].parse().unwrap();
            assert!((1..=100_000).contains(&e));
            assert_eq!(a[5], tier_of(e));
            assert!(REGIONS.contains(&a[6].as_str()));
        }

        let mut missing: HashMap<&str, usize> = HashMap::new();
        let mut titles = HashSet::new();
        let mut stage_opens = [(0u64, 0u64); 6];
        let (mut sum_opens, mut sum_replies, mut sum_meetings) = (0, 0, 0);
        let mut zero_opens = 0;
        let mut opted_true = 0;
        for (i, r) in contacts.iter().enumerate() {
            assert_eq!(r.len(), CONTACT_COLUMNS.len());
            for (c, v) in CONTACT_COLUMNS.iter().zip(r) {
                if v.is_empty() {
                    *missing.entry(c).or_default() += 1;
                }
            }
            assert_eq!(r[0], (i + 1).to_string());
            let email = &r[col("email")];
            if !email.is_empty() {
                let t = email.trim_end();
                assert_eq!(t.matches('@').count(), 1, "{email:?}");
                assert!(!t.contains(' ') && t.contains('.'), "{email:?}");
            }
            assert!(FIRST_NAMES.contains(&r[col("first_name")].as_str()));
            assert!(LAST_NAMES.contains(&r[col("last_name")].as_str()));
            let title = &r[col("title")];
            if !title.is_empty() {
                titles.insert(title.clone());
            }
            for (name, domain) in [
                ("role", ROLES),
                ("seniority", SENIORITIES),
                ("stage", STAGES),
                ("region", REGIONS),
                ("industry", INDUSTRIES),
            ] {
                let v = r[col(name)].as_str();
                assert!(v.is_empty() || domain.contains(&v), "{name}={v:?}");
            }
            let int = |name: &str| -> u64 { r[col(name)].parse().unwrap() };
            assert!((1..=100_000).contains(&int("company_size")));
            let (opens, replies, meetings) =
                (int("opens_30d"), int("replies_30d"), int("meetings_30d"));
            assert!(opens < 100 && replies <= opens && meetings <= replies);
            assert!(int("score") <= 100);
            let stage = STAGES.iter().position(|s| *s == r[col("stage")]).unwrap();
            stage_opens[stage].0 += opens;
            stage_opens[stage].1 += 1;
            sum_opens += opens;
            sum_replies += replies;
            sum_meetings += meetings;
            zero_opens += u64::from(opens == 0);

            let (created, _) = parse_datetime(&r[col("created_at")]);
            assert!(created < TODAY && created >= TODAY - i64::from(CREATED_WINDOW));
            let la = &r[col("last_activity")];
            if !la.is_empty() {
                let d = parse_date(la);
                assert!(d <= TODAY && d > TODAY - i64::from(LAST_ACTIVITY_WINDOW));
                assert!(created < d, "created_at not before last_activity");
            }
            match r[col("opted_in")].as_str() {
                "true" => opted_true += 1,
                "false" | "" => {}
                v => panic!("opted_in={v:?}"),
            }
            let tags = &r[col("tags")];
            if !tags.is_empty() {
                let parts: Vec<&str> = tags.split(';').collect();
                assert!(parts.len() <= 4);
                assert!(parts.iter().all(|t| TAGS.contains(t)), "{tags:?}");
                assert_eq!(parts.iter().collect::<HashSet<_>>().len(), parts.len());
            }
            let acct = &r[col("account_id")];
            if !acct.is_empty() {
                let a: usize = acct.parse().unwrap();
                assert!((1..=accounts.len()).contains(&a), "dangling account_id {a}");
                let a = &accounts[a - 1];
                assert_eq!(r[col("region")], a[6]);
                assert_eq!(r[col("industry")], a[3]);
                assert_eq!(r[col("company_size")], a[4]);
            }
        }
        assert!(titles.len() >= 40, "only {} titles", titles.len());
        assert!(titles.iter().filter(|t| t.contains("Head of")).count() >= 3);

        let rate = |name: &str| *missing.get(name).unwrap_or(&0) as f64 / n as f64;
        let near = |name: &str, expected: f64| {
            let r = rate(name);
            assert!(
                (r - expected).abs() <= expected * 0.3 + 0.003,
                "{name}: missing {r:.4}, expected ~{expected}"
            );
        };
        near("email", 0.03);
        near("title", 0.08);
        near("role", 0.02);
        near("seniority", 0.04);
        near("last_activity", 0.05);
        near("opted_in", 0.01);
        near("account_id", 0.10);
        for never in [
            "id",
            "first_name",
            "last_name",
            "stage",
            "region",
            "industry",
            "company_size",
            "created_at",
        ] {
            assert_eq!(rate(never), 0.0, "{never} has missing values");
        }
        let tags_empty = rate("tags");
        assert!(
            (0.25..0.45).contains(&tags_empty),
            "tags empty {tags_empty}"
        );
        let opted = opted_true as f64 / n as f64;
        assert!((0.65..0.75).contains(&opted), "opted_in true {opted}");

        // Engagement: mostly zero, opens > replies > meetings, later stages busier.
        assert!(zero_opens as f64 / n as f64 > 0.5);
        assert!(sum_opens > sum_replies && sum_replies > sum_meetings && sum_meetings > 0);
        let avg = |s: usize| stage_opens[s].0 as f64 / stage_opens[s].1 as f64;
        assert!(
            avg(3) > 2.0 * avg(0),
            "opportunity {} vs lead {}",
            avg(3),
            avg(0)
        );
        assert!(avg(4) > avg(1));
    }

    #[test]
    fn duplicate_emails_and_account_refs() {
        let (accounts, contacts) = collect(&cfg(20_000, 3));
        let email = col("email");
        let mut exact: HashMap<&str, usize> = HashMap::new();
        let mut normalized: HashMap<String, HashSet<&str>> = HashMap::new();
        for r in &contacts {
            let e = r[email].as_str();
            if e.is_empty() {
                continue;
            }
            *exact.entry(e).or_default() += 1;
            normalized
                .entry(e.trim().to_lowercase())
                .or_default()
                .insert(e);
        }
        let total: usize = exact.values().sum();
        let dups = total - normalized.len();
        let dup_rate = dups as f64 / contacts.len() as f64;
        assert!(
            (0.015..0.04).contains(&dup_rate),
            "duplicate rate {dup_rate}"
        );
        assert!(exact.values().any(|&c| c > 1), "no exact duplicates");
        let case_variants = normalized
            .values()
            .filter(|v| v.iter().any(|e| e.chars().any(|c| c.is_ascii_uppercase())))
            .count();
        let space_variants = normalized
            .values()
            .filter(|v| v.iter().any(|e| e.ends_with(' ')))
            .count();
        assert!(case_variants > 20, "{case_variants} case variants");
        assert!(
            space_variants > 10,
            "{space_variants} trailing-space variants"
        );

        // Every account_id resolves; contacts per account are skewed.
        let mut per_account = vec![0usize; accounts.len() + 1];
        for r in &contacts {
            if let Ok(a) = r[col("account_id")].parse::<usize>() {
                assert!(a >= 1 && a <= accounts.len());
                per_account[a] += 1;
            }
        }
        let max = *per_account.iter().max().unwrap();
        let mean = contacts.len() as f64 * 0.9 / accounts.len() as f64;
        assert!(max as f64 > 5.0 * mean, "max {max} mean {mean}");
    }

    #[test]
    fn zero_accounts_and_contacts() {
        let mut c = cfg(100, 1);
        c.accounts = 0;
        let (accounts, contacts) = collect(&c);
        assert!(accounts.is_empty());
        assert_eq!(contacts.len(), 100);
        assert!(contacts.iter().all(|r| r[col("account_id")].is_empty()));
        c.contacts = 0;
        c.accounts = 3;
        let (accounts, contacts) = collect(&c);
        assert_eq!((accounts.len(), contacts.len()), (3, 0));
    }

    #[test]
    fn schema_lists_exactly_the_columns() {
        let text = schema_toml();
        let value: toml::Table = text.parse().expect("schema.toml parses");
        for (table, columns) in [("contacts", CONTACT_COLUMNS), ("accounts", ACCOUNT_COLUMNS)] {
            let t = value[table].as_table().unwrap();
            assert_eq!(t["key"].as_str(), Some("id"));
            let fields = t["fields"].as_table().unwrap();
            let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
            let mut expected = columns.to_vec();
            names.sort_unstable();
            expected.sort_unstable();
            assert_eq!(names, expected, "{table}");
        }
        // Column order in the text matches the headers.
        let order: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| *k != "key")
            .collect();
        let expected: Vec<&str> = CONTACT_COLUMNS
            .iter()
            .chain(ACCOUNT_COLUMNS)
            .copied()
            .collect();
        assert_eq!(order, expected);
        let c = value["contacts"]["fields"].as_table().unwrap();
        let values = |f: &toml::Value| -> Vec<String> {
            f["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(values(&c["role"]), ROLES);
        assert_eq!(values(&c["seniority"]), SENIORITIES);
        assert_eq!(c["seniority"]["ordered"].as_bool(), Some(true));
        assert_eq!(values(&c["stage"]), STAGES);
        assert_eq!(values(&c["region"]), REGIONS);
        assert_eq!(values(&c["industry"]), INDUSTRIES);
        assert_eq!(c["tags"]["separator"].as_str(), Some(";"));
        assert_eq!(c["account_id"]["table"].as_str(), Some("accounts"));
        assert_eq!(c["last_activity"].as_str(), Some("date"));
        assert_eq!(c["created_at"].as_str(), Some("datetime"));
        let a = value["accounts"]["fields"].as_table().unwrap();
        assert_eq!(values(&a["tier"]), TIERS);
        assert!(text.contains("tier = { type = \"enum\", values = [\"smb\", \"mid_market\", \"enterprise\"], ordered = true }"));
    }

    #[test]
    fn write_dataset_round_trip() {
        let dir = std::env::temp_dir().join(format!("segq-gen-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let config = cfg(3000, 11);
        let mut reports = Vec::new();
        write_dataset(&config, &dir, &mut |n| reports.push(n)).unwrap();
        assert_eq!(reports.last(), Some(&3000));

        let (accounts, contacts) = collect(&config);
        let read = |name: &str, header: &[&str]| -> Rows {
            let mut rdr = csv::Reader::from_path(dir.join(name)).unwrap();
            assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), header);
            rdr.records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect()
        };
        assert_eq!(read("contacts.csv", CONTACT_COLUMNS), contacts);
        assert_eq!(read("accounts.csv", ACCOUNT_COLUMNS), accounts);
        assert_eq!(
            fs::read_to_string(dir.join("schema.toml")).unwrap(),
            schema_toml()
        );
        let mut entries: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        assert_eq!(entries, ["accounts.csv", "contacts.csv", "schema.toml"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
