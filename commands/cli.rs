//! The command-line definition: global flags and one struct per subcommand. `rats man` and
//! `rats completions` are generated from this, so it is the single source of the CLI's shape.
//! Doc comments here are the help text users read, so they stay free of Markdown.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rats::export::ExportFormat;
use rats::ingest::readers::InputFormat;
use rats::normalize::title::Seniority;
use rats::settings::{LogFormat, OutputFormat};
use rats::skills::encoder_tagger::TrainSettings;

/// rats, the Reversed-ATS toolkit: job-market intelligence for job seekers, analysts and
/// operators.
///
/// Exit codes: 0 success; 1 the run completed but found problems (for example quarantined
/// records above --max-quarantine); 2 error. Settings come from flags, then RATS_*
/// environment variables, then the settings file (--config, default ./rats.yaml), then
/// built-in defaults.
#[derive(Debug, Parser)]
#[command(name = "rats", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Settings file [default: ./rats.yaml when present; env: RATS_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr, no progress bars, and no table on stdout (JSON and CSV are
    /// still printed when asked for)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Output format on stdout [default: table; env: RATS_FORMAT]
    #[arg(long, global = true, value_enum)]
    pub format: Option<OutputFormat>,
    /// Log format on stderr [default: text; env: RATS_LOG_FORMAT]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read job postings into the lake, from files (--from) or else from a Kafka topic:
    /// bronze (as received), silver (clean, normalised, deduplicated), duplicates and
    /// quarantine
    Consume(ConsumeArgs),
    /// Publish job postings from files to Kafka as Confluent-framed Avro (the contract schema,
    /// registered in a Schema Registry), keyed by the board's id
    Produce(ProduceArgs),
    /// Build the warehouse: run the SQL + Jinja models of a dbt-style project (sql-models/)
    /// with Polars over the lake, test them, compile or list them
    #[command(subcommand)]
    Transform(TransformCommand),
    /// Find skills in text with the skill taxonomy (and a trained span model), evaluate the
    /// extraction on SkillSpan, write the skill graph, compare public taxonomies with ours
    #[command(subcommand)]
    Skills(SkillsCommand),
    /// Train models: the skill span model on SkillSpan, the salary model on the lake
    #[command(subcommand)]
    Train(TrainCommand),
    /// Predict with a trained model: a salary estimate, its 80 % interval and what drives it
    #[command(subcommand)]
    Predict(PredictCommand),
    /// The model registry: list versions, show a model card, promote a version, roll back
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Rank postings for a résumé (PDF, DOCX or text) with a score, an explanation and
    /// skill-gap advice, rank résumés for one posting, or evaluate matching on labelled pairs
    Match(MatchArgs),
    /// Map a job title to ESCO occupations (ranked, with scores), evaluate the mapping on
    /// labelled titles, or give every silver posting its title family (gold/posting_occupations)
    Occupation(OccupationArgs),
    /// Serve the JSON API and the dashboard over HTTP: salary predictions, job matching, jobs,
    /// market stats and the models, from the lake and the registry (reloaded when either
    /// changes); the live feed of new postings as Server-Sent Events; the dashboard's pages on
    /// the same port and accounts
    Serve(ServeArgs),
    /// Export a lake table, or the answer of a SQL query over the lake's tables, as CSV,
    /// JSON, JSON lines, Parquet or an Excel workbook, to a file or to stdout; or draw a named
    /// chart as SVG or PNG
    Export(ExportArgs),
    /// Reports from templates over the lake (weekly market summary, salary, skill demand,
    /// company watch, data quality, or your own): list them, render one as Markdown, HTML or
    /// PDF, or mail it with its charts inline and the PDF attached
    #[command(subcommand)]
    Report(ReportCommand),
    /// Check data-quality expectations (schema, nulls, uniqueness, accepted values, ranges,
    /// patterns, row counts, freshness, volume anomalies, drift, relationships, SQL) on the
    /// lake; exit 1 when an error-level expectation fails, 2 when one cannot run
    Check(CheckArgs),
    /// The pipeline for cron and CI: consume the configured files (and Kafka), build the
    /// warehouse, check the expectations, retrain the salary model when due, send the reports
    /// that are due; one summary, the worst step's exit code, and a lock so two runs on one
    /// lake never overlap
    Run(RunArgs),
    /// The accounts `rats serve` signs people and scripts in with: add users (the first admin
    /// is made this way), list them, change a role, disable one, make an API key
    #[command(subcommand)]
    Users(UsersCommand),
    /// Show the resolved settings and where each value came from
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write the man pages (one per subcommand) into a directory
    Man(ManArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

// Files with --from, else Kafka: the subcommand's help says so in its after_help.
#[derive(Debug, Args)]
#[command(
    after_help = "Without --from, consume reads Kafka: Confluent-framed Avro decoded with the writer schema \
from the registry. It starts each partition where the lake stops, commits the group's offsets \
after each lake commit, and on SIGINT/SIGTERM finishes the batch in hand and exits 0 \
(a second signal exits at once)."
)]
pub struct ConsumeArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Input files (JSON lines, Avro object container files, CSV); without it, read Kafka
    #[arg(long = "from", value_name = "PATH", num_args = 1.., conflicts_with_all = ["group", "once", "brokers", "topic", "registry"])]
    pub from: Vec<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Consumer group [default: rats; env: RATS_KAFKA_GROUP]
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Stop when every partition is read up to where it ended at start (for cron)
    #[arg(long)]
    pub once: bool,
    /// Exit 1 when more than this percentage of records is quarantined [default: 5; env:
    /// RATS_MAX_QUARANTINE]
    #[arg(long, value_name = "PERCENT")]
    pub max_quarantine: Option<f64>,
    /// Records per lake commit, at most (Kafka commits a partial batch after 1 s without new
    /// messages) [default: 10000; env: RATS_BATCH_SIZE]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Federal Reserve exchange-rate CSV (Date,Country,Exchange rate) for monthly USD
    /// conversion [default: the built-in table; env: RATS_FX_FED_CSV]
    #[arg(long, value_name = "FILE")]
    pub fx_fed_csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Input files (JSON lines, Avro object container files, CSV)
    #[arg(long = "from", value_name = "PATH", num_args = 1.., required = true)]
    pub from: Vec<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// Where Kafka and the Schema Registry are, shared by consume and produce.
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, host:port,... [default: 127.0.0.1:19092; env: RATS_KAFKA_BROKERS]
    #[arg(long, value_name = "HOSTS")]
    pub brokers: Option<String>,
    /// Topic [default: rats.jobs.listing.v1; env: RATS_KAFKA_TOPIC]
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// Schema Registry URL; produce registers the contract under the subject TOPIC-value
    /// [default: http://127.0.0.1:8081; env: RATS_REGISTRY_URL]
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
}

