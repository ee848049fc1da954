//! The `segq` command line: parse arguments, call the library, render
//! results to stdout and diagnostics to stderr, and set the exit code
//! (0 success, 1 query or expectation failure, 2 usage, I/O or data error).

mod bench;
pub(crate) mod files;
mod index;
mod sql;

use crate::diagnostic::{render, Diagnostic, Sources, Style};
use crate::engine::Engine;
use crate::output::{self, Format};
use crate::store::ingest::{self, LoadOptions};
use crate::store::Store;
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "segq", version, about = "Segment queries over sales contacts", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
pub struct DataArgs {
    /// Data to query: a directory (contacts.csv|jsonl, accounts, schema.toml),
    /// a .csv/.jsonl file, or a .segx snapshot. Default: the built-in demo data.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// The time relative dates count from: a date (its midnight UTC) or a
    /// date-time. Default: now (on the demo data: 2026-12-01).
    #[arg(long, value_name = "DATE")]
    pub now: Option<String>,
    /// Query files or directories defining segments (repeatable). Default:
    /// a queries/ folder beside the data, if there is one.
    #[arg(long = "segments", value_name = "FILE_OR_DIR")]
    pub segments: Vec<PathBuf>,
    /// Skip rows that do not fit the schema (each one is reported) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Print the number of matching contacts
    Count {
        /// The query; `-` reads it from stdin
        query: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print matching contacts (or a breakdown with --by)
    Query {
        /// The query; `-` reads it from stdin
        query: String,
        #[command(flatten)]
        data: DataArgs,
        /// Fields to print, comma-separated (account.f for account fields)
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        /// Sort by a field, `f` or `f:desc` (missing values last)
        #[arg(long, value_name = "FIELD[:desc]")]
        sort: Option<String>,
        /// At most N rows (default for tables: 20)
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Print (value, count) per value of FIELD instead of rows
        #[arg(long, value_name = "FIELD")]
        by: Option<String>,
    },
    /// Print the checked, optimised plan with estimated counts
    Explain {
        /// The query; `-` reads it from stdin
        query: String,
        #[command(flatten)]
        data: DataArgs,
        /// Run the plan and add actual counts and times per node
        #[arg(long)]
        analyze: bool,
    },
    /// Check query files (or query strings) against the schema
    Check {
        /// Query files, directories of *.seg files, or query strings
        #[arg(required = true)]
        targets: Vec<String>,
        #[command(flatten)]
        data: DataArgs,
        /// Check against a schema.toml alone, without loading data
        #[arg(long, value_name = "FILE", conflicts_with = "data")]
        schema: Option<PathBuf>,
        /// `github` prints ::error annotations for CI
        #[arg(long, value_enum, default_value = "human")]
        format: files::CheckFormat,
    },
    /// Evaluate saved segments: name and count, or members with --format
    Run {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        /// Only this segment
        #[arg(long)]
        segment: Option<String>,
        /// Print members instead of counts
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
    },
    /// Evaluate the expectations written beside segments
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Rewrite query files in canonical form, keeping comments
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; exit 1 naming the files that would change
        #[arg(long)]
        check: bool,
    },
    /// Compile a query (or every segment, as views) to SQL for another engine
    Sql(sql::SqlArgs),
    /// Write the data as CSV per table in the layout `segq sql` reads
    Export(sql::ExportArgs),
    /// Write a realistic synthetic data set with its schema.toml
    Gen {
        #[arg(long)]
        contacts: u64,
        /// Default: contacts / 25
        #[arg(long)]
        accounts: Option<u64>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// The day generated dates lead up to (default: today)
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
    },
    /// Time queries: count (and ids) per query, median and p95 of N runs
    Bench(bench::BenchArgs),
    /// Build a snapshot (.segx) of the data with every index, for fast loading
    Index(index::IndexArgs),
    /// The interactive shell: queries, dot-commands (.help), completion, history
    Repl {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Fields a table shows when `--fields` is not given.
const TABLE_DEFAULT_FIELDS: usize = 8;

/// A command's failure, already reported on stderr: the exit code.
#[derive(Debug)]
pub struct Exit(pub i32);

/// Prints a usage/I/O/data error and gives exit code 2.
pub fn fail(message: impl std::fmt::Display) -> Exit {
    eprintln!("{}: {message}", style_err().paint_error("error"));
    Exit(2)
}

pub struct ErrStyle {
    color: bool,
}

impl ErrStyle {
    fn paint_error(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1;31m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Whether stderr gets colour: a terminal, and `NO_COLOR` unset.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn style_err() -> ErrStyle {
    ErrStyle {
        color: stderr_color(),
    }
}

pub fn diag_style() -> Style {
    Style {
        color: stderr_color(),
    }
}

/// Renders diagnostics on stderr; returns whether any was an error.
pub fn report(diags: &[Diagnostic], sources: &Sources) -> bool {
    let style = diag_style();
    let mut err = std::io::stderr().lock();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(err);
        }
        let _ = write!(err, "{}", render(d, sources, style));
    }
    diags.iter().any(Diagnostic::is_error)
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => 0,
        Err(Exit(code)) => code,
    }
}

fn run(command: Command) -> Result<(), Exit> {
    match command {
        Command::Count { query, data } => {
            let mut engine = load_engine(&data, true)?;
            let compiled = compile(&mut engine, &query_text(query)?)?;
            let printed = print_out(&format!("{}\n", engine.count(&compiled.plan)));
            // The process ends here: freeing a large store would only cost time.
            std::mem::forget(engine);
            printed
        }
        Command::Query {
            query,
            data,
            fields,
            sort,
            limit,
            format,
            by,
        } => {
            let mut engine = load_engine(&data, true)?;
            let compiled = compile(&mut engine, &query_text(query)?)?;
            let result = engine.execute(&compiled.plan);
            let store = &engine.store;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = if let Some(by) = by {
                let f = output::resolve_field(store, &by).map_err(fail)?;
                let counts = output::breakdown(store, &f, &result);
                output::write_breakdown(&mut out, &f.label, &counts, result.len(), format)
            } else {
                let mut hidden = 0;
                let fields = if fields.is_empty() {
                    let mut all = output::all_fields(store);
                    // A table of every column is unreadable: show the first few.
                    if format == Format::Table && all.len() > TABLE_DEFAULT_FIELDS {
                        hidden = all.len() - TABLE_DEFAULT_FIELDS;
                        all.truncate(TABLE_DEFAULT_FIELDS);
                    }
                    all
                } else {
                    output::resolve_fields(store, &fields).map_err(fail)?
                };
                let sort = match &sort {
                    None => None,
                    Some(s) => {
                        let (name, desc) = match s.rsplit_once(':') {
                            Some((n, "desc")) => (n, true),
                            Some((n, "asc")) => (n, false),
                            Some((_, other)) => {
                                return Err(fail(format!(
                                    "--sort takes FIELD or FIELD:desc, not `:{other}`"
                                )))
                            }
                            None => (s.as_str(), false),
                        };
                        Some((output::resolve_field(store, name).map_err(fail)?, desc))
                    }
                };
                let limit = limit.or((format == Format::Table).then_some(20));
                let rows = output::ordered_rows(
                    store,
                    &result,
                    sort.as_ref().map(|(f, d)| (f, *d)),
                    limit,
                );
                output::write_rows(&mut out, store, &fields, &rows, format, result.len()).and_then(
                    |_| {
                        if hidden > 0 {
                            writeln!(
                                out,
                                "{hidden} more fields not shown (choose with --fields a,b,c)"
                            )?;
                        }
                        Ok(())
                    },
                )
            };
            finish_output(written.and_then(|_| out.flush()))
        }
        Command::Explain {
            query,
            data,
            analyze,
        } => {
            let mut engine = load_engine(&data, true)?;
            let compiled = compile(&mut engine, &query_text(query)?)?;
            let text = if analyze {
                let (_, profile) = crate::exec::analyze(&compiled.plan, &engine.store);
                crate::plan::explain::explain(&compiled.plan, &engine.store, Some(&profile))
            } else {
                crate::plan::explain::explain(&compiled.plan, &engine.store, None)
            };
            print_out(&text)
        }
        Command::Check {
            targets,
            data,
            schema,
            format,
        } => files::check(&targets, &data, schema.as_deref(), format),
        Command::Run {
            paths,
            data,
            segment,
            format,
            fields,
        } => files::run(&paths, &data, segment.as_deref(), format, &fields),
        Command::Test { paths, data } => files::test(&paths, &data),
        Command::Fmt { paths, check } => files::fmt(&paths, check),
        Command::Gen {
            contacts,
            accounts,
            seed,
            out,
            today,
        } => gen(contacts, accounts, seed, &out, today.as_deref()),
        Command::Repl { data } => crate::repl::run(&data),
        Command::Bench(args) => bench::bench(&args),
        Command::Index(args) => index::index(&args),
        Command::Sql(args) => sql::sql(&args),
        Command::Export(args) => sql::export(&args),
    }
}

/// Writes to stdout; a closed pipe is not an error.
pub fn print_out(text: &str) -> Result<(), Exit> {
    let mut out = std::io::stdout().lock();
    finish_output(out.write_all(text.as_bytes()).and_then(|_| out.flush()))
}

/// Broken pipes (`segq query ... | head`) end output quietly.
fn finish_output(r: std::io::Result<()>) -> Result<(), Exit> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if is_broken_pipe(&e) => Ok(()),
        Err(e) => Err(fail(format!("cannot write output: {e}"))),
    }
}

