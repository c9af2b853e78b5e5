//! `rats completions SHELL`.

use clap::CommandFactory;
use rats::exit::Outcome;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> Outcome {
    clap_complete::generate(args.shell, &mut Cli::command(), "rats", &mut std::io::stdout().lock());
    Outcome::Success
}
