//! Record files against the `litebase` binary: multipart uploads with
//! PocketBase's names, modifiers and limits; downloads with their headers,
//! thumbs, protected files and file tokens; files removed only once the write
//! that let them go commits (never on a rollback, orphan uploads removed);
//! cascades; hostile uploads. The S3 store is checked against SeaweedFS in
//! `files_s3.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use litebase::testing::{Http, ServerProcess, agent};
use serde_json::{Value, json};
use support::files::{BOUNDARY, Part, download, get_with, multipart, png, send_form};

fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The files stored for a record on disk (thumb folders excluded), sorted.
fn on_disk(dir: &Path, collection_id: &str, id: &str) -> Vec<String> {
    let folder = dir.join("storage").join(collection_id).join(id);
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits (up to 5 s) until `check` holds: files are removed after the commit,
/// by the cleaner's thread.
fn eventually(what: &str, check: impl Fn() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !check() {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(5), "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A server with the `docs` collection: `one` (a single file up to 100 bytes),
/// `many` (up to 3 text or PNG files, thumbs 20x10), everything public.
fn docs_server(dir: &Path) -> anyhow::Result<(ServerProcess, String, String)> {
    let (server, token) = support::serve_as_admin(dir)?;
    let created = Http::new().post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({
            "name": "docs", "type": "base",
            "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "one", "type": "file", "maxSelect": 1, "maxSize": 100},
                {"name": "many", "type": "file", "maxSelect": 3,
                 "mimeTypes": ["text/plain", "image/png"], "thumbs": ["20x10", "8x8f"]},
            ],
            "indexes": ["CREATE UNIQUE INDEX idx_docs_title ON docs (title)"],
        }),
    )?;
    anyhow::ensure!(created.status == 200, "create docs: {}", created.text);
    let id = created.json["id"].as_str().unwrap_or_default().to_string();
    Ok((server, token, id))
}

#[test]
fn uploads_modifiers_limits_downloads_and_thumbs() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, cid) = docs_server(dir.path())?;
    let records = server.url("/api/collections/docs/records");
    let image = png(40, 20);
    let (status, rec) = send_form(
        "POST",
        &records,
        &token,
        &[
            Part::Text("title", "first"),
            Part::File("one", "Hello World.txt", b"hello"),
            Part::File("many", "b.txt", b"bee"),
            Part::File("many", "pic.png", &image),
        ],
    )?;
    assert_eq!(status, 200, "{rec}");
    let id = rec["id"].as_str().unwrap_or_default().to_string();
    let one = rec["one"].as_str().unwrap_or_default().to_string();
    let pattern = regex::Regex::new(r"^hello_world_[a-z0-9]{10}\.txt$")?;
    assert!(pattern.is_match(&one), "PocketBase's stored name: {one}");
    let many = names(&rec["many"]);
    assert_eq!(many.len(), 2, "{rec}");
    let mut expected = many.clone();
    expected.push(one.clone());
    assert_eq!(on_disk(dir.path(), &cid, &id), sorted(expected));

    // Downloads: the bytes, the type, inline only for safe types, caching.
    let url = |name: &str| server.url(&format!("/api/files/docs/{id}/{name}"));
    let text = download(&url(&one))?;
    assert_eq!((text.status, text.body.as_slice()), (200, &b"hello"[..]));
    assert_eq!(text.content_type, "text/plain; charset=utf-8");
    assert_eq!(text.disposition, format!("attachment; filename=\"{one}\""));
    assert_eq!(text.cache, "max-age=2592000, stale-while-revalidate=86400");
    let pic = many
        .iter()
        .find(|n| n.ends_with(".png"))
        .cloned()
        .unwrap_or_default();
    let shown = download(&url(&pic))?;
    assert_eq!(
        (shown.status, shown.content_type.as_str()),
        (200, "image/png")
    );
    assert_eq!(shown.disposition, format!("inline; filename=\"{pic}\""));
    assert_eq!(shown.body, image);
    let forced = download(&format!("{}?download=1", url(&pic)))?;
    assert!(
        forced.disposition.starts_with("attachment;"),
        "{}",
        forced.disposition
    );
    // One byte range (what players ask to seek), 416 past the end, and 304
    // for a copy that is still current.
    let (status, range, head) = get_with(&url(&pic), &[("Range", "bytes=1-3")], "content-range")?;
    assert_eq!(
        (status, range.as_str()),
        (206, format!("bytes 1-3/{}", image.len()).as_str())
    );
    assert_eq!(head, image[1..4]);
    let (status, _, tail) = get_with(&url(&pic), &[("Range", "bytes=-5")], "content-range")?;
    assert_eq!((status, tail.as_slice()), (206, &image[image.len() - 5..]));
    let (status, range, _) = get_with(&url(&pic), &[("Range", "bytes=99999-")], "content-range")?;
    assert_eq!((status, range), (416, format!("bytes */{}", image.len())));
    let (_, modified, _) = get_with(&url(&pic), &[], "last-modified")?;
    let (status, _, body) = get_with(&url(&pic), &[("If-Modified-Since", &modified)], "")?;
    assert_eq!((status, body.len()), (304, 0));
    // Also by collection id; an unknown name or record is a 404.
    let by_id = download(&server.url(&format!("/api/files/{cid}/{id}/{one}")))?;
    assert_eq!(by_id.status, 200);
    assert_eq!(download(&url("nope.txt"))?.status, 404);
    assert_eq!(
        download(&server.url(&format!("/api/files/docs/xxxxxxxxxxxxxxx/{one}")))?.status,
        404
    );

    // Thumbs: listed sizes and the default 100x100, made once and kept next to
    // the file; other sizes and non-images get the original.
    for (size, dims) in [
        ("20x10", (20, 10)),
        ("8x8f", (8, 4)),
        ("100x100", (100, 100)),
    ] {
        let thumb = download(&format!("{}?thumb={size}", url(&pic)))?;
        assert_eq!(thumb.status, 200);
        assert_eq!(
            thumb.disposition,
            format!("inline; filename=\"{size}_{pic}\"")
        );
        let img = image::load_from_memory(&thumb.body)?;
        assert_eq!((img.width(), img.height()), dims, "{size}");
        let kept = dir
            .path()
            .join(format!("storage/{cid}/{id}/thumbs_{pic}/{size}_{pic}"));
        assert!(kept.is_file(), "{}", kept.display());
    }
    let unlisted = download(&format!("{}?thumb=30x30", url(&pic)))?;
    assert_eq!(
        unlisted.body, image,
        "a size the field does not list: the original"
    );
    let not_image = download(&format!("{}?thumb=20x10", url(&one)))?;
    assert_eq!(not_image.body, b"hello");

    // `many+` appends, `many-` removes (the file goes once the update commits),
    // a plain key with an upload keeps the names the form resent.
    let (status, rec) = send_form(
        "PATCH",
        &format!("{records}/{id}"),
        &token,
        &[Part::File("many+", "c.txt", b"sea")],
    )?;
    assert_eq!(status, 200, "{rec}");
    let three = names(&rec["many"]);
    assert_eq!(three.len(), 3);
    assert!(three[..2] == many[..], "appended at the end: {three:?}");
    let bee = many
        .iter()
        .find(|n| n.ends_with(".txt"))
        .cloned()
        .unwrap_or_default();
    let reply = Http::new().patch_json_auth(
        &format!("{records}/{id}"),
        &token,
        &json!({"many-": [bee]}),
    )?;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(names(&reply.json["many"]).len(), 2);
    eventually("the removed file is gone", || {
        !dir.path()
            .join(format!("storage/{cid}/{id}/{bee}"))
            .exists()
    })?;
    eventually("its thumbs go with the file", || {
        !dir.path()
            .join(format!("storage/{cid}/{id}/thumbs_{bee}"))
            .exists()
    })?;

    // Limits, in PocketBase's error shape; nothing new is left on disk.
    let before = on_disk(dir.path(), &cid, &id);
    let cases: Vec<(&str, Vec<Part>, &str, &str)> = vec![
        (
            "too many",
            vec![
                Part::File("many+", "d.txt", b"d"),
                Part::File("many+", "e.txt", b"e"),
            ],
            "many",
            "validation_too_many_files",
        ),
        (
            "too big",
            vec![Part::File("one", "big.txt", &[b'x'; 101])],
            "one",
            "validation_file_size_limit",
        ),
        (
            "wrong type",
            vec![Part::File("many+", "bin.txt", b"\x00\x01\x02\x03")],
            "many",
            "validation_invalid_mime_type",
        ),
    ];
    for (what, parts, field, code) in cases {
        let (status, err) = send_form("PATCH", &format!("{records}/{id}"), &token, &parts)?;
        assert_eq!(status, 400, "{what}: {err}");
        assert_eq!(err["data"][field]["code"], code, "{what}: {err}");
        assert_eq!(err["message"], "Failed to update record.");
        assert_eq!(
            on_disk(dir.path(), &cid, &id),
            before,
            "{what}: no orphan upload"
        );
    }
    let plain = Http::new().patch_json_auth(
        &format!("{records}/{id}"),
        &token,
        &json!({"many": ["made_up.txt"]}),
    )?;
    assert_eq!(
        plain.json["data"]["many"]["code"], "validation_invalid_file",
        "{}",
        plain.text
    );

    // Replacing the single file and clearing a field remove the old files.
    let (status, rec) = send_form(
        "PATCH",
        &format!("{records}/{id}"),
        &token,
        &[Part::File("one", "new.txt", b"new")],
    )?;
    assert_eq!(status, 200, "{rec}");
    assert_ne!(rec["one"], json!(one));
    eventually("the replaced file is gone", || {
        !dir.path()
            .join(format!("storage/{cid}/{id}/{one}"))
            .exists()
    })?;
    let cleared =
        Http::new().patch_json_auth(&format!("{records}/{id}"), &token, &json!({"many": []}))?;
    assert_eq!(cleared.json["many"], json!([]), "{}", cleared.text);
    let left = rec["one"].as_str().unwrap_or_default().to_string();
    eventually("only the new single file is left", || {
        on_disk(dir.path(), &cid, &id) == vec![left.clone()]
    })?;

    // Deleting the record removes its files and its folder.
    let status = Http::new().agent_delete(&format!("{records}/{id}"), &token)?;
    assert_eq!(status, 204);
    eventually("the record's folder is gone", || {
        !dir.path().join(format!("storage/{cid}/{id}")).exists()
    })?;
    Ok(())
}

