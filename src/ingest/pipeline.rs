//! `rats consume` from files: every record lands in bronze and in exactly one of silver,
//! duplicates or quarantine, in batches committed atomically per table with a Delta
//! application transaction keyed by the input's content, so a re-run adds nothing and a
//! killed run resumes where silver stopped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use deltalake::arrow::array::{Array, AsArray};
use sha2::{Digest, Sha256};

use super::readers::{self, InputFormat, OpenError, ReadError, SourceRecord};
use super::reject::{ErrorCode, Reject};
use super::summary::{ConsumeSummary, Counts, FileSummary};
use crate::contract::JobListing;
use crate::dedup::minhash::Signature;
use crate::dedup::{DedupIndex, Duplicate, NearEntry};
use crate::lake::{Lake, LakeError, rows};
use crate::normalize::{Normaliser, Posting};

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("no input files were given")]
    NoInputs,
}

/// What to consume.
#[derive(Debug, Clone)]
pub struct ConsumeOptions {
    pub inputs: Vec<PathBuf>,
    pub format: InputFormat,
    /// An extra mapping, tried before the built-in ones.
    pub mapping: Option<PathBuf>,
    /// Records per commit.
    pub batch_size: usize,
}

/// Progress reporting, implemented by the CLI (a bar on a terminal, nothing otherwise).
pub trait Progress {
    fn file_started(&self, path: &Path, index: usize, total: usize);
    fn records_done(&self, count: u64);
    fn file_finished(&self, summary: &FileSummary);
}

/// Consumes `options.inputs` into the lake at `lake_root`.
pub fn consume_files(
    lake_root: &Path,
    options: &ConsumeOptions,
    normaliser: &Normaliser,
    progress: &dyn Progress,
) -> Result<ConsumeSummary, ConsumeError> {
    if options.inputs.is_empty() {
        return Err(ConsumeError::NoInputs);
    }
    let inputs = readers::open_all(&options.inputs, options.format, options.mapping.as_deref())?;

    let mut lake = Lake::open(lake_root)?;
    let mut index = load_index(&lake)?;
    tracing::info!(lake = %lake_root.display(), postings = index.len(), "dedup index loaded from silver");

    let mut files = Vec::new();
    let total = inputs.len();
    for (i, input) in inputs.into_iter().enumerate() {
        progress.file_started(&input.path, i, total);
        let summary = consume_one(&mut lake, &mut index, input, normaliser, options.batch_size, progress)?;
        tracing::info!(file = %summary.path, read = summary.counts.read, written = summary.counts.written, duplicates = summary.counts.duplicates, quarantined = summary.counts.quarantined, skipped = summary.counts.skipped, "input consumed");
        progress.file_finished(&summary);
        files.push(summary);
    }
    let mut totals = Counts::default();
    for f in &files {
        totals.add(&f.counts);
    }
    Ok(ConsumeSummary {
        lake: lake_root.display().to_string(),
        quarantine_percent: totals.quarantine_percent(),
        totals,
        files,
    })
}

/// The identity of an input: the SHA-256 of its bytes, so a renamed or moved copy of the same
/// file is still recognised and an edited file is a new input.
fn input_id(path: &Path) -> Result<String, ReadError> {
    let mut file = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            offset,
            source,
        })?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        hasher.update(&buffer[..n]);
    }
    let digest = hasher.finalize();
    Ok(format!("rats.consume.file.{}", crate::normalize::hex(&digest[..16])))
}

/// The outcome of one record.
enum Fate {
    Kept(Box<Posting>),
    /// The duplicate's own posting key (the posting itself is not kept) and the verdict.
    Duplicate(String, Duplicate),
    Quarantined(Reject),
}

