//! Query text → AST, with the pest grammar in `grammar/segment.pest`.
//!
//! Before pest runs, `prescan` checks the documented [`limits`] (size,
//! nesting depth) and bracket/quote balance in one linear pass, so no input
//! can exhaust the stack and unbalanced input gets a precise error.

use super::ast::*;
use crate::diagnostic::Diagnostic;
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/segment.pest"]
struct Grammar;

/// Documented limits on query text; each is enforced with a located error.
pub mod limits {
    /// Bytes in one query given on the command line or in the REPL.
    pub const MAX_QUERY_BYTES: usize = 1 << 20;
    /// Bytes in one query file.
    pub const MAX_FILE_BYTES: usize = 16 << 20;
    /// Nesting of parentheses, brackets and `not`s, counted together.
    pub const MAX_DEPTH: usize = 64;
    /// Values in one `[..]` list.
    pub const MAX_LIST_LEN: usize = 10_000;
    /// Segment definitions across the files loaded together.
    pub const MAX_SEGMENTS: usize = 10_000;
}
use limits::*;

/// Parses one query.
pub fn parse_query(src: &str) -> Result<Expr, Vec<Diagnostic>> {
    prescan(src, MAX_QUERY_BYTES)?;
    let mut pairs = Grammar::parse(Rule::query, src).map_err(|e| vec![pest_error(e, src)])?;
    let query = pairs.next().expect("query rule");
    let expr = query
        .into_inner()
        .next()
        .expect("query holds an expression");
    let mut builder = Builder::default();
    let expr = builder.expr(expr, 0);
    builder.finish(expr)
}

/// Parses a query file (`segment ...;` and `expect ...;` items).
pub fn parse_file(src: &str) -> Result<File, Vec<Diagnostic>> {
    prescan(src, MAX_FILE_BYTES)?;
    let mut pairs = Grammar::parse(Rule::file, src).map_err(|e| vec![pest_error(e, src)])?;
    let file = pairs.next().expect("file rule");
    let mut builder = Builder::default();
    let mut items = Vec::new();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::segment_def => items.push(Item::Segment(builder.segment_def(pair))),
            Rule::expectation => items.push(Item::Expect(builder.expectation(pair))),
            Rule::EOI => {}
            r => unreachable!("file item {r:?}"),
        }
    }
    builder.finish(File { items })
}

