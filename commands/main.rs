//! The `rats` binary: parse, resolve settings once, dispatch, and turn the outcome into an
//! exit code. Subcommand files only translate arguments and print; the work is in the library.

// `print!`-style macros panic when the reader has gone (`rats … | head`, `2>&1 | head`): stdout
// is written with `write!` and its error returned, stderr with `note!`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// Writes a line to stderr like `eprintln!`, except that a closed or failing stderr
/// (`rats … 2>&1 | head -1`) loses the line instead of panicking: a message nobody can read is
/// no reason to crash, and the exit code still says how the run went.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _unreadable = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod allocator;
mod check;
mod cli;
mod completions;
mod config;
mod consume;
mod export;
mod logging;
mod man;
mod matching;
mod models;
mod normaliser;
mod occupation;
mod predict;
mod produce;
mod progress;
mod report;
mod restart;
mod run;
mod serve;
mod skills;
mod tracking;
mod train;
mod train_match;
mod train_salary;
mod train_skills;
mod transform;
mod users;

use std::process::ExitCode;

use clap::Parser;
use rats::exit::Outcome;
use rats::settings::{Overrides, Settings};

use cli::{Cli, Command};

/// Commands that spend most of their time in a BERT encoder over many texts: fine-tuning the
/// skill encoder, embedding pairs or postings for matching (`rats train match`, `rats match`),
/// and `rats serve`, which embeds every posting of a lake it has no vectors for before matching
/// answers. For the server the option costs resident memory (the demo lake's server held 825 MB
/// after preparing instead of 713 MB) and buys a first start in three quarters of the time (537 s
/// instead of 703 s; BENCHMARKS.md, "serve: first start").
fn runs_an_encoder_at_length(command: &Command) -> bool {
    match command {
        Command::Train(cli::TrainCommand::Skills(args)) => args.encoder.is_some(),
        Command::Train(cli::TrainCommand::Match(_)) | Command::Match(_) | Command::Serve(_) => true,
        _ => false,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut restart_with = Vec::new();
    if runs_an_encoder_at_length(&cli.command) {
        restart_with.push(allocator::ENCODER_OPTIONS);
    }
    if matches!(cli.command, Command::Serve(_)) {
        restart_with.push(serve::ENCODER_THREADS);
    }
    if matches!(cli.command, Command::Consume(_)) {
        restart_with.push(allocator::CONSUME_OPTIONS);
    }
    restart::with(&restart_with);
    let outcome = match run(cli) {
        Ok(outcome) => outcome,
        Err(error) => {
            if is_broken_pipe(&error) {
                Outcome::Success
            } else {
                report(&error);
                Outcome::Error
            }
        }
    };
    ExitCode::from(outcome.code())
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    // These need no settings, so a broken rats.yaml cannot stop them.
    match &cli.command {
        Command::Man(args) => return man::run(args),
        Command::Completions(args) => return Ok(completions::run(args)),
        _ => {}
    }
    let mut overrides = Overrides {
        config: cli.global.config.clone(),
        format: cli.global.format,
        log_format: cli.global.log_format,
        ..Overrides::default()
    };
    match &cli.command {
        Command::Consume(args) => consume::apply_overrides(args, &mut overrides),
        Command::Produce(args) => produce::apply_overrides(args, &mut overrides),
        Command::Transform(command) => {
            if let Some(args) = command.args() {
                overrides.lake.clone_from(&args.lake);
            }
        }
        Command::Skills(command) => skills::apply_overrides(command, &mut overrides),
        Command::Train(cli::TrainCommand::Skills(args)) => overrides.skills_taxonomy.clone_from(&args.taxonomy),
        Command::Train(cli::TrainCommand::Salary(args)) => {
            overrides.lake.clone_from(&args.lake);
            overrides.models_dir.clone_from(&args.out);
            overrides.mlflow_tracking_uri.clone_from(&args.mlflow);
        }
        Command::Train(cli::TrainCommand::Match(args)) => {
            overrides.models_dir.clone_from(&args.out);
            overrides.mlflow_tracking_uri.clone_from(&args.mlflow);
        }
        Command::Predict(cli::PredictCommand::Salary(args)) => overrides.models_dir.clone_from(&args.models),
        Command::Models(command) => overrides.models_dir.clone_from(&command.dir().models),
        Command::Match(args) => {
            overrides.lake.clone_from(&args.lake);
            let model = match &args.command {
                Some(cli::MatchCommand::Eval(eval)) => &eval.model,
                None => &args.model,
            };
            overrides.models_dir.clone_from(&model.models);
        }
        Command::Serve(args) => {
            overrides.lake.clone_from(&args.lake);
            overrides.models_dir.clone_from(&args.models);
            overrides.accounts_db.clone_from(&args.db);
            if !args.cors_origins.is_empty() {
                overrides.cors_origins = Some(args.cors_origins.clone());
            }
            overrides.redis_url.clone_from(&args.redis);
        }
        Command::Export(args) => match &args.command {
            Some(cli::ExportCommand::Chart(chart)) => overrides.lake.clone_from(&chart.lake),
            None => overrides.lake.clone_from(&args.lake),
        },
        Command::Report(cli::ReportCommand::Render(args)) => overrides.lake.clone_from(&args.source.lake),
        Command::Report(cli::ReportCommand::Send(args)) => overrides.lake.clone_from(&args.source.lake),
        Command::Report(cli::ReportCommand::Due(args)) => overrides.lake.clone_from(&args.lake),
        Command::Run(args) => {
            overrides.lake.clone_from(&args.lake);
            if !args.from.is_empty() {
                overrides.run_consume_from = Some(args.from.clone());
            }
            if args.kafka {
                overrides.run_consume_kafka = Some(true);
            }
            if args.no_transform {
                overrides.run_transform = Some(false);
            }
            if args.no_check {
                overrides.run_check = Some(false);
            }
            if args.no_reports {
                overrides.run_reports = Some(false);
            }
            if args.no_retrain {
                overrides.run_retrain = Some(false);
            }
        }
        Command::Check(args) => match &args.command {
            Some(cli::CheckCommand::Lineage(lineage)) => overrides.lake.clone_from(&lineage.lake),
            Some(cli::CheckCommand::Init(_)) => {}
            None => {
                overrides.lake.clone_from(&args.run.lake);
                overrides.check_webhook.clone_from(&args.run.webhook);
                let email = rats::comma_items::comma_items(&args.run.email);
                if !email.is_empty() {
                    overrides.check_alert_email = Some(email);
                }
            }
        },
        Command::Users(command) => {
            let db = command.db();
            overrides.lake.clone_from(&db.lake);
            overrides.accounts_db.clone_from(&db.db);
        }
        Command::Occupation(cli::OccupationArgs {
            command: Some(cli::OccupationCommand::Assign(args)),
            ..
        }) => overrides.lake.clone_from(&args.lake),
        _ => {}
    }
    let settings = Settings::resolve(&overrides)?;
    // A server logs each request: info is its baseline level.
    let baseline = u8::from(matches!(cli.command, Command::Serve(_)));
    let traces = match &cli.command {
        Command::Serve(args) => rats::otlp::OtlpConfig::resolve(args.otlp_endpoint.as_deref(), &args.otlp_headers)?,
        _ => None,
    };
    // Held until the command ends: dropping it sends the last spans.
    let _traces = logging::init(
        cli.global.verbose.max(baseline),
        cli.global.quiet,
        settings.log_format.value,
        traces,
    )?;
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Consume(args) => consume::run(&args, &settings, quiet),
        Command::Produce(args) => produce::run(&args, &settings, quiet),
        Command::Transform(command) => transform::run(&command, &settings, quiet),
        Command::Skills(command) => skills::run(&command, &settings, quiet),
        Command::Train(command) => train::run(&command, &settings, quiet),
        Command::Predict(cli::PredictCommand::Salary(args)) => predict::salary(&args, &settings, quiet),
        Command::Models(command) => models::run(&command, &settings, quiet),
        Command::Match(args) => matching::run(&args, &settings, quiet),
        Command::Occupation(args) => occupation::run(&args, &settings, quiet),
        Command::Serve(args) => serve::run(&args, &settings, quiet),
        Command::Export(args) => export::run(&args, &settings, quiet),
        Command::Check(args) => check::run(&args, &settings, quiet),
        Command::Report(command) => report::run(&command, &settings, quiet),
        Command::Run(_) => run::run(&settings, quiet),
        Command::Users(command) => users::run(&command, &settings, quiet),
        Command::Config(cli::ConfigCommand::Show) => config::show(&settings, quiet),
        Command::Man(_) | Command::Completions(_) => unreachable!("answered before settings are resolved"),
    }
}

/// Prints the error and its whole cause chain.
fn report(error: &anyhow::Error) {
    note!("error: {error}");
    for cause in error.chain().skip(1) {
        note!("  caused by: {cause}");
    }
}

/// The result of printing a run's report once its work is done. A reader that stopped early
/// (`rats consume … | head -3`) is no error and leaves the outcome the exit code reports alone:
/// a failing check or data test, or quarantine above the threshold, still exits 1.
fn unless_reader_stopped<E: Into<anyhow::Error>>(printed: Result<(), E>) -> anyhow::Result<()> {
    match printed.map_err(Into::into) {
        Err(error) if !is_broken_pipe(&error) => Err(error),
        _ => Ok(()),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
