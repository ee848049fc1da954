//! `segq sql` (a query, the tables, or a segment library as SQL) and
//! `segq export` (the data as CSV in the layout that SQL reads).

use super::{fail, load_engine, load_store, print_out, report, DataArgs, Exit};
use crate::diagnostic::{Diagnostic, Sources};
use crate::plan::check::{check, check_segment, CheckContext, SegmentChecker};
use crate::plan::{optimize, Catalog, Plan};
use crate::segments::Library;
use crate::sql::{self, Dialect, Layout};
use crate::store::Store;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct SqlArgs {
    /// The query. Without it: one CREATE VIEW per segment of --segments
    /// (dependencies first), or only the tables with --ddl
    pub query: Option<String>,
    /// The engine to write for
    #[arg(long, value_enum, default_value = "sqlite")]
    pub dialect: Dialect,
    #[command(flatten)]
    pub data: DataArgs,
    /// Compile against a schema.toml alone, without loading data
    #[arg(long, value_name = "FILE", conflicts_with = "data")]
    pub schema: Option<PathBuf>,
    /// SELECT count(*) instead of the contact keys
    #[arg(long)]
    pub count: bool,
    /// Print the CREATE TABLE statements of the layout the SQL reads
    #[arg(long)]
    pub ddl: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The engine the files are for (dates, bools and sets differ)
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// Directory to write <table>.csv files and load.sql into (created if needed)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What a query is checked against: a loaded store, or a schema alone.
struct Target {
    catalog: Catalog,
    layout: Layout,
    library: Library,
    sources: Sources,
    now: i64,
    store: Option<Store>,
}

fn target(args: &SqlArgs) -> Result<Target, Exit> {
    match &args.schema {
        Some(path) => {
            let schema = crate::schema::load_schema(path).map_err(|e| {
                if e.ends_with('\n') {
                    eprint!("{e}");
                    Exit(2)
                } else {
                    fail(e)
                }
            })?;
            let layout = Layout::from_schema(&schema).map_err(fail)?;
            let now = match &args.data.now {
                Some(s) => crate::time::parse_now(s)
                    .ok_or_else(|| fail(format!("--now {s:?} is not a date or date-time")))?,
                None => crate::time::now_micros(),
            };
            let mut sources = Sources::new();
            let library = if args.data.segments.is_empty() {
                Library::new()
            } else {
                let (library, diags) =
                    crate::segments::load_files(&args.data.segments, &mut sources).map_err(fail)?;
                if report(&diags, &sources) {
                    return Err(Exit(1));
                }
                library
            };
            Ok(Target {
                catalog: Catalog::from_schema(&schema),
                layout,
                library,
                sources,
                now,
                store: None,
            })
        }
        None => {
            let engine = load_engine(&args.data, args.query.is_some())?;
            let layout = Layout::from_store(&engine.store).map_err(fail)?;
            Ok(Target {
                catalog: engine.catalog,
                layout,
                library: engine.library,
                sources: engine.sources,
                now: engine.now,
                store: Some(engine.store),
            })
        }
    }
}

/// `segq sql`
pub fn sql(args: &SqlArgs) -> Result<(), Exit> {
    let mut t = target(args)?;
    let d = args.dialect;
    let mut out = String::new();
    if args.ddl {
        out.push_str(&sql::ddl::ddl(&t.layout, d));
    }
    if let Some(query) = &args.query {
        let source = t.sources.add("<query>", query.clone());
        let checked = crate::syntax::parse_query(query)
            .map_err(|ds| {
                ds.into_iter()
                    .map(|d| d.in_source(source))
                    .collect::<Vec<Diagnostic>>()
            })
            .and_then(|expr| {
                let ctx = CheckContext {
                    catalog: &t.catalog,
                    now: t.now,
                    library: &t.library,
                    source,
                };
                check(&expr, &ctx)
            });
        let checked = match checked {
            Ok(c) => c,
            Err(diags) => {
                report(&diags, &t.sources);
                return Err(Exit(1));
            }
        };
        report(&checked.warnings, &t.sources);
        let plan = optimize(checked.plan, t.store.as_ref());
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&sql::compile(&plan, &t.layout, d, args.count));
        out.push('\n');
    } else if !args.ddl {
        if args.count {
            return Err(fail("--count applies to a QUERY"));
        }
        if t.library.is_empty() {
            return Err(fail(
                "nothing to compile: give a QUERY, --ddl, or --segments FILE_OR_DIR for one view per segment",
            ));
        }
        out.push_str(&views(&t, d)?);
    }
    print_out(&out)
}

/// One view per segment, dependencies first.
fn views(t: &Target, d: Dialect) -> Result<String, Exit> {
    let mut checker = SegmentChecker::default();
    let mut plans: Vec<(String, Plan)> = Vec::new();
    let mut diags = Vec::new();
    for name in t.library.names() {
        let (source, _) = t.library.get(name).expect("listed");
        let ctx = CheckContext {
            catalog: &t.catalog,
            now: t.now,
            library: &t.library,
            source,
        };
        match check_segment(name, &ctx, &mut checker) {
            Ok(c) => {
                diags.extend(c.warnings);
                let body = match c.plan {
                    Plan::Segment(s) => *s.plan,
                    other => other,
                };
                plans.push((name.to_string(), optimize(body, t.store.as_ref())));
            }
            Err(e) => diags.extend(e),
        }
    }
    if report(&diags, &t.sources) {
        return Err(Exit(1));
    }
    let tables = sql::ddl::tables(&t.layout, d);
    if let Some((name, _)) = plans
        .iter()
        .find(|(n, _)| tables.iter().any(|t| t.name.eq_ignore_ascii_case(n)))
    {
        return Err(fail(format!(
            "segment `{name}` has the name of a table the SQL reads; rename the segment"
        )));
    }
    let ordered: Vec<(String, Plan)> = sql::view_order(&plans)
        .into_iter()
        .map(|i| plans[i].clone())
        .collect();
    Ok(sql::compile_views(&ordered, &t.layout, d))
}

/// `segq export`
pub fn export(args: &ExportArgs) -> Result<(), Exit> {
    let store = load_store(&args.data)?;
    let written = sql::export::export(&store, args.dialect, &args.out).map_err(fail)?;
    for (path, rows) in written.files.iter().zip(&written.rows) {
        eprintln!("wrote {} ({rows} rows)", path.display());
    }
    if let Some(load) = written.files.last() {
        eprintln!(
            "wrote {} (creates the tables and loads the files)",
            load.display()
        );
    }
    Ok(())
}
