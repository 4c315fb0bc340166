//! [`Expr`] → one self-contained, parameterised SQLite boolean expression.
//!
//! Semantics follow PocketBase (checked against v0.40.6, see the tests):
//!
//! * A filter that reaches other rows (relation paths, back-relations,
//!   `@collection.*`, `:each`) is evaluated like PocketBase's `SELECT DISTINCT … LEFT
//!   JOIN …`: the record matches if SOME combination of joined rows satisfies the
//!   whole expression. We write that as `EXISTS (SELECT 1 FROM (SELECT 1) LEFT JOIN
//!   … WHERE <expr>)`, correlated to the caller's table alias, so the caller needs no
//!   joins. Joins are shared by path across the expression, exactly as in
//!   PocketBase (so `rel.a ?= 1 && rel.b ?= 2` talks about one related row).
//! * A plain operator whose operand passes through a multi-valued hop additionally
//!   requires that NO item fails (`NOT EXISTS` over a fresh copy of the path);
//!   the `?` operators only need one matching item.
//! * `=`/`!=` against an empty value (`""`, `null`, a missing `@request` value)
//!   matches both `''` and NULL; two columns compare with `COALESCE(x, '')`; JSON
//!   values use `IS`/`IS NOT`.
//! * With [`Access::Client`], every join to another collection's table is held to
//!   that collection's list rule (compiled for the joined row, with the same
//!   request); a collection only superusers may list is refused. How depends on
//!   the hop, so that the answer never depends on rows the client may not see:
//!   - a relation field's hop (the ids are visible, and deleting a record unlinks
//!     it, so a related row exists exactly when an id is there) keeps PocketBase's
//!     semantics: a guard in the WHERE of the `EXISTS` around the expression (the
//!     joined row is missing or listable) rules out combinations that reach a row
//!     the client may not list;
//!   - a back-relation or `@collection` hop (which rows exist is not visible)
//!     carries the rule in its `ON`, so a row the client may not list is exactly
//!     as if it did not exist (PocketBase uses the guard there too, which tells a
//!     client whether hidden rows point at a record);
//!   - in "every item must match" checks (`NOT EXISTS`), an item reached through
//!     a relation field that the client may not list counts as failing: which ids
//!     are there is visible, whether each passes is not, so the claim "all pass"
//!     cannot be shown. PocketBase evaluates the hidden item's values instead,
//!     which lets a filter probe them; when the hidden item would fail anyway
//!     (as with a rule such as `public = true`) both answers agree. Items behind a
//!     back-relation or `@collection` hop the client may not list are absent,
//!     as above.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::ast::{Comparison, Expr, Ident, OpKind, Operand, Segment};
use super::datetime::macro_value;
use super::error::{FilterError, column};
use super::schema::{CollectionInfo, FieldInfo, FieldKind, Schema};
use super::sql::{Frag, frag, quote_ident};
use super::{Access, CompileOptions, MAX_RELATION_DEPTH, RequestInfo};

/// How an operand behaves in comparisons.
#[derive(Debug, Clone, PartialEq)]
enum Class {
    /// A stored value (column, related column, computed from columns).
    Column,
    /// A value extracted from a JSON field: compared with `IS`, no empty special case.
    Json,
    /// A value known at compile time (literal, `@request.*`, macro), bound as `?`.
    Const(Value),
}

/// A resolved operand: its SQL, how it compares, and whether it ranges over
/// several items (a multi-valued hop on its path).
#[derive(Debug, Clone)]
struct Resolved {
    sql: Frag,
    class: Class,
    multi: bool,
}

impl Resolved {
    fn constant(value: Value) -> Resolved {
        Resolved {
            sql: Frag::param(value.clone()),
            class: Class::Const(value),
            multi: false,
        }
    }

    fn is_empty_const(&self) -> bool {
        match &self.class {
            Class::Const(Value::Null) => true,
            Class::Const(Value::Text(s)) => s.is_empty(),
            _ => false,
        }
    }
}

/// One `LEFT JOIN` clause, remembered by `key` (the path it serves) for sharing.
#[derive(Debug, Clone)]
struct Join {
    key: String,
    alias: String,
    clause: Frag,
    /// For a client's join to another collection: the condition under which the
    /// joined row may take part (missing, or listable by the client).
    guard: Option<Frag>,
    /// How rows of this join are ordered when several exist per row before it
    /// (json array position, table row order); `None` for at most one row.
    order_key: Option<String>,
}

/// Where the joins of a resolution go: the expression-wide shared list (deduplicated
/// by path) or a fresh list for a multi-match subquery.
#[derive(Debug, Default)]
pub(crate) struct JoinSink {
    joins: Vec<Join>,
    shared: bool,
}

impl JoinSink {
    /// A list whose joins are shared by path.
    pub(crate) fn shared() -> Self {
        JoinSink {
            joins: Vec::new(),
            shared: true,
        }
    }

    /// The alias of the shared join serving `key`, if there is one.
    fn existing(&self, key: &str) -> Option<String> {
        if !self.shared {
            return None;
        }
        self.joins
            .iter()
            .find(|j| j.key == key)
            .map(|j| j.alias.clone())
    }

