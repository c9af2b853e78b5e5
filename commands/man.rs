//! `rats man`: one roff page per command, generated from the clap definition.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use rats::exit::Outcome;

use crate::cli::{Cli, ManArgs};

pub fn run(args: &ManArgs) -> anyhow::Result<Outcome> {
    write_pages(&args.out)?;
    Ok(Outcome::Success)
}

/// Writes `rats.1` and `rats-SUBCOMMAND.1` for every (nested) subcommand.
pub fn write_pages(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    write_page(dir, &command, "rats")
}

fn write_page(dir: &Path, command: &clap::Command, name: &str) -> anyhow::Result<()> {
    let page = command.clone().name(name.to_string());
    let mut buffer = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buffer)
        .context("cannot render a man page")?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buffer).with_context(|| format!("cannot write {}", path.display()))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        write_page(dir, sub, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}
