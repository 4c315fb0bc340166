//! The auth flows: signing in (the auth collection asked for, timing-safe
//! password checks, the collection's `authRule`, the tokens issued), email
//! verification, password reset, email change and one-time codes, with their
//! mails. The API's auth endpoints translate requests into these calls (the
//! admin UI's login uses the sign-in); every change a flow makes to a record
//! goes through its hooks and the commit stream.

use std::sync::Arc;

use rusqlite::OptionalExtension;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, json};

use super::Core;
use crate::auth::request::AuthRecord;
use crate::auth::token::{self, Claims, Purpose};
use crate::auth::{AuthError, password};
use crate::error::ApiError;
use crate::mail::{Lang, Mail, Template, TemplateVars, render};
use crate::records::accounts::{self, AuthRow};
use crate::records::missing_collection;
use crate::records::read::{ReadCtx, Where, add_rule};
use crate::schema::auth::OtpOptions;
use crate::schema::{Collection, CollectionType, quote_ident};

/// The auth collection named in the path.
pub fn auth_collection(core: &Core, name: &str) -> Result<Arc<Collection>, ApiError> {
    let schema = core.schema.current();
    let c = schema.get(name).cloned().ok_or_else(missing_collection)?;
    if c.kind != CollectionType::Auth {
        return Err(ApiError::bad_request(
            "The collection is not an auth collection.",
        ));
    }
    Ok(c)
}

pub async fn verify_password(given: &str, hash: &str) -> bool {
    password::verify_async(given, hash).await
}

/// A signed auth token for `row` (the collection's token duration unless `ttl`
/// says otherwise). Shared by the API's sign-in answers and the admin UI's session.
pub fn issue_auth_token(
    core: &Core,
    c: &Collection,
    row: &AuthRow,
    ttl: Option<u64>,
    refreshable: bool,
) -> Result<String, ApiError> {
    let duration =
        ttl.unwrap_or_else(|| c.auth.as_ref().map_or(604_800, |a| a.auth_token.duration));
    Ok(token::issue(
        &core.token_secret(&c.id, Purpose::Auth),
        &row.token_key,
        &row.id,
        &c.id,
        duration,
        refreshable,
    )?)
}

/// The collection's `authRule`: `null` refuses everyone, `""` allows, else the
/// record must match it (with itself as `@request.auth`).
pub async fn check_auth_rule(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
) -> Result<(), ApiError> {
    let rule = c.auth.as_ref().and_then(|a| a.auth_rule.clone());
    let Some(rule) = rule else {
        return Err(ApiError::forbidden_with(
            "The collection does not allow signing in.",
        ));
    };
    if rule.trim().is_empty() {
        return Ok(());
    }
    let mut auth = row.record.clone();
    auth.insert("collectionId".into(), json!(c.id));
    auth.insert("collectionName".into(), json!(c.name));
    let info = crate::query::RequestInfo {
        auth: Some(auth),
        now: time::OffsetDateTime::now_utc(),
        ..Default::default()
    };
    let (c, id, schema) = (c.clone(), row.id.clone(), core.schema.current());
    let allowed = core
        .db
        .read(move |conn| {
            let ctx = ReadCtx {
                schema: &schema,
                req: &info,
                superuser: false,
            };
            let mut w = Where::default();
            w.push("t.\"id\" = ?".into(), vec![SqlValue::Text(id)]);
            add_rule(&mut w, &ctx, &c, Some(&rule))?;
            let sql = format!("SELECT 1 FROM {} AS t{}", quote_ident(&c.name), w.sql());
            Ok::<_, ApiError>(
                conn.prepare(&sql)?
                    .exists(rusqlite::params_from_iter(w.params.iter()))?,
            )
        })
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(AuthError::BadCredentials.into())
    }
}

/// 400 unless the collection allows password sign-in.
pub fn ensure_password_auth(c: &Collection) -> Result<(), ApiError> {
    if c.auth.as_ref().is_some_and(|a| a.password_auth.enabled) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "The collection is not configured to allow password authentication.",
        ))
    }
}

/// Checks `identity` + `password` against the auth collection `c` (password auth
/// must be enabled, the `authRule` must admit the record) and returns the record.
/// Shared by the API's `auth-with-password` and the admin UI's login form.
pub async fn sign_in_with_password(
    core: &Core,
    c: &Arc<Collection>,
    identity: &str,
    given_password: &str,
    only: Option<String>,
) -> Result<AuthRow, ApiError> {
    ensure_password_auth(c)?;
    let identity = identity.to_string();
    let c2 = c.clone();
    let row = core
        .db
        .read(move |conn| accounts::by_identity(conn, &c2, &identity, only.as_deref()))
        .await?;
    // Verify even when nobody matched, so timing does not tell which identities exist.
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.with(|h| h.clone()));
    let ok = verify_password(given_password, &hash).await;
    let Some(row) = row.filter(|_| ok) else {
        return Err(AuthError::BadCredentials.into());
    };
    check_auth_rule(core, c, &row).await?;
    Ok(row)
}

