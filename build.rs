//! Lets rats binaries find their two shared C libraries at run time: libxgboost, which the `xgb`
//! crate links from `XGBOOST_LIB_DIR` (filled by `scripts/fetch-xgboost`), and librdkafka, which
//! rdkafka-sys links from `RDKAFKA_LIB_DIR` (filled by `scripts/fetch-librdkafka`; both set in
//! `.cargo/config.toml`), neither with a run path. The folders themselves and the executable's
//! own folder (`$ORIGIN`, for a binary shipped beside the libraries) go into the run path.
//!
//! Also records the commit the build comes from (`BUILD_COMMIT`, for model cards).

use std::path::Path;

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
