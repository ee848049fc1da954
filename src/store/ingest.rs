//! Loading data: a directory (`contacts.csv|jsonl`, optional
//! `accounts.csv|jsonl` and `schema.toml`), a single CSV/JSONL file, or the
//! built-in demo data set.
//!
//! A malformed input is an error naming file, line and column, and nothing
//! is loaded, unless `skip_bad_rows` is set: then each rejected row is
//! counted and the first few are listed in the [`LoadReport`].

use super::build::{BatchError, BatchErrorKind, CellIn, KeySet, TableBuilder};
use super::column::MISSING;
use super::{AccountLink, ColumnData, Store, Table};
use crate::schema::{normalize_header, parse_schema, FieldSpec, FieldType, Schema, TableSchema};
use ahash::AHashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

/// Limits on input files, each enforced with a located error.
pub mod limits {
    /// Bytes in one CSV record or JSONL line.
    pub const MAX_RECORD_BYTES: usize = 16 << 20;
    /// Columns in one table.
    pub const MAX_COLUMNS: usize = 4096;
    /// Nesting depth of a JSON value (serde_json's own limit is 128).
    pub const MAX_JSON_DEPTH: usize = 128;
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub skip_bad_rows: bool,
    /// Called with (bytes read so far, total bytes) while reading files.
    pub progress: Option<fn(u64, u64)>,
}

/// A row that was rejected under `skip_bad_rows`.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub path: String,
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub skipped: u64,
    /// The first [`LoadReport::SHOWN`] skipped rows.
    pub first_skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

impl LoadReport {
    pub const SHOWN: usize = 10;

    fn skip(&mut self, s: Skipped) {
        self.skipped += 1;
        if self.first_skipped.len() < Self::SHOWN {
            self.first_skipped.push(s);
        }
    }
}

/// An input that could not be loaded: where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub path: String,
    pub line: Option<u64>,
    pub column: Option<usize>,
    pub message: String,
}

