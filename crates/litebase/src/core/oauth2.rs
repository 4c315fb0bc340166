//! OAuth2 sign-in, as PocketBase 0.40 does it: the providers `auth-methods`
//! offers (state, PKCE pair, authorization URL), and `auth-with-oauth2`, which
//! trades the code for the provider's user and then signs in the record linked
//! to it (`_externalAuths`), links the record with the same verified email, or
//! creates one (under the collection's create rule, with `createData` and the
//! mapped fields). Every write goes through the record service in one
//! transaction. Also: the `@oauth2` realtime topic the SDK's popup flow waits
//! on, and the secrets the collections API never echoes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::web;
use serde_json::{Map, Value, json};

use super::Core;
use super::auth::{check_auth_rule, hash_password, load_row};
use crate::auth::request::Auth;
use crate::error::ApiError;
use crate::oauth2::provider::{Provider, pkce_pair};
use crate::oauth2::{AuthUser, client};
use crate::records::RecordError;
use crate::records::accounts::AuthRow;
use crate::records::external_auths::{self, COLLECTION as LINKS};
use crate::records::flow::{FlowTx, FlowUploads};
use crate::records::service::Caller;
use crate::schema::Collection;

/// The realtime topic of the popup flow: `/api/oauth2-redirect` sends the code
/// to the SSE client whose id is the `state`.
pub const TOPIC: &str = "@oauth2";

const STATE_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The `oauth2` section of `auth-methods`: whether OAuth2 is on, and each
/// usable provider with a fresh state and PKCE pair and its authorization URL
/// (ending in `redirect_uri=` for the client to complete).
pub fn auth_methods(c: &Collection) -> (bool, Vec<Value>) {
    let Some(o) = c.auth.as_ref().map(|a| &a.oauth2).filter(|o| o.enabled) else {
        return (false, Vec::new());
    };
    let mut providers = Vec::new();
    for config in &o.providers {
        let Ok(p) = Provider::init(config) else {
            tracing::debug!(name = %config.name, "skipping an unknown OAuth2 provider");
            continue;
        };
        let state = crate::id::random_string(30, STATE_ALPHABET);
        let (verifier, challenge, method) = if p.pkce {
            let (v, c) = pkce_pair();
            (v, c, "S256")
        } else {
            (String::new(), String::new(), "")
        };
        let url = p.auth_url(
            &state,
            (!challenge.is_empty()).then_some(challenge.as_str()),
        );
        providers.push(json!({
            "name": p.name,
            "displayName": p.display_name,
            "logo": "",
            "state": state,
            "authURL": url,
            "authUrl": url,
            "codeVerifier": verifier,
            "codeChallenge": challenge,
            "codeChallengeMethod": method,
        }));
    }
    (true, providers)
}

/// The body of `auth-with-oauth2`.
#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    /// The configured provider's name.
    pub provider: String,
    /// The authorization code from the redirect.
    pub code: String,
    /// The PKCE verifier `auth-methods` gave.
    pub code_verifier: String,
    /// The redirect URL the code was sent to.
    pub redirect_url: String,
    /// Fields for a record created by this sign-in.
    pub create_data: Map<String, Value>,
}

impl SignInForm {
    /// Reads and checks the body as PocketBase does (`redirectUrl` is the
    /// legacy name of `redirectURL`).
    pub fn parse(c: &Collection, body: &Map<String, Value>) -> Result<SignInForm, ApiError> {
        let loading =
            || ApiError::bad_request("An error occurred while loading the submitted data.");
        let text = |key: &str| -> Result<String, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(loading()),
            }
        };
        let create_data = match body.get("createData") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(loading()),
        };
        let mut redirect_url = text("redirectURL")?;
        if redirect_url.is_empty() {
            redirect_url = text("redirectUrl")?;
        }
        let form = SignInForm {
            provider: text("provider")?,
            code: text("code")?,
            code_verifier: text("codeVerifier")?,
            redirect_url,
            create_data,
        };
        let mut data = Map::new();
        let o = c.auth.as_ref().map(|a| &a.oauth2);
        if form.provider.is_empty() {
            data.insert(
                "provider".into(),
                json!({"code": "validation_required", "message": "Cannot be blank."}),
            );
        } else if form.provider.chars().count() > 100 {
            data.insert(
                "provider".into(),
                json!({"code": "validation_length_out_of_range", "message": "The length must be between 0 and 100."}),
            );
        } else if o.and_then(|o| o.provider(&form.provider)).is_none() {
            data.insert(
                "provider".into(),
                json!({"code": "validation_invalid_provider",
                       "message": format!("Provider with name {} is missing or is not enabled.", form.provider),
                       "params": {"name": form.provider}}),
            );
        }
        if form.code.is_empty() {
            data.insert(
                "code".into(),
                json!({"code": "validation_required", "message": "Cannot be blank."}),
            );
        }
        if data.is_empty() {
            Ok(form)
        } else {
            Err(loading().with_data(data))
        }
    }
}

