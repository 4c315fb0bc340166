//! The collection editor's form: what the browser posts, how it becomes the JSON
//! body the collections API takes, and how the API's validation errors come back
//! as one message per form input (`fields.2.name`, `listRule`, …).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::schema::Collection;

/// The five API rules, by their JSON key and the string naming them.
pub const RULES: [(&str, &str); 5] = [
    ("listRule", "rule_list"),
    ("viewRule", "rule_view"),
    ("createRule", "rule_create"),
    ("updateRule", "rule_update"),
    ("deleteRule", "rule_delete"),
];

/// The rules only auth collections have: who may sign in, who may manage
/// other users (email, `verified`, password without the old one).
pub const AUTH_RULES: [(&str, &str); 2] =
    [("authRule", "rule_auth"), ("manageRule", "rule_manage")];

/// Every field type the schema supports, in the order the editor offers them.
pub const FIELD_TYPES: [&str; 13] = [
    "text", "number", "bool", "email", "url", "editor", "date", "autodate", "select", "json",
    "relation", "file", "password",
];

/// The posted editor: plain inputs, plus the field list as JSON (kept by Alpine
/// in a hidden input, since rows are added, removed and reordered in the page).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct CollectionForm {
    /// Collection name.
    #[serde(default)]
    pub name: String,
    /// base, auth or view.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The fields, as a JSON array in the API's shape.
    #[serde(default)]
    pub fields: String,
    /// `CREATE [UNIQUE] INDEX` statements, one per line.
    #[serde(default)]
    pub indexes: String,
    /// A view's SELECT.
    #[serde(default, rename = "viewQuery")]
    pub view_query: String,
    #[serde(default, rename = "listRule")]
    list_rule: String,
    #[serde(default, rename = "viewRule")]
    view_rule: String,
    #[serde(default, rename = "createRule")]
    create_rule: String,
    #[serde(default, rename = "updateRule")]
    update_rule: String,
    #[serde(default, rename = "deleteRule")]
    delete_rule: String,
    #[serde(default, rename = "listRuleLocked")]
    list_locked: Option<String>,
    #[serde(default, rename = "viewRuleLocked")]
    view_locked: Option<String>,
    #[serde(default, rename = "createRuleLocked")]
    create_locked: Option<String>,
    #[serde(default, rename = "updateRuleLocked")]
    update_locked: Option<String>,
    #[serde(default, rename = "deleteRuleLocked")]
    delete_locked: Option<String>,
    /// The live check: which rule to check.
    #[serde(default)]
    pub rule: String,
    /// The live check: the name of the collection being edited (empty when new).
    #[serde(default)]
    pub editing: String,
    /// Auth collections: the OAuth2 options as JSON (kept by Alpine in a hidden
    /// input), secrets left out; empty: unchanged.
    #[serde(default)]
    pub oauth2: String,
    #[serde(default, rename = "authRule")]
    auth_rule: String,
    #[serde(default, rename = "manageRule")]
    manage_rule: String,
    #[serde(default, rename = "authRuleLocked")]
    auth_locked: Option<String>,
    #[serde(default, rename = "manageRuleLocked")]
    manage_locked: Option<String>,
    /// Auth collections: the sign-in options this page edits (`mfa`, `otp`).
    #[serde(flatten)]
    pub sign_in: SignInForm,
}

/// An auth collection's second factor and one-time codes, as the editor shows
/// them (checkboxes come as `on` when ticked).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct SignInForm {
    /// Whether the form carried these inputs at all (an auth collection's page).
    #[serde(default, rename = "signInShown")]
    pub shown: Option<String>,
    #[serde(default, rename = "mfaEnabled")]
    mfa_enabled: Option<String>,
    #[serde(default, rename = "mfaDuration")]
    mfa_duration: String,
    #[serde(default, rename = "mfaRule")]
    mfa_rule: String,
    #[serde(default, rename = "otpEnabled")]
    otp_enabled: Option<String>,
    #[serde(default, rename = "otpDuration")]
    otp_duration: String,
    #[serde(default, rename = "otpLength")]
    otp_length: String,
}