impl LoadError {
    fn file(path: &Path, message: impl Into<String>) -> LoadError {
        LoadError {
            path: path.display().to_string(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn at(path: &Path, line: u64, column: Option<usize>, message: impl Into<String>) -> LoadError {
        LoadError {
            path: path.display().to_string(),
            line: Some(line),
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// What `--data` named, resolved to files.
struct Inputs {
    contacts: PathBuf,
    accounts: Option<PathBuf>,
    schema: Option<PathBuf>,
}

fn find_one(dir: &Path, stem: &str) -> Result<Option<PathBuf>, LoadError> {
    let csv = dir.join(format!("{stem}.csv"));
    let jsonl = dir.join(format!("{stem}.jsonl"));
    match (csv.is_file(), jsonl.is_file()) {
        (true, true) => Err(LoadError::file(
            dir,
            format!("both {stem}.csv and {stem}.jsonl exist; keep one"),
        )),
        (true, false) => Ok(Some(csv)),
        (false, true) => Ok(Some(jsonl)),
        (false, false) => Ok(None),
    }
}

fn resolve(path: &Path) -> Result<Inputs, LoadError> {
    if path.is_dir() {
        let contacts = find_one(path, "contacts")?.ok_or_else(|| {
            LoadError::file(path, "no contacts.csv or contacts.jsonl in this directory")
        })?;
        let schema = path.join("schema.toml");
        Ok(Inputs {
            contacts,
            accounts: find_one(path, "accounts")?,
            schema: schema.is_file().then_some(schema),
        })
    } else if path.is_file() {
        Ok(Inputs {
            contacts: path.to_path_buf(),
            accounts: None,
            schema: None,
        })
    } else {
        Err(LoadError::file(path, "no such file or directory"))
    }
}

/// Loads `--data PATH` (a directory, a .csv or a .jsonl file).
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<(Store, LoadReport), LoadError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("segx"))
        && !path.is_dir()
    {
        return super::snapshot::read(path)
            .map(|s| (s, LoadReport::default()))
            .map_err(|m| LoadError::file(path, m));
    }
    let inputs = resolve(path)?;
    let schema = match &inputs.schema {
        Some(p) => {
            let text = crate::schema::read_schema_text(p).map_err(|e| LoadError::file(p, e))?;
            parse_schema(&text).map_err(|diags| {
                let d = &diags[0];
                let (line, col) = d
                    .primary
                    .as_ref()
                    .map_or((1, 1), |l| crate::diagnostic::line_col(&text, l.span.start));
                LoadError::at(p, line as u64, Some(col), d.message.clone())
            })?
        }
        None => Schema::default(),
    };
    let mut report = LoadReport::default();
    let trace = |what: &str| {
        if super::build::tracing() {
            super::build::trace_step(what);
        }
    };
    trace("loading");
    let accounts = match &inputs.accounts {
        Some(p) => {
            let ts = schema.accounts.clone().unwrap_or_default();
            let table = load_table("accounts", p, &ts, None, opts, &mut report)?;
            trace("accounts loaded");
            Some(table)
        }
        None => {
            if schema.accounts.is_some() {
                report
                    .warnings
                    .push("schema.toml has [accounts] but there is no accounts file".into());
            }
            None
        }
    };
    let contacts = load_table(
        "contacts",
        &inputs.contacts,
        &schema.contacts,
        accounts.as_ref(),
        opts,
        &mut report,
    )?;
    trace("accounts and contacts loaded");
    let store = link(contacts, accounts).map_err(|m| LoadError::file(&inputs.contacts, m))?;
    trace("linked");
    Ok((store, report))
}

/// Connects contacts to accounts through the contacts' `ref` column.
pub fn link(contacts: Table, accounts: Option<Table>) -> Result<Store, String> {
    let ref_col = contacts.columns.iter().position(|c| c.ty == FieldType::Ref);
    let link = match (&accounts, ref_col) {
        (Some(acc), Some(field)) => {
            let by_key: AHashMap<String, u32> =
                (0..acc.len).map(|r| (acc.key_text(r), r)).collect();
            let ColumnData::Dict(refs) = &contacts.columns[field].data else {
                unreachable!("ref columns are dictionaries")
            };
            let code_account: Vec<u32> = refs
                .values
                .iter()
                .map(|v| by_key.get(v.trim()).copied().unwrap_or(MISSING))
                .collect();
            let account_of: Vec<u32> = refs
                .codes
                .iter()
                .map(|c| match c {
                    MISSING => MISSING,
                    c => code_account[c as usize],
                })
                .collect();
            Some(AccountLink::new(field, account_of.into(), acc.len)?)
        }
        (None, Some(field)) => {
            return Err(format!(
                "`{}` refers to accounts, but there is no accounts file",
                contacts.columns[field].name
            ))
        }
        _ => None,
    };
    Ok(Store {
        contacts,
        accounts,
        link,
    })
}

/// Each column's name and declaration (None: inferred).
type ColumnPlan = Vec<(String, Option<FieldSpec>)>;

/// Column declarations for a header row: schema fields by normalised name;
/// `account_id` becomes a `ref` when there is an accounts table.
fn plan_columns(
    path: &Path,
    headers: &[String],
    ts: &TableSchema,
    has_accounts: bool,
    report: &mut LoadReport,
) -> Result<(ColumnPlan, Option<usize>), LoadError> {
    if headers.len() > limits::MAX_COLUMNS {
        return Err(LoadError::at(
            path,
            1,
            None,
            format!("more than {} columns", limits::MAX_COLUMNS),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let mut name = normalize_header(h);
        if names.contains(&name) {
            let mut n = 2;
            while names.contains(&format!("{name}_{n}")) {
                n += 1;
            }
            report.warnings.push(format!(
                "{}: column {} `{h}` is renamed `{name}_{n}`: `{name}` is taken",
                path.display(),
                i + 1
            ));
            name = format!("{name}_{n}");
        }
        names.push(name);
    }
    for f in &ts.fields {
        if !names.contains(&f.name) {
            return Err(LoadError::at(
                path,
                1,
                None,
                format!(
                    "schema.toml declares `{}`, but there is no such column",
                    f.name
                ),
            ));
        }
    }
    let mut columns = Vec::new();
    for name in &names {
        let mut spec = ts.field(name).cloned();
        if spec.is_none() && has_accounts && name == "account_id" {
            spec = Some(FieldSpec::new(name.clone(), FieldType::Ref));
        }
        if let Some(s) = &spec {
            if s.ty == FieldType::Ref && !has_accounts {
                return Err(LoadError::file(
                    path,
                    format!("`{name}` is a ref to accounts, but there is no accounts file"),
                ));
            }
        }
        columns.push((name.clone(), spec));
    }
    let key = match &ts.key {
        Some(k) => Some(names.iter().position(|n| n == k).ok_or_else(|| {
            LoadError::at(
                path,
                1,
                None,
                format!("the key column `{k}` from schema.toml is not in the header"),
            )
        })?),
        None => names.iter().position(|n| n == "id").or_else(|| {
            names
                .iter()
                .position(|n| n == "account_id")
                .filter(|_| ts_is_accounts(path))
        }),
    };
    Ok((columns, key))
}

fn ts_is_accounts(path: &Path) -> bool {
    path.file_stem().is_some_and(|s| s == "accounts")
}

fn load_table(
    name: &str,
    path: &Path,
    ts: &TableSchema,
    accounts: Option<&Table>,
    opts: &LoadOptions,
    report: &mut LoadReport,
) -> Result<Table, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::file(path, e.to_string()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let account_keys: Option<KeySet> =
        accounts.map(|a| (0..a.len).map(|r| a.key_text(r)).collect());
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut ctx = Ctx {
        path,
        opts,
        report,
        account_keys,
        total,
    };
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => load_jsonl(name, file, ts, &mut ctx),
        "csv" | "tsv" | "txt" | "" => load_csv(
            name,
            file,
            ts,
            &mut ctx,
            if ext == "tsv" { b'\t' } else { b',' },
        ),
        other => Err(LoadError::file(
            path,
            format!("unknown file type `.{other}`: expected .csv, .jsonl or .segx"),
        )),
    }
}

struct Ctx<'a> {
    path: &'a Path,
    opts: &'a LoadOptions,
    report: &'a mut LoadReport,
    account_keys: Option<KeySet>,
    total: u64,
}

impl Ctx<'_> {
    /// A bad row: an error, or counted and skipped.
    fn bad_row(
        &mut self,
        line: u64,
        column: Option<usize>,
        message: String,
    ) -> Result<(), LoadError> {
        if self.opts.skip_bad_rows {
            let message = match column {
                Some(c) => format!("column {c}: {message}"),
                None => message,
            };
            self.report.skip(Skipped {
                path: self.path.display().to_string(),
                line,
                message,
            });
            Ok(())
        } else {
            Err(LoadError::at(self.path, line, column, message))
        }
    }

    /// The ref cell of a row must name a loaded account.
    fn check_ref(
        &self,
        builder: &TableBuilder,
        columns: &[(String, Option<FieldSpec>)],
        cells: &[CellIn<'_>],
    ) -> Option<(usize, String)> {
        let keys = self.account_keys.as_ref()?;
        let _ = builder;
        for (i, (name, spec)) in columns.iter().enumerate() {
            if spec.as_ref().is_some_and(|s| s.ty == FieldType::Ref) {
                if let CellIn::Text(t) = cells[i] {
                    let t = t.trim();
                    if !t.is_empty() && !keys.contains(t) {
                        return Some((i, format!("`{name}` refers to unknown account {t:?}")));
                    }
                }
            }
        }
        None
    }

    fn push(
        &mut self,
        builder: &mut TableBuilder,
        columns: &[(String, Option<FieldSpec>)],
        line: u64,
        cells: &[CellIn<'_>],
    ) -> Result<(), LoadError> {
        if let Some((col, msg)) = self.check_ref(builder, columns, cells) {
            return self.bad_row(line, Some(col + 1), msg);
        }
        if let Err(e) = builder.push_row(cells) {
            let name = &columns[e.column].0;
            let message = if e.message.starts_with("refers to unknown account") {
                format!("`{name}` {}", e.message)
            } else {
                format!("`{name}`: {}", e.message)
            };
            return self.bad_row(line, Some(e.column + 1), message);
        }
        Ok(())
    }
}

/// Fails a read once more than `limit` bytes pass without the CSV reader
/// finishing a record, so one endless record (say, an unclosed quote in a
/// huge file) cannot grow the record buffer without bound.
struct RecordLimit<R> {
    inner: R,
    since_record: std::rc::Rc<std::cell::Cell<u64>>,
    limit: u64,
    lines: std::rc::Rc<std::cell::RefCell<LineIndex>>,
}

/// Physical line numbers of CSV records, counted from the bytes read: the
/// csv crate's own count drifts (CRLF endings count one line short, blank
/// lines shift the next record). After each record, the line endings that
/// follow it are scanned to the next record's first byte; newlines inside
/// a record are counted from its (quoted) fields. Only the most recent
/// bytes are kept, so memory does not grow with a long record.
#[derive(Debug)]
struct LineIndex {
    /// The last bytes read: `recent[i]` is at offset `base + i`.
    recent: Vec<u8>,
    base: u64,
    /// Scanning line endings from this offset, with this many newlines
    /// before it; `None` once the next record's first byte was found.
    scan: Option<(u64, u64)>,
    /// The line of the next (or current) record's first byte.
    line: u64,
}

impl LineIndex {
    /// More than the csv reader's buffer: every byte it has not consumed.
    const KEEP: usize = 1 << 18;
    /// Cut back to KEEP bytes past this many: rarely, since a cut moves
    /// KEEP bytes.
    const CUT: usize = 16 * Self::KEEP;

    fn new() -> LineIndex {
        LineIndex::at_line(1)
    }

    /// Bytes counted from the start of line `line`.
    fn at_line(line: u64) -> LineIndex {
        LineIndex {
            recent: Vec::new(),
            base: 0,
            scan: Some((0, line - 1)),
            line,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.recent.extend_from_slice(bytes);
        self.advance();
        if self.recent.len() > Self::CUT {
            let cut = self.recent.len() - Self::KEEP;
            self.recent.drain(..cut);
            self.base += cut as u64;
        }
    }

    fn advance(&mut self) {
        let Some((mut at, mut lines)) = self.scan else {
            return;
        };
        let end = self.base + self.recent.len() as u64;
        while at < end {
            match self.recent[(at - self.base) as usize] {
                b'\n' => lines += 1,
                b'\r' => {}
                _ => {
                    self.scan = None;
                    self.line = lines + 1;
                    return;
                }
            }
            at += 1;
        }
        self.scan = Some((at, lines));
    }

    /// The line of the record being read.
    fn current(&self) -> u64 {
        self.scan.map_or(self.line, |(_, lines)| lines + 1)
    }

    /// The record just read ended at `end` (the reader's position: past
    /// its first terminator byte) with `inner` newlines in its fields.
    fn record_ended(&mut self, end: u64, inner: u64) {
        let terminator = end
            .checked_sub(self.base + 1)
            .and_then(|i| self.recent.get(i as usize));
        let lines = self.current() - 1 + inner + u64::from(terminator == Some(&b'\n'));
        self.scan = Some((end.max(self.base), lines));
        self.advance();
    }
}

impl<R: Read> Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_record.get() > self.limit {
            return Err(std::io::Error::other(format!(
                "a record is longer than the limit of {} bytes (an unclosed quote?)",
                limits::MAX_RECORD_BYTES
            )));
        }
        let n = self.inner.read(buf)?;
        self.since_record.set(self.since_record.get() + n as u64);
        self.lines.borrow_mut().push(&buf[..n]);
        Ok(n)
    }
}

/// What the CSV reading thread hands to the table builder, in file order.
enum CsvRead {
    Header(Result<Vec<String>, LoadError>),
    Batch(CsvBatch),
    Fatal(LoadError),
}

impl CsvRead {
    /// A batch to hand over, its text checked to be UTF-8 here, once, for
    /// both column threads.
    fn sealed(mut batch: CsvBatch) -> CsvRead {
        if batch.text.is_none() {
            match String::from_utf8(std::mem::take(&mut batch.data)) {
                Ok(text) => batch.text = Some(text),
                Err(e) => batch.data = e.into_bytes(),
            }
        }
        CsvRead::Batch(batch)
    }
}

/// Records read in one go: their fields' bytes end to end.
#[derive(Default)]
struct CsvBatch {
    /// `data` once known to be UTF-8 (then `data` is empty).
    text: Option<String>,
    /// The fields' bytes, each followed by one separator byte.
    data: Vec<u8>,
    /// End of each field in `data` (the next field starts one byte later).
    ends: Vec<u32>,
    items: Vec<CsvItem>,
}

impl CsvBatch {
    fn bytes(&self) -> &[u8] {
        self.text.as_deref().map_or(&self.data, str::as_bytes)
    }
}

enum CsvItem {
    /// A record: the next `fields` fields of the batch.
    Row { line: u64, byte: u64, fields: u32 },
    /// A record that could not be read.
    Bad { line: u64, message: String },
}

/// Batches (about 0.7 MB each) a CSV reader may get ahead of the threads
/// building the table. More threads than cores share the machine: with 4,
/// a column thread starved for about a second of a 4 s load whenever the
/// reader was not scheduled; 32 bank enough for the reader's turns to come.
const QUEUED_BATCHES: usize = 32;

/// Loads a CSV file: one thread reads and splits records (keeping exact
/// line numbers), this one parses cells and builds the table, so reading
/// and building overlap on two cores.
fn load_csv(
    name: &str,
    file: std::fs::File,
    ts: &TableSchema,
    ctx: &mut Ctx<'_>,
    delimiter: u8,
) -> Result<Table, LoadError> {
    let path = ctx.path.to_path_buf();
    let (tx, rx) = std::sync::mpsc::sync_channel::<CsvRead>(QUEUED_BATCHES);
    // Used batches go back to the reader, so their memory is reused.
    let (back_tx, back_rx) = std::sync::mpsc::channel::<CsvBatch>();
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_csv(file, delimiter, &path, tx, back_rx));
        let result = build_csv(name, ts, ctx, &rx, &back_tx);
        drop(rx);
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}

/// The reading half of [`load_csv`]: records in batches, bad records as such.
///
/// Lines without a quote or a lone carriage return (almost all lines of
/// most exports) are split here at memory speed ([`read_plain`]); from the
/// first other line on, the csv reader takes over from that byte, with
/// its exact line numbering, so every file reads as the csv crate reads it.
fn read_csv(
    file: std::fs::File,
    delimiter: u8,
    path: &Path,
    tx: std::sync::mpsc::SyncSender<CsvRead>,
    used: std::sync::mpsc::Receiver<CsvBatch>,
) {
    let plain = file
        .try_clone()
        .ok()
        .filter(|_| plain_delimiter(delimiter) && plain_allowed());
    let since_record = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let lines = std::rc::Rc::new(std::cell::RefCell::new(LineIndex::new()));
    let mut reader = csv_reader(file, delimiter, &since_record, &lines);
    let mut record = csv::ByteRecord::new();
    let csv_err = |e: csv::Error| {
        let line = lines.borrow().current();
        LoadError::at(path, line, None, format!("unreadable CSV: {e}"))
    };
    let header = match reader.read_byte_record(&mut record) {
        Err(e) => Err(csv_err(e)),
        Ok(false) => Err(LoadError::file(
            path,
            "the file is empty: expected a header row",
        )),
        Ok(true) => {
            lines
                .borrow_mut()
                .record_ended(reader.position().byte(), record_newlines(&record));
            record
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    std::str::from_utf8(h).map(|s| s.to_string()).map_err(|_| {
                        LoadError::at(path, 1, Some(i + 1), "header is not valid UTF-8")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        }
    };
    let ok = header.is_ok();
    if tx.send(CsvRead::Header(header)).is_err() || !ok {
        return;
    }
    let mut batch = CsvBatch::default();
    let Some(plain) = plain else {
        read_records(reader, &lines, &since_record, 0, path, &tx, &used, batch);
        return;
    };
    let (start, line) = (reader.position().byte(), lines.borrow().current());
    drop(reader);
    match read_plain(plain, start, line, delimiter, path, &tx, &used, &mut batch) {
        None => {}
        Some((byte, line, mut file)) => {
            let since_record = std::rc::Rc::new(std::cell::Cell::new(0u64));
            let lines = std::rc::Rc::new(std::cell::RefCell::new(LineIndex::at_line(line)));
            if let Err(e) = file.seek(std::io::SeekFrom::Start(byte)) {
                send_fatal(&tx, batch, LoadError::at(path, line, None, e.to_string()));
                return;
            }
            let reader = csv_reader(file, delimiter, &since_record, &lines);
            read_records(reader, &lines, &since_record, byte, path, &tx, &used, batch);
        }
    }
}

type CsvFileReader = csv::Reader<RecordLimit<BufReader<std::fs::File>>>;

fn csv_reader(
    file: std::fs::File,
    delimiter: u8,
    since_record: &std::rc::Rc<std::cell::Cell<u64>>,
    lines: &std::rc::Rc<std::cell::RefCell<LineIndex>>,
) -> CsvFileReader {
    let limited = RecordLimit {
        inner: BufReader::with_capacity(1 << 20, file),
        since_record: since_record.clone(),
        limit: limits::MAX_RECORD_BYTES as u64,
        lines: lines.clone(),
    };
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .delimiter(delimiter)
        .buffer_capacity(1 << 16)
        .from_reader(limited)
}

fn record_newlines(r: &csv::ByteRecord) -> u64 {
    r.as_slice().iter().filter(|&&b| b == b'\n').count() as u64
}

/// Tests compare loads with and without [`read_plain`] (a switch for every
/// thread: either way the load must be the same).
#[cfg(test)]
static NO_PLAIN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn plain_allowed() -> bool {
    #[cfg(test)]
    {
        !NO_PLAIN.load(std::sync::atomic::Ordering::SeqCst)
    }
    #[cfg(not(test))]
    {
        true
    }
}

/// Calls `f` with the position of each `byte` in `text`, ascending: eight
/// bytes at a time (fields are short: a `memchr` call per field cost more
/// than the search).
#[inline]
fn for_each_byte(text: &[u8], byte: u8, mut f: impl FnMut(usize)) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut chunks = text.chunks_exact(8);
    let mut at = 0usize;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ pattern;
        // high bit of each byte set exactly where the byte is zero
        let mut zero = !(((x & LOW7) + LOW7) | x | LOW7);
        while zero != 0 {
            f(at + (zero.trailing_zeros() / 8) as usize);
            zero &= zero - 1;
        }
        at += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == byte {
            f(at + i);
        }
    }
}

/// Whether lines can be split on this delimiter without the csv reader.
fn plain_delimiter(d: u8) -> bool {
    !matches!(d, b'"' | b'\r' | b'\n') && d.is_ascii()
}

/// Hands over what was read before an error that ends the file, then the error.
fn send_fatal(tx: &std::sync::mpsc::SyncSender<CsvRead>, batch: CsvBatch, error: LoadError) {
    let _ = tx
        .send(CsvRead::sealed(batch))
        .and_then(|_| tx.send(CsvRead::Fatal(error)));
}

/// Hands a full batch over and starts the next; false when the builder
/// has stopped listening.
fn send_full(
    batch: &mut CsvBatch,
    tx: &std::sync::mpsc::SyncSender<CsvRead>,
    used: &std::sync::mpsc::Receiver<CsvBatch>,
) -> bool {
    if batch.items.len() < 4096 && batch.data.len() < 1 << 20 {
        return true;
    }
    let mut fresh = used.try_recv().unwrap_or_default();
    if let Some(text) = fresh.text.take() {
        fresh.data = text.into_bytes();
    }
    fresh.data.clear();
    fresh.ends.clear();
    fresh.items.clear();
    tx.send(CsvRead::sealed(std::mem::replace(batch, fresh)))
        .is_ok()
}

/// Splits plain lines from byte `start` (line `line`) of the file: a line
/// ends at `\n` (a `\r` before it belongs to the ending), an empty line is
/// skipped, and fields are split on the delimiter — exactly what the csv
/// reader makes of a line without a quote or another `\r`, only faster.
/// At the first line that is not plain (or is longer than a record may
/// be), returns its byte, its line and the file, for the csv reader to go
/// on from there; `None` when the file is done (or reading must stop).
#[allow(clippy::too_many_arguments)]
fn read_plain(
    mut file: std::fs::File,
    start: u64,
    mut line: u64,
    delimiter: u8,
    path: &Path,
    tx: &std::sync::mpsc::SyncSender<CsvRead>,
    used: &std::sync::mpsc::Receiver<CsvBatch>,
    batch: &mut CsvBatch,
) -> Option<(u64, u64, std::fs::File)> {
    const CHUNK: usize = 1 << 20;
    if let Err(e) = file.seek(std::io::SeekFrom::Start(start)) {
        send_fatal(
            tx,
            std::mem::take(batch),
            LoadError::at(path, line, None, e.to_string()),
        );
        return None;
    }
    let mut buf: Vec<u8> = Vec::with_capacity(2 * CHUNK);
    // `buf[0]` is at file offset `base`.
    let mut base = start;
    let mut eof = false;
    // The csv reader stops past the first byte of a line ending: the rest
    // of it (and blank lines after it) is already counted in `line`.
    let mut skip_ending = true;
    loop {
        // Top up to at least CHUNK bytes (or the end of the file).
        while !eof && buf.len() < CHUNK {
            let old = buf.len();
            buf.resize(old + CHUNK, 0);
            match file.read(&mut buf[old..]) {
                Ok(0) => {
                    buf.truncate(old);
                    eof = true;
                }
                Ok(n) => buf.truncate(old + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
                Err(e) => {
                    send_fatal(
                        tx,
                        std::mem::take(batch),
                        LoadError::at(path, line, None, e.to_string()),
                    );
                    return None;
                }
            }
        }
        let mut at = 0usize;
        if skip_ending {
            at = buf
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(buf.len());
            skip_ending = at == buf.len() && !eof;
        }
        // The next quote or carriage return: lines before it are plain
        // without looking at each of them again.
        let special_from = |from: usize| {
            memchr::memchr2(b'"', b'\r', &buf[from..]).map_or(buf.len(), |i| from + i)
        };
        let mut special = special_from(at);
        loop {
            let rest = &buf[at..];
            let (raw, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], at + i + 1),
                // the last line, without a line ending
                None if eof && !rest.is_empty() => (rest, buf.len()),
                None => break,
            };
            let body = raw.strip_suffix(b"\r").unwrap_or(raw);
            if special < next {
                if special < at + body.len() {
                    return Some((base + at as u64, line, file));
                }
                // the `\r` of this line's `\r\n`
                special = special_from(next);
            }
            if body.len() > limits::MAX_RECORD_BYTES {
                return Some((base + at as u64, line, file));
            }
            if !body.is_empty() {
                // The line as it is: its delimiters separate the fields.
                let mut fields = 0u32;
                let off = batch.data.len();
                batch.data.extend_from_slice(body);
                batch.data.push(delimiter);
                for_each_byte(body, delimiter, |d| {
                    batch.ends.push((off + d) as u32);
                    fields += 1;
                });
                batch.ends.push((off + body.len()) as u32);
                batch.items.push(CsvItem::Row {
                    line,
                    byte: base + at as u64,
                    fields: fields + 1,
                });
                if !send_full(batch, tx, used) {
                    return None;
                }
            }
            line += 1;
            at = next;
        }
        if eof && at >= buf.len() {
            let _ = tx.send(CsvRead::sealed(std::mem::take(batch)));
            return None;
        }
        // No line ends in a whole chunk: such a line is for the csv reader.
        if at == 0 {
            return Some((base, line, file));
        }
        buf.drain(..at);
        base += at as u64;
    }
}

/// Records from the csv reader (bytes counted from `byte_base`) until the
/// end of the file.
#[allow(clippy::too_many_arguments)]
fn read_records(
    mut reader: CsvFileReader,
    lines: &std::rc::Rc<std::cell::RefCell<LineIndex>>,
    since_record: &std::rc::Rc<std::cell::Cell<u64>>,
    byte_base: u64,
    path: &Path,
    tx: &std::sync::mpsc::SyncSender<CsvRead>,
    used: &std::sync::mpsc::Receiver<CsvBatch>,
    mut batch: CsvBatch,
) {
    let mut record = csv::ByteRecord::new();
    loop {
        since_record.set(0);
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // An I/O error (including an oversized record) ends the file;
                // a UTF-8 or quoting problem is one bad record.
                let line = lines.borrow().current();
                if let csv::ErrorKind::Io(io) = e.kind() {
                    send_fatal(tx, batch, LoadError::at(path, line, None, io.to_string()));
                    return;
                }
                lines.borrow_mut().record_ended(reader.position().byte(), 0);
                batch.items.push(CsvItem::Bad {
                    line,
                    message: format!("unreadable CSV record: {e}"),
                });
                continue;
            }
        }
        let (line, byte) = (
            lines.borrow().current(),
            byte_base + record.position().map_or(0, |p| p.byte()),
        );
        lines
            .borrow_mut()
            .record_ended(reader.position().byte(), record_newlines(&record));
        if record.as_slice().len() > limits::MAX_RECORD_BYTES {
            batch.items.push(CsvItem::Bad {
                line,
                message: format!("record longer than {} bytes", limits::MAX_RECORD_BYTES),
            });
            continue;
        }
        // (Blank lines never get here: the reader skips them. A line `""` is
        // one empty field: a row whose value is missing in a one-column file.)
        for field in record.iter() {
            batch.data.extend_from_slice(field);
            batch.ends.push(batch.data.len() as u32);
            batch.data.push(b',');
        }
        batch.items.push(CsvItem::Row {
            line,
            byte,
            fields: record.len() as u32,
        });
        if !send_full(&mut batch, tx, used) {
            return;
        }
    }
    let _ = tx.send(CsvRead::sealed(batch));
}

