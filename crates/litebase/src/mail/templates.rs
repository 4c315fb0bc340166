//! The mails the auth flows send, in every [`Lang`], as plain text and HTML.
//!
//! Each mail is first described once as [`Content`] (paragraphs plus one action: a
//! link or a code), then laid out as text and as HTML from that same description, so
//! the two bodies can never disagree.

use std::fmt::Write as _;

use super::lang::Lang;

/// Which mail to write.
///
/// Exists so auth code names the situation and this module owns the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// "Confirm your email address": carries a link with the verification token.
    Verification,
    /// "Choose a new password": carries a link with the password-reset token.
    PasswordReset,
    /// "Confirm your new address": sent to the new address, carries a link with the
    /// email-change token.
    EmailChange,
    /// "Here is your sign-in code": carries the one-time code, no link.
    Otp,
    /// "Someone signed in from a new place": informational, links to the app.
    LoginAlert,
}

impl Template {
    /// Every template, for tests and admin previews that list them.
    pub const ALL: [Template; 5] = [
        Template::Verification,
        Template::PasswordReset,
        Template::EmailChange,
        Template::Otp,
        Template::LoginAlert,
    ];
}

/// The values a template fills in. Fields a template does not use may stay empty
/// (`..TemplateVars::default()`).
///
/// Exists so callers pass plain, unescaped strings: [`render`] escapes them for HTML.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateVars<'a> {
    /// The app's display name, shown in subjects and greetings.
    pub app_name: &'a str,
    /// The app's public base URL (`https://example.com`), the root of every link.
    pub app_url: &'a str,
    /// The token put in the link of [`Template::Verification`],
    /// [`Template::PasswordReset`] and [`Template::EmailChange`].
    pub token: &'a str,
    /// The one-time code of [`Template::Otp`].
    pub otp: &'a str,
    /// The account's (current) email address.
    pub email: &'a str,
    /// The requested new address of [`Template::EmailChange`].
    pub new_email: &'a str,
}

/// Writes one mail: returns `(subject, text body, html body)`.
///
/// Tokens and codes appear verbatim in both bodies; every variable is HTML-escaped in
/// the HTML body. Links follow PocketBase's admin-UI routes, e.g.
/// `{app_url}/_/#/auth/confirm-verification/{token}`.
///
/// ```
/// use litebase::mail::{Lang, Template, TemplateVars, render};
/// let vars = TemplateVars { app_name: "Acme", otp: "123456", ..TemplateVars::default() };
/// let (subject, text, html) = render(Template::Otp, Lang::En, &vars);
/// assert!(subject.contains("Acme"));
/// assert!(text.contains("123456") && html.contains("123456"));
/// ```
pub fn render(template: Template, lang: Lang, vars: &TemplateVars<'_>) -> (String, String, String) {
    let content = content(template, lang, vars);
    let text = text_body(&content);
    let html = html_body(&content, lang);
    (content.subject, text, html)
}

/// One mail, before layout. Every string is plain (unescaped) text.
struct Content {
    subject: String,
    greeting: &'static str,
    before: Vec<String>,
    action: Action,
    after: Vec<String>,
    signoff: String,
}

/// The one thing the reader is asked to do.
enum Action {
    /// Open `url`; `label` is the button text.
    Link { label: String, url: String },
    /// Type this code.
    Code(String),
}

/// The admin-UI route (PocketBase's) that consumes a token of this kind.
fn link(vars: &TemplateVars<'_>, route: &str) -> String {
    format!(
        "{}/_/#/auth/{route}/{}",
        vars.app_url.trim_end_matches('/'),
        vars.token
    )
}