/// How to read input files, shared by consume and produce.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Input format; auto decides by extension and, for CSV, by header
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// A YAML column mapping for a CSV layout rats does not know (see fixtures/mappings/)
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TransformCommand {
    /// Run the selected models in graph order (tables land in LAKE/gold/MODEL)
    Run(TransformArgs),
    /// Run the data tests of the selected models; exit 1 when any fails
    Test(TransformArgs),
    /// Run the selected models, then their tests
    Build(TransformArgs),
    /// Render the selected models' SQL into target/compiled/ in the project
    /// (LAKE/_transform/compiled/ for the built-in project)
    Compile(TransformArgs),
    /// List the selected models with their materialisation, tags and dependencies
    Ls(TransformArgs),
    /// Write the documentation site (models, columns, tests, lineage) to target/docs/index.html
    /// in the project (LAKE/_transform/docs/ for the built-in project); it opens offline from a
    /// file URL
    Docs(TransformArgs),
    /// Write the built-in warehouse project into a folder, to change it and run it with
    /// --project (or from the folder above it, as ./sql-models)
    Init(TransformInitArgs),
}

#[derive(Debug, Args)]
pub struct TransformInitArgs {
    /// The folder to write (created when missing)
    #[arg(value_name = "DIR", default_value = "sql-models")]
    pub dir: PathBuf,
    /// Overwrite files that exist in DIR
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TransformArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// The project folder (holding dbt_project.yml) [default: ./sql-models when it holds
    /// dbt_project.yml, else the warehouse project built into rats]
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Models to include, in dbt's syntax: name, +name (with ancestors), name+ (with
    /// descendants), tag:T, path:P, a*b; space-separated is a union, comma-joined an
    /// intersection [default: every model]
    #[arg(short, long, value_name = "SELECTOR", num_args = 1..)]
    pub select: Vec<String>,
    /// Models to leave out, in the same syntax
    #[arg(long, value_name = "SELECTOR", num_args = 1..)]
    pub exclude: Vec<String>,
    /// Rebuild incremental models from scratch
    #[arg(long)]
    pub full_refresh: bool,
    /// Values for var(), as a YAML or JSON map, over dbt_project.yml's vars
    #[arg(long, value_name = "YAML")]
    pub vars: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SkillsCommand {
    /// Print the skills mentioned in a text: taxonomy id, name, category, surface text and
    /// character offsets (learned spans the taxonomy lacks have no id)
    Extract(SkillsExtractArgs),
    /// Score extraction against annotated CoNLL files (SkillSpan layout: token, skill tag,
    /// knowledge tag): strict and partial span precision, recall and F1 per label and category
    Eval(SkillsEvalArgs),
    /// Write the skill graph: taxonomy parent edges plus co-occurrence in silver postings
    Graph(SkillsGraphArgs),
    /// Report what a public taxonomy would add to ours or contradict; --merge appends the
    /// additions to the taxonomy file
    Import(SkillsImportArgs),
}

/// Which taxonomy and span model to use.
#[derive(Debug, Args)]
pub struct SkillsModelArgs {
    /// Skill taxonomy YAML [default: the built-in taxonomies/skills.yaml; env:
    /// RATS_SKILLS_TAXONOMY]
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// Span model from `rats train skills`: a perceptron file or an encoder folder [default:
    /// none, taxonomy only; env: RATS_SKILLS_MODEL]
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SkillsExtractArgs {
    /// The text to read
    #[arg(long, value_name = "TEXT", conflicts_with = "file")]
    pub text: Option<String>,
    /// A file to read, or - for standard input
    #[arg(value_name = "FILE", required_unless_present = "text")]
    pub file: Option<PathBuf>,
    /// Treat every line of the input as its own text (one posting a line); results carry the
    /// line number, and --format json prints one JSON array per line
    #[arg(long)]
    pub per_line: bool,
    #[command(flatten)]
    pub models: SkillsModelArgs,
}

#[derive(Debug, Args)]
pub struct SkillsEvalArgs {
    /// Annotated CoNLL files, scored together
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub models: SkillsModelArgs,
}

#[derive(Debug, Args)]
pub struct SkillsGraphArgs {
    /// Lake directory whose silver postings give co-occurrence [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Leave out skill pairs seen together in fewer postings than this
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub min_cooccurrence: u64,
    /// Write the graph as JSON here
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the graph as GraphML here
    #[arg(long, value_name = "FILE")]
    pub graphml: Option<PathBuf>,
    /// Skill taxonomy YAML [default: the built-in one; env: RATS_SKILLS_TAXONOMY]
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SkillsImportArgs {
    /// Which public taxonomy FILE is
    #[arg(value_enum)]
    pub source: rats::skills::import::SourceKind,
    /// The source file (O*NET Technology Skills.txt, devicon.json, linguist languages.yml,
    /// ESCO skills_en_transversal.csv)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// O*NET only: consider only tools flagged Hot Technology or In Demand
    #[arg(long)]
    pub hot_only: bool,
    /// Append the additions to the taxonomy file given with --taxonomy (checked before writing)
    #[arg(long, requires = "taxonomy")]
    pub merge: bool,
    /// Skill taxonomy YAML to compare with (and merge into) [default: the built-in one; env:
    /// RATS_SKILLS_TAXONOMY]
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train the skill span model (SKILL and KNOWLEDGE) on SkillSpan train files, keeping the
    /// epoch with the best strict span F1 on the dev files: an averaged perceptron by default,
    /// or, with --encoder, a fine-tuned BERT encoder (slower to train and run, more accurate)
    Skills(TrainSkillsArgs),
    /// Train the salary model on the lake's postings with stated or estimated pay: grouped
    /// k-fold cross-validation chooses the hyper-parameters, quantile models give the 80 %
    /// interval, conformal calibration makes it hold; the version lands in the model registry
    /// (with --every / --min-new-postings only when due, for cron)
    Salary(TrainSalaryArgs),
    /// Train the job–résumé match scorer on labelled pairs (the rjdb layout): a learned
    /// combination of semantic similarity, requirement and skill coverage, title and
    /// experience fit, cross-validated by posting and compared with simple baselines; the
    /// version (weights and sentence encoder) lands in the model registry
    Match(TrainMatchArgs),
}

#[derive(Debug, Args)]
pub struct TrainMatchArgs {
    /// The sentence encoder folder (config.json, tokenizer.json, model.safetensors), as
    /// scripts/fetch-sentence-encoder prints it; copied into the version
    #[arg(long, value_name = "DIR")]
    pub encoder: PathBuf,
    /// Labelled pairs, one JSON object a line with Job-Description, Resume-matched and
    /// Resume-unmatched [default: DATASETS/matching/rjdb/pairs.jsonl]
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Models directory the new version is added to [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folds of the cross-validation by posting
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=20))]
    pub folds: u16,
    /// Also write the report (Markdown) to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Log the run (parameters, cross-validated and per-fold metrics, the version's files) to
    /// this MLflow tracking server and register the version as model rats-match [env:
    /// RATS_MLFLOW_TRACKING_URI]
    #[arg(long, value_name = "URL")]
    pub mlflow: Option<String>,
    /// Train even when the newest version was trained on the same inputs (same file, encoder,
    /// folds and rats build); otherwise that run is a no-op
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct TrainSalaryArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Models directory the new version is added to [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folds of the grouped cross-validation
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=20))]
    pub folds: u16,
    /// Seed of the splits and the boosters: the same data and seed give byte-identical models
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// Metro cost-of-living CSV (City,State,Cost of Living Index) [default:
    /// DATASETS/reference/cost-of-living/advisorsmith_cost_of_living_index.csv when present]
    #[arg(long, value_name = "FILE")]
    pub cost_of_living: Option<PathBuf>,
    /// ESCO occupations CSV (id,description) titles are mapped to for their title family
    /// [default: DATASETS/taxonomies/esco/occupations.csv when present]
    #[arg(long, value_name = "FILE")]
    pub esco: Option<PathBuf>,
    /// Also run the evaluation report's baselines, ablations and leave-one-dataset-out
    #[arg(long)]
    pub evaluate: bool,
    /// Also write the report (Markdown) to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Log the run (parameters, per-fold metrics, the version's files) to this MLflow tracking
    /// server and register the version as model rats-salary [env: RATS_MLFLOW_TRACKING_URI]
    #[arg(long, value_name = "URL")]
    pub mlflow: Option<String>,
    /// Train even when the newest version was trained on the same inputs (same examples,
    /// options, seed and rats build); otherwise that run is a no-op
    #[arg(long)]
    pub force: bool,
    /// Train only when the newest version is at least this old (90m, 36h, 7d, 2w), or there
    /// is none; otherwise say why not and exit 0 (for cron; rats run's run.retrain_salary)
    #[arg(long, value_name = "AGE", value_parser = parse_age_flag)]
    pub every: Option<chrono::Duration>,
    /// Train only when silver holds at least this many postings more than the newest version
    /// was trained on (with --every, both must hold)
    #[arg(long, value_name = "N")]
    pub min_new_postings: Option<u64>,
    /// Put the new version in this stage of the registry once trained
    #[arg(long, value_name = "STAGE", value_enum)]
    pub promote: Option<PromoteStage>,
}

