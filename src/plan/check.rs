//! AST + catalog → typed [`Plan`], or every diagnostic found.
//!
//! Each error names an input that triggers it in its doc or comment. Values
//! are resolved here: enum values to the dictionary, numbers to keys,
//! relative dates against one `now`, regexes compiled with size limits.

use super::catalog::{Catalog, FieldInfo, TableCatalog};
use super::logical::*;
use crate::diagnostic::{did_you_mean, nearest, Diagnostic, SourceId};
use crate::schema::FieldType;
use crate::segments::Library;
use crate::store::column::float_key;
use crate::syntax::ast::*;
use crate::time;
use ahash::AHashMap;
use std::cell::RefCell;
use std::ops::Bound;

/// Limits on compiled regular expressions (the regex crate's size limits).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 << 20;
/// Different regular expressions in one query (with the segments it uses),
/// or in the query files checked together: compiling one near the size
/// limit takes tens of milliseconds, so their number is bounded too.
pub const MAX_REGEXES: usize = 128;

/// Everything a check needs besides the query.
pub struct CheckContext<'a> {
    pub catalog: &'a Catalog,
    /// `now`, microseconds since the epoch.
    pub now: i64,
    pub library: &'a Library,
    /// The source the checked query's spans point into.
    pub source: SourceId,
}

/// A checked query: its plan and any warnings.
#[derive(Debug, Clone)]
pub struct Checked {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
}

/// Checks one query. On failure, returns errors and warnings together.
pub fn check(expr: &Expr, ctx: &CheckContext<'_>) -> Result<Checked, Vec<Diagnostic>> {
    let mut checker = Checker::new(ctx);
    let plan = checker.expr(expr);
    checker.finish(plan)
}

/// Checks a segment definition by name (for `segq check` of files).
pub fn check_segment(
    name: &str,
    ctx: &CheckContext<'_>,
    checker: &mut SegmentChecker,
) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker::new(ctx);
    c.cache = std::mem::take(&mut checker.cache);
    c.regexes = std::mem::take(&mut checker.regexes);
    let (source, def) = ctx.library.get(name).expect("segment exists");
    c.source = source;
    let plan = c.segment(name, def.name.span, true);
    checker.cache = std::mem::take(&mut c.cache);
    checker.regexes = std::mem::take(&mut c.regexes);
    c.finish(plan)
}

/// Carries checked segments between checks so each is checked (and
/// reported) once.
#[derive(Default)]
pub struct SegmentChecker {
    cache: RefCell<AHashMap<String, Option<Plan>>>,
    regexes: Regexes,
}

/// Regular expressions compiled so far, by pattern (at most [`MAX_REGEXES`]).
type Regexes = AHashMap<String, Result<regex::Regex, regex::Error>>;

struct Checker<'a> {
    ctx: &'a CheckContext<'a>,
    source: SourceId,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Segments being checked, innermost last: (name, where it was referenced, source).
    stack: Vec<(String, Span, SourceId)>,
    /// Checked segments; `None` when the definition has errors.
    cache: RefCell<AHashMap<String, Option<Plan>>>,
    regexes: Regexes,
}

