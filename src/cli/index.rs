//! `segq index`: load data once and write it, with every index, as a
//! `.segx` snapshot that later commands load in a fraction of a second.

use super::{fail, load_store, DataArgs, Exit};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The snapshot to write (FILE.segx); replaced atomically
    #[arg(long, value_name = "FILE.segx")]
    pub out: PathBuf,
}

pub fn index(args: &IndexArgs) -> Result<(), Exit> {
    if !args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("segx"))
    {
        return Err(fail(format!(
            "--out {}: a snapshot's name must end in .segx (that is how --data recognises it)",
            args.out.display()
        )));
    }
    let started = Instant::now();
    let store = load_store(&args.data)?;
    let loaded = started.elapsed();
    crate::store::snapshot::write(&store, &args.out)
        .map_err(|e| fail(format!("{}: {e}", args.out.display())))?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote {} ({} contacts, {:.1} MiB): loaded in {:.2} s, written in {:.2} s",
        args.out.display(),
        crate::plan::explain::group(store.contacts.len as u64),
        size as f64 / (1 << 20) as f64,
        loaded.as_secs_f64(),
        (started.elapsed() - loaded).as_secs_f64()
    );
    // The process ends here: freeing the store would only cost time.
    std::mem::forget(store);
    Ok(())
}