/// 403 unless the collection allows OAuth2 sign-in.
pub fn ensure_enabled(c: &Collection) -> Result<(), ApiError> {
    if c.auth.as_ref().is_some_and(|a| a.oauth2.enabled) {
        Ok(())
    } else {
        Err(ApiError::forbidden_with(
            "The collection is not configured to allow OAuth2 authentication.",
        ))
    }
}

/// A finished OAuth2 sign-in: the record and the `meta` of the answer.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The signed-in record.
    pub row: AuthRow,
    /// PocketBase's `meta`: the provider's user, its tokens, `isNew`.
    pub meta: Map<String, Value>,
}

/// Apple tells a user's name only in the redirect's form post; it waits here
/// (by code, a minute at most) for the `auth-with-oauth2` call that follows.
fn apple_names() -> &'static Mutex<HashMap<String, (String, Instant)>> {
    static NAMES: OnceLock<Mutex<HashMap<String, (String, Instant)>>> = OnceLock::new();
    NAMES.get_or_init(Mutex::default)
}

/// Keeps the name Apple posted with `code` (the `user` form field's JSON).
pub fn remember_apple_name(code: &str, user_json: &str) {
    let Ok(v) = serde_json::from_str::<Value>(user_json) else {
        return;
    };
    let part = |k: &str| v["name"][k].as_str().unwrap_or_default().to_string();
    let name: String = format!("{} {}", part("firstName"), part("lastName"))
        .trim()
        .chars()
        .take(150)
        .collect();
    if name.is_empty() || code.len() > 1000 {
        return;
    }
    let mut names = apple_names()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    names.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(60));
    names.insert(code.to_string(), (name, Instant::now()));
}

fn take_apple_name(code: &str) -> Option<String> {
    let mut names = apple_names()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    names
        .remove(code)
        .filter(|(_, at)| at.elapsed() < Duration::from_secs(60))
        .map(|(n, _)| n)
}

/// Trades the code for the provider's user (off the async threads).
async fn provider_user(c: &Collection, form: &SignInForm) -> Result<AuthUser, ApiError> {
    let config = c
        .auth
        .as_ref()
        .and_then(|a| a.oauth2.provider(&form.provider))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Missing or invalid provider config.",
            )
        })?;
    let provider = Provider::init(&config).map_err(|_| {
        ApiError::new(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("Failed to init provider {}", form.provider),
        )
    })?;
    let (code, verifier, redirect) = (
        form.code.clone(),
        form.code_verifier.clone(),
        form.redirect_url.clone(),
    );
    let outcome = actix_web::web::block(move || {
        let token =
            client::fetch_token(&provider, &code, &verifier, &redirect).map_err(|e| (true, e))?;
        client::fetch_user(&provider, token).map_err(|e| (false, e))
    })
    .await
    .map_err(|_| ApiError::internal())?;
    match outcome {
        Ok(user) => Ok(user),
        Err((at_token, err)) => {
            tracing::debug!(error = %err, provider = %form.provider, "OAuth2 exchange failed");
            Err(ApiError::bad_request(if at_token {
                "Failed to fetch OAuth2 token."
            } else {
                "Failed to fetch OAuth2 user."
            }))
        }
    }
}

/// Which record an OAuth2 user signs in as, before any write.
enum Found {
    /// The record linked to the provider account (kept unless unverified).
    Linked(AuthRow),
    /// The requester's own record, or the one with the same verified email.
    Existing(AuthRow),
    /// Nobody yet: a record will be created.
    New,
}

