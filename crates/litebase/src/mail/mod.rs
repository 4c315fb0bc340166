//! Outgoing mail for the auth flows: verification, password reset, email change,
//! one-time codes and login alerts.
//!
//! Two halves that know nothing of each other:
//!
//! - [`render`] turns a [`Template`], a [`Lang`] and [`TemplateVars`] into a subject, a
//!   plain-text body and an HTML body. Pure, no IO.
//! - [`Mailer`] delivers a [`Mail`] over SMTP, or, when no SMTP host is configured,
//!   writes it to the log so a local setup works without a mail server.
//!
//! ```no_run
//! use litebase::mail::{Lang, Mail, MailConfig, Mailer, Template, TemplateVars, render};
//!
//! # async fn example() -> Result<(), litebase::mail::MailError> {
//! let mailer = Mailer::new(MailConfig::default())?; // no host: mails go to the log
//! let vars = TemplateVars {
//!     app_name: "Acme",
//!     app_url: "https://acme.example",
//!     token: "eyJhbGciOi...",
//!     email: "ada@example.com",
//!     ..TemplateVars::default()
//! };
//! let lang = Lang::from_accept_language(Some("fr-FR,fr;q=0.9,en;q=0.8"));
//! let (subject, text, html) = render(Template::Verification, lang, &vars);
//! mailer
//!     .send(Mail { to: "ada@example.com".into(), subject, text, html })
//!     .await?;
//! # Ok(())
//! # }
//! ```

mod lang;
mod mailer;
mod templates;

pub use lang::Lang;
pub use mailer::{DEFAULT_TIMEOUT, Mail, MailConfig, MailError, Mailer, TlsMode};
pub use templates::{Template, TemplateVars, render};
