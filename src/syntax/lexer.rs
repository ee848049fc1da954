//! Tokens for the REPL: syntax highlighting and context-aware completion.
//!
//! The REPL colours the line while it is being typed and completes the word
//! under the cursor, so it reads text the grammar rejects: `role in [dec`,
//! `title contains "head`, `a != `. This module reads any text without
//! failing. It never decides what a query means: `parse` is the only parser.
//!
//! Two stages, like the pipeline:
//! 1. [`logos`] cuts the text into raw lexemes (words, literals, operators,
//!    punctuation); a character it cannot read becomes an error lexeme.
//! 2. A `Context` walks the lexemes once, loosely following the grammar,
//!    to tell a field from a value from a keyword (`role = today`: a field,
//!    an operator, a keyword) and to know what may come next.
//!
//! ```
//! use segq::syntax::lexer::{expect_at, tokenize, Expect, TokenKind};
//!
//! use TokenKind::{Field, Keyword, Punct, Value};
//!
//! let kinds: Vec<TokenKind> = tokenize("role in [dm, ch").iter().map(|t| t.kind).collect();
//! assert_eq!(kinds, [Field, Keyword, Punct, Value, Punct, Value]);
//! assert_eq!(
//!     expect_at("role in [dm, ch", 15),
//!     Expect::Value { field: "role".into(), account: false, prefix: "ch".into() }
//! );
//! ```

use logos::Logos;

/// Every keyword, lower case; matched case-insensitively. The grammar's
/// `kw_*` rules and `true`/`false` (`tests/lexer_grammar_sync.rs` keeps the
/// two in step).
#[rustfmt::skip]
pub const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "between", "is", "missing", "present", "null", "duplicate",
    "contains", "starts_with", "ends_with", "matches", "has", "any", "all", "none", "within",
    "before", "after", "ago", "today", "account", "count", "true", "false", "segment", "expect",
    "disjoint",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `and`, `IN`, `today`, … (any case)
    Keyword,
    /// `role`, `account.industry` where a predicate starts
    Field,
    /// `decision_maker` where a value is expected
    Value,
    /// `"head of"`, `'x'`; an unterminated one runs to the end of the text
    String,
    /// `-3.5`, `1_000`
    Number,
    /// `2026-01-31`, `2026-01-31T09:30:00Z`
    Date,
    /// `30d`, `12h`, `2w`, `3mo`, `1y`
    Duration,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`
    Operator,
    /// `(` `)` `[` `]` `,` `;` `.`
    Punct,
    /// `@hot`, a lone `@`, and the name in `segment hot`
    Segment,
    /// `# to the end of the line`
    Comment,
    /// `` `job title` ``, `` account.`job title` ``
    Backticked,
    /// what no rule reads: `!`, `$`, `30dx`, ``` `` ```, an unterminated backtick
    Error,
}

/// One token: its kind and its byte range `start..end` in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
    /// a string or backticked name whose closing quote is missing; it runs
    /// to the end of the text
    pub unterminated: bool,
}

/// Lexes the whole text; tokens are in order, non-overlapping, and every non-whitespace byte is inside exactly one token.
///
/// Whitespace is what the grammar skips: space, tab, `\r` and `\n`.
pub fn tokenize(src: &str) -> Vec<Token> {
    let mut context = Context::default();
    lex(src)
        .iter()
        .map(|lexeme| Token {
            kind: context.step(lexeme, src),
            start: lexeme.start,
            end: lexeme.end,
            unterminated: lexeme.unterminated(),
        })
        .collect()
}

/// What the cursor position expects next, for completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// start of a predicate: field names, `not`, `(`, `@`, `account`, `all`, `none`
    Field { prefix: String },
    /// after `account.`: account field names
    AccountField { prefix: String },
    /// after a field: operators/keywords valid after a field (=, !=, in, not in, between, is, has, contains, ...)
    ///
    /// `field` is written as in the query: `account.industry` for an account
    /// field, `account` after a bare `account` (which wants `has` or `count`).
    /// Also after `f not` (`in`, `between`) and `f is` (`missing`, `not`, …).
    Operator { field: String, prefix: String },
    /// a value for `field` (after `role =`, inside `role in [`, after `tags has`, `tags has any [`), with the partial word typed so far
    ///
    /// `field` is the bare name, `account` says it was `account.field`; after
    /// `account count (q) >=` and `expect s count >` the field is `count`.
    Value {
        field: String,
        account: bool,
        prefix: String,
    },
    /// after a complete predicate: `and`, `or`, `)`
    ///
    /// Also after `f between 1`, where only `and` fits.
    Connective { prefix: String },
    /// after `@` or `segment `
    ///
    /// Also after `expect` and `expect s within`/`disjoint`.
    SegmentName { prefix: String },
    /// inside a string, comment, or nothing sensible
    ///
    /// "Nothing sensible" includes places where only punctuation fits:
    /// `role in ` (wants `[`), `account has ` (wants `(`).
    Nothing,
}