async fn find_record(
    core: &Core,
    c: &Arc<Collection>,
    requester: &Auth,
    provider: &str,
    user: &AuthUser,
) -> Result<Found, ApiError> {
    let (cid, provider, provider_id) = (c.id.clone(), provider.to_string(), user.id.clone());
    let link = core
        .db
        .read(move |conn| external_auths::find(conn, &cid, &provider, &provider_id))
        .await?;
    if let Some((_, record_id)) = link {
        let row = load_row(core, c, &record_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        return Ok(Found::Linked(row));
    }
    if let Some(me) = requester.record().filter(|r| r.collection_id == c.id) {
        if let Some(row) = load_row(core, c, &me.id).await? {
            return Ok(Found::Existing(row));
        }
    }
    if !user.email.is_empty() {
        if let Some(row) = super::auth::find_by_email(core, c, &user.email).await? {
            return Ok(Found::Existing(row));
        }
    }
    Ok(Found::New)
}

/// The body of the record an OAuth2 sign-up creates: `createData`, the
/// provider's verified email unless one was given, the mapped fields unless
/// given, a random password unless given.
fn new_record_body(c: &Collection, form: &SignInForm, user: &AuthUser) -> Map<String, Value> {
    let mut body = form.create_data.clone();
    if body
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .is_empty()
    {
        body.insert("email".into(), json!(user.email));
    }
    let mapped = c
        .auth
        .as_ref()
        .map(|a| a.oauth2.mapped_fields.clone())
        .unwrap_or_default();
    for (field, value) in [
        (&mapped.id, &user.id),
        (&mapped.name, &user.name),
        (&mapped.username, &user.username),
        (&mapped.avatar_url, &user.avatar_url),
    ] {
        let Some(f) = (!field.is_empty()).then(|| c.field(field)).flatten() else {
            continue;
        };
        if body.contains_key(field) || value.is_empty() && *field == mapped.avatar_url {
            continue;
        }
        if matches!(f.kind, crate::schema::FieldKind::File { .. }) {
            // Downloaded into the field by `sign_in`, not stored as a URL.
            continue;
        }
        if *field == mapped.username && !username_fits(f, value) {
            continue;
        }
        body.insert(field.clone(), json!(value));
    }
    if !body.contains_key("password") {
        let password = crate::id::random_string(30, STATE_ALPHABET);
        body.insert("password".into(), json!(password));
        body.insert("passwordConfirm".into(), json!(password));
    }
    body
}

/// Whether a provider's username is a valid value of the mapped field (its
/// uniqueness is checked by the write itself: a taken one fails the sign-up,
/// where PocketBase would leave the field empty).
fn username_fits(f: &crate::schema::Field, value: &str) -> bool {
    crate::records::value::validate(f, &json!(value)).is_none()
}

/// Signs in with an OAuth2 code: the provider's user, then the linked,
/// matching or new record (one transaction), then the `authRule`.
pub async fn sign_in(
    core: &Core,
    c: &Arc<Collection>,
    caller: &Caller,
    form: SignInForm,
) -> Result<SignedIn, ApiError> {
    let mut user = provider_user(c, &form).await?;
    if form.provider == "apple" && user.name.is_empty() {
        if let Some(name) = take_apple_name(&form.code) {
            user.name = name;
        }
    }
    let found = find_record(core, c, &caller.auth, &form.provider, &user).await?;
    let failed = |e: ApiError| {
        if e.status().as_u16() == 500 {
            ApiError::bad_request("Failed to authenticate.")
        } else {
            e
        }
    };
    let is_new = matches!(found, Found::New);
    if is_new && c.id == super::SUPERUSERS_COLLECTION_ID {
        return Err(ApiError::bad_request("Failed to authenticate."));
    }
    let mut body = if is_new {
        new_record_body(c, &form, &user)
    } else {
        Map::new()
    };
    // An avatar mapped to a file field is downloaded and stored under the new
    // record's id before the write (as any upload), and removed again if the
    // write fails.
    let avatar = match avatar_file_field(c).filter(|_| is_new && !user.avatar_url.is_empty()) {
        Some(field) if !body.contains_key(&field.name) => {
            download_avatar(core, c, field, &user.avatar_url, &mut body).await
        }
        _ => None,
    };
    let new_password = match (&found, body.get("password").and_then(Value::as_str)) {
        (Found::New, Some(p)) if crate::auth::password::validate(p).is_ok() => {
            Some(hash_password(p).await?)
        }
        (Found::New, _) => None,
        (Found::Linked(row) | Found::Existing(row), _) if !row.verified() => {
            Some(hash_password(&crate::id::random_string(30, STATE_ALPHABET)).await?)
        }
        _ => None,
    };
    let plan = Plan {
        collection: c.name.clone(),
        collection_id: c.id.clone(),
        provider: form.provider.clone(),
        user: user.clone(),
        requester: caller
            .auth
            .record()
            .filter(|r| r.collection_id == c.id)
            .map(|r| r.id.clone()),
        random_hash: new_password.clone(),
    };
    let (uploads, stored_avatar) = match avatar {
        Some((files, new_id, stored)) => (
            FlowUploads {
                files,
                new_id: Some(new_id.clone()),
            },
            Some((new_id, stored)),
        ),
        None => (FlowUploads::default(), None),
    };
    let written = core
        .records
        .flow_write(caller, "oauth2", new_password, uploads, move |tx| {
            plan.run(tx, found, &body)
        })
        .await;
    if let (Err(_), Some((new_id, stored))) = (&written, stored_avatar) {
        crate::records::uploads::remove_unkept(core.records.files(), c, &new_id, stored, None)
            .await;
    }
    let record_id = written.map_err(|e: RecordError| failed(e.into()))?;
    let row = load_row(core, c, &record_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_auth_rule(core, c, &row).await?;
    let mut meta = user.meta();
    meta.insert("isNew".into(), json!(is_new));
    Ok(SignedIn { row, meta })
}

/// The file field the collection maps the provider's avatar to, if any.
fn avatar_file_field(c: &Collection) -> Option<&crate::schema::Field> {
    let mapped = &c.auth.as_ref()?.oauth2.mapped_fields.avatar_url;
    c.field(mapped)
        .filter(|f| matches!(f.kind, crate::schema::FieldKind::File { .. }))
}

/// How long the provider's avatar server may take.
const AVATAR_TIMEOUT: Duration = Duration::from_secs(10);

/// Downloads the avatar at `url` (at most the field's size limit) and stores
/// it under a new record id, named into `body`; answers the stored upload, the
/// id and the stored names. Any failure only leaves the field empty, as in
/// PocketBase: a sign-up does not fail for its picture.
async fn download_avatar(
    core: &Core,
    c: &Arc<Collection>,
    field: &crate::schema::Field,
    url: &str,
    body: &mut Map<String, Value>,
) -> Option<(Vec<crate::records::uploads::NewFile>, String, Vec<String>)> {
    let files = core.records.files().clone();
    let limit = crate::records::uploads::max_size(field);
    let (url, dir, key) = (
        url.to_string(),
        files.temp_dir().to_path_buf(),
        field.name.clone(),
    );
    let fetched = web::block(move || fetch_avatar(&url, &dir, limit, key)).await;
    let upload = match fetched {
        Ok(Ok(upload)) => upload,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "OAuth2 avatar not downloaded; the field stays empty");
            return None;
        }
        Err(_) => return None,
    };
    let new_id = crate::id::new_id();
    let mut staged = crate::records::uploads::stage(c, body, vec![upload]);
    match staged.store(&files, c, &new_id).await {
        Ok(stored) => Some((staged.files, new_id, stored)),
        Err(e) => {
            tracing::warn!(error = %e, "OAuth2 avatar not stored; the field stays empty");
            body.remove(&field.name);
            None
        }
    }
}

