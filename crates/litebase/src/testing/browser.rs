//! A tiny browser for tests of the admin UI (and an app's pages): a cookie jar,
//! form posts, and no redirect following, so a test sees each `303` and its
//! `Location` as the server sent them.

use std::collections::BTreeMap;

use super::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, agent, percent_encode};

/// One answer of a page.
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
        let marker = "name=\"_csrf\" value=\"";
        let start = self.body.find(marker)? + marker.len();
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
///
/// ```no_run
/// # fn demo(server: &litebase::testing::ServerProcess) -> std::io::Result<()> {
/// use litebase::testing::browser::Browser;
/// let mut browser = Browser::signed_in(server)?;
/// let saved = browser.submit("/_/settings", "/_/settings", &[("section", "meta"), ("meta.appName", "Demo")])?;
/// assert_eq!(saved.status, 303);
/// # Ok(())
/// # }
/// ```
pub struct Browser {
    agent: ureq::Agent,
    base: String,
    /// The cookies sent with every request.
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with an empty jar, talking to `server`.
    pub fn new(server: &impl Server) -> Self {
        Self {
            agent: agent(),
            base: server.url(""),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser signed in to the admin UI as [`ADMIN_EMAIL`] (the sign-in must
    /// redirect, or this is an error).
    pub fn signed_in(server: &impl Server) -> std::io::Result<Browser> {
        let mut browser = Browser::new(server);
        let login = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;
        if login.status != 303 {
            return Err(std::io::Error::other(format!(
                "admin login: {} {}",
                login.status, login.body
            )));
        }
        Ok(browser)
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
    ) -> std::io::Result<Page> {
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
        let req = req.body(body).map_err(std::io::Error::other)?;
        let mut resp = self.agent.run(req).map_err(std::io::Error::other)?;
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
    pub fn get(&mut self, path: &str) -> std::io::Result<Page> {
        self.send("GET", path, None, &[])
    }

    /// `POST path` with a form (add `("_csrf", token)` yourself).
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> std::io::Result<Page> {
        self.send("POST", path, Some(fields), &[])
    }

    /// Opens `page` and posts `fields` plus the page's CSRF token to `action`.
    pub fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> std::io::Result<Page> {
        let shown = self.get(page)?;
        let csrf = shown.csrf().ok_or_else(|| {
            std::io::Error::other(format!("no _csrf field on {page}: {}", shown.body))
        })?;
        let mut all = fields.to_vec();
        all.push(("_csrf", &csrf));
        self.post(action, &all)
    }

    /// Signs in through the admin's login form; the answer is the form's.
    pub fn login(&mut self, email: &str, password: &str) -> std::io::Result<Page> {
        self.submit(
            "/_/login",
            "/_/login",
            &[("email", email), ("password", password)],
        )
    }
}

/// `a=1&b=2`, percent-encoded.
pub fn encode_form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