#[cfg(test)]
thread_local! {
    /// Tests take the two-thread path on small files.
    static FORCE_PARALLEL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn force_parallel() -> bool {
    #[cfg(test)]
    {
        FORCE_PARALLEL.with(|f| f.get())
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// The first error one column group met, ranked the way the one-thread
/// loader meets errors in a row: the record itself, then UTF-8, then an
/// unknown account, then a cell's value, then the key.
#[derive(Debug)]
struct GroupError {
    line: u64,
    class: u8,
    column: Option<usize>,
    message: String,
}

/// Builds a CSV table with [`COLUMN_GROUPS`] threads, each parsing and
/// indexing a group of the columns of every record (all see every
/// record). Only used when a bad row stops the load: then the rows past
/// the first error do not matter, and the error reported is the one a
/// single thread would meet.
fn build_csv_parallel(
    name: &str,
    columns: &[(String, Option<FieldSpec>)],
    key: Option<usize>,
    ctx: &mut Ctx<'_>,
    rx: &std::sync::mpsc::Receiver<CsvRead>,
    used: &std::sync::mpsc::Sender<CsvBatch>,
) -> Result<Table, LoadError> {
    let width = columns.len();
    let n = COLUMN_GROUPS.min(width);
    // Groups of similar work, heaviest columns first.
    let weight = |spec: &Option<FieldSpec>| match spec.as_ref().map(|s| &s.ty) {
        None | Some(FieldType::String) | Some(FieldType::Ref) | Some(FieldType::Set) => 4,
        Some(FieldType::DateTime) | Some(FieldType::Date) | Some(FieldType::Float) => 3,
        Some(FieldType::Int) | Some(FieldType::Enum { .. }) => 2,
        Some(FieldType::Bool) => 1,
    };
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weight(&columns[i].1)));
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut loads = vec![0u32; n];
    for i in order {
        let g = (0..n)
            .min_by_key(|&g| loads[g])
            .expect("at least one group");
        loads[g] += weight(&columns[i].1);
        groups[g].push(i);
    }
    for g in &mut groups {
        g.sort_unstable();
    }
    let account_keys = ctx.account_keys.take();
    let make = |g: &[usize]| {
        let cols: Vec<(String, Option<FieldSpec>)> =
            g.iter().map(|&i| columns[i].clone()).collect();
        let has_ref = cols
            .iter()
            .any(|(_, s)| s.as_ref().is_some_and(|s| s.ty == FieldType::Ref));
        let mut b = TableBuilder::new(name, cols, key.and_then(|k| g.iter().position(|&i| i == k)));
        if let (true, Some(keys)) = (has_ref, &account_keys) {
            b.set_ref_keys(keys.clone());
        }
        b
    };
    let mut builders: Vec<TableBuilder> = groups.iter().map(|g| make(g)).collect();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<std::sync::Arc<CsvBatch>>();
    let outcome: Result<Vec<Result<(), GroupError>>, LoadError> = std::thread::scope(|s| {
        let total = ctx.total;
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for (b, g) in builders.iter_mut().zip(&groups) {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<std::sync::Arc<CsvBatch>>(QUEUED_BATCHES);
            let done = done_tx.clone();
            senders.push(tx);
            handles.push(s.spawn(move || build_group(b, g, width, total, rx, done)));
        }
        drop(done_tx);
        let mut last_progress = 0u64;
        let mut fatal = None;
        'read: for msg in rx.iter() {
            let batch = match msg {
                CsvRead::Batch(b) => b,
                CsvRead::Fatal(e) => {
                    fatal = Some(e);
                    break;
                }
                CsvRead::Header(_) => continue,
            };
            let byte = batch.items.iter().rev().find_map(|i| match i {
                CsvItem::Row { byte, .. } => Some(*byte),
                CsvItem::Bad { .. } => None,
            });
            let shared = std::sync::Arc::new(batch);
            for tx in &senders {
                if tx.send(shared.clone()).is_err() {
                    break 'read;
                }
            }
            drop(shared);
            // Batches every group is done with go back to the reader.
            while let Ok(b) = done_rx.try_recv() {
                if let Ok(b) = std::sync::Arc::try_unwrap(b) {
                    let _ = used.send(b);
                }
            }
            if let (Some(progress), Some(byte)) = (ctx.opts.progress, byte) {
                if byte - last_progress > 1 << 22 {
                    last_progress = byte;
                    progress(byte, ctx.total);
                }
            }
        }
        drop(senders);
        let results = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        match fatal {
            Some(e) => Err(e),
            None => Ok(results),
        }
    });
    if super::build::tracing() {
        super::build::trace_step(&format!("cells of {name} read"));
    }
    let first = outcome?
        .into_iter()
        .filter_map(Result::err)
        .min_by_key(|e| (e.line, e.class, e.column));
    if let Some(e) = first {
        return Err(LoadError::at(
            ctx.path,
            e.line,
            e.column.map(|c| c + 1),
            e.message,
        ));
    }
    let tables = TableBuilder::finish_all(builders);
    let len = tables[0].len;
    debug_assert!(tables.iter().all(|t| t.len == len));
    let mut parts: Vec<Option<(super::Column, String)>> = (0..width).map(|_| None).collect();
    for (t, g) in tables.into_iter().zip(&groups) {
        for ((c, sep), &i) in t.columns.into_iter().zip(t.separators).zip(g.iter()) {
            parts[i] = Some((c, sep));
        }
    }
    let (columns, separators): (Vec<_>, Vec<_>) = parts
        .into_iter()
        .map(|p| p.expect("every column built"))
        .unzip();
    Ok(Table {
        name: name.to_string(),
        len,
        columns,
        key,
        all: super::bits::Bits::all(len).to_roaring(),
        separators,
    })
}

