//! How the REPL reads its input: a dot-command and its arguments, the
//! query part of a line, when input is complete, and how lines make
//! statements.
//!
//! The helper (highlighting, completion, validation) and the session
//! (running statements) both read lines through this module, so what is
//! coloured as a query is what runs as one.

use super::commands::{self, Args, Command};
use crate::syntax::lexer::{tokenize, TokenKind};
use std::ops::Range;

/// Whitespace as the grammar skips it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_space(line: &str, mut at: usize) -> usize {
    let bytes = line.as_bytes();
    while at < bytes.len() && is_space(bytes[at]) {
        at += 1;
    }
    at
}

/// A line that starts with `.` or `\`: a dot-command.
#[derive(Debug, Clone)]
pub struct DotLine<'a> {
    /// The command word as typed: `.explain`, `\x`.
    pub word: &'a str,
    /// Where the word is in the line.
    pub word_span: Range<usize>,
    /// The command the word names, if any.
    pub command: Option<&'static Command>,
}

impl DotLine<'_> {
    /// Where the arguments start (just after the word).
    pub fn rest(&self) -> usize {
        self.word_span.end
    }
}

/// Reads the command word of a dot-command line; `None` for a query.
pub fn dot_line(line: &str) -> Option<DotLine<'_>> {
    let start = skip_space(line, 0);
    let first = *line.as_bytes().get(start)?;
    if first != b'.' && first != b'\\' {
        return None;
    }
    let end = line[start..]
        .find(|c: char| c.is_ascii_whitespace())
        .map_or(line.len(), |i| start + i);
    let word = &line[start..end];
    Some(DotLine {
        word,
        word_span: start..end,
        command: commands::find(word),
    })
}

/// One argument: a bare word up to whitespace, or a quoted one (`"my file.csv"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The value, without quotes.
    pub value: String,
    /// Where it is in the line, quotes included.
    pub span: Range<usize>,
    /// Whitespace follows it: the argument is finished.
    pub done: bool,
}

/// The argument starting at or after `from`; `None` at the end of the line.
pub fn arg_at(line: &str, from: usize) -> Option<Arg> {
    let start = skip_space(line, from);
    let bytes = line.as_bytes();
    let first = *bytes.get(start)?;
    let (value, end) = if first == b'"' || first == b'\'' {
        match line[start + 1..].find(first as char) {
            Some(i) => (line[start + 1..start + 1 + i].to_string(), start + 2 + i),
            None => (line[start + 1..].to_string(), line.len()),
        }
    } else {
        let end = line[start..]
            .find(|c: char| c.is_ascii_whitespace())
            .map_or(line.len(), |i| start + i);
        (line[start..end].to_string(), end)
    };
    Some(Arg {
        value,
        span: start..end,
        done: end < line.len() && is_space(bytes[end]),
    })
}

/// Where the query of a dot line starts, for commands that take one
/// (`.explain Q`, `.by FIELD Q`, `.export FILE Q`, `.segment NAME = Q`).
/// `None` when the command takes no query or its leading argument is
/// still being typed.
pub fn query_start(line: &str, dot: &DotLine<'_>) -> Option<usize> {
    let args = dot.command?.args;
    match args {
        Args::Query | Args::Segment => Some(dot.rest()),
        Args::FieldQuery | Args::FileQuery => {
            let first = arg_at(line, dot.rest())?;
            first.done.then_some(first.span.end)
        }
        _ => None,
    }
}

/// The query part of a line, as text of the line's length so that lexer
/// offsets are line offsets: everything before the query is blanked.
/// For `.segment NAME = Q` the word reads `segment`, so the name lexes as
/// a segment name. A line that is not a dot-command is its own query.
pub fn query_view(line: &str) -> Option<String> {
    let Some(dot) = dot_line(line) else {
        return Some(line.to_string());
    };
    let start = query_start(line, &dot)?;
    let mut view = " ".repeat(start);
    if dot.command.is_some_and(|c| c.args == Args::Segment) && dot.word.len() > "segment".len() {
        let end = dot.word_span.end;
        view.replace_range(end - "segment".len()..end, "segment");
    }
    view.push_str(&line[start..]);
    Some(view)
}

