//! Round-trip properties of the parser and the AST's `Display`:
//!
//! - every AST printed with `Display` parses back to an equal AST (spans
//!   aside), and printing is a fixed point;
//! - query files round-trip through `parse_file` the same way;
//! - `parse_query`/`parse_file` never panic, on arbitrary strings and on
//!   strings built from the grammar's own tokens; whatever they accept
//!   round-trips too.
//!
//! Run: `cargo test --test roundtrip`. `PROPTEST_CASES=n` overrides the
//! case counts.

use proptest::collection::vec;
use proptest::prelude::*;
use segq::syntax::ast::*;
use segq::syntax::{parse_file, parse_query};

fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn sp() -> Span {
    Span::default()
}

fn val(kind: ValueKind) -> Value {
    Value { kind, span: sp() }
}

fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

// ------------------------------------------------------------- strategies

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,8}"
}

/// Words the parser reads as something other than a bare word.
fn reads_as_other_value(w: &str) -> bool {
    ["and", "or", "not", "true", "false", "today"].contains(&w.to_ascii_lowercase().as_str())
}

/// A bare-word value, sometimes a keyword (`in`, `all`, `any`: still words
/// in value position).
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        ident(),
        proptest::sample::select(KEYWORDS.to_vec()).prop_map(str::to_string),
    ]
    .prop_filter("reads as a word", |w| {
        is_ident(w) && !reads_as_other_value(w)
    })
}

/// Any text, including quotes, backslashes, newlines, tabs and non-ASCII.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    let interesting = proptest::sample::select(vec![
        '"', '\'', '\\', '\n', '\t', '\r', 'é', '₂', '😀', ' ', '#', '`', 'n',
    ]);
    vec(prop_oneof![3 => any::<char>(), 2 => interesting], 0..max).prop_map(String::from_iter)
}

fn number_text() -> impl Strategy<Value = String> {
    "-?[0-9]{1,6}(\\.[0-9]{1,4})?"
}

fn unit() -> impl Strategy<Value = DurationUnit> {
    proptest::sample::select(vec![
        DurationUnit::Hours,
        DurationUnit::Days,
        DurationUnit::Weeks,
        DurationUnit::Months,
        DurationUnit::Years,
    ])
}

fn duration() -> impl Strategy<Value = Value> {
    ("[0-9]{1,5}", unit()).prop_map(|(amount, unit)| val(ValueKind::Duration { amount, unit }))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => word().prop_map(|w| val(ValueKind::Word(w))),
        3 => any_text(12).prop_map(|s| val(ValueKind::Str(s))),
        2 => number_text().prop_map(|n| val(ValueKind::Number(n))),
        1 => any::<bool>().prop_map(|b| val(ValueKind::Bool(b))),
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(|d| val(ValueKind::Date(d))),
        1 => "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
            .prop_map(|d| val(ValueKind::DateTime(d))),
        1 => duration(),
        1 => ("[0-9]{1,5}", unit()).prop_map(|(amount, unit)| val(ValueKind::Ago { amount, unit })),
        1 => Just(val(ValueKind::Today)),
    ]
}

fn field() -> impl Strategy<Value = FieldRef> {
    let name = prop_oneof![
        4 => ident(),
        1 => proptest::sample::select(KEYWORDS.to_vec()).prop_map(str::to_string),
        // backticked names: anything but a backtick
        1 => any_text(10).prop_map(|s| s.replace('`', "")).prop_filter("non-empty", |s| !s.is_empty()),
    ];
    (any::<bool>(), name).prop_map(|(account, name)| FieldRef {
        account,
        name,
        span: sp(),
    })
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    proptest::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ])
}

fn pred_op() -> impl Strategy<Value = PredOp> {
    let text_op = proptest::sample::select(vec![
        TextOp::Contains,
        TextOp::StartsWith,
        TextOp::EndsWith,
        TextOp::Matches,
    ]);
    let quant = proptest::sample::select(vec![HasQuant::Any, HasQuant::All, HasQuant::None]);
    prop_oneof![
        3 => (cmp_op(), value()).prop_map(|(op, value)| PredOp::Compare { op, value }),
        2 => (any::<bool>(), vec(value(), 1..4)).prop_map(|(negated, values)| PredOp::In { negated, values }),
        2 => (any::<bool>(), value(), value()).prop_map(|(negated, low, high)| PredOp::Between { negated, low, high }),
        1 => Just(PredOp::IsMissing),
        1 => Just(PredOp::IsPresent),
        1 => Just(PredOp::IsDuplicate),
        2 => (text_op, value()).prop_map(|(op, value)| PredOp::Text { op, value }),
        1 => value().prop_map(|v| PredOp::Has { quant: HasQuant::One, values: vec![v] }),
        2 => (quant, vec(value(), 1..4)).prop_map(|(quant, values)| PredOp::Has { quant, values }),
        1 => duration().prop_map(|value| PredOp::Within { value }),
        1 => value().prop_map(|value| PredOp::Before { value }),
        1 => value().prop_map(|value| PredOp::After { value }),
        1 => Just(PredOp::Bare),
    ]
}