/// A closed pipe, also when the csv writer wrapped the error.
fn is_broken_pipe(e: &std::io::Error) -> bool {
    let csv_pipe = || {
        let inner = e.get_ref()?.downcast_ref::<csv::Error>()?;
        match inner.kind() {
            csv::ErrorKind::Io(io) => Some(io.kind() == std::io::ErrorKind::BrokenPipe),
            _ => None,
        }
    };
    e.kind() == std::io::ErrorKind::BrokenPipe || csv_pipe() == Some(true)
}

/// The query argument, or stdin for `-` (read up to the file size limit,
/// so an oversized query gets the size diagnostic, not an out-of-memory).
fn query_text(query: String) -> Result<String, Exit> {
    if query != "-" {
        return Ok(query);
    }
    let mut bytes = Vec::new();
    let max = crate::syntax::limits::MAX_FILE_BYTES as u64 + 1;
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), max),
        &mut bytes,
    )
    .map_err(|e| fail(format!("cannot read the query from stdin: {e}")))?;
    String::from_utf8(bytes).map_err(|_| fail("the query on stdin is not UTF-8"))
}

/// Compiles, reporting warnings (and errors, with exit 1).
pub fn compile(engine: &mut Engine, query: &str) -> Result<crate::engine::Compiled, Exit> {
    match engine.compile(query) {
        Ok(c) => {
            report(&c.warnings, &engine.sources);
            Ok(c)
        }
        Err(diags) => {
            report(&diags, &engine.sources);
            Err(Exit(1))
        }
    }
}