/// The stage a fresh version can be promoted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PromoteStage {
    Production,
    Staging,
}

impl PromoteStage {
    pub fn as_str(self) -> &'static str {
        match self {
            PromoteStage::Production => "production",
            PromoteStage::Staging => "staging",
        }
    }
}

fn parse_age_flag(text: &str) -> Result<chrono::Duration, String> {
    rats::duration::parse_age(text).ok_or_else(|| "give a number and m, h, d or w (90m, 36h, 7d, 2w)".into())
}

#[derive(Debug, Subcommand)]
pub enum PredictCommand {
    /// Yearly pay in US dollars for a posting described by flags, or for every record of
    /// postings files (--from; stated pay in them is ignored): estimate, 80 % interval, the
    /// largest contributions and the model version used
    Salary(PredictSalaryArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("posting").required(true).args(["title", "from"])))]
pub struct PredictSalaryArgs {
    /// The job title
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// Where the job is: "Seattle, WA", "London, UK", "Remote"
    #[arg(long, value_name = "PLACE", requires = "title")]
    pub location: Option<String>,
    /// A file holding the description, or - for stdin
    #[arg(long, value_name = "FILE|-", requires = "title")]
    pub description: Option<PathBuf>,
    /// Skills the job asks for besides those in the title and description (taxonomy ids or
    /// names, comma-separated)
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "title")]
    pub skills: Vec<String>,
    /// Seniority, when the title does not say
    #[arg(long, value_enum, requires = "title")]
    pub seniority: Option<Seniority>,
    /// Minimum years of experience asked for
    #[arg(long, value_name = "N", requires = "title")]
    pub years: Option<u8>,
    /// Work mode
    #[arg(long, value_enum, requires = "title")]
    pub remote: Option<RemoteArg>,
    /// Postings files: one JSON line per record with source_file, source_record and the
    /// prediction (or the reason there is none)
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with = "title")]
    pub from: Vec<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Models directory [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Use this version (v3) instead of the production one (or the newest)
    #[arg(long, value_name = "VERSION")]
    pub model_version: Option<String>,
    /// Contributions to show per estimate
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub top: usize,
    /// Also print the feature row the model saw (JSON: `features`, one value per column of the
    /// version's features.json, null for missing), to reproduce an estimate elsewhere
    #[arg(long)]
    pub with_features: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RemoteArg {
    Remote,
    Hybrid,
    #[value(name = "on-site")]
    OnSite,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    group(clap::ArgGroup::new("query").required(true).args(["resume", "job"])),
    after_help = "The postings are silver's (--lake, filtered with --where) or any postings files' (--jobs, \
read as consume reads them). Posting vectors are cached under LAKE/vectors, so only new postings are \
embedded. Scores are 0-100, the trained scorer's probability that the résumé fits; 50 or more is a fit. \
A posting short of a fit names the missing skills any one of which, added to the résumé's skills, \
would make it one (would_fit_with)."
)]
pub struct MatchArgs {
    #[command(subcommand)]
    pub command: Option<MatchCommand>,
    /// The résumé: PDF (with a text layer), DOCX, or text/Markdown
    #[arg(long, value_name = "FILE", conflicts_with_all = ["job", "resumes"])]
    pub resume: Option<PathBuf>,
    /// Rank the résumés of --resumes for this silver posting: its posting_key, or the board's
    /// job id (source_job_id) when that names one posting
    #[arg(long, value_name = "POSTING", requires = "resumes")]
    pub job: Option<String>,
    /// A folder of résumés (every file in it) to rank for --job
    #[arg(long, value_name = "DIR")]
    pub resumes: Option<PathBuf>,
    /// Lake directory whose silver postings are matched [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Postings files to match against instead of the lake
    #[arg(long, value_name = "PATH", num_args = 1.., conflicts_with_all = ["lake", "where_", "job"])]
    pub jobs: Vec<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Only silver postings where this SQL condition holds (columns of silver/postings, e.g.
    /// "remote_type = 'remote' AND salary_min_usd >= 100000")
    #[arg(long = "where", id = "where_", value_name = "SQL")]
    pub where_: Option<String>,
    /// How many ranked postings (or résumés) to show
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub model: MatchModelArgs,
}

#[derive(Debug, Args)]
pub struct MatchModelArgs {
    /// Models directory [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Use this match model version (v3) instead of the production one (or the newest)
    #[arg(long, value_name = "VERSION")]
    pub model_version: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MatchCommand {
    /// Pairwise accuracy (matched résumé above unmatched) and retrieval (top-1, top-5, MRR in
    /// both directions) of the match model and of the baselines on labelled pairs (one JSON
    /// object a line with Job-Description, Resume-matched and Resume-unmatched)
    Eval(MatchEvalArgs),
}

#[derive(Debug, Args)]
pub struct MatchEvalArgs {
    /// The labelled pairs
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    #[command(flatten)]
    pub model: MatchModelArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct OccupationArgs {
    #[command(subcommand)]
    pub command: Option<OccupationCommand>,
    /// The job title
    #[arg(long, value_name = "TITLE", required = true)]
    pub text: Option<String>,
    /// How many occupations to list
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,
    #[command(flatten)]
    pub esco: EscoArgs,
}

#[derive(Debug, Args)]
pub struct EscoArgs {
    /// ESCO occupations CSV (id,description) [default: DATASETS/taxonomies/esco/occupations.csv]
    #[arg(long, value_name = "FILE")]
    pub esco: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum OccupationCommand {
    /// Accuracy at 1 and 5 and mean reciprocal rank on titles labelled with their ESCO
    /// occupation (columns vacancyTitle and conceptUri, as JobBERT's evaluation titles)
    Eval(OccupationEvalArgs),
    /// Map every silver posting's title to its occupation (its title family) into the lake
    /// table gold/posting_occupations
    Assign(OccupationAssignArgs),
}

#[derive(Debug, Args)]
pub struct OccupationAssignArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    #[command(flatten)]
    pub esco: EscoArgs,
}

#[derive(Debug, Args)]
pub struct OccupationEvalArgs {
    /// The labelled titles
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    #[command(flatten)]
    pub esco: EscoArgs,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every version of every kind with its stage, creation time and headline metrics
    List(ModelsListArgs),
    /// A version's model card (default: the version predict would use)
    Show(ModelsShowArgs),
    /// Put a version in a stage; promoting to production archives the version it replaces
    Promote(ModelsPromoteArgs),
    /// Put back the production version the last promotion to production replaced
    Rollback(ModelsRollbackArgs),
}

#[derive(Debug, Args)]
pub struct ModelsDirArgs {
    /// Models directory [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ModelsListArgs {
    /// Only this kind
    #[arg(long, value_enum)]
    pub kind: Option<ModelKind>,
    #[command(flatten)]
    pub dir: ModelsDirArgs,
}

#[derive(Debug, Args)]
pub struct ModelsShowArgs {
    #[arg(value_enum)]
    pub kind: ModelKind,
    /// The version (v3) [default: production, else the newest]
    #[arg(value_name = "VERSION")]
    pub model_version: Option<String>,
    #[command(flatten)]
    pub dir: ModelsDirArgs,
}

#[derive(Debug, Args)]
pub struct ModelsPromoteArgs {
    #[arg(value_enum)]
    pub kind: ModelKind,
    /// The version (v3)
    #[arg(value_name = "VERSION")]
    pub model_version: String,
    /// The stage to put it in
    #[arg(long, value_enum, default_value_t = StageArg::Production)]
    pub stage: StageArg,
    #[command(flatten)]
    pub dir: ModelsDirArgs,
}

#[derive(Debug, Args)]
pub struct ModelsRollbackArgs {
    #[arg(value_enum)]
    pub kind: ModelKind,
    #[command(flatten)]
    pub dir: ModelsDirArgs,
}

/// The kinds of model the registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    Salary,
    Match,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StageArg {
    Production,
    Staging,
    Archived,
}

#[derive(Debug, Args)]
pub struct TrainSkillsArgs {
    /// Training files [default: skillspan_house_train.conll and skillspan_tech_train.conll in
    /// DATASETS/skills/skillspan]
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub train: Vec<PathBuf>,
    /// Development files for choosing the epoch [default: the two SkillSpan dev files]
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub dev: Vec<PathBuf>,
    /// Fine-tune this HF-format BERT folder (config.json, tokenizer.json, model.safetensors;
    /// scripts/fetch-encoder gets e5-small-v2) instead of training the perceptron
    #[arg(long, value_name = "DIR")]
    pub encoder: Option<PathBuf>,
    /// Passes over the training data to try [default: 40 for the perceptron, 8 for an encoder]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub epochs: Option<u16>,
    // The help names the default `TrainSettings` holds, which training falls back to.
    #[arg(long, value_name = "RATE", requires = "encoder", help = learning_rate_help())]
    pub learning_rate: Option<f64>,
    /// Where to write the model: a file for the perceptron, a folder for an encoder
    /// [default: models/skills/span.bin, or models/skills/encoder with --encoder]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Skill taxonomy YAML whose matches become the perceptron's features [default: the
    /// built-in one; env: RATS_SKILLS_TAXONOMY]
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
}

/// `--learning-rate`'s help. Why a function: an `Option` (so that `requires = "encoder"` can
/// refuse it without an encoder) has no clap default to show, and the number must stay the one
/// training uses.
fn learning_rate_help() -> String {
    format!(
        "Peak learning rate of an encoder's fine-tuning (warm-up over the first tenth of the steps, then linear decay) [default: {}]",
        TrainSettings::default().learning_rate
    )
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting with its value and source (flag, env, file or default)
    Show,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into
    #[arg(long, value_name = "DIR", default_value = "man")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Routes: POST /v1/predict/salary, POST /v1/match/jobs, GET /v1/jobs, GET /v1/jobs/{posting_key}, \
GET /v1/stats/overview|salary|postings|skills, GET /v1/skills, GET /v1/skills/{skill_id}, GET /v1/companies, GET /v1/models, \
POST /v1/auth/login|register|refresh|logout, GET /v1/me, GET|POST /v1/keys, DELETE /v1/keys/{key_id}, \
GET|POST /v1/searches, GET|DELETE /v1/searches/{search_id}, GET /v1/searches/{search_id}/jobs, GET /v1/users, GET /v1/audit, \
GET /health, GET /ready, GET /metrics (see the README for the route × role table). \
Every /v1 route but sign-in needs `Authorization: Bearer` with an access token or an API key; make the first admin with `rats users add`. \
The models are the registry's production versions (else the newest); the registry and the lake are checked for \
new versions every --refresh-secs and at once on SIGHUP, and swapped in without dropping requests. SIGTERM or \
SIGINT stops accepting connections, finishes the requests in flight and exits 0."
)]
pub struct ServeArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Models directory [default: ./models; env: RATS_MODELS_DIR]
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Address to listen on; port 0 takes any free port (the address is printed at start)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// Seconds between checks of the registry and the lake for new versions
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub refresh_secs: u64,
    /// Requests answered at once; more wait in line
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// Requests waiting in line; more are refused at once with 503 and Retry-After
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_queued: u32,
    /// Seconds a request may take before it is answered with 503 (fractions allowed)
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = positive_seconds)]
    pub request_timeout: f64,
    /// Résumés the sentence encoder embeds at once [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub encoder_slots: Option<u32>,
    /// Seconds a match request waits for the encoder; after that its résumé is scored on
    /// skills, requirements, keywords, title and experience alone (the match model's fallback),
    /// and the answer says so
    #[arg(long, value_name = "SECONDS", default_value_t = 0.25, value_parser = positive_seconds)]
    pub encoder_wait: f64,
    /// Largest JSON request body, in KiB (larger ones get 413)
    #[arg(long, value_name = "KIB", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_body_kib: u32,
    /// Accounts database: sqlite://FILE or postgres://… (migrations are applied at start)
    /// [default: LAKE-accounts.sqlite beside the lake; env: RATS_ACCOUNTS_DB]
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Let anyone sign up with POST /v1/auth/register (as an api_user); without it only
    /// `rats users add` makes accounts
    #[arg(long)]
    pub open_registration: bool,
    /// An origin (scheme://host[:port]) whose pages may call the API from a browser; repeat for
    /// more. Requests from other origins are refused with 403 [default: serve.cors_origins in
    /// rats.yaml, else none]
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Share rate limits and cached answers with every replica through this Redis
    /// (redis://[[user]:password@]host[:port][/db]); if it fails, each process limits and caches
    /// on its own until it answers again [default: serve.redis in rats.yaml; env:
    /// RATS_REDIS_URL; else none]
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1; with --tls-cert)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Send OpenTelemetry traces (OTLP/HTTP, JSON) to this collector URL, e.g.
    /// http://127.0.0.1:4318/v1/traces: a span per request (continuing the caller's W3C
    /// traceparent) holding its database calls and model inference, and the lake reads
    /// [default: env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; else none]
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// A header sent with every trace export, e.g. an API key; repeat for more [default: env
    /// OTEL_EXPORTER_OTLP_HEADERS, NAME=VALUE pairs separated by commas]
    #[arg(long = "otlp-header", value_name = "NAME=VALUE")]
    pub otlp_headers: Vec<String>,
    /// Seconds between the saved-search alert mails: each person whose searches asked for mail
    /// gets one digest of the new postings since the last (needs smtp.url; addresses are set
    /// with `rats users set-email` or PATCH /v1/me)
    #[arg(long, value_name = "SECONDS", default_value_t = 3_600, value_parser = clap::value_parser!(u64).range(1..))]
    pub alert_every_secs: u64,
    /// The server as its users' browsers reach it (https://rats.example.org), for the links in
    /// alert mail [default: serve.oidc.public_url in rats.yaml, else the address it listens on]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

