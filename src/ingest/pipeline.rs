//! `rats consume` from files: every record lands in bronze and in exactly one of silver,
//! duplicates or quarantine, in batches committed atomically per table with a Delta
//! application transaction keyed by the input's content, so a re-run adds nothing and a
//! killed run resumes where silver stopped.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::batch::{self, Fate, Origin, Stream, Streams};
use super::readers::{self, InputFormat, OpenError, ReadError, SourceRecord};
use super::summary::{ConsumeSummary, Counts, FileSummary};
use crate::dedup::DedupIndex;
use crate::lake::{Lake, LakeError};
use crate::normalize::Normaliser;

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
    if crate::lake::reference::sync_skills(lake_root, normaliser.skills().taxonomy())? {
        tracing::info!(table = crate::lake::reference::SKILLS, "skill taxonomy written to the lake");
    }
    let mut index = batch::load_index(&lake)?;
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

/// Reads `records` into batches of `batch_size` for `sender`, leaving out those the lake holds
/// (numbered up to `resume_from`); stops early when nobody takes the batches any more.
/// Returns the records read and, of those, the ones left out.
fn read_batches_of(
    records: impl Iterator<Item = Result<SourceRecord, ReadError>>,
    resume_from: u64,
    batch_size: usize,
    sender: &std::sync::mpsc::SyncSender<Vec<SourceRecord>>,
) -> Result<(u64, u64), ReadError> {
    let (mut read, mut skipped) = (0, 0);
    let new_batch = || Vec::with_capacity(batch_size.min(100_000));
    let mut batch = new_batch();
    for record in records {
        let record = record?;
        read += 1;
        if record.coordinates.record <= resume_from {
            skipped += 1;
            continue;
        }
        batch.push(record);
        if batch.len() >= batch_size && sender.send(std::mem::replace(&mut batch, new_batch())).is_err() {
            return Ok((read, skipped));
        }
    }
    if !batch.is_empty() {
        // Nobody taking it means the run failed elsewhere, which the caller reports.
        let _ = sender.send(batch);
    }
    Ok((read, skipped))
}

/// The identity of an input: the SHA-256 of its bytes, so a renamed or moved copy of the same
/// file is still recognised and an edited file is a new input.
fn input_id(path: &Path) -> Result<String, ReadError> {
    let mut file = readers::open_file(path)?;
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

/// One input, the work between reading and committing split over three threads: one reads
/// batch N+2 while this one decides batch N+1 (normalising and finding skills on every core)
/// and the writer commits batch N. Batches reach the writer in order, so commits stay in
/// input order.
fn consume_one(
    lake: &mut Lake,
    index: &mut DedupIndex,
    input: readers::Input,
    normaliser: &Normaliser,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<FileSummary, ConsumeError> {
    let stream = Stream::open(lake, input_id(&input.path)?)?;
    let resume_from = stream.resume_from();
    let path = input.path.display().to_string();
    let format = format!("{:?}", input.format).to_lowercase();
    let mut streams = Streams::from([(path.clone(), stream)]);
    let mut counts = Counts::default();
    let records = input.records;
    std::thread::scope(|scope| {
        // Rendezvous channels: a batch is handed on only when the next stage takes it, so at
        // most one batch per stage is in memory.
        let (read_sender, read_batches) = std::sync::mpsc::sync_channel::<Vec<SourceRecord>>(0);
        let (decided_sender, decided_batches) = std::sync::mpsc::sync_channel::<(Vec<SourceRecord>, Vec<Fate>)>(0);
        let origin = Origin {
            input_format: &format,
            mapping: input.mapping.as_deref(),
        };
        let (path, streams) = (&path, &mut streams);
        let reader = scope.spawn(move || read_batches_of(records, resume_from, batch_size, &read_sender));
        let writer = scope.spawn(move || -> Result<(), ConsumeError> {
            for (batch, fates) in decided_batches {
                let started = std::time::Instant::now();
                let first = batch.first().map_or(0, |r| r.coordinates.record);
                let last = batch.last().map_or(0, |r| r.coordinates.record);
                let metadata = serde_json::json!({
                    "rats.operation": "consume",
                    "rats.input": path,
                    "rats.input_id": streams[path].app_id,
                    "rats.records": format!("{first}-{last}"),
                    "rats.bytes_from": batch.first().map_or(0, |r| r.coordinates.byte_offset),
                });
                let metadata = metadata.as_object().cloned().unwrap_or_default();
                let records = batch.len();
                batch::commit(lake, streams, batch, fates, &origin, &metadata)?;
                tracing::debug!(records, commit_ms = started.elapsed().as_millis(), "batch committed");
            }
            Ok(())
        });
        for mut batch in read_batches {
            let started = std::time::Instant::now();
            let fates = batch::decide(&mut batch, normaliser, index);
            tracing::debug!(records = batch.len(), decide_ms = started.elapsed().as_millis(), "batch decided");
            batch::count(&fates, &mut counts);
            progress.records_done(batch.len() as u64);
            if decided_sender.send((batch, fates)).is_err() {
                // The writer stopped on an error; joining it below reports that error.
                break;
            }
        }
        drop(decided_sender);
        let written = writer.join().expect("the writer thread never panics");
        // The reader stops at its next batch once this thread no longer takes them.
        let read = reader.join().expect("the reader thread never panics");
        let (read, skipped) = read?;
        counts.read += read;
        counts.skipped += skipped;
        written
    })?;
    Ok(FileSummary {
        path,
        format,
        mapping: input.mapping,
        counts,
    })
}