/// One input, the work between reading and committing split over two threads: this one
/// reads, normalises (on every core) and deduplicates batch N+1 while the writer commits
/// batch N. Batches reach the writer in order, so commits stay in input order.
fn consume_one(
    lake: &mut Lake,
    index: &mut DedupIndex,
    mut input: readers::Input,
    normaliser: &Normaliser,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<FileSummary, ConsumeError> {
    let app_id = input_id(&input.path)?;
    let committed = lake.committed(&app_id)?;
    let resume_from = committed.iter().copied().min().unwrap_or(0).max(0) as u64;
    let target = Target {
        app_id,
        committed: committed.map(|v| v.max(0) as u64),
        path: input.path.display().to_string(),
        format: format!("{:?}", input.format).to_lowercase(),
        mapping: input.mapping.clone(),
    };
    let mut counts = Counts::default();
    std::thread::scope(|scope| {
        // A rendezvous channel: at most two batches are in memory, one deciding, one committing.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(Vec<SourceRecord>, Vec<Fate>)>(0);
        let target = &target;
        let writer = scope.spawn(move || -> Result<(), ConsumeError> {
            for (batch, fates) in receiver {
                let started = std::time::Instant::now();
                commit(lake, target, &batch, &fates)?;
                tracing::debug!(records = batch.len(), commit_ms = started.elapsed().as_millis(), "batch committed");
            }
            Ok(())
        });
        let read = (|| -> Result<(), ConsumeError> {
            let mut batch: Vec<SourceRecord> = Vec::with_capacity(batch_size.min(100_000));
            loop {
                let record = input.records.next().transpose()?;
                let done = record.is_none();
                if let Some(record) = record {
                    counts.read += 1;
                    if record.coordinates.record <= resume_from {
                        counts.skipped += 1;
                    } else {
                        batch.push(record);
                    }
                }
                if (done && !batch.is_empty()) || batch.len() >= batch_size {
                    let started = std::time::Instant::now();
                    let fates = decide(&batch, normaliser, index);
                    tracing::debug!(records = batch.len(), decide_ms = started.elapsed().as_millis(), "batch decided");
                    count(&fates, &mut counts);
                    progress.records_done(batch.len() as u64);
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size.min(100_000)));
                    if sender.send((full, fates)).is_err() {
                        // The writer stopped on an error; joining it below reports that error.
                        return Ok(());
                    }
                }
                if done {
                    return Ok(());
                }
            }
        })();
        drop(sender);
        let written = writer.join().expect("the writer thread never panics");
        read.and(written)
    })?;
    Ok(FileSummary {
        path: target.path,
        format: target.format,
        mapping: target.mapping,
        counts,
    })
}

/// Where one input's batches go and what the lake already holds of it.
struct Target {
    app_id: String,
    /// Records of this input already in (bronze, quarantine, duplicates, silver).
    committed: [u64; 4],
    path: String,
    format: String,
    mapping: Option<String>,
}

fn count(fates: &[Fate], counts: &mut Counts) {
    for fate in fates {
        match fate {
            Fate::Kept(..) => counts.written += 1,
            Fate::Duplicate(_, d) => {
                counts.duplicates += 1;
                *counts.duplicates_by_kind.entry(d.kind.as_str().to_string()).or_default() += 1;
            }
            Fate::Quarantined(reject) => {
                counts.quarantined += 1;
                *counts.quarantined_by_reason.entry(reject.code.as_str().to_string()).or_default() += 1;
            }
        }
    }
}

/// Normalises one listing. A bug in a normaliser must cost one record, not the run:
/// a panic becomes an `internal_error` quarantine entry that names the failure.
fn normalise_guarded(normaliser: &Normaliser, listing: &JobListing) -> Result<Posting, Reject> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| normaliser.normalise(listing))).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        Err(Reject::new(
            ErrorCode::InternalError,
            None,
            format!("the normaliser failed on this record ({message}); please report it"),
        ))
    })
}

/// Normalises a batch on every core, then deduplicates it in input order (the order decides
/// which of two duplicates is kept, so it must not depend on threads).
fn decide(batch: &[SourceRecord], normaliser: &Normaliser, index: &mut DedupIndex) -> Vec<Fate> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = batch.len().div_ceil(threads).max(1);
    let outcomes: Vec<Result<Posting, Reject>> = std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|r| {
                            let listing = r.listing()?;
                            normalise_guarded(normaliser, &listing)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("normalisation never panics"))
            .collect()
    });
    outcomes
        .into_iter()
        .map(|result| match result {
            Err(reject) => Fate::Quarantined(reject),
            Ok(posting) => {
                if let Some(duplicate) = index.check(&posting, posting.signature.as_ref()) {
                    index.alias(&posting.posting_key, &duplicate.of);
                    Fate::Duplicate(posting.posting_key, duplicate)
                } else {
                    let near = posting.signature.clone().map(|s| NearEntry::of(&posting, s));
                    index.insert(&posting.posting_key, posting.job_url.as_deref(), &posting.content_hash, near);
                    Fate::Kept(Box::new(posting))
                }
            }
        })
        .collect()
}

