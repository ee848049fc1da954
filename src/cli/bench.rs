//! `segq bench`: load once, compile each query once, warm up, then time N
//! evaluations of its count (and, with `--materialize`, of producing its
//! ids as a `Vec<u32>`), and print the count with the median and p95 of one
//! evaluation.

use super::{compile, fail, load_engine, DataArgs, Exit};
use crate::engine::Engine;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Table,
    Jsonl,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Queries, files of one query per line, or .seg files (each segment is benched)
    #[arg(required = true, value_name = "QUERIES_OR_FILES")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Timed evaluations per query (after warm-up)
    #[arg(long, default_value_t = 30)]
    pub iterations: usize,
    #[arg(long, value_enum, default_value = "table")]
    pub format: BenchFormat,
    /// Also time producing the matching ids as a Vec<u32>
    #[arg(long)]
    pub materialize: bool,
}

/// One query's timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub query: String,
    pub count: u64,
    pub median_ns: u64,
    pub p95_ns: u64,
    pub iterations: usize,
    /// The first evaluation, before any warm-up: what a one-off query costs
    /// (nothing cached yet).
    pub first_ns: u64,
    /// (median, p95) of producing the ids
    pub materialize: Option<(u64, u64)>,
}

/// Median and p95 (nearest rank) of samples.
pub fn summarize(mut samples: Vec<Duration>) -> (u64, u64) {
    if samples.is_empty() {
        return (0, 0);
    }
    samples.sort_unstable();
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2].as_nanos() as u64
    } else {
        ((samples[n / 2 - 1].as_nanos() + samples[n / 2].as_nanos()) / 2) as u64
    };
    let p95 = samples[(n * 95).div_ceil(100).max(1) - 1].as_nanos() as u64;
    (median, p95)
}

/// Times `f` `iterations` times after a warm-up.
fn time<T>(iterations: usize, mut f: impl FnMut() -> T) -> Vec<Duration> {
    let warm = Instant::now();
    let mut warmups = 0;
    while warmups < 3 || (warmups < 100 && warm.elapsed() < Duration::from_millis(200)) {
        black_box(f());
        warmups += 1;
    }
    (0..iterations.max(1))
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect()
}

/// (label, query text) pairs, and the .seg files named.
type Targets = (Vec<(String, String)>, Vec<PathBuf>);

/// The queries named by the arguments: (label, query text), plus .seg files.
fn collect(targets: &[String]) -> Result<Targets, Exit> {
    let mut queries = Vec::new();
    let mut seg_files = Vec::new();
    for t in targets {
        let p = Path::new(t);
        if p.is_file() && p.extension().is_some_and(|e| e == "seg") {
            seg_files.push(p.to_path_buf());
        } else if p.is_file() {
            let text =
                std::fs::read_to_string(p).map_err(|e| fail(format!("cannot read {t}: {e}")))?;
            for line in text.lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') && !line.starts_with("//") {
                    queries.push((line.to_string(), line.to_string()));
                }
            }
        } else if t.ends_with(".seg") || t.ends_with(".txt") {
            return Err(fail(format!("{t}: no such file or directory")));
        } else {
            queries.push((t.clone(), t.clone()));
        }
    }
    Ok((queries, seg_files))
}

pub fn bench(args: &BenchArgs) -> Result<(), Exit> {
    let (mut queries, seg_files) = collect(&args.targets)?;
    let mut data = args.data.clone();
    data.segments.extend(seg_files.iter().cloned());
    let started = Instant::now();
    let mut engine = load_engine(&data, false)?;
    eprintln!(
        "loaded {} contacts in {:.2} s",
        crate::plan::explain::group(engine.store.contacts.len as u64),
        started.elapsed().as_secs_f64()
    );
    if std::env::var_os("SEGQ_STATS").is_some() {
        for t in std::iter::once(&engine.store.contacts).chain(engine.store.accounts.as_ref()) {
            for c in &t.columns {
                use crate::store::ColumnData as D;
                let bytes = match &c.data {
                    D::Dict(d) => d.heap_bytes(),
                    D::Num(n) => n.heap_bytes(),
                    D::Bool(b) => b.heap_bytes(),
                    D::Set(s) => s.heap_bytes(),
                };
                eprintln!("{}.{}: {:.1} MB", t.name, c.name, bytes as f64 / 1e6);
            }
        }
    }
    if !seg_files.is_empty() {
        let in_files: Vec<String> = segment_names(&engine, &seg_files);
        queries.extend(
            in_files
                .into_iter()
                .map(|n| (format!("@{n}"), format!("@{n}"))),
        );
    }
    let mut timings = Vec::new();
    for (label, text) in &queries {
        timings.push(bench_one(
            &mut engine,
            label,
            text,
            args.iterations,
            args.materialize,
        )?);
    }
    // The process ends after printing: freeing the store would only cost time.
    std::mem::forget(engine);
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        BenchFormat::Jsonl => timings
            .iter()
            .try_for_each(|t| writeln!(out, "{}", to_json(t))),
        BenchFormat::Table => writeln!(out, "{}", table(&timings)),
    };
    written.map_err(|e| fail(format!("cannot write output: {e}")))
}