#[test]
fn a_rolled_back_write_keeps_the_files_and_drops_its_uploads() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, cid) = docs_server(dir.path())?;
    let records = server.url("/api/collections/docs/records");
    let (_, taken) = send_form("POST", &records, &token, &[Part::Text("title", "taken")])?;
    assert!(taken["id"].is_string(), "{taken}");
    let (status, rec) = send_form(
        "POST",
        &records,
        &token,
        &[
            Part::Text("title", "mine"),
            Part::File("one", "keep.txt", b"keep"),
        ],
    )?;
    assert_eq!(status, 200, "{rec}");
    let id = rec["id"].as_str().unwrap_or_default().to_string();
    let kept = rec["one"].as_str().unwrap_or_default().to_string();

    // The row fails at the UNIQUE index, inside the transaction: the stored
    // file stays, the new upload is removed again.
    let (status, err) = send_form(
        "PATCH",
        &format!("{records}/{id}"),
        &token,
        &[
            Part::Text("title", "taken"),
            Part::File("one", "replacement.txt", b"new"),
        ],
    )?;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        err["data"]["title"]["code"], "validation_not_unique",
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(on_disk(dir.path(), &cid, &id), vec![kept.clone()]);

    // A batch that deletes the record and then fails rolls the delete back:
    // the record and its file are still there.
    let batch = Http::new().post_json_auth(
        &server.url("/api/batch"),
        &token,
        &json!({"requests": [
            {"method": "DELETE", "url": format!("/api/collections/docs/records/{id}")},
            {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "taken"}},
        ]}),
    )?;
    assert_eq!(batch.status, 400, "{}", batch.text);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(on_disk(dir.path(), &cid, &id), vec![kept.clone()]);
    let file = download(&server.url(&format!("/api/files/docs/{id}/{kept}")))?;
    assert_eq!((file.status, file.body.as_slice()), (200, &b"keep"[..]));

    // A create that fails validation leaves no folder behind.
    let (status, _) = send_form(
        "POST",
        &records,
        &token,
        &[
            Part::Text("title", "taken"),
            Part::File("one", "orphan.txt", b"o"),
        ],
    )?;
    assert_eq!(status, 400);
    let folders = || -> anyhow::Result<usize> {
        Ok(std::fs::read_dir(dir.path().join("storage").join(&cid))?.count())
    };
    assert_eq!(folders()?, 1, "only the record with a file has a folder");

    // A batch uploads too (`requests.N.field`), all or nothing.
    let batch = |second: &str| -> anyhow::Result<(u16, Value)> {
        let payload = json!({"requests": [
            {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": "batched"}},
            {"method": "POST", "url": "/api/collections/docs/records", "body": {"title": second}},
        ]})
        .to_string();
        send_form(
            "POST",
            &server.url("/api/batch"),
            &token,
            &[
                Part::Text("@jsonPayload", &payload),
                Part::File("requests.0.one", "first.txt", b"1"),
                Part::File("requests[1].many", "second.txt", b"2"),
            ],
        )
    };
    let (status, failed) = batch("taken")?;
    assert_eq!(status, 400, "{failed}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(folders()?, 1, "a failed batch leaves none of its uploads");
    let (status, done) = batch("other")?;
    assert_eq!(status, 200, "{done}");
    let first = &done[0]["body"];
    let name = first["one"].as_str().unwrap_or_default();
    assert!(name.starts_with("first_"), "{done}");
    let file = download(&server.url(&format!(
        "/api/files/docs/{}/{name}",
        first["id"].as_str().unwrap_or_default()
    )))?;
    assert_eq!(file.body, b"1");
    assert_eq!(names(&done[1]["body"]["many"]).len(), 1, "{done}");
    assert_eq!(folders()?, 3);
    Ok(())
}

#[test]
fn cascade_deletes_remove_the_files_of_every_deleted_record() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, docs_id) = docs_server(dir.path())?;
    let http = Http::new();
    let notes = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "notes", "type": "base", "fields": [
            {"name": "doc", "type": "relation", "collectionId": docs_id, "cascadeDelete": true, "maxSelect": 1},
            {"name": "attachment", "type": "file", "maxSelect": 1},
        ]}),
    )?;
    assert_eq!(notes.status, 200, "{}", notes.text);
    let notes_id = notes.json["id"].as_str().unwrap_or_default().to_string();
    let (_, doc) = send_form(
        "POST",
        &server.url("/api/collections/docs/records"),
        &token,
        &[Part::File("one", "parent.txt", b"p")],
    )?;
    let doc_id = doc["id"].as_str().unwrap_or_default().to_string();
    let (status, note) = send_form(
        "POST",
        &server.url("/api/collections/notes/records"),
        &token,
        &[
            Part::Text("doc", &doc_id),
            Part::File("attachment", "child.txt", b"c"),
        ],
    )?;
    assert_eq!(status, 200, "{note}");
    let note_id = note["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(on_disk(dir.path(), &notes_id, &note_id).len(), 1);
    let status = http.agent_delete(
        &server.url(&format!("/api/collections/docs/records/{doc_id}")),
        &token,
    )?;
    assert_eq!(status, 204);
    eventually("the cascaded record's files are gone", || {
        !dir.path()
            .join(format!("storage/{notes_id}/{note_id}"))
            .exists()
            && !dir
                .path()
                .join(format!("storage/{docs_id}/{doc_id}"))
                .exists()
    })?;
    Ok(())
}

