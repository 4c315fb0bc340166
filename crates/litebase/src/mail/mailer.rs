//! Delivering mail: over SMTP when a host is configured, to the log otherwise.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one [`Mailer::send`] may take, connection and TLS handshake included,
/// unless [`Mailer::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How the SMTP connection is secured.
///
/// Exists because providers differ: port 587 usually wants STARTTLS, port 465 TLS
/// from the first byte, and local catchers (Mailpit, MailHog) plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsMode {
    /// Plain text, no TLS at all (local mail catchers). Default port 25.
    #[default]
    None,
    /// Connect in plain text, then upgrade with STARTTLS; fails if the server does
    /// not offer it (no silent downgrade). Default port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS", implicit TLS). Default port 465.
    Tls,
}

impl TlsMode {
    /// The usual port for this mode, used when [`MailConfig::port`] is 0.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

impl FromStr for TlsMode {
    type Err = MailError;

    /// Parses `none`, `starttls` or `tls` (any case), as found in
    /// `LITEBASE_SMTP_TLS`-style settings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "off" | "plain" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" | "ssl" | "smtps" => Ok(TlsMode::Tls),
            other => Err(MailError::InvalidConfig(format!(
                "unknown SMTP TLS mode {other:?}: use none, starttls or tls"
            ))),
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        })
    }
}

/// SMTP settings.
///
/// `host: None` means "no SMTP": mails are written to the log (tracing, info level,
/// full text including links and codes), so a local setup works without a mail
/// server. The default is exactly that.
#[derive(Clone, Default)]
pub struct MailConfig {
    /// SMTP server host name or IP; `None` logs mails instead of sending them.
    pub host: Option<String>,
    /// SMTP server port; 0 picks the usual port of [`MailConfig::tls`] (25, 587, 465).
    pub port: u16,
    /// Login for SMTP AUTH (PLAIN or LOGIN); `None` sends without authenticating.
    pub username: Option<String>,
    /// Password for SMTP AUTH; required when `username` is set.
    pub password: Option<String>,
    /// How the connection is secured.
    pub tls: TlsMode,
    /// The `From` address (`no-reply@example.com`); required when `host` is set.
    pub sender_address: String,
    /// The `From` display name (`Acme`); may be empty.
    pub sender_name: String,
}

// By hand so the password never reaches a log line.
impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("sender_address", &self.sender_address)
            .field("sender_name", &self.sender_name)
            .finish()
    }
}

/// One mail to send: a recipient, a subject and the same message as text and HTML
/// (mail clients show whichever they prefer).
///
/// Exists to keep [`Mailer::send`] independent of how the bodies were written;
/// [`render`](super::render) produces the three strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient: `ada@example.com` or `Ada <ada@example.com>`.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The text/plain body.
    pub text: String,
    /// The text/html body.
    pub html: String,
}

/// Why a mail could not be sent (or the mailer not be built).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP settings are unusable; the message says which one and how to fix it.
    #[error("invalid mail settings: {0}")]
    InvalidConfig(String),
    /// The recipient is not a valid address.
    #[error("invalid recipient address {address:?}: {reason}")]
    InvalidRecipient {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The message could not be assembled (e.g. a header lettre refuses).
    #[error("could not build the mail: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server could not be reached, refused the login or the mail.
    #[error("sending mail through {server} failed: {source}")]
    Smtp {
        /// `host:port` of the SMTP server.
        server: String,
        /// lettre's error.
        source: lettre::transport::smtp::Error,
    },
    /// The SMTP exchange took longer than the mailer's timeout.
    #[error(
        "sending mail through {server} timed out after {after:?}; check the SMTP host, port and TLS mode"
    )]
    Timeout {
        /// `host:port` of the SMTP server.
        server: String,
        /// The timeout that expired.
        after: Duration,
    },
}

/// Sends [`Mail`]s: over SMTP, or to the log when no SMTP host is configured.
///
/// Exists so auth flows have one handle to send mail with, whatever the deployment.
/// Cheap to clone (the transport is shared behind an `Arc`); build one at startup.
/// Sending is fully async and bounded by a timeout ([`DEFAULT_TIMEOUT`]), so a dead
/// SMTP server costs a request at most that long, never a stuck worker.
#[derive(Clone)]
pub struct Mailer {
    /// `None`: no SMTP host, mails are logged.
    smtp: Option<Arc<Smtp>>,
    timeout: Duration,
}

/// A configured SMTP relay and the `From` it sends as.
struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for error messages.
    server: String,
    tls: TlsMode,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Mailer");
        match &self.smtp {
            None => s.field("transport", &"log"),
            Some(smtp) => s
                .field("transport", &"smtp")
                .field("server", &smtp.server)
                .field("tls", &smtp.tls)
                .field("from", &smtp.from.to_string()),
        };
        s.field("timeout", &self.timeout).finish()
    }
}