/// A positive number of seconds, below a day.
fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds < 86_400.0 => Ok(seconds),
        _ => Err(format!("{text:?} is not a number of seconds above 0 and below 86400")),
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user with a role; with --password-stdin the first line of standard input is the
    /// password (at least 10 characters), else the user signs in with API keys only
    Add(UsersAddArgs),
    /// Every user with role, creation time and whether disabled
    List(UsersDbArgs),
    /// Change a user's role (takes effect on the user's next request)
    SetRole(UsersSetRoleArgs),
    /// Put a user on the free or premium rate-limit tier (budgets in rats.yaml,
    /// serve.rate_limits; admins are always on the admin tier)
    SetTier(UsersSetTierArgs),
    /// Set the address a user's saved-search alerts are mailed to (rats serve with smtp.url);
    /// without ADDRESS, remove it (no more alert mail)
    SetEmail(UsersSetEmailArgs),
    /// Disable a user: sign-in, tokens and keys stop working at once; the user stays in the
    /// audit log
    Disable(UsersNameArgs),
    /// Make an API key for a user and print it (the only time it is shown)
    Key(UsersKeyArgs),
}

#[derive(Debug, Args)]
pub struct UsersDbArgs {
    /// Accounts database: sqlite://FILE or postgres://… [default: LAKE-accounts.sqlite beside
    /// the lake; env: RATS_ACCOUNTS_DB]
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Lake directory, for the default database [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UsersAddArgs {
    /// User name: 1 to 64 characters of a-z, 0-9, '.', '_', '-' and '@'
    pub name: String,
    #[arg(long, value_enum)]
    pub role: rats::accounts::Role,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

#[derive(Debug, Args)]
pub struct UsersSetRoleArgs {
    pub name: String,
    #[arg(value_enum)]
    pub role: rats::accounts::Role,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

#[derive(Debug, Args)]
pub struct UsersSetTierArgs {
    pub name: String,
    #[arg(value_enum)]
    pub tier: UserTier,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

#[derive(Debug, Args)]
pub struct UsersSetEmailArgs {
    pub name: String,
    /// name@example.org; none: remove the address
    pub address: Option<String>,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

/// The tiers an operator puts a user on.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum UserTier {
    Free,
    Premium,
}

#[derive(Debug, Args)]
pub struct UsersNameArgs {
    pub name: String,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

#[derive(Debug, Args)]
pub struct UsersKeyArgs {
    pub name: String,
    /// What the key is for, shown in key lists
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,
    #[command(flatten)]
    pub db: UsersDbArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "Tables are named by their place in the lake: bronze/postings, silver/postings, \
silver/duplicates, quarantine/postings, reference/skills, gold/MODEL. In --sql, a table is \
layer__name (silver__postings) and a warehouse model also its bare name. The format is --to, else \
the --out file's extension, else CSV. A file is written whole or not at all (an existing one only \
with --force); writing to a closed pipe (| head) stops quietly.")]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub command: Option<ExportCommand>,
    /// The table to export (layer/name, as `rats export --list` shows them)
    #[arg(value_name = "TABLE", required_unless_present_any = ["sql", "list"], conflicts_with = "sql")]
    pub table: Option<String>,
    /// A SQL query over the lake's tables to export instead of a table
    #[arg(long, value_name = "QUERY", conflicts_with_all = ["columns", "filter", "order_by"])]
    pub sql: Option<String>,
    /// List the lake's tables and exit
    #[arg(long, conflicts_with_all = ["sql", "out"])]
    pub list: bool,
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Only these columns, in this order (comma-separated)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Only rows for which this SQL condition holds (for example "salary_max > 100000")
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Sort by these columns, each optionally followed by asc or desc (comma-separated)
    #[arg(long, value_name = "COLUMN [desc]", value_delimiter = ',')]
    pub order_by: Vec<String>,
    /// At most this many rows
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format [default: from the --out extension; on stdout, a --format that is set
    /// (flag, RATS_FORMAT or the settings file: json, csv, or table for up to 10,000 rows as a
    /// table), else csv]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<ExportFormat>,
    /// Output file, or - for stdout [default: -]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the output file if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Draw a named chart (salary by title family, postings over time, skill demand, …: see
    /// --list) from the lake as SVG (text as outlines of the embedded font) or PNG
    Chart(ExportChartArgs),
}

#[derive(Debug, Args)]
pub struct ExportChartArgs {
    /// The chart's name
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// List the charts and exit
    #[arg(long, conflicts_with_all = ["out", "filter"])]
    pub list: bool,
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Only rows of the chart's table for which this SQL condition holds (for example
    /// "source_site = 'linkedin'")
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// The image format [default: from the --out extension, else svg]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<ChartFormat>,
    /// PNG pixels per SVG unit
    #[arg(long, value_name = "FACTOR", default_value_t = 2.0)]
    pub scale: f32,
    /// A folder of report templates whose charts.yml adds or replaces charts [default:
    /// ./reports when it exists]
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Where to write the image; `-` or none: stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out when it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChartFormat {
    Svg,
    Png,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The reports: built-in ones and those of the reports folder (which replace built-in
    /// ones of the same name), with what each covers
    List(ReportListArgs),
    /// Make a report from the lake: Markdown (charts as SVG files beside it), a self-contained
    /// HTML page, or a PDF printed by headless Chromium; to stdout without --out
    Render(ReportRenderArgs),
    /// Mail a report (through smtp.url): HTML with its charts inline, the Markdown as the
    /// plain-text part, the PDF attached
    Send(ReportSendArgs),
    /// Send the scheduled reports (`reports:` in rats.yaml) whose current period has no
    /// delivery yet, and record each delivery in the lake (reports/deliveries), so a cron job
    /// that fires twice or late sends each report once per period; exit 2 when one could not
    /// be sent (it is tried again on the next run)
    Due(ReportDueArgs),
    /// Write the built-in templates and charts into a folder, to change them or add your own
    /// (used from ./reports, or with --reports)
    Init(ReportInitArgs),
}

#[derive(Debug, Args)]
pub struct ReportDueArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Judge the schedules at this moment (RFC 3339, UTC or with an offset) [default: now]
    #[arg(long, value_name = "TIME")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// A folder of report templates [default: ./reports when it exists]
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Say what is due without sending or recording anything
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ReportListArgs {
    /// A folder of report templates [default: ./reports when it exists]
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
}

/// What every report is made from.
#[derive(Debug, Args)]
pub struct ReportSourceArgs {
    /// The report's name (as `rats report list` shows them)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// The last day the report covers (YYYY-MM-DD) [default: today, UTC]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
    /// The days the report covers, ending on --as-of [default: the template's period_days]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_600))]
    pub days: Option<u32>,
    /// A folder of report templates [default: ./reports when it exists]
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportRenderArgs {
    #[command(flatten)]
    pub source: ReportSourceArgs,
    /// The file to write: .md, .html or .pdf; none or `-`: the Markdown (an HTML template's
    /// page) on stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out (and its charts folder) when it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReportSendArgs {
    #[command(flatten)]
    pub source: ReportSourceArgs,
    /// The recipients (comma-separated)
    #[arg(long, value_name = "A@B,C@D", value_delimiter = ',', required = true)]
    pub to: Vec<String>,
    /// Do not attach the PDF (no Chromium needed)
    #[arg(long)]
    pub no_pdf: bool,
}

#[derive(Debug, Args)]
pub struct ReportInitArgs {
    /// The folder to write (created when missing)
    #[arg(value_name = "DIR", default_value = "reports")]
    pub dir: PathBuf,
    /// Overwrite files that exist in DIR
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CheckArgs {
    #[command(subcommand)]
    pub command: Option<CheckCommand>,
    #[command(flatten)]
    pub run: CheckRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Write the built-in expectations into a folder, to change them and run them with
    /// --checks (or from the folder above it, as ./checks)
    Init(CheckInitArgs),
    /// Show where the lake's data comes from and goes: input files and Kafka partitions →
    /// bronze → silver, duplicates, quarantine → the warehouse's models → the quality
    /// results and the reports (and their deliveries), with each table's Delta version
    Lineage(CheckLineageArgs),
}

#[derive(Debug, Args)]
pub struct CheckLineageArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// The warehouse project (holding dbt_project.yml) [default: ./sql-models when it holds
    /// dbt_project.yml, else the warehouse project built into rats]
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// A folder of report templates [default: ./reports when it exists, over the built-in
    /// reports]
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Print the graph as Graphviz dot or a Mermaid flowchart instead of the nodes and edges
    #[arg(long, value_enum, value_name = "SYNTAX")]
    pub graph: Option<LineageGraph>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineageGraph {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct CheckRunArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// The folder of expectation files (*.yml) [default: ./checks when it exists, else the
    /// expectations built into rats]
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    /// Only these expectations: names, `*` patterns of names, or table names (layer/name)
    #[arg(short, long, value_name = "SELECTOR", num_args = 1..)]
    pub select: Vec<String>,
    /// The moment freshness and future dates are judged against, as an RFC 3339 time or a
    /// date [default: now]
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Do not append the results to LAKE/quality/results
    #[arg(long)]
    pub no_record: bool,
    /// Post an alert (Slack-compatible JSON) to this URL when an expectation starts failing or
    /// recovers [default: check.alerts.webhook in rats.yaml; env: RATS_CHECK_WEBHOOK; else none]
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Mail the same alerts to these addresses through smtp.url (comma-separated)
    /// [default: check.alerts.email in rats.yaml; else none]
    #[arg(long, value_name = "ADDRESS", value_delimiter = ',')]
    pub email: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckInitArgs {
    /// The folder to write (created when missing)
    #[arg(value_name = "DIR", default_value = "checks")]
    pub dir: PathBuf,
    /// Overwrite files that exist in DIR
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Lake directory [default: ./lake; env: RATS_LAKE]
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Files to consume, as glob patterns ("incoming/*.csv") [default: run.consume_from in
    /// rats.yaml; else none]
    #[arg(long = "from", value_name = "GLOB", num_args = 1..)]
    pub from: Vec<String>,
    /// Also consume Kafka up to where each partition ends now [default: run.consume_kafka]
    #[arg(long)]
    pub kafka: bool,
    /// Leave out the warehouse build [default: run.transform]
    #[arg(long)]
    pub no_transform: bool,
    /// Leave out the checks [default: run.check]
    #[arg(long)]
    pub no_check: bool,
    /// Leave out the scheduled reports [default: run.reports]
    #[arg(long)]
    pub no_reports: bool,
    /// Leave out the salary model's retraining [default: run.retrain_salary]
    #[arg(long)]
    pub no_retrain: bool,
}