    /// Whether nothing was joined.
    pub(crate) fn is_empty(&self) -> bool {
        self.joins.is_empty()
    }

    /// ` LEFT JOIN … LEFT JOIN …`, in order.
    pub(crate) fn clauses(&self) -> Frag {
        let mut out = Frag::default();
        for join in &self.joins {
            out.push_str(" ").push(&join.clause);
        }
        out
    }

    /// The guards of the joins, ANDed (`None` when there are none).
    pub(crate) fn guards(&self) -> Option<Frag> {
        let mut out: Option<Frag> = None;
        for guard in self.joins.iter().filter_map(|j| j.guard.as_ref()) {
            match &mut out {
                None => out = Some(guard.clone()),
                Some(all) => {
                    all.push_str(" AND ").push(guard);
                }
            }
        }
        out
    }

    /// The order in which rows of these joins are scanned, e.g.
    /// `"__lb_j1".key, "__lb_j3".rowid`; empty when each join has one row at most.
    pub(crate) fn order_keys(&self) -> Vec<String> {
        self.joins
            .iter()
            .filter_map(|j| j.order_key.clone())
            .collect()
    }
}

/// State of one compilation.
pub(crate) struct Compiler<'a> {
    input: &'a str,
    schema: &'a dyn Schema,
    req: &'a RequestInfo,
    opts: &'a CompileOptions,
    root: &'a CollectionInfo,
    root_alias: String,
    main: JoinSink,
    next_alias: usize,
    /// `@collection.name:alias` aliases seen so far, with their collection.
    collection_aliases: Vec<(String, String)>,
}

/// How a table join reaches its rows, which decides how a client is held to the
/// target's list rule (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    /// Through the ids a relation field holds: at most one row per id.
    Field,
    /// Every row that points back here, or every row (`@collection`).
    Rows,
}

/// Counts join aliases across nested compilations (a guard's rule is compiled inside
/// the client's expression), so every alias in one statement is unique.
type AliasCounter = usize;

impl<'a> Compiler<'a> {
    pub(crate) fn new(
        input: &'a str,
        schema: &'a dyn Schema,
        req: &'a RequestInfo,
        opts: &'a CompileOptions,
        root: &'a CollectionInfo,
    ) -> Self {
        Compiler {
            input,
            schema,
            req,
            opts,
            root,
            root_alias: quote_ident(&opts.table_alias),
            main: JoinSink::shared(),
            next_alias: 0,
            collection_aliases: Vec::new(),
        }
    }

    /// Continues the alias numbering of an enclosing compilation.
    fn starting_at(mut self, next_alias: AliasCounter) -> Self {
        self.next_alias = next_alias;
        self
    }

    /// Uses an already quoted alias for the root row (a join of an enclosing
    /// compilation).
    fn rooted_at(mut self, quoted_alias: &str) -> Self {
        self.root_alias = quoted_alias.to_string();
        self
    }

    /// Compiles the whole expression into its final form.
    pub(crate) fn compile(self, expr: &Expr) -> Result<Frag, FilterError> {
        self.compile_counting(expr).map(|(frag, _)| frag)
    }

    fn compile_counting(mut self, expr: &Expr) -> Result<(Frag, AliasCounter), FilterError> {
        let body = self.expr(expr)?;
        if self.main.joins.is_empty() {
            return Ok((body, self.next_alias));
        }
        let mut out = Frag::raw("EXISTS (SELECT 1 FROM (SELECT 1) AS \"__lb_root\"");
        out.push(&self.main.clauses());
        out.push_str(" WHERE ").push(&body);
        if let Some(guards) = self.main.guards() {
            out.push_str(" AND ").push(&guards);
        }
        out.push_str(")");
        Ok((out, self.next_alias))
    }

    /// Resolves one identifier into `sink` (for sorting by it).
    pub(crate) fn resolve_for_sort(
        &mut self,
        ident: &Ident,
        sink: &mut JoinSink,
    ) -> Result<Frag, FilterError> {
        Ok(self.ident(ident, sink)?.sql)
    }

    fn col(&self, pos: usize) -> usize {
        column(self.input, pos)
    }

    fn expr(&mut self, expr: &Expr) -> Result<Frag, FilterError> {
        match expr {
            Expr::And(items) => self.join_exprs(items, " AND "),
            Expr::Or(items) => self.join_exprs(items, " OR "),
            Expr::Compare(cmp) => self.comparison(cmp),
        }
    }

    fn join_exprs(&mut self, items: &[Expr], sep: &str) -> Result<Frag, FilterError> {
        let mut out = Frag::raw("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            let part = self.expr(item)?;
            out.push(&part);
        }
        out.push_str(")");
        Ok(out)
    }

