//! Dot-commands: the table the helper completes from, and what each does.

use super::line::{self, arg_at, dot_line, DotLine};
use super::render::{self, Mode};
use super::{Keys, Outcome, Session};
use crate::cli::{fail, report, DataArgs, Exit};
use crate::diagnostic::did_you_mean;
use crate::output::{self, Format};
use crate::plan::check::{check_segment, CheckContext, SegmentChecker};
use crate::plan::explain::{explain, group};
use crate::plan::optimize;
use crate::syntax::ast::{is_ident, is_keyword, Item};
use crate::syntax::parse_file;
use std::path::PathBuf;

/// What a dot-command takes after its name (for completion and highlighting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// `.segments`
    None,
    /// `.explain QUERY`
    Query,
    /// `.values FIELD`
    Field,
    /// `.by FIELD QUERY`
    FieldQuery,
    /// `.fields a,b`
    Fields,
    /// `.load FILE`
    File,
    /// `.export FILE QUERY`
    FileQuery,
    /// `.segment NAME = QUERY`
    Segment,
    /// `.mode table`: one of a few words
    Choice(&'static [&'static str]),
    /// `.help explain`
    Command,
    /// `.limit 10`, `.now 2026-12-01`
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Help,
    Schema,
    Values,
    Explain,
    Analyze,
    By,
    Limit,
    Fields,
    Mode,
    Expanded,
    Timer,
    Keys,
    Now,
    Segment,
    Segments,
    Load,
    Save,
    Export,
    Read,
    Data,
    Quit,
}

/// One dot-command.
#[derive(Debug)]
pub struct Command {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub cmd: Cmd,
    pub args: Args,
    pub usage: &'static str,
    pub summary: &'static str,
}

const ON_OFF: &[&str] = &["on", "off"];

#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command { name: ".help", aliases: &["\\?"], cmd: Cmd::Help, args: Args::Command, usage: ".help [COMMAND]", summary: "list the commands, or describe one" },
    Command { name: ".schema", aliases: &[], cmd: Cmd::Schema, args: Args::Field, usage: ".schema [FIELD]", summary: "the fields: type, missing values, distinct values" },
    Command { name: ".values", aliases: &[], cmd: Cmd::Values, args: Args::Field, usage: ".values FIELD", summary: "the distinct values of a field, with counts" },
    Command { name: ".explain", aliases: &[], cmd: Cmd::Explain, args: Args::Query, usage: ".explain QUERY", summary: "the checked, optimised plan with estimated counts" },
    Command { name: ".analyze", aliases: &[], cmd: Cmd::Analyze, args: Args::Query, usage: ".analyze QUERY", summary: "the plan with actual counts and times per node" },
    Command { name: ".by", aliases: &[], cmd: Cmd::By, args: Args::FieldQuery, usage: ".by FIELD QUERY", summary: "the contacts matching QUERY, counted per value of FIELD" },
    Command { name: ".limit", aliases: &[], cmd: Cmd::Limit, args: Args::Text, usage: ".limit [N]", summary: "rows shown per query (0: the count only)" },
    Command { name: ".fields", aliases: &[], cmd: Cmd::Fields, args: Args::Fields, usage: ".fields [a,b,account.c | * | auto]", summary: "the fields shown per row (auto: the key and the fields the query names)" },
    Command { name: ".mode", aliases: &[], cmd: Cmd::Mode, args: Args::Choice(Mode::NAMES), usage: ".mode [table|csv|jsonl|expanded]", summary: "how rows are shown" },
    Command { name: "\\x", aliases: &[], cmd: Cmd::Expanded, args: Args::Choice(ON_OFF), usage: "\\x [on|off]", summary: "toggle expanded rows (one line per field)" },
    Command { name: ".timer", aliases: &["\\timing"], cmd: Cmd::Timer, args: Args::Choice(ON_OFF), usage: ".timer [on|off]", summary: "print the time each query takes to evaluate" },
    Command { name: ".keys", aliases: &[], cmd: Cmd::Keys, args: Args::Choice(&["emacs", "vi"]), usage: ".keys [emacs|vi]", summary: "the line editor's key bindings" },
    Command { name: ".now", aliases: &[], cmd: Cmd::Now, args: Args::Text, usage: ".now [DATE]", summary: "the time relative dates count from (a date or date-time)" },
    Command { name: ".segment", aliases: &[], cmd: Cmd::Segment, args: Args::Segment, usage: ".segment NAME = QUERY", summary: "define a segment for this session (use it as @NAME)" },
    Command { name: ".segments", aliases: &[], cmd: Cmd::Segments, args: Args::None, usage: ".segments", summary: "the defined segments with their counts" },
    Command { name: ".load", aliases: &[], cmd: Cmd::Load, args: Args::File, usage: ".load FILE_OR_DIR", summary: "load segments from query files (*.seg)" },
    Command { name: ".save", aliases: &[], cmd: Cmd::Save, args: Args::File, usage: ".save FILE", summary: "write this session's segments as a query file" },
    Command { name: ".export", aliases: &[], cmd: Cmd::Export, args: Args::FileQuery, usage: ".export FILE QUERY", summary: "write every matching contact to FILE (.csv or .jsonl)" },
    Command { name: ".read", aliases: &[], cmd: Cmd::Read, args: Args::File, usage: ".read FILE", summary: "run the queries and commands in FILE" },
    Command { name: ".data", aliases: &[], cmd: Cmd::Data, args: Args::File, usage: ".data [PATH]", summary: "switch to other data (a directory, a .csv/.jsonl file, a .segx snapshot)" },
    Command { name: ".quit", aliases: &[".exit", "\\q"], cmd: Cmd::Quit, args: Args::None, usage: ".quit", summary: "leave (Ctrl-D does too)" },
];