fn query() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        1 => Just(expr(ExprKind::All)),
        1 => Just(expr(ExprKind::None)),
        1 => ident().prop_map(|name| expr(ExprKind::Segment(Ident { name, span: sp() }))),
        8 => (field(), pred_op()).prop_map(|(field, op)| expr(ExprKind::Pred(Predicate { field, op, span: sp() }))),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            3 => vec(inner.clone(), 2..5).prop_map(|c| expr(ExprKind::And(c))),
            3 => vec(inner.clone(), 2..5).prop_map(|c| expr(ExprKind::Or(c))),
            2 => inner.clone().prop_map(|q| expr(ExprKind::Not(Box::new(q)))),
            1 => inner.clone().prop_map(|q| expr(ExprKind::AccountHas(Box::new(q)))),
            1 => (inner, cmp_op(), number_text()).prop_map(|(q, op, n)| expr(ExprKind::AccountCount {
                query: Box::new(q),
                op,
                n: val(ValueKind::Number(n)),
            })),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    let name = || ident().prop_map(|name| Ident { name, span: sp() });
    let number = || number_text().prop_map(|n| val(ValueKind::Number(n)));
    prop_oneof![
        3 => (name(), query()).prop_map(|(name, query)| Item::Segment(SegmentDef { name, query, span: sp() })),
        1 => (name(), cmp_op(), number()).prop_map(|(segment, op, n)| Item::Expect(Expectation {
            segment,
            kind: ExpectKind::Count { op, n },
            span: sp(),
        })),
        1 => (name(), number(), number()).prop_map(|(segment, low, high)| Item::Expect(Expectation {
            segment,
            kind: ExpectKind::CountBetween { low, high },
            span: sp(),
        })),
        1 => (name(), name()).prop_map(|(segment, other)| Item::Expect(Expectation {
            segment,
            kind: ExpectKind::Within(other),
            span: sp(),
        })),
        1 => (name(), name()).prop_map(|(segment, other)| Item::Expect(Expectation {
            segment,
            kind: ExpectKind::Disjoint(other),
            span: sp(),
        })),
    ]
}

/// Tokens of the grammar, valid and not, to build near-queries from.
const FRAGMENTS: &[&str] = &[
    "role",
    "replies_30d",
    "account.",
    "account.tier",
    "account",
    "`job title`",
    "`",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "in",
    "not",
    "NOT",
    "and",
    "AND",
    "or",
    "between",
    "is",
    "missing",
    "present",
    "null",
    "duplicate",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "has",
    "any",
    "all",
    "none",
    "within",
    "before",
    "after",
    "ago",
    "today",
    "count",
    "segment",
    "@hot",
    "@",
    "(",
    ")",
    "[",
    "]",
    ",",
    "\"x\\\"y\"",
    "'q\\n'",
    "\"",
    "'",
    "\\",
    "30d",
    "2mo",
    "12h",
    "1_000",
    "-3.5",
    "-",
    ".",
    "2026-01-31",
    "2026-02-30",
    "2026-01-31T09:30:00Z",
    "2026-01-31t09:30+0200",
    "true",
    "FALSE",
    "# c\n",
    "\n",
    "é",
    "x",
    ";",
    "expect",
    "disjoint",
    "0",
    "99999999999999999999",
];

fn fragments() -> impl Strategy<Value = String> {
    vec(
        (
            proptest::sample::select(FRAGMENTS.to_vec()),
            proptest::sample::select(vec![" ", "", "  ", "\n"]),
        ),
        0..24,
    )
    .prop_map(|parts| parts.into_iter().flat_map(|(t, sep)| [t, sep]).collect())
}

// ------------------------------------------------------------- properties

/// `text` parsed; its printed form parses to the same tree and prints the same.
fn assert_query_round_trips(text: &str, parsed: &Expr) -> Result<(), TestCaseError> {
    let printed = parsed.to_string();
    let again = parse_query(&printed).map_err(|e| {
        TestCaseError::fail(format!(
            "printed form of {text:?} does not parse: {printed:?}\n{e:?}"
        ))
    })?;
    prop_assert_eq!(&again, parsed, "printed: {:?} (from {:?})", printed, text);
    prop_assert_eq!(again.to_string(), printed);
    Ok(())
}

fn assert_file_round_trips(text: &str, parsed: &File) -> Result<(), TestCaseError> {
    let printed = parsed.to_string();
    let again = parse_file(&printed).map_err(|e| {
        TestCaseError::fail(format!(
            "printed form of {text:?} does not parse: {printed:?}\n{e:?}"
        ))
    })?;
    prop_assert_eq!(&again, parsed, "printed: {:?}", printed);
    prop_assert_eq!(again.to_string(), printed);
    Ok(())
}