/// Whether a query goes on past this text: an unclosed parenthesis,
/// bracket, quote or backtick, or a trailing `and`, `or` or `not`.
pub fn is_incomplete(text: &str) -> bool {
    let tokens = tokenize(text);
    let mut parens = 0i64;
    let mut brackets = 0i64;
    for t in &tokens {
        if t.unterminated {
            return true;
        }
        if t.kind == TokenKind::Punct {
            match &text[t.start..t.end] {
                "(" => parens += 1,
                ")" => parens -= 1,
                "[" => brackets += 1,
                "]" => brackets -= 1,
                _ => {}
            }
        }
    }
    if parens > 0 || brackets > 0 {
        return true;
    }
    let last = tokens.iter().rev().find(|t| t.kind != TokenKind::Comment);
    last.is_some_and(|t| {
        t.kind == TokenKind::Keyword && {
            let word = &text[t.start..t.end];
            ["and", "or", "not"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(word))
        }
    })
}

/// Whether an entry (one or more lines) wants more lines before it runs.
pub fn entry_is_incomplete(text: &str) -> bool {
    query_view(text).is_some_and(|view| is_incomplete(&view))
}

/// Whether a text holds nothing to run: only whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    tokenize(text).iter().all(|t| t.kind == TokenKind::Comment)
}

/// A line that continues the statement before it: it starts with `and`,
/// `or`, `)`, `]` or `,`.
fn continues(line: &str) -> bool {
    let tokens = tokenize(line);
    let Some(first) = tokens.first() else {
        return false;
    };
    let text = &line[first.start..first.end];
    match first.kind {
        TokenKind::Keyword => text.eq_ignore_ascii_case("and") || text.eq_ignore_ascii_case("or"),
        TokenKind::Punct => matches!(text, ")" | "]" | ","),
        _ => false,
    }
}

/// Drops one `;` ending a dot-command (`.mode csv;`).
fn strip_semicolon(text: &str) -> &str {
    let tokens = tokenize(text);
    match tokens.iter().rev().find(|t| t.kind != TokenKind::Comment) {
        Some(t) if t.kind == TokenKind::Punct && &text[t.start..t.end] == ";" => {
            text[..t.start].trim_end()
        }
        _ => text.trim_end(),
    }
}

/// A statement of input: a query or a dot-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub text: String,
    /// The 1-based line it starts on.
    pub line: usize,
}

/// Cuts lines into statements, for piped input, `.read` files and
/// multi-line entries.
///
/// - A line starting with `.` or `\` is a dot-command; it goes on over
///   the next lines only while its query is incomplete.
/// - A query ends at `;`, or at the end of a line where it is complete
///   (see [`is_incomplete`]) and the next line does not continue it by
///   starting with `and`, `or`, `)`, `]` or `,`.
/// - Blank and comment-only lines between statements are skipped.
pub struct Reader<I: Iterator<Item = String>> {
    lines: std::iter::Peekable<std::iter::Enumerate<I>>,
    buf: String,
    buf_line: usize,
}

impl<I: Iterator<Item = String>> Reader<I> {
    pub fn new(lines: I) -> Reader<I> {
        Reader {
            lines: lines.enumerate().peekable(),
            buf: String::new(),
            buf_line: 0,
        }
    }

    fn take(&mut self, end: usize, skip: usize) -> Statement {
        let text = self.buf[..end].trim().to_string();
        let rest = self.buf[end + skip..].to_string();
        let line = self.buf_line;
        // The rest starts on the line where this statement ended.
        self.buf_line += self.buf[..end + skip].matches('\n').count();
        self.buf = rest;
        Statement { text, line }
    }
}

impl<I: Iterator<Item = String>> Iterator for Reader<I> {
    type Item = Statement;

    fn next(&mut self) -> Option<Statement> {
        loop {
            if is_blank(&self.buf) {
                self.buf.clear();
            }
            // A complete statement in the buffer?
            if !self.buf.is_empty() {
                let tokens = tokenize(&self.buf);
                if let Some(semi) = tokens
                    .iter()
                    .find(|t| t.kind == TokenKind::Punct && &self.buf[t.start..t.end] == ";")
                {
                    let stmt = self.take(semi.start, 1);
                    if is_blank(&stmt.text) {
                        continue;
                    }
                    return Some(stmt);
                }
                let next_continues = self.lines.peek().is_some_and(|(_, l)| continues(l));
                if !is_incomplete(&self.buf) && !next_continues {
                    let end = self.buf.len();
                    return Some(self.take(end, 0));
                }
            }
            let Some((number, line)) = self.lines.next() else {
                if self.buf.is_empty() {
                    return None;
                }
                let end = self.buf.len();
                return Some(self.take(end, 0));
            };
            if self.buf.is_empty() {
                self.buf_line = number + 1;
                if dot_line(&line).is_some() {
                    let mut text = line;
                    while entry_is_incomplete(&text) {
                        match self.lines.next() {
                            Some((_, more)) => {
                                text.push('\n');
                                text.push_str(&more);
                            }
                            None => break,
                        }
                    }
                    return Some(Statement {
                        text: strip_semicolon(&text).trim_start().to_string(),
                        line: number + 1,
                    });
                }
            }
            self.buf.push_str(&line);
            self.buf.push('\n');
        }
    }
}