fn parse_now(s: &str) -> Result<i64, Exit> {
    crate::time::parse_now(s).ok_or_else(|| {
        fail(format!(
            "--now {s:?} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ)"
        ))
    })
}

/// Loads the store named by `--data` (or the demo), with progress on a terminal.
pub fn load_store(data: &DataArgs) -> Result<Store, Exit> {
    let Some(path) = &data.data else {
        return Ok(ingest::demo());
    };
    let opts = LoadOptions {
        skip_bad_rows: data.skip_bad_rows,
        progress: std::io::stderr()
            .is_terminal()
            .then_some(progress as fn(u64, u64)),
    };
    let result = ingest::load_path(path, &opts);
    if let Some(bar) = PROGRESS.get() {
        bar.finish_and_clear();
    }
    let (store, report) = result.map_err(fail)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if report.skipped > 0 {
        eprintln!("warning: skipped {} bad row(s):", report.skipped);
        for s in &report.first_skipped {
            eprintln!("  {}:{}: {}", s.path, s.line, s.message);
        }
        if report.skipped > report.first_skipped.len() as u64 {
            eprintln!(
                "  … and {} more",
                report.skipped - report.first_skipped.len() as u64
            );
        }
    }
    Ok(store)
}

static PROGRESS: std::sync::OnceLock<indicatif::ProgressBar> = std::sync::OnceLock::new();

