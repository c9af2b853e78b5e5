//! Lets rats binaries find their two shared C libraries at run time: libxgboost, which the `xgb`
//! crate links from `XGBOOST_LIB_DIR` (filled by `scripts/fetch-xgboost`), and librdkafka, which
//! rdkafka-sys links from `RDKAFKA_LIB_DIR` (filled by `scripts/fetch-librdkafka`; both set in
//! `.cargo/config.toml`), neither with a run path. The folders themselves and the executable's
//! own folder (`$ORIGIN`, for a binary shipped beside the libraries) go into the run path.
//!
//! Also records the commit the build comes from (`BUILD_COMMIT`, for model cards), and lists the
//! files of the folders an installed binary carries inside it (`bundled.rs` in `OUT_DIR`, read
//! by `src/bundled.rs`): the warehouse project, the data-quality expectations and the report
//! templates, so `rats transform`, `rats check` and `rats report` work outside the repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders compiled into the binary, with the name of the static that lists their files.
const BUNDLED_FOLDERS: [(&str, &str); 3] = [
    ("sql-models", "WAREHOUSE_FILES"),
    ("checks", "CHECK_FILES"),
    ("reports", "REPORT_FILES"),
];

/// Files of a bundled folder that are a user's or a tool's, never the project's.
const NOT_BUNDLED: [&str; 2] = ["target", ".user.yml"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    record_commit();
    for (variable, library, script) in [
        ("XGBOOST_LIB_DIR", "libxgboost.so", "scripts/fetch-xgboost"),
        ("RDKAFKA_LIB_DIR", "librdkafka.so", "scripts/fetch-librdkafka"),
    ] {
        add_to_run_path(variable, library, script);
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    write_bundled_lists();
}

/// Writes `OUT_DIR/bundled.rs`: for each bundled folder a sorted `&[(relative path, text)]` of
/// `include_str!`s, so a changed file rebuilds the binary like any source file.
fn write_bundled_lists() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut code = String::new();
    for (folder, name) in BUNDLED_FOLDERS {
        let root = manifest.join(folder);
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        list_files(&root, &root, &mut files);
        files.sort();
        writeln!(code, "pub static {name}: &[(&str, &str)] = &[").expect("write to a String");
        for relative in files {
            let absolute = root.join(&relative);
            writeln!(code, "    ({relative:?}, include_str!({:?})),", absolute.display().to_string()).expect("write to a String");
        }
        writeln!(code, "];").expect("write to a String");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// Every file under `dir` (except [`NOT_BUNDLED`]), as `/`-joined paths relative to `root`.
fn list_files(root: &Path, dir: &Path, into: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if NOT_BUNDLED.contains(&name) {
            continue;
        }
        if path.is_dir() {
            list_files(root, &path, into);
        } else {
            let relative = path.strip_prefix(root).expect("listed under root");
            into.push(
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
}

/// Puts the folder `variable` names into the binaries' run path, warning when it is unset or
/// does not hold `library` yet.
fn add_to_run_path(variable: &str, library: &str, script: &str) {
    println!("cargo:rerun-if-env-changed={variable}");
    let Ok(dir) = std::env::var(variable) else {
        println!("cargo:warning={variable} is not set: run {script}");
        return;
    };
    if !Path::new(&dir).join(library).is_file() {
        println!("cargo:warning=no {library} in {dir}: run {script} before linking");
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
}

fn record_commit() {
    for watched in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if Path::new(watched).exists() {
            println!("cargo:rerun-if-changed={watched}");
        }
    }
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown commit".to_string(), |s| s.trim().to_string());
    println!("cargo:rustc-env=BUILD_COMMIT={commit}");
}