/// Column groups a CSV table is built in, each on its own thread. Three
/// on two cores (with the reader, four threads) beat two by 2-3% at 10M
/// contacts: when one group has run ahead and waits, the others still
/// fill both cores.
const COLUMN_GROUPS: usize = 3;

/// One column group of [`build_csv_parallel`]: the group's cells of every
/// record, a batch at a time, until the first error.
fn build_group(
    builder: &mut TableBuilder,
    group: &[usize],
    width: usize,
    total: u64,
    rx: std::sync::mpsc::Receiver<std::sync::Arc<CsvBatch>>,
    done: std::sync::mpsc::Sender<std::sync::Arc<CsvBatch>>,
) -> Result<(), GroupError> {
    let mut waited = std::time::Duration::ZERO;
    let mut sized = false;
    let mut size = |builder: &mut TableBuilder, batch: &CsvBatch| {
        if !sized && !batch.items.is_empty() && total > 0 {
            // The first records say how many the file holds, roughly.
            sized = true;
            let bytes = batch.bytes().len() + 1;
            let rows = (total as f64 / bytes as f64 * batch.items.len() as f64 * 1.02) as usize;
            builder.reserve(rows.min(super::build::MAX_ROWS as usize));
        }
    };
    let mut lines: Vec<u64> = Vec::new();
    loop {
        let t = std::time::Instant::now();
        let Ok(batch) = rx.recv() else { break };
        waited += t.elapsed();
        // The reader checked the batch is UTF-8; fields are sliced from it.
        let text = batch.text.as_deref();
        let field_bytes = |f: usize| {
            let start = if f == 0 {
                0
            } else {
                batch.ends[f - 1] as usize + 1
            };
            start..batch.ends[f] as usize
        };
        let field = |f: usize| -> Option<&str> {
            let range = field_bytes(f);
            match text {
                Some(t) => t.get(range),
                None => std::str::from_utf8(&batch.data[range]).ok(),
            }
        };
        // The usual batch: UTF-8, every record whole. Its cells are read
        // straight from the field ends (record r's field c is field
        // r * width + c), with no list of cells to build first.
        if let Some(t) = text.filter(|_| {
            batch.items.iter().all(
                |item| matches!(item, CsvItem::Row { fields, .. } if *fields as usize == width),
            )
        }) {
            let rows = batch.items.len();
            // Each field is followed by an ASCII separator, so its bounds
            // are char boundaries of the UTF-8 text.
            let cell = |r: usize, i: usize| CellIn::Text(&t[field_bytes(r * width + group[i])]);
            if let Err(e) = builder.push_batch(rows, cell) {
                let line = match &batch.items[e.row] {
                    CsvItem::Row { line, .. } | CsvItem::Bad { line, .. } => *line,
                };
                return Err(group_error(builder, group, line, e));
            }
            size(builder, &batch);
            let _ = done.send(batch);
            continue;
        }
        let mut cells: Vec<CellIn<'_>> = Vec::with_capacity(batch.items.len() * group.len());
        lines.clear();
        let mut stop: Option<GroupError> = None;
        let mut next = 0usize;
        for item in &batch.items {
            let (line, n) = match item {
                CsvItem::Bad { line, message } => {
                    stop = Some(GroupError {
                        line: *line,
                        class: 0,
                        column: None,
                        message: message.clone(),
                    });
                    break;
                }
                CsvItem::Row { line, fields, .. } => (*line, *fields as usize),
            };
            let first = next;
            next += n;
            if n != width {
                stop = Some(GroupError {
                    line,
                    class: 0,
                    column: Some(n.min(width)),
                    message: format!("expected {width} fields, found {n}"),
                });
                break;
            }
            let before = cells.len();
            for &c in group {
                match field(first + c) {
                    Some(t) => cells.push(CellIn::Text(t)),
                    None => break,
                }
            }
            if cells.len() - before < group.len() {
                // The one-thread loader reports the row's first such field.
                let c = (0..width)
                    .find(|&i| field(first + i).is_none())
                    .unwrap_or(0);
                cells.truncate(before);
                stop = Some(GroupError {
                    line,
                    class: 1,
                    column: Some(c),
                    message: "not valid UTF-8".into(),
                });
                break;
            }
            lines.push(line);
        }
        let k = group.len();
        if let Err(e) = builder.push_batch(lines.len(), |r, i| cells[r * k + i]) {
            return Err(group_error(builder, group, lines[e.row], e));
        }
        if let Some(e) = stop {
            return Err(e);
        }
        drop(cells);
        size(builder, &batch);
        let _ = done.send(batch);
    }
    if super::build::tracing() {
        let names = builder.column_names().join(", ");
        eprintln!(
            "waited for records: {:.2} s ({names})",
            waited.as_secs_f64()
        );
    }
    Ok(())
}

