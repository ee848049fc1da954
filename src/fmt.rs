//! `segq fmt`: query files rewritten in canonical form from the AST,
//! keeping comments. A comment on its own line stays before the item that
//! follows it; a comment at the end of an item's last line stays there; a
//! comment inside an item moves to just before it. One blank line between
//! items is kept where the source had one or more.

use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{ExprKind, Item, Span};

/// Items longer than this are broken before each top-level `and`/`or`.
pub const MAX_WIDTH: usize = 90;

/// An item's canonical text: one line, or one operand per line when long.
fn item_text(item: &Item) -> String {
    let one_line = item.to_string();
    let Item::Segment(def) = item else {
        return one_line;
    };
    let (children, word) = match &def.query.kind {
        ExprKind::And(c) => (c, "and"),
        ExprKind::Or(c) => (c, "or"),
        _ => return one_line,
    };
    if one_line.chars().count() <= MAX_WIDTH {
        return one_line;
    }
    let parts: Vec<String> = children
        .iter()
        .map(|c| c.operand_text(word == "or"))
        .collect();
    format!(
        "segment {} = {};",
        def.name.name,
        parts.join(&format!("\n  {word} "))
    )
}
use crate::syntax::parse_file;

#[derive(Debug)]
struct Comment {
    span: Span,
    text: String,
}

/// The `#` comments of a text, skipping strings and backticked names.
fn comments(src: &str) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment {
                    span: Span::new(start, i),
                    text: src[start..i].trim_end().to_string(),
                });
                continue;
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
            _ => {}
        }
        i += 1;
    }
    out
}

fn has_blank_line(text: &str) -> bool {
    text.split('\n')
        .skip(1)
        .collect::<Vec<_>>()
        .split_last()
        .is_some_and(|(_, middle)| middle.iter().any(|l| l.trim().is_empty()))
}

/// The canonical text of a query file.
pub fn format_file(src: &str) -> Result<String, Vec<Diagnostic>> {
    let file = parse_file(src)?;
    let comments = comments(src);
    let mut out = String::new();
    let mut next = 0; // next comment to place
    let mut prev_end = 0;
    for (n, item) in file.items.iter().enumerate() {
        let span = item.span();
        let mut lead = Vec::new();
        let mut gap_from = prev_end;
        while next < comments.len() && comments[next].span.start < span.end {
            let c = &comments[next];
            // A comment on the previous item's last line was already placed.
            lead.push((has_blank_line(&src[gap_from..c.span.start]), c.text.clone()));
            gap_from = c.span.end;
            next += 1;
        }
        if n > 0 {
            let blank = lead
                .first()
                .map_or_else(|| has_blank_line(&src[prev_end..span.start]), |(b, _)| *b);
            if blank {
                out.push('\n');
            }
        }
        for (i, (blank, text)) in lead.iter().enumerate() {
            if i > 0 && *blank {
                out.push('\n');
            }
            out.push_str(text);
            out.push('\n');
        }
        if !lead.is_empty() && has_blank_line(&src[gap_from..span.start.max(gap_from)]) {
            out.push('\n');
        }
        out.push_str(&item_text(item));
        prev_end = span.end;
        // A trailing comment on the same line as the item's end.
        if next < comments.len() && !src[span.end..comments[next].span.start].contains('\n') {
            out.push_str("  ");
            out.push_str(&comments[next].text);
            prev_end = comments[next].span.end;
            next += 1;
        }
        out.push('\n');
    }
    let rest = &comments[next..];
    for (i, c) in rest.iter().enumerate() {
        let from = if i == 0 {
            prev_end
        } else {
            rest[i - 1].span.end
        };
        if (!out.is_empty() || i > 0) && has_blank_line(&src[from..c.span.start]) {
            out.push('\n');
        }
        out.push_str(&c.text);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn formats_to(src: &str, want: &str) {
        let got = format_file(src).unwrap();
        assert_eq!(got, want);
        assert_eq!(format_file(&got).unwrap(), got, "formatting is idempotent");
    }

    #[test]
    fn fmt_keeps_comments_and_blank_lines() {
        formats_to(
            "# Pipeline\n\n# decision makers\nsegment   dm = role in [decision_maker,champion,] ;  # who signs\n\n\n\nsegment hot =\n  @dm   # inner\n  and replies_30d>2;\nexpect hot count>0;\n# end\n",
            "# Pipeline\n\n# decision makers\nsegment dm = role in [decision_maker, champion];  # who signs\n\n# inner\nsegment hot = @dm and replies_30d > 2;\nexpect hot count > 0;\n# end\n",
        );
    }

    #[test]
    fn fmt_breaks_long_segments_at_top_level_operators() {
        let long = "segment s = stage = opportunity and account_id is present and last_activity before 30d ago and (a = 1 or b = 2);";
        formats_to(
            long,
            "segment s = stage = opportunity\n  and account_id is present\n  and last_activity before 30d ago\n  and (a = 1 or b = 2);\n",
        );
    }

    #[test]
    fn fmt_of_comments_only_and_empty() {
        formats_to("", "");
        formats_to("# just a note\n", "# just a note\n");
        formats_to("segment a = all;", "segment a = all;\n");
    }

    #[test]
    fn fmt_ignores_hash_inside_strings() {
        formats_to(
            "segment a = t contains \"#1\";\n",
            "segment a = t contains \"#1\";\n",
        );
    }
}
