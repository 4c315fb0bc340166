//! Files in an S3-compatible bucket (AWS, MinIO, SeaweedFS, R2…): requests
//! signed by `rusty-s3` and sent by ureq, blocking (callers are off the async
//! runtime). Uploads stream from the upload's temp file and downloads stream to
//! the client; nothing is held whole in memory.

use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::storage::{Object, Storage};
use crate::settings::S3;

/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(300);

/// A bucket reached with the settings' keys.
pub struct S3Storage {
    bucket: Bucket,
    credentials: Credentials,
    agent: ureq::Agent,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl S3Storage {
    /// The bucket of `settings`; an error names what is wrong with them.
    pub fn new(settings: &S3) -> io::Result<S3Storage> {
        let endpoint = url::Url::parse(settings.endpoint.trim()).map_err(other)?;
        let style = if settings.force_path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint,
            style,
            settings.bucket.trim().to_string(),
            settings.region.trim().to_string(),
        )
        .map_err(other)?;
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_connect(Some(Duration::from_secs(10)))
                .timeout_per_read(Some(Duration::from_secs(60)))
                .timeout_per_write(Some(Duration::from_secs(60)))
                .build(),
        );
        Ok(S3Storage {
            bucket,
            credentials: Credentials::new(settings.access_key.trim(), settings.secret.trim()),
            agent,
        })
    }

    fn failed(what: &str, key: &str, status: u16, body: String) -> io::Error {
        let detail: String = body.chars().take(300).collect();
        other(format!("S3 {what} {key}: HTTP {status} {detail}"))
    }
}

impl S3Storage {
    /// A GET of `key`, whole or (`range`: start and length) in part.
    fn fetch(&self, key: &str, range: Option<(u64, u64)>) -> io::Result<Option<Object>> {
        let url = self
            .bucket
            .get_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let mut request = self.agent.get(url.as_str());
        if let Some((start, len)) = range {
            request = request.header("range", format!("bytes={start}-{}", start + len.max(1) - 1));
        }
        let reply = request.call().map_err(other)?;
        let status = reply.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let body = reply.into_body().read_to_string().unwrap_or_default();
            return Err(Self::failed("get", key, status, body));
        }
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // A partial answer names the whole size after the slash of Content-Range.
        let size = header("content-range")
            .and_then(|v| v.rsplit('/').next().and_then(|t| t.parse().ok()))
            .or_else(|| header("content-length").and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        let content_type =
            header("content-type").unwrap_or_else(|| "application/octet-stream".into());
        let modified = header("last-modified")
            .and_then(|v| v.parse::<actix_web::http::header::HttpDate>().ok())
            .map(std::time::SystemTime::from);
        let reader: Box<dyn Read + Send> = Box::new(
            reply
                .into_body()
                .into_with_config()
                .limit(u64::MAX)
                .reader(),
        );
        Ok(Some(Object {
            reader,
            size,
            content_type,
            modified,
        }))
    }
}

impl Storage for S3Storage {
    fn put_file(&self, key: &str, src: &Path, content_type: &str) -> io::Result<()> {
        let mut action = self.bucket.put_object(Some(&self.credentials), key);
        action
            .headers_mut()
            .insert("content-type", content_type.to_string());
        let url = action.sign(SIGNED_FOR);
        let file = std::fs::File::open(src)?;
        let reply = self
            .agent
            .put(url.as_str())
            .header("content-type", content_type)
            .send(file)
            .map_err(other)?;
        let status = reply.status().as_u16();
        if !(200..300).contains(&status) {
            let body = reply.into_body().read_to_string().unwrap_or_default();
            return Err(Self::failed("put", key, status, body));
        }
        Ok(())
    }

    fn put_bytes(&self, key: &str, bytes: &[u8], content_type: &str) -> io::Result<()> {
        let mut action = self.bucket.put_object(Some(&self.credentials), key);
        action
            .headers_mut()
            .insert("content-type", content_type.to_string());
        let url = action.sign(SIGNED_FOR);
        let reply = self
            .agent
            .put(url.as_str())
            .header("content-type", content_type)
            .send(bytes)
            .map_err(other)?;
        let status = reply.status().as_u16();
        if !(200..300).contains(&status) {
            let body = reply.into_body().read_to_string().unwrap_or_default();
            return Err(Self::failed("put", key, status, body));
        }
        Ok(())
    }

    fn get(&self, key: &str) -> io::Result<Option<Object>> {
        self.fetch(key, None)
    }

    fn get_range(&self, key: &str, start: u64, len: u64) -> io::Result<Option<Object>> {
        self.fetch(key, Some((start, len)))
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        let url = self
            .bucket
            .head_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let reply = self.agent.head(url.as_str()).call().map_err(other)?;
        match reply.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            status => Err(Self::failed("head", key, status, String::new())),
        }
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let reply = self.agent.delete(url.as_str()).call().map_err(other)?;
        let status = reply.status().as_u16();
        if (200..300).contains(&status) || status == 404 {
            Ok(())
        } else {
            let body = reply.into_body().read_to_string().unwrap_or_default();
            Err(Self::failed("delete", key, status, body))
        }
    }

    fn delete_prefix(&self, prefix: &str) -> io::Result<()> {
        // List a page of keys, delete each, until the listing comes back empty
        // (a thumbs folder is one page; a whole collection may be many).
        loop {
            let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
            action.with_prefix(prefix);
            action.with_max_keys(1000);
            let url = action.sign(SIGNED_FOR);
            let reply = self.agent.get(url.as_str()).call().map_err(other)?;
            let status = reply.status().as_u16();
            let body = reply
                .into_body()
                .into_with_config()
                .limit(16 * 1024 * 1024)
                .read_to_string()
                .map_err(other)?;
            if !(200..300).contains(&status) {
                return Err(Self::failed("list", prefix, status, body));
            }
            let listed = rusty_s3::actions::ListObjectsV2::parse_response(&body).map_err(other)?;
            if listed.contents.is_empty() {
                return Ok(());
            }
            for item in listed.contents {
                self.delete(&item.key)?;
            }
        }
    }

    fn check(&self) -> io::Result<()> {
        // Upload, then list and delete by prefix: every call files make.
        let prefix = format!("pb_settings_test_{}/", super::name::random_suffix(5));
        self.put_bytes(&format!("{prefix}test.txt"), b"test", "text/plain")?;
        self.delete_prefix(&prefix)
    }
}