/// A bad cell met by one column group, as the group's error at `line`.
fn group_error(builder: &TableBuilder, group: &[usize], line: u64, e: BatchError) -> GroupError {
    let name = &builder.column_names()[e.column];
    let (class, message) = match e.kind {
        BatchErrorKind::Account => (2, format!("`{name}` {}", e.message)),
        BatchErrorKind::Value => (3, format!("`{name}`: {}", e.message)),
        BatchErrorKind::Key => (4, format!("`{name}`: {}", e.message)),
    };
    GroupError {
        line,
        class,
        column: Some(group[e.column]),
        message,
    }
}

/// The building half of [`load_csv`].
fn build_csv(
    name: &str,
    ts: &TableSchema,
    ctx: &mut Ctx<'_>,
    rx: &std::sync::mpsc::Receiver<CsvRead>,
    used: &std::sync::mpsc::Sender<CsvBatch>,
) -> Result<Table, LoadError> {
    let path = ctx.path;
    let headers = match rx.recv() {
        Ok(CsvRead::Header(h)) => h?,
        Ok(CsvRead::Fatal(e)) => return Err(e),
        _ => return Err(LoadError::file(path, "the CSV reader stopped unexpectedly")),
    };
    let (columns, key) = plan_columns(path, &headers, ts, ctx.account_keys.is_some(), ctx.report)?;
    if !ctx.opts.skip_bad_rows && columns.len() >= 2 && (ctx.total >= 32 << 20 || force_parallel())
    {
        return build_csv_parallel(name, &columns, key, ctx, rx, used);
    }
    let mut builder = TableBuilder::new(name, columns.clone(), key);
    if let Some(keys) = ctx.account_keys.take() {
        builder.set_ref_keys(keys);
    }
    let width = columns.len();
    let mut last_progress = 0u64;
    let mut sized = false;
    for msg in rx.iter() {
        let batch = match msg {
            CsvRead::Batch(b) => b,
            CsvRead::Fatal(e) => return Err(e),
            CsvRead::Header(_) => continue,
        };
        let mut cells: Vec<CellIn<'_>> = Vec::with_capacity(width);
        let mut next = 0usize;
        for item in &batch.items {
            let (line, byte, n) = match item {
                CsvItem::Bad { line, message } => {
                    ctx.bad_row(*line, None, message.clone())?;
                    continue;
                }
                CsvItem::Row { line, byte, fields } => (*line, *byte, *fields as usize),
            };
            let first = next;
            next += n;
            if n != width {
                // the column of the first missing or extra field
                ctx.bad_row(
                    line,
                    Some(n.min(width) + 1),
                    format!("expected {width} fields, found {n}"),
                )?;
                continue;
            }
            let start = if first == 0 {
                0
            } else {
                batch.ends[first - 1] as usize + 1
            };
            let end = if n == 0 {
                start
            } else {
                batch.ends[first + n - 1] as usize
            };
            let field_end = |i: usize| batch.ends[first + i] as usize - start;
            cells.clear();
            // One UTF-8 check per record; a field is valid when it also
            // starts and ends on character boundaries.
            let bad = match std::str::from_utf8(&batch.bytes()[start..end]) {
                Ok(text) => {
                    let mut at = 0;
                    let mut bad = None;
                    for i in 0..n {
                        match text.get(at..field_end(i)) {
                            Some(cell) => cells.push(CellIn::Text(cell)),
                            None => {
                                bad = Some(i);
                                break;
                            }
                        }
                        at = field_end(i) + 1;
                    }
                    bad
                }
                Err(_) => (0..n).find(|&i| {
                    let from = if i == 0 { 0 } else { field_end(i - 1) + 1 };
                    std::str::from_utf8(&batch.bytes()[start + from..start + field_end(i)]).is_err()
                }),
            };
            if let Some(i) = bad {
                ctx.bad_row(line, Some(i + 1), "not valid UTF-8".into())?;
                continue;
            }
            ctx.push(&mut builder, &columns, line, &cells)?;
            if let Some(progress) = ctx.opts.progress {
                if byte - last_progress > 1 << 22 {
                    last_progress = byte;
                    progress(byte, ctx.total);
                }
            }
        }
        drop(cells);
        if !sized && !batch.items.is_empty() && ctx.total > 0 {
            // The first records say how many the file holds, roughly.
            sized = true;
            let bytes = batch.bytes().len() + 1;
            let rows = (ctx.total as f64 / bytes as f64 * batch.items.len() as f64 * 1.02) as usize;
            builder.reserve(rows.min(super::build::MAX_ROWS as usize));
        }
        let _ = used.send(batch);
    }
    Ok(builder.finish())
}

/// Reads one line of at most `limit` bytes (without the newline); `None` at EOF.
fn read_line_limited(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(if buf.is_empty() && !too_long {
                None
            } else {
                Some(too_long)
            });
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if buf.len() + chunk.len() > limit {
            too_long = true;
        } else {
            buf.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(too_long));
        }
    }
}