/// Classifies the context at byte offset `cursor` (the end of the text before the cursor).
///
/// A word that touches the cursor is the prefix being typed and the context
/// is the one before it: `role i` is [`Expect::Operator`] with prefix `i`.
/// A cursor past the end, or inside a character, is moved back to the
/// nearest character boundary.
pub fn expect_at(src: &str, cursor: usize) -> Expect {
    let text = &src[..floor_char_boundary(src, cursor)];
    let lexemes = lex(text);
    let mut context = Context::default();
    let Some((last, before)) = lexemes.split_last() else {
        return context.expect(String::new());
    };
    for lexeme in before {
        context.step(lexeme, text);
    }
    if last.end < text.len() {
        context.step(last, text);
        return context.expect(String::new());
    }
    let typed = &text[last.start..last.end];
    match last.raw {
        Some(Raw::Word | Raw::Numeric(_)) => context.expect(typed.to_string()),
        Some(Raw::AccountField | Raw::AccountDot) => Expect::AccountField {
            prefix: typed["account.".len()..].to_string(),
        },
        Some(Raw::SegmentRef | Raw::At) => Expect::SegmentName {
            prefix: typed["@".len()..].to_string(),
        },
        Some(Raw::Comment | Raw::Str(false) | Raw::Backticked(Fence::Open)) => Expect::Nothing,
        // `role !`: the first half of `!=`
        None if typed == "!" && matches!(context.want, Want::Op(_)) => {
            context.expect(typed.to_string())
        }
        None => Expect::Nothing,
        Some(_) => {
            context.step(last, text);
            context.expect(String::new())
        }
    }
}

/// The raw lexemes logos reads; [`Context`] gives them their [`TokenKind`].
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n]+")]
enum Raw {
    #[regex(r"#[^\n]*")]
    Comment,
    /// `"head of"`, `'x'`; `false` when the closing quote is missing
    #[token("\"", |lex| close_string(lex, b'"'))]
    #[token("'", |lex| close_string(lex, b'\''))]
    Str(bool),
    #[token("`", close_backtick)]
    Backticked(Fence),
    /// `` account.`job title` ``: made by [`lex`] from `account.` and a
    /// backticked name, as the grammar allows no space between them
    AccountBackticked,
    /// `role`, `and`, `decision_maker`
    #[regex("[A-Za-z_][A-Za-z0-9_]*")]
    Word,
    /// `account.industry`
    #[regex(r"(?i:account)\.[A-Za-z_][A-Za-z0-9_]*")]
    AccountField,
    /// `account.` while the name is still to be typed
    #[regex(r"(?i:account)\.")]
    AccountDot,
    /// `42`, `-3.5`, `30d`, `2026-01-31`, …: read by [`numeric`]
    #[regex("-?[0-9]", numeric)]
    Numeric(Numeric),
    #[token("=")]
    #[token("!=")]
    #[token("<")]
    #[token("<=")]
    #[token(">")]
    #[token(">=")]
    Operator,
    #[token("(")]
    Open,
    #[token(")")]
    Close,
    #[token("[")]
    OpenList,
    #[token("]")]
    CloseList,
    #[token(",")]
    Comma,
    #[token(";")]
    Semicolon,
    #[token(".")]
    Dot,
    /// `@hot`
    #[regex("@[A-Za-z_][A-Za-z0-9_]*")]
    SegmentRef,
    /// `@` alone; the grammar allows `@ hot`
    #[token("@")]
    At,
}

/// How a backticked name ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fence {
    /// `` `job title` ``
    Closed,
    /// ``` `` ```: the grammar wants at least one character
    Empty,
    /// `` `job ``: no closing backtick, runs to the end of the text
    Open,
}

/// Moves past a string body whose opening `quote` was just read; `false`
/// when the text ends first. Any escaped character is skipped (the parser,
/// not the highlighter, reports a bad escape).
fn close_string(lex: &mut logos::Lexer<Raw>, quote: u8) -> bool {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 2,
            b if b == quote => {
                lex.bump(i + 1);
                return true;
            }
            _ => i += 1,
        }
    }
    // An escape may have stepped past the end, or into a character; the
    // string takes the rest of the text either way.
    lex.bump(rest.len());
    false
}

fn close_backtick(lex: &mut logos::Lexer<Raw>) -> Fence {
    match lex.remainder().find('`') {
        Some(0) => {
            lex.bump(1);
            Fence::Empty
        }
        Some(i) => {
            lex.bump(i + 1);
            Fence::Closed
        }
        None => {
            lex.bump(lex.remainder().len());
            Fence::Open
        }
    }
}

/// What a lexeme that starts with a digit (or `-` and a digit) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeric {
    Number,
    Duration,
    Date,
    /// `30dx`, `1st`, `-3d`, `1_`: digits running into letters, which no
    /// literal allows
    Malformed,
}