fn content(template: Template, lang: Lang, vars: &TemplateVars<'_>) -> Content {
    let app = vars.app_name;
    let email = vars.email;
    let new_email = vars.new_email;
    let (greeting, signoff) = match lang {
        Lang::En => ("Hello,", format!("The {app} team")),
        Lang::Fr => ("Bonjour,", format!("L'équipe {app}")),
    };
    let (subject, before, action, after) = match (template, lang) {
        (Template::Verification, Lang::En) => (
            format!("Verify your {app} email address"),
            format!(
                "Thanks for signing up to {app}. To confirm that {email} is your address, \
                 open the link below."
            ),
            Action::Link {
                label: "Confirm my email".into(),
                url: link(vars, "confirm-verification"),
            },
            format!("If you didn't create an account on {app}, you can safely ignore this email."),
        ),
        (Template::Verification, Lang::Fr) => (
            format!("Confirmez votre adresse e-mail pour {app}"),
            format!(
                "Merci de votre inscription sur {app}. Pour confirmer que {email} est bien \
                 votre adresse, ouvrez le lien ci-dessous."
            ),
            Action::Link {
                label: "Confirmer mon adresse".into(),
                url: link(vars, "confirm-verification"),
            },
            format!("Si vous n'avez pas créé de compte sur {app}, vous pouvez ignorer cet e-mail."),
        ),
        (Template::PasswordReset, Lang::En) => (
            format!("Reset your {app} password"),
            format!(
                "Someone asked to reset the password of the {app} account for {email}. To \
                 choose a new password, open the link below. It works once, for a limited time."
            ),
            Action::Link {
                label: "Choose a new password".into(),
                url: link(vars, "confirm-password-reset"),
            },
            "If you didn't ask for this, you can ignore this email: your password stays the \
             same."
                .to_owned(),
        ),
        (Template::PasswordReset, Lang::Fr) => (
            format!("Réinitialisez votre mot de passe {app}"),
            format!(
                "Quelqu'un a demandé à réinitialiser le mot de passe du compte {app} de \
                 {email}. Pour en choisir un nouveau, ouvrez le lien ci-dessous. Il ne sert \
                 qu'une fois, pendant une durée limitée."
            ),
            Action::Link {
                label: "Choisir un nouveau mot de passe".into(),
                url: link(vars, "confirm-password-reset"),
            },
            "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : votre mot \
             de passe reste le même."
                .to_owned(),
        ),
        (Template::EmailChange, Lang::En) => (
            format!("Confirm your new email address for {app}"),
            format!(
                "You asked to change the email address of your {app} account from {email} to \
                 {new_email}. To confirm the change, open the link below."
            ),
            Action::Link {
                label: "Confirm the new address".into(),
                url: link(vars, "confirm-email-change"),
            },
            "If you didn't ask for this, ignore this email: your account keeps its current \
             address."
                .to_owned(),
        ),
        (Template::EmailChange, Lang::Fr) => (
            format!("Confirmez votre nouvelle adresse e-mail pour {app}"),
            format!(
                "Vous avez demandé à remplacer l'adresse e-mail de votre compte {app}, \
                 {email}, par {new_email}. Pour confirmer ce changement, ouvrez le lien \
                 ci-dessous."
            ),
            Action::Link {
                label: "Confirmer la nouvelle adresse".into(),
                url: link(vars, "confirm-email-change"),
            },
            "Si vous n'avez rien demandé, ignorez cet e-mail : votre compte garde son adresse \
             actuelle."
                .to_owned(),
        ),
        (Template::Otp, Lang::En) => (
            format!("Your {app} sign-in code"),
            format!("Here is your one-time code to sign in to {app}."),
            Action::Code(vars.otp.to_owned()),
            "It works once and only for a few minutes. If you didn't try to sign in, you can \
             ignore this email."
                .to_owned(),
        ),
        (Template::Otp, Lang::Fr) => (
            format!("Votre code de connexion à {app}"),
            format!("Voici votre code à usage unique pour vous connecter à {app}."),
            Action::Code(vars.otp.to_owned()),
            "Il ne sert qu'une fois et n'est valable que quelques minutes. Si vous n'avez pas \
             essayé de vous connecter, ignorez cet e-mail."
                .to_owned(),
        ),
        (Template::LoginAlert, Lang::En) => (
            format!("New sign-in to your {app} account"),
            format!(
                "Your {app} account ({email}) was just signed in to from a new device or \
                 location."
            ),
            Action::Link {
                label: format!("Open {app}"),
                url: vars.app_url.to_owned(),
            },
            "If this was you, there is nothing to do. If it wasn't, change your password \
             right away."
                .to_owned(),
        ),
        (Template::LoginAlert, Lang::Fr) => (
            format!("Nouvelle connexion à votre compte {app}"),
            format!(
                "Quelqu'un vient de se connecter à votre compte {app} ({email}) depuis un \
                 nouvel appareil ou un nouvel endroit."
            ),
            Action::Link {
                label: format!("Ouvrir {app}"),
                url: vars.app_url.to_owned(),
            },
            "Si c'était vous, vous n'avez rien à faire. Sinon, changez votre mot de passe sans \
             attendre."
                .to_owned(),
        ),
    };
    Content {
        subject,
        greeting,
        before: vec![before],
        action,
        after: vec![after],
        signoff,
    }
}