    fn comparison(&mut self, cmp: &Comparison) -> Result<Frag, FilterError> {
        // On error the whole compilation is abandoned, so `main` need not be restored.
        let mut sink = std::mem::take(&mut self.main);
        let left = self.operand(&cmp.left, &mut sink)?;
        let right = self.operand(&cmp.right, &mut sink)?;
        self.main = sink;
        let cond = condition(cmp.op.kind, &left, &right);
        if cmp.op.any_of || !(left.multi || right.multi) {
            return Ok(cond);
        }
        // All items must satisfy: no item of a fresh copy of the multi-valued
        // path(s) may fail the condition.
        let mut fresh = JoinSink {
            joins: Vec::new(),
            shared: false,
        };
        let fl = if left.multi {
            self.operand(&cmp.left, &mut fresh)?
        } else {
            left.clone()
        };
        let fr = if right.multi {
            self.operand(&cmp.right, &mut fresh)?
        } else {
            right.clone()
        };
        let mut sub = Frag::raw("NOT EXISTS (SELECT 1 FROM (SELECT 1) AS \"__lb_mm\"");
        sub.push(&fresh.clauses());
        let each = condition(cmp.op.kind, &fl, &fr);
        sub.push_str(" WHERE NOT (").push(&each).push_str(")");
        if let Some(guards) = fresh.guards() {
            // An item the client may not list cannot be shown to pass: it fails.
            // (`COALESCE`: a guard that is NULL hides the row, as in a WHERE.)
            sub.push_str(" OR COALESCE(NOT (")
                .push(&guards)
                .push_str("), 1)");
        }
        sub.push_str(")");
        Ok(frag!["(", &cond, " AND ", &sub, ")"])
    }

    fn operand(&mut self, op: &Operand, sink: &mut JoinSink) -> Result<Resolved, FilterError> {
        Ok(match op {
            Operand::Str { value, .. } => Resolved::constant(Value::Text(value.clone())),
            Operand::Num { text, pos } => {
                Resolved::constant(parse_number(text).ok_or_else(|| {
                    FilterError::InvalidNumber {
                        text: text.clone(),
                        column: self.col(*pos),
                    }
                })?)
            }
            Operand::Bool { value, .. } => Resolved::constant(Value::Integer((*value).into())),
            Operand::Null { .. } => Resolved::constant(Value::Null),
            Operand::Ident(ident) => self.ident(ident, sink)?,
        })
    }

    fn ident(&mut self, ident: &Ident, sink: &mut JoinSink) -> Result<Resolved, FilterError> {
        let first = &ident.segments[0];
        if !first.name.starts_with('@') {
            let root_alias = self.root_alias.clone();
            let root = self.root;
            return self.walk(
                sink,
                ident,
                root,
                root_alias,
                "t".to_string(),
                &ident.segments,
                false,
                0,
            );
        }
        let rest = &ident.segments[1..];
        match first.name.as_str() {
            "@request" => self.request(ident, rest, sink),
            "@collection" => self.collection_ref(ident, rest, sink),
            name => {
                if first.suffix.is_some() || !rest.is_empty() {
                    return Err(self.invalid(ident, "datetime macros take no path or modifier"));
                }
                match macro_value(&name[1..], self.req.now) {
                    Some(v) => Ok(Resolved::constant(v)),
                    None => Err(self.invalid(
                        ident,
                        "expected @request, @collection or a datetime macro such as @now",
                    )),
                }
            }
        }
    }

    fn invalid(&self, ident: &Ident, reason: &str) -> FilterError {
        FilterError::InvalidIdentifier {
            ident: ident.text.clone(),
            column: self.col(ident.pos),
            reason: reason.to_string(),
        }
    }

    fn bad_modifier(&self, ident: &Ident, modifier: &str, reason: &str) -> FilterError {
        FilterError::InvalidModifier {
            modifier: modifier.to_string(),
            column: self.col(ident.pos),
            reason: reason.to_string(),
        }
    }

    fn alias(&mut self, shared: bool) -> String {
        self.next_alias += 1;
        if shared {
            format!("\"__lb_j{}\"", self.next_alias)
        } else {
            format!("\"__lb_m{}\"", self.next_alias)
        }
    }

    /// Adds a join (or reuses the shared one for `key`) and returns its alias.
    /// `make` receives the alias and builds the clause. For a `json_each` join the
    /// rows are ordered by array position.
    fn join(&mut self, sink: &mut JoinSink, key: &str, make: impl FnOnce(&str) -> Frag) -> String {
        self.join_with_order(sink, key, make, |alias| Some(format!("{alias}.key")))
    }

    fn join_with_order(
        &mut self,
        sink: &mut JoinSink,
        key: &str,
        make: impl FnOnce(&str) -> Frag,
        order_key: impl FnOnce(&str) -> Option<String>,
    ) -> String {
        if let Some(alias) = sink.existing(key) {
            return alias;
        }
        let alias = self.alias(sink.shared);
        let clause = make(&alias);
        sink.joins.push(Join {
            key: key.to_string(),
            alias: alias.clone(),
            clause,
            guard: None,
            order_key: order_key(&alias),
        });
        alias
    }