/// Reads a number, a duration, a date or a date-time as the grammar's
/// rules do, after logos has read its first digit.
///
/// By hand rather than by regular expressions: logos 0.15 misreports the
/// token it backs out to from an incomplete longer one (`1.` came out as
/// one number, `2026-01-31T09:3` began with a number `2026-01-31`).
fn numeric(lex: &mut logos::Lexer<Raw>) -> Numeric {
    let read = lex.slice().len();
    let text = &lex.source().as_bytes()[lex.span().start..];
    let digit = |at: usize| text.get(at).is_some_and(u8::is_ascii_digit);
    let is = |at: usize, set: &[u8]| text.get(at).is_some_and(|b| set.contains(b));
    // `[0-9](_?[0-9])*` from `at`, which holds a digit
    let digits = |mut at: usize| {
        at += 1;
        while digit(at) || is(at, b"_") && digit(at + 1) {
            at += if digit(at) { 1 } else { 2 };
        }
        at
    };
    let negative = is(0, b"-");
    let whole = digits(usize::from(negative));
    let date_end = if negative { None } else { date(text) };
    let (kind, mut end) = if let Some(end) = date_end {
        (Numeric::Date, end)
    } else if !negative && text.get(whole..whole + 2) == Some(b"mo") {
        (Numeric::Duration, whole + 2)
    } else if !negative && is(whole, b"hdwy") {
        (Numeric::Duration, whole + 1)
    } else if is(whole, b".") && digit(whole + 1) {
        (Numeric::Number, digits(whole + 1))
    } else {
        (Numeric::Number, whole)
    };
    // Like the grammar's `!ident_char`: `30dx` is neither `30d` nor `x`.
    let ident_char = |at: usize| {
        text.get(at)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    let kind = if ident_char(end) {
        Numeric::Malformed
    } else {
        kind
    };
    while ident_char(end) {
        end += 1;
    }
    lex.bump(end - read);
    kind
}

/// The end of the date or date-time at the start of `text`: `2026-01-31`,
/// then optionally `T09:30`, `:00`, `.5`, and `Z`, `+02:00` or `-0200`, as
/// in the grammar's `date` and `datetime` rules.
fn date(text: &[u8]) -> Option<usize> {
    let digits = |at: usize, n: usize| {
        text.get(at..at + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let is = |at: usize, set: &[u8]| text.get(at).is_some_and(|b| set.contains(b));
    // `2026-01-31`
    if !(digits(0, 4) && is(4, b"-") && digits(5, 2) && is(7, b"-") && digits(8, 2)) {
        return None;
    }
    // `T09:30`
    if !(is(10, b"Tt") && digits(11, 2) && is(13, b":") && digits(14, 2)) {
        return Some(10);
    }
    let mut end = 16;
    // `:00`, `:00.5`
    if is(end, b":") && digits(end + 1, 2) {
        end += 3;
        if is(end, b".") && digits(end + 1, 1) {
            end += 1;
            while digits(end, 1) {
                end += 1;
            }
        }
    }
    // `Z`, `+02:00`, `-0200`
    if is(end, b"Zz") {
        end += 1;
    } else if is(end, b"+-") && digits(end + 1, 2) {
        if digits(end + 3, 2) {
            end += 5;
        } else if is(end + 3, b":") && digits(end + 4, 2) {
            end += 6;
        }
    }
    Some(end)
}

/// A raw lexeme; `raw` is `None` for text logos cannot read.
#[derive(Debug, Clone, Copy)]
struct Lexeme {
    raw: Option<Raw>,
    start: usize,
    end: usize,
}

impl Lexeme {
    fn unterminated(&self) -> bool {
        matches!(
            self.raw,
            Some(Raw::Str(false) | Raw::Backticked(Fence::Open))
        )
    }
}

/// Cuts `src` into raw lexemes. Unreadable text becomes error lexemes that
/// cover whole characters; adjacent ones are merged.
fn lex(src: &str) -> Vec<Lexeme> {
    let mut lexemes: Vec<Lexeme> = Vec::new();
    let mut lexer = Raw::lexer(src);
    while let Some(result) = lexer.next() {
        let span = lexer.span();
        let mut lexeme = Lexeme {
            raw: result.ok(),
            start: span.start,
            end: span.end,
        };
        if lexeme.raw.is_none() {
            lexeme.start = floor_char_boundary(src, lexeme.start);
            lexeme.end = ceil_char_boundary(src, lexeme.end.max(lexeme.start + 1));
        }
        match (lexemes.last_mut(), lexeme.raw) {
            (Some(previous), None) if previous.raw.is_none() && previous.end >= lexeme.start => {
                previous.end = previous.end.max(lexeme.end);
            }
            (Some(previous), Some(Raw::Backticked(Fence::Closed)))
                if previous.raw == Some(Raw::AccountDot) && previous.end == lexeme.start =>
            {
                previous.raw = Some(Raw::AccountBackticked);
                previous.end = lexeme.end;
            }
            // Only an error reaches past logos' span (to a character's end),
            // and no lexeme starts inside a character; were one to, the
            // error takes it in, so no byte is lost.
            (Some(previous), _) if previous.end > lexeme.start => {
                previous.end = previous.end.max(lexeme.end);
            }
            _ => lexemes.push(lexeme),
        }
    }
    lexemes
}

fn floor_char_boundary(src: &str, i: usize) -> usize {
    let mut i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(src: &str, i: usize) -> usize {
    let mut i = i.min(src.len());
    while !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The keyword `word` spells, in lower case.
fn keyword(word: &str) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(word))
}

/// A field as written: `role` or `account.industry`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FieldName {
    name: String,
    account: bool,
}

impl FieldName {
    fn new(name: &str, account: bool) -> FieldName {
        FieldName {
            name: name.to_string(),
            account,
        }
    }

    /// `role`, `` `job title` ``, `account.industry`, `` account.`job title` ``
    fn parse(written: &str) -> FieldName {
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
        FieldName::new(name, account)
    }

    /// As written in a query, for [`Expect::Operator`].
    fn written(&self) -> String {
        if self.account {
            format!("account.{}", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// What an open parenthesis belongs to, so `)` knows what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paren {
    /// `(a or b)`
    Group,
    /// `account has (q)`
    AccountHas,
    /// `account count (q) >= 2`: an operator and a number follow
    AccountCount,
}

/// What a value completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// the predicate: `role = x`
    Done,
    /// the first bound of `between a and b`
    BetweenAnd,
}

/// What the grammar wants next, roughly.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    /// a predicate: a field, `not`, `(`, `@`, `account`, `all`, `none`; also
    /// `segment`/`expect` at the start of a file item
    Predicate,
    /// after `account`: `has`, `count` (or an operator: `account` is a legal field)
    Account,
    /// after `account has`/`account count`: `(`
    AccountParen(Paren),
    /// after a field: an operator or a keyword such as `in`, `is`, `has`
    Op(FieldName),
    /// after `f not`: `in`, `between`
    OpNot(FieldName),
    /// after `f is`: `not`, `missing`, `present`, `null`, `duplicate`
    Is(FieldName),
    /// after `f has`: `any`/`all`/`none` or a value
    Has(FieldName),
    /// after `f in`, `f has any`: `[`
    ListOpen(FieldName),
    /// one value, after an operator, `contains`, `between`, …
    Value(FieldName, Then),
    /// after `[` or `,`: a value (or `]`)
    InList(FieldName),
    /// after a list element: `,` or `]`
    ListNext(FieldName),
    /// after `f between a`: `and`
    BetweenAnd(FieldName),
    /// after `account count (q)`: an operator
    CountOp,
    /// after `@`, `segment`, `expect s within`: a segment name
    SegmentName,
    /// after `segment s`: `=` (a definition) or a connective (a reference)
    SegmentDefined,
    /// after `expect`: a segment name
    ExpectName,
    /// after `expect s`: `count`, `within`, `disjoint`
    ExpectBody,
    /// after `expect s count`: an operator or `between`
    ExpectCount,
    /// after a complete predicate: `and`, `or`, `)`, `;`
    Connective,
}

impl Want {
    /// The field a value or an operator here belongs to.
    fn field(&self) -> Option<&FieldName> {
        match self {
            Want::Op(f)
            | Want::OpNot(f)
            | Want::Is(f)
            | Want::Has(f)
            | Want::ListOpen(f)
            | Want::Value(f, _)
            | Want::InList(f)
            | Want::ListNext(f)
            | Want::BetweenAnd(f) => Some(f),
            _ => None,
        }
    }

    /// What follows a value read here, or `None` where no value fits.
    fn after_value(&self) -> Option<Want> {
        match self {
            Want::Value(_, Then::Done) | Want::Has(_) => Some(Want::Connective),
            Want::Value(f, Then::BetweenAnd) => Some(Want::BetweenAnd(f.clone())),
            Want::InList(f) | Want::ListNext(f) => Some(Want::ListNext(f.clone())),
            _ => None,
        }
    }
}

/// The state of the walk over the lexemes.
#[derive(Debug)]
struct Context {
    want: Want,
    parens: Vec<Paren>,
}

impl Default for Context {
    fn default() -> Context {
        Context {
            want: Want::Predicate,
            parens: Vec::new(),
        }
    }
}

impl Context {
    /// Classifies one lexeme of `src` and moves on.
    fn step(&mut self, lexeme: &Lexeme, src: &str) -> TokenKind {
        let text = &src[lexeme.start..lexeme.end];
        let want = std::mem::replace(&mut self.want, Want::Predicate);
        let (kind, next) = match lexeme.raw {
            None => (TokenKind::Error, want),
            Some(Raw::Comment) => (TokenKind::Comment, want),
            Some(Raw::Backticked(Fence::Empty | Fence::Open)) => (TokenKind::Error, want),
            Some(Raw::Word) => self.word(want, text),
            Some(Raw::AccountField | Raw::AccountDot) => {
                (TokenKind::Field, Want::Op(FieldName::parse(text)))
            }
            Some(Raw::Backticked(Fence::Closed) | Raw::AccountBackticked) => {
                (TokenKind::Backticked, Want::Op(FieldName::parse(text)))
            }
            Some(Raw::Str(_)) => (TokenKind::String, want.after_value().unwrap_or(want)),
            Some(Raw::Numeric(numeric)) => {
                let kind = match numeric {
                    Numeric::Number => TokenKind::Number,
                    Numeric::Duration => TokenKind::Duration,
                    Numeric::Date => TokenKind::Date,
                    Numeric::Malformed => TokenKind::Error,
                };
                (kind, want.after_value().unwrap_or(want))
            }
            Some(Raw::Operator) => (TokenKind::Operator, operator(want, text)),
            Some(Raw::SegmentRef) => (TokenKind::Segment, Want::Connective),
            Some(Raw::At) => (TokenKind::Segment, Want::SegmentName),
            Some(Raw::Open) => {
                let paren = match want {
                    Want::AccountParen(paren) => paren,
                    _ => Paren::Group,
                };
                self.parens.push(paren);
                (TokenKind::Punct, Want::Predicate)
            }
            Some(Raw::Close) => {
                let next = match self.parens.pop() {
                    Some(Paren::AccountCount) => Want::CountOp,
                    _ => Want::Connective,
                };
                (TokenKind::Punct, next)
            }
            Some(Raw::OpenList) => {
                let field = want.field().cloned().unwrap_or_default();
                (TokenKind::Punct, Want::InList(field))
            }
            Some(Raw::CloseList) => (TokenKind::Punct, Want::Connective),
            Some(Raw::Comma) => {
                let next = match want {
                    Want::InList(f) | Want::ListNext(f) => Want::InList(f),
                    other => other,
                };
                (TokenKind::Punct, next)
            }
            Some(Raw::Semicolon) => {
                self.parens.clear();
                (TokenKind::Punct, Want::Predicate)
            }
            Some(Raw::Dot) => (TokenKind::Punct, want),
        };
        self.want = next;
        kind
    }

    /// Classifies a word: a keyword, a field, a value or a segment name.
    fn word(&mut self, want: Want, text: &str) -> (TokenKind, Want) {
        use TokenKind::{Field, Keyword, Segment, Value};
        let kw = keyword(text);
        match (want, kw) {
            (Want::BetweenAnd(f), Some("and")) => (Keyword, Want::Value(f, Then::Done)),
            (Want::Op(f), Some("not")) => (Keyword, Want::OpNot(f)),
            (Want::Is(f), Some("not")) => (Keyword, Want::Is(f)),
            // `and`, `or`, `not` are reserved: they never name a value
            (_, Some("and" | "or" | "not")) => (Keyword, Want::Predicate),
            (Want::SegmentName, _) => (Segment, Want::SegmentDefined),
            (Want::ExpectName, _) => (Segment, Want::ExpectBody),
            (Want::Predicate, Some(k)) => {
                let next = match k {
                    "all" | "none" => Want::Connective,
                    "account" => Want::Account,
                    "segment" => Want::SegmentName,
                    "expect" => Want::ExpectName,
                    _ => Want::Predicate,
                };
                (Keyword, next)
            }
            (Want::Account, Some("has")) => (Keyword, Want::AccountParen(Paren::AccountHas)),
            (Want::Account, Some("count")) => (Keyword, Want::AccountParen(Paren::AccountCount)),
            // `account = x`: the grammar reads a bare `account` as a field
            (Want::Account, _) => self.word(Want::Op(FieldName::new("account", false)), text),
            (Want::Op(f), Some(k)) => {
                let next = match k {
                    "in" => Want::ListOpen(f),
                    "between" => Want::Value(f, Then::BetweenAnd),
                    "is" => Want::Is(f),
                    "has" => Want::Has(f),
                    "contains" | "starts_with" | "ends_with" | "matches" | "within" | "before"
                    | "after" => Want::Value(f, Then::Done),
                    _ => Want::Op(f),
                };
                (Keyword, next)
            }
            (Want::OpNot(f), Some("in")) => (Keyword, Want::ListOpen(f)),
            (Want::OpNot(f), Some("between")) => (Keyword, Want::Value(f, Then::BetweenAnd)),
            (Want::Is(_), Some("missing" | "present" | "null" | "duplicate")) => {
                (Keyword, Want::Connective)
            }
            (Want::Has(f), Some("any" | "all" | "none")) => (Keyword, Want::ListOpen(f)),
            (Want::ExpectBody, Some("count")) => (Keyword, Want::ExpectCount),
            (Want::ExpectBody, Some("within" | "disjoint")) => (Keyword, Want::SegmentName),
            (Want::ExpectCount, Some("between")) => (
                Keyword,
                Want::Value(FieldName::new("count", false), Then::BetweenAnd),
            ),
            (want, kw) => match want.after_value() {
                // `role = today`, `tags has any [trial`
                Some(next) => (if kw.is_some() { Keyword } else { Value }, next),
                // a keyword out of place keeps the context
                None if kw.is_some() => (Keyword, want),
                // a word where no value fits starts a predicate
                None => (Field, Want::Op(FieldName::new(text, false))),
            },
        }
    }

    /// What [`expect_at`] reports here, with the word typed so far.
    fn expect(&self, prefix: String) -> Expect {
        match &self.want {
            Want::Predicate => Expect::Field { prefix },
            Want::Account => Expect::Operator {
                field: "account".to_string(),
                prefix,
            },
            Want::Op(f) | Want::OpNot(f) | Want::Is(f) => Expect::Operator {
                field: f.written(),
                prefix,
            },
            Want::Has(f) | Want::Value(f, _) | Want::InList(f) => Expect::Value {
                field: f.name.clone(),
                account: f.account,
                prefix,
            },
            Want::BetweenAnd(_) | Want::SegmentDefined | Want::Connective => {
                Expect::Connective { prefix }
            }
            Want::SegmentName | Want::ExpectName => Expect::SegmentName { prefix },
            Want::AccountParen(_)
            | Want::ListOpen(_)
            | Want::ListNext(_)
            | Want::CountOp
            | Want::ExpectBody
            | Want::ExpectCount => Expect::Nothing,
        }
    }
}

/// What follows the operator `op` read where `want` was expected.
fn operator(want: Want, op: &str) -> Want {
    match want {
        Want::SegmentDefined if op == "=" => Want::Predicate,
        Want::CountOp | Want::ExpectCount => {
            Want::Value(FieldName::new("count", false), Then::Done)
        }
        Want::Account => Want::Value(FieldName::new("account", false), Then::Done),
        other => Want::Value(other.field().cloned().unwrap_or_default(), Then::Done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    // `String` stays the standard type; the token kind is `Str` here.
    use TokenKind::String as Str;
    use TokenKind::{
        Backticked, Comment, Date, Duration, Error, Field, Keyword, Number, Operator, Punct,
        Segment, Value,
    };

    /// The kind and text of every token.
    fn lexed(src: &str) -> Vec<(TokenKind, &str)> {
        tokenize(src)
            .iter()
            .map(|t| (t.kind, &src[t.start..t.end]))
            .collect()
    }

    #[track_caller]
    fn lexes_to(src: &str, expected: &[(TokenKind, &str)]) {
        assert_eq!(lexed(src), expected, "tokenize({src:?})");
        assert_covers(src, &tokenize(src));
    }

    /// Tokens are in order, non-empty, on character boundaries, and only
    /// whitespace lies between them.
    #[track_caller]
    fn assert_covers(src: &str, tokens: &[Token]) {
        let mut at = 0;
        for t in tokens {
            assert!(
                at <= t.start && t.start < t.end && t.end <= src.len(),
                "{t:?} in {src:?}"
            );
            assert!(
                src.is_char_boundary(t.start) && src.is_char_boundary(t.end),
                "{t:?}"
            );
            let gap = &src[at..t.start];
            assert!(
                gap.bytes().all(|b| b" \t\r\n".contains(&b)),
                "uncovered {gap:?} in {src:?}"
            );
            at = t.end;
        }
        let rest = &src[at..];
        assert!(
            rest.bytes().all(|b| b" \t\r\n".contains(&b)),
            "uncovered {rest:?} in {src:?}"
        );
    }

    #[track_caller]
    fn expects(src: &str, expected: Expect) {
        assert_eq!(expect_at(src, src.len()), expected, "expect_at({src:?})");
    }

    fn field(prefix: &str) -> Expect {
        Expect::Field {
            prefix: prefix.into(),
        }
    }

    fn op(field: &str, prefix: &str) -> Expect {
        Expect::Operator {
            field: field.into(),
            prefix: prefix.into(),
        }
    }

    fn value(field: &str, prefix: &str) -> Expect {
        Expect::Value {
            field: field.into(),
            account: false,
            prefix: prefix.into(),
        }
    }

    fn connective(prefix: &str) -> Expect {
        Expect::Connective {
            prefix: prefix.into(),
        }
    }

    #[test]
    fn lex_predicates() {
        lexes_to(
            "role in [decision_maker, champion] and replies_30d > 2",
            &[
                (Field, "role"),
                (Keyword, "in"),
                (Punct, "["),
                (Value, "decision_maker"),
                (Punct, ","),
                (Value, "champion"),
                (Punct, "]"),
                (Keyword, "and"),
                (Field, "replies_30d"),
                (Operator, ">"),
                (Number, "2"),
            ],
        );
        lexes_to(
            "not (stage = opportunity or x != -3.5)",
            &[
                (Keyword, "not"),
                (Punct, "("),
                (Field, "stage"),
                (Operator, "="),
                (Value, "opportunity"),
                (Keyword, "or"),
                (Field, "x"),
                (Operator, "!="),
                (Number, "-3.5"),
                (Punct, ")"),
            ],
        );
        lexes_to(
            "size between 1_000 and 5000",
            &[
                (Field, "size"),
                (Keyword, "between"),
                (Number, "1_000"),
                (Keyword, "and"),
                (Number, "5000"),
            ],
        );
        lexes_to(
            "email IS NOT Null and role not in [a,]",
            &[
                (Field, "email"),
                (Keyword, "IS"),
                (Keyword, "NOT"),
                (Keyword, "Null"),
                (Keyword, "and"),
                (Field, "role"),
                (Keyword, "not"),
                (Keyword, "in"),
                (Punct, "["),
                (Value, "a"),
                (Punct, ","),
                (Punct, "]"),
            ],
        );
    }

    #[test]
    fn lex_keyword_in_value_position() {
        lexes_to(
            "seen before today and opted_in = TRUE",
            &[
                (Field, "seen"),
                (Keyword, "before"),
                (Keyword, "today"),
                (Keyword, "and"),
                (Field, "opted_in"),
                (Operator, "="),
                (Keyword, "TRUE"),
            ],
        );
        lexes_to(
            "tags has any [webinar, trial]",
            &[
                (Field, "tags"),
                (Keyword, "has"),
                (Keyword, "any"),
                (Punct, "["),
                (Value, "webinar"),
                (Punct, ","),
                (Value, "trial"),
                (Punct, "]"),
            ],
        );
        lexes_to(
            "tags has trial",
            &[(Field, "tags"), (Keyword, "has"), (Value, "trial")],
        );
        lexes_to(
            "title contains manager",
            &[(Field, "title"), (Keyword, "contains"), (Value, "manager")],
        );
    }

    #[test]
    fn lex_dates_and_durations() {
        lexes_to(
            "last_activity within 30d and seen > 3mo ago",
            &[
                (Field, "last_activity"),
                (Keyword, "within"),
                (Duration, "30d"),
                (Keyword, "and"),
                (Field, "seen"),
                (Operator, ">"),
                (Duration, "3mo"),
                (Keyword, "ago"),
            ],
        );
        lexes_to(
            "a after 2026-01-31 or b < 2026-01-31T09:30:00Z or c = 1y",
            &[
                (Field, "a"),
                (Keyword, "after"),
                (Date, "2026-01-31"),
                (Keyword, "or"),
                (Field, "b"),
                (Operator, "<"),
                (Date, "2026-01-31T09:30:00Z"),
                (Keyword, "or"),
                (Field, "c"),
                (Operator, "="),
                (Duration, "1y"),
            ],
        );
        lexes_to(
            "d = 2026-01-31t09:30:00.5+02:00",
            &[
                (Field, "d"),
                (Operator, "="),
                (Date, "2026-01-31t09:30:00.5+02:00"),
            ],
        );
        lexes_to(
            "d = 30dx",
            &[(Field, "d"), (Operator, "="), (Error, "30dx")],
        );
    }

    #[test]
    fn lex_account() {
        lexes_to(
            "account.industry = saas and account has (x)",
            &[
                (Field, "account.industry"),
                (Operator, "="),
                (Value, "saas"),
                (Keyword, "and"),
                (Keyword, "account"),
                (Keyword, "has"),
                (Punct, "("),
                (Field, "x"),
                (Punct, ")"),
            ],
        );
        lexes_to(
            "ACCOUNT count (r > 0) >= 2",
            &[
                (Keyword, "ACCOUNT"),
                (Keyword, "count"),
                (Punct, "("),
                (Field, "r"),
                (Operator, ">"),
                (Number, "0"),
                (Punct, ")"),
                (Operator, ">="),
                (Number, "2"),
            ],
        );
        lexes_to(
            "account.tags has x",
            &[(Field, "account.tags"), (Keyword, "has"), (Value, "x")],
        );
        lexes_to(
            "account.`job title` = x",
            &[
                (Backticked, "account.`job title`"),
                (Operator, "="),
                (Value, "x"),
            ],
        );
        lexes_to("account.", &[(Field, "account.")]);
    }

    #[test]
    fn lex_segments_and_files() {
        lexes_to(
            "@hot or segment cold",
            &[
                (Segment, "@hot"),
                (Keyword, "or"),
                (Keyword, "segment"),
                (Segment, "cold"),
            ],
        );
        lexes_to(
            "# defs\nsegment hot = @a and b; expect hot count > 0;",
            &[
                (Comment, "# defs"),
                (Keyword, "segment"),
                (Segment, "hot"),
                (Operator, "="),
                (Segment, "@a"),
                (Keyword, "and"),
                (Field, "b"),
                (Punct, ";"),
                (Keyword, "expect"),
                (Segment, "hot"),
                (Keyword, "count"),
                (Operator, ">"),
                (Number, "0"),
                (Punct, ";"),
            ],
        );
        lexes_to(
            "expect hot disjoint churned;",
            &[
                (Keyword, "expect"),
                (Segment, "hot"),
                (Keyword, "disjoint"),
                (Segment, "churned"),
                (Punct, ";"),
            ],
        );
        lexes_to("@", &[(Segment, "@")]);
        lexes_to("@ hot", &[(Segment, "@"), (Segment, "hot")]);
    }

    #[test]
    fn lex_strings_and_backticks() {
        lexes_to(
            r#"t = "a \"b\" \\""#,
            &[(Field, "t"), (Operator, "="), (Str, r#""a \"b\" \\""#)],
        );
        lexes_to(
            r"t = 'it\'s'",
            &[(Field, "t"), (Operator, "="), (Str, r"'it\'s'")],
        );
        lexes_to(
            "`job title` = x",
            &[(Backticked, "`job title`"), (Operator, "="), (Value, "x")],
        );
        lexes_to("`` = x", &[(Error, "``"), (Operator, "="), (Value, "x")]);
    }

    #[test]
    fn lex_partial_and_malformed() {
        lexes_to(
            "role in [dec",
            &[
                (Field, "role"),
                (Keyword, "in"),
                (Punct, "["),
                (Value, "dec"),
            ],
        );
        lexes_to(
            r#"title contains "head"#,
            &[(Field, "title"), (Keyword, "contains"), (Str, "\"head")],
        );
        assert!(tokenize(r#"title contains "head"#)[2].unterminated);
        assert!(!tokenize(r#"t = "x""#)[2].unterminated);
        lexes_to("a != ", &[(Field, "a"), (Operator, "!=")]);
        lexes_to("x $ y", &[(Field, "x"), (Error, "$"), (Field, "y")]);
        lexes_to("`job", &[(Error, "`job")]);
        assert!(tokenize("`job")[0].unterminated);
        lexes_to("a ! b", &[(Field, "a"), (Error, "!"), (Field, "b")]);
        lexes_to("a = 'x\\", &[(Field, "a"), (Operator, "="), (Str, "'x\\")]);
        lexes_to(
            "2026-01-3",
            &[(Number, "2026"), (Number, "-01"), (Number, "-3")],
        );
        lexes_to(
            "d < 2026-01-31T09:3",
            &[
                (Field, "d"),
                (Operator, "<"),
                (Error, "2026-01-31T09"),
                (Error, ":"),
                (Number, "3"),
            ],
        );
        lexes_to(
            "n = 1.",
            &[(Field, "n"), (Operator, "="), (Number, "1"), (Punct, ".")],
        );
        lexes_to("", &[]);
        lexes_to("  \n\t", &[]);
    }

    #[test]
    fn lex_unicode() {
        lexes_to("🎉", &[(Error, "🎉")]);
        lexes_to(
            "role = 🎉🎉 and é",
            &[
                (Field, "role"),
                (Operator, "="),
                (Error, "🎉🎉"),
                (Keyword, "and"),
                (Error, "é"),
            ],
        );
        lexes_to(
            "t = \"ünïcode 🎉\"",
            &[(Field, "t"), (Operator, "="), (Str, "\"ünïcode 🎉\"")],
        );
        lexes_to(
            "t = \"\\é",
            &[(Field, "t"), (Operator, "="), (Str, "\"\\é")],
        );
        lexes_to("a\u{a0}b", &[(Field, "a"), (Error, "\u{a0}"), (Field, "b")]);
    }

    #[test]
    fn expect_predicate_start() {
        expects("", field(""));
        expects("rol", field("rol"));
        expects("role = x and ", field(""));
        expects("role = x or (", field(""));
        expects("not ", field(""));
        expects("not r", field("r"));
        expects("role = x; ", field(""));
    }

    #[test]
    fn expect_operator() {
        expects("role ", op("role", ""));
        expects("role i", op("role", "i"));
        expects("role !", op("role", "!"));
        expects("role not ", op("role", ""));
        expects("email is ", op("email", ""));
        expects("email is not ", op("email", ""));
        expects("account.industry ", op("account.industry", ""));
        expects("`job title` ", op("job title", ""));
        expects("account ", op("account", ""));
    }

    #[test]
    fn expect_value() {
        expects("role = ", value("role", ""));
        expects("role =", value("role", ""));
        expects("role = dec", value("role", "dec"));
        expects("role in [", value("role", ""));
        expects("role in [dm, ch", value("role", "ch"));
        expects("role not in [dm,", value("role", ""));
        expects("tags has ", value("tags", ""));
        expects("tags has any [", value("tags", ""));
        expects("title contains ", value("title", ""));
        expects("size between ", value("size", ""));
        expects("size between 1 and ", value("size", ""));
        expects("seen > 3", value("seen", "3"));
        expects(
            "account.industry = s",
            Expect::Value {
                field: "industry".into(),
                account: true,
                prefix: "s".into(),
            },
        );
        expects("account count (a = b) >= ", value("count", ""));
    }

    #[test]
    fn expect_connective() {
        expects("role = x ", connective(""));
        expects("role = x a", connective("a"));
        expects("(role = x) ", connective(""));
        expects("size between 1 ", connective(""));
        expects("@hot ", connective(""));
        expects("email is present ", connective(""));
        expects("seen > 3mo ago ", connective(""));
        expects("role = x # note\n", connective(""));
        expects(r#"title contains "he" "#, connective(""));
    }

    #[test]
    fn expect_names() {
        expects(
            "account.ind",
            Expect::AccountField {
                prefix: "ind".into(),
            },
        );
        expects("account.", Expect::AccountField { prefix: "".into() });
        expects(
            "@ho",
            Expect::SegmentName {
                prefix: "ho".into(),
            },
        );
        expects("@", Expect::SegmentName { prefix: "".into() });
        expects("segment ", Expect::SegmentName { prefix: "".into() });
        expects(
            "x = 1 and segment h",
            Expect::SegmentName { prefix: "h".into() },
        );
        expects(
            "expect hot within ",
            Expect::SegmentName { prefix: "".into() },
        );
    }

    #[test]
    fn expect_nothing() {
        expects(r#"title contains "he"#, Expect::Nothing);
        expects("role = x # a comm", Expect::Nothing);
        expects("`job ti", Expect::Nothing);
        expects("role in ", Expect::Nothing);
        expects("account has ", Expect::Nothing);
        expects("x $", Expect::Nothing);
    }

    #[test]
    fn expect_cursor_inside_text() {
        let src = "role = x and stage = y";
        assert_eq!(expect_at(src, 3), field("rol"));
        assert_eq!(expect_at(src, 5), op("role", ""));
        assert_eq!(expect_at(src, 100), value("stage", "y"));
        assert_eq!(expect_at("é", 1), field(""));
    }

    /// Text that looks like queries, so the walk reaches deep states.
    fn query_like() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "role",
            "account",
            "account.",
            ".x",
            "tags",
            "and",
            "or",
            "not",
            "in",
            "has",
            "any",
            "between",
            "is",
            "null",
            "count",
            "segment",
            "expect",
            "within",
            "today",
            "ago",
            "=",
            "!=",
            "!",
            ">=",
            "<",
            "(",
            ")",
            "[",
            "]",
            ",",
            ";",
            "@",
            "@hot",
            "\"a b",
            "\"",
            "'",
            "\\",
            "`",
            "`x`",
            "#",
            "\n",
            " ",
            "30d",
            "3mo",
            "-1.5",
            "1_0",
            "2026-01-31",
            "T09:30",
            "Z",
            "🎉",
            "é",
            "$",
            "\t",
        ]);
        prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    fn check_any(src: &str, cursor: prop::sample::Index) {
        let tokens = tokenize(src);
        assert_covers(src, &tokens);
        let boundaries: Vec<usize> = src
            .char_indices()
            .map(|(i, _)| i)
            .chain([src.len()])
            .collect();
        let _ = expect_at(src, boundaries[cursor.index(boundaries.len())]);
    }

    proptest! {
        #[test]
        fn tokenize_and_expect_never_panic(src in any::<String>(), cursor in any::<prop::sample::Index>()) {
            check_any(&src, cursor);
        }

        #[test]
        fn tokenize_and_expect_never_panic_on_query_like_text(
            src in query_like(),
            cursor in any::<prop::sample::Index>(),
        ) {
            check_any(&src, cursor);
        }

        #[test]
        fn expect_at_any_byte_offset(src in query_like(), cursor in 0usize..200) {
            let _ = expect_at(&src, cursor);
        }
    }
}
