//! API rules and `?filter=`: the bridge between collections and the filter compiler.

use serde_json::{Map, Value, json};

use crate::auth::request::Auth;
use crate::query::{self, Access, CompileOptions, RequestInfo, SqlExpr};
use crate::schema::collection::Problems;
use crate::schema::query_view::QuerySchema;
use crate::schema::{Collection, CollectionType, Schema};

/// Compiles the rules of `c` against the schema it would live in; each bad rule is
/// reported under its own key, as PocketBase does.
pub fn check_rules(schema: &Schema, c: &Collection) -> Result<(), Problems> {
    let qs = QuerySchema::build(schema.all().iter().map(|x| x.as_ref()), Some(c));
    let mut problems = Problems::new();
    let req = RequestInfo::default();
    let opts = CompileOptions::full("t");
    for (key, rule) in [
        ("listRule", &c.list_rule),
        ("viewRule", &c.view_rule),
        ("createRule", &c.create_rule),
        ("updateRule", &c.update_rule),
        ("deleteRule", &c.delete_rule),
    ] {
        if let Some(rule) = rule {
            if c.kind == CollectionType::View
                && matches!(key, "createRule" | "updateRule" | "deleteRule")
            {
                continue;
            }
            if let Err(e) = query::compile_filter(rule, &c.name, &qs, &req, &opts) {
                problems.insert(
                    key.into(),
                    json!({"code": "validation_invalid_rule", "message": format!("Invalid rule: {e}.")}),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// What a rule or filter may read about the request.
pub fn request_info(
    auth: &Auth,
    method: &str,
    query: Map<String, Value>,
    headers: Map<String, Value>,
    body: Map<String, Value>,
) -> RequestInfo {
    RequestInfo {
        auth: auth.record().map(|r| r.record.clone()),
        body,
        query,
        headers,
        method: method.to_string(),
        context: "default".into(),
        now: time::OffsetDateTime::now_utc(),
    }
}

/// Compiles `text` for requests on `c` (`FROM c AS t`): an API rule or a
/// superuser's filter with [`Access::Full`], a client's filter with
/// [`Access::Client`].
pub fn compile(
    qs: &QuerySchema,
    c: &Collection,
    text: &str,
    req: &RequestInfo,
    access: Access,
) -> Result<SqlExpr, query::FilterError> {
    let opts = CompileOptions {
        table_alias: "t".into(),
        access,
    };
    query::compile_filter(text, &c.name, qs, req, &opts)
}

/// The access a requester's own filter or sort gets.
pub fn client_access(superuser: bool) -> Access {
    if superuser {
        Access::Full
    } else {
        Access::Client
    }
}

/// What only superusers may write in `?filter=` and `?sort=`: a client reading its
/// own request data or arbitrary collections there could probe other people's rules
/// and rows. Like PocketBase, a plain substring check of the raw text; the answer
/// is a 403 naming the first one found.
pub fn superuser_only_token(text: &str) -> Option<&'static str> {
    ["@collection.", "@request."]
        .into_iter()
        .find(|token| text.contains(token))
}