/// The blocking part of [`download_avatar`]: GET, at most `limit` bytes, into
/// a temp file; its type read from its first bytes.
fn fetch_avatar(
    url: &str,
    dir: &std::path::Path,
    limit: u64,
    key: String,
) -> std::io::Result<crate::files::Upload> {
    // The avatar URL comes from the provider: one that can be made to name
    // `http://127.0.0.1:…` must not reach the server's own network.
    let agent = crate::outbound::public_agent(
        ureq::Agent::config_builder()
            .timeout_global(Some(AVATAR_TIMEOUT))
            .build(),
    );
    fetch_avatar_with(&agent, url, dir, limit, key)
}

/// [`fetch_avatar`] with a given client (tests use one that may reach loopback).
fn fetch_avatar_with(
    agent: &ureq::Agent,
    url: &str,
    dir: &std::path::Path,
    limit: u64,
    key: String,
) -> std::io::Result<crate::files::Upload> {
    use std::io::{Read, Write};
    let response = agent.get(url).call().map_err(std::io::Error::other)?;
    let mut reader = response.into_body().into_reader().take(limit + 1);
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    let size = std::io::copy(&mut reader, &mut file)?;
    if size > limit || size == 0 {
        return Err(std::io::Error::other(format!(
            "the avatar is {size} bytes; the field takes 1 to {limit}"
        )));
    }
    file.flush()?;
    let mut head = [0u8; 512];
    let mut opened = std::fs::File::open(file.path())?;
    let n = opened.read(&mut head)?;
    let content_type = crate::files::sniff::content_type(&head[..n]);
    let original_name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("avatar")
        .to_string();
    Ok(crate::files::Upload {
        key,
        original_name,
        size,
        content_type,
        file: file.into_temp_path(),
    })
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.into(), value);
    m
}

