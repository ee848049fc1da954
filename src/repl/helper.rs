//! The rustyline helper: colours the line as it is typed, completes the
//! word under the cursor, hints from history, and keeps Enter from ending
//! an unfinished query.
//!
//! Everything reads the line through the logos lexer
//! ([`crate::syntax::lexer`]) and the [`Vocabulary`] of the loaded data, so
//! it works on text the parser rejects and never fails.

use super::commands::{self, Args};
use super::line::{self, arg_at, dot_line};
use crate::plan::Catalog;
use crate::schema::FieldType;
use crate::segments::Library;
use crate::syntax::ast::{is_ident, is_keyword};
use crate::syntax::lexer::{expect_at, tokenize, Expect, TokenKind};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::HistoryHinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper, Hinter};
use std::borrow::Cow;

/// A field the helper can name: its type and, for enums, sets and bools,
/// its values.
#[derive(Debug, Clone)]
pub struct FieldWords {
    pub name: String,
    pub ty: FieldType,
    pub values: Vec<String>,
}

/// What the helper knows: fields of both tables with their values, and
/// the segment names.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub contacts: Vec<FieldWords>,
    /// `None` without an accounts table.
    pub accounts: Option<Vec<FieldWords>>,
    pub segments: Vec<String>,
}

/// Values offered for completion, at most; an enum has few.
const MAX_VALUES: usize = 1000;

impl Vocabulary {
    pub fn new(catalog: &Catalog, library: &Library) -> Vocabulary {
        let fields = |table: &crate::plan::catalog::TableCatalog| {
            table
                .fields
                .iter()
                .map(|f| FieldWords {
                    name: f.name.clone(),
                    ty: f.ty.clone(),
                    values: match (&f.ty, &f.values) {
                        (FieldType::Bool, _) => vec!["true".into(), "false".into()],
                        (FieldType::Enum { .. } | FieldType::Set, Some(v)) => {
                            v.iter().take(MAX_VALUES).cloned().collect()
                        }
                        _ => Vec::new(),
                    },
                })
                .collect::<Vec<_>>()
        };
        Vocabulary {
            contacts: fields(&catalog.contacts),
            accounts: catalog.accounts.as_ref().map(fields),
            segments: library.names().map(str::to_string).collect(),
        }
    }

    pub fn field(&self, name: &str, account: bool) -> Option<&FieldWords> {
        let table = if account {
            self.accounts.as_deref()?
        } else {
            &self.contacts
        };
        table.iter().find(|f| f.name == name)
    }

    /// A field as written in a query: `role`, `account.industry`, `` `job title` ``.
    fn written_field(&self, written: &str) -> Option<&FieldWords> {
        let (account, rest) = match written.get(.."account.".len()) {
            Some(head) if head.eq_ignore_ascii_case("account.") => {
                (true, &written["account.".len()..])
            }
            _ => (false, written),
        };
        let name = rest
            .strip_prefix('`')
            .and_then(|r| r.strip_suffix('`'))
            .unwrap_or(rest);
        self.field(name, account)
    }

    /// Contact fields, then `account.` fields, as written in queries.
    fn all_field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.contacts.iter().map(|f| quote_name(&f.name)).collect();
        names.sort();
        if let Some(accounts) = &self.accounts {
            let mut more: Vec<String> = accounts
                .iter()
                .map(|f| format!("account.{}", quote_name(&f.name)))
                .collect();
            more.sort();
            names.extend(more);
        }
        names
    }
}

/// A field name as a query writes it: backticked unless it is a plain
/// identifier that is not a keyword.
fn quote_name(name: &str) -> String {
    if is_ident(name) && !is_keyword(name) {
        name.to_string()
    } else {
        format!("`{name}`")
    }
}

