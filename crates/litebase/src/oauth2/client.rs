//! The HTTP side of a sign-in: trading the code for tokens, then reading the
//! user (user-info endpoint, GitHub's email list, or the id_token with its
//! JWKS). Blocking calls with a 30 s budget each: callers run them off the
//! async runtime (`web::block`).

use std::time::Duration;

use serde_json::{Map, Value};

use super::OAuth2Error;
use super::catalog::{APPLE_ISSUER, APPLE_JWKS_URL, Kind};
use super::id_token::{self, Expect};
use super::provider::Provider;
use super::user::{self, AuthUser, MapOptions, Token};

/// Most bytes read from a provider's answer.
const MAX_BODY: u64 = 2 * 1024 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .user_agent("litebase")
        .build()
        .into()
}

fn http_error(url: &str, err: ureq::Error) -> OAuth2Error {
    OAuth2Error::Http(format!("{url}: {err}"))
}

/// Reads an answer: its status and body as text.
fn read(
    url: &str,
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), OAuth2Error> {
    let mut resp = resp.map_err(|e| http_error(url, e))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| http_error(url, e))?;
    Ok((status, body))
}

fn percent(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The token answer: JSON, or the form encoding some providers (GitHub
/// without `Accept`) still use.
fn parse_token(body: &str) -> Result<Token, OAuth2Error> {
    let fields: Map<String, Value> = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    };
    let text = |k: &str| match fields.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if !text("error").is_empty() {
        return Err(OAuth2Error::Token(format!(
            "{}: {}",
            text("error"),
            text("error_description")
        )));
    }
    let access_token = text("access_token");
    if access_token.is_empty() {
        return Err(OAuth2Error::Token(
            "server response missing access_token".into(),
        ));
    }
    let expiry = text("expires_in")
        .parse::<i64>()
        .ok()
        .filter(|s| *s > 0)
        .map(|s| time::OffsetDateTime::now_utc() + time::Duration::seconds(s));
    Ok(Token {
        access_token,
        refresh_token: text("refresh_token"),
        expiry,
        id_token: text("id_token"),
    })
}

/// Trades an authorization code for tokens. Like PocketBase (Go's oauth2), the
/// client authenticates with HTTP Basic first and, if the provider refuses
/// that, once more with the credentials in the form.
pub fn fetch_token(
    p: &Provider,
    code: &str,
    verifier: &str,
    redirect_url: &str,
) -> Result<Token, OAuth2Error> {
    let agent = agent();
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "authorization_code"), ("code", code)];
    if !redirect_url.is_empty() {
        form.push(("redirect_uri", redirect_url));
    }
    if p.pkce && !verifier.is_empty() {
        form.push(("code_verifier", verifier));
    }
    let basic = {
        use base64::Engine as _;
        let pair = format!("{}:{}", percent(&p.client_id), percent(&p.client_secret));
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let first = read(
        &p.token_url,
        agent
            .post(&p.token_url)
            .header("Accept", "application/json")
            .header("Authorization", &basic)
            .send_form(form.iter().copied()),
    )?;
    let (status, body) = if (200..300).contains(&first.0) {
        first
    } else {
        let mut with_params = form.clone();
        with_params.push(("client_id", &p.client_id));
        if !p.client_secret.is_empty() {
            with_params.push(("client_secret", &p.client_secret));
        }
        read(
            &p.token_url,
            agent
                .post(&p.token_url)
                .header("Accept", "application/json")
                .send_form(with_params.iter().copied()),
        )?
    };
    if !(200..300).contains(&status) {
        return Err(OAuth2Error::Status {
            url: p.token_url.clone(),
            status,
            body: body.chars().take(500).collect(),
        });
    }
    parse_token(&body)
}

fn get_json(
    agent: &ureq::Agent,
    url: &str,
    bearer: Option<&str>,
) -> Result<(u16, Value), OAuth2Error> {
    let mut req = agent.get(url).header("Accept", "application/json");
    if let Some(token) = bearer {
        req = req.header("Authorization", &format!("Bearer {token}"));
    }
    let (status, body) = read(url, req.call())?;
    if status >= 400 {
        return Ok((status, Value::String(body.chars().take(500).collect())));
    }
    let value =
        serde_json::from_str(&body).map_err(|e| OAuth2Error::BadResponse(format!("{url}: {e}")))?;
    Ok((status, value))
}