impl<'a> Checker<'a> {
    fn new(ctx: &'a CheckContext<'a>) -> Checker<'a> {
        Checker {
            ctx,
            source: ctx.source,
            errors: Vec::new(),
            warnings: Vec::new(),
            stack: Vec::new(),
            cache: RefCell::default(),
            regexes: Regexes::default(),
        }
    }

    fn finish(self, plan: Plan) -> Result<Checked, Vec<Diagnostic>> {
        if self.errors.is_empty() {
            Ok(Checked {
                plan,
                warnings: self.warnings,
            })
        } else {
            let mut all = self.errors;
            all.extend(self.warnings);
            Err(all)
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.errors.push(d.in_source(self.source));
    }

    fn warn(&mut self, d: Diagnostic) {
        self.warnings.push(d.in_source(self.source));
    }

    fn expr(&mut self, e: &Expr) -> Plan {
        match &e.kind {
            ExprKind::All => Plan::All,
            ExprKind::None => Plan::Nothing,
            ExprKind::And(c) => Plan::And(c.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Or(c) => Plan::Or(c.iter().map(|x| self.expr(x)).collect()),
            ExprKind::Not(x) => Plan::Not(Box::new(self.expr(x))),
            ExprKind::Pred(p) => self.predicate(p),
            ExprKind::Segment(name) => self.segment(&name.name, name.span, false),
            ExprKind::AccountHas(q) => {
                if self.require_accounts(e.span) {
                    Plan::AccountHas(Box::new(self.expr(q)))
                } else {
                    Plan::Nothing
                }
            }
            ExprKind::AccountCount { query, op, n } => {
                let has = self.require_accounts(e.span);
                let query = self.expr(query);
                // `account count (q) >= -1`: counts are whole and never negative
                let n = match &n.kind {
                    ValueKind::Number(t) if t.parse::<u64>().is_ok() => {
                        t.parse::<u64>().unwrap_or(0)
                    }
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "a count is compared with a whole number of at least 0",
                                n.span,
                            )
                            .with_label("expected a whole number like `0` or `2`"),
                        );
                        0
                    }
                };
                if has {
                    Plan::AccountCount(AccountCount {
                        query: Box::new(query),
                        op: *op,
                        n,
                    })
                } else {
                    Plan::Nothing
                }
            }
        }
    }

    /// `account has (...)` with no accounts table loaded
    fn require_accounts(&mut self, span: Span) -> bool {
        if self.ctx.catalog.accounts.is_some() {
            return true;
        }
        self.error(
            Diagnostic::error("no accounts table is loaded", span)
                .with_label("account predicates need accounts")
                .with_help("put accounts.csv (or accounts.jsonl) beside contacts, and a `ref` field on contacts"),
        );
        false
    }

    /// `@name`: `top` when checking the definition itself (`segq check`).
    fn segment(&mut self, name: &str, span: Span, top: bool) -> Plan {
        let Some((def_source, def)) = self.ctx.library.get(name) else {
            // `@hott` with `hot` defined
            let mut d = Diagnostic::error(format!("unknown segment `{name}`"), span);
            d = match did_you_mean(name, self.ctx.library.names()) {
                Some(help) => d.with_label(help),
                None if self.ctx.library.is_empty() => {
                    d.with_label("no segments are loaded").with_help(
                        "define it in a .seg file under queries/, or pass --segments FILE_OR_DIR",
                    )
                }
                None => d.with_label("no segment has this name"),
            };
            self.error(d);
            return Plan::Nothing;
        };
        if let Some(at) = self.stack.iter().position(|(n, _, _)| n == name) {
            // `segment a = @b; segment b = @a;`
            let cycle: Vec<&str> = self.stack[at..]
                .iter()
                .map(|(n, _, _)| n.as_str())
                .chain([name])
                .collect();
            let mut d = Diagnostic::error(
                format!(
                    "segments refer to each other in a cycle: {}",
                    cycle.join(" → ")
                ),
                span,
            )
            .in_source(self.source)
            .with_label(format!("`{name}` refers back to itself here"));
            for (n, s, src) in self.stack[at + 1..].iter() {
                d = d.with_secondary(*src, *s, format!("`{n}` is used here"));
            }
            d = d.with_help("a segment cannot depend on itself, directly or through others");
            self.errors.push(d);
            // Mark every member as failed so the cycle is reported once.
            for (n, _, _) in &self.stack[at..] {
                self.cache.borrow_mut().insert(n.clone(), None);
            }
            return Plan::Nothing;
        }
        if let Some(cached) = self.cache.borrow().get(name) {
            return match cached {
                Some(plan) => Plan::Segment(SegmentPlan {
                    name: name.to_string(),
                    plan: Box::new(plan.clone()),
                }),
                None => {
                    if top {
                        // reported already
                    }
                    Plan::Nothing
                }
            };
        }
        let errors_before = self.errors.len();
        let saved = self.source;
        self.source = def_source;
        self.stack.push((name.to_string(), span, saved));
        let plan = self.expr(&def.query);
        self.stack.pop();
        self.source = saved;
        let ok = self.errors.len() == errors_before;
        let mut cache = self.cache.borrow_mut();
        if cache.get(name).is_some_and(Option::is_none) {
            return Plan::Nothing; // part of a reported cycle
        }
        cache.insert(name.to_string(), ok.then(|| plan.clone()));
        Plan::Segment(SegmentPlan {
            name: name.to_string(),
            plan: Box::new(plan),
        })
    }

    fn table(&mut self, field: &FieldRef) -> Option<&'a TableCatalog> {
        if field.account {
            if self.ctx.catalog.accounts.is_none() {
                // `account.industry = x` without accounts.csv
                self.error(
                    Diagnostic::error("no accounts table is loaded", field.span)
                        .with_label("`account.` fields need accounts")
                        .with_help("put accounts.csv (or accounts.jsonl) beside contacts, and a `ref` field on contacts"),
                );
            }
            self.ctx.catalog.accounts.as_ref()
        } else {
            Some(&self.ctx.catalog.contacts)
        }
    }

    fn predicate(&mut self, p: &Predicate) -> Plan {
        let Some(table) = self.table(&p.field) else {
            return Plan::Nothing;
        };
        let Some((index, info)) = table.field(&p.field.name) else {
            // `replies_3d > 2`
            let what = if p.field.account {
                "account field"
            } else {
                "field"
            };
            let mut d =
                Diagnostic::error(format!("unknown {what} `{}`", p.field.name), p.field.span);
            d = match did_you_mean(&p.field.name, table.names()) {
                Some(help) => d.with_label(help),
                None => d.with_label("no such field").with_help(format!(
                    "fields are: {}",
                    table.names().take(40).collect::<Vec<_>>().join(", ")
                )),
            };
            self.error(d);
            return Plan::Nothing;
        };
        let name = if p.field.account {
            format!("account.{}", info.name)
        } else {
            info.name.clone()
        };
        let leaf = |test: Test| {
            Plan::Leaf(Leaf {
                field: index,
                name: name.clone(),
                ty: info.ty.clone(),
                test,
            })
        };
        let plan = match self.op(p, info, &leaf) {
            Some(plan) => plan,
            None => Plan::Nothing,
        };
        if p.field.account {
            Plan::Account(Box::new(plan))
        } else {
            plan
        }
    }

    /// `f != v` and friends: present, and not the positive test.
    fn present_and_not(leaf: &dyn Fn(Test) -> Plan, positive: Plan) -> Plan {
        Plan::And(vec![leaf(Test::Present), Plan::Not(Box::new(positive))])
    }

    fn op(&mut self, p: &Predicate, info: &FieldInfo, leaf: &dyn Fn(Test) -> Plan) -> Option<Plan> {
        let ty = &info.ty;
        match &p.op {
            PredOp::IsMissing => Some(Plan::Not(Box::new(leaf(Test::Present)))),
            PredOp::IsPresent => Some(leaf(Test::Present)),
            PredOp::IsDuplicate => {
                if *ty == FieldType::Set {
                    // `tags is duplicate`
                    self.error(
                        Diagnostic::error("`is duplicate` does not apply to set fields", p.span)
                            .with_label(format!("`{}` is a set", info.name)),
                    );
                    return None;
                }
                Some(leaf(Test::Duplicate {
                    fold: matches!(ty, FieldType::String | FieldType::Ref),
                }))
            }
            PredOp::Bare => {
                if *ty == FieldType::Bool {
                    Some(leaf(Test::Bool(true)))
                } else {
                    // `role and x = 1`
                    self.error(
                        Diagnostic::error(
                            format!("`{}` is {}, not a bool", info.name, article(ty)),
                            p.field.span,
                        )
                        .with_label("a field on its own must be a bool")
                        .with_help(format!("compare it, e.g. `{} is present`", info.name)),
                    );
                    None
                }
            }
            PredOp::Compare { op, value } => self.compare(info, *op, value, leaf),
            PredOp::In { negated, values } => {
                let mut alts = Vec::new();
                for v in values {
                    alts.push(self.compare(info, CmpOp::Eq, v, leaf)?);
                }
                let positive = merge_in(alts);
                Some(if *negated {
                    Self::present_and_not(leaf, positive)
                } else {
                    positive
                })
            }
            PredOp::Between { negated, low, high } => {
                let lo = self.compare(info, CmpOp::Ge, low, leaf);
                let hi = self.compare(info, CmpOp::Le, high, leaf);
                let positive = Plan::And(vec![lo?, hi?]);
                Some(if *negated {
                    Self::present_and_not(leaf, positive)
                } else {
                    positive
                })
            }
            PredOp::Text { op, value } => {
                if !matches!(
                    ty,
                    FieldType::String | FieldType::Enum { .. } | FieldType::Ref
                ) {
                    // `score contains 5`, `created_at matches "x"`
                    self.error(
                        Diagnostic::error(
                            format!(
                                "`{}` applies to text fields, and `{}` is {}",
                                op.as_str(),
                                info.name,
                                article(ty)
                            ),
                            p.span,
                        )
                        .with_label(format!(
                            "`{}` is {}",
                            info.name,
                            article(ty)
                        )),
                    );
                    return None;
                }
                let text = self.text_value(value, "text")?;
                let m = match op {
                    TextOp::Contains => TextMatch::Contains(text.to_lowercase()),
                    TextOp::StartsWith => TextMatch::StartsWith(text.to_lowercase()),
                    TextOp::EndsWith => TextMatch::EndsWith(text.to_lowercase()),
                    TextOp::Matches => {
                        if !self.regexes.contains_key(&text) && self.regexes.len() >= MAX_REGEXES {
                            // a query of 129 different `t matches "…"` (reported once)
                            if self.errors.iter().any(|e| {
                                e.message.starts_with("more than")
                                    && e.message.contains("regular expressions")
                            }) {
                                return None;
                            }
                            self.error(Diagnostic::error(
                                format!("more than {MAX_REGEXES} different regular expressions in one query (or in the query files checked together)"),
                                value.span,
                            ));
                            return None;
                        }
                        let compiled = self.regexes.entry(text.clone()).or_insert_with(|| {
                            regex::RegexBuilder::new(&text)
                                .size_limit(REGEX_SIZE_LIMIT)
                                .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                                .build()
                        });
                        // `title matches "(unclosed"`
                        match compiled.clone() {
                            Ok(r) => TextMatch::Regex(r),
                            Err(e) => {
                                let msg = match &e {
                                    regex::Error::CompiledTooBig(n) => {
                                        format!("the regular expression is too big (compiled size limit {n} bytes)")
                                    }
                                    _ => "invalid regular expression".to_string(),
                                };
                                let detail = e.to_string();
                                let last = detail
                                    .lines()
                                    .rev()
                                    .find(|l| l.starts_with("error:"))
                                    .unwrap_or("")
                                    .trim_start_matches("error: ")
                                    .to_string();
                                let mut d = Diagnostic::error(msg, value.span);
                                if !last.is_empty() {
                                    d = d.with_label(last);
                                }
                                self.error(d);
                                return None;
                            }
                        }
                    }
                };
                Some(leaf(Test::DictMatch(m)))
            }
            PredOp::Has { quant, values } => {
                if *ty != FieldType::Set {
                    // `role has champion`
                    self.error(
                        Diagnostic::error(
                            format!(
                                "`has` applies to set fields, and `{}` is {}",
                                info.name,
                                article(ty)
                            ),
                            p.span,
                        )
                        .with_label(format!("`{}` is {}", info.name, article(ty)))
                        .with_help(format!(
                            "use `{} = value` or `{} in [..]`",
                            info.name, info.name
                        )),
                    );
                    return None;
                }
                let mut members = Vec::new();
                for v in values {
                    let text = self.text_value(v, "a set member")?;
                    self.warn_unknown_value(info, &text, v.span);
                    if !members.contains(&text) {
                        members.push(text);
                    }
                }
                Some(match quant {
                    HasQuant::One | HasQuant::Any => leaf(Test::SetAny(members)),
                    HasQuant::All => leaf(Test::SetAll(members)),
                    HasQuant::None => Self::present_and_not(leaf, leaf(Test::SetAny(members))),
                })
            }
            PredOp::Within { value } => {
                self.require_temporal(info, p, "within")?;
                let d = self.duration(value)?;
                let lo = self.ctx.now.checked_sub(d).unwrap_or(i64::MIN);
                Some(leaf(Test::Range {
                    lo: Bound::Included(lo),
                    hi: Bound::Included(self.ctx.now),
                }))
            }
            PredOp::Before { value } | PredOp::After { value } => {
                let word = if matches!(p.op, PredOp::Before { .. }) {
                    "before"
                } else {
                    "after"
                };
                self.require_temporal(info, p, word)?;
                let at = self.instant(value)?;
                Some(leaf(if word == "before" {
                    Test::Range {
                        lo: Bound::Unbounded,
                        hi: Bound::Excluded(at),
                    }
                } else {
                    Test::Range {
                        lo: Bound::Excluded(at),
                        hi: Bound::Unbounded,
                    }
                }))
            }
        }
    }

    /// `score within 30d`
    fn require_temporal(&mut self, info: &FieldInfo, p: &Predicate, word: &str) -> Option<()> {
        if info.ty.is_temporal() {
            return Some(());
        }
        self.error(
            Diagnostic::error(
                format!(
                    "`{word}` applies to dates, and `{}` is {}",
                    info.name,
                    article(&info.ty)
                ),
                p.span,
            )
            .with_label(format!("`{}` is {}", info.name, article(&info.ty))),
        );
        None
    }

    /// A word or string (numbers count as their text).
    fn text_value(&mut self, v: &Value, what: &str) -> Option<String> {
        match &v.kind {
            ValueKind::Word(s) | ValueKind::Str(s) | ValueKind::Number(s) => Some(s.clone()),
            ValueKind::Bool(b) => Some(b.to_string()),
            other => {
                // `title contains 30d`
                self.error(
                    Diagnostic::error(
                        format!("expected {what}, found {}", other.describe()),
                        v.span,
                    )
                    .with_label("quote it to use it as text"),
                );
                None
            }
        }
    }

    /// `role = champoin`: a warning, as the value may appear in new data
    fn warn_unknown_value(&mut self, info: &FieldInfo, text: &str, span: Span) {
        let Some(values) = info.occurring.as_ref().or(info.values.as_ref()) else {
            return;
        };
        if values.iter().any(|v| v == text) {
            return;
        }
        let near = nearest(text, values.iter().map(String::as_str), 3);
        let source = if info.occurring.is_some() {
            "occurs in the data"
        } else {
            "is declared"
        };
        let mut d = Diagnostic::warning(format!("`{text}` never occurs in `{}`", info.name), span);
        d = if near.is_empty() {
            d.with_label(format!("no such value {source}"))
                .with_help(format!(
                    "values are: {}",
                    values
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
        } else {
            d.with_label(format!(
                "did you mean {}?",
                near.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        };
        self.warn(d);
    }

    fn compare(
        &mut self,
        info: &FieldInfo,
        op: CmpOp,
        value: &Value,
        leaf: &dyn Fn(Test) -> Plan,
    ) -> Option<Plan> {
        let ty = &info.ty;
        match ty {
            FieldType::Enum { .. } | FieldType::String | FieldType::Ref => {
                let text = match &value.kind {
                    ValueKind::Word(s) | ValueKind::Str(s) | ValueKind::Number(s) => s.clone(),
                    other => {
                        // `role = 2026-01-01`
                        self.type_mismatch(info, value, other.describe());
                        return None;
                    }
                };
                let ordered = matches!(ty, FieldType::Enum { ordered: true });
                if let (FieldType::Enum { .. }, ValueKind::Number(_), Some(values)) =
                    (ty, &value.kind, &info.values)
                {
                    if !values.is_empty() && !values.iter().any(|v| v.parse::<f64>().is_ok()) {
                        // `stage = 3`: enum field compared with a number
                        self.error(
                            Diagnostic::error(
                                format!(
                                    "type mismatch: `{}` is {}, but this is a number",
                                    info.name,
                                    article(ty)
                                ),
                                value.span,
                            )
                            .with_label(format!("expected a value of `{}`", info.name))
                            .with_help(format!(
                                "values are: {}",
                                values
                                    .iter()
                                    .take(20)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        );
                        return None;
                    }
                }
                match op {
                    CmpOp::Eq | CmpOp::Ne => {
                        if matches!(ty, FieldType::Enum { .. }) {
                            self.warn_unknown_value(info, &text, value.span);
                        }
                        let eq = leaf(Test::DictIn(vec![text]));
                        Some(if op == CmpOp::Eq {
                            eq
                        } else {
                            Self::present_and_not(leaf, eq)
                        })
                    }
                    _ if ordered => {
                        let values = info.values.as_deref().unwrap_or(&[]);
                        let Some(pos) = values.iter().position(|v| *v == text) else {
                            // `stage >= oportunity`
                            let mut d = Diagnostic::error(
                                format!(
                                    "`{text}` is not a value of the ordered enum `{}`",
                                    info.name
                                ),
                                value.span,
                            );
                            d = match did_you_mean(&text, values.iter().map(String::as_str)) {
                                Some(h) => d.with_label(h),
                                None => d
                                    .with_label("unknown value")
                                    .with_help(format!("in order: {}", values.join(" < "))),
                            };
                            self.error(d);
                            return None;
                        };
                        let chosen: Vec<String> = values
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| op.holds(*i, pos))
                            .map(|(_, v)| v.clone())
                            .collect();
                        Some(leaf(Test::DictIn(chosen)))
                    }
                    _ => {
                        // `role < champion` on an unordered enum, `email > "a"`
                        let mut d = Diagnostic::error(
                            format!(
                                "`{}` needs an ordered field, and `{}` is {}",
                                op.as_str(),
                                info.name,
                                article(ty)
                            ),
                            value.span,
                        )
                        .with_label("cannot order these values");
                        if matches!(ty, FieldType::Enum { .. }) {
                            d = d.with_help(format!(
                                "declare the order in schema.toml: {} = {{ type = \"enum\", values = [...], ordered = true }}",
                                info.name
                            ));
                        }
                        self.error(d);
                        None
                    }
                }
            }
            FieldType::Bool => {
                let ValueKind::Bool(b) = value.kind else {
                    // `opted_in = yes`
                    self.type_mismatch(info, value, value.kind.describe());
                    return None;
                };
                match op {
                    CmpOp::Eq => Some(leaf(Test::Bool(b))),
                    CmpOp::Ne => Some(leaf(Test::Bool(!b))),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                format!("`{}` does not apply to bools", op.as_str()),
                                value.span,
                            )
                            .with_label("use `=` or `!=`"),
                        );
                        None
                    }
                }
            }
            FieldType::Int | FieldType::Float => {
                let ValueKind::Number(text) = &value.kind else {
                    // `replies_30d > many`
                    self.type_mismatch(info, value, value.kind.describe());
                    return None;
                };
                let number = self.number(text, value.span)?;
                Some(num_compare(ty, op, number, leaf))
            }
            FieldType::Date | FieldType::DateTime => {
                let at = self.instant(value)?;
                Some(key_compare(op, at, leaf))
            }
            FieldType::Set => {
                // `tags = webinar`
                self.error(
                    Diagnostic::error(
                        format!("`{}` is a set; compare its members with `has`", info.name),
                        value.span,
                    )
                    .with_label("sets hold several values")
                    .with_help(format!(
                        "write `{} has {}` or `{} has any [..]`",
                        info.name, value, info.name
                    )),
                );
                None
            }
        }
    }

    /// `replies_30d > "two"`: a value of the wrong type
    fn type_mismatch(&mut self, info: &FieldInfo, value: &Value, found: &str) {
        let expected = match info.ty {
            FieldType::Int | FieldType::Float => "a number",
            FieldType::Bool => "`true` or `false`",
            FieldType::Date | FieldType::DateTime => {
                "a date like `2026-01-31`, `today` or `30d ago`"
            }
            FieldType::Set => "a member value",
            _ => "a word or a quoted string",
        };
        let mut d = Diagnostic::error(
            format!(
                "type mismatch: `{}` is {}, but this is {found}",
                info.name,
                article(&info.ty)
            ),
            value.span,
        )
        .with_label(format!("expected {expected}"));
        if let (FieldType::Date | FieldType::DateTime, ValueKind::Duration { amount, unit }) =
            (&info.ty, &value.kind)
        {
            d = d.with_help(format!(
                "a duration needs `ago`: `{amount}{} ago`",
                unit.as_str()
            ));
        }
        self.error(d);
    }

    fn number(&mut self, text: &str, span: Span) -> Option<Number> {
        if !text.contains('.') {
            match text.parse::<i64>() {
                Ok(i) => return Some(Number::Int(i)),
                Err(_) => {
                    // `score > 99999999999999999999`
                    self.error(Diagnostic::error("integer out of range", span).with_label(
                        format!("integers lie between {} and {}", i64::MIN, i64::MAX),
                    ));
                    return None;
                }
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Some(Number::Float(f)),
            _ => {
                self.error(Diagnostic::error("number out of range", span));
                None
            }
        }
    }

    /// `30d` → microseconds
    fn duration(&mut self, v: &Value) -> Option<i64> {
        let ValueKind::Duration { amount, unit } = &v.kind else {
            self.error(
                Diagnostic::error(
                    format!(
                        "expected a duration like `30d`, found {}",
                        v.kind.describe()
                    ),
                    v.span,
                )
                .with_label("units are h, d, w, mo (30 days) and y (365 days)"),
            );
            return None;
        };
        self.duration_micros(amount, *unit, v.span)
    }

    fn duration_micros(&mut self, amount: &str, unit: DurationUnit, span: Span) -> Option<i64> {
        // `last_activity within 99999999999999y`
        let micros = amount
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit.seconds()))
            .and_then(|s| s.checked_mul(time::MICROS_PER_SECOND));
        if micros.is_none() {
            self.error(
                Diagnostic::error("duration out of range", span)
                    .with_label("too long to represent"),
            );
        }
        micros
    }

    /// A point in time: a date, a date-time, `today` or `N unit ago`.
    fn instant(&mut self, v: &Value) -> Option<i64> {
        match &v.kind {
            ValueKind::Date(d) => {
                let at = time::parse_date(d);
                if at.is_none() {
                    // `closed_on > 2026-02-30`
                    self.error(
                        Diagnostic::error(format!("invalid date `{d}`"), v.span)
                            .with_label("no such day"),
                    );
                }
                at
            }
            ValueKind::DateTime(d) => {
                let at = time::parse_datetime(d);
                if at.is_none() {
                    // `created_at > 2026-01-01T25:00:00Z`
                    self.error(
                        Diagnostic::error(format!("invalid date-time `{d}`"), v.span)
                            .with_label("expected YYYY-MM-DDTHH:MM:SS with an optional offset"),
                    );
                }
                at
            }
            ValueKind::Today => Some(time::start_of_day(self.ctx.now)),
            ValueKind::Ago { amount, unit } => {
                let d = self.duration_micros(amount, *unit, v.span)?;
                Some(self.ctx.now.saturating_sub(d))
            }
            ValueKind::Duration { amount, unit } => {
                // `last_activity > 30d`
                self.error(
                    Diagnostic::error("a duration is not a date", v.span)
                        .with_label(format!("did you mean `{amount}{} ago`?", unit.as_str())),
                );
                None
            }
            other => {
                // `last_activity > "yesterday"`
                self.error(
                    Diagnostic::error(
                        format!("expected a date, found {}", other.describe()),
                        v.span,
                    )
                    .with_label("expected a date like `2026-01-31`, `today` or `30d ago`"),
                );
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

/// A comparison of an int or float column with a number literal.
fn num_compare(ty: &FieldType, op: CmpOp, n: Number, leaf: &dyn Fn(Test) -> Plan) -> Plan {
    match (ty, n) {
        (FieldType::Float, Number::Int(i)) => key_compare(op, float_key(i as f64), leaf),
        (FieldType::Float, Number::Float(f)) => key_compare(op, float_key(f), leaf),
        (_, Number::Int(i)) => key_compare(op, i, leaf),
        (_, Number::Float(f)) => {
            // An int column against 2.5: `x < 2.5` is `x <= 2`, `x = 2.5` never holds.
            let integral = f.fract() == 0.0 && f.abs() < 9.0e18;
            let clamp = |v: f64| v.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
            match op {
                CmpOp::Eq if integral => key_compare(op, f as i64, leaf),
                CmpOp::Eq => Plan::Nothing,
                CmpOp::Ne if integral => key_compare(op, f as i64, leaf),
                CmpOp::Ne => leaf(Test::Present),
                CmpOp::Lt => key_compare(CmpOp::Lt, clamp(f.ceil()), leaf),
                CmpOp::Le => key_compare(CmpOp::Le, clamp(f.floor()), leaf),
                CmpOp::Gt => key_compare(CmpOp::Gt, clamp(f.floor()), leaf),
                CmpOp::Ge => key_compare(CmpOp::Ge, clamp(f.ceil()), leaf),
            }
        }
    }
}

/// A comparison on an ordered i64 key.
fn key_compare(op: CmpOp, k: i64, leaf: &dyn Fn(Test) -> Plan) -> Plan {
    let range = |lo, hi| leaf(Test::Range { lo, hi });
    match op {
        CmpOp::Eq => leaf(Test::NumIn(vec![k])),
        CmpOp::Ne => Plan::And(vec![
            leaf(Test::Present),
            Plan::Not(Box::new(leaf(Test::NumIn(vec![k])))),
        ]),
        CmpOp::Lt => range(Bound::Unbounded, Bound::Excluded(k)),
        CmpOp::Le => range(Bound::Unbounded, Bound::Included(k)),
        CmpOp::Gt => range(Bound::Excluded(k), Bound::Unbounded),
        CmpOp::Ge => range(Bound::Included(k), Bound::Unbounded),
    }
}

/// The alternatives of an `in` list, merged into one leaf when they are
/// equality tests on the same field.
fn merge_in(alts: Vec<Plan>) -> Plan {
    let mut merged: Option<Leaf> = None;
    for alt in &alts {
        let Plan::Leaf(l) = alt else {
            return Plan::Or(alts);
        };
        match (&mut merged, &l.test) {
            (None, Test::DictIn(_) | Test::NumIn(_) | Test::Bool(_)) => merged = Some(l.clone()),
            (Some(m), Test::DictIn(v)) => match &mut m.test {
                Test::DictIn(acc) => {
                    for x in v {
                        if !acc.contains(x) {
                            acc.push(x.clone());
                        }
                    }
                }
                _ => return Plan::Or(alts),
            },
            (Some(m), Test::NumIn(v)) => match &mut m.test {
                Test::NumIn(acc) => {
                    for x in v {
                        if !acc.contains(x) {
                            acc.push(*x);
                        }
                    }
                }
                _ => return Plan::Or(alts),
            },
            _ => return Plan::Or(alts),
        }
    }
    match merged {
        Some(m) => Plan::Leaf(m),
        None => Plan::Or(alts),
    }
}

fn article(ty: &FieldType) -> String {
    let name = ty.name();
    let a = if matches!(name.as_bytes()[0], b'a' | b'e' | b'i' | b'o' | b'u') {
        "an"
    } else {
        "a"
    };
    format!("{a} {name}")
}

#[cfg(test)]
mod enum_number_tests {
    use super::*;

    pub(super) fn check_text(schema: &str, query: &str) -> Result<Checked, Vec<Diagnostic>> {
        let schema = crate::schema::parse_schema(schema).expect("valid schema");
        let catalog = Catalog::from_schema(&schema);
        let library = Library::new();
        let ctx = CheckContext {
            catalog: &catalog,
            now: 0,
            library: &library,
            source: 0,
        };
        check(&crate::syntax::parse_query(query).expect("parses"), &ctx)
    }

    const SCHEMA: &str = "[contacts.fields]\nstage = { type = \"enum\", values = [\"lead\", \"customer\"], ordered = true }\n\
                          size = { type = \"enum\", values = [\"1\", \"10\"] }\n";

    #[test]
    fn check_rejects_number_vs_enum() {
        for q in ["stage = 3", "stage in [lead, 3]", "stage >= 2"] {
            let errs = check_text(SCHEMA, q).expect_err(q);
            assert!(
                errs[0]
                    .message
                    .contains("`stage` is an ordered enum, but this is a number"),
                "{q}: {errs:?}"
            );
        }
    }

    #[test]
    fn check_accepts_numbers_for_numeric_enum_values() {
        assert!(check_text(SCHEMA, "size = 10").is_ok());
        assert!(
            check_text(SCHEMA, "stage = \"3\"").is_ok(),
            "a quoted value is text: a warning at most"
        );
    }
}

#[cfg(test)]
mod regex_limit_tests {
    use super::*;

    #[test]
    fn check_bounds_the_number_of_different_regexes() {
        let run = |n: usize, distinct: usize| {
            let q: Vec<String> = (0..n)
                .map(|i| format!("title matches \"^a{{{}}}\"", i % distinct + 1))
                .collect();
            super::enum_number_tests::check_text(
                "[contacts.fields]\ntitle = \"string\"\n",
                &q.join(" or "),
            )
        };
        // the same pattern many times is compiled once
        assert!(run(5000, MAX_REGEXES).is_ok());
        let errs = run(MAX_REGEXES + 2, MAX_REGEXES + 2).expect_err("too many");
        assert_eq!(errs.len(), 1, "reported once: {errs:?}");
        assert_eq!(
            errs[0].message,
            "more than 128 different regular expressions in one query (or in the query files checked together)"
        );
    }
}
