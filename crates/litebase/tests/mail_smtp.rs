//! The mailer against real SMTP servers: an aiosmtpd process on 127.0.0.1
//! (tests/support/smtp_sink.py), a closed port and a server that never answers.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use litebase::mail::{
    Lang, Mail, MailConfig, MailError, Mailer, Template, TemplateVars, TlsMode, render,
};
mod support;
use support::smtp::{SmtpSink, caught};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InUxIn0.sig-_123";

fn verification_mail(to: &str) -> Mail {
    let vars = TemplateVars {
        app_name: "Acme",
        app_url: "http://127.0.0.1:8090",
        token: TOKEN,
        email: to,
        ..TemplateVars::default()
    };
    let (subject, text, html) = render(Template::Verification, Lang::Fr, &vars);
    Mail {
        to: to.into(),
        subject,
        text,
        html,
    }
}

#[tokio::test]
async fn a_rendered_mail_arrives_through_a_real_smtp_server() {
    let sink = SmtpSink::start(&[]);
    let mailer = Mailer::new(sink.config()).expect("valid config");
    let mail = verification_mail("ada@example.com");

    mailer.send(mail.clone()).await.expect("mail accepted");

    let caught = sink.wait_for(1);
    assert_eq!(caught.len(), 1, "exactly one mail caught: {caught:?}");
    let got = &caught[0];
    assert_eq!(got["mail_from"], "no-reply@acme.test");
    assert_eq!(got["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert_eq!(got["to"], "ada@example.com");
    assert_eq!(got["from"], "Acme Équipe <no-reply@acme.test>");
    assert_eq!(got["subject"], mail.subject.as_str());
    assert_eq!(got["subject"], "Confirmez votre adresse e-mail pour Acme");
    let link = format!("http://127.0.0.1:8090/_/#/auth/confirm-verification/{TOKEN}");
    let text = got["text"].as_str().expect("a text part");
    let html = got["html"].as_str().expect("an html part");
    assert!(text.contains(&link), "text part lacks the link:\n{text}");
    assert!(html.contains(&link), "html part lacks the link:\n{html}");
    assert!(text.contains("Si vous n'avez pas créé de compte"), "{text}");
}

#[tokio::test]
async fn smtp_auth_is_used_and_a_wrong_password_is_an_error() {
    let sink = SmtpSink::start(&["--auth", "mailer:s3cret"]);
    let login = |password: &str| MailConfig {
        username: Some("mailer".into()),
        password: Some(password.into()),
        ..sink.config()
    };

    let good = Mailer::new(login("s3cret")).expect("valid config");
    good.send(verification_mail("bob@example.com"))
        .await
        .expect("authenticated mail accepted");
    assert_eq!(sink.wait_for(1).len(), 1);

    let bad = Mailer::new(login("wrong")).expect("valid config");
    let err = bad
        .send(verification_mail("bob@example.com"))
        .await
        .expect_err("wrong password must fail");
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{}", sink.port)),
        "{err}"
    );

    let anonymous = Mailer::new(sink.config()).expect("valid config");
    let err = anonymous
        .send(verification_mail("bob@example.com"))
        .await
        .expect_err("the server requires AUTH");
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    assert_eq!(
        caught(sink.out.path()).len(),
        1,
        "only the authenticated mail arrived"
    );
}

#[tokio::test]
async fn untrusted_tls_certificates_are_refused() {
    for (mode, flag) in [(TlsMode::StartTls, "starttls"), (TlsMode::Tls, "tls")] {
        let sink = SmtpSink::start(&["--tls", flag]);
        let mailer = Mailer::new(MailConfig {
            tls: mode,
            ..sink.config()
        })
        .expect("valid config")
        .with_timeout(Duration::from_secs(10));
        let err = mailer
            .send(verification_mail("eve@example.com"))
            .await
            .expect_err("a self-signed certificate must not be trusted");
        assert!(matches!(err, MailError::Smtp { .. }), "{mode}: {err:?}");
        assert!(err.to_string().contains("certificate"), "{mode}: {err}");
        assert!(
            caught(sink.out.path()).is_empty(),
            "{mode}: nothing delivered"
        );
    }
}

#[tokio::test]
async fn a_closed_port_is_an_error_not_a_hang() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("local addr").port()
    }; // closed again here
    let mailer = Mailer::new(MailConfig {
        host: Some("127.0.0.1".into()),
        port,
        sender_address: "no-reply@acme.test".into(),
        ..MailConfig::default()
    })
    .expect("valid config");

    let started = Instant::now();
    let err = mailer
        .send(verification_mail("ada@example.com"))
        .await
        .expect_err("nobody listens");
    assert!(matches!(err, MailError::Smtp { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_never_greets_times_out() {
    // The kernel accepts the connection into the backlog; nobody ever speaks.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local addr").port();
    let mailer = Mailer::new(MailConfig {
        host: Some("127.0.0.1".into()),
        port,
        sender_address: "no-reply@acme.test".into(),
        ..MailConfig::default()
    })
    .expect("valid config")
    .with_timeout(Duration::from_secs(1));

    let started = Instant::now();
    let err = mailer
        .send(verification_mail("ada@example.com"))
        .await
        .expect_err("silent server");
    assert!(matches!(err, MailError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}

/// Collects everything a tracing subscriber writes.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn without_an_smtp_host_the_mail_is_logged_in_full() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // A current-thread runtime: the send below runs on this thread, under this guard.
    let _guard = tracing::subscriber::set_default(subscriber);

    let mailer = Mailer::new(MailConfig::default()).expect("default config");
    assert!(mailer.is_log_only());
    let mail = verification_mail("ada@example.com");
    mailer
        .send(mail.clone())
        .await
        .expect("logging never fails");

    let logged = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(logged.contains(" INFO "), "{logged}");
    assert!(logged.contains("ada@example.com"), "{logged}");
    assert!(logged.contains(&mail.subject), "{logged}");
    assert!(
        logged.contains(&format!("/_/#/auth/confirm-verification/{TOKEN}")),
        "the link must be usable from the log:\n{logged}"
    );
}

#[tokio::test]
async fn a_bad_recipient_is_refused_before_any_network_use() {
    let mailer = Mailer::new(MailConfig::default()).expect("default config");
    for to in [
        "",
        "not an address",
        "a@b@c",
        "ada@example.com\r\nBcc: x@y.z",
    ] {
        let err = mailer
            .send(Mail {
                to: to.into(),
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            })
            .await
            .expect_err("invalid recipient");
        assert!(
            matches!(err, MailError::InvalidRecipient { .. }),
            "{to:?}: {err:?}"
        );
    }
}
