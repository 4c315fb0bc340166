//! Multi-factor auth against the real `litebase` binary: PocketBase's MFA
//! (a first factor answers 401 `{"mfaId"}`, a second one of another method
//! completes it), its rule and expiry, and litebase's authenticator apps
//! (TOTP enrolment, codes computed here as an app would, recovery codes, the
//! lock-out after wrong codes) with hostile input answered in PocketBase's
//! error shape.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use litebase::auth::totp;
use litebase::testing::{Http, Reply, ServerProcess};
use serde_json::{Value, json};

const PASSWORD: &str = "password123";

/// A running server, its superuser token and a client.
struct Site {
    _dir: tempfile::TempDir,
    server: ServerProcess,
    admin: String,
    http: Http,
}

impl Site {
    fn start() -> anyhow::Result<Site> {
        let dir = tempfile::tempdir()?;
        let (server, admin) = support::serve_as_admin(dir.path())?;
        Ok(Site {
            _dir: dir,
            server,
            admin,
            http: Http::new(),
        })
    }

    /// A server whose mails go to `sink`.
    fn with_mail(sink: &support::smtp::SmtpSink) -> anyhow::Result<Site> {
        let dir = tempfile::tempdir()?;
        support::add_superuser(dir.path())?;
        let port = sink.port.to_string();
        let server = support::serve_with_env(
            dir.path(),
            &[
                ("LITEBASE_SMTP_HOST", "127.0.0.1"),
                ("LITEBASE_SMTP_PORT", &port),
            ],
        )?;
        let admin = support::superuser_token(&server)?;
        Ok(Site {
            _dir: dir,
            server,
            admin,
            http: Http::new(),
        })
    }

    /// Requests a one-time code for `email`; returns its id and the code from
    /// the `n`th mail the sink catches.
    fn otp(
        &self,
        sink: &support::smtp::SmtpSink,
        email: &str,
        n: usize,
    ) -> anyhow::Result<(String, String)> {
        let asked = self.post(
            "/api/collections/users/request-otp",
            json!({"email": email}),
        )?;
        anyhow::ensure!(asked.status == 200, "request-otp: {}", asked.text);
        let mails = sink.wait_for(n);
        let text = mails
            .get(n - 1)
            .and_then(|m| m["text"].as_str())
            .ok_or_else(|| anyhow::anyhow!("mail {n} not caught: {mails:?}"))?;
        let code = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 8)
            .ok_or_else(|| anyhow::anyhow!("no 8-digit code in {text}"))?;
        Ok((
            asked.json["otpId"].as_str().unwrap_or_default().to_string(),
            code.to_string(),
        ))
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn post(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        Ok(self.http.post_json(&self.url(path), &body)?)
    }

    fn post_as(&self, token: &str, path: &str, body: Value) -> anyhow::Result<Reply> {
        Ok(self.http.post_json_auth(&self.url(path), token, &body)?)
    }

    /// Sets the `users` collection's MFA options.
    fn mfa(&self, options: Value) -> anyhow::Result<()> {
        let reply = self.http.patch_json_auth(
            &self.url("/api/collections/users"),
            &self.admin,
            &json!({ "mfa": options }),
        )?;
        anyhow::ensure!(reply.status == 200, "mfa options: {}", reply.text);
        Ok(())
    }

