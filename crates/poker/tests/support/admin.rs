//! A tiny browser for the admin UI tests: a cookie jar, form posts, no redirect
//! following (so a test sees the 303 and its `Location`).

use std::collections::BTreeMap;

use litebase::testing::{Http, ServerProcess};

/// One answer of the admin UI.
#[derive(Debug, Clone)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// The body (HTML, or JSON for refusals).
    pub body: String,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// Every `Set-Cookie` header, raw.
    pub set_cookies: Vec<String>,
}

impl Page {
    /// The `_csrf` hidden field of the first form on the page.
    pub fn csrf(&self) -> Option<String> {
        let start = self.body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
        let rest = &self.body[start..];
        Some(rest[..rest.find('"')?].to_string())
    }

    /// The raw `Set-Cookie` header that sets `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }
}

/// A client that keeps cookies like a browser (one jar, any path).
pub struct Browser {
    agent: ureq::Agent,
    base: String,
    /// The cookies sent with every request.
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with an empty jar, talking to `server`.
    pub fn new(server: &ServerProcess) -> Self {
        let agent = super::agent();
        Self {
            agent,
            base: server.url(""),
            cookies: BTreeMap::new(),
        }
    }

    /// Puts `name=value` in the jar (a forged or foreign session, say).
    pub fn with_cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.insert(name.into(), value.into());
        self
    }

    /// The jar as one `Cookie` header value.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `method path`, with a urlencoded form when `form` is given and extra headers.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        let url = format!("{}{path}", self.base);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if !self.cookies.is_empty() {
            req = req.header("Cookie", self.cookie_header());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match form {
            Some(fields) => {
                req = req.header("Content-Type", "application/x-www-form-urlencoded");
                encode_form(fields)
            }
            None => String::new(),
        };
        let mut resp = self.agent.run(req.body(body)?)?;
        let header = |name: &str| -> Vec<String> {
            resp.headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect()
        };
        let set_cookies = header("set-cookie");
        let location = header("location").into_iter().next();
        for raw in &set_cookies {
            let first = raw.split(';').next().unwrap_or_default();
            if let Some((name, value)) = first.split_once('=') {
                if value.is_empty() || raw.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.into(), value.into());
                }
            }
        }
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Ok(Page {
            status,
            body,
            location,
            set_cookies,
        })
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> anyhow::Result<Page> {
        self.send("GET", path, None, &[])
    }

    /// `POST path` with a form (add `("_csrf", token)` yourself).
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        self.send("POST", path, Some(fields), &[])
    }

    /// Opens `page` and posts `fields` plus the page's CSRF token to `action`.
    pub fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Page> {
        let shown = self.get(page)?;
        let csrf = shown
            .csrf()
            .ok_or_else(|| anyhow::anyhow!("no _csrf field on {page}: {}", shown.body))?;
        let mut all = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.post(action, &all)
    }

    /// Signs in through the login form; the answer is the form's.
    pub fn login(&mut self, email: &str, password: &str) -> anyhow::Result<Page> {
        self.submit(
            "/_/login",
            "/_/login",
            &[("email", email), ("password", password)],
        )
    }

    /// A browser signed in as the test superuser (the sign-in must redirect).
    pub fn signed_in(server: &ServerProcess) -> anyhow::Result<Browser> {
        let mut browser = Browser::new(server);
        let login = browser.login(super::ADMIN_EMAIL, super::ADMIN_PASSWORD)?;
        anyhow::ensure!(
            login.status == 303,
            "admin login: {} {}",
            login.status,
            login.body
        );
        Ok(browser)
    }
}

/// `a=1&b=2`, percent-encoded.
pub fn encode_form(fields: &[(&str, &str)]) -> String {
    let enc = super::percent_encode;
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// How many superusers exist, asked through the API as the test superuser.
pub fn superuser_count(server: &ServerProcess) -> anyhow::Result<u64> {
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
pub fn user_token(server: &ServerProcess, admin_token: &str) -> anyhow::Result<String> {
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
    server: &ServerProcess,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(&server.addr)?;
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
