//! The pipeline in one place: parse → check → optimise → execute, over a
//! loaded store and a segment library. The CLI, the REPL and the tests all
//! go through [`Engine`].

use crate::diagnostic::{Diagnostic, SourceId, Sources};
use crate::exec;
use crate::plan::check::{check, CheckContext};
use crate::plan::{optimize, Catalog, Plan};
use crate::segments::Library;
use crate::store::Store;
use crate::syntax::parse_query;
use roaring::RoaringBitmap;

/// A query ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
    pub source: SourceId,
}

pub struct Engine {
    pub store: Store,
    pub catalog: Catalog,
    pub library: Library,
    /// Every text diagnostics point into: queries, query files.
    pub sources: Sources,
    /// `now` in microseconds since the epoch.
    pub now: i64,
}

impl Engine {
    pub fn new(store: Store, now: i64) -> Engine {
        Engine {
            catalog: Catalog::from_store(&store),
            store,
            library: Library::new(),
            sources: Sources::new(),
            now,
        }
    }

    /// Replaces the data (the REPL's `.data`), keeping segments.
    pub fn set_store(&mut self, store: Store) {
        self.catalog = Catalog::from_store(&store);
        self.store = store;
    }

    /// Parses, checks and optimises a query. Diagnostics point into the
    /// source it was registered as (`<query>`).
    pub fn compile(&mut self, query: &str) -> Result<Compiled, Vec<Diagnostic>> {
        let source = self.sources.add("<query>", query);
        self.compile_in(query, source)
    }

    /// As [`Engine::compile`], for text already registered as `source`.
    pub fn compile_in(&self, query: &str, source: SourceId) -> Result<Compiled, Vec<Diagnostic>> {
        let expr = parse_query(query).map_err(|ds| {
            ds.into_iter()
                .map(|d| d.in_source(source))
                .collect::<Vec<_>>()
        })?;
        let ctx = CheckContext {
            catalog: &self.catalog,
            now: self.now,
            library: &self.library,
            source,
        };
        let checked = check(&expr, &ctx)?;
        Ok(Compiled {
            plan: optimize(checked.plan, Some(&self.store)),
            warnings: checked.warnings,
            source,
        })
    }

    pub fn execute(&self, plan: &Plan) -> RoaringBitmap {
        exec::execute(plan, &self.store)
    }

    pub fn count(&self, plan: &Plan) -> u64 {
        exec::count(plan, &self.store)
    }

    /// Compiles and counts; for tests and examples.
    pub fn count_query(&mut self, query: &str) -> Result<u64, Vec<Diagnostic>> {
        let c = self.compile(query)?;
        Ok(self.count(&c.plan))
    }
}