/// A value as a query writes it: bare if it reads as one word, quoted otherwise.
fn quote_value(value: &str) -> String {
    let reserved = ["and", "or", "not", "true", "false", "today"];
    if is_ident(value) && !reserved.iter().any(|r| r.eq_ignore_ascii_case(value)) {
        value.to_string()
    } else {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

// ------------------------------------------------------------ highlighting

/// ANSI styles, one per kind of text.
mod style {
    pub const KEYWORD: &str = "1;34";
    pub const FIELD: &str = "36";
    pub const VALUE: &str = "32";
    pub const NUMBER: &str = "33";
    pub const OPERATOR: &str = "1";
    pub const SEGMENT: &str = "35";
    pub const COMMENT: &str = "2";
    pub const COMMAND: &str = "1;35";
    /// unknown fields, segments and commands, unreadable text
    pub const ERROR: &str = "4;31";
    pub const HINT: &str = "2";
    pub const PROMPT: &str = "1;32";
}

fn paint(out: &mut String, code: &str, text: &str) {
    out.push_str("\x1b[");
    out.push_str(code);
    out.push('m');
    out.push_str(text);
    out.push_str("\x1b[0m");
}

/// The line with ANSI colours; removing the escapes gives the line back.
pub fn highlight(line: &str, vocab: &Vocabulary) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let Some(dot) = dot_line(line) else {
        highlight_query(line, line, 0, vocab, &mut out);
        return out;
    };
    out.push_str(&line[..dot.word_span.start]);
    let code = if dot.command.is_some() {
        style::COMMAND
    } else {
        style::ERROR
    };
    paint(&mut out, code, dot.word);
    match line::query_view(line) {
        Some(view) => {
            let start = line::query_start(line, &dot).unwrap_or(line.len());
            out.push_str(&line[dot.word_span.end..start]);
            // `.segment`: the view reads `segment NAME = Q`; colour from the name on.
            highlight_query(line, &view, start, vocab, &mut out);
        }
        None => out.push_str(&line[dot.word_span.end..]),
    }
    out
}

/// Colours `line[from..]`, reading it through `view` (the same text from
/// `from` on, as the lexer should see it).
fn highlight_query(line: &str, view: &str, from: usize, vocab: &Vocabulary, out: &mut String) {
    let mut at = from;
    for token in tokenize(view) {
        if token.end <= from {
            continue;
        }
        let start = token.start.max(from);
        out.push_str(&line[at..start]);
        let text = &line[start..token.end];
        let code = match token.kind {
            TokenKind::Keyword => style::KEYWORD,
            TokenKind::Field | TokenKind::Backticked => {
                // `account.` alone is a field still being typed
                let partial = text.len() == "account.".len() && text.ends_with('.');
                if partial || vocab.written_field(text).is_some() {
                    style::FIELD
                } else {
                    style::ERROR
                }
            }
            TokenKind::Value | TokenKind::String => style::VALUE,
            TokenKind::Number | TokenKind::Date | TokenKind::Duration => style::NUMBER,
            TokenKind::Operator => style::OPERATOR,
            TokenKind::Punct => "",
            TokenKind::Segment => {
                let name = text.strip_prefix('@').unwrap_or(text);
                // `.segment NAME = Q`: the name being defined
                let defining =
                    line != view && view[..token.start].trim().eq_ignore_ascii_case("segment");
                if name.is_empty() || defining || vocab.segments.iter().any(|s| s == name) {
                    style::SEGMENT
                } else {
                    style::ERROR
                }
            }
            TokenKind::Comment => style::COMMENT,
            TokenKind::Error => style::ERROR,
        };
        if code.is_empty() {
            out.push_str(text);
        } else {
            paint(out, code, text);
        }
        at = token.end;
    }
    out.push_str(&line[at..]);
}

// -------------------------------------------------------------- completion

fn pair(display: impl Into<String>, replacement: impl Into<String>) -> Pair {
    Pair {
        display: display.into(),
        replacement: replacement.into(),
    }
}

fn starts_with_ci(word: &str, prefix: &str) -> bool {
    word.len() >= prefix.len()
        && word.is_char_boundary(prefix.len())
        && word[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Candidates from `words` that start with `prefix`, each followed by `suffix`.
fn matching<'a>(words: impl IntoIterator<Item = &'a str>, prefix: &str, suffix: &str) -> Vec<Pair> {
    words
        .into_iter()
        .filter(|w| starts_with_ci(w, prefix))
        .map(|w| pair(w, format!("{w}{suffix}")))
        .collect()
}

/// Completes at byte `pos` of `line`: the start of the text to replace and the candidates.
pub fn complete(line: &str, pos: usize, vocab: &Vocabulary) -> (usize, Vec<Pair>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let Some(dot) = dot_line(line) else {
        return complete_query(line, pos, vocab);
    };
    if pos < dot.word_span.start {
        return (pos, Vec::new()); // the cursor is before the dot-command
    }
    if pos <= dot.word_span.end {
        let typed = &line[dot.word_span.start..pos];
        let mut out = Vec::new();
        for c in commands::COMMANDS {
            for name in std::iter::once(&c.name).chain(c.aliases) {
                if starts_with_ci(name, typed) {
                    let space = if c.args == Args::None { "" } else { " " };
                    out.push(pair(*name, format!("{name}{space}")));
                }
            }
        }
        return (dot.word_span.start, out);
    }
    let Some(command) = dot.command else {
        return (pos, Vec::new());
    };
    if let Some(start) = line::query_start(line, &dot) {
        if pos >= start {
            let view = line::query_view(line).expect("a query part");
            return complete_query(&view, pos, vocab);
        }
    }
    // The first argument, where the cursor is in it.
    let arg = arg_at(line, dot.rest()).filter(|a| a.span.start <= pos);
    if arg.as_ref().is_some_and(|a| a.done && a.span.end < pos) {
        return (pos, Vec::new());
    }
    let start = arg.as_ref().map_or(pos, |a| a.span.start);
    let typed = &line[start..pos];
    match command.args {
        Args::File | Args::FileQuery => {
            let files = FilenameCompleter::new();
            files.complete_path(line, pos).unwrap_or((pos, Vec::new()))
        }
        Args::Field | Args::FieldQuery => {
            let names = vocab.all_field_names();
            (
                start,
                matching(names.iter().map(String::as_str), typed, " "),
            )
        }
        Args::Fields => {
            let from = line[start..pos].rfind(',').map_or(start, |i| start + i + 1);
            let names = vocab.all_field_names();
            (
                from,
                matching(names.iter().map(String::as_str), &line[from..pos], ""),
            )
        }
        Args::Choice(choices) => (start, matching(choices.iter().copied(), typed, "")),
        Args::Command => {
            let names = commands::COMMANDS
                .iter()
                .map(|c| c.name.trim_start_matches('.'));
            (start, matching(names, typed.trim_start_matches('.'), ""))
        }
        Args::None | Args::Text | Args::Query | Args::Segment => (pos, Vec::new()),
    }
}

/// Fields whose name starts with `prefix` (as typed, or without its
/// backtick), sorted, as a query writes them.
fn field_names(fields: &[FieldWords], prefix: &str) -> Vec<Pair> {
    let bare = prefix.strip_prefix('`').unwrap_or(prefix);
    let mut names: Vec<&str> = fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| starts_with_ci(n, bare))
        .collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| {
            let written = quote_name(n);
            pair(written.clone(), format!("{written} "))
        })
        .collect()
}