/// What the sign-in's transaction needs to know.
struct Plan {
    collection: String,
    collection_id: String,
    provider: String,
    user: AuthUser,
    /// The requester's own record in this collection, if signed in.
    requester: Option<String>,
    /// A hashed random password for an unverified record taken over.
    random_hash: Option<String>,
}

impl Plan {
    /// The writes of one sign-in; returns the record's id.
    fn run(
        &self,
        tx: &FlowTx<'_>,
        found: Found,
        body: &Map<String, Value>,
    ) -> Result<String, RecordError> {
        let (record_id, linked) = match found {
            Found::New => (self.create(tx, body)?, false),
            Found::Linked(row) => {
                let kept = row.verified();
                (self.existing(tx, row)?, kept)
            }
            Found::Existing(row) => (self.existing(tx, row)?, false),
        };
        if !linked {
            let mut link = Map::new();
            link.insert("collectionRef".into(), json!(self.collection_id));
            link.insert("recordRef".into(), json!(record_id));
            link.insert("provider".into(), json!(self.provider));
            link.insert("providerId".into(), json!(self.user.id));
            // A record has one link per provider: a second account of the same
            // provider cannot be added.
            tx.create(LINKS, &link)
                .map_err(|_| RecordError::bad_request("Failed to authenticate."))?;
        }
        Ok(record_id)
    }