impl Mailer {
    /// Checks the settings and prepares the transport. Does not connect: a wrong host
    /// or password shows up on the first [`send`](Mailer::send).
    pub fn new(config: MailConfig) -> Result<Mailer, MailError> {
        let smtp = match config.host.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(MailError::InvalidConfig(
                    "the SMTP host is empty: set it, or leave it unset to log mails instead".into(),
                ));
            }
            Some(host) => Some(Arc::new(smtp_transport(host, &config)?)),
        };
        Ok(Mailer {
            smtp,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same mailer with another bound on each [`send`](Mailer::send) (connect,
    /// TLS, every SMTP command and the data, all together). Each single SMTP step is
    /// still capped at [`DEFAULT_TIMEOUT`], so raising this past it only lengthens
    /// the total.
    pub fn with_timeout(mut self, timeout: Duration) -> Mailer {
        self.timeout = timeout;
        self
    }

    /// True when mails only go to the log (no SMTP host configured), e.g. to warn at
    /// startup that nobody will receive them.
    pub fn is_log_only(&self) -> bool {
        self.smtp.is_none()
    }

    /// Sends one mail. Returns once the SMTP server accepted it, or with an error
    /// after at most the mailer's timeout. Without an SMTP host it logs the mail at
    /// info level (text body included, so links and codes are usable) and returns Ok.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .trim()
            .parse()
            .map_err(
                |e: lettre::address::AddressError| MailError::InvalidRecipient {
                    address: mail.to.clone(),
                    reason: e.to_string(),
                },
            )?;
        let Some(smtp) = &self.smtp else {
            tracing::info!(
                target: "litebase::mail",
                to = %to,
                subject = %mail.subject,
                "no SMTP host configured, mail logged instead of sent:\n{}",
                mail.text
            );
            return Ok(());
        };
        let message = Message::builder()
            .from(smtp.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))?;
        match tokio::time::timeout(self.timeout, smtp.transport.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(source)) => Err(MailError::Smtp {
                server: smtp.server.clone(),
                source,
            }),
            Err(_elapsed) => Err(MailError::Timeout {
                server: smtp.server.clone(),
                after: self.timeout,
            }),
        }
    }
}

fn smtp_transport(host: &str, config: &MailConfig) -> Result<Smtp, MailError> {
    let address: Address =
        config
            .sender_address
            .trim()
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                MailError::InvalidConfig(format!(
                    "sender address {:?} is not a valid email address ({e}); set it to e.g. \
                 no-reply@your-domain",
                    config.sender_address
                ))
            })?;
    let name = config.sender_name.trim();
    let from = Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address);
    let port = match config.port {
        0 => config.tls.default_port(),
        port => port,
    };
    let tls = match config.tls {
        TlsMode::None => Tls::None,
        TlsMode::StartTls => Tls::Required(tls_parameters(host)?),
        TlsMode::Tls => Tls::Wrapper(tls_parameters(host)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .tls(tls)
        // Per command; `send` also bounds the whole exchange with the same value.
        .timeout(Some(DEFAULT_TIMEOUT));
    match (&config.username, &config.password) {
        (Some(username), Some(password)) => {
            builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(MailError::InvalidConfig(
                "an SMTP username is set without a password: set both or neither".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(MailError::InvalidConfig(
                "an SMTP password is set without a username: set both or neither".into(),
            ));
        }
    }
    Ok(Smtp {
        transport: builder.build(),
        from,
        server: format!("{host}:{port}"),
        tls: config.tls,
    })
}

/// Certificates are checked against the bundled Mozilla roots (webpki-roots), so TLS
/// works the same in a scratch container as on a workstation.
fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned()).map_err(|e| {
        MailError::InvalidConfig(format!("cannot set up TLS for SMTP host {host:?}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::{MailConfig, MailError, Mailer, TlsMode};

    fn smtp_config() -> MailConfig {
        MailConfig {
            host: Some("smtp.example.com".into()),
            sender_address: "no-reply@example.com".into(),
            sender_name: "Acme".into(),
            ..MailConfig::default()
        }
    }

    #[test]
    fn default_config_logs_instead_of_sending() {
        let mailer = Mailer::new(MailConfig::default()).expect("default config is valid");
        assert!(mailer.is_log_only());
    }

    #[test]
    fn every_tls_mode_builds_a_transport() {
        for tls in [TlsMode::None, TlsMode::StartTls, TlsMode::Tls] {
            let mailer = Mailer::new(MailConfig {
                tls,
                ..smtp_config()
            })
            .unwrap_or_else(|e| panic!("{tls}: {e}"));
            assert!(!mailer.is_log_only());
            let debug = format!("{mailer:?}");
            assert!(
                debug.contains(&format!("smtp.example.com:{}", tls.default_port())),
                "{debug}"
            );
        }
    }

    #[test]
    fn bad_settings_are_rejected_with_a_hint() {
        let cases = [
            (
                MailConfig {
                    sender_address: "not an address".into(),
                    ..smtp_config()
                },
                "sender address",
            ),
            (
                MailConfig {
                    host: Some("  ".into()),
                    ..smtp_config()
                },
                "SMTP host is empty",
            ),
            (
                MailConfig {
                    username: Some("user".into()),
                    ..smtp_config()
                },
                "without a password",
            ),
            (
                MailConfig {
                    password: Some("secret".into()),
                    ..smtp_config()
                },
                "without a username",
            ),
        ];
        for (config, hint) in cases {
            match Mailer::new(config) {
                Err(e @ MailError::InvalidConfig(_)) => {
                    assert!(e.to_string().contains(hint), "{e} lacks {hint:?}")
                }
                other => panic!("expected InvalidConfig({hint}), got {other:?}"),
            }
        }
    }

    #[test]
    fn tls_mode_parses_from_settings() {
        assert_eq!("".parse::<TlsMode>().ok(), Some(TlsMode::None));
        assert_eq!("none".parse::<TlsMode>().ok(), Some(TlsMode::None));
        assert_eq!("STARTTLS".parse::<TlsMode>().ok(), Some(TlsMode::StartTls));
        assert_eq!(" tls ".parse::<TlsMode>().ok(), Some(TlsMode::Tls));
        assert_eq!("ssl".parse::<TlsMode>().ok(), Some(TlsMode::Tls));
        let err = "maybe".parse::<TlsMode>().expect_err("unknown mode");
        assert!(err.to_string().contains("none, starttls or tls"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let config = MailConfig {
            username: Some("user".into()),
            password: Some("hunter2".into()),
            ..smtp_config()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }
}