thread_local! {
    /// A hash of a random password, verified against when no record matched.
    static DUMMY_HASH: String = password::hash(&crate::id::new_id()).unwrap_or_default();
}

pub fn field_problem(field: &str, code: &str, message: &str) -> ApiError {
    let mut data = Map::new();
    data.insert(field.into(), json!({"code": code, "message": message}));
    ApiError::bad_request("An error occurred while validating the submitted data.").with_data(data)
}

pub async fn load_row(
    core: &Core,
    c: &Arc<Collection>,
    id: &str,
) -> Result<Option<AuthRow>, ApiError> {
    let (c, id) = (c.clone(), id.to_string());
    core.db
        .read(move |conn| accounts::load(conn, &c, &id))
        .await
        .map_err(ApiError::from)
}

pub async fn hash_password(given: &str) -> Result<String, ApiError> {
    Ok(password::hash_async(given).await?)
}

/// Sends a templated mail in the background: the answer never waits on SMTP, and
/// its timing does not tell whether an account exists.
pub fn send_mail(core: &Core, lang: Lang, template: Template, to: &str, vars: TemplateVars<'_>) {
    let settings = core.settings.get();
    let vars = TemplateVars {
        app_name: &settings.meta.app_name,
        app_url: &settings.meta.app_url,
        ..vars
    };
    let (subject, text, html) = render(template, lang, &vars);
    let mail = Mail {
        to: to.to_string(),
        subject,
        text,
        html,
    };
    let mailer = core.mailer();
    actix_web::rt::spawn(async move {
        if let Err(err) = mailer.send(mail).await {
            tracing::error!(error = %err, "sending a mail failed");
        }
    });
}

fn purpose_token(
    core: &Core,
    c: &Collection,
    row: &AuthRow,
    purpose: Purpose,
    ttl: u64,
    new_email: Option<&str>,
) -> Result<String, ApiError> {
    let claims = Claims {
        id: row.id.clone(),
        kind: purpose.as_str().into(),
        collection_id: c.id.clone(),
        refreshable: false,
        email: Some(row.email().to_string()),
        new_email: new_email.map(str::to_string),
        exp: token::expiry(ttl),
    };
    Ok(token::sign(
        &claims,
        &core.token_secret(&c.id, purpose),
        &row.token_key,
    )?)
}

/// Mails a verification, password-reset or email-change link: the token lives
/// as long as the collection says for its purpose; email changes go to the new
/// address, the rest to the record's.
pub fn send_token_mail(
    core: &Core,
    lang: Lang,
    c: &Collection,
    row: &AuthRow,
    purpose: Purpose,
    new_email: Option<&str>,
) -> Result<(), ApiError> {
    let a = c.auth.clone().unwrap_or_default();
    let (ttl, template) = match purpose {
        Purpose::Verification => (a.verification_token.duration, Template::Verification),
        Purpose::PasswordReset => (a.password_reset_token.duration, Template::PasswordReset),
        Purpose::EmailChange => (a.email_change_token.duration, Template::EmailChange),
        Purpose::Auth | Purpose::File => return Err(ApiError::internal()),
    };
    let token = purpose_token(core, c, row, purpose, ttl, new_email)?;
    let to = new_email.unwrap_or(row.email());
    let vars = TemplateVars {
        token: &token,
        email: row.email(),
        new_email: new_email.unwrap_or_default(),
        ..TemplateVars::default()
    };
    send_mail(core, lang, template, to, vars);
    Ok(())
}

/// The record a purpose token was made for, if it still verifies (same token key,
/// same email as when it was sent).
pub async fn redeem(
    core: &Core,
    c: &Arc<Collection>,
    token_text: &str,
    purpose: Purpose,
) -> Result<(AuthRow, Claims), ApiError> {
    let invalid = || {
        field_problem(
            "token",
            "validation_invalid_token",
            "Invalid or expired token.",
        )
    };
    let claims = token::peek(token_text)
        .filter(|cl| cl.collection_id == c.id)
        .ok_or_else(invalid)?;
    let row = load_row(core, c, &claims.id).await?.ok_or_else(invalid)?;
    let claims = token::verify_purpose(
        token_text,
        &core.token_secret(&c.id, purpose),
        &row.token_key,
        purpose,
    )
    .map_err(|_| invalid())?;
    if claims
        .email
        .as_deref()
        .is_some_and(|e| !e.eq_ignore_ascii_case(row.email()))
    {
        return Err(invalid());
    }
    Ok((row, claims))
}