    /// A new `users` record; returns its id and a token (impersonated by the
    /// superuser, so MFA does not stand in the way of enrolling).
    fn user(&self, email: &str) -> anyhow::Result<(String, String)> {
        let created = self.post(
            "/api/collections/users/records",
            json!({"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}),
        )?;
        anyhow::ensure!(created.status == 200, "create {email}: {}", created.text);
        let id = created.json["id"].as_str().unwrap_or_default().to_string();
        let token = self.post_as(
            &self.admin,
            &format!("/api/collections/users/impersonate/{id}"),
            json!({}),
        )?;
        let token = token.json["token"].as_str().unwrap_or_default().to_string();
        anyhow::ensure!(!token.is_empty(), "impersonate {email}");
        Ok((id, token))
    }

    fn password(&self, email: &str, mfa_id: Option<&str>) -> anyhow::Result<Reply> {
        let mut body = json!({"identity": email, "password": PASSWORD});
        if let Some(id) = mfa_id {
            body["mfaId"] = json!(id);
        }
        self.post("/api/collections/users/auth-with-password", body)
    }

    /// The `mfaId` of a password sign-in that must ask for a second factor.
    fn first_factor(&self, email: &str) -> anyhow::Result<String> {
        let reply = self.password(email, None)?;
        anyhow::ensure!(reply.status == 401, "expected 401: {}", reply.text);
        let keys: Vec<&String> = reply
            .json
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        anyhow::ensure!(
            keys == ["mfaId"],
            "the body is just {{mfaId}}: {}",
            reply.text
        );
        Ok(reply.json["mfaId"].as_str().unwrap_or_default().to_string())
    }

    fn totp(&self, mfa_id: &str, code: &str) -> anyhow::Result<Reply> {
        self.post(
            "/api/collections/users/auth-with-totp",
            json!({"mfaId": mfa_id, "code": code}),
        )
    }

    /// Enrols an authenticator app for the record of `token`: returns its
    /// secret, the unix time of the confirming code, and the recovery codes.
    fn enrol(&self, token: &str) -> anyhow::Result<(Vec<u8>, u64, Vec<String>)> {
        let setup = self.post_as(token, "/api/collections/users/totp/setup", json!({}))?;
        anyhow::ensure!(setup.status == 200, "setup: {}", setup.text);
        let secret = totp::decode_secret(setup.json["secret"].as_str().unwrap_or_default())
            .ok_or_else(|| anyhow::anyhow!("secret is base32: {}", setup.text))?;
        let uri = setup.json["uri"].as_str().unwrap_or_default();
        anyhow::ensure!(uri.starts_with("otpauth://totp/"), "{uri}");
        anyhow::ensure!(uri.contains(&format!("secret={}", totp::encode_secret(&secret))));
        let qr = setup.json["qr"].as_str().unwrap_or_default();
        anyhow::ensure!(qr.contains("<svg"), "the QR code is SVG");
        let t0 = now();
        let confirm = self.post_as(
            token,
            "/api/collections/users/totp/confirm",
            json!({"code": totp::code_at(&secret, t0)}),
        )?;
        anyhow::ensure!(confirm.status == 200, "confirm: {}", confirm.text);
        let codes: Vec<String> = confirm.json["recoveryCodes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        anyhow::ensure!(codes.len() == 10, "ten recovery codes: {}", confirm.text);
        Ok((secret, t0, codes))
    }

    /// Makes every MFA session `seconds` older (rather than waiting).
    fn age_mfas(&self, seconds: u32) -> anyhow::Result<()> {
        let conn = rusqlite::Connection::open(self._dir.path().join("data.db"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute(
            "UPDATE _mfas SET created = strftime('%Y-%m-%d %H:%M:%fZ', created, ?1)",
            [format!("-{seconds} seconds")],
        )?;
        Ok(())
    }

    /// How many `_mfas` rows the database holds.
    fn mfa_rows(&self) -> anyhow::Result<i64> {
        let conn = rusqlite::Connection::open(self._dir.path().join("data.db"))?;
        Ok(conn.query_row("SELECT count(*) FROM _mfas", [], |r| r.get(0))?)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A 6-digit code that is none of the codes valid around now.
fn wrong_code(secret: &[u8]) -> String {
    let t = now();
    let valid: Vec<String> = (0..5)
        .map(|i| totp::code_at(secret, t + i * 30 - 60))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", 123_456 + n))
        .find(|c| !valid.contains(c))
        .unwrap_or_default()
}

fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json["status"], status, "{}", reply.text);
    assert_eq!(reply.json["message"], message, "{}", reply.text);
    assert!(reply.json["data"].is_object(), "{}", reply.text);
}

#[test]
fn password_then_authenticator_app_signs_in_and_each_code_works_once() -> anyhow::Result<()> {
    let site = Site::start()?;
    let (id, token) = site.user("ann@example.com")?;
    let (secret, t0, recovery) = site.enrol(&token)?;
    site.mfa(json!({"enabled": true, "duration": 1800, "rule": ""}))?;

    let mfa_id = site.first_factor("ann@example.com")?;
    assert_eq!(site.mfa_rows()?, 1);
    assert_error(
        &site.password("ann@example.com", Some(&mfa_id))?,
        400,
        "A different authentication method is required.",
    );
    let replayed = site.totp(&mfa_id, &totp::code_at(&secret, t0))?;
    assert_eq!(
        replayed.status, 400,
        "the confirming code is spent: {}",
        replayed.text
    );
    assert_eq!(
        replayed.json["data"]["code"]["code"],
        "validation_invalid_code"
    );

    let done = site.totp(&mfa_id, &totp::code_at(&secret, t0 + 30))?;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json["record"]["id"], id.as_str());
    assert_eq!(done.json["record"]["email"], "ann@example.com");
    let signed_in = done.json["token"].as_str().unwrap_or_default();
    let me = site.http.get_auth(
        &site.url(&format!("/api/collections/users/records/{id}")),
        signed_in,
    )?;
    assert_eq!(me.status, 200, "the token works: {}", me.text);
    assert_eq!(site.mfa_rows()?, 0, "the session is spent");
    assert_error(
        &site.totp(&mfa_id, &recovery[0])?,
        400,
        "Invalid or expired MFA session.",
    );

    // Recovery codes: each once, however typed.
    let second = site.first_factor("ann@example.com")?;
    assert_eq!(site.totp(&second, &recovery[0])?.status, 200);
    let third = site.first_factor("ann@example.com")?;
    let spent = site.totp(&third, &recovery[0])?;
    assert_eq!(spent.status, 400, "{}", spent.text);
    let typed = recovery[1].replace('-', " ").to_uppercase();
    assert_eq!(site.totp(&third, &typed)?.status, 200);
    let status = site
        .http
        .get_auth(&site.url("/api/collections/users/totp"), &token)?;
    assert_eq!(
        status.json,
        json!({"enabled": true, "pending": false, "recoveryCodesLeft": 8})
    );
    Ok(())
}

#[test]
fn mfa_sessions_expire_belong_to_one_record_and_follow_the_rule() -> anyhow::Result<()> {
    let site = Site::start()?;
    site.user("bea@example.com")?;
    site.user("cid@example.com")?;
    site.mfa(json!({"enabled": true, "duration": 60, "rule": ""}))?;

    let bea = site.first_factor("bea@example.com")?;
    assert_error(
        &site.password("cid@example.com", Some(&bea))?,
        400,
        "Invalid MFA session.",
    );
    site.age_mfas(61)?;
    assert_error(
        &site.password("bea@example.com", Some(&bea))?,
        400,
        "Invalid or expired MFA session.",
    );
    assert_eq!(site.mfa_rows()?, 0, "the expired session is deleted");
    assert_error(
        &site.password("bea@example.com", Some("nosuchmfaid1234"))?,
        400,
        "Invalid or expired MFA session.",
    );

    // The rule picks who needs a second factor; the others sign in at once.
    site.mfa(json!({"enabled": true, "duration": 1800, "rule": "email = 'bea@example.com'"}))?;
    site.first_factor("bea@example.com")?;
    let cid = site.password("cid@example.com", None)?;
    assert_eq!(cid.status, 200, "{}", cid.text);
    assert!(cid.json["token"].is_string());

    site.mfa(json!({"enabled": false, "duration": 1800, "rule": ""}))?;
    assert_eq!(site.password("bea@example.com", None)?.status, 200);

    // PocketBase's bounds on the duration.
    let short = site.http.patch_json_auth(
        &site.url("/api/collections/users"),
        &site.admin,
        &json!({"mfa": {"enabled": true, "duration": 5}}),
    )?;
    assert_eq!(short.status, 400, "{}", short.text);
    assert_eq!(
        short.json["data"]["mfa"]["duration"]["code"],
        "validation_min_greater_equal_than_required"
    );
    Ok(())
}

#[test]
fn wrong_codes_lock_out_and_hostile_input_gets_pocketbase_errors() -> anyhow::Result<()> {
    let site = Site::start()?;
    let (_, token) = site.user("dan@example.com")?;
    let (_, other) = site.user("eve@example.com")?;
    let (secret, _, recovery) = site.enrol(&token)?;
    site.mfa(json!({"enabled": true, "duration": 1800, "rule": ""}))?;

    // Enrolment is the record's own business.
    let guest = site.post("/api/collections/users/totp/setup", json!({}))?;
    assert_error(
        &guest,
        401,
        "The request requires valid record authorization token.",
    );
    let admin = site.post_as(&site.admin, "/api/collections/users/totp/setup", json!({}))?;
    assert_eq!(
        admin.status, 401,
        "a superuser is not a users record: {}",
        admin.text
    );
    let again = site.post_as(&token, "/api/collections/users/totp/setup", json!({}))?;
    assert_error(
        &again,
        400,
        "An authenticator app is already set up; remove it first.",
    );
    let missing = site.post("/api/collections/nope/totp/setup", json!({}))?;
    assert_eq!(missing.status, 404, "{}", missing.text);
    let not_pending = site.post_as(
        &other,
        "/api/collections/users/totp/confirm",
        json!({"code": "123456"}),
    )?;
    assert_error(
        &not_pending,
        400,
        "No authenticator app setup is waiting for a code.",
    );

    // auth-with-totp: fields, sessions, garbage.
    let empty = site.post("/api/collections/users/auth-with-totp", json!({}))?;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.json["data"]["mfaId"]["code"], "validation_required");
    assert_eq!(empty.json["data"]["code"]["code"], "validation_required");
    let raw = site.http.post_raw(
        &site.url("/api/collections/users/auth-with-totp"),
        b"{\"mfaId\":",
    )?;
    assert_eq!(raw.status, 400, "{}", raw.text);
    assert_eq!(raw.json["status"], 400);
    let huge = "a".repeat(5000);
    assert_error(
        &site.totp(&huge, "123456")?,
        400,
        "Invalid or expired MFA session.",
    );
    let mfa_id = site.first_factor("dan@example.com")?;
    for code in ["", "١٢٣٤٥٦", "12345678901234567890", "' OR 1=1 --"] {
        let reply = site.totp(&mfa_id, code)?;
        assert_eq!(reply.status, 400, "{code:?}: {}", reply.text);
    }

    // Wrong codes (those above counted too) lock the record out, even for a right code.
    let wrong = wrong_code(&secret);
    let mut locked = None;
    for attempt in 0..6 {
        let reply = site.totp(&mfa_id, &wrong)?;
        if reply.status == 429 {
            locked = Some(attempt);
            break;
        }
        assert_eq!(reply.status, 400, "{}", reply.text);
    }
    assert!(locked.is_some(), "no lock-out after many wrong codes");
    let right = site.totp(&mfa_id, &totp::code_at(&secret, now()))?;
    assert_error(
        &right,
        429,
        "Too many wrong codes; try again in a few minutes.",
    );
    assert_eq!(site.totp(&mfa_id, &recovery[0])?.status, 429);

    // Deleting the record forgets its factors (once the delete committed).
    let left = || -> anyhow::Result<i64> {
        let conn = rusqlite::Connection::open(site._dir.path().join("data.db"))?;
        Ok(conn.query_row(
            "SELECT (SELECT count(*) FROM _totps) + (SELECT count(*) FROM _totpRecoveryCodes)
                  + (SELECT count(*) FROM _mfas)",
            [],
            |r| r.get(0),
        )?)
    };
    assert!(left()? > 0, "dan's factors exist before");
    let dan = site.http.get_auth(
        &site.url("/api/collections/users/records?filter=email%3D%27dan%40example.com%27"),
        &site.admin,
    )?;
    let dan = dan.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let deleted = site.http.agent_delete(
        &site.url(&format!("/api/collections/users/records/{dan}")),
        &site.admin,
    )?;
    assert_eq!(deleted, 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while left()? > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        left()?,
        0,
        "the deleted record's TOTP, recovery codes and MFA sessions are gone"
    );
    Ok(())
}

#[test]
fn removing_the_app_needs_a_current_code() -> anyhow::Result<()> {
    let site = Site::start()?;
    let (_, token) = site.user("fay@example.com")?;
    let (secret, t0, _) = site.enrol(&token)?;
    let url = site.url("/api/collections/users/totp");
    let code = totp::code_at(&secret, t0 + 30);
    let agent = support::agent();
    let bad = agent
        .delete(&url)
        .header("Authorization", &token)
        .header("Content-Type", "application/json")
        .force_send_body()
        .send(json!({"code": wrong_code(&secret)}).to_string())?;
    assert_eq!(bad.status().as_u16(), 400);
    let ok = agent
        .delete(&url)
        .header("Authorization", &token)
        .header("Content-Type", "application/json")
        .force_send_body()
        .send(json!({"code": code}).to_string())?;
    assert_eq!(ok.status().as_u16(), 204);
    let status = site.http.get_auth(&url, &token)?;
    assert_eq!(
        status.json,
        json!({"enabled": false, "pending": false, "recoveryCodesLeft": 0})
    );
    Ok(())
}

#[test]
fn passkey_endpoints_refuse_strangers_and_garbage() -> anyhow::Result<()> {
    let site = Site::start()?;
    let (_, token) = site.user("gus@example.com")?;
    let base = "/api/collections/users";

    let guest = site.post(&format!("{base}/webauthn/register-begin"), json!({}))?;
    assert_error(
        &guest,
        401,
        "The request requires valid record authorization token.",
    );
    // The relying party is the host the browser is on.
    let agent = support::agent();
    let mut begun = agent
        .post(&site.url(&format!("{base}/webauthn/register-begin")))
        .header("Authorization", &token)
        .header(
            "Host",
            format!(
                "localhost:{}",
                site.server.addr.rsplit(':').next().unwrap_or("80")
            ),
        )
        .send("")?;
    assert_eq!(begun.status().as_u16(), 200);
    let begun: Value = serde_json::from_str(&begun.body_mut().read_to_string()?)?;
    let options = &begun["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost", "{begun}");
    assert_eq!(options["user"]["name"], "gus@example.com");
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 40));
    let ceremony = begun["ceremonyId"].as_str().unwrap_or_default().to_string();

    let finish =
        |body: Value| site.post_as(&token, &format!("{base}/webauthn/register-finish"), body);
    let no_credential = finish(json!({"ceremonyId": ceremony}))?;
    assert_eq!(no_credential.status, 400);
    assert_eq!(
        no_credential.json["data"]["credential"]["code"],
        "validation_required"
    );
    let garbage = finish(
        json!({"ceremonyId": ceremony, "credential": {"id": "x", "rawId": "!!", "type": "public-key"}}),
    )?;
    assert_error(&garbage, 400, "The passkey could not be verified.");
    let spent = finish(json!({"ceremonyId": ceremony, "credential": {"id": "x"}}))?;
    assert_error(&spent, 400, "Invalid or expired passkey ceremony.");
    let unknown = finish(json!({"ceremonyId": "nope", "credential": {}}))?;
    assert_error(&unknown, 400, "Invalid or expired passkey ceremony.");

    let list = site
        .http
        .get_auth(&site.url(&format!("{base}/webauthn/credentials")), &token)?;
    assert_eq!(list.json, json!([]));
    let gone = site.http.agent_delete(
        &site.url(&format!("{base}/webauthn/credentials/nope")),
        &token,
    )?;
    assert_eq!(gone, 404);

    let sign_in = |body: Value| site.post(&format!("{base}/auth-with-webauthn-begin"), body);
    let blank = sign_in(json!({}))?;
    assert_eq!(
        blank.json["data"]["identity"]["code"], "validation_required",
        "{}",
        blank.text
    );
    for who in ["gus@example.com", "nobody@example.com"] {
        assert_error(
            &sign_in(json!({"identity": who}))?,
            400,
            "No passkey is registered for this account.",
        );
    }
    assert_error(
        &sign_in(json!({"mfaId": "nope"}))?,
        400,
        "Invalid or expired MFA session.",
    );
    let finish = site.post(
        &format!("{base}/auth-with-webauthn-finish"),
        json!({"ceremonyId": "nope", "credential": {"id": 1}}),
    )?;
    assert_error(&finish, 400, "Invalid or expired passkey ceremony.");
    Ok(())
}

#[test]
fn password_and_an_emailed_code_complete_mfa_in_either_order() -> anyhow::Result<()> {
    let sink = support::smtp::SmtpSink::start(&[]);
    let site = Site::with_mail(&sink)?;
    let (id, _) = site.user("hal@example.com")?;
    let patched = site.http.patch_json_auth(
        &site.url("/api/collections/users"),
        &site.admin,
        &json!({"otp": {"enabled": true}, "mfa": {"enabled": true, "duration": 1800}}),
    )?;
    assert_eq!(patched.status, 200, "{}", patched.text);

    let mfa_id = site.first_factor("hal@example.com")?;
    let (otp_id, code) = site.otp(&sink, "hal@example.com", 1)?;
    let done = site.post(
        "/api/collections/users/auth-with-otp",
        json!({"otpId": otp_id, "password": code, "mfaId": mfa_id}),
    )?;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json["record"]["id"], id.as_str());

    // The code first: it is a first factor like the password.
    let (otp_id, code) = site.otp(&sink, "hal@example.com", 2)?;
    let first = site.post(
        "/api/collections/users/auth-with-otp",
        json!({"otpId": otp_id, "password": code}),
    )?;
    assert_eq!(first.status, 401, "{}", first.text);
    let mfa_id = first.json["mfaId"].as_str().unwrap_or_default();
    let (other_otp, other_code) = site.otp(&sink, "hal@example.com", 3)?;
    let same = site.post(
        "/api/collections/users/auth-with-otp",
        json!({"otpId": other_otp, "password": other_code, "mfaId": mfa_id}),
    )?;
    assert_error(&same, 400, "A different authentication method is required.");
    let done = site.password("hal@example.com", Some(mfa_id))?;
    assert_eq!(done.status, 200, "{}", done.text);
    Ok(())
}