proptest! {
    #![proptest_config(cases(3000))]

    /// Display prints every tree as text that parses back to it.
    #[test]
    fn display_parses_back_to_the_same_ast(e in query()) {
        let text = e.to_string();
        let parsed = parse_query(&text).map_err(|d| TestCaseError::fail(format!("{text:?} does not parse: {d:?}")))?;
        prop_assert_eq!(&parsed, &e, "text: {:?}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }
}

proptest! {
    #![proptest_config(cases(800))]

    /// Query files: `segment ...;` and `expect ...;` items round-trip.
    #[test]
    fn files_round_trip(items in vec(item(), 0..5)) {
        let file = File { items };
        let text = file.to_string();
        let parsed = parse_file(&text).map_err(|d| TestCaseError::fail(format!("{text:?} does not parse: {d:?}")))?;
        prop_assert_eq!(&parsed, &file, "text: {:?}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Arbitrary text never panics the parser; whatever parses round-trips.
    #[test]
    fn parsing_arbitrary_text_never_panics(s in any::<String>()) {
        if let Ok(e) = parse_query(&s) {
            assert_query_round_trips(&s, &e)?;
        }
        if let Ok(f) = parse_file(&s) {
            assert_file_round_trips(&s, &f)?;
        }
    }

    /// Near-queries built from the grammar's tokens: no panic, and every
    /// accepted one round-trips.
    #[test]
    fn parsing_token_soup_never_panics(s in fragments()) {
        if let Ok(e) = parse_query(&s) {
            assert_query_round_trips(&s, &e)?;
        }
        let as_file = format!("segment s = {s};\nexpect s count >= 0;");
        if let Ok(f) = parse_file(&as_file) {
            assert_file_round_trips(&as_file, &f)?;
        }
    }
}

/// A printed query with one edit: a character range deleted, a grammar
/// token inserted, or a slice repeated (on character boundaries).
fn mutated_query() -> impl Strategy<Value = String> {
    (
        query(),
        any::<usize>(),
        any::<usize>(),
        proptest::sample::select(FRAGMENTS.to_vec()),
        0..3u8,
    )
        .prop_map(|(e, a, b, token, how)| {
            let text = e.to_string();
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let x = bounds[a % bounds.len()];
            let y = bounds[b % bounds.len()];
            let (lo, hi) = (x.min(y), x.max(y));
            match how {
                0 => format!("{}{}", &text[..lo], &text[hi..]),
                1 => format!("{}{token}{}", &text[..lo], &text[lo..]),
                _ => format!("{}{}", &text[..hi], &text[lo..]),
            }
        })
}

proptest! {
    #![proptest_config(cases(2000))]

    /// Near-valid queries: no panic, and every accepted one round-trips.
    #[test]
    fn parsing_edited_queries_never_panics(s in mutated_query()) {
        if let Ok(e) = parse_query(&s) {
            assert_query_round_trips(&s, &e)?;
        }
    }
}

/// The token soup is not all rejected: a fair share of it parses, so the
/// round-trip property above is exercised.
#[test]
fn token_soup_sometimes_parses() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = fragments();
    let parsed = (0..2000)
        .filter(|_| {
            let s = strategy.new_tree(&mut runner).expect("tree").current();
            parse_query(&s).is_ok()
        })
        .count();
    assert!(parsed >= 20, "only {parsed} of 2000 token soups parsed");
}

/// Inputs at and past the documented limits are answered (accepted or
/// rejected with a diagnostic), never with a panic or a stack overflow.
#[test]
fn parser_survives_pathological_inputs() {
    let deep_parens = |n: usize| format!("{}x = 1{}", "(".repeat(n), ")".repeat(n));
    let deep_lists = |n: usize| format!("x in {}1{}", "[".repeat(n), "]".repeat(n));
    let long_and = vec!["x = 1"; 20_000].join(" and ");
    let long_list = format!("x in [{}]", vec!["1"; 20_000].join(", "));
    let many_nots = format!("{}x", "not ".repeat(100_000));
    let cases: Vec<(String, bool)> = vec![
        (deep_parens(10), true),
        (deep_parens(100_000), false),
        (deep_lists(100_000), false),
        (long_and, true),
        (long_list, false),
        (many_nots, false),
        (format!("x = \"{}\"", "a".repeat(100_000)), true),
        ("x = \"unterminated".to_string(), false),
        (")(".to_string(), false),
        ("".to_string(), false),
        ("# only a comment".to_string(), false),
        ("x = 1 # comment without newline".to_string(), true),
    ];
    for (text, ok) in &cases {
        let short: String = text.chars().take(40).collect();
        let result = parse_query(text);
        assert_eq!(
            result.is_ok(),
            *ok,
            "{short:?}: {:?}",
            result.as_ref().err().map(|d| &d[0].message)
        );
        if let Ok(e) = result {
            let printed = e.to_string();
            assert_eq!(parse_query(&printed).as_ref(), Ok(&e), "{short:?}");
        }
        let _ = parse_file(text);
    }
}
