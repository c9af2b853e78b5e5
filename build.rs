//! Lets rats binaries find libxgboost at run time: the `xgb` crate links it dynamically from
//! `XGBOOST_LIB_DIR` (set in `.cargo/config.toml`, filled by `scripts/fetch-xgboost`) without
//! a run path. The folder itself and the executable's own folder (`$ORIGIN`, for a binary
//! shipped beside the library) go into the run path.
//!
//! Also records the commit the build comes from (`BUILD_COMMIT`, for model cards).

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=XGBOOST_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    record_commit();
    let Ok(dir) = std::env::var("XGBOOST_LIB_DIR") else {
        println!("cargo:warning=XGBOOST_LIB_DIR is not set: run scripts/fetch-xgboost");
        return;
    };
    if !Path::new(&dir).join("libxgboost.so").is_file() {
        println!("cargo:warning=no libxgboost.so in {dir}: run scripts/fetch-xgboost before linking");
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
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