    /// A new record under the create rule, verified when its email is the
    /// one the provider vouched for.
    fn create(&self, tx: &FlowTx<'_>, body: &Map<String, Value>) -> Result<String, RecordError> {
        let created = tx.create_as_client(&self.collection, body)?;
        let text = |k: &str| {
            created
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let id = text("id");
        let verified = created
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if text("email") == self.user.email && !verified {
            tx.update(&self.collection, &id, &one("verified", json!(true)))?;
        }
        Ok(id)
    }

    /// The existing-record side (PocketBase's guards against pre-registered
    /// accounts): an unverified record that is not the requester's own gets a
    /// new random password, and loses its links; an empty email takes the
    /// provider's; a matching (or empty) email becomes verified.
    fn existing(&self, tx: &FlowTx<'_>, row: AuthRow) -> Result<String, RecordError> {
        if !row.verified() {
            if self.requester.as_deref() != Some(row.id.as_str()) {
                if let Some(hash) = &self.random_hash {
                    tx.set_password(&self.collection, &row.id, hash)?;
                }
            }
            for id in external_auths::of_record(tx.conn(), &self.collection_id, &row.id)? {
                tx.delete(LINKS, &id)?;
            }
        }
        let mut patch = Map::new();
        let mut email = row.email().to_string();
        if email.is_empty() && !self.user.email.is_empty() {
            email = self.user.email.clone();
            patch.insert("email".into(), json!(email));
        }
        if !row.verified() && (email.is_empty() || email == self.user.email) {
            patch.insert("verified".into(), json!(true));
        }
        if !patch.is_empty() {
            tx.update(&self.collection, &row.id, &patch)?;
        }
        Ok(row.id)
    }
}

/// Removes the OAuth2 links of a deleted auth collection, each through the
/// record pipeline (hooks, the commit stream), as PocketBase does.
pub async fn drop_links_of_collection(core: &Core, collection_id: &str) -> Result<(), ApiError> {
    let cid = collection_id.to_string();
    core.records
        .app_write("litebase", move |tx| {
            let ids: Vec<String> = tx
                .conn()
                .prepare("SELECT id FROM _externalAuths WHERE collectionRef = ?1")?
                .query_map([&cid], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for id in ids {
                tx.delete_alone(LINKS, &id)?;
            }
            Ok::<_, RecordError>(())
        })
        .await?;
    Ok(())
}

/// The collection as the collections API shows it: provider secrets left
/// out, as PocketBase does.
pub fn without_secrets(c: &Collection) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Some(providers) = v
        .pointer_mut("/oauth2/providers")
        .and_then(Value::as_array_mut)
    {
        for p in providers.iter_mut().filter_map(Value::as_object_mut) {
            p.remove("clientSecret");
        }
    }
    v
}

/// A changed collection keeps the secret of each provider (by name) that was
/// sent without one, as the API never shows secrets.
pub fn keep_secrets(previous: &Collection, c: &mut Collection) {
    let (Some(old), Some(new)) = (previous.auth.as_ref(), c.auth.as_mut()) else {
        return;
    };
    for p in new
        .oauth2
        .providers
        .iter_mut()
        .filter(|p| p.client_secret.is_empty())
    {
        if let Some(o) = old.oauth2.provider(&p.name) {
            p.client_secret = o.client_secret.clone();
        }
    }
}

/// Where the popup flow's redirect lands: the realtime client whose id is the
/// `state` (it must be connected from `ip` and subscribed to [`TOPIC`], which
/// is used up) gets `{state, code, error}`. Returns whether the sign-in can
/// go on (a code, no error).
pub fn redirect(
    core: &Core,
    ip: Option<std::net::IpAddr>,
    state: &str,
    code: &str,
    error: &str,
) -> bool {
    if state.is_empty() {
        return false;
    }
    let Some(client) = core.realtime.client(state) else {
        return false;
    };
    if client.ip.is_some() && client.ip != ip {
        tracing::debug!("OAuth2 redirect from another address than the realtime client's");
        return false;
    }
    if !core.realtime.broker.take_topic(state, TOPIC) {
        return false;
    }
    let mut data = json!({"state": state, "code": code});
    if !error.is_empty() {
        data["error"] = json!(error);
    }
    let message = crate::realtime::sse_event(None, TOPIC, &data.to_string());
    core.realtime.broker.send(state, message);
    error.is_empty() && !code.is_empty()
}

#[cfg(test)]
mod tests {
    #[test]
    fn avatars_come_only_from_public_addresses() {
        // A server on loopback that would answer: a plain client gets its
        // picture, the avatar download does not even connect.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!(
            "http://{}/a.png",
            listener.local_addr().expect("an address")
        );
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in listener.incoming().take(2).flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nPNG!",
                );
            }
        });
        let plain: ureq::Agent = ureq::Agent::config_builder().build().into();
        let direct = plain.get(&url).call().map(|r| r.status().as_u16());
        assert_eq!(direct.ok(), Some(200), "the server answers");
        let dir = tempfile::tempdir().expect("a temp dir");
        let refused = super::fetch_avatar(&url, dir.path(), 1000, "avatar".into());
        assert!(refused.is_err(), "a loopback avatar URL is never fetched");
    }

    #[test]
    fn an_avatar_is_kept_whole_within_the_fields_limit() {
        let png: &[u8] = &[
            0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13,
        ];
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!(
            "http://{}/me/pic.png?size=64",
            listener.local_addr().expect("an address")
        );
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in listener.incoming().take(2).flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    png.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(png);
            }
        });
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        let dir = tempfile::tempdir().expect("a temp dir");
        let upload = super::fetch_avatar_with(&agent, &url, dir.path(), 1000, "avatar".into())
            .expect("downloaded");
        assert_eq!(upload.size, png.len() as u64);
        assert_eq!(upload.content_type, "image/png");
        assert_eq!(upload.original_name, "pic.png");
        assert_eq!(upload.key, "avatar");
        let too_big = super::fetch_avatar_with(&agent, &url, dir.path(), 4, "avatar".into());
        assert!(too_big.is_err(), "over the field's limit");
    }

    use super::*;

    fn users() -> Collection {
        let mut c: Collection = serde_json::from_value(json!({
            "name": "users", "type": "auth",
            "fields": [{"name": "name", "type": "text"}, {"name": "handle", "type": "text", "pattern": "^[a-z]+$"},
                       {"name": "avatar", "type": "file", "maxSelect": 1}],
            "oauth2": {"enabled": true,
                       "providers": [{"name": "github", "clientId": "id", "clientSecret": "secret"}],
                       "mappedFields": {"name": "name", "username": "handle", "avatarURL": "avatar"}}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        c.normalize();
        c
    }

    fn user(username: &str) -> AuthUser {
        AuthUser {
            id: "42".into(),
            name: "Ada".into(),
            username: username.into(),
            email: "ada@example.com".into(),
            avatar_url: "https://x/a.png".into(),
            ..AuthUser::default()
        }
    }

    #[test]
    fn a_new_record_gets_create_data_then_mapped_fields_and_a_random_password() {
        let c = users();
        let form = SignInForm {
            create_data: json!({"name": "Given"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..SignInForm::default()
        };
        let body = new_record_body(&c, &form, &user("ada"));
        assert_eq!(body["name"], "Given", "createData wins");
        assert_eq!(body["handle"], "ada");
        assert_eq!(body["email"], "ada@example.com");
        assert!(
            body.get("avatar").is_none(),
            "file fields are not filled from a URL"
        );
        let password = body["password"].as_str().unwrap_or_default();
        assert_eq!(password.len(), 30);
        assert_eq!(body["passwordConfirm"], password);
        let odd = new_record_body(&c, &SignInForm::default(), &user("Not Valid!"));
        assert!(
            odd.get("handle").is_none(),
            "a username the field refuses is left out"
        );
    }

    #[test]
    fn the_form_is_checked_like_pocketbase() {
        let c = users();
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        let err = SignInForm::parse(&c, &body(json!({})))
            .err()
            .map(|e| e.data)
            .unwrap_or_default();
        assert_eq!(err["provider"]["code"], "validation_required");
        assert_eq!(err["code"]["code"], "validation_required");
        let err = SignInForm::parse(&c, &body(json!({"provider": "google", "code": "c"})))
            .err()
            .map(|e| e.data)
            .unwrap_or_default();
        assert_eq!(err["provider"]["code"], "validation_invalid_provider");
        assert!(
            SignInForm::parse(
                &c,
                &body(json!({"provider": "github", "code": "c", "createData": 1}))
            )
            .is_err()
        );
        let ok = SignInForm::parse(
            &c,
            &body(json!({"provider": "github", "code": "c", "redirectUrl": "https://r"})),
        );
        assert_eq!(
            ok.map(|f| f.redirect_url).ok().as_deref(),
            Some("https://r")
        );
    }

    #[test]
    fn secrets_are_hidden_from_the_api_and_kept_when_not_sent() {
        let old = users();
        let shown = without_secrets(&old);
        assert!(
            shown["oauth2"]["providers"][0]
                .get("clientSecret")
                .is_none()
        );
        assert_eq!(shown["oauth2"]["providers"][0]["clientId"], "id");
        let mut new = users();
        if let Some(a) = new.auth.as_mut() {
            a.oauth2.providers[0].client_secret.clear();
        }
        keep_secrets(&old, &mut new);
        assert_eq!(
            new.auth
                .map(|a| a.oauth2.providers[0].client_secret.clone())
                .as_deref(),
            Some("secret")
        );
    }

    #[test]
    fn apple_names_wait_for_their_code_once() {
        remember_apple_name(
            "code-1",
            r#"{"name": {"firstName": "Ada", "lastName": "Lovelace"}}"#,
        );
        remember_apple_name("code-2", "not json");
        assert_eq!(take_apple_name("code-1").as_deref(), Some("Ada Lovelace"));
        assert_eq!(take_apple_name("code-1"), None, "used once");
        assert_eq!(take_apple_name("code-2"), None);
    }
}
