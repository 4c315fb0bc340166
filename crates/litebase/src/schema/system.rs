//! Collections litebase itself defines, described like any other so the API and
//! the SDK see them (PocketBase lists `_superusers` among the collections).

use serde_json::json;

use super::Collection;

/// `_superusers`: the accounts that may do anything. Its table comes from the
/// system migrations; its rules are all `null` (superusers only).
pub fn superusers() -> Collection {
    let value = json!({
        "id": crate::core::SUPERUSERS_COLLECTION_ID,
        "name": "_superusers",
        "type": "auth",
        "system": true,
        "fields": [
            {"id": "text3208210256", "name": "id", "type": "text", "system": true, "required": true,
             "min": 15, "max": 15, "pattern": "^[a-z0-9]+$", "autogeneratePattern": "[a-z0-9]{15}", "primaryKey": true},
            {"id": "password901924565", "name": "password", "type": "password", "system": true, "hidden": true, "required": true, "min": 8},
            {"id": "text2504183744", "name": "tokenKey", "type": "text", "system": true, "hidden": true, "required": true, "min": 30, "max": 60},
            {"id": "email3885137012", "name": "email", "type": "email", "system": true, "required": true},
            {"id": "bool1547992806", "name": "emailVisibility", "type": "bool", "system": true},
            {"id": "bool256245529", "name": "verified", "type": "bool", "system": true},
            {"id": "autodate2990389176", "name": "created", "type": "autodate", "system": true, "onCreate": true},
            {"id": "autodate3332085495", "name": "updated", "type": "autodate", "system": true, "onCreate": true, "onUpdate": true}
        ],
        "indexes": [],
        "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null
    });
    serde_json::from_value(value).unwrap_or_else(|_| Collection {
        id: crate::core::SUPERUSERS_COLLECTION_ID.into(),
        name: "_superusers".into(),
        kind: super::CollectionType::Auth,
        system: true,
        fields: vec![super::Field::id_field()],
        indexes: Vec::new(),
        list_rule: None,
        view_rule: None,
        create_rule: None,
        update_rule: None,
        delete_rule: None,
        view_query: String::new(),
        created: String::new(),
        updated: String::new(),
    })
}

/// Fields never returned by the API, whoever asks.
pub fn is_secret_field(c: &Collection, field: &str) -> bool {
    c.kind == super::CollectionType::Auth && matches!(field, "tokenKey" | "password")
}