fn load_jsonl(
    name: &str,
    file: std::fs::File,
    ts: &TableSchema,
    ctx: &mut Ctx<'_>,
) -> Result<Table, LoadError> {
    let path = ctx.path;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut rows: Vec<(u64, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    let mut headers: Vec<String> = Vec::new();
    let mut seen: AHashMap<String, usize> = AHashMap::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut read = 0u64;
    // Undeclared fields that hold a JSON array somewhere are sets.
    let mut array_keys: ahash::AHashSet<String> = ahash::AHashSet::new();
    while let Some(too_long) = read_line_limited(&mut reader, &mut buf, limits::MAX_RECORD_BYTES)
        .map_err(|e| LoadError::file(path, e.to_string()))?
    {
        line += 1;
        read += buf.len() as u64 + 1;
        if too_long {
            ctx.bad_row(
                line,
                None,
                format!("line longer than {} bytes", limits::MAX_RECORD_BYTES),
            )?;
            continue;
        }
        if line == 1 && buf.starts_with(b"\xef\xbb\xbf") {
            buf.drain(..3);
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_slice(&buf) {
            Ok(v) => v,
            Err(e) => {
                let text = e.to_string();
                let text = text
                    .rfind(" at line ")
                    .map_or(text.as_str(), |i| &text[..i]);
                ctx.bad_row(line, Some(e.column()), format!("invalid JSON: {text}"))?;
                continue;
            }
        };
        let serde_json::Value::Object(map) = value else {
            ctx.bad_row(line, Some(1), "expected a JSON object".into())?;
            continue;
        };
        for (k, v) in &map {
            if v.is_array() && !array_keys.contains(k) {
                array_keys.insert(k.clone());
            }
            if !seen.contains_key(k) {
                if headers.len() >= limits::MAX_COLUMNS {
                    return Err(LoadError::at(
                        path,
                        line,
                        None,
                        format!("more than {} columns", limits::MAX_COLUMNS),
                    ));
                }
                seen.insert(k.clone(), headers.len());
                headers.push(k.clone());
            }
        }
        rows.push((line, map));
        if let Some(progress) = ctx.opts.progress {
            if line.is_multiple_of(100_000) {
                progress(read, ctx.total);
            }
        }
    }
    // JSON objects omit keys freely: a declared field no row has is all missing.
    for f in &ts.fields {
        if !headers.iter().any(|h| normalize_header(h) == f.name) {
            headers.push(f.name.clone());
        }
    }
    let inferred_sets: Vec<FieldSpec> = headers
        .iter()
        .filter(|h| array_keys.contains(*h) && ts.field(&normalize_header(h)).is_none())
        .map(|h| FieldSpec::new(normalize_header(h), FieldType::Set))
        .collect();
    let with_sets;
    let ts = if inferred_sets.is_empty() {
        ts
    } else {
        with_sets = TableSchema {
            key: ts.key.clone(),
            fields: ts.fields.iter().cloned().chain(inferred_sets).collect(),
        };
        &with_sets
    };
    let (columns, key) = plan_columns(path, &headers, ts, ctx.account_keys.is_some(), ctx.report)?;
    let mut builder = TableBuilder::new(name, columns.clone(), key);
    let mut texts: Vec<String> = vec![String::new(); headers.len()];
    let mut lists: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for (line, map) in rows {
        let mut is_list = vec![false; headers.len()];
        for t in texts.iter_mut() {
            t.clear();
        }
        let mut bad = None;
        for (k, v) in map {
            let i = seen[&k];
            match json_cell(v) {
                Ok(JsonCell::Text(t)) => texts[i] = t,
                Ok(JsonCell::List(l)) => {
                    lists[i] = l;
                    is_list[i] = true;
                }
                Err(m) => {
                    bad = Some((i, m));
                    break;
                }
            }
        }
        if let Some((i, m)) = bad {
            ctx.bad_row(line, None, format!("`{}`: {m}", columns[i].0))?;
            continue;
        }
        let cells: Vec<CellIn<'_>> = (0..headers.len())
            .map(|i| {
                if is_list[i] {
                    CellIn::List(&lists[i])
                } else {
                    CellIn::Text(&texts[i])
                }
            })
            .collect();
        ctx.push(&mut builder, &columns, line, &cells)?;
    }
    Ok(builder.finish())
}

enum JsonCell {
    Text(String),
    List(Vec<String>),
}

fn json_cell(v: serde_json::Value) -> Result<JsonCell, String> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => JsonCell::Text(String::new()),
        Value::Bool(b) => JsonCell::Text(b.to_string()),
        Value::Number(n) => JsonCell::Text(n.to_string()),
        Value::String(s) => JsonCell::Text(s),
        Value::Array(items) => JsonCell::List(
            items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    // (named, not printed: the value may be megabytes deep)
                    Value::Null => {
                        Err("a list may hold strings, numbers and booleans, not null".to_string())
                    }
                    Value::Array(_) => {
                        Err("a list may hold strings, numbers and booleans, not a list".to_string())
                    }
                    Value::Object(_) => Err(
                        "a list may hold strings, numbers and booleans, not an object".to_string(),
                    ),
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(_) => return Err("nested objects are not supported".into()),
    })
}

/// Reads everything from a reader into a string, for tests.
pub fn read_all(mut r: impl Read) -> std::io::Result<String> {
    let mut s = String::new();
    r.read_to_string(&mut s)?;
    Ok(s)
}

// ------------------------------------------------------------------ demo

/// The day the demo data set was "exported": its relative dates are
/// anchored here, and commands on it default `--now` to this day.
pub const DEMO_TODAY: &str = "2026-12-01";
pub const DEMO_CONTACTS: u64 = 100_000;
pub const DEMO_ACCOUNTS: u64 = 4_000;
pub const DEMO_SEED: u64 = 42;

/// The built-in demo data set: 100,000 contacts at 4,000 accounts.
pub fn demo() -> Store {
    generated(&crate::gen::GenConfig {
        contacts: DEMO_CONTACTS,
        accounts: DEMO_ACCOUNTS,
        seed: DEMO_SEED,
        today_days: crate::time::parse_date(DEMO_TODAY).expect("valid")
            / crate::time::MICROS_PER_DAY,
    })
}

