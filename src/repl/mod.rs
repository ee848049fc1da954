//! `segq repl`: the analyst's shell.
//!
//! On a terminal it is a rustyline editor ([`helper`]: highlighting,
//! completion, history hints, multi-line input) with history in
//! `$XDG_STATE_HOME/segq/history`. Otherwise it reads statements from
//! stdin ([`line::Reader`]) and prints results without prompts or colour,
//! exiting non-zero if any statement failed. Either way a statement is a
//! query (its count and first rows) or a dot-command ([`commands`]).

pub mod commands;
pub mod helper;
pub mod line;
pub mod render;

use crate::cli::{fail, load_engine, DataArgs, Exit};
use crate::engine::Engine;
use crate::output;
use crate::plan::explain::group;
use crate::syntax::lexer::{tokenize, TokenKind};
use helper::{ReplHelper, Vocabulary};
use render::Mode;
use rustyline::config::Configurer;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{ColorMode, CompletionType, Config, EditMode, Editor};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// A statement's result: `Err` holds the exit code it earns (already reported).
type Outcome = Result<(), Exit>;

/// The line editor's key bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Emacs,
    Vi,
}

impl Keys {
    fn name(self) -> &'static str {
        match self {
            Keys::Emacs => "emacs",
            Keys::Vi => "vi",
        }
    }

    fn edit_mode(self) -> EditMode {
        match self {
            Keys::Emacs => EditMode::Emacs,
            Keys::Vi => EditMode::Vi,
        }
    }
}

/// What the dot-commands set.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rows shown per query.
    pub limit: usize,
    /// `None`: chosen per query; empty: every contact field.
    pub fields: Option<Vec<String>>,
    pub mode: Mode,
    pub timer: bool,
    pub keys: Keys,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limit: 10,
            fields: None,
            mode: Mode::Table,
            timer: false,
            keys: Keys::Emacs,
        }
    }
}

/// Fields shown by `auto`: the key, the fields the query names, then the
/// first columns, this many in all.
const AUTO_FIELDS: usize = 6;

/// A REPL session: the engine and everything the dot-commands changed.
pub struct Session {
    engine: Engine,
    data: DataArgs,
    settings: Settings,
    /// Segments defined by `.segment`, in order, for `.save`.
    defined: Vec<String>,
    /// The worst exit code of the statements run so far.
    status: i32,
    quit: bool,
    now_explicit: bool,
    /// Fields or segments changed: the helper needs a new vocabulary.
    vocab_changed: bool,
    keys_changed: bool,
    /// Nesting of `.read`.
    depth: usize,
    /// Running the startup file: confirmations are not printed.
    quiet: bool,
    /// stdout is a terminal: tables fit its width.
    stdout_terminal: bool,
}

impl Session {
    pub fn new(engine: Engine, data: DataArgs) -> Session {
        Session {
            engine,
            now_explicit: data.now.is_some(),
            data,
            settings: Settings::default(),
            defined: Vec::new(),
            status: 0,
            quit: false,
            vocab_changed: false,
            keys_changed: false,
            depth: 0,
            quiet: false,
            stdout_terminal: std::io::stdout().is_terminal(),
        }
    }

    pub fn vocabulary(&self) -> Vocabulary {
        Vocabulary::new(&self.engine.catalog, &self.engine.library)
    }

    /// Runs one statement (a query or a dot-command), recording a failure.
    pub fn statement(&mut self, text: &str) {
        let text = text.trim();
        if line::is_blank(text) {
            return;
        }
        let outcome = if line::dot_line(text).is_some() {
            self.dot(text)
        } else {
            self.query(text)
        };
        if let Err(Exit(code)) = outcome {
            self.status = self.status.max(code);
        }
    }

    /// Writes results to stdout; a closed stdout ends the session quietly.
    fn emit(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            self.quit = true;
        }
    }

    /// A confirmation (`mode: csv`), not printed while the startup file runs.
    fn say(&mut self, text: &str) {
        if !self.quiet {
            self.emit(&format!("{text}\n"));
        }
    }

    fn fit_terminal(&self) -> bool {
        self.stdout_terminal
    }

    fn set_keys(&mut self, keys: Keys) {
        self.settings.keys = keys;
        self.keys_changed = true;
    }

    fn timing(&mut self, took: Duration) {
        if self.settings.timer {
            self.emit(&format!("time: {}\n", render::duration(took)));
        }
    }

    fn now_text(&self) -> String {
        let now = self.engine.now;
        if now == crate::time::start_of_day(now) {
            crate::time::format_date(now)
        } else {
            let second = crate::time::MICROS_PER_SECOND;
            crate::time::format_datetime(now.div_euclid(second) * second)
        }
    }

    fn describe_data(&self) -> String {
        let store = &self.engine.store;
        let what = match &self.data.data {
            Some(p) => p.display().to_string(),
            None => "the demo data".to_string(),
        };
        let accounts = store.accounts.as_ref().map_or(String::new(), |a| {
            format!(", {} accounts", group(a.len as u64))
        });
        format!(
            "{what} ({} contacts{accounts}); now is {}",
            group(store.contacts.len as u64),
            self.now_text()
        )
    }

    /// The fields to show for `query`: as `.fields` says, or chosen for it.
    fn fields_for(&self, query: &str) -> Result<Vec<output::FieldRef>, Exit> {
        let store = &self.engine.store;
        match &self.settings.fields {
            Some(names) if names.is_empty() => Ok(output::all_fields(store)),
            Some(names) => output::resolve_fields(store, names).map_err(fail),
            None => {
                let mut names: Vec<String> = Vec::new();
                if let Some(key) = store.contacts.key {
                    names.push(store.contacts.columns[key].name.clone());
                }
                for token in tokenize(query) {
                    if matches!(token.kind, TokenKind::Field | TokenKind::Backticked) {
                        let written = &query[token.start..token.end];
                        let written = written.replace('`', "");
                        if output::resolve_field(store, &written).is_ok()
                            && !names.contains(&written)
                        {
                            names.push(written);
                        }
                    }
                }
                for column in &store.contacts.columns {
                    if names.len() >= AUTO_FIELDS {
                        break;
                    }
                    if !names.contains(&column.name) {
                        names.push(column.name.clone());
                    }
                }
                output::resolve_fields(store, &names).map_err(fail)
            }
        }
    }

    /// A query: its count and first rows.
    fn query(&mut self, text: &str) -> Outcome {
        let compiled = crate::cli::compile(&mut self.engine, text)?;
        let started = std::time::Instant::now();
        let result = self.engine.execute(&compiled.plan);
        let took = started.elapsed();
        let fields = self.fields_for(text)?;
        let store = &self.engine.store;
        let rows = output::ordered_rows(store, &result, None, Some(self.settings.limit));
        let out = render::rows(
            store,
            &fields,
            &rows,
            result.len(),
            self.settings.mode,
            self.fit_terminal(),
        );
        self.emit(&out);
        self.timing(took);
        Ok(())
    }

    /// Runs the startup file, quietly, if there is one.
    fn run_startup_file(&mut self) {
        let Some(path) = config_dir().map(|d| d.join("segq").join("replrc")) else {
            return;
        };
        let Ok(body) = std::fs::read_to_string(&path) else {
            return;
        };
        self.quiet = true;
        for statement in line::statements(&body) {
            self.statement(&statement.text);
        }
        self.quiet = false;
    }
}