/// The statements of a whole text (a `.read` file, a multi-line entry).
pub fn statements(text: &str) -> Vec<Statement> {
    Reader::new(text.lines().map(str::to_string)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn splits(text: &str, expected: &[(&str, usize)]) {
        let got: Vec<(String, usize)> = statements(text)
            .into_iter()
            .map(|s| (s.text, s.line))
            .collect();
        let expected: Vec<(String, usize)> =
            expected.iter().map(|(t, l)| (t.to_string(), *l)).collect();
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn line_statements_one_per_line() {
        splits(
            "role = a\nstage = b\n",
            &[("role = a", 1), ("stage = b", 2)],
        );
        splits("\n# note\nrole = a\n\n", &[("role = a", 3)]);
    }

    #[test]
    fn line_statements_semicolons() {
        splits("role = a; stage = b;", &[("role = a", 1), ("stage = b", 1)]);
        splits(
            "role = a\n  and x = 1;\nstage = b",
            &[("role = a\n  and x = 1", 1), ("stage = b", 3)],
        );
        splits("role = a;;\n;", &[("role = a", 1)]);
        splits("t = \"a;b\"; u = 1", &[("t = \"a;b\"", 1), ("u = 1", 1)]);
        splits("role = a # x; y\n", &[("role = a # x; y", 1)]);
    }

    #[test]
    fn line_statements_continue_when_incomplete() {
        splits(
            "role in [a,\n b]\nx = 1",
            &[("role in [a,\n b]", 1), ("x = 1", 3)],
        );
        splits("(a = 1 or\n b = 2)", &[("(a = 1 or\n b = 2)", 1)]);
        splits("a = 1\nor b = 2\n", &[("a = 1\nor b = 2", 1)]);
        splits("t = \"x\ny\"", &[("t = \"x\ny\"", 1)]);
        // unfinished at the end: handed on to fail in the parser
        splits("a = 1 and", &[("a = 1 and", 1)]);
    }

    #[test]
    fn line_statements_dot_commands() {
        splits(
            ".mode csv\nrole = a\n.limit 3;\n",
            &[(".mode csv", 1), ("role = a", 2), (".limit 3", 3)],
        );
        splits(
            ".segment hot = role = a and\n  x = 1\n.segments",
            &[
                (".segment hot = role = a and\n  x = 1", 1),
                (".segments", 3),
            ],
        );
        splits("  \\x\n", &[("\\x", 1)]);
    }

    #[test]
    fn line_dot_line_and_args() {
        let line = ".export \"my file.csv\" role = a";
        let dot = dot_line(line).unwrap();
        assert_eq!(dot.word, ".export");
        let arg = arg_at(line, dot.rest()).unwrap();
        assert_eq!(arg.value, "my file.csv");
        assert!(arg.done);
        assert_eq!(query_start(line, &dot), Some(21));
        assert!(dot_line("role = a").is_none());
        assert!(dot_line("").is_none());
        assert_eq!(arg_at(".load 'x", 5).unwrap().value, "x");
    }

    #[test]
    fn line_query_view_keeps_offsets() {
        assert_eq!(
            query_view(".explain role = a").unwrap(),
            "         role = a"
        );
        assert_eq!(query_view(".segment hot = a").unwrap(), " segment hot = a");
        assert_eq!(query_view(".by role x = 1").unwrap(), "         x = 1");
        assert_eq!(query_view(".by role"), None);
        assert_eq!(query_view(".mode csv"), None);
        assert_eq!(query_view("a = 1").unwrap(), "a = 1");
        assert_eq!(query_view(".é"), None);
    }

    #[test]
    fn line_incomplete() {
        for text in [
            "(a = 1",
            "a in [x,",
            "t = \"abc",
            "`job",
            "a = 1 and",
            "a = 1 OR",
            "not",
            "a = 1 and # c",
        ] {
            assert!(is_incomplete(text), "{text:?}");
        }
        for text in [
            "a = 1",
            "(a = 1)",
            "a = 1)",
            "",
            "# and",
            "t = \"and\"",
            "x = band",
        ] {
            assert!(!is_incomplete(text), "{text:?}");
        }
        assert!(entry_is_incomplete(".explain (a = 1"));
        assert!(entry_is_incomplete(".segment s = a = 1 and"));
        assert!(!entry_is_incomplete(".load \"x"));
        assert!(!entry_is_incomplete(".help"));
    }
}
