//! One diagnostic type for every stage, and its plain-text renderer.
//!
//! A [`Diagnostic`] knows nothing about terminals: it holds a message, the
//! span it points at, an optional label printed after the carets, notes and
//! a help line. [`render`] draws it against its source, rustc-style:
//!
//! ```text
//! error: unknown field `replies_3d`
//!  --> <query>:1:32
//!   |
//! 1 | role in [decision_maker] and replies_3d > 2
//!   |                              ^^^^^^^^^^ did you mean `replies_30d`?
//! ```

use crate::syntax::ast::Span;
use std::fmt::Write as _;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Which source a span points into: index into a [`Sources`] list.
pub type SourceId = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub source: SourceId,
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` for diagnostics about no place (e.g. a file).
    pub primary: Option<Label>,
    /// Other places worth showing (the first definition of a duplicate, ...).
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Error, message, Some(span))
    }

    pub fn warning(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Warning, message, Some(span))
    }

    /// An error that points at no span (an unreadable file, ...).
    pub fn error_nowhere(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, message, None)
    }

    fn new(severity: Severity, message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity,
            message: message.into(),
            primary: span.map(|span| Label {
                source: 0,
                span,
                text: String::new(),
            }),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Text printed after the carets of the primary span.
    pub fn with_label(mut self, text: impl Into<String>) -> Diagnostic {
        if let Some(label) = &mut self.primary {
            label.text = text.into();
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Another place to show, in source `source`.
    pub fn with_secondary(
        mut self,
        source: SourceId,
        span: Span,
        text: impl Into<String>,
    ) -> Diagnostic {
        self.secondary.push(Label {
            source,
            span,
            text: text.into(),
        });
        self
    }

    /// Moves every label added so far into `source` (labels added later
    /// name their own source).
    pub fn in_source(mut self, source: SourceId) -> Diagnostic {
        for label in self.primary.iter_mut().chain(self.secondary.iter_mut()) {
            label.source = source;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary location as `line:col` (1-based, columns in characters).
    pub fn line_col(&self, sources: &Sources) -> Option<(usize, usize)> {
        let label = self.primary.as_ref()?;
        let src = sources.get(label.source)?;
        Some(line_col(&src.text, label.span.start))
    }
}

/// A named source text: `<query>` or a file path.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// The texts that diagnostics point into, indexed by [`SourceId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    list: Vec<Source>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Sources holding just one query, named `<query>`.
    pub fn query(text: &str) -> Sources {
        let mut sources = Sources::new();
        sources.add("<query>", text);
        sources
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.list.push(Source {
            name: name.into(),
            text: text.into(),
        });
        self.list.len() - 1
    }

    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.list.get(id)
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(text, at.min(text.len()));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..at].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Colours for [`render`]; `Style::plain()` draws none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Renders a diagnostic against its sources, ending with a newline.
pub fn render(diag: &Diagnostic, sources: &Sources, style: Style) -> String {
    let mut out = String::new();
    let (word, color) = match diag.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let _ = writeln!(
        out,
        "{}{}",
        style.paint(color, word),
        style.paint("1", &format!(": {}", diag.message))
    );
    let labels: Vec<&Label> = diag.primary.iter().chain(diag.secondary.iter()).collect();
    let gutter = labels
        .iter()
        .filter_map(|l| {
            sources
                .get(l.source)
                .map(|s| line_col(&s.text, l.span.start).0)
        })
        .max()
        .map_or(1, |line| line.to_string().len());
    let pad = " ".repeat(gutter);
    for (i, label) in labels.iter().enumerate() {
        let Some(src) = sources.get(label.source) else {
            continue;
        };
        let (line_no, col) = line_col(&src.text, label.span.start);
        let arrow = if i == 0 { "-->" } else { ":::" };
        let _ = writeln!(
            out,
            "{pad}{} {}:{line_no}:{col}",
            style.paint("1;34", arrow),
            src.name
        );
        let line_start = floor_char_boundary(&src.text, label.span.start.min(src.text.len()));
        let line_start = src.text[..line_start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src.text[line_start..]
            .find('\n')
            .map_or(src.text.len(), |i| line_start + i);
        let line = src.text[line_start..line_end].trim_end_matches('\r');
        let start = floor_char_boundary(&src.text, label.span.start.clamp(line_start, line_end))
            - line_start;
        let end =
            floor_char_boundary(&src.text, label.span.end.clamp(line_start, line_end)) - line_start;
        let end = end.min(line.len()).max(start.min(line.len()));
        let start = start.min(line.len());
        let (shown, start, end) = window(line, start, end);
        let line = shown.as_str();
        let lead = display_width(&line[..start]);
        let carets = display_width(&line[start..end]).max(1);
        let bar = style.paint("1;34", "|");
        let _ = writeln!(out, "{pad} {bar}");
        let _ = writeln!(
            out,
            "{} {bar} {}",
            style.paint("1;34", &format!("{line_no:>gutter$}")),
            expand_tabs(line)
        );
        let mark = if i == 0 { "^" } else { "-" };
        let mut underline = format!(
            "{}{}",
            " ".repeat(lead),
            style.paint(color, &mark.repeat(carets))
        );
        if !label.text.is_empty() {
            underline.push(' ');
            underline.push_str(&style.paint(if i == 0 { color } else { "1;34" }, &label.text));
        }
        let _ = writeln!(out, "{pad} {bar} {underline}");
    }
    for note in &diag.notes {
        let _ = writeln!(out, "{pad} = note: {note}");
    }
    if let Some(help) = &diag.help {
        let _ = writeln!(out, "{pad} = {}: {help}", style.paint("1", "help"));
    }
    out
}

/// Source lines longer than this many characters are shown as a window
/// around the span, cut with `…`.
pub const MAX_SHOWN_LINE_CHARS: usize = 160;

/// `line` (with the span `start..end`, byte offsets) cut to a window of at
/// most about [`MAX_SHOWN_LINE_CHARS`] characters around the span; returns
/// the text shown and the span's offsets in it.
fn window(line: &str, start: usize, end: usize) -> (String, usize, usize) {
    let total = line.chars().count();
    if total <= MAX_SHOWN_LINE_CHARS {
        return (line.to_string(), start, end);
    }
    let from_char = line[..start].chars().count();
    let to_char = from_char + line[start..end].chars().count();
    let from = from_char.saturating_sub(40);
    let to = (to_char.max(from_char + 1).min(from_char + 80) + 40).min(total);
    let byte = |c: usize| line.char_indices().nth(c).map_or(line.len(), |(b, _)| b);
    let (from_byte, to_byte) = (byte(from), byte(to));
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let base = shown.len();
    shown.push_str(&line[from_byte..to_byte]);
    if to < total {
        shown.push('…');
    }
    let new_start = base + start - from_byte;
    let new_end = base + end.min(to_byte) - from_byte;
    (shown, new_start, new_end.max(new_start))
}

fn expand_tabs(line: &str) -> String {
    line.replace('\t', "    ")
}

fn display_width(s: &str) -> usize {
    let tabs = s.matches('\t').count();
    UnicodeWidthStr::width(s) + tabs * 4
}

/// Renders every diagnostic, separated by blank lines.
pub fn render_all(diags: &[Diagnostic], sources: &Sources, style: Style) -> String {
    diags
        .iter()
        .map(|d| render(d, sources, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The candidates nearest to `name` by edit distance, best first.
pub fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, c)| {
            *score >= 0.8
                || strsim::levenshtein(&lower, &c.to_lowercase()) <= (name.len() / 3).max(1)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(max).map(|(_, c)| c).collect()
}

/// "did you mean `x`?" for the nearest candidate, if any is near.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest(name, candidates, 1)
        .first()
        .map(|best| format!("did you mean `{best}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_matches_the_spec_example() {
        let src = "role in [decision_maker] and replies_3d > 2";
        let d = Diagnostic::error("unknown field `replies_3d`", Span::new(29, 39))
            .with_label("did you mean `replies_30d`?");
        let out = render(&d, &Sources::query(src), Style::plain());
        assert_eq!(
            out,
            "error: unknown field `replies_3d`\n --> <query>:1:30\n  |\n1 | role in [decision_maker] and replies_3d > 2\n  |                              ^^^^^^^^^^ did you mean `replies_30d`?\n"
        );
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        assert_eq!(line_col("é = x", 3), (1, 3));
        assert_eq!(line_col("a\nbé c", 6), (2, 4));
    }

    #[test]
    fn render_points_at_the_right_line_with_wide_gutter() {
        let src = "a\n".repeat(11) + "zz = 1";
        let d = Diagnostic::error("bad", Span::new(22, 24));
        let out = render(&d, &Sources::query(&src), Style::plain());
        assert!(out.contains(" --> <query>:12:1"), "{out}");
        assert!(out.contains("12 | zz = 1\n   | ^^\n"), "{out}");
    }

    #[test]
    fn nearest_prefers_the_closest_name() {
        let names = ["replies_30d", "meetings_30d", "role"];
        assert_eq!(
            did_you_mean("replies_3d", names).unwrap(),
            "did you mean `replies_30d`?"
        );
        assert_eq!(did_you_mean("zzzzzz", names), None);
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn render_shows_a_window_of_a_very_long_line() {
        let src = format!("{}é = x{}", "(".repeat(300_000), ")".repeat(300_000));
        let at = 300_000;
        let d = Diagnostic::error("bad", Span::new(at, at + 2)).with_label("here");
        let out = render(&d, &Sources::query(&src), Style::plain());
        assert!(out.len() < 1_000, "{} bytes", out.len());
        assert!(out.contains(" --> <query>:1:300001"), "{out}");
        let lines: Vec<&str> = out.lines().collect();
        let (text, marks) = (lines[3], lines[4]);
        assert!(
            text.starts_with(&format!("1 | …{}é = x", "(".repeat(40))),
            "{text}"
        );
        assert!(text.ends_with(")…"), "{text}");
        assert_eq!(marks, format!("  | {}^ here", " ".repeat(41)));
    }

    #[test]
    fn render_keeps_lines_up_to_the_limit_whole() {
        let src = "x".repeat(MAX_SHOWN_LINE_CHARS);
        let d = Diagnostic::error("bad", Span::new(150, 151));
        let out = render(&d, &Sources::query(&src), Style::plain());
        assert!(out.contains(&format!("1 | {src}\n")), "{out}");
    }
}