/// Operators that fit a field of type `ty`, as typed after it.
fn operators(ty: Option<&FieldType>) -> Vec<&'static str> {
    let mut ops = vec!["=", "!="];
    let order = ["<", "<=", ">", ">=", "between", "not between"];
    match ty {
        Some(FieldType::Enum { ordered }) => {
            ops.extend(["in [", "not in ["]);
            if *ordered {
                ops.extend(order);
            }
        }
        Some(FieldType::String) => ops.extend([
            "in [",
            "not in [",
            "contains",
            "starts_with",
            "ends_with",
            "matches",
            "is duplicate",
        ]),
        Some(FieldType::Int | FieldType::Float) => {
            ops.extend(order);
            ops.extend(["in [", "not in ["]);
        }
        Some(FieldType::Date | FieldType::DateTime) => {
            ops = vec!["within", "before", "after"];
            ops.extend(order);
            ops.push("=");
        }
        Some(FieldType::Bool) => {}
        Some(FieldType::Set) => ops = vec!["has", "has any [", "has all [", "has none ["],
        Some(FieldType::Ref) => ops.extend(["in [", "not in ["]),
        None => {
            ops.extend(order);
            ops.extend(["in [", "not in [", "contains", "has", "within"]);
        }
    }
    ops.extend(["is missing", "is present"]);
    ops
}

