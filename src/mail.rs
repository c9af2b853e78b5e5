//! Sending mail over SMTP (lettre): the server as one URL — `smtp://host:25` (plain),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`
//! (TLS from the first byte) — with the system's certificates (`SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are honoured). A message that the server refuses or cannot take is tried
//! three times, 1 s and then 2 s apart.

use std::time::Duration;

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{Message, SmtpTransport, Transport};

use crate::settings::redact_userinfo;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("smtp.url {url}: {message}")]
    Server { url: String, message: String },
    #[error("{address:?} is not a mail address: {message}")]
    Address { address: String, message: String },
    #[error("cannot build the message: {0}")]
    Message(String),
    #[error("the mail server {url} did not take the message after {attempts} attempts: {message}")]
    Delivery { url: String, attempts: usize, message: String },
}

/// A configured mail server and sender.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    /// The URL without its password, for messages.
    shown_url: String,
}

/// What to send.
pub struct Mail<'a> {
    pub to: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    /// An HTML alternative to the text, when there is one.
    pub html: Option<&'a str>,
    /// Images the HTML shows by `cid:` (content id, content type, bytes).
    pub inline: &'a [Part],
    /// Files attached beside the message (file name, content type, bytes).
    pub attached: &'a [Part],
}

/// A named piece of a message: an inline image (named by its content id) or an attachment
/// (named by its file name).
pub struct Part {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Mailer {
    /// A mailer for the server at `url`, sending as `from` ("Name <address>" or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let shown_url = redact_userinfo(url);
        let server = |message: String| MailError::Server {
            url: shown_url.clone(),
            message,
        };
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| server(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Mailer {
            transport,
            from: mailbox(from)?,
            shown_url,
        })
    }

    /// Sends `mail` to every recipient in one message.
    pub fn send(&self, mail: &Mail<'_>) -> Result<(), MailError> {
        const ATTEMPTS: usize = 3;
        let mut builder = Message::builder().from(self.from.clone()).subject(mail.subject);
        for address in mail.to {
            builder = builder.to(mailbox(address)?);
        }
        let message = if mail.html.is_none() && mail.attached.is_empty() {
            builder.singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.to_string()))
        } else {
            builder.multipart(body(mail)?)
        }
        .map_err(|e| MailError::Message(e.to_string()))?;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match self.transport.send(&message) {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            tracing::warn!(attempt, error = %last, "the mail server did not take the message");
            if attempt < ATTEMPTS {
                std::thread::sleep(Duration::from_secs(1 << (attempt - 1)));
            }
        }
        Err(MailError::Delivery {
            url: self.shown_url.clone(),
            attempts: ATTEMPTS,
            message: last,
        })
    }
}

/// The parts of a message with HTML or attachments: the text, with the HTML as its alternative
/// (the images it shows beside it, related), and the attachments after them all.
fn body(mail: &Mail<'_>) -> Result<MultiPart, MailError> {
    let content_type =
        |part: &Part| ContentType::parse(&part.content_type).map_err(|e| MailError::Message(format!("{}: {e}", part.content_type)));
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.to_string());
    let readable = match mail.html {
        Some(html) => {
            let html = SinglePart::builder().header(ContentType::TEXT_HTML).body(html.to_string());
            if mail.inline.is_empty() {
                MultiPart::alternative().singlepart(text).singlepart(html)
            } else {
                let mut related = MultiPart::related().singlepart(html);
                for part in mail.inline {
                    related = related.singlepart(Attachment::new_inline(part.name.clone()).body(part.bytes.clone(), content_type(part)?));
                }
                MultiPart::alternative().singlepart(text).multipart(related)
            }
        }
        None => MultiPart::mixed().singlepart(text),
    };
    if mail.attached.is_empty() {
        return Ok(readable);
    }
    let mut mixed = MultiPart::mixed().multipart(readable);
    for part in mail.attached {
        mixed = mixed.singlepart(Attachment::new(part.name.clone()).body(part.bytes.clone(), content_type(part)?));
    }
    Ok(mixed)
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            address: address.to_string(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_servers_and_addresses_are_named_without_the_password() {
        let Err(error) = Mailer::new("ftp://user:s3cret@mail.example", "rats@example.org") else {
            panic!("ftp is no mail server")
        };
        let message = error.to_string();
        assert!(message.contains("smtp.url ftp://***@mail.example"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        let Err(error) = Mailer::new("smtp://127.0.0.1:2525", "not an address") else {
            panic!("a bad sender")
        };
        assert!(matches!(error, MailError::Address { .. }), "{error}");
        assert!(Mailer::new("smtps://u:p@mail.example:465", "rats <rats@example.org>").is_ok());
    }
}