impl SignInForm {
    fn of(a: &crate::schema::auth::AuthOptions) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        SignInForm {
            shown: Some("1".into()),
            mfa_enabled: on(a.mfa.enabled),
            mfa_duration: a.mfa.duration.to_string(),
            mfa_rule: a.mfa.rule.clone(),
            otp_enabled: on(a.otp.enabled),
            otp_duration: a.otp.duration.to_string(),
            otp_length: a.otp.length.to_string(),
        }
    }

    /// `mfa` and `otp` as the API takes them; a number that is not one is sent
    /// as typed, so the API's own error names it.
    fn body(&self, body: &mut Map<String, Value>) {
        if self.shown.is_none() {
            return;
        }
        let number = |s: &str| match s.trim().parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(s.trim()),
        };
        body.insert(
            "mfa".into(),
            json!({"enabled": self.mfa_enabled.is_some(), "duration": number(&self.mfa_duration), "rule": self.mfa_rule.trim()}),
        );
        body.insert(
            "otp".into(),
            json!({"enabled": self.otp_enabled.is_some(), "duration": number(&self.otp_duration), "length": number(&self.otp_length)}),
        );
    }
}

/// One rule as the page shows it.
#[derive(Debug, Serialize)]
pub struct RuleView {
    /// JSON key (`listRule`).
    pub key: &'static str,
    /// i18n key of its label.
    pub label: &'static str,
    /// The filter text.
    pub value: String,
    /// Superusers only (`null`).
    pub locked: bool,
    /// Shown for auth collections only.
    pub auth_only: bool,
}