pub async fn find_by_email(
    core: &Core,
    c: &Arc<Collection>,
    email: &str,
) -> Result<Option<AuthRow>, ApiError> {
    let (c, email) = (c.clone(), email.to_string());
    core.db
        .read(move |conn| accounts::by_email(conn, &c, &email))
        .await
        .map_err(ApiError::from)
}

/// OTP codes are digits; `length` of them.
pub fn new_code(length: u32) -> String {
    crate::id::random_string(length.clamp(4, 12) as usize, b"0123456789")
}

/// `verified` for an account whose owner proved their address.
const VERIFIED: (&str, SqlValue) = ("verified", SqlValue::Integer(1));

/// Mails a verification link to the account of `email`, unless it is unknown or
/// verified already (the answer is the same either way).
pub async fn request_verification(
    core: &Core,
    c: &Arc<Collection>,
    email: &str,
    lang: Lang,
) -> Result<(), ApiError> {
    if let Some(row) = find_by_email(core, c, email).await? {
        if !row.verified() {
            send_token_mail(core, lang, c, &row, Purpose::Verification, None)?;
        }
    }
    Ok(())
}

/// Marks the account of a verification token verified (a record update, through
/// hooks and the commit stream).
pub async fn confirm_verification(
    core: &Core,
    c: &Arc<Collection>,
    token_text: &str,
) -> Result<(), ApiError> {
    let (row, _) = redeem(core, c, token_text, Purpose::Verification).await?;
    let (c2, hooks) = (c.clone(), core.hooks.clone());
    core.db
        .write(move |conn| accounts::set(conn, &hooks, &c2, &row.id, &[VERIFIED]))
        .await?;
    Ok(())
}

/// Mails a password-reset link to the account of `email` (at most one every
/// two minutes per account; unknown addresses get the same answer).
pub async fn request_password_reset(
    core: &Core,
    c: &Arc<Collection>,
    email: &str,
    lang: Lang,
) -> Result<(), ApiError> {
    let found = find_by_email(core, c, email).await?;
    if let Some(row) = found.filter(|r| core.mail_throttle.allow(&c.id, &r.id, "reset")) {
        send_token_mail(core, lang, c, &row, Purpose::PasswordReset, None)?;
    }
    Ok(())
}

/// Sets the new password of a reset token's account (and a new token key, so
/// older tokens stop working); the mail reached its owner, so the address is
/// verified too.
pub async fn confirm_password_reset(
    core: &Core,
    c: &Arc<Collection>,
    token_text: &str,
    new_password: &str,
) -> Result<(), ApiError> {
    let (row, _) = redeem(core, c, token_text, Purpose::PasswordReset).await?;
    let hash = hash_password(new_password).await?;
    let (c2, hooks) = (c.clone(), core.hooks.clone());
    core.db
        .write(move |conn| {
            accounts::set_password(conn, &hooks, &c2, &row.id, &hash)?;
            accounts::set(conn, &hooks, &c2, &row.id, &[VERIFIED])
        })
        .await?;
    Ok(())
}

/// Mails a confirmation link to `new_email` for the signed-in `record`: the
/// address must be valid, new, and nobody else's.
pub async fn request_email_change(
    core: &Core,
    c: &Arc<Collection>,
    record: &AuthRecord,
    new_email: &str,
    lang: Lang,
) -> Result<(), ApiError> {
    let new_email = crate::records::superusers::validate_email(new_email).map_err(|_| {
        field_problem(
            "newEmail",
            "validation_is_email",
            "Must be a valid email address.",
        )
    })?;
    if record
        .record
        .get("email")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(&new_email))
    {
        return Err(field_problem(
            "newEmail",
            "validation_not_in_invalid",
            "Must be a new address.",
        ));
    }
    if find_by_email(core, c, &new_email).await?.is_some() {
        return Err(field_problem(
            "newEmail",
            "validation_invalid_new_email",
            "Invalid new email address.",
        ));
    }
    let row = load_row(core, c, &record.id)
        .await?
        .ok_or(AuthError::BadToken)?;
    send_token_mail(core, lang, c, &row, Purpose::EmailChange, Some(&new_email))
}

