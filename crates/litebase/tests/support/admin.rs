//! What the admin UI tests need beyond [`litebase::testing::browser`]: counting
//! superusers, a signed-in user, and binary downloads.

use litebase::testing::{Http, Server};

pub use litebase::testing::browser::{Browser, Page, encode_form};

/// How many superusers exist, asked through the API as the test superuser.
pub fn superuser_count(server: &impl Server) -> anyhow::Result<u64> {
    let token = super::superuser_token(server)?;
    let reply = Http::new().get_auth(
        &server.url("/api/collections/_superusers/records?perPage=1"),
        &token,
    )?;
    anyhow::ensure!(reply.status == 200, "count superusers: {}", reply.text);
    reply.json["totalItems"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no totalItems: {}", reply.text))
}

/// Creates a `users` record and signs it in; returns its token.
pub fn user_token(server: &impl Server, admin_token: &str) -> anyhow::Result<String> {
    let http = Http::new();
    let body = serde_json::json!({"email": "user@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"});
    let created = http.post_json_auth(
        &server.url("/api/collections/users/records"),
        admin_token,
        &body,
    )?;
    anyhow::ensure!(created.status == 200, "create user: {}", created.text);
    let signed_in = http.post_json(
        &server.url("/api/collections/users/auth-with-password"),
        &serde_json::json!({"identity": "user@example.com", "password": "user-password-1"}),
    )?;
    signed_in.json["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("user sign-in: {}", signed_in.text))
}

/// `GET path` over a raw connection with extra `headers`, the body as bytes
/// (backups are binary): (status, body).
pub fn get_bytes(
    server: &impl Server,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr())?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, raw[split + 4..].to_vec()))
}