/// Completes a query; `view` is the line with anything before the query blanked.
fn complete_query(view: &str, pos: usize, vocab: &Vocabulary) -> (usize, Vec<Pair>) {
    let before = &view[..pos];
    match expect_at(view, pos) {
        Expect::Field { prefix } => {
            let start = pos - prefix.len();
            let mut out = field_names(&vocab.contacts, &prefix);
            let mut keywords = vec!["not ", "all", "none"];
            if vocab.accounts.is_some() {
                keywords.insert(1, "account.");
                keywords.extend(["account has (", "account count ("]);
            }
            out.extend(
                keywords
                    .into_iter()
                    .filter(|k| starts_with_ci(k, &prefix))
                    .map(|k| pair(k.trim_end(), k)),
            );
            (start, out)
        }
        Expect::AccountField { prefix } => {
            let start = pos - prefix.len();
            (
                start,
                field_names(vocab.accounts.as_deref().unwrap_or(&[]), &prefix),
            )
        }
        Expect::Operator { field, prefix } => {
            let start = pos - prefix.len();
            let words: Vec<String> = before[..start]
                .split_ascii_whitespace()
                .rev()
                .take(2)
                .map(str::to_ascii_lowercase)
                .collect();
            let last = words.first().map(String::as_str);
            let second = words.get(1).map(String::as_str);
            let ops: Vec<&str> = if field == "account" && vocab.written_field("account").is_none() {
                vec!["has (", "count ("]
            } else if last == Some("is") || (last == Some("not") && second == Some("is")) {
                let mut v = vec!["missing", "present", "null", "duplicate"];
                if last == Some("is") {
                    v.push("not");
                }
                v
            } else if last == Some("not") {
                vec!["in [", "between"]
            } else {
                operators(vocab.written_field(&field).map(|f| &f.ty))
            };
            let out = ops
                .into_iter()
                .filter(|op| starts_with_ci(op, &prefix))
                .map(|op| {
                    let space = if op.ends_with(['[', '(']) { "" } else { " " };
                    pair(op, format!("{op}{space}"))
                })
                .collect();
            (start, out)
        }
        Expect::Value {
            field,
            account,
            prefix,
        } => {
            let start = pos - prefix.len();
            let Some(f) = vocab.field(&field, account) else {
                return (start, Vec::new());
            };
            let in_list = before[..start].trim_end().ends_with(['[', ',']);
            let suffix = if in_list { "" } else { " " };
            let mut out: Vec<Pair> = f
                .values
                .iter()
                .map(|v| {
                    if f.ty == FieldType::Bool {
                        v.clone()
                    } else {
                        quote_value(v)
                    }
                })
                .filter(|v| starts_with_ci(v, &prefix))
                .map(|v| pair(v.clone(), format!("{v}{suffix}")))
                .collect();
            // `tags has `: a value, or a quantifier and a list
            let after_has = before[..start]
                .split_ascii_whitespace()
                .next_back()
                .is_some_and(|w| w.eq_ignore_ascii_case("has"));
            if after_has {
                out.extend(
                    ["any [", "all [", "none ["]
                        .into_iter()
                        .filter(|q| starts_with_ci(q, &prefix))
                        .map(|q| pair(q, q)),
                );
            }
            (start, out)
        }
        Expect::Connective { prefix } => {
            let start = pos - prefix.len();
            (start, matching(["and", "or"], &prefix, " "))
        }
        Expect::SegmentName { prefix } => {
            let start = pos - prefix.len();
            (
                start,
                matching(vocab.segments.iter().map(String::as_str), &prefix, " "),
            )
        }
        Expect::Nothing => (pos, Vec::new()),
    }
}