impl CollectionForm {
    /// The form showing an existing collection.
    pub fn of(c: &Collection) -> Self {
        let editable: Vec<_> = c.fields.clone();
        let lock = |r: &Option<String>| r.is_none().then(|| "1".to_string());
        let text = |r: &Option<String>| r.clone().unwrap_or_default();
        Self {
            name: c.name.clone(),
            kind: serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "base".into()),
            fields: serde_json::to_string(&editable).unwrap_or_else(|_| "[]".into()),
            indexes: c.indexes.join("\n"),
            view_query: c.view_query.clone(),
            list_rule: text(&c.list_rule),
            view_rule: text(&c.view_rule),
            create_rule: text(&c.create_rule),
            update_rule: text(&c.update_rule),
            delete_rule: text(&c.delete_rule),
            list_locked: lock(&c.list_rule),
            view_locked: lock(&c.view_rule),
            create_locked: lock(&c.create_rule),
            update_locked: lock(&c.update_rule),
            delete_locked: lock(&c.delete_rule),
            rule: String::new(),
            editing: c.name.clone(),
            oauth2: c
                .auth
                .as_ref()
                .map(|a| oauth2_without_secrets(&a.oauth2).to_string())
                .unwrap_or_default(),
            auth_rule: c
                .auth
                .as_ref()
                .map(|a| text(&a.auth_rule))
                .unwrap_or_default(),
            manage_rule: c
                .auth
                .as_ref()
                .map(|a| text(&a.manage_rule))
                .unwrap_or_default(),
            auth_locked: c.auth.as_ref().and_then(|a| lock(&a.auth_rule)),
            manage_locked: c
                .auth
                .as_ref()
                .map_or(Some("1".to_string()), |a| lock(&a.manage_rule)),
            sign_in: c.auth.as_ref().map(SignInForm::of).unwrap_or_default(),
        }
    }

    /// The posted OAuth2 options (`None`: not on the page).
    pub fn oauth2_value(&self) -> Result<Option<Value>, FormProblem> {
        if self.oauth2.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&self.oauth2)
            .map(Some)
            .map_err(|e| FormProblem {
                key: "oauth2",
                message: format!("The OAuth2 settings could not be read ({e}); reload the page."),
            })
    }

    /// An empty editor for a new base collection (every rule locked, as PocketBase).
    pub fn blank() -> Self {
        let locked = Some("1".to_string());
        let id = serde_json::to_string(&[crate::schema::Field::id_field()]);
        Self {
            kind: "base".into(),
            fields: id.unwrap_or_else(|_| "[]".into()),
            list_locked: locked.clone(),
            view_locked: locked.clone(),
            create_locked: locked.clone(),
            update_locked: locked.clone(),
            delete_locked: locked.clone(),
            // A new auth collection: anyone with a password may sign in, only
            // superusers manage users (PocketBase's defaults).
            manage_locked: locked,
            sign_in: SignInForm::of(&crate::schema::auth::AuthOptions::default()),
            ..Self::default()
        }
    }

    /// The rule `key` as the API takes it: `None` when locked, else the text.
    pub fn rule_value(&self, key: &str) -> Option<String> {
        let (text, locked) = match key {
            "authRule" => (&self.auth_rule, &self.auth_locked),
            "manageRule" => (&self.manage_rule, &self.manage_locked),
            "listRule" => (&self.list_rule, &self.list_locked),
            "viewRule" => (&self.view_rule, &self.view_locked),
            "createRule" => (&self.create_rule, &self.create_locked),
            "updateRule" => (&self.update_rule, &self.update_locked),
            _ => (&self.delete_rule, &self.delete_locked),
        };
        match locked.as_deref() {
            Some(v) if !v.is_empty() => None,
            _ => Some(text.clone()),
        }
    }

    /// The five rules, then the two of auth collections, for the page.
    pub fn rules(&self) -> Vec<RuleView> {
        RULES
            .iter()
            .chain(AUTH_RULES.iter())
            .map(|(key, label)| {
                let value = self.rule_value(key);
                RuleView {
                    key,
                    label,
                    locked: value.is_none(),
                    value: value.unwrap_or_else(|| self.rule_text(key)),
                    auth_only: AUTH_RULES.iter().any(|(k, _)| k == key),
                }
            })
            .collect()
    }

    fn rule_text(&self, key: &str) -> String {
        match key {
            "authRule" => &self.auth_rule,
            "manageRule" => &self.manage_rule,
            "listRule" => &self.list_rule,
            "viewRule" => &self.view_rule,
            "createRule" => &self.create_rule,
            "updateRule" => &self.update_rule,
            _ => &self.delete_rule,
        }
        .clone()
    }

    /// The field list as JSON (an unreadable one is a problem on `fields`).
    pub fn field_values(&self) -> Result<Vec<Value>, FormProblem> {
        if self.fields.trim().is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&self.fields).map_err(|e| FormProblem {
            key: "fields",
            message: format!("The field list could not be read ({e}); reload the page."),
        })
    }

    /// The JSON body of `POST /api/collections` / `PATCH /api/collections/{name}`.
    pub fn body(&self) -> Result<Value, FormProblem> {
        let mut body = Map::new();
        body.insert("name".into(), json!(self.name.trim()));
        let kind = if self.kind.is_empty() {
            "base"
        } else {
            &self.kind
        };
        body.insert("type".into(), json!(kind));
        if kind == "view" {
            body.insert("viewQuery".into(), json!(self.view_query));
        } else {
            // The `id` field comes first, as the API will store it, so the
            // indexes of its errors (`fields.2.name`) are the rows of the page.
            let mut fields = self.field_values()?;
            if !fields.iter().any(|f| f["name"] == "id") {
                let id = serde_json::to_value(crate::schema::Field::id_field()).unwrap_or_default();
                fields.insert(0, id);
            }
            body.insert("fields".into(), Value::Array(fields));
        }
        let indexes: Vec<&str> = self
            .indexes
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        body.insert("indexes".into(), json!(indexes));
        for (key, _) in RULES {
            body.insert(key.into(), json!(self.rule_value(key)));
        }
        if kind == "auth" {
            if let Some(oauth2) = self.oauth2_value()? {
                body.insert("oauth2".into(), oauth2);
            }
            for (key, _) in AUTH_RULES {
                body.insert(key.into(), json!(self.rule_value(key)));
            }
            self.sign_in.body(&mut body);
        }
        Ok(body.into())
    }
}

/// OAuth2 options for the page: never a client secret in the HTML (an empty
/// secret keeps the saved one).
fn oauth2_without_secrets(o: &crate::schema::auth::OAuth2Options) -> Value {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(providers) = v.get_mut("providers").and_then(Value::as_array_mut) {
        for p in providers.iter_mut().filter_map(Value::as_object_mut) {
            p.remove("clientSecret");
        }
    }
    v
}