/// Parses a query file, recovering at each `;`: every statement with a
/// syntax error gets its diagnostics, and the file holds the other items
/// (spans unchanged), so one typo does not hide the rest of the file.
pub fn parse_file_recovering(src: &str) -> (File, Vec<Diagnostic>) {
    let first = match parse_file(src) {
        Ok(file) => return (file, Vec::new()),
        Err(errs) => errs,
    };
    if src.len() > MAX_FILE_BYTES {
        return (File { items: Vec::new() }, first);
    }
    let mut errors = Vec::new();
    let mut blanked = src.as_bytes().to_vec();
    for (start, end) in statements(src) {
        if let Err(errs) = parse_file(&src[start..end]) {
            errors.extend(errs.into_iter().map(|d| shift(d, start)));
            // Statement ends are ASCII `;` (or the end), so whole characters go.
            for b in &mut blanked[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
    }
    let blanked = String::from_utf8(blanked).expect("whole characters were blanked");
    match (errors.is_empty(), parse_file(&blanked)) {
        (false, Ok(file)) => (file, errors),
        _ => (File { items: Vec::new() }, first),
    }
}

/// Byte ranges of the statements of a file: each up to and including a `;`
/// outside strings, backticks and comments; the rest as a last one.
fn statements(src: &str) -> Vec<(usize, usize)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b';' => {
                out.push((start, i + 1));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if src[start.min(src.len())..].trim().is_empty() {
        return out;
    }
    out.push((start, src.len()));
    out
}

/// Moves a diagnostic's spans by `by` bytes.
fn shift(mut d: Diagnostic, by: usize) -> Diagnostic {
    for label in d.primary.iter_mut().chain(d.secondary.iter_mut()) {
        label.span = Span::new(label.span.start + by, label.span.end + by);
    }
    d
}

/// One pass over the text: size limit, bracket balance, unterminated
/// strings and nesting depth, all before the recursive parser runs.
fn prescan(src: &str, max_bytes: usize) -> Result<(), Vec<Diagnostic>> {
    if src.len() > max_bytes {
        return Err(vec![Diagnostic::error(
            format!(
                "input is {} bytes, more than the limit of {max_bytes}",
                src.len()
            ),
            Span::new(0, 0),
        )]);
    }
    let bytes = src.as_bytes();
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'' | b'`') => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' && q != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    let what = if q == b'`' { "backtick name" } else { "string" };
                    return Err(vec![Diagnostic::error(
                        format!("unterminated {what}"),
                        Span::new(start, start + 1),
                    )
                    .with_label(format!("this {what} is never closed"))
                    .with_help(format!("close it with {}", q as char))]);
                }
            }
            b'(' | b'[' => {
                open.push((bytes[i], i));
                if open.len() > MAX_DEPTH {
                    return Err(vec![Diagnostic::error(
                        format!("nesting deeper than the limit of {MAX_DEPTH}"),
                        Span::new(i, i + 1),
                    )
                    .with_help("flatten the query, or split it into named segments")]);
                }
            }
            c @ (b')' | b']') => {
                let want = if c == b')' { b'(' } else { b'[' };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    Some((o, at)) => {
                        return Err(vec![Diagnostic::error(
                            format!("mismatched `{}`", c as char),
                            Span::new(i, i + 1),
                        )
                        .with_label(format!(
                            "expected `{}` first",
                            if o == b'(' { ')' } else { ']' }
                        ))
                        .with_secondary(
                            0,
                            Span::new(at, at + 1),
                            "opened here",
                        )]);
                    }
                    None => {
                        return Err(vec![Diagnostic::error(
                            format!("unmatched `{}`", c as char),
                            Span::new(i, i + 1),
                        )
                        .with_label("nothing to close here")]);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&(o, at)) = open.last() {
        let close = if o == b'(' { ')' } else { ']' };
        return Err(vec![Diagnostic::error(
            format!("unclosed `{}`", o as char),
            Span::new(at, at + 1),
        )
        .with_label(format!("never closed; add `{close}`"))]);
    }
    Ok(())
}

fn span_of(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// What a grammar rule is called in an "expected ..." message.
fn describe(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::expr | Rule::and_expr | Rule::not_expr | Rule::predicate | Rule::paren => {
            "a predicate"
        }
        Rule::field | Rule::field_name | Rule::account_prefix => "a field name",
        Rule::cmp_op => "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::compare_op
        | Rule::in_op
        | Rule::not_in_op
        | Rule::between_op
        | Rule::not_between_op
        | Rule::is_op
        | Rule::has_op
        | Rule::text_op
        | Rule::within_op
        | Rule::before_op
        | Rule::after_op => "an operator",
        Rule::value
        | Rule::word
        | Rule::string
        | Rule::number
        | Rule::date
        | Rule::datetime
        | Rule::boolean
        | Rule::ago
        | Rule::today => "a value",
        Rule::duration => "a duration like `30d`",
        Rule::list => "a list like `[a, b]`",
        Rule::name => "a name",
        Rule::is_what | Rule::is_not => "`missing`, `present` or `duplicate`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::EOI => "end of input",
        Rule::segment_def => "`segment`",
        Rule::expectation => "`expect`",
        Rule::kw_segment => "`segment`",
        Rule::kw_expect => "`expect`",
        Rule::kw_count => "`count`",
        Rule::kw_between => "`between`",
        Rule::kw_within => "`within`",
        Rule::kw_disjoint => "`disjoint`",
        Rule::kw_has => "`has`",
        Rule::has_quant => "`any`, `all` or `none`",
        Rule::text_kw => "`contains`, `starts_with`, `ends_with` or `matches`",
        _ => return None,
    })
}

fn pest_error(e: pest::error::Error<Rule>, src: &str) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let at = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(describe).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let end = src[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    // Point at the whole offending token where there is one.
    let token_end = src[at..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(src.len(), |n| at + n)
        .max(end);
    let found = if at >= src.len() {
        "end of input".to_string()
    } else {
        format!("`{}`", &src[at..token_end])
    };
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    Diagnostic::error(message, Span::new(at, token_end)).with_label(if expected.is_empty() {
        "not understood here".to_string()
    } else {
        format!("expected {}", join_or(&expected))
    })
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Turns pest pairs into the AST, collecting limit errors as it goes.
#[derive(Default)]
struct Builder {
    errors: Vec<Diagnostic>,
}

impl Builder {
    fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }

    /// `depth`: enclosing parentheses and `not`s, bounded by [`MAX_DEPTH`].
    fn expr(&mut self, pair: Pair<Rule>, depth: usize) -> Expr {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::expr;
                let mut children: Vec<Expr> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::kw_or | Rule::kw_and))
                    .map(|p| self.expr(p, depth))
                    .collect();
                if children.len() == 1 {
                    children.pop().expect("one child")
                } else if is_or {
                    Expr {
                        kind: ExprKind::Or(children),
                        span,
                    }
                } else {
                    Expr {
                        kind: ExprKind::And(children),
                        span,
                    }
                }
            }
            Rule::not_expr => {
                let mut nots = Vec::new();
                let mut primary = None;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::not_op {
                        nots.push(span_of(&p));
                    } else {
                        primary = Some(p);
                    }
                }
                let depth = depth + nots.len();
                if depth > MAX_DEPTH {
                    self.errors.push(
                        Diagnostic::error(
                            format!("nesting deeper than the limit of {MAX_DEPTH}"),
                            nots[0],
                        )
                        .with_help("remove repeated `not`s: `not not q` is `q`"),
                    );
                    return Expr {
                        kind: ExprKind::All,
                        span,
                    };
                }
                let mut expr = self.expr(primary.expect("not_expr has a primary"), depth);
                for not_span in nots.into_iter().rev() {
                    let span = not_span.to(expr.span);
                    expr = Expr {
                        kind: ExprKind::Not(Box::new(expr)),
                        span,
                    };
                }
                expr
            }
            Rule::paren => {
                let inner = pair.into_inner().next().expect("paren holds an expression");
                let mut e = self.expr(inner, depth + 1);
                e.span = span;
                e
            }
            Rule::all => Expr {
                kind: ExprKind::All,
                span,
            },
            Rule::none => Expr {
                kind: ExprKind::None,
                span,
            },
            Rule::segment_ref => {
                let name = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::name)
                    .expect("segment name");
                Expr {
                    kind: ExprKind::Segment(ident(&name)),
                    span,
                }
            }
            Rule::account_has => {
                let inner = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::expr)
                    .expect("account has (q)");
                Expr {
                    kind: ExprKind::AccountHas(Box::new(self.expr(inner, depth + 1))),
                    span,
                }
            }
            Rule::account_count => {
                let mut query = None;
                let mut op = CmpOp::Eq;
                let mut n = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::expr => query = Some(self.expr(p, depth + 1)),
                        Rule::cmp_op => op = cmp_op(p.as_str()),
                        Rule::number => n = Some(self.value(p)),
                        _ => {}
                    }
                }
                Expr {
                    kind: ExprKind::AccountCount {
                        query: Box::new(query.expect("account count query")),
                        op,
                        n: n.expect("account count number"),
                    },
                    span,
                }
            }
            Rule::predicate => Expr {
                kind: ExprKind::Pred(self.predicate(pair)),
                span,
            },
            r => unreachable!("expression rule {r:?}"),
        }
    }

    fn predicate(&mut self, pair: Pair<Rule>) -> Predicate {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let field = field_ref(inner.next().expect("predicate field"));
        let op = match inner.next() {
            None => PredOp::Bare,
            Some(op) => self.pred_op(op),
        };
        Predicate { field, op, span }
    }

    fn pred_op(&mut self, pair: Pair<Rule>) -> PredOp {
        let rule = pair.as_rule();
        let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
        let values = |b: &mut Builder, parts: &[Pair<Rule>]| -> Vec<Value> {
            parts
                .iter()
                .filter(|p| is_value_rule(p.as_rule()))
                .map(|p| b.value(p.clone()))
                .collect()
        };
        match rule {
            Rule::compare_op => {
                let op = cmp_op(parts[0].as_str());
                PredOp::Compare {
                    op,
                    value: self.value(parts[1].clone()),
                }
            }
            Rule::in_op | Rule::not_in_op => {
                let list = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::list)
                    .expect("list");
                PredOp::In {
                    negated: rule == Rule::not_in_op,
                    values: self.list(list.clone()),
                }
            }
            Rule::between_op | Rule::not_between_op => {
                let mut vs = values(self, &parts).into_iter();
                PredOp::Between {
                    negated: rule == Rule::not_between_op,
                    low: vs.next().expect("low"),
                    high: vs.next().expect("high"),
                }
            }
            Rule::is_op => {
                let negated = parts.iter().any(|p| p.as_rule() == Rule::is_not);
                let what = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::is_what)
                    .expect("is what");
                let word = what.as_str().to_ascii_lowercase();
                match (word.as_str(), negated) {
                    ("missing" | "null", false) | ("present", true) => PredOp::IsMissing,
                    ("missing" | "null", true) | ("present", false) => PredOp::IsPresent,
                    ("duplicate", false) => PredOp::IsDuplicate,
                    _ => {
                        self.errors.push(
                            Diagnostic::error("`is not duplicate` is ambiguous", span_of(what))
                                .with_label("say which contacts you mean")
                                .with_help(
                                    "write `not f is duplicate` (includes missing values) \
                                     or `f is present and not f is duplicate`",
                                ),
                        );
                        PredOp::IsDuplicate
                    }
                }
            }
            Rule::has_op => {
                let quant = parts
                    .iter()
                    .find(|p| p.as_rule() == Rule::has_quant)
                    .map(|q| match q.as_str().to_ascii_lowercase().as_str() {
                        "any" => HasQuant::Any,
                        "all" => HasQuant::All,
                        _ => HasQuant::None,
                    });
                match quant {
                    Some(quant) => {
                        let list = parts
                            .iter()
                            .find(|p| p.as_rule() == Rule::list)
                            .expect("list");
                        PredOp::Has {
                            quant,
                            values: self.list(list.clone()),
                        }
                    }
                    None => PredOp::Has {
                        quant: HasQuant::One,
                        values: values(self, &parts),
                    },
                }
            }
            Rule::text_op => {
                let op = match parts[0].as_str().to_ascii_lowercase().as_str() {
                    "contains" => TextOp::Contains,
                    "starts_with" => TextOp::StartsWith,
                    "ends_with" => TextOp::EndsWith,
                    _ => TextOp::Matches,
                };
                PredOp::Text {
                    op,
                    value: self.value(parts[1].clone()),
                }
            }
            Rule::within_op | Rule::before_op | Rule::after_op => {
                let value = values(self, &parts).pop().expect("value");
                match rule {
                    Rule::within_op => PredOp::Within { value },
                    Rule::before_op => PredOp::Before { value },
                    _ => PredOp::After { value },
                }
            }
            r => unreachable!("predicate operator {r:?}"),
        }
    }

    fn list(&mut self, pair: Pair<Rule>) -> Vec<Value> {
        let span = span_of(&pair);
        let values: Vec<Value> = pair.into_inner().map(|p| self.value(p)).collect();
        if values.len() > MAX_LIST_LEN {
            self.errors.push(
                Diagnostic::error(
                    format!(
                        "list of {} values is longer than the limit of {MAX_LIST_LEN}",
                        values.len()
                    ),
                    span,
                )
                .with_help("put the values in a field or a named segment"),
            );
        }
        values
    }

    fn value(&mut self, pair: Pair<Rule>) -> Value {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::word => ValueKind::Word(pair.as_str().to_string()),
            Rule::string => {
                let inner = pair.into_inner().next().map_or("", |p| p.as_str());
                ValueKind::Str(unescape(inner))
            }
            Rule::number => ValueKind::Number(pair.as_str().replace('_', "")),
            Rule::boolean => ValueKind::Bool(pair.as_str().eq_ignore_ascii_case("true")),
            Rule::date => ValueKind::Date(pair.as_str().to_string()),
            Rule::datetime => ValueKind::DateTime(pair.as_str().to_string()),
            Rule::duration => {
                let (amount, unit) = duration(pair);
                ValueKind::Duration { amount, unit }
            }
            Rule::ago => {
                let d = pair.into_inner().next().expect("ago duration");
                let (amount, unit) = duration(d);
                ValueKind::Ago { amount, unit }
            }
            Rule::today => ValueKind::Today,
            r => unreachable!("value rule {r:?}"),
        };
        Value { kind, span }
    }

    fn segment_def(&mut self, pair: Pair<Rule>) -> SegmentDef {
        let span = span_of(&pair);
        let mut name = None;
        let mut query = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => name = Some(ident(&p)),
                Rule::expr => query = Some(self.expr(p, 0)),
                _ => {}
            }
        }
        SegmentDef {
            name: name.expect("segment name"),
            query: query.expect("segment query"),
            span,
        }
    }

    fn expectation(&mut self, pair: Pair<Rule>) -> Expectation {
        let span = span_of(&pair);
        let mut segment = None;
        let mut kind = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::name => segment = Some(ident(&p)),
                Rule::expect_count => {
                    let mut op = CmpOp::Eq;
                    let mut n = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::cmp_op => op = cmp_op(q.as_str()),
                            Rule::number => n = Some(self.value(q)),
                            _ => {}
                        }
                    }
                    kind = Some(ExpectKind::Count {
                        op,
                        n: n.expect("count"),
                    });
                }
                Rule::expect_count_between => {
                    let mut ns = p.into_inner().filter(|q| q.as_rule() == Rule::number);
                    let low = self.value(ns.next().expect("low"));
                    let high = self.value(ns.next().expect("high"));
                    kind = Some(ExpectKind::CountBetween { low, high });
                }
                Rule::expect_within | Rule::expect_disjoint => {
                    let within = p.as_rule() == Rule::expect_within;
                    let other = ident(
                        &p.into_inner()
                            .find(|q| q.as_rule() == Rule::name)
                            .expect("name"),
                    );
                    kind = Some(if within {
                        ExpectKind::Within(other)
                    } else {
                        ExpectKind::Disjoint(other)
                    });
                }
                _ => {}
            }
        }
        Expectation {
            segment: segment.expect("expect segment"),
            kind: kind.expect("expect body"),
            span,
        }
    }
}

fn is_value_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::word
            | Rule::string
            | Rule::number
            | Rule::boolean
            | Rule::date
            | Rule::datetime
            | Rule::duration
            | Rule::ago
            | Rule::today
    )
}

fn ident(pair: &Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

fn field_ref(pair: Pair<Rule>) -> FieldRef {
    let span = span_of(&pair);
    let mut account = false;
    let mut name = String::new();
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::account_prefix => account = true,
            _ => name = p.as_str().trim_matches('`').to_string(),
        }
    }
    FieldRef {
        account,
        name,
        span,
    }
}