#[test]
fn protected_files_need_a_file_token_that_passes_the_view_rule() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let users = http.patch_json_auth(
        &server.url("/api/collections/users"),
        &token,
        &json!({"createRule": "", "viewRule": "id = @request.auth.id"}),
    )?;
    assert_eq!(users.status, 200, "{}", users.text);
    let (alice, alice_token) =
        litebase::testing::sign_up(&server.url(""), "alice@example.com", "alice-password")?;
    let (_, bob_token) =
        litebase::testing::sign_up(&server.url(""), "bob@example.com", "bob-password")?;
    let made = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "papers", "type": "base", "viewRule": "owner = @request.auth.id",
                "fields": [
                    {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
                    {"name": "private", "type": "file", "protected": true},
                    {"name": "public", "type": "file"},
                ]}),
    )?;
    assert_eq!(made.status, 200, "{}", made.text);
    let (status, rec) = send_form(
        "POST",
        &server.url("/api/collections/papers/records"),
        &token,
        &[
            Part::Text("owner", &alice),
            Part::File("private", "secret.txt", b"secret"),
            Part::File("public", "open.txt", b"open"),
        ],
    )?;
    assert_eq!(status, 200, "{rec}");
    let id = rec["id"].as_str().unwrap_or_default();
    let private = server.url(&format!(
        "/api/files/papers/{id}/{}",
        rec["private"].as_str().unwrap_or_default()
    ));
    let public = server.url(&format!(
        "/api/files/papers/{id}/{}",
        rec["public"].as_str().unwrap_or_default()
    ));
    let file_token = |auth: &str| -> anyhow::Result<String> {
        let reply = http.post_json_auth(&server.url("/api/files/token"), auth, &json!({}))?;
        anyhow::ensure!(reply.status == 200, "file token: {}", reply.text);
        Ok(reply.json["token"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(download(&public)?.status, 200, "not protected: public");
    assert_eq!(download(&private)?.status, 404, "no token");
    assert_eq!(
        download(&format!("{private}?token={alice_token}"))?.status,
        404,
        "an auth token is no file token"
    );
    assert_eq!(
        download(&format!("{private}?token={}", file_token(&bob_token)?))?.status,
        404,
        "the view rule says no"
    );
    let mine = download(&format!("{private}?token={}", file_token(&alice_token)?))?;
    assert_eq!((mine.status, mine.body.as_slice()), (200, &b"secret"[..]));
    let admin = download(&format!("{private}?token={}", file_token(&token)?))?;
    assert_eq!(admin.status, 200, "superusers see every file");
    let anonymous = http.post_json(&server.url("/api/files/token"), &json!({}))?;
    assert_eq!(anonymous.status, 401);

    // Deleting the collection removes its records' files.
    let papers = made.json["id"].as_str().unwrap_or_default().to_string();
    assert!(dir.path().join("storage").join(&papers).exists());
    let status = http.agent_delete(&server.url("/api/collections/papers"), &token)?;
    assert_eq!(status, 204);
    assert!(
        !dir.path().join("storage").join(&papers).exists(),
        "files went with the collection"
    );
    Ok(())
}

#[test]
fn hostile_uploads_and_downloads() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, cid) = docs_server(dir.path())?;
    let records = server.url("/api/collections/docs/records");
    // Path tricks in the uploaded name end up as a plain stored name.
    let (status, rec) = send_form(
        "POST",
        &records,
        &token,
        &[Part::File("one", "../../../data.db", b"x")],
    )?;
    assert_eq!(status, 200, "{rec}");
    let stored = rec["one"].as_str().unwrap_or_default();
    assert!(!stored.contains('/') && !stored.contains(".."), "{stored}");
    let id = rec["id"].as_str().unwrap_or_default();
    assert_eq!(on_disk(dir.path(), &cid, id), vec![stored.to_string()]);
    for path in [
        format!("/api/files/docs/{id}/..%2F..%2Fdata.db"),
        format!("/api/files/docs/{id}/%2e%2e"),
        "/api/files/docs/..%2F..%2F/data.db".to_string(),
        format!("/api/files/nope/{id}/{stored}"),
    ] {
        assert_eq!(download(&server.url(&path))?.status, 404, "{path}");
    }
    // A body cut short, a part without a boundary: PocketBase's 400.
    let truncated = agent()
        .post(&records)
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("Authorization", &token)
        .send(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"one\"; filename=\"a.txt\"\r\n\r\nhalf")[..])?;
    assert_eq!(truncated.status().as_u16(), 400);
    let mut truncated = truncated;
    let err: Value = serde_json::from_str(&truncated.body_mut().read_to_string()?)?;
    assert_eq!(
        (err["status"].clone(), err["data"].clone()),
        (json!(400), json!({})),
        "{err}"
    );
    // More parts than Go's multipart reader takes: refused before they pile up.
    let parts: Vec<Part> = (0..1001)
        .map(|_| Part::File("many+", "t.txt", b"t"))
        .collect();
    let (status, err) = send_form("POST", &records, &token, &parts)?;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1000 parts"),
        "{err}"
    );
    // File parts are for record writes only.
    let (status, err) = send_form(
        "POST",
        &server.url("/api/collections/_superusers/auth-with-password"),
        "",
        &[Part::File("identity", "a.txt", b"a")],
    )?;
    assert_eq!(status, 400, "{err}");
    // Nothing was left in the temp folder.
    let temp = dir.path().join(".uploads");
    let waiting = std::fs::read_dir(&temp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(waiting, 0, "temp uploads are removed");
    Ok(())
}