/// A generated data set, built straight into the store (no CSV round trip).
pub fn generated(cfg: &crate::gen::GenConfig) -> Store {
    let schema = parse_schema(&crate::gen::schema_toml()).expect("the generator's schema is valid");
    let table = |name: &str, ts: &TableSchema, cols: &[&str]| {
        let columns: Vec<(String, Option<FieldSpec>)> = cols
            .iter()
            .map(|c| (c.to_string(), ts.field(c).cloned()))
            .collect();
        let key = cols.iter().position(|c| Some(*c) == ts.key.as_deref());
        TableBuilder::new(name, columns, key)
    };
    let accounts_schema = schema
        .accounts
        .clone()
        .expect("generated schema has accounts");
    let mut accounts = table("accounts", &accounts_schema, crate::gen::ACCOUNT_COLUMNS);
    let mut contacts = table("contacts", &schema.contacts, crate::gen::CONTACT_COLUMNS);
    crate::gen::generate(
        cfg,
        |row| {
            let cells: Vec<CellIn<'_>> = row.iter().map(|c| CellIn::Text(c)).collect();
            accounts
                .push_row(&cells)
                .expect("generated accounts fit their schema");
        },
        |row| {
            let cells: Vec<CellIn<'_>> = row.iter().map(|c| CellIn::Text(c)).collect();
            contacts
                .push_row(&cells)
                .expect("generated contacts fit their schema");
        },
    );
    link(contacts.finish(), Some(accounts.finish())).expect("generated contacts link to accounts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Cell;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Plain lines are split without the csv reader, which takes over at the
    /// first quote or lone `\r`: values and line numbers are the same as
    /// the csv reader's alone, on either side of the switch.
    #[test]
    fn ingest_plain_lines_then_the_csv_reader_agree_on_values_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let plain = "\u{feff}id,name,n\r\n\r\n1,ann,1\r\n2,,2\n\n3,c d,3\n";
        let quoted = "4,\"multi\nline, \"\"q\"\"\",4\n5,e,5\n";
        let bad = "6,f\n";
        for (text, rows) in [
            (format!("{plain}{quoted}"), 5),
            (plain.to_string(), 3),
            (format!("{plain}7,g,7"), 4),
        ] {
            write(dir.path(), "contacts.csv", &text);
            let (store, _) = load_path(dir.path(), &LoadOptions::default()).unwrap();
            let t = &store.contacts;
            assert_eq!(t.len, rows, "{text:?}");
            let names: Vec<Cell<'_>> = (0..t.len).map(|r| t.columns[1].cell(r)).collect();
            assert_eq!(names[0], Cell::Text("ann"));
            assert_eq!(names[1], Cell::Missing);
            assert_eq!(names[2], Cell::Text("c d"));
            if rows == 5 {
                assert_eq!(names[3], Cell::Text("multi\nline, \"q\""));
            }
            if rows == 4 {
                assert_eq!(names[3], Cell::Text("g"));
            }
        }
        // A bad row after plain lines, and after the switch: its physical line.
        write(dir.path(), "contacts.csv", &format!("{plain}{bad}"));
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (Some(7), "expected 3 fields, found 2")
        );
        write(dir.path(), "contacts.csv", &format!("{plain}{quoted}{bad}"));
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(err.line, Some(10), "{err:?}");
        // A lone carriage return ends a record, as the csv reader has it.
        write(dir.path(), "contacts.csv", "id,name,n\n1,a,1\r2,b,2\n");
        let (store, _) = load_path(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(store.contacts.len, 2);
    }

    #[test]
    fn ingest_csv_with_quotes_bom_and_newlines() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "contacts.csv",
            "\u{feff}ID,Job Title,Notes\n1,\"Head of Sales, EMEA\",\"line one\nline two\"\n2,,\"he said \"\"hi\"\"\"\n",
        );
        let (store, report) = load_path(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(report.skipped, 0);
        let t = &store.contacts;
        assert_eq!(t.len, 2);
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "job_title", "notes"]);
        assert_eq!(
            t.column("job_title").unwrap().cell(0),
            Cell::Text("Head of Sales, EMEA")
        );
        assert_eq!(t.column("job_title").unwrap().cell(1), Cell::Missing);
        assert_eq!(
            t.column("notes").unwrap().cell(0),
            Cell::Text("line one\nline two")
        );
        assert_eq!(
            t.column("notes").unwrap().cell(1),
            Cell::Text("he said \"hi\"")
        );
    }

    #[test]
    fn ingest_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "schema.toml",
            "[contacts.fields]\nscore = \"int\"\n",
        );
        write(
            dir.path(),
            "contacts.csv",
            "id,score\n1,5\n2,\"multi\nline\"\n3,x\n",
        );
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("contacts.csv:3:2: `score`: \"multi\\nline\" is not an int"),
            "{err}"
        );
        write(dir.path(), "contacts.csv", "id,score\n1,5\n2,6,7\n1,3\n");
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("contacts.csv:3:3: expected 2 fields, found 3"),
            "{err}"
        );
        let opts = LoadOptions {
            skip_bad_rows: true,
            ..LoadOptions::default()
        };
        let (store, report) = load_path(dir.path(), &opts).unwrap();
        assert_eq!(store.contacts.len, 1);
        assert_eq!(report.skipped, 2);
        assert_eq!(report.first_skipped[1].line, 4);
        assert!(
            report.first_skipped[1].message.contains("duplicate key"),
            "{:?}",
            report.first_skipped
        );
    }

    #[test]
    fn ingest_jsonl_with_lists_and_accounts() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "schema.toml",
            "[contacts.fields]\ntags = \"set\"\naccount_id = { type = \"ref\", table = \"accounts\" }\n",
        );
        write(
            dir.path(),
            "contacts.jsonl",
            "{\"id\": 1, \"tags\": [\"a\", \"b\"], \"account_id\": \"x\"}\n\n{\"id\": 2, \"tags\": null}\n",
        );
        write(dir.path(), "accounts.csv", "id,name\nx,Acme\ny,Beta\n");
        let (store, _) = load_path(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(
            store.contacts.column("tags").unwrap().cell(0),
            Cell::Set(vec!["a", "b"])
        );
        assert_eq!(
            store.contacts.column("tags").unwrap().cell(1),
            Cell::Missing
        );
        let link = store.link.as_ref().unwrap();
        assert_eq!(link.account_of, vec![0, MISSING]);
        write(
            dir.path(),
            "contacts.jsonl",
            "{\"id\": 1, \"account_id\": \"zz\"}\n",
        );
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("contacts.jsonl:1:"), "{err}");
        assert!(
            err.message
                .contains("`account_id` refers to unknown account \"zz\""),
            "{err}"
        );
    }

    #[test]
    fn ingest_csv_lines_count_crlf_blank_lines_and_quoted_newlines() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "schema.toml",
            "[contacts.fields]\nscore = \"int\"\n",
        );
        let line_of_error = |text: &str| {
            write(dir.path(), "contacts.csv", text);
            let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
            (err.line, err.message)
        };
        // CRLF endings: the csv crate alone says line 3 here.
        assert_eq!(
            line_of_error("id,score\r\n1,5\r\n2,6\r\n3,x\r\n").0,
            Some(4)
        );
        // a quoted CRLF inside a field, then blank lines
        assert_eq!(line_of_error("id,score\r\n1,\"a\r\nb\"\r\n").0, Some(2));
        assert_eq!(
            line_of_error("id,score\n1,5\n\n\n2,\"x\ny\"\n3,4\n").0,
            Some(5)
        );
        assert_eq!(line_of_error("id,score\n1,\"5\n\"\n\n\n\n3,y\n").0, Some(7));
        let opts = LoadOptions {
            skip_bad_rows: true,
            ..LoadOptions::default()
        };
        write(
            dir.path(),
            "contacts.csv",
            "id,score\r\n\r\n1,x\r\n2,\"3\r\n\"\r\n3,y\r\n4,1,1\r\n",
        );
        let (_, report) = load_path(dir.path(), &opts).unwrap();
        let lines: Vec<u64> = report.first_skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [3, 6, 7]);
    }

    #[test]
    fn ingest_line_index_keeps_only_recent_bytes() {
        let mut index = LineIndex::new();
        index.push(b"\r\n\nid\n");
        assert_eq!(index.current(), 3);
        index.record_ended(6, 0);
        let chunk = vec![b'x'; 1 << 16];
        for _ in 0..400 {
            index.push(&chunk);
            assert!(index.recent.len() <= LineIndex::CUT);
        }
        assert_eq!(index.current(), 4);
    }

    #[test]
    fn ingest_quoted_empty_line_is_a_row_not_a_blank_line() {
        // fuzz finding (csv_ingest): `query all --format csv` writes a
        // one-column row with a missing value as `""`; loading it again
        // dropped the row as if it were a blank line.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "contacts.csv", "a\n1\n\"\"\n\n2\n");
        let (store, _) = load_path(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(store.contacts.len, 3);
        assert_eq!(store.contacts.columns[0].cell(1), Cell::Missing);
        // with more columns, `""` is a row with the wrong number of fields
        write(dir.path(), "contacts.csv", "a,b\n1,2\n\"\"\n");
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:3:2: expected 2 fields, found 1",
                dir.path().join("contacts.csv").display()
            )
        );
    }

    #[test]
    fn ingest_jsonl_deep_values_are_located_and_not_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let deep = |n: usize| {
            format!(
                "{{\"id\": 1, \"tags\": [\"a\", {}{}]}}\n",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        write(
            dir.path(),
            "contacts.jsonl",
            &format!("{{\"id\": 0}}\n{}", deep(100)),
        );
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(
            err.message
                .ends_with("`tags`: a list may hold strings, numbers and booleans, not a list"),
            "{err}"
        );
        // past serde_json's recursion limit (128)
        write(
            dir.path(),
            "contacts.jsonl",
            &format!("{{\"id\": 0}}\n\n{}", deep(100_000)),
        );
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (Some(3), "invalid JSON: recursion limit exceeded"),
            "{err}"
        );
        assert!(err.column.is_some_and(|c| c > 1), "{err:?}");
    }

    #[test]
    fn ingest_bounds_an_endless_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id,notes\n1,ok\n2,\"");
        text.push_str(&"x".repeat(limits::MAX_RECORD_BYTES + (2 << 20)));
        write(dir.path(), "contacts.csv", &text);
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert!(err.message.contains("longer than the limit"), "{err}");
    }

    #[test]
    fn ingest_reports_bad_json_with_location() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "contacts.jsonl", "{\"id\": 1}\n{\"id\": \n");
        let err = load_path(dir.path(), &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("contacts.jsonl:2:"), "{err}");
        assert!(err.message.contains("invalid JSON"), "{err}");
    }

    #[test]
    fn demo_data_is_deterministic_and_linked() {
        let cfg = crate::gen::GenConfig {
            contacts: 2000,
            accounts: 80,
            seed: 7,
            today_days: 20_000,
        };
        let a = generated(&cfg);
        let b = generated(&cfg);
        assert_eq!(a.contacts.len, 2000);
        assert_eq!(
            a.link.as_ref().unwrap().account_of,
            b.link.as_ref().unwrap().account_of
        );
        assert!(a.link.as_ref().unwrap().linked.len() > 1500);
    }
}

#[cfg(test)]
mod jsonl_set_tests {
    use super::*;