/// Segments defined in the given files, in definition order.
fn segment_names(engine: &Engine, files: &[PathBuf]) -> Vec<String> {
    let wanted: Vec<PathBuf> = files.iter().filter_map(|f| f.canonicalize().ok()).collect();
    let mut names = Vec::new();
    for name in engine.library.names() {
        let Some((source, _)) = engine.library.get(name) else {
            continue;
        };
        let from = engine
            .library
            .files
            .iter()
            .find(|(s, _, _)| *s == source)
            .and_then(|(_, p, _)| p.canonicalize().ok());
        if from.is_some_and(|p| wanted.contains(&p)) {
            names.push(name.to_string());
        }
    }
    names
}

fn bench_one(
    engine: &mut Engine,
    label: &str,
    text: &str,
    iterations: usize,
    materialize: bool,
) -> Result<Timing, Exit> {
    let compiled = compile(engine, text)?;
    let plan = &compiled.plan;
    let store = &engine.store;
    let started = Instant::now();
    let count = crate::exec::count(plan, store);
    let first_ns = started.elapsed().as_nanos() as u64;
    if std::env::var_os("SEGQ_STATS").is_some() {
        use std::sync::atomic::Ordering::Relaxed;
        crate::exec::STATS[0].store(0, Relaxed);
        crate::exec::STATS[1].store(0, Relaxed);
        crate::exec::count(plan, store);
        eprintln!(
            "{label}: {} candidates in {} calls",
            crate::exec::STATS[0].load(Relaxed),
            crate::exec::STATS[1].load(Relaxed)
        );
    }
    let (median_ns, p95_ns) = summarize(time(iterations, || crate::exec::count(plan, store)));
    let materialize = materialize.then(|| {
        let ids = crate::exec::ids(plan, store);
        debug_assert_eq!(ids.len() as u64, count);
        summarize(time(iterations, || crate::exec::ids(plan, store)))
    });
    Ok(Timing {
        query: label.to_string(),
        count,
        median_ns,
        p95_ns,
        iterations,
        first_ns,
        materialize,
    })
}

pub fn to_json(t: &Timing) -> serde_json::Value {
    let mut v = serde_json::json!({
        "query": t.query,
        "count": t.count,
        "median_ns": t.median_ns,
        "p95_ns": t.p95_ns,
        "iterations": t.iterations,
        "first_ns": t.first_ns,
    });
    if let Some((m, p)) = t.materialize {
        v["materialize_median_ns"] = m.into();
        v["materialize_p95_ns"] = p.into();
    }
    v
}

/// A duration in ns as a short human figure.
pub fn human(ns: u64) -> String {
    match ns {
        n if n < 1_000 => format!("{n} ns"),
        n if n < 1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n if n < 1_000_000_000 => format!("{:.2} ms", n as f64 / 1e6),
        n => format!("{:.2} s", n as f64 / 1e9),
    }
}

fn table(timings: &[Timing]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    let with_ids = timings.iter().any(|x| x.materialize.is_some());
    let mut header = vec!["query", "count", "first", "median", "p95"];
    if with_ids {
        header.extend(["ids median", "ids p95"]);
    }
    t.set_header(header);
    for x in timings {
        let mut row = vec![
            x.query.clone(),
            crate::plan::explain::group(x.count),
            human(x.first_ns),
            human(x.median_ns),
            human(x.p95_ns),
        ];
        if let Some((m, p)) = x.materialize {
            row.extend([human(m), human(p)]);
        } else if with_ids {
            row.extend([String::new(), String::new()]);
        }
        t.add_row(row);
    }
    for i in 1..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_summary_is_median_and_nearest_rank_p95() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&x| Duration::from_nanos(x))
                .collect::<Vec<_>>()
        };
        assert_eq!(summarize(ms(&[5, 1, 3])), (3, 5));
        assert_eq!(summarize(ms(&[4, 1, 3, 2])), (2, 4));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(summarize(ms(&hundred)), (50, 95));
        assert_eq!(summarize(Vec::new()), (0, 0));
    }

    #[test]
    fn bench_json_has_exactly_the_documented_keys() {
        let t = Timing {
            query: "role = blocker".into(),
            count: 7,
            median_ns: 10,
            p95_ns: 12,
            iterations: 3,
            first_ns: 40,
            materialize: None,
        };
        let v = to_json(&t);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6);
        for k in [
            "query",
            "count",
            "median_ns",
            "p95_ns",
            "iterations",
            "first_ns",
        ] {
            assert!(keys.contains(&k), "{k}");
        }
        let with = to_json(&Timing {
            materialize: Some((1, 2)),
            ..t
        });
        assert_eq!(with["materialize_median_ns"], 1);
        assert_eq!(with["materialize_p95_ns"], 2);
    }
}
