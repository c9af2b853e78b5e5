//! A real SMTP server for the mail tests: PyPI's aiosmtpd (tests/requirements.txt).

use std::path::Path;

use serde_json::Value;

use crate::support::{run, stderr};

/// A real SMTP server: PyPI's aiosmtpd, requiring STARTTLS with a certificate made here for
/// localhost, storing each message it takes in a Maildir. Stopped when dropped.
pub struct MailServer {
    process: std::process::Child,
    pub port: u16,
    pub maildir: std::path::PathBuf,
    /// The authority that signed the server's certificate.
    pub authority: std::path::PathBuf,
}

impl MailServer {
    pub fn start(dir: &Path) -> Self {
        Self::start_on(dir, crate::support::free_port())
    }

    /// A server on `port` (a mail server coming back where it was), keeping the Maildir and
    /// certificates already in `dir`.
    pub fn start_on(dir: &Path, port: u16) -> Self {
        let maildir = dir.join("maildir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
        }
        // A test authority, and the server's certificate for localhost signed by it.
        let (authority, certificate, key) = (dir.join("ca.crt"), dir.join("smtp.crt"), dir.join("smtp.key"));
        if !authority.exists() {
            let openssl = |args: &[&str]| {
                let made = run(std::process::Command::new("openssl").current_dir(dir).args(args));
                assert!(made.status.success(), "openssl {args:?}: {}", stderr(&made));
            };
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=rats test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ]);
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "smtp.key",
                "-out",
                "smtp.csr",
            ]);
            std::fs::write(
                dir.join("smtp.ext"),
                "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
            )
            .expect("extensions");
            openssl(&[
                "x509",
                "-req",
                "-in",
                "smtp.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                "smtp.ext",
                "-out",
                "smtp.crt",
            ]);
        }
        let process = std::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg("--tlscert")
            .arg(&certificate)
            .arg("--tlskey")
            .arg(&key)
            .arg(&maildir)
            .stderr(std::fs::File::create(dir.join("smtp.log")).expect("the server's log"))
            .spawn()
            .expect("python3 -m aiosmtpd (tests/requirements.txt)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        MailServer {
            process,
            port,
            maildir,
            authority,
        }
    }

    /// Each message delivered so far, parsed by Python's `email`: subject, from, to, the
    /// plain-text part and the HTML part (empty without one).
    pub fn messages(&self) -> Vec<Value> {
        let script = "import email, email.policy, json, os, sys\nbox = os.path.join(sys.argv[1], 'new')\nout = []\nfor name in sorted(os.listdir(box)):\n    m = email.message_from_binary_file(open(os.path.join(box, name), 'rb'), policy=email.policy.default)\n    body = m.get_body(preferencelist=('plain',))\n    out.append({'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']), 'text': body.get_content() if body else '', 'html': (lambda h: h.get_content() if h else '')(m.get_body(preferencelist=('html',)))})\nprint(json.dumps(out))\n";
        let output = run(std::process::Command::new("python3").args(["-c", script]).arg(&self.maildir));
        assert!(output.status.success(), "python: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
