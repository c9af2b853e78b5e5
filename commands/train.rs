//! `rats train`: each model's training lives in a file of its own (`train_skills.rs`,
//! `train_salary.rs`, `train_match.rs`), so a
//! model's recorded inputs (scripts/skills-report hashes its file) do not change when another
//! model is added.

use rats::exit::Outcome;
use rats::settings::Settings;

use crate::cli::TrainCommand;
use crate::{train_match, train_salary, train_skills};

pub fn run(command: &TrainCommand, settings: &Settings, quiet: bool) -> anyhow::Result<Outcome> {
    match command {
        TrainCommand::Skills(args) => train_skills::run(args, settings, quiet),
        TrainCommand::Salary(args) => train_salary::run(args, settings, quiet),
        TrainCommand::Match(args) => train_match::run(args, settings, quiet),
    }
}