/// The command a word names (`.explain`, `\timing`), in any case.
pub fn find(word: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| {
        c.name.eq_ignore_ascii_case(word) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    })
}

/// `.read` files may read others, this deep.
const MAX_READ_DEPTH: usize = 16;

/// Values listed by `.values` and `.by` in table mode.
const MAX_VALUES_SHOWN: usize = 50;

fn usage(command: &Command) -> Exit {
    fail(format!("usage: {}", command.usage))
}

impl Session {
    /// Runs one dot-command line.
    pub(super) fn dot(&mut self, text: &str) -> Outcome {
        let dot = dot_line(text).expect("a dot-command");
        let Some(command) = dot.command else {
            let names = COMMANDS
                .iter()
                .flat_map(|c| std::iter::once(&c.name).chain(c.aliases))
                .copied();
            let hint = match did_you_mean(dot.word, names) {
                Some(h) => format!("; {h}"),
                None => "; .help lists the commands".into(),
            };
            return Err(fail(format!("unknown command `{}`{hint}", dot.word)));
        };
        let rest = text[dot.rest()..].trim();
        match command.cmd {
            Cmd::Help => self.help(rest),
            Cmd::Schema => self.schema(rest),
            Cmd::Values => self.values(command, rest),
            Cmd::Explain | Cmd::Analyze => {
                let compiled = self.compile_line(text, &dot)?;
                let store = &self.engine.store;
                let text = if command.cmd == Cmd::Analyze {
                    let (result, profile) = crate::exec::analyze(&compiled.plan, store);
                    format!(
                        "{}{}",
                        explain(&compiled.plan, store, Some(&profile)),
                        render::count_line(result.len(), 0)
                    )
                } else {
                    explain(&compiled.plan, store, None)
                };
                self.emit(&text);
                Ok(())
            }
            Cmd::By => self.by(command, text, &dot),
            Cmd::Limit => self.limit(command, rest),
            Cmd::Fields => self.fields(rest),
            Cmd::Mode => self.mode(command, rest),
            Cmd::Expanded => {
                let on = match rest.to_ascii_lowercase().as_str() {
                    "" => self.settings.mode != Mode::Expanded,
                    "on" => true,
                    "off" => false,
                    _ => return Err(usage(command)),
                };
                self.settings.mode = if on { Mode::Expanded } else { Mode::Table };
                self.say(&format!(
                    "expanded display is {}",
                    if on { "on" } else { "off" }
                ));
                Ok(())
            }
            Cmd::Timer => {
                self.settings.timer = match rest.to_ascii_lowercase().as_str() {
                    "" => !self.settings.timer,
                    "on" => true,
                    "off" => false,
                    _ => return Err(usage(command)),
                };
                self.say(&format!(
                    "timer is {}",
                    if self.settings.timer { "on" } else { "off" }
                ));
                Ok(())
            }
            Cmd::Keys => {
                match rest.to_ascii_lowercase().as_str() {
                    "" => {}
                    "emacs" => self.set_keys(Keys::Emacs),
                    "vi" => self.set_keys(Keys::Vi),
                    _ => return Err(usage(command)),
                }
                self.say(&format!("keys: {}", self.settings.keys.name()));
                Ok(())
            }
            Cmd::Now => self.now(rest),
            Cmd::Segment => self.segment(command, text, &dot),
            Cmd::Segments => self.segments(),
            Cmd::Load => self.load(command, text, &dot),
            Cmd::Save => self.save(command, text, &dot),
            Cmd::Export => self.export(command, text, &dot),
            Cmd::Read => self.read(command, text, &dot),
            Cmd::Data => self.data(text, &dot),
            Cmd::Quit => {
                self.quit = true;
                Ok(())
            }
        }
    }

