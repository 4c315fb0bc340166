//! Parses and compiles arbitrary UTF-8 as a filter and as a sort against a fixed
//! schema. Must never panic; compiled SQL must only hold placeholders for values.
//!
//! Run (stable toolchain): `cd crates/litebase/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run filter -- -max_total_time=60`
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use litebase::query::{
    CollectionInfo, CompileOptions, FieldInfo, FieldKind, RequestInfo, compile_filter, compile_sort,
    parse_filter,
};

fn schema() -> HashMap<String, CollectionInfo> {
    use FieldKind::*;
    let users = CollectionInfo {
        name: "users".into(),
        fields: vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("name", Text),
            FieldInfo::new("password", Password).hidden(),
            FieldInfo::relation("friends", "users", true),
        ],
    };
    let posts = CollectionInfo {
        name: "posts".into(),
        fields: vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("title", Text),
            FieldInfo::new("views", Number),
            FieldInfo::relation("author", "users", false),
            FieldInfo::relation("editors", "users", true),
            FieldInfo::new("tags", Select).multiple(),
            FieldInfo::new("meta", Json),
            FieldInfo::relation("parent", "posts", false),
        ],
    };
    [users, posts].into_iter().map(|c| (c.name.clone(), c)).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let schema = schema();
    let mut req = RequestInfo::default();
    req.body.insert("title".into(), serde_json::json!("x"));
    req.body.insert("author".into(), serde_json::json!("u1"));
    let mut auth = serde_json::Map::new();
    auth.insert("id".into(), serde_json::json!("u1"));
    auth.insert("collectionName".into(), serde_json::json!("users"));
    auth.insert("friends".into(), serde_json::json!(["u2"]));
    req.auth = Some(auth);
    let _ = parse_filter(text);
    for allow_hidden in [false, true] {
        let opts = CompileOptions { table_alias: "t".into(), allow_hidden };
        if let Ok(sql) = compile_filter(text, "posts", &schema, &req, &opts) {
            assert_eq!(sql.sql.matches('?').count(), sql.params.len(), "{text:?} → {}", sql.sql);
        }
        let _ = compile_sort(text, "posts", &schema, &opts);
    }
});