fn text_body(content: &Content) -> String {
    let mut paragraphs: Vec<String> = vec![content.greeting.to_owned()];
    paragraphs.extend(content.before.iter().cloned());
    paragraphs.push(match &content.action {
        Action::Link { url, .. } => url.clone(),
        Action::Code(code) => format!("    {code}"),
    });
    paragraphs.extend(content.after.iter().cloned());
    paragraphs.push(format!("-- \n{}", content.signoff));
    let mut text = paragraphs.join("\n\n");
    text.push('\n');
    text
}

fn html_body(content: &Content, lang: Lang) -> String {
    const P: &str = "margin:0 0 16px;line-height:1.5";
    let mut body = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(body, "<p style=\"{P}\">{}</p>", escape(content.greeting));
    for paragraph in &content.before {
        let _ = write!(body, "<p style=\"{P}\">{}</p>", escape(paragraph));
    }
    match &content.action {
        Action::Link { label, url } => {
            let url = escape(url);
            let _ = write!(
                body,
                "<p style=\"{P}\"><a href=\"{url}\" style=\"display:inline-block;\
                 padding:10px 18px;border-radius:6px;background:#2563eb;color:#ffffff;\
                 text-decoration:none;font-weight:600\">{}</a></p>\
                 <p style=\"{P};font-size:13px;color:#52525b;word-break:break-all\">\
                 <a href=\"{url}\" style=\"color:#2563eb\">{url}</a></p>",
                escape(label)
            );
        }
        Action::Code(code) => {
            let _ = write!(
                body,
                "<p style=\"{P};font-size:28px;font-weight:700;letter-spacing:6px;\
                 font-family:ui-monospace,Menlo,Consolas,monospace\">{}</p>",
                escape(code)
            );
        }
    }
    for paragraph in &content.after {
        let _ = write!(body, "<p style=\"{P}\">{}</p>", escape(paragraph));
    }
    let _ = write!(
        body,
        "<p style=\"margin:24px 0 0;color:#52525b\">{}</p>",
        escape(&content.signoff)
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n\
         <body style=\"margin:0;padding:24px;background:#f4f4f5;color:#18181b;\
         font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px\">\n\
         <div style=\"max-width:520px;margin:0 auto;padding:24px;background:#ffffff;\
         border-radius:8px\">\n{body}\n</div>\n</body>\n</html>\n",
        lang = lang.code(),
        title = escape(&content.subject),
    )
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Template, TemplateVars, escape, render};
    use crate::mail::Lang;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6ImFiYzEyMyJ9.c2lnbmF0dXJlLV8";
    const OTP: &str = "492817";

    fn vars() -> TemplateVars<'static> {
        TemplateVars {
            app_name: "Acme",
            app_url: "https://acme.example/",
            token: TOKEN,
            otp: OTP,
            email: "ada@example.com",
            new_email: "ada@new.example",
        }
    }

    /// The link a template must carry, or `None` for the code-only mail.
    fn expected_link(template: Template) -> Option<String> {
        let route = match template {
            Template::Verification => "confirm-verification",
            Template::PasswordReset => "confirm-password-reset",
            Template::EmailChange => "confirm-email-change",
            Template::Otp => return None,
            Template::LoginAlert => return Some("https://acme.example/".into()),
        };
        Some(format!("https://acme.example/_/#/auth/{route}/{TOKEN}"))
    }

    #[test]
    fn every_template_renders_its_token_or_code_in_both_bodies() {
        for template in Template::ALL {
            for lang in Lang::ALL {
                let (subject, text, html) = render(template, lang, &vars());
                let case = format!("{template:?}/{lang:?}");
                assert!(subject.contains("Acme"), "{case}: subject {subject:?}");
                assert!(!subject.contains('\n'), "{case}: subject is one line");
                assert!(text.contains("Acme") && html.contains("Acme"), "{case}");
                match expected_link(template) {
                    Some(link) => {
                        assert!(text.contains(&link), "{case}: text lacks {link}\n{text}");
                        assert!(html.contains(&format!("href=\"{link}\"")), "{case}: {html}");
                    }
                    None => {
                        assert!(text.contains(OTP), "{case}: text lacks the code\n{text}");
                        assert!(html.contains(OTP), "{case}: html lacks the code");
                        assert!(!text.contains(TOKEN), "{case}: no token in an OTP mail");
                    }
                }
                if template != Template::LoginAlert && template != Template::Otp {
                    assert!(text.contains(TOKEN) && html.contains(TOKEN), "{case}");
                }
                assert!(html.starts_with("<!DOCTYPE html>"), "{case}");
                assert!(
                    html.contains(&format!("<html lang=\"{}\">", lang.code())),
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn email_change_names_both_addresses() {
        for lang in Lang::ALL {
            let (_, text, html) = render(Template::EmailChange, lang, &vars());
            for body in [&text, &html] {
                assert!(body.contains("ada@example.com"), "{lang:?}");
                assert!(body.contains("ada@new.example"), "{lang:?}");
            }
        }
    }

    #[test]
    fn subjects_are_localised() {
        for template in Template::ALL {
            let (en, en_text, _) = render(template, Lang::En, &vars());
            let (fr, fr_text, _) = render(template, Lang::Fr, &vars());
            assert_ne!(en, fr, "{template:?}");
            assert!(en_text.starts_with("Hello,"), "{template:?}");
            assert!(fr_text.starts_with("Bonjour,"), "{template:?}");
        }
        let (fr, _, _) = render(Template::PasswordReset, Lang::Fr, &vars());
        assert_eq!(fr, "Réinitialisez votre mot de passe Acme");
    }

    #[test]
    fn every_mail_says_it_can_be_ignored_if_unexpected() {
        for template in Template::ALL {
            let (_, en, _) = render(template, Lang::En, &vars());
            let (_, fr, _) = render(template, Lang::Fr, &vars());
            let en_ok = en.contains("ignore this email") || en.contains("If this was you");
            let fr_ok = fr.contains("ignorez cet e-mail")
                || fr.contains("ignorer cet e-mail")
                || fr.contains("Si c'était vous");
            assert!(en_ok, "{template:?}/En:\n{en}");
            assert!(fr_ok, "{template:?}/Fr:\n{fr}");
        }
    }

    #[test]
    fn html_escapes_every_variable() {
        let hostile = TemplateVars {
            app_name: "<script>alert(1)</script>",
            app_url: "https://x.example/\"><img src=x onerror=alert(1)>",
            email: "a&b<i>@example.com",
            new_email: "'quoted'@example.com",
            ..vars()
        };
        for template in Template::ALL {
            for lang in Lang::ALL {
                let (subject, text, html) = render(template, lang, &hostile);
                let case = format!("{template:?}/{lang:?}");
                assert!(!html.contains("<script>"), "{case}: {html}");
                assert!(
                    html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                    "{case}"
                );
                assert!(!html.contains("<img"), "{case}");
                assert!(!html.contains("<i>"), "{case}");
                // Plain text and subject are not HTML: they keep the raw value.
                assert!(subject.contains("<script>"), "{case}");
                assert!(text.contains("<script>"), "{case}");
            }
        }
    }

    #[test]
    fn links_tolerate_a_base_url_without_trailing_slash() {
        let vars = TemplateVars {
            app_url: "http://127.0.0.1:8090",
            ..vars()
        };
        let (_, text, _) = render(Template::Verification, Lang::En, &vars);
        assert!(text.contains(&format!(
            "http://127.0.0.1:8090/_/#/auth/confirm-verification/{TOKEN}\n"
        )));
    }

    #[test]
    fn escape_covers_the_html_specials() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }
}
