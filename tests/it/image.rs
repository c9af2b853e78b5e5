//! The container image: `scripts/image` lints the `Dockerfile` with hadolint and builds it with
//! podman (FROM scratch: the binary under test and the libraries it links, nothing else), and
//! the image then serves the fixture lake and the salary model from a mounted `/data` as the
//! unprivileged user it names, answering a prediction, and stops cleanly on SIGTERM. Podman runs
//! with a private vfs storage root, the cgroupfs manager and runc, and modest open-file and
//! process limits (crun cannot run here, and raising a limit needs a capability the tests lack).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::serve::{Server, private_copy, user_with_key};
use crate::support::{copy_dir, free_port, repo, run, stderr, stdout};

/// Podman's options for this test: its own storage, and a runtime that works in this sandbox.
fn podman_options(dir: &Path) -> String {
    format!(
        "--root {} --runroot {} --storage-driver vfs --cgroup-manager cgroupfs --runtime runc",
        dir.join("storage").display(),
        dir.join("run").display()
    )
}

fn podman(options: &str, args: &[&str]) -> std::process::Output {
    run(Command::new("podman").args(options.split_whitespace()).args(args))
}

/// The container, removed (with its image's storage) when dropped.
struct Container<'a> {
    options: &'a str,
    name: String,
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        podman(self.options, &["rm", "--force", "--time", "0", &self.name]);
    }
}

#[test]
fn the_image_is_linted_built_from_scratch_and_serves_predictions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = podman_options(dir.path());
    let tag = format!("localhost/rats:it-{}", std::process::id());
    let built = run(Command::new(repo().join("scripts/image"))
        .args(["--binary", env!("CARGO_BIN_EXE_rats"), "--tag", &tag])
        .env("PODMAN_OPTS", &options)
        .current_dir(repo()));
    assert!(built.status.success(), "scripts/image: {}\n{}", stderr(&built), stdout(&built));

    let config = podman(&options, &["image", "inspect", &tag, "--format", "{{json .Config}}"]);
    let config: serde_json::Value = serde_json::from_slice(&config.stdout).expect("the image's config");
    assert_eq!(config["User"], "65532:65532", "not root: {config}");
    assert_eq!(config["Entrypoint"], json!(["/usr/local/bin/rats"]));
    assert_eq!(config["ExposedPorts"], json!({"8080/tcp": {}}));
    // Nothing but the binary, its libraries and the certificates: no shell to run.
    let mounted = podman(&options, &["image", "mount", &tag]);
    let root = Path::new(stdout(&mounted).trim()).to_path_buf();
    assert!(root.join("usr/local/bin/rats").is_file(), "{}", stderr(&mounted));
    assert!(root.join("etc/ssl/certs/ca-certificates.crt").is_file());
    assert!(
        !root.join("bin").exists() && !root.join("usr/bin").exists(),
        "a shell or tools in the image"
    );
    podman(&options, &["image", "unmount", &tag]);

    // /data as an operator mounts it: the lake, the salary model, the accounts file, owned by
    // the image's user.
    let data = dir.path().join("data");
    let (lake, fixture_models) = private_copy(&data, false);
    copy_dir(&fixture_models.join("salary"), &data.join("models/salary"));
    let key = user_with_key(dir.path(), &lake, None, "ops", "admin");
    let chowned = run(Command::new("chown").args(["-R", "65532:65532"]).arg(&data));
    assert!(chowned.status.success(), "{}", stderr(&chowned));

    let port = free_port();
    let container = Container {
        options: &options,
        name: format!("rats-it-{}", std::process::id()),
    };
    let volume = format!("{}:/data", data.display());
    let started = podman(
        &options,
        &[
            "run",
            "--detach",
            "--name",
            &container.name,
            "--network",
            "host",
            // Podman would raise these to its defaults, which needs a capability the tests lack.
            "--ulimit",
            "nofile=4096:4096",
            "--ulimit",
            "nproc=4096:4096",
            "--volume",
            &volume,
            &tag,
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ],
    );
    assert!(started.status.success(), "podman run: {}", stderr(&started));

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let begun = Instant::now();
    loop {
        let ready = client.get(format!("{base}/ready")).send().map(|r| r.status().as_u16());
        if matches!(ready, Ok(200)) {
            break;
        }
        let running = podman(&options, &["inspect", &container.name, "--format", "{{.State.Running}}"]);
        assert!(
            begun.elapsed() < Duration::from_mins(2) && stdout(&running).trim() == "true",
            "not ready after {:?} ({ready:?}); the container's log:\n{}",
            begun.elapsed(),
            stderr(&podman(&options, &["logs", &container.name]))
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let answer = Server::answer(
        client
            .post(format!("{base}/v1/predict/salary"))
            .bearer_auth(&key)
            .json(&json!({"title": "Senior Data Engineer", "location": "Seattle, WA", "skills": ["python", "sql"]})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body["estimate"].as_f64().is_some_and(|usd| usd > 10_000.0),
        "{}",
        answer.body
    );
    assert!(data.join("lake-accounts.sqlite").is_file(), "the accounts file is the mounted one");

    // SIGTERM (podman stop) drains and exits 0.
    let stopped = podman(&options, &["stop", "--time", "20", &container.name]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let exit = podman(&options, &["inspect", &container.name, "--format", "{{.State.ExitCode}}"]);
    assert_eq!(
        stdout(&exit).trim(),
        "0",
        "{}",
        stderr(&podman(&options, &["logs", &container.name]))
    );
}