    /// Joins the table of collection `target` (or reuses the shared join for
    /// `key`); `make` builds the clause up to its `ON` condition. For a client, a
    /// new join is held to `target`'s list rule as `hop` says (see the module docs).
    fn join_table(
        &mut self,
        sink: &mut JoinSink,
        ident: &Ident,
        key: &str,
        target: &'a CollectionInfo,
        hop: Hop,
        make: impl FnOnce(&str) -> Frag,
    ) -> Result<String, FilterError> {
        if let Some(alias) = sink.existing(key) {
            return Ok(alias);
        }
        let alias = self.alias(sink.shared);
        let rule = match self.opts.access {
            Access::Client => self.listable(ident, target, &alias)?,
            Access::Full => None,
        };
        let mut clause = make(&alias);
        let mut guard = None;
        match (hop, rule) {
            (_, None) => {}
            (Hop::Field, Some(rule)) => {
                guard = Some(frag![
                    "(COALESCE(",
                    &alias,
                    ".\"id\", '') = '' OR ",
                    &rule,
                    ")"
                ]);
            }
            (Hop::Rows, Some(rule)) => {
                clause.push_str(" AND ").push(&rule);
            }
        }
        let order_key = (hop == Hop::Rows && !target.is_view).then(|| format!("{alias}.rowid"));
        sink.joins.push(Join {
            key: key.to_string(),
            alias: alias.clone(),
            clause,
            guard,
            order_key,
        });
        Ok(alias)
    }

    /// `target`'s list rule compiled for the joined row `alias`, or `None` when
    /// anyone may list `target`; an error when only superusers may.
    fn listable(
        &mut self,
        ident: &Ident,
        target: &'a CollectionInfo,
        alias: &str,
    ) -> Result<Option<Frag>, FilterError> {
        let Some(rule) = target.list_rule.as_deref() else {
            return Err(FilterError::SuperusersOnly {
                collection: target.name.clone(),
                column: self.col(ident.pos),
            });
        };
        if rule.trim().is_empty() {
            return Ok(None);
        }
        let broken = |e: FilterError| FilterError::BrokenRule {
            collection: target.name.clone(),
            reason: e.to_string(),
        };
        let expr = super::parser::parse(rule).map_err(broken)?;
        // The rule's own fields are read through `alias`, not the root alias.
        let full = CompileOptions::full("");
        let (compiled, next) = Compiler::new(rule, self.schema, self.req, &full, target)
            .rooted_at(alias)
            .starting_at(self.next_alias)
            .compile_counting(&expr)
            .map_err(broken)?;
        self.next_alias = next;
        Ok(Some(frag!["(", &compiled, ")"]))
    }