#[test]
fn an_upload_over_the_body_limit_is_refused_and_leaves_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = support::serve(dir.path(), &["--log-level", "warn", "--body-limit", "4096"])?;
    let token = litebase::testing::superuser_token(&server)?;
    let created = Http::new().post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "big", "type": "base", "createRule": "", "fields": [{"name": "f", "type": "file"}]}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    // Sent chunked (no length to refuse up front): the stream is cut at the limit.
    let body = multipart(&[Part::File("f", "big.bin", &vec![b'x'; 64 * 1024])]);
    let reply = agent()
        .post(&server.url("/api/collections/big/records"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send(ureq::SendBody::from_reader(&mut &body[..]))?;
    assert_eq!(reply.status().as_u16(), 413);
    let temp: PathBuf = dir.path().join(".uploads");
    std::thread::sleep(Duration::from_millis(100));
    let waiting = std::fs::read_dir(&temp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(waiting, 0, "the partial upload is removed");
    assert!(
        !dir.path().join("storage").exists()
            || std::fs::read_dir(dir.path().join("storage"))?.count() == 0
    );
    Ok(())
}

#[test]
fn the_admin_form_uploads_lists_and_removes_files() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, cid) = docs_server(dir.path())?;
    let mut browser = support::admin::Browser::signed_in(&server)?;
    let new = browser.get("/_/collections/docs/records/new")?;
    assert!(
        new.body.contains("name=\"many+\""),
        "a file input per file field"
    );
    let csrf = new.csrf().unwrap_or_default();
    // What admin.js sends when files are chosen: multipart, the token in a header.
    let body = multipart(&[
        Part::Text("_csrf", &csrf),
        Part::Text("title", "from the admin"),
        Part::File("many+", "notes.txt", b"admin notes"),
        Part::File("many+", "pic.png", &png(12, 12)),
    ]);
    let send = |csrf_header: &str| -> anyhow::Result<(u16, String)> {
        let reply = agent()
            .post(&server.url("/_/collections/docs/records"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("Cookie", browser.cookie_header())
            .header("X-CSRF-Token", csrf_header)
            .send(&body[..])?;
        let location = reply
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((reply.status().as_u16(), location))
    };
    assert_eq!(send("forged")?.0, 403, "the CSRF header is checked");
    let (status, location) = send(&csrf)?;
    assert_eq!(status, 303);
    assert!(location.contains("flash=record_created"), "{location}");
    let list = Http::new().get_auth(
        &server.url("/api/collections/docs/records?filter=(title%3D%27from%20the%20admin%27)"),
        &token,
    )?;
    let rec = list.json["items"][0].clone();
    let id = rec["id"].as_str().unwrap_or_default().to_string();
    let stored = names(&rec["many"]);
    assert_eq!(stored.len(), 2, "{rec}");

    // The edit form lists the files with links (and a thumb for the image).
    let edit = browser.get(&format!("/_/collections/docs/records/{id}"))?;
    for name in &stored {
        assert!(
            edit.body.contains(&format!("/api/files/{cid}/{id}/{name}")),
            "link to {name}"
        );
    }
    let pic = stored
        .iter()
        .find(|n| n.ends_with(".png"))
        .cloned()
        .unwrap_or_default();
    assert!(
        edit.body
            .contains(&format!("/api/files/{cid}/{id}/{pic}?thumb=100x100"))
    );
    // Ticking "remove" and saving drops the file (a plain form post).
    let csrf = edit.csrf().unwrap_or_default();
    let saved = browser.post(
        &format!("/_/collections/docs/records/{id}"),
        &[
            ("_csrf", &csrf),
            ("title", "from the admin"),
            ("remove:many", &pic),
        ],
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = Http::new().get_auth(
        &server.url(&format!("/api/collections/docs/records/{id}")),
        &token,
    )?;
    assert_eq!(names(&after.json["many"]).len(), 1, "{}", after.text);
    eventually("the removed file is gone", || {
        !dir.path()
            .join(format!("storage/{cid}/{id}/{pic}"))
            .exists()
    })?;
    Ok(())
}