/// Moves an email-change token's account to its new address, once its current
/// password is given: the address is verified, older tokens stop working.
pub async fn confirm_email_change(
    core: &Core,
    c: &Arc<Collection>,
    token_text: &str,
    given_password: &str,
) -> Result<(), ApiError> {
    let (row, claims) = redeem(core, c, token_text, Purpose::EmailChange).await?;
    if !verify_password(given_password, &row.password_hash).await {
        return Err(field_problem(
            "password",
            "validation_invalid_password",
            "Missing or invalid auth record password.",
        ));
    }
    let new_email = claims.new_email.unwrap_or_default();
    if new_email.is_empty() {
        return Err(field_problem(
            "token",
            "validation_invalid_token",
            "Invalid or expired token.",
        ));
    }
    let (c2, hooks) = (c.clone(), core.hooks.clone());
    core.db
        .write(move |conn| {
            accounts::set(
                conn,
                &hooks,
                &c2,
                &row.id,
                &[
                    ("email", SqlValue::Text(new_email)),
                    VERIFIED,
                    ("tokenKey", SqlValue::Text(accounts::new_token_key())),
                ],
            )
        })
        .await
        .map_err(|e| {
            let e = ApiError::from(e);
            if e.status().as_u16() == 500 {
                field_problem(
                    "newEmail",
                    "validation_invalid_new_email",
                    "Invalid new email address.",
                )
            } else {
                e
            }
        })
}

/// Mails a one-time code to the account of `email` and returns the code's id;
/// an unknown address gets an id too, so the answer does not reveal it.
pub async fn request_otp(
    core: &Core,
    c: &Arc<Collection>,
    otp: &OtpOptions,
    email: &str,
    lang: Lang,
) -> Result<String, ApiError> {
    let otp_id = crate::id::new_id();
    let Some(row) = find_by_email(core, c, email).await? else {
        return Ok(otp_id);
    };
    let code = new_code(otp.length);
    let hash = hash_password(&code).await?;
    let (id, cid, rid, to) = (
        otp_id.clone(),
        c.id.clone(),
        row.id.clone(),
        row.email().to_string(),
    );
    core.db
        .write(move |conn| {
            conn.execute(
                "INSERT INTO _otps (id, collectionRef, recordRef, password, sentTo) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![id, cid, rid, hash, to],
            )?;
            // Old codes of this record go: only the newest is valid.
            conn.execute(
                "DELETE FROM _otps WHERE collectionRef = ?1 AND recordRef = ?2 AND id != ?3",
                rusqlite::params![cid, rid, id],
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    let vars = TemplateVars {
        token: "",
        otp: &code,
        email: row.email(),
        new_email: "",
        ..TemplateVars::default()
    };
    send_mail(core, lang, Template::Otp, row.email(), vars);
    Ok(otp_id)
}

/// Signs in with a one-time code: the code is spent, and since it reached the
/// inbox the address is verified. Returns the account (its `authRule` checked).
pub async fn auth_with_otp(
    core: &Core,
    c: &Arc<Collection>,
    otp: &OtpOptions,
    otp_id: &str,
    code: &str,
) -> Result<AuthRow, ApiError> {
    let (otp_id, cid) = (otp_id.to_string(), c.id.clone());
    let max_age = format!("-{} seconds", otp.duration);
    let lookup = otp_id.clone();
    let found: Option<(String, String, String)> = core
        .db
        .read(move |conn| {
            Ok::<_, ApiError>(conn
                .query_row(
                    "SELECT recordRef, password, sentTo FROM _otps WHERE id = ?1 AND collectionRef = ?2
                     AND created >= strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?3)",
                    rusqlite::params![lookup, cid, max_age],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?)
        })
        .await?;
    let fail = || ApiError::bad_request("Invalid or expired OTP.");
    let (record_id, hash, sent_to) = found.ok_or_else(fail)?;
    if !verify_password(code, &hash).await {
        return Err(fail());
    }
    let (c2, rid, hooks) = (c.clone(), record_id.clone(), core.hooks.clone());
    core.db
        .write(move |conn| {
            conn.execute("DELETE FROM _otps WHERE id = ?1", [&otp_id])?;
            let email: Option<String> = conn
                .query_row(
                    &format!("SELECT email FROM {} WHERE id = ?1", quote_ident(&c2.name)),
                    [&rid],
                    |r| r.get(0),
                )
                .optional()?;
            if email.is_some_and(|e| e.eq_ignore_ascii_case(&sent_to)) {
                accounts::set(conn, &hooks, &c2, &rid, &[VERIFIED])?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    let row = load_row(core, c, &record_id).await?.ok_or_else(fail)?;
    check_auth_rule(core, c, &row).await?;
    Ok(row)
}