/// The user-info answer as a JSON object (an error for 4xx/5xx).
fn user_info(
    agent: &ureq::Agent,
    p: &Provider,
    token: &Token,
) -> Result<Map<String, Value>, OAuth2Error> {
    let (status, value) = get_json(agent, &p.user_info_url, Some(&token.access_token))?;
    if status >= 400 {
        return Err(OAuth2Error::Status {
            url: p.user_info_url.clone(),
            status,
            body: value.as_str().unwrap_or_default().to_string(),
        });
    }
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(OAuth2Error::BadResponse(format!(
            "{}: not a JSON object",
            p.user_info_url
        ))),
    }
}

/// The id_token's claims, checked; the signature too when `jwks_url` is set.
fn verified_claims(
    agent: &ureq::Agent,
    token: &Token,
    expect: &Expect<'_>,
    jwks_url: &str,
) -> Result<Map<String, Value>, OAuth2Error> {
    let claims = id_token::claims(&token.id_token)?;
    id_token::check_claims(
        &claims,
        expect,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )?;
    if !jwks_url.is_empty() {
        let (status, jwks) = get_json(agent, jwks_url, None)?;
        if status >= 400 {
            return Err(OAuth2Error::Status {
                url: jwks_url.to_string(),
                status,
                body: String::new(),
            });
        }
        id_token::verify_signature(&token.id_token, &jwks)?;
    }
    Ok(claims)
}

/// Reads the user the tokens belong to, the way the provider's kind says.
pub fn fetch_user(p: &Provider, token: Token) -> Result<AuthUser, OAuth2Error> {
    let agent = agent();
    let issuers = p.extra_issuers();
    let (raw, id_claims) = match p.kind {
        Kind::Apple => {
            let apple_issuers = vec![APPLE_ISSUER.to_string()];
            let expect = Expect {
                audience: Some(&p.client_id),
                issuers: &apple_issuers,
                require_exp: true,
            };
            let jwks = match p.extra_text("jwksURL") {
                "" => APPLE_JWKS_URL,
                custom => custom,
            };
            (verified_claims(&agent, &token, &expect, jwks)?, None)
        }
        Kind::Oidc if p.user_info_url.is_empty() => {
            let expect = Expect {
                audience: Some(&p.client_id),
                issuers: &issuers,
                require_exp: false,
            };
            (
                verified_claims(&agent, &token, &expect, p.extra_text("jwksURL"))?,
                None,
            )
        }
        Kind::Microsoft if !p.extra_text("idTokenEmailClaim").is_empty() => {
            let claims = id_token::claims(&token.id_token).and_then(|c| {
                id_token::check_claims(
                    &c,
                    &Expect::default(),
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                )
                .map(|_| c)
            });
            (user_info(&agent, p, &token)?, claims.ok())
        }
        _ => (user_info(&agent, p, &token)?, None),
    };
    let opts = MapOptions {
        microsoft_email_claim: p.extra_text("idTokenEmailClaim"),
        id_token_claims: id_claims.as_ref(),
    };
    let access = token.access_token.clone();
    let mut u = user::from_profile(p.kind, raw, token, &opts);
    if p.kind == Kind::Github {
        let url = format!("{}/emails", p.user_info_url);
        let (status, emails) = get_json(&agent, &url, Some(&access))?;
        // No permission for the list: no verified email, not a failure.
        if !matches!(status, 401 | 403 | 404) {
            u.email = user::github_primary_email(&emails);
        }
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_in_json_or_form_encoding() -> Result<(), OAuth2Error> {
        let t = parse_token(
            r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","id_token":"i"}"#,
        )?;
        assert_eq!(
            (
                t.access_token.as_str(),
                t.refresh_token.as_str(),
                t.id_token.as_str()
            ),
            ("a", "r", "i")
        );
        assert!(
            t.expiry
                .is_some_and(|e| e > time::OffsetDateTime::now_utc())
        );
        let gh = parse_token("access_token=gho_x&scope=read%3Auser&token_type=bearer")?;
        assert_eq!(gh.access_token, "gho_x");
        assert_eq!(gh.expiry, None);
        assert!(matches!(
            parse_token(r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#),
            Err(OAuth2Error::Token(m)) if m.contains("invalid_grant")
        ));
        assert!(parse_token("{}").is_err());
        Ok(())
    }
}