    fn collection(&self, ident: &Ident, name: &str) -> Result<&'a CollectionInfo, FilterError> {
        self.schema
            .collection(name)
            .ok_or_else(|| FilterError::UnknownCollection {
                name: name.to_string(),
                column: self.col(ident.pos),
            })
    }

    fn check_visible(
        &self,
        ident: &Ident,
        coll: &CollectionInfo,
        field: &FieldInfo,
    ) -> Result<(), FilterError> {
        if field.hidden && !self.opts.allow_hidden() {
            return Err(FilterError::HiddenField {
                field: field.name.clone(),
                collection: coll.name.clone(),
                column: self.col(ident.pos),
            });
        }
        Ok(())
    }

    /// Walks `segs` starting at a row `alias` of `coll`, adding joins for relation
    /// hops, and resolves the final field (with its modifier).
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        sink: &mut JoinSink,
        ident: &Ident,
        mut coll: &'a CollectionInfo,
        mut alias: String,
        mut key: String,
        segs: &[Segment],
        mut multi: bool,
        mut hops: usize,
    ) -> Result<Resolved, FilterError> {
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            if !last && seg.suffix.is_some() {
                return Err(self.bad_modifier(
                    ident,
                    seg.suffix.as_deref().unwrap_or_default(),
                    "modifiers go at the end of a path",
                ));
            }
            if let Some(field) = coll.field(&seg.name) {
                self.check_visible(ident, coll, field)?;
                let col = match (&field.visible_if, self.opts.allow_hidden()) {
                    (Some(flag), false) => format!(
                        "(CASE WHEN {alias}.{} THEN {alias}.{} END)",
                        quote_ident(flag),
                        quote_ident(&field.name)
                    ),
                    _ => format!("{alias}.{}", quote_ident(&field.name)),
                };
                if last {
                    return self.finish_field(sink, ident, field, &col, seg, multi, &key);
                }
                // `rel.id` of a single relation is the stored id itself: no join (as
                // in PocketBase, so a client may test it even when the target is
                // not listable).
                if field.kind == FieldKind::Relation
                    && !field.multiple
                    && i + 2 == segs.len()
                    && segs[i + 1].name == "id"
                    && segs[i + 1].suffix.is_none()
                {
                    let plain = Segment {
                        name: field.name.clone(),
                        suffix: None,
                    };
                    return self.finish_field(sink, ident, field, &col, &plain, multi, &key);
                }
                match (field.kind, field.relation_to.as_deref()) {
                    (FieldKind::Json, _) => {
                        return self.json_path(ident, &col, &segs[i + 1..], multi);
                    }
                    (FieldKind::Relation, Some(target_name)) => {
                        hops += 1;
                        if hops > MAX_RELATION_DEPTH {
                            return Err(FilterError::PathTooDeep {
                                column: self.col(ident.pos),
                                max: MAX_RELATION_DEPTH,
                            });
                        }
                        let target = self.collection(ident, target_name)?;
                        key = format!("{key}.{}", field.name);
                        let id_expr = if field.multiple {
                            multi = true;
                            let je = self.join(sink, &format!("{key}:each"), |a| {
                                frag!["LEFT JOIN json_each(", &as_json_array(&col), ") AS ", a]
                            });
                            format!("{je}.value")
                        } else {
                            col
                        };
                        let table = quote_ident(&target.name);
                        alias = self.join_table(sink, ident, &key, target, Hop::Field, |a| {
                            frag![
                                "LEFT JOIN ",
                                &table,
                                " AS ",
                                a,
                                " ON ",
                                a,
                                ".\"id\" = ",
                                &id_expr
                            ]
                        })?;
                        coll = target;
                    }
                    _ => {
                        return Err(self.invalid(
                            ident,
                            &format!("field {:?} is not a relation or json field, so it has no sub-fields", field.name),
                        ));
                    }
                }
            } else if let Some((source_name, via_field)) = seg.name.rsplit_once("_via_") {
                // Back-relation: rows of `source_name` whose `via_field` points here.
                let source = self.collection(ident, source_name)?;
                let via = source
                    .field(via_field)
                    .filter(|f| {
                        f.kind == FieldKind::Relation
                            && f.relation_to.as_deref() == Some(coll.name.as_str())
                    })
                    .ok_or_else(|| {
                        self.invalid(
                            ident,
                            &format!(
                                "{source_name:?} has no relation field {via_field:?} to {:?}",
                                coll.name
                            ),
                        )
                    })?;
                self.check_visible(ident, source, via)?;
                if last {
                    return Err(
                        self.invalid(ident, "a back-relation needs a field after it, e.g. .id")
                    );
                }
                hops += 1;
                if hops > MAX_RELATION_DEPTH {
                    return Err(FilterError::PathTooDeep {
                        column: self.col(ident.pos),
                        max: MAX_RELATION_DEPTH,
                    });
                }
                multi = true;
                key = format!("{key}.{}", seg.name);
                let table = quote_ident(&source.name);
                let via_col = quote_ident(&via.name);
                let here_id = format!("{alias}.\"id\"");
                let via_multiple = via.multiple;
                alias = self.join_table(sink, ident, &key, source, Hop::Rows, |a| {
                    let via_ref = format!("{a}.{via_col}");
                    if via_multiple {
                        frag![
                            "LEFT JOIN ",
                            &table,
                            " AS ",
                            a,
                            " ON EXISTS (SELECT 1 FROM json_each(",
                            &as_json_array(&via_ref),
                            ") AS \"__lb_v\" WHERE \"__lb_v\".value = ",
                            &here_id,
                            ")"
                        ]
                    } else {
                        frag![
                            "LEFT JOIN ",
                            &table,
                            " AS ",
                            a,
                            " ON ",
                            &via_ref,
                            " = ",
                            &here_id
                        ]
                    }
                })?;
                coll = source;
            } else {
                return Err(FilterError::UnknownField {
                    field: seg.name.clone(),
                    collection: coll.name.clone(),
                    column: self.col(ident.pos),
                });
            }
        }
        Err(self.invalid(ident, "expected a field name"))
    }

    /// The last segment of a path: the column itself or a modifier applied to it.
    #[allow(clippy::too_many_arguments)]
    fn finish_field(
        &mut self,
        sink: &mut JoinSink,
        ident: &Ident,
        field: &FieldInfo,
        col: &str,
        seg: &Segment,
        multi: bool,
        key: &str,
    ) -> Result<Resolved, FilterError> {
        // Select/relation/file values are lists even when single (PocketBase
        // accepts `cat:length` and `cat:each` on a single select too).
        let listish = field.multiple
            || matches!(
                field.kind,
                FieldKind::Select | FieldKind::Relation | FieldKind::File
            );
        let Some(modifier) = seg.suffix.as_deref() else {
            if field.kind == FieldKind::Json {
                return self.json_path(ident, col, &[], multi);
            }
            return Ok(Resolved {
                sql: Frag::raw(col),
                class: Class::Column,
                multi,
            });
        };
        match modifier {
            "lower" => {
                let mut inner = if field.kind == FieldKind::Json {
                    self.json_path(ident, col, &[], multi)?
                } else {
                    Resolved {
                        sql: Frag::raw(col),
                        class: Class::Column,
                        multi,
                    }
                };
                inner.sql = frag!["LOWER(", &inner.sql, ")"];
                inner.class = Class::Column;
                Ok(inner)
            }
            "length" if listish => Ok(Resolved {
                sql: frag!["json_array_length(", &as_json_array_or_empty(col), ")"],
                class: Class::Column,
                multi,
            }),
            "each" if listish => {
                let key = format!("{key}.{}:each", field.name);
                let je = self.join(sink, &key, |a| {
                    frag!["LEFT JOIN json_each(", &as_json_array(col), ") AS ", a]
                });
                Ok(Resolved {
                    sql: Frag::raw(format!("{je}.value")),
                    class: Class::Column,
                    multi: true,
                })
            }
            "length" | "each" => Err(self.bad_modifier(
                ident,
                modifier,
                &format!(
                    "field {:?} is not a select, relation or file field",
                    field.name
                ),
            )),
            "isset" => Err(self.bad_modifier(
                ident,
                modifier,
                "only @request.body.* and @request.query.* support it",
            )),
            _ => {
                Err(self.bad_modifier(ident, modifier, "expected :lower, :length, :each or :isset"))
            }
        }
    }

    /// `json_extract` of the sub-path `segs` of JSON column `col`. Non-JSON text is
    /// treated as a JSON string, as PocketBase does. The path is a bound parameter.
    fn json_path(
        &self,
        ident: &Ident,
        col: &str,
        segs: &[Segment],
        multi: bool,
    ) -> Result<Resolved, FilterError> {
        let mut path = String::from("$");
        for (i, seg) in segs.iter().enumerate() {
            if seg.suffix.is_some() && i + 1 != segs.len() {
                return Err(self.bad_modifier(
                    ident,
                    seg.suffix.as_deref().unwrap_or_default(),
                    "modifiers go at the end of a path",
                ));
            }
            push_json_key(&mut path, &seg.name);
        }
        let wrapped = format!("$.pb{}", &path[1..]);
        let mut sql = frag![
            "(CASE WHEN json_valid(",
            col,
            ") THEN json_extract(",
            col,
            ", ",
            &Frag::param(Value::Text(path)),
            ") ELSE json_extract(json_object('pb', ",
            col,
            "), ",
            &Frag::param(Value::Text(wrapped)),
            ") END)"
        ];
        let mut class = Class::Json;
        match segs.last().and_then(|s| s.suffix.as_deref()) {
            None => {}
            Some("lower") => {
                sql = frag!["LOWER(", &sql, ")"];
                class = Class::Column;
            }
            Some(other) => {
                return Err(self.bad_modifier(
                    ident,
                    other,
                    "only :lower applies inside a json field",
                ));
            }
        }
        Ok(Resolved { sql, class, multi })
    }

    /// `@collection.name[:alias].field…`: every row of another collection, joined
    /// without condition (the filter itself relates it to this record).
    fn collection_ref(
        &mut self,
        ident: &Ident,
        rest: &[Segment],
        sink: &mut JoinSink,
    ) -> Result<Resolved, FilterError> {
        if ident.segments[0].suffix.is_some() {
            return Err(self.invalid(ident, "@collection takes no modifier"));
        }
        let Some((head, fields)) = rest.split_first() else {
            return Err(self.invalid(ident, "expected @collection.NAME.FIELD"));
        };
        if fields.is_empty() {
            return Err(self.invalid(ident, "expected @collection.NAME.FIELD"));
        }
        let coll = self.collection(ident, &head.name)?;
        let key = match &head.suffix {
            Some(alias) => format!("@collection:alias:{alias}"),
            None => format!("@collection:{}", coll.name),
        };
        if let Some(alias) = &head.suffix {
            // An alias reused for another collection would silently mix them.
            match self.collection_aliases.iter().find(|(a, _)| a == alias) {
                Some((_, name)) if *name != coll.name => {
                    return Err(self.invalid(
                        ident,
                        "this @collection alias already names another collection",
                    ));
                }
                Some(_) => {}
                None => self
                    .collection_aliases
                    .push((alias.clone(), coll.name.clone())),
            }
        }
        let table = quote_ident(&coll.name);
        let alias = self.join_table(sink, ident, &key, coll, Hop::Rows, |a| {
            frag!["LEFT JOIN ", &table, " AS ", a, " ON 1"]
        })?;
        self.walk(sink, ident, coll, alias, key, fields, true, 1)
    }

    /// `@request.*`: values become bound parameters.
    fn request(
        &mut self,
        ident: &Ident,
        rest: &[Segment],
        sink: &mut JoinSink,
    ) -> Result<Resolved, FilterError> {
        if ident.segments[0].suffix.is_some() {
            return Err(self.invalid(ident, "@request takes no modifier"));
        }
        let Some((head, path)) = rest.split_first() else {
            return Err(self.invalid(
                ident,
                "expected @request.auth, .body, .query, .headers, .method or .context",
            ));
        };
        let req = self.req;
        match head.name.as_str() {
            "method" | "context" if path.is_empty() && head.suffix.is_none() => {
                let v = if head.name == "method" {
                    &req.method
                } else {
                    &req.context
                };
                Ok(Resolved::constant(Value::Text(v.clone())))
            }
            "method" | "context" => Err(self.invalid(
                ident,
                "@request.method and @request.context have no sub-fields",
            )),
            "auth" | "body" | "query" | "headers" if head.suffix.is_some() || path.is_empty() => {
                Err(self.invalid(
                    ident,
                    "expected a key after @request.auth/body/query/headers",
                ))
            }
            "auth" => self.request_auth(ident, path, sink),
            "body" => {
                let map = Json::Object(req.body.clone());
                self.request_value(
                    ident,
                    &map,
                    path,
                    true,
                    Some(self.root),
                    "@request.body",
                    sink,
                )
            }
            "query" => {
                let map = Json::Object(req.query.clone());
                self.request_value(ident, &map, path, true, None, "@request.query", sink)
            }
            "headers" => {
                let map = Json::Object(req.headers.clone());
                self.request_value(ident, &map, path, false, None, "@request.headers", sink)
            }
            _ => Err(self.invalid(
                ident,
                "expected @request.auth, .body, .query, .headers, .method or .context",
            )),
        }
    }

    fn request_auth(
        &mut self,
        ident: &Ident,
        path: &[Segment],
        sink: &mut JoinSink,
    ) -> Result<Resolved, FilterError> {
        let Some(auth) = &self.req.auth else {
            // Guests: `id` is "" (so `@request.auth.id != ""` means "signed in"),
            // everything else is empty too.
            if path.len() == 1 && path[0].suffix.as_deref() == Some("isset") {
                return Err(self.bad_modifier(
                    ident,
                    "isset",
                    "only @request.body.* and @request.query.* support it",
                ));
            }
            let v = if path.len() == 1 && path[0].name == "id" {
                Value::Text(String::new())
            } else {
                Value::Null
            };
            return Ok(Resolved::constant(v));
        };
        let coll = auth
            .get("collectionName")
            .and_then(Json::as_str)
            .and_then(|name| self.schema.collection(name));
        let map = Json::Object(auth.clone());
        self.request_value(ident, &map, path, false, coll, "@request.auth", sink)
    }

    /// Navigates a JSON request value along `path`. When `coll` is given and the
    /// first key is one of its relation fields followed by more keys, hops into the
    /// related collection using the submitted id(s) as bound parameters.
    #[allow(clippy::too_many_arguments)]
    fn request_value(
        &mut self,
        ident: &Ident,
        root: &Json,
        path: &[Segment],
        allow_isset: bool,
        coll: Option<&'a CollectionInfo>,
        key: &str,
        sink: &mut JoinSink,
    ) -> Result<Resolved, FilterError> {
        if let (Some(coll), [first, more @ ..]) = (coll, path) {
            if let Some(field) = coll.field(&first.name) {
                if let (FieldKind::Relation, Some(target_name), false) =
                    (field.kind, field.relation_to.as_deref(), more.is_empty())
                {
                    if first.suffix.is_some() {
                        return Err(self.bad_modifier(
                            ident,
                            first.suffix.as_deref().unwrap_or_default(),
                            "modifiers go at the end of a path",
                        ));
                    }
                    let target = self.collection(ident, target_name)?;
                    let ids = relation_ids(root.get(&first.name));
                    let key = format!("{key}.{}", field.name);
                    let table = quote_ident(&target.name);
                    let alias = if field.multiple {
                        let list =
                            Json::Array(ids.into_iter().map(Json::String).collect()).to_string();
                        let je = self.join(sink, &format!("{key}:each"), |a| {
                            frag![
                                "LEFT JOIN json_each(",
                                &Frag::param(Value::Text(list)),
                                ") AS ",
                                a
                            ]
                        });
                        let id_expr = format!("{je}.value");
                        self.join_table(sink, ident, &key, target, Hop::Field, |a| {
                            frag![
                                "LEFT JOIN ",
                                &table,
                                " AS ",
                                a,
                                " ON ",
                                a,
                                ".\"id\" = ",
                                &id_expr
                            ]
                        })?
                    } else {
                        let id =
                            Frag::param(Value::Text(ids.into_iter().next().unwrap_or_default()));
                        self.join_table(sink, ident, &key, target, Hop::Field, |a| {
                            frag![
                                "LEFT JOIN ",
                                &table,
                                " AS ",
                                a,
                                " ON ",
                                a,
                                ".\"id\" = ",
                                &id
                            ]
                        })?
                    };
                    return self.walk(sink, ident, target, alias, key, more, field.multiple, 1);
                }
            }
        }
        let mut value = Some(root);
        for (i, seg) in path.iter().enumerate() {
            if seg.suffix.is_some() && i + 1 != path.len() {
                return Err(self.bad_modifier(
                    ident,
                    seg.suffix.as_deref().unwrap_or_default(),
                    "modifiers go at the end of a path",
                ));
            }
            value = value.and_then(|v| match v {
                Json::Object(m) => m.get(&seg.name),
                Json::Array(items) => seg.name.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            });
        }
        let modifier = path.last().and_then(|s| s.suffix.as_deref());
        Ok(Resolved::constant(match modifier {
            None => json_to_value(value),
            Some("isset") if allow_isset => Value::Integer(value.is_some().into()),
            Some("length") => Value::Integer(match value {
                None | Some(Json::Null) => 0,
                Some(Json::String(s)) if s.is_empty() => 0,
                Some(Json::Array(items)) => items.len() as i64,
                Some(_) => 1,
            }),
            Some("lower") => match json_to_value(value) {
                Value::Text(s) => Value::Text(s.to_ascii_lowercase()),
                other => other,
            },
            Some("isset") => {
                return Err(self.bad_modifier(
                    ident,
                    "isset",
                    "only @request.body.* and @request.query.* support it",
                ));
            }
            Some(other) => {
                return Err(self.bad_modifier(
                    ident,
                    other,
                    "@request values support :lower, :length and :isset",
                ));
            }
        }))
    }
}