// ------------------------------------------------------------------ helper

/// The REPL's rustyline helper.
#[derive(Helper, Hinter)]
pub struct ReplHelper {
    pub vocab: Vocabulary,
    /// Colour the prompt (the line's colours are rustyline's `ColorMode`).
    pub color: bool,
    #[rustyline(Hinter)]
    hinter: HistoryHinter,
}

impl ReplHelper {
    pub fn new(vocab: Vocabulary, color: bool) -> ReplHelper {
        ReplHelper {
            vocab,
            color,
            hinter: HistoryHinter::new(),
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(complete(line, pos, &self.vocab))
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Owned(highlight(line, &self.vocab))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        if default && self.color {
            let bare = prompt.trim_end();
            let mut out = String::new();
            paint(&mut out, style::PROMPT, bare);
            out.push_str(&prompt[bare.len()..]);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        let mut out = String::new();
        paint(&mut out, style::HINT, hint);
        Cow::Owned(out)
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if line::entry_is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vocab() -> Vocabulary {
        let field = |name: &str, ty: FieldType, values: &[&str]| FieldWords {
            name: name.into(),
            ty,
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        Vocabulary {
            contacts: vec![
                field(
                    "role",
                    FieldType::Enum { ordered: false },
                    &["decision_maker", "champion", "end user"],
                ),
                field("replies_30d", FieldType::Int, &[]),
                field(
                    "region",
                    FieldType::Enum { ordered: false },
                    &["emea", "apac"],
                ),
                field("tags", FieldType::Set, &["trial", "webinar"]),
                field("last_activity", FieldType::Date, &[]),
                field("opted_in", FieldType::Bool, &["true", "false"]),
                field("job title", FieldType::String, &[]),
            ],
            accounts: Some(vec![field(
                "industry",
                FieldType::Enum { ordered: false },
                &["saas", "retail"],
            )]),
            segments: vec!["hot".into(), "cold".into()],
        }
    }

    /// The line with escapes removed.
    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Pieces of the highlighted line painted with `code`.
    fn painted(line: &str, code: &str) -> Vec<String> {
        let h = highlight(line, &vocab());
        let open = format!("\x1b[{code}m");
        h.match_indices(&open)
            .map(|(i, _)| {
                let rest = &h[i + open.len()..];
                rest[..rest.find("\x1b[0m").unwrap()].to_string()
            })
            .collect()
    }

    #[track_caller]
    fn completes(line: &str, expected: &[&str]) {
        let (start, got) = complete(line, line.len(), &vocab());
        let got: Vec<String> = got
            .iter()
            .map(|p| format!("{}{}", &line[..start], p.replacement))
            .collect();
        assert_eq!(got, expected, "{line:?}");
    }

    #[track_caller]
    fn offers(line: &str, expected: &[&str]) {
        let (_, got) = complete(line, line.len(), &vocab());
        let got: Vec<&str> = got.iter().map(|p| p.display.as_str()).collect();
        assert_eq!(got, expected, "{line:?}");
    }

    #[test]
    fn highlight_kinds() {
        let line = "role in [champion] and replies_30d > 2 and last_activity within 30d";
        assert_eq!(strip(&highlight(line, &vocab())), line);
        assert_eq!(
            painted(line, style::KEYWORD),
            ["in", "and", "and", "within"]
        );
        assert_eq!(
            painted(line, style::FIELD),
            ["role", "replies_30d", "last_activity"]
        );
        assert_eq!(painted(line, style::VALUE), ["champion"]);
        assert_eq!(painted(line, style::NUMBER), ["2", "30d"]);
        assert_eq!(painted(line, style::OPERATOR), [">"]);
        assert_eq!(
            painted("title contains \"head of\"", style::VALUE),
            ["\"head of\""]
        );
    }

    #[test]
    fn highlight_unknown_names_are_errors() {
        assert_eq!(
            painted("rol = x and replies_3d > 2", style::ERROR),
            ["rol", "replies_3d"]
        );
        assert_eq!(
            painted("account.industry = saas", style::FIELD),
            ["account.industry"]
        );
        assert_eq!(painted("account.size = 1", style::ERROR), ["account.size"]);
        assert_eq!(painted("`job title` = x", style::FIELD), ["`job title`"]);
        assert_eq!(painted("@hot or @hott", style::SEGMENT), ["@hot"]);
        assert_eq!(painted("@hot or @hott", style::ERROR), ["@hott"]);
        assert_eq!(painted("account.", style::FIELD), ["account."]);
    }

    #[test]
    fn highlight_malformed_input() {
        assert_eq!(painted("role $ region", style::ERROR), ["$"]);
        assert_eq!(painted("replies_30d = 30dx", style::ERROR), ["30dx"]);
        assert_eq!(painted("role = 🎉", style::ERROR), ["🎉"]);
        for line in [
            "",
            "   ",
            "(((",
            "\"unclosed",
            "`job",
            "role in [dec",
            "a !",
            "\\",
            ".",
            "é = \"ü",
        ] {
            assert_eq!(strip(&highlight(line, &vocab())), line);
        }
    }

    #[test]
    fn highlight_dot_commands() {
        let line = ".explain role = champion";
        assert_eq!(strip(&highlight(line, &vocab())), line);
        assert_eq!(painted(line, style::COMMAND), [".explain"]);
        assert_eq!(painted(line, style::FIELD), ["role"]);
        assert_eq!(
            painted(".segment warm = @hot", style::SEGMENT),
            ["warm", "@hot"]
        );
        assert_eq!(painted(".by region rol = x", style::ERROR), ["rol"]);
        assert_eq!(painted(".schemaa", style::ERROR), [".schemaa"]);
        assert_eq!(painted(".mode csv", style::FIELD), Vec::<String>::new());
    }

    #[test]
    fn complete_fields() {
        completes("rol", &["role "]);
        completes("re", &["region ", "replies_30d "]);
        completes("role = x and rep", &["role = x and replies_30d "]);
        completes("(no", &["(not ", "(none"]);
        completes("account.ind", &["account.industry "]);
        completes("jo", &["`job title` "]);
        offers("acc", &["account.", "account has (", "account count ("]);
    }

    #[test]
    fn complete_operators_by_type() {
        offers(
            "tags ",
            &[
                "has",
                "has any [",
                "has all [",
                "has none [",
                "is missing",
                "is present",
            ],
        );
        offers("role i", &["in [", "is missing", "is present"]);
        offers("last_activity w", &["within"]);
        offers("role !", &["!="]);
        offers(
            "role is ",
            &["missing", "present", "null", "duplicate", "not"],
        );
        offers("role is not ", &["missing", "present", "null", "duplicate"]);
        offers("role not ", &["in [", "between"]);
        offers("account ", &["has (", "count ("]);
        completes("replies_30d bet", &["replies_30d between "]);
    }

    #[test]
    fn complete_values() {
        offers("role in [", &["decision_maker", "champion", "\"end user\""]);
        completes(
            "role in [decision_maker, ch",
            &["role in [decision_maker, champion"],
        );
        completes("role = d", &["role = decision_maker "]);
        completes("role = \"e", &[]);
        offers(
            "tags has ",
            &["trial", "webinar", "any [", "all [", "none ["],
        );
        completes("tags has an", &["tags has any ["]);
        offers("tags has any [", &["trial", "webinar"]);
        offers("opted_in = ", &["true", "false"]);
        offers("account.industry = ", &["saas", "retail"]);
        offers("replies_30d > ", &[]);
        offers("nosuch = ", &[]);
    }

    #[test]
    fn complete_connectives_and_segments() {
        offers("role = x ", &["and", "or"]);
        completes("role = x o", &["role = x or "]);
        offers("@", &["hot", "cold"]);
        completes("@h", &["@hot "]);
        completes("role = x and segment c", &["role = x and segment cold "]);
    }

    #[test]
    fn complete_dot_commands() {
        completes(".sch", &[".schema "]);
        completes(".segm", &[".segment ", ".segments"]);
        offers(".mode ", &["table", "csv", "jsonl", "expanded"]);
        completes(".timer o", &[".timer on", ".timer off"]);
        completes(".values rol", &[".values role "]);
        completes(".by reg", &[".by region "]);
        completes(".by region rol", &[".by region role "]);
        completes(".fields role,rep", &[".fields role,replies_30d"]);
        completes(".explain role in [cham", &[".explain role in [champion"]);
        completes(".segment warm = @c", &[".segment warm = @cold "]);
        completes(".help expl", &[".help explain"]);
        offers(".nosuch ", &[]);
    }

    #[test]
    fn complete_file_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pipeline.seg"), "").unwrap();
        let line = format!(".load {}/pip", dir.path().display());
        let (_, got) = complete(&line, line.len(), &vocab());
        assert_eq!(got.len(), 1);
        assert!(
            got[0].replacement.ends_with("pipeline.seg"),
            "{}",
            got[0].replacement
        );
        let line = format!(".export {}/pi", dir.path().display());
        assert_eq!(complete(&line, line.len(), &vocab()).1.len(), 1);
    }

    #[test]
    fn complete_malformed_input() {
        offers("role $", &[]);
        offers("title contains \"he", &[]);
        offers(
            "",
            &[
                "`job title`",
                "last_activity",
                "opted_in",
                "region",
                "replies_30d",
                "role",
                "tags",
                "not",
                "account.",
                "all",
                "none",
                "account has (",
                "account count (",
            ],
        );
        // cursor inside a character, past the end
        let (_, got) = complete("é", 1, &vocab());
        assert!(!got.is_empty());
        let _ = complete("role", 100, &vocab());
        // the cursor before an indented dot-command
        assert!(complete(" \\ಐ*", 0, &vocab()).1.is_empty());
        assert!(complete("  .help", 1, &vocab()).1.is_empty());
    }

    proptest! {
        #[test]
        fn highlight_and_complete_never_panic(line in any::<String>(), cursor in 0usize..64) {
            prop_assert_eq!(strip(&highlight(&line, &vocab())), line.clone());
            let _ = complete(&line, cursor, &vocab());
            let _ = line::entry_is_incomplete(&line);
        }

        #[test]
        fn highlight_and_complete_never_panic_on_dot_lines(
            rest in "[ a-z.=@\\[\\](\",'`#]{0,30}",
            command in prop::sample::select(vec![".explain ", ".by role ", ".segment ", ".export x.csv ", ".load ", ".fields ", ".mode ", "\\x ", ".zz "]),
            cursor in 0usize..64,
        ) {
            let line = format!("{command}{rest}");
            prop_assert_eq!(strip(&highlight(&line, &vocab())), line.clone());
            let _ = complete(&line, cursor, &vocab());
        }
    }
}
