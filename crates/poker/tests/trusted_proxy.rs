//! The forwarded scheme and host of poker's share links, against the real
//! binary: used from a trusted proxy, ignored from an untrusted peer (the
//! client address behind a proxy is litebase's, tested in its `trusted_proxy.rs`).

mod support;

use litebase::testing::{Http, ServerProcess};
use serde_json::json;

/// `GET url` with `headers`, no redirects: (status, body).
fn get(url: &str, headers: &[(&str, &str)]) -> anyhow::Result<(u16, String)> {
    let mut request = support::agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call()?;
    Ok((
        response.status().as_u16(),
        response.body_mut().read_to_string()?,
    ))
}

/// The `value` of the room page's share-link input.
fn share_link(body: &str) -> Option<&str> {
    let start = body.find("data-testid=\"share-link\" readonly value=\"")?
        + "data-testid=\"share-link\" readonly value=\"".len();
    body[start..].split('"').next()
}

/// A new room through the API; the room page's path and the host's cookie.
fn room_with_host(server: &ServerProcess) -> anyhow::Result<(String, String)> {
    let made = Http::new().post_json(&server.url("/api/poker/rooms"), &json!({}))?;
    anyhow::ensure!(made.status == 200, "create room: {}", made.text);
    let code = made.json["code"].as_str().unwrap_or_default().to_string();
    let token = made.json["hostToken"].as_str().unwrap_or_default();
    let agent = support::agent();
    let seat = agent
        .get(&server.url(&format!("/r/{code}/seat/{token}")))
        .call()?;
    let cookie = seat
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("pk_{code}=")))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no seat cookie"))?
        .to_string();
    Ok((format!("/r/{code}"), cookie))
}

/// The share link a host's room page shows when the request claims to come
/// through a proxy for `https://poker.example.com`, on a server started with
/// `flags`; with the room's path and the server's own address.
fn share_link_behind_forwarded_headers(flags: &[&str]) -> anyhow::Result<(String, String, String)> {
    let dir = tempfile::tempdir()?;
    let mut all = vec!["--log-level", "warn"];
    all.extend_from_slice(flags);
    let server = support::serve(dir.path(), &all)?;
    let (path, cookie) = room_with_host(&server)?;
    let headers = [
        ("Cookie", cookie.as_str()),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "poker.example.com"),
    ];
    let (status, page) = get(&server.url(&path), &headers)?;
    anyhow::ensure!(status == 200, "{status}: {page}");
    let link = share_link(&page).unwrap_or_default().to_string();
    Ok((link, path, server.addr.clone()))
}

#[test]
fn share_links_use_the_forwarded_host_only_from_a_trusted_proxy() -> anyhow::Result<()> {
    let (link, path, _) = share_link_behind_forwarded_headers(&[])?;
    assert_eq!(link, format!("https://poker.example.com{path}"));

    let (link, path, addr) =
        share_link_behind_forwarded_headers(&["--trusted-proxies", "192.0.2.0/24"])?;
    assert_eq!(
        link,
        format!("http://{addr}{path}"),
        "a client's own X-Forwarded-Host is ignored"
    );
    Ok(())
}