/// The SQL condition for one comparison of two resolved operands.
fn condition(kind: OpKind, l: &Resolved, r: &Resolved) -> Frag {
    let is_const = |x: &Resolved| matches!(x.class, Class::Const(_));
    match kind {
        OpKind::Eq | OpKind::Neq => {
            let eq = kind == OpKind::Eq;
            if l.class == Class::Json || r.class == Class::Json {
                return frag![&l.sql, if eq { " IS " } else { " IS NOT " }, &r.sql];
            }
            match (l.is_empty_const(), r.is_empty_const()) {
                (true, true) => Frag::raw(if eq { "1 = 1" } else { "1 = 0" }),
                (true, false) if !is_const(r) => empty_check(&r.sql, eq),
                (false, true) if !is_const(l) => empty_check(&l.sql, eq),
                _ if !is_const(l) && !is_const(r) => frag![
                    "COALESCE(",
                    &l.sql,
                    ", '')",
                    if eq { " = " } else { " IS NOT " },
                    "COALESCE(",
                    &r.sql,
                    ", '')"
                ],
                _ => {
                    // A NULL constant compares like "".
                    let l = null_as_empty(l);
                    let r = null_as_empty(r);
                    frag![&l, if eq { " = " } else { " IS NOT " }, &r]
                }
            }
        }
        OpKind::Gt => frag![&l.sql, " > ", &r.sql],
        OpKind::Gte => frag![&l.sql, " >= ", &r.sql],
        OpKind::Lt => frag![&l.sql, " < ", &r.sql],
        OpKind::Lte => frag![&l.sql, " <= ", &r.sql],
        OpKind::Like | OpKind::NotLike => {
            let pattern = match &r.class {
                Class::Const(v) => Frag::param(Value::Text(like_pattern(&value_text(v)))),
                _ => frag![
                    "('%' || replace(replace(replace(",
                    &r.sql,
                    ", '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
                ],
            };
            let op = if kind == OpKind::Like {
                " LIKE "
            } else {
                " NOT LIKE "
            };
            frag![&l.sql, op, &pattern, " ESCAPE '\\'"]
        }
    }
}