fn progress(done: u64, total: u64) {
    let bar = PROGRESS.get_or_init(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "loading {bar:30} {binary_bytes}/{binary_total_bytes} ({eta})",
            )
            .expect("valid template"),
        );
        bar
    });
    bar.set_position(done);
}

/// Where default segment files live: `queries/` beside the data.
fn default_segments(data: &DataArgs) -> Vec<PathBuf> {
    let base: PathBuf = match &data.data {
        None => PathBuf::from("."),
        Some(p) if p.is_dir() => p.clone(),
        Some(p) => p
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let q = base.join("queries");
    if q.is_dir() {
        vec![q]
    } else {
        Vec::new()
    }
}

/// Loads data and segments. With `lenient`, errors in segment files only
/// matter when a query uses a segment (they are reported then).
pub fn load_engine(data: &DataArgs, lenient: bool) -> Result<Engine, Exit> {
    let now = match (&data.now, &data.data) {
        (Some(s), _) => parse_now(s)?,
        (None, None) => crate::time::parse_date(ingest::DEMO_TODAY).expect("valid"),
        (None, Some(_)) => crate::time::now_micros(),
    };
    let store = load_store(data)?;
    let mut engine = Engine::new(store, now);
    let paths = if data.segments.is_empty() {
        default_segments(data)
    } else {
        data.segments.clone()
    };
    if !paths.is_empty() {
        let (library, diags) =
            crate::segments::load_files(&paths, &mut engine.sources).map_err(fail)?;
        engine.library = library;
        if !diags.is_empty() {
            if lenient {
                eprintln!("warning: the segment files have errors; `segq check` shows them");
            } else {
                report(&diags, &engine.sources);
                return Err(Exit(1));
            }
        }
    }
    Ok(engine)
}

fn gen(
    contacts: u64,
    accounts: Option<u64>,
    seed: u64,
    out: &Path,
    today: Option<&str>,
) -> Result<(), Exit> {
    let today_micros = match today {
        Some(t) => crate::time::parse_date(t)
            .ok_or_else(|| fail(format!("--today {t:?} is not a date (YYYY-MM-DD)")))?,
        None => crate::time::start_of_day(crate::time::now_micros()),
    };
    let cfg = crate::gen::GenConfig {
        contacts,
        accounts: accounts.unwrap_or((contacts / 25).max(1)),
        seed,
        today_days: today_micros / crate::time::MICROS_PER_DAY,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(contacts);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "generating {bar:30} {human_pos}/{human_len} contacts ({eta})",
            )
            .expect("valid template"),
        );
        bar
    });
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    crate::gen::write_dataset(&cfg, out, &mut progress)
        .map_err(|e| fail(format!("{}: {e}", out.display())))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    eprintln!(
        "wrote {} contacts and {} accounts to {}",
        cfg.contacts,
        cfg.accounts,
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod pipe_tests {
    #[test]
    fn cli_broken_pipe_through_csv_is_quiet() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(super::is_broken_pipe(&pipe()));
        let wrapped: std::io::Error = csv::Error::from(pipe()).into();
        assert_eq!(wrapped.kind(), std::io::ErrorKind::Other);
        assert!(super::is_broken_pipe(&wrapped));
        assert!(!super::is_broken_pipe(&std::io::Error::other("disk full")));
        match super::finish_output(Err(wrapped)) {
            Ok(()) => {}
            Err(e) => panic!("exit {}", e.0),
        }
    }
}