    #[test]
    fn ingest_jsonl_infers_sets_from_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.jsonl");
        std::fs::write(
            &path,
            "{\"id\": 1, \"Tags\": [\"a\", \"b\"]}\n{\"id\": 2, \"Tags\": []}\n{\"id\": 3, \"Tags\": null}\n{\"id\": 4}\n",
        )
        .unwrap();
        let (store, _) = load_path(&path, &LoadOptions::default()).unwrap();
        let tags = store
            .contacts
            .column_index("tags")
            .expect("normalised name");
        assert_eq!(store.contacts.columns[tags].ty, FieldType::Set);
        assert!(
            matches!(store.contacts.columns[tags].cell(0), crate::store::Cell::Set(ref v) if v.len() == 2)
        );
        for row in 1..4 {
            assert!(
                matches!(
                    store.contacts.columns[tags].cell(row),
                    crate::store::Cell::Missing
                ),
                "row {row}"
            );
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn for_each_byte_finds_every_position() {
        for text in [
            &b""[..],
            b",",
            b"a,b",
            b",,,,,,,,,,,,,,,,,",
            b"abcdefgh,ijklmnop,",
            b"\x80,\xff,\x01\x00,",
        ] {
            for byte in [b',', 0u8, 0x80, 0xff, 1] {
                let mut got = Vec::new();
                for_each_byte(text, byte, |i| got.push(i));
                let want: Vec<usize> = (0..text.len()).filter(|&i| text[i] == byte).collect();
                assert_eq!(got, want, "{text:?} {byte}");
            }
        }
    }

    /// A load as comparable values: every cell, or the error.
    fn outcome(dir: &Path, opts: &LoadOptions) -> Result<Vec<Vec<String>>, String> {
        match load_path(dir, opts) {
            Ok((store, report)) => {
                let t = &store.contacts;
                let mut rows: Vec<Vec<String>> = (0..t.len)
                    .map(|r| {
                        t.columns
                            .iter()
                            .map(|c| format!("{:?}", c.cell(r)))
                            .collect()
                    })
                    .collect();
                rows.push(
                    t.columns
                        .iter()
                        .map(|c| format!("{}:{}", c.name, c.ty))
                        .collect(),
                );
                let mut skipped: Vec<String> = report
                    .first_skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.line, s.message))
                    .collect();
                skipped.push(report.skipped.to_string());
                rows.push(skipped);
                Ok(rows)
            }
            Err(e) => Err(format!("{:?}:{:?}: {}", e.line, e.column, e.message)),
        }
    }

    /// Per column of [`batch_schema`]: cells that fit, then cells that do
    /// not (or are odd: blank, padded, other spellings).
    const BATCH_CELLS: &[(&str, &[&str], &[&str])] = &[
        (
            "n",
            &["0", "7", "-3", "+5", " 12 "],
            &["", "x", "1.5", "99999999999999999999"],
        ),
        ("f", &["1.5", "-2", "1e3", " 3 "], &["", "inf", "x"]),
        (
            "d",
            &["2026-01-31", " 2026-01-01 "],
            &["", "2026-02-30", "x"],
        ),
        (
            "dt",
            &[
                "2026-01-31T09:30:00Z",
                "2026-01-31",
                "2026-01-31 09:30:00+02:00",
            ],
            &["", "bad"],
        ),
        ("us", &["01/31/26", "12/01/99"], &["", "2026-01-31"]),
        ("b", &["true", "FALSE", " True "], &["", "  ", "yes"]),
        ("e", &["a", "b"], &["", " a ", "c"]),
        ("s", &["x", "y", "x ", "zz"], &["", " "]),
        ("tags", &["a;b", "b;a;a", " a ; ", "c"], &["", ";", " ; "]),
        ("kinds", &["p", "p;q", "q; p"], &["", "r", "p;r"]),
        ("account_id", &["x", "y", "7", " x "], &["", "z", "007"]),
        ("note", &["1", "2", "10", "x"], &["", " 3", "3.5"]),
        ("level", &["1", "2", "10"], &["", "07", " 3"]),
    ];

    fn batch_schema() -> &'static str {
        "[contacts]\nkey = \"id\"\n[contacts.fields]\nid = \"int\"\nn = \"int\"\nf = \"float\"\n\
         d = \"date\"\ndt = \"datetime\"\nus = { type = \"date\", format = \"%m/%d/%y\" }\n\
         b = \"bool\"\ne = { type = \"enum\", values = [\"a\", \"b\"] }\ns = \"string\"\n\
         tags = \"set\"\nkinds = { type = \"set\", values = [\"p\", \"q\"] }\n\
         account_id = { type = \"ref\", table = \"accounts\" }\n"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Loading in batches on column threads (each column's cells in a loop
        /// specialised to its type, the general path for the cells that
        /// loop leaves) builds what loading row by row builds, or meets
        /// the same first error.
        #[test]
        fn batch_loading_builds_what_row_loading_builds(
            rows in proptest::collection::vec(
                (any::<u8>(), proptest::collection::vec((0u8..100, any::<u8>()), BATCH_CELLS.len())),
                0..80,
            ),
            odd in 0u8..20,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path();
            std::fs::write(p.join("schema.toml"), batch_schema()).unwrap();
            std::fs::write(p.join("accounts.csv"), "id,name\nx,X\ny,Y\n7,S\n").unwrap();
            let mut text = String::from("id");
            for (name, _, _) in BATCH_CELLS {
                text.push(',');
                text.push_str(name);
            }
            text.push('\n');
            for (r, (key, cells)) in rows.iter().enumerate() {
                // Keys are row numbers, now and then repeated or missing.
                let id = match key {
                    0 => String::new(),
                    1 => "1".to_string(),
                    _ => (r + 1).to_string(),
                };
                text.push_str(&id);
                for ((_, good, bad), &(pick, i)) in BATCH_CELLS.iter().zip(cells) {
                    // `odd` in 100 cells come from the odd ones.
                    let pool = if pick < odd { bad } else { good };
                    text.push(',');
                    text.push_str(pool[i as usize % pool.len()]);
                }
                text.push('\n');
            }
            std::fs::write(p.join("contacts.csv"), &text).unwrap();
            let opts = LoadOptions::default();
            let rows = outcome(p, &opts);
            FORCE_PARALLEL.with(|f| f.set(true));
            let batches = outcome(p, &opts);
            FORCE_PARALLEL.with(|f| f.set(false));
            prop_assert_eq!(rows, batches, "{}", text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Splitting plain lines, then the csv reader from the first other
        /// line, reads any text as the csv reader alone does: the same
        /// cells, types, skipped rows, or the same error at the same line.
        #[test]
        fn plain_splitting_reads_as_the_csv_reader_does(
            body in proptest::collection::vec(
                prop_oneof![
                    8 => Just("a"), 4 => Just("7"), 6 => Just(","), 4 => Just("\n"),
                    1 => Just("\r"), 1 => Just("\r\n"), 1 => Just("\""), 1 => Just(" "),
                    1 => Just("é"), 1 => Just("\n\n"),
                ],
                0..120,
            ),
            skip in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let text = format!("x,y,z\n{}", body.concat());
            std::fs::write(dir.path().join("contacts.csv"), &text).unwrap();
            let opts = LoadOptions { skip_bad_rows: skip, ..LoadOptions::default() };
            let plain = outcome(dir.path(), &opts);
            NO_PLAIN.store(true, std::sync::atomic::Ordering::SeqCst);
            let reader = outcome(dir.path(), &opts);
            NO_PLAIN.store(false, std::sync::atomic::Ordering::SeqCst);
            prop_assert_eq!(plain, reader, "{:?}", text);
        }
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    /// Loads `dir` on one thread and on two (column groups): the same
    /// table, or the same error.
    fn both(dir: &Path) -> (Result<Store, LoadError>, Result<Store, LoadError>) {
        let one = load_path(dir, &LoadOptions::default()).map(|(s, _)| s);
        FORCE_PARALLEL.with(|f| f.set(true));
        let two = load_path(dir, &LoadOptions::default()).map(|(s, _)| s);
        FORCE_PARALLEL.with(|f| f.set(false));
        (one, two)
    }

    #[test]
    fn ingest_two_threads_build_the_same_table_and_meet_the_same_first_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(
            p.join("schema.toml"),
            "[contacts]\nkey = \"id\"\n[contacts.fields]\nid = \"int\"\nscore = \"int\"\nrole = { type = \"enum\", values = [\"a\", \"b\"] }\naccount_id = { type = \"ref\", table = \"accounts\" }\n",
        )
        .unwrap();
        std::fs::write(p.join("accounts.csv"), "id,name\nx,X\ny,Y\n").unwrap();
        let good: Vec<String> = (1..=300)
            .map(|i| {
                format!(
                    "{i},{},{},{},note {i}",
                    i % 7,
                    ["a", "b"][i % 2],
                    ["x", "y", ""][i % 3]
                )
            })
            .collect();
        let file = |rows: &[String]| {
            let mut t = String::from("id,score,role,account_id,note\n");
            for r in rows {
                t.push_str(r);
                t.push('\n');
            }
            std::fs::write(p.join("contacts.csv"), t).unwrap();
        };
        file(&good);
        let (one, two) = both(p);
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one.contacts.len, two.contacts.len);
        for (a, b) in one.contacts.columns.iter().zip(&two.contacts.columns) {
            assert_eq!(a.name, b.name);
            for r in 0..one.contacts.len {
                assert_eq!(a.cell(r), b.cell(r));
            }
        }
        assert_eq!(one.link.unwrap().account_of, two.link.unwrap().account_of);
        // Each damage below comes on its own; the one-thread error is the reference.
        let damages: Vec<Vec<(usize, String)>> = vec![
            vec![(40, "41,x,a,x,n".into()), (30, "30,1,a,x,n".into())],
            vec![(50, "51,zz,a,nope,n".into())],
            vec![(50, "51,zz,c,x,n".into())],
            vec![(60, "61,3,c,x,n".into()), (61, "62,3".into())],
            vec![(70, "70,1,a,x,n".into()), (70, "71,1,z,x,n".into())],
            vec![(80, ",1,a,x,n".into())],
            vec![(90, "91,1,a,q,n".into()), (95, "96,q,a,x,n".into())],
        ];
        for damage in damages {
            let mut rows = good.clone();
            for (at, row) in &damage {
                rows[*at] = row.clone();
            }
            file(&rows);
            let (one, two) = both(p);
            assert_eq!(
                one.unwrap_err().to_string(),
                two.unwrap_err().to_string(),
                "{damage:?}"
            );
        }
        // Invalid UTF-8 after a bad value in the same row: UTF-8 is named.
        let mut bytes = b"id,score,role,account_id,note\n1,2,a,x,n\n2,z,a,x,\xff\n".to_vec();
        bytes.extend_from_slice(b"3,1,a,x,n\n");
        std::fs::write(p.join("contacts.csv"), &bytes).unwrap();
        let (one, two) = both(p);
        let (one, two) = (one.unwrap_err().to_string(), two.unwrap_err().to_string());
        assert!(one.contains("not valid UTF-8"), "{one}");
        assert_eq!(one, two);
    }
}