fn empty_check(sql: &Frag, eq: bool) -> Frag {
    if eq {
        frag!["(", sql, " = '' OR ", sql, " IS NULL)"]
    } else {
        frag!["(", sql, " IS NOT '' AND ", sql, " IS NOT NULL)"]
    }
}

fn null_as_empty(x: &Resolved) -> Frag {
    match x.class {
        Class::Const(Value::Null) => Frag::param(Value::Text(String::new())),
        _ => x.sql.clone(),
    }
}

/// The `~` pattern for a value: `%value%` with `\`, `_` (and `%`) escaped, unless
/// the value already contains `%`, in which case it is used as written.
pub(crate) fn like_pattern(value: &str) -> String {
    if value.contains('%') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('%');
    for c in value.chars() {
        if matches!(c, '\\' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Wraps a TEXT column holding one value or a JSON array so `json_each` always
/// sees an array (a plain value becomes a one-item array, NULL becomes `[null]`).
pub(crate) fn as_json_array(col: &str) -> Frag {
    Frag::raw(format!(
        "CASE WHEN CASE WHEN json_valid({col}) THEN json_type({col}) = 'array' ELSE 0 END THEN {col} ELSE json_array({col}) END"
    ))
}

/// Like [`as_json_array`], but '' and NULL become `[]` (for `:length`).
fn as_json_array_or_empty(col: &str) -> Frag {
    Frag::raw(format!(
        "CASE WHEN CASE WHEN json_valid({col}) THEN json_type({col}) = 'array' ELSE 0 END THEN {col} \
         WHEN {col} = '' OR {col} IS NULL THEN json_array() ELSE json_array({col}) END"
    ))
}

fn push_json_key(path: &mut String, key: &str) {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        path.push('[');
        path.push_str(key);
        path.push(']');
    } else {
        path.push('.');
        path.push_str(key);
    }
}

/// Record ids from a submitted relation value (a string or an array of strings).
fn relation_ids(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON request value as a bound parameter.
fn json_to_value(v: Option<&Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::Null,
        Some(Json::Bool(b)) => Value::Integer((*b).into()),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        Some(Json::String(s)) => Value::Text(s.clone()),
        Some(other) => Value::Text(other.to_string()),
    }
}

/// A numeric literal as an integer when it is one, else a float.
pub(crate) fn parse_number(text: &str) -> Option<Value> {
    if !text.contains('.') {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::Integer(i));
        }
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Real)
}