fn non_empty_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home() -> Option<PathBuf> {
    non_empty_env("HOME")
}

/// `$XDG_CONFIG_HOME`, or `~/.config`.
fn config_dir() -> Option<PathBuf> {
    non_empty_env("XDG_CONFIG_HOME").or_else(|| home().map(|h| h.join(".config")))
}

/// Where history is kept: `$SEGQ_HISTORY`, else
/// `$XDG_STATE_HOME/segq/history`, else `~/.local/state/segq/history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = non_empty_env("SEGQ_HISTORY") {
        return Some(path);
    }
    let state = non_empty_env("XDG_STATE_HOME")
        .or_else(|| home().map(|h| h.join(".local").join("state")))?;
    Some(state.join("segq").join("history"))
}

/// `NO_COLOR` unset (or empty).
fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `segq repl`: interactive on a terminal, statements from stdin otherwise.
pub fn run(data: &DataArgs) -> Result<(), Exit> {
    let interactive = std::io::stdin().is_terminal();
    let spinner = (data.data.is_none() && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("loading the demo data");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let engine = load_engine(data, true);
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let mut session = Session::new(engine?, data.clone());
    if interactive {
        session.run_startup_file();
        interactive_loop(&mut session)
    } else {
        piped(&mut session);
        match session.status {
            0 => Ok(()),
            code => Err(Exit(code)),
        }
    }
}

/// Statements from stdin, without prompts.
fn piped(session: &mut Session) {
    use std::io::BufRead as _;
    let lines = std::io::stdin()
        .lock()
        .split(b'\n')
        .map_while(Result::ok)
        .map(|bytes| {
            let line = String::from_utf8_lossy(&bytes).into_owned();
            line.strip_suffix('\r').map(str::to_string).unwrap_or(line)
        });
    for statement in line::Reader::new(lines) {
        session.statement(&statement.text);
        if session.quit {
            break;
        }
    }
}

fn interactive_loop(session: &mut Session) -> Result<(), Exit> {
    let color = color_allowed();
    let config = Config::builder()
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(10_000))
        .map_err(|e| fail(format!("cannot set up the line editor: {e}")))?
        .history_ignore_space(true)
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .completion_show_all_if_ambiguous(true)
        .edit_mode(session.settings.keys.edit_mode())
        .color_mode(if color {
            ColorMode::Enabled
        } else {
            ColorMode::Disabled
        })
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)
        .map_err(|e| fail(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ReplHelper::new(session.vocabulary(), color)));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match editor.load_history(path) {
            Ok(()) => {}
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("warning: cannot read history from {}: {e}", path.display()),
        }
    }
    session.keys_changed = false;
    let banner = format!(
        "segq {} on {}\nEnter a query, or .help. Tab completes; Ctrl-R searches history; Ctrl-D leaves.\n",
        env!("CARGO_PKG_VERSION"),
        session.describe_data()
    );
    session.emit(&banner);
    let mut history_warned = false;
    while !session.quit {
        if std::mem::take(&mut session.vocab_changed) {
            if let Some(h) = editor.helper_mut() {
                h.vocab = session.vocabulary();
            }
        }
        if std::mem::take(&mut session.keys_changed) {
            editor.set_edit_mode(session.settings.keys.edit_mode());
        }
        match editor.readline("segq> ") {
            Ok(entry) => {
                if entry.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(entry.as_str());
                if let Some(path) = &history {
                    if let Err(e) = editor.append_history(path) {
                        if !std::mem::replace(&mut history_warned, true) {
                            eprintln!("warning: cannot save history to {}: {e}", path.display());
                        }
                    }
                }
                for statement in line::statements(&entry) {
                    session.statement(&statement.text);
                    if session.quit {
                        break;
                    }
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(fail(format!("cannot read input: {e}"))),
        }
    }
    Ok(())
}