    /// The query of a dot line, compiled. Diagnostics show the whole line
    /// as typed, with carets under the query's own text.
    fn compile_line(
        &mut self,
        text: &str,
        dot: &DotLine<'_>,
    ) -> Result<crate::engine::Compiled, Exit> {
        let command = dot.command.expect("a known command");
        let view = line::query_view(text).ok_or_else(|| usage(command))?;
        if line::is_blank(&view) {
            return Err(usage(command));
        }
        let source = self.engine.sources.add("<query>", text);
        match self.engine.compile_in(&view, source) {
            Ok(c) => {
                report(&c.warnings, &self.engine.sources);
                Ok(c)
            }
            Err(diags) => {
                report(&diags, &self.engine.sources);
                Err(Exit(1))
            }
        }
    }

    fn first_arg(&self, command: &Command, text: &str, dot: &DotLine<'_>) -> Result<String, Exit> {
        match arg_at(text, dot.rest()) {
            Some(arg) if !arg.value.is_empty() => Ok(arg.value),
            _ => Err(usage(command)),
        }
    }

    fn help(&mut self, rest: &str) -> Outcome {
        if !rest.is_empty() {
            let word = if rest.starts_with(['.', '\\']) {
                rest.to_string()
            } else {
                format!(".{rest}")
            };
            let Some(c) = find(&word) else {
                return Err(fail(format!("no command `{word}`; .help lists them")));
            };
            let mut text = format!("{}\n  {}\n", c.usage, c.summary);
            if !c.aliases.is_empty() {
                text.push_str(&format!("  also: {}\n", c.aliases.join(", ")));
            }
            self.emit(&text);
            return Ok(());
        }
        let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
        let mut text = String::from(
            "Type a query to count its contacts and show the first rows, e.g.\n  role in [decision_maker, champion] and replies_30d > 2\n\
             A query may span lines (an open bracket or a trailing and/or continues it) and may end with `;`.\n\nCommands:\n",
        );
        for c in COMMANDS {
            let aliases = if c.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", c.aliases.join(", "))
            };
            text.push_str(&format!("  {:width$}  {}{aliases}\n", c.usage, c.summary));
        }
        text.push_str(
            "\nKeys: Tab completes fields, operators, values and segments; Ctrl-R searches history;\n\
             Ctrl-C cancels the line; Ctrl-D leaves. A line starting with a space is kept out of history.\n",
        );
        self.emit(&text);
        Ok(())
    }

    fn schema(&mut self, rest: &str) -> Outcome {
        let field = if rest.is_empty() {
            None
        } else {
            Some(output::resolve_field(&self.engine.store, rest).map_err(fail)?)
        };
        let text = render::schema(&self.engine.store, field.as_ref(), self.fit_terminal());
        self.emit(&text);
        Ok(())
    }

    fn values(&mut self, command: &Command, rest: &str) -> Outcome {
        if rest.is_empty() {
            return Err(usage(command));
        }
        let store = &self.engine.store;
        let f = output::resolve_field(store, rest).map_err(fail)?;
        let numeric = if f.account {
            None
        } else {
            render::numeric_values(&store.contacts.columns[f.index])
        };
        let counts = numeric.unwrap_or_else(|| output::breakdown(store, &f, &store.contacts.all));
        let text = render::breakdown(
            &f.label,
            &counts,
            store.contacts.len as u64,
            self.settings.mode,
            MAX_VALUES_SHOWN,
        );
        self.emit(&text);
        Ok(())
    }

    fn by(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let name = self.first_arg(command, text, dot)?;
        let f = output::resolve_field(&self.engine.store, &name).map_err(fail)?;
        let compiled = self.compile_line(text, dot)?;
        let started = std::time::Instant::now();
        let result = self.engine.execute(&compiled.plan);
        let took = started.elapsed();
        let counts = output::breakdown(&self.engine.store, &f, &result);
        let out = render::breakdown(
            &f.label,
            &counts,
            result.len(),
            self.settings.mode,
            MAX_VALUES_SHOWN,
        );
        self.emit(&out);
        self.timing(took);
        Ok(())
    }

    fn limit(&mut self, command: &Command, rest: &str) -> Outcome {
        if !rest.is_empty() {
            self.settings.limit = rest.replace('_', "").parse().map_err(|_| usage(command))?;
        }
        self.say(&format!("limit: {}", self.settings.limit));
        Ok(())
    }

    fn fields(&mut self, rest: &str) -> Outcome {
        match rest {
            "" => {}
            "auto" => self.settings.fields = None,
            "*" => self.settings.fields = Some(Vec::new()),
            list => {
                let names: Vec<String> = list
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                output::resolve_fields(&self.engine.store, &names).map_err(fail)?;
                self.settings.fields = Some(names);
            }
        }
        let shown = match &self.settings.fields {
            None => {
                "auto (the key, the fields the query names, then the first columns)".to_string()
            }
            Some(names) if names.is_empty() => "* (every contact field)".to_string(),
            Some(names) => names.join(","),
        };
        self.say(&format!("fields: {shown}"));
        Ok(())
    }

    fn mode(&mut self, command: &Command, rest: &str) -> Outcome {
        if !rest.is_empty() {
            self.settings.mode = Mode::parse(rest).ok_or_else(|| usage(command))?;
        }
        self.say(&format!("mode: {}", self.settings.mode.name()));
        Ok(())
    }

    fn now(&mut self, rest: &str) -> Outcome {
        if !rest.is_empty() {
            self.engine.now = crate::time::parse_now(rest).ok_or_else(|| {
                fail(format!(
                    "{rest:?} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SSZ)"
                ))
            })?;
            self.now_explicit = true;
        }
        self.say(&format!("now: {}", self.now_text()));
        Ok(())
    }

    fn segment(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let view = line::query_view(text).ok_or_else(|| usage(command))?;
        let name = arg_at(text, dot.rest())
            .map(|a| a.value)
            .unwrap_or_default();
        let name = name.split('=').next().unwrap_or_default().to_string();
        if name.is_empty() || !text[dot.rest()..].contains('=') {
            return Err(usage(command));
        }
        if !is_ident(&name) || is_keyword(&name) {
            return Err(fail(format!(
                "`{name}` cannot name a segment: use letters, digits and `_`, not starting with a digit, and no keyword"
            )));
        }
        // The view reads ` segment NAME = QUERY`; its spans are the line's.
        let source = self.engine.sources.add("<query>", text);
        let file = match parse_file(&format!("{view};")) {
            Ok(file) => file,
            Err(diags) => {
                let diags: Vec<_> = diags.into_iter().map(|d| d.in_source(source)).collect();
                report(&diags, &self.engine.sources);
                return Err(Exit(1));
            }
        };
        let Some(Item::Segment(def)) = file.items.into_iter().next() else {
            return Err(usage(command));
        };
        let name = def.name.name.clone();
        let previous = self.engine.library.remove(&name);
        self.engine.library.define(source, def);
        match self.count_segment(&name) {
            Ok(n) => {
                if !self.defined.contains(&name) {
                    self.defined.push(name.clone());
                }
                self.vocab_changed = true;
                self.say(&format!("segment {name}: {}", render::contacts(n)));
                Ok(())
            }
            Err(diags) => {
                report(&diags, &self.engine.sources);
                self.engine.library.remove(&name);
                if let Some((source, def)) = previous {
                    self.engine.library.define(source, def);
                }
                Err(Exit(1))
            }
        }
    }

    /// Checks and counts a segment; reports its warnings.
    fn count_segment(&self, name: &str) -> Result<u64, Vec<crate::diagnostic::Diagnostic>> {
        let (source, _) = self.engine.library.get(name).expect("defined");
        let ctx = CheckContext {
            catalog: &self.engine.catalog,
            now: self.engine.now,
            library: &self.engine.library,
            source,
        };
        let checked = check_segment(name, &ctx, &mut SegmentChecker::default())?;
        report(&checked.warnings, &self.engine.sources);
        let plan = optimize(checked.plan, Some(&self.engine.store));
        Ok(self.engine.count(&plan))
    }

    fn segments(&mut self) -> Outcome {
        let names: Vec<String> = self.engine.library.names().map(str::to_string).collect();
        if names.is_empty() {
            self.emit("no segments: define one with .segment NAME = QUERY, or load files with .load FILE\n");
            return Ok(());
        }
        let mut rows = Vec::new();
        let mut failed = false;
        for name in names {
            let (source, def) = self.engine.library.get(&name).expect("listed");
            let query = def.query.to_string();
            let from = if self.defined.contains(&name) {
                "session".to_string()
            } else {
                self.engine
                    .sources
                    .get(source)
                    .map_or_else(String::new, |s| s.name.clone())
            };
            let count = match self.count_segment(&name) {
                Ok(n) => group(n),
                Err(_) => {
                    failed = true;
                    "error".to_string()
                }
            };
            let query = if query.chars().count() > 60 {
                format!("{}…", query.chars().take(59).collect::<String>())
            } else {
                query
            };
            rows.push(vec![name, count, query, from]);
        }
        let text = render::simple_table(
            &["segment", "contacts", "query", "from"],
            rows,
            &[1],
            self.fit_terminal(),
        );
        self.emit(&text);
        if failed {
            self.emit("segments marked `error` do not check: run `segq check` on their files\n");
        }
        Ok(())
    }

    fn load(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let path = PathBuf::from(self.first_arg(command, text, dot)?);
        let files = crate::segments::find_files(std::slice::from_ref(&path)).map_err(fail)?;
        let mut loaded: Vec<String> = Vec::new();
        let mut failed = false;
        for file in &files {
            let body = std::fs::read_to_string(file)
                .map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
            let source = self
                .engine
                .sources
                .add(file.display().to_string(), body.clone());
            match parse_file(&body) {
                Ok(parsed) => {
                    for item in parsed.items {
                        if let Item::Segment(def) = item {
                            let name = def.name.name.clone();
                            self.engine.library.define(source, def);
                            self.defined.retain(|d| d != &name);
                            loaded.push(name);
                        }
                    }
                }
                Err(diags) => {
                    let diags: Vec<_> = diags.into_iter().map(|d| d.in_source(source)).collect();
                    report(&diags, &self.engine.sources);
                    failed = true;
                }
            }
        }
        self.vocab_changed = true;
        // Check what was loaded, reporting each problem once.
        let mut checker = SegmentChecker::default();
        for name in &loaded {
            let (source, _) = self.engine.library.get(name).expect("just defined");
            let ctx = CheckContext {
                catalog: &self.engine.catalog,
                now: self.engine.now,
                library: &self.engine.library,
                source,
            };
            match check_segment(name, &ctx, &mut checker) {
                Ok(checked) => {
                    report(&checked.warnings, &self.engine.sources);
                }
                Err(diags) => {
                    report(&diags, &self.engine.sources);
                    failed = true;
                }
            }
        }
        let what = if files.len() == 1 {
            files[0].display().to_string()
        } else {
            format!("{} files in {}", files.len(), path.display())
        };
        let names = if loaded.is_empty() {
            String::new()
        } else {
            format!(": {}", loaded.join(", "))
        };
        self.say(&format!(
            "loaded {} segment{} from {what}{names}",
            loaded.len(),
            if loaded.len() == 1 { "" } else { "s" }
        ));
        if failed {
            Err(Exit(1))
        } else {
            Ok(())
        }
    }

    fn save(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let path = PathBuf::from(self.first_arg(command, text, dot)?);
        if self.defined.is_empty() {
            return Err(fail(
                "no segments were defined in this session; define one with .segment NAME = QUERY",
            ));
        }
        let mut body = String::from("# segments defined in the segq repl\n");
        for name in &self.defined {
            if let Some((_, def)) = self.engine.library.get(name) {
                body.push_str(&format!("{def}\n"));
            }
        }
        let body = crate::fmt::format_file(&body).unwrap_or(body);
        crate::cli::files::write_atomic(&path, body.as_bytes())
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        let n = self.defined.len();
        self.say(&format!(
            "saved {n} segment{} to {}",
            if n == 1 { "" } else { "s" },
            path.display()
        ));
        Ok(())
    }

    fn export(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let path = PathBuf::from(self.first_arg(command, text, dot)?);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match ext.as_str() {
            "csv" => Format::Csv,
            "jsonl" | "ndjson" => Format::Jsonl,
            _ => {
                return Err(fail(format!(
                    "cannot tell the format of {}: name it .csv or .jsonl",
                    path.display()
                )))
            }
        };
        let compiled = self.compile_line(text, dot)?;
        let result = self.engine.execute(&compiled.plan);
        let store = &self.engine.store;
        let fields = match &self.settings.fields {
            Some(names) if !names.is_empty() => {
                output::resolve_fields(store, names).map_err(fail)?
            }
            _ => output::all_fields(store),
        };
        let rows: Vec<u32> = result.iter().collect();
        let mut bytes = Vec::new();
        output::write_rows(&mut bytes, store, &fields, &rows, format, result.len())
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        crate::cli::files::write_atomic(&path, &bytes)
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        self.say(&format!(
            "wrote {} to {}",
            render::contacts(result.len()),
            path.display()
        ));
        Ok(())
    }

    fn read(&mut self, command: &Command, text: &str, dot: &DotLine<'_>) -> Outcome {
        let path = PathBuf::from(self.first_arg(command, text, dot)?);
        if self.depth >= MAX_READ_DEPTH {
            return Err(fail(format!(
                "{}: .read files nest more than {MAX_READ_DEPTH} deep",
                path.display()
            )));
        }
        let body = std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        self.depth += 1;
        let before = self.status;
        self.status = 0;
        for statement in line::statements(&body) {
            self.statement(&statement.text);
            if self.quit {
                break;
            }
        }
        let inner = self.status;
        self.status = before;
        self.depth -= 1;
        if inner == 0 {
            Ok(())
        } else {
            Err(Exit(inner))
        }
    }

    fn data(&mut self, text: &str, dot: &DotLine<'_>) -> Outcome {
        let Some(arg) = arg_at(text, dot.rest()).filter(|a| !a.value.is_empty()) else {
            let text = format!("data: {}\n", self.describe_data());
            self.emit(&text);
            return Ok(());
        };
        let args = DataArgs {
            data: Some(PathBuf::from(&arg.value)),
            now: None,
            segments: Vec::new(),
            skip_bad_rows: self.data.skip_bad_rows,
        };
        let store = crate::cli::load_store(&args)?;
        self.engine.set_store(store);
        self.data.data = args.data;
        if !self.now_explicit {
            self.engine.now = crate::time::now_micros();
        }
        self.vocab_changed = true;
        self.say(&format!("data: {}", self.describe_data()));
        Ok(())
    }
}