/// A form input the server could not turn into the API's body.
#[derive(Debug)]
pub struct FormProblem {
    /// The input (`fields`).
    pub key: &'static str,
    /// What to do.
    pub message: String,
}

/// `ApiError.data` flattened to one message per input: `{"fields": {"2": {"name":
/// {"code", "message"}}}}` becomes `fields.2.name → message`.
pub fn flatten_errors(data: &Map<String, Value>) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(map) if map.get("message").is_some_and(Value::is_string) => {
                let message = map["message"].as_str().unwrap_or_default();
                out.insert(prefix.to_string(), message.to_string());
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk("", &Value::Object(data.clone()), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> CollectionForm {
        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&");
        match actix_web::web::Query::<CollectionForm>::from_query(&encoded) {
            Ok(f) => f.into_inner(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_form_becomes_the_api_body() -> Result<(), FormProblem> {
        let f = form(&[
            ("name", "tasks"),
            ("type", "base"),
            ("fields", r#"[{"name":"title","type":"text"}]"#),
            ("indexes", "CREATE INDEX a ON tasks (title)\n\n"),
            ("listRule", "title != ''"),
            ("viewRule", ""),
            ("createRuleLocked", "1"),
            ("createRule", "ignored"),
        ]);
        let body = f.body()?;
        assert_eq!(body["name"], "tasks");
        assert_eq!(body["fields"][0]["name"], "id");
        assert_eq!(body["fields"][1]["name"], "title");
        assert_eq!(body["indexes"], json!(["CREATE INDEX a ON tasks (title)"]));
        assert_eq!(body["listRule"], "title != ''");
        assert_eq!(body["viewRule"], "");
        assert_eq!(body["createRule"], Value::Null);
        assert_eq!(body["updateRule"], "");
        assert!(form(&[("fields", "[nope")]).body().is_err());
        Ok(())
    }

    #[test]
    fn oauth2_options_reach_the_body_but_secrets_never_reach_the_page() -> Result<(), FormProblem> {
        let c: Collection = match serde_json::from_value(json!({
            "name": "members", "type": "auth",
            "oauth2": {"enabled": true, "providers": [{"name": "google", "clientId": "id", "clientSecret": "s3cret"}]}
        })) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let f = CollectionForm::of(&c);
        assert!(!f.oauth2.contains("s3cret"));
        assert!(f.oauth2.contains("google"));
        let body = f.body()?;
        assert_eq!(body["oauth2"]["providers"][0]["clientId"], "id");
        assert_eq!(body["oauth2"]["enabled"], true);
        let base = form(&[("name", "x"), ("type", "base"), ("oauth2", "{}")]).body()?;
        assert!(
            base.get("oauth2").is_none(),
            "only auth collections have OAuth2"
        );
        assert!(
            form(&[("type", "auth"), ("oauth2", "{nope")])
                .body()
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn nested_errors_become_one_message_per_input() {
        let data = json!({
            "name": {"code": "x", "message": "Bad name."},
            "fields": {"2": {"name": {"code": "y", "message": "Invalid field name."}}},
        });
        let flat = flatten_errors(data.as_object().unwrap_or(&Map::new()));
        assert_eq!(flat["name"], "Bad name.");
        assert_eq!(flat["fields.2.name"], "Invalid field name.");
        assert_eq!(flat.len(), 2);
    }

    #[test]
    fn an_existing_collection_round_trips_through_the_form() -> Result<(), FormProblem> {
        let c: Collection = match serde_json::from_value(json!({
            "name": "posts", "listRule": "", "viewRule": null,
            "fields": [{"name": "title", "type": "text"}]
        })) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let body = CollectionForm::of(&c).body()?;
        assert_eq!(body["listRule"], "");
        assert_eq!(body["viewRule"], Value::Null);
        assert_eq!(body["fields"][0]["name"], "id");
        assert_eq!(body["fields"][1]["name"], "title");
        Ok(())
    }
}