fn commit(lake: &mut Lake, target: &Target, batch: &[SourceRecord], fates: &[Fate]) -> Result<(), ConsumeError> {
    let [in_bronze, in_quarantine, in_duplicates, in_silver] = target.committed;
    let last = batch.last().map_or(0, |r| r.coordinates.record);
    let needs = |already: u64| last > already;
    let pairs = || batch.iter().zip(fates);

    let bronze = rows::bronze_batch(
        pairs()
            .filter(|(r, _)| r.coordinates.record > in_bronze)
            .map(|(r, _)| (&r.coordinates, r.raw.as_str())),
        &target.format,
        target.mapping.as_deref(),
    );
    let quarantine = rows::quarantine_batch(
        pairs()
            .filter(|(r, _)| r.coordinates.record > in_quarantine)
            .filter_map(|(r, f)| match f {
                Fate::Quarantined(reject) => Some((&r.coordinates, r.raw.as_str(), reject)),
                _ => None,
            }),
    );
    let duplicates = rows::duplicates_batch(
        pairs()
            .filter(|(r, _)| r.coordinates.record > in_duplicates)
            .filter_map(|(r, f)| match f {
                Fate::Duplicate(key, d) => Some((&r.coordinates, key.as_str(), d)),
                _ => None,
            }),
    );
    let silver_rows: Vec<rows::SilverRow<'_>> = pairs()
        .filter(|(r, _)| r.coordinates.record > in_silver)
        .filter_map(|(r, f)| match f {
            Fate::Kept(p) => Some((&r.coordinates, p.as_ref())),
            _ => None,
        })
        .collect();
    let silver = rows::silver_batch(&silver_rows);

    let first = batch.first().map_or(0, |r| r.coordinates.record);
    let metadata = serde_json::json!({
        "rats.operation": "consume",
        "rats.input": target.path,
        "rats.input_id": target.app_id,
        "rats.records": format!("{first}-{last}"),
        "rats.bytes_from": batch.first().map_or(0, |r| r.coordinates.byte_offset),
    });
    let metadata = metadata.as_object().cloned().unwrap_or_default();
    let version = last as i64;
    let pick = |already, b| needs(already).then_some(Some(b));
    lake.commit_batch(
        &target.app_id,
        version,
        &metadata,
        [
            pick(in_bronze, bronze),
            pick(in_quarantine, quarantine),
            pick(in_duplicates, duplicates),
            pick(in_silver, silver),
        ],
    )?;
    Ok(())
}

/// Rebuilds the dedup index from silver and the duplicates table.
fn load_index(lake: &Lake) -> Result<DedupIndex, LakeError> {
    let columns = [
        "posting_key",
        "job_url",
        "content_hash",
        "company_key",
        "title",
        "location_city",
        "location_state",
        "location_country",
        "minhash",
    ];
    let mut index = DedupIndex::new();
    let mut entries = BTreeMap::new();
    for batch in lake.silver.scan(&columns)? {
        let text = |i: usize| batch.column(i).as_string::<i32>().clone();
        let (key, url, hash, company, title, city, state, country) =
            (text(0), text(1), text(2), text(3), text(4), text(5), text(6), text(7));
        let minhash = batch.column(8).as_binary::<i32>();
        let opt = |a: &deltalake::arrow::array::StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        for i in 0..batch.num_rows() {
            let near = (!minhash.is_null(i))
                .then(|| Signature::from_bytes(minhash.value(i)))
                .flatten()
                .map(|signature| NearEntry {
                    posting_key: key.value(i).to_string(),
                    company_key: opt(&company, i),
                    title_key: crate::normalize::text::fold_key(title.value(i)),
                    place: (opt(&city, i), opt(&state, i), opt(&country, i)),
                    signature,
                });
            entries.insert(key.value(i).to_string(), (opt(&url, i), hash.value(i).to_string(), near));
        }
    }
    // Sorted by key so the index never depends on file order.
    for (key, (url, hash, near)) in entries {
        index.insert(&key, url.as_deref(), &hash, near);
    }
    for batch in lake.duplicates.scan(&["posting_key", "duplicate_of"])? {
        let (key, of) = (batch.column(0).as_string::<i32>(), batch.column(1).as_string::<i32>());
        for i in 0..batch.num_rows() {
            // A killed run may have committed a batch's duplicates but not its silver rows.
            // Those rows are decided again, so an alias naming a posting silver lacks must not
            // exist yet: it would make the replayed posting a duplicate of itself.
            if index.is_kept(of.value(i)) {
                index.alias(key.value(i), of.value(i));
            }
        }
    }
    Ok(index)
}
