//! Keeps the REPL's lexer (`src/syntax/lexer.rs`) in step with the grammar
//! (`grammar/segment.pest`): a keyword added to one must be added to the
//! other, and what the grammar accepts the lexer reads without errors.

use std::collections::BTreeSet;

use segq::syntax::ast;
use segq::syntax::lexer::{self, tokenize, TokenKind};
use segq::syntax::{parse_file, parse_query};

/// Queries from the language spec (`language.md`), one per form.
const SPEC_QUERIES: &[&str] = &[
    "role in [decision_maker, champion] and replies_30d > 2",
    "stage = opportunity and (seniority in [vp, c_level] or meetings_30d >= 1) and not region = emea",
    "company_size between 200 and 5000 and last_activity within 30d",
    r#"title contains "head of" and email is present and not email is duplicate"#,
    "tags has any [webinar, trial] and account.industry = saas",
    "account has (role = decision_maker and replies_30d > 0) and @pipeline_active",
    "role != champion or role < vp or x <= 1 or x >= -3.5 or x > 1_000_000",
    "role not in [a, b,] and size not between 1 and 5",
    "email is missing or email is null or email is not null",
    r"title starts_with 'vp' and title ends_with '.io' and title matches '^(?i)head\\b'",
    r#"notes contains "say \"hi\"\n" and `job title` = x"#,
    "tags has trial and tags has all [a, b] and tags has none [c]",
    "a before 2026-01-31 and b after 2026-01-31T09:30:00Z and c before today",
    "seen > 30d ago and seen within 12h and seen within 2w and seen > 3mo ago and seen < 1y ago",
    "opted_in and not (all or none)",
    "account.tier = gold and account.`job title` = x",
    "account count (replies_30d > 0) >= 2 and segment hot",
    "ROLE IN [a] AND Email IS NOT NULL and opted_in = TRUE",
    "role = x # a comment\nand y = false",
];

/// Query files from the spec.
const SPEC_FILES: &[&str] = &[
    "# queries/pipeline.seg
segment decision_makers = role in [decision_maker, economic_buyer];
segment engaged = replies_30d > 2 or meetings_30d >= 1;
segment hot = @decision_makers and @engaged and stage >= opportunity;
",
    "expect hot count > 0;
expect hot count between 100 and 5000;
expect hot within decision_makers;   # every member of hot is in decision_makers
expect hot disjoint churned;
",
];

/// The keywords of the grammar: the literal of every `kw_xxx = @{ ^"xxx" … }`
/// rule, and `true`/`false` from the `boolean` rule.
fn grammar_keywords() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/grammar/segment.pest");
    let grammar = std::fs::read_to_string(path).expect("read grammar/segment.pest");
    let mut keywords = BTreeSet::new();
    for line in grammar.lines().map(str::trim_start) {
        let Some((rule, body)) = line.split_once('=') else {
            continue;
        };
        let rule = rule.trim();
        if !(rule.starts_with("kw_") || rule == "boolean") {
            continue;
        }
        let literals: Vec<&str> = body
            .split("^\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert!(!literals.is_empty(), "no ^\"…\" literal in rule `{line}`");
        if let Some(word) = rule.strip_prefix("kw_") {
            assert_eq!(literals, [word], "rule `{rule}` should match its own name");
        }
        keywords.extend(literals.into_iter().map(str::to_string));
    }
    keywords
}

#[track_caller]
fn assert_keyword(src: &str, keyword: &str) {
    let tokens = tokenize(src);
    let token = tokens
        .iter()
        .find(|t| &src[t.start..t.end] == keyword)
        .unwrap_or_else(|| panic!("no token `{keyword}` in {src:?}: {tokens:?}"));
    assert_eq!(token.kind, TokenKind::Keyword, "`{keyword}` in {src:?}");
}

#[track_caller]
fn assert_no_errors(src: &str) {
    for t in tokenize(src) {
        assert!(
            t.kind != TokenKind::Error && !t.unterminated,
            "{:?} token `{}` in {src:?}",
            t.kind,
            &src[t.start..t.end]
        );
    }
}

#[test]
fn lexer_keywords_are_the_grammar_keywords() {
    let grammar = grammar_keywords();
    assert!(grammar.len() >= 28, "found only {grammar:?} in the grammar");
    let lexer: BTreeSet<String> = lexer::KEYWORDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(
        lexer, grammar,
        "lexer::KEYWORDS differs from the grammar's keywords"
    );
}

#[test]
fn lexer_keywords_include_the_ast_keywords() {
    for keyword in ast::KEYWORDS {
        assert!(
            lexer::KEYWORDS.contains(keyword),
            "ast keyword `{keyword}` missing from lexer::KEYWORDS"
        );
    }
}

#[test]
fn lexer_reads_grammar_keywords_in_any_case() {
    for keyword in grammar_keywords() {
        for written in [keyword.to_lowercase(), keyword.to_uppercase()] {
            // where a predicate starts, after a field, after a predicate, as a value
            assert_keyword(&written, &written);
            assert_keyword(&format!("role {written}"), &written);
            assert_keyword(&format!("role = x {written}"), &written);
            assert_keyword(&format!("role = {written}"), &written);
        }
    }
}

#[test]
fn spec_queries_parse_and_lex_without_errors() {
    for query in SPEC_QUERIES {
        assert!(parse_query(query).is_ok(), "the parser rejects {query:?}");
        assert_no_errors(query);
    }
}

#[test]
fn spec_files_parse_and_lex_without_errors() {
    for file in SPEC_FILES {
        assert!(parse_file(file).is_ok(), "the parser rejects {file:?}");
        assert_no_errors(file);
    }
}