fn cmp_op(s: &str) -> CmpOp {
    match s {
        "=" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

fn duration(pair: Pair<Rule>) -> (String, DurationUnit) {
    let mut amount = String::new();
    let mut unit = DurationUnit::Days;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::duration_amount => amount = p.as_str().replace('_', ""),
            Rule::duration_unit => {
                unit = match p.as_str() {
                    "h" => DurationUnit::Hours,
                    "d" => DurationUnit::Days,
                    "w" => DurationUnit::Weeks,
                    "mo" => DurationUnit::Months,
                    _ => DurationUnit::Years,
                }
            }
            _ => {}
        }
    }
    (amount, unit)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(c @ ('"' | '\'' | '\\')) => out.push(c),
                // Unknown escapes stay as written: `"\d"` is backslash, d.
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn parses_to(src: &str, canonical: &str) {
        let expr = parse_query(src).unwrap_or_else(|e| panic!("{src:?} failed: {e:?}"));
        assert_eq!(expr.to_string(), canonical);
        let again = parse_query(canonical).expect("canonical text parses");
        assert_eq!(again, expr, "round trip of {canonical:?}");
    }

    #[track_caller]
    fn fails_at(src: &str, message: &str, start: usize) {
        let errs = parse_query(src).expect_err(src);
        assert!(
            errs[0].message.contains(message),
            "{src:?}: {:?}",
            errs[0].message
        );
        assert_eq!(
            errs[0].primary.as_ref().unwrap().span.start,
            start,
            "{src:?}: {:?}",
            errs[0]
        );
    }

    #[test]
    fn parse_precedence_not_and_or() {
        parses_to(
            "a = 1 or b = 2 and not c = 3",
            "a = 1 or b = 2 and not c = 3",
        );
        let e = parse_query("a = 1 or b = 2 and not c = 3").unwrap();
        let ExprKind::Or(children) = &e.kind else {
            panic!("{e:?}")
        };
        assert!(matches!(children[1].kind, ExprKind::And(_)));
        let ExprKind::And(and) = &children[1].kind else {
            unreachable!()
        };
        assert!(matches!(and[1].kind, ExprKind::Not(_)));
    }

    #[test]
    fn parse_keeps_explicit_groups() {
        parses_to("(a = 1 or b = 2) and c", "(a = 1 or b = 2) and c");
        parses_to("a and (b and c)", "a and (b and c)");
        parses_to("NOT (a or b)", "not (a or b)");
        parses_to("((a))", "a");
    }

    #[test]
    fn parse_every_predicate_form() {
        parses_to(
            "role in [decision_maker, champion,]",
            "role in [decision_maker, champion]",
        );
        parses_to("role not in ['x y']", "role not in [\"x y\"]");
        parses_to("size between 1_000 and -2.5", "size between 1000 and -2.5");
        parses_to("s not between 1 and 2", "s not between 1 and 2");
        parses_to("e is null", "e is missing");
        parses_to("e IS NOT NULL", "e is present");
        parses_to("e is not missing", "e is present");
        parses_to("e is duplicate", "e is duplicate");
        parses_to(
            "title contains \"head \\\"of\\\"\"",
            "title contains \"head \\\"of\\\"\"",
        );
        parses_to("t starts_with vp", "t starts_with vp");
        parses_to("t ends_with '.io'", "t ends_with \".io\"");
        parses_to("t matches \"^a\\\\d\"", "t matches \"^a\\\\d\"");
        parses_to("t matches \"^a\\d\\b\"", "t matches \"^a\\\\d\\\\b\"");
        parses_to("tags has webinar", "tags has webinar");
        parses_to("tags has any [a, b]", "tags has any [a, b]");
        parses_to("tags HAS ALL [a]", "tags has all [a]");
        parses_to("tags has none [a]", "tags has none [a]");
        parses_to("d within 30d", "d within 30d");
        parses_to("d before today", "d before today");
        parses_to("d after 3mo ago", "d after 3mo ago");
        parses_to("d > 2026-01-31", "d > 2026-01-31");
        parses_to("d <= 2026-01-31T09:30:00Z", "d <= 2026-01-31T09:30:00Z");
        parses_to("opted_in", "opted_in");
        parses_to("opted_in = TRUE", "opted_in = true");
        parses_to("account.industry = saas", "account.industry = saas");
        parses_to(
            "account has (role = x and r > 0)",
            "account has (role = x and r > 0)",
        );
        parses_to("account count (r > 0) >= 2", "account count (r > 0) >= 2");
        parses_to("@hot and segment cold", "@hot and @cold");
        parses_to("all and not none", "all and not none");
        parses_to("`job title` = x", "`job title` = x");
        parses_to("`all` = x", "`all` = x");
        parses_to("r = \"and\"", "r = \"and\"");
        parses_to("x = 1 # trailing comment\n and y = 2", "x = 1 and y = 2");
    }

    #[test]
    fn parse_reports_located_errors() {
        fails_at("role = ", "expected a value", 7);
        fails_at("role in [a, b", "unclosed `[`", 8);
        fails_at("(a = 1", "unclosed `(`", 0);
        fails_at("a = 1)", "unmatched `)`", 5);
        fails_at("t contains \"abc", "unterminated string", 11);
        fails_at("role in []", "expected a value", 9);
        fails_at("a = 1 b = 2", "expected", 6);
        fails_at("a is weird", "expected", 5);
        fails_at("e is not duplicate", "ambiguous", 9);
    }

    #[test]
    fn parse_rejects_deep_nesting_without_recursing() {
        let deep = "(".repeat(200_000) + "a" + &")".repeat(200_000);
        fails_at(&deep, "nesting deeper", MAX_DEPTH);
        let nots = "not ".repeat(100_000) + "a";
        fails_at(&nots, "nesting deeper", 0);
        let big = "a = 1 or ".repeat(200_000) + "a = 1";
        fails_at(&big, "more than the limit", 0);
    }

    #[test]
    fn parse_rejects_long_lists() {
        let list = (0..MAX_LIST_LEN + 1)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        fails_at(&format!("x in [{list}]"), "longer than the limit", 5);
    }

    #[test]
    fn parse_file_items() {
        let src = "# pipeline\nsegment dm = role = decision_maker;\nexpect dm count > 0;\n\
                   expect dm count between 1 and 5;\nexpect dm within dm; expect dm disjoint x;";
        let file = parse_file(src).unwrap();
        assert_eq!(file.items.len(), 5);
        assert_eq!(
            file.to_string(),
            "segment dm = role = decision_maker;\nexpect dm count > 0;\nexpect dm count between 1 and 5;\n\
             expect dm within dm;\nexpect dm disjoint x;\n"
        );
        assert_eq!(parse_file(&file.to_string()).unwrap(), file);
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    #[test]
    fn parse_file_recovering_reports_each_bad_statement_and_keeps_the_rest() {
        let src = "segment a = role = x;\nsegment b = (role = y;\nsegment c = \"a;b\" = z; # ok;\nsegment d = role = and;\nexpect a count > 0;\nsegment e = q";
        let (file, errors) = parse_file_recovering(src);
        let names: Vec<String> = file
            .items
            .iter()
            .map(|i| match i {
                Item::Segment(s) => s.name.name.clone(),
                Item::Expect(e) => format!("expect {}", e.segment.name),
            })
            .collect();
        assert_eq!(names, ["a", "expect a"]);
        let starts: Vec<usize> = errors
            .iter()
            .map(|d| d.primary.as_ref().expect("located").span.start)
            .collect();
        // `(` of b; the quoted name of c is not a field; `and` in d; end of e
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(starts[0], src.find('(').unwrap());
        assert_eq!(starts[1], src.find("\"a;b\"").unwrap());
        assert_eq!(starts[2], src.find("and;").unwrap());
        assert_eq!(starts[3], src.len());
        let (file, errors) = parse_file_recovering("segment a = all;  # fine\n");
        assert!(errors.is_empty());
        assert_eq!(file.items.len(), 1);
    }
}
