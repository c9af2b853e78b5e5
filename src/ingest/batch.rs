//! The part of consume every source shares: deciding each record's fate (normalise, then
//! deduplicate against everything already kept) and committing a decided batch to the four
//! tables, with one Delta application transaction per stream (an input file, a Kafka
//! partition) so a replayed batch adds nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;

use deltalake::arrow::array::{Array, AsArray};
use deltalake::arrow::record_batch::RecordBatch;

use super::readers::SourceRecord;
use super::reject::{ErrorCode, Reject, unless_panicked};
use super::summary::Counts;
use crate::dedup::minhash::Signature;
use crate::dedup::{DedupIndex, Duplicate, NearEntry, Repeat};
use crate::lake::{Lake, LakeError, TableWrite, rows};
use crate::normalize::{Normaliser, Posting};

/// Table positions in [`Stream::committed`], in commit order.
const BRONZE: usize = 0;
const QUARANTINE: usize = 1;
const DUPLICATES: usize = 2;
const SILVER: usize = 3;

/// The outcome of one record.
pub enum Fate {
    Kept(Box<Posting>),
    /// What the duplicates table keeps of the repeat, and the verdict.
    Duplicate(Repeat, Duplicate),
    Quarantined(Reject),
}

pub fn count(fates: &[Fate], counts: &mut Counts) {
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

/// Runs one normalisation step on one record: a panic (a bug in a normaliser) becomes an
/// `internal_error` quarantine entry that names the failure.
fn guarded<T>(step: impl FnOnce() -> Result<T, Reject>) -> Result<T, Reject> {
    unless_panicked(
        ErrorCode::InternalError,
        |text| format!("the normaliser failed on this record ({text}); please report it"),
        step,
    )
}

/// Records per unit of work a core takes: small enough that the cores finish a batch within
/// a few postings of each other however long each posting is, large enough that handing out
/// the work costs nothing next to normalising it.
const CHUNK: usize = 64;

/// Normalises a batch on every core, deduplicates it in input order (the order decides which
/// of two duplicates is kept, so it must not depend on threads), and reads the details of the
/// kept postings (skills, experience, education) on every core (a duplicate's are never
/// stored).
///
/// The three steps overlap instead of following each other: the pool's threads normalise
/// chunk after chunk while this thread deduplicates each chunk as soon as it and every chunk
/// before it are normalised, and hands the chunk's kept postings back to the pool for their
/// details. So deduplication, which cannot be split, no longer leaves a core idle, and a core
/// that finishes its share early takes more (the halves of a batch split up front took
/// different times).
///
/// Each record's listing is taken for normalising: the batch keeps only what committing
/// needs.
pub fn decide(batch: &mut [SourceRecord], normaliser: &Normaliser, index: &mut DedupIndex) -> Vec<Fate> {
    let (normalised_sender, normalised_chunks) = mpsc::channel::<(usize, Vec<Result<Posting, Reject>>)>();
    let (decided_sender, decided_chunks) = mpsc::channel::<(usize, Vec<Fate>)>();
    rayon::in_place_scope(|scope| {
        for (number, part) in batch.chunks_mut(CHUNK).enumerate() {
            let sender = normalised_sender.clone();
            scope.spawn(move |_| {
                let outcomes = part.iter_mut().map(|r| normalise(r, normaliser)).collect();
                // The receiver lives until every chunk is in: sending cannot fail.
                let _ = sender.send((number, outcomes));
            });
        }
        drop(normalised_sender);
        let mut early: BTreeMap<usize, Vec<Result<Posting, Reject>>> = BTreeMap::new();
        let mut next = 0;
        for (number, outcomes) in normalised_chunks {
            early.insert(number, outcomes);
            while let Some(outcomes) = early.remove(&next) {
                let fates: Vec<Fate> = outcomes.into_iter().map(|outcome| deduplicate(outcome, index)).collect();
                let sender = decided_sender.clone();
                let number = next;
                scope.spawn(move |_| {
                    let _ = sender.send((number, with_details(fates, normaliser)));
                });
                next += 1;
            }
        }
    });
    drop(decided_sender);
    let mut parts: Vec<(usize, Vec<Fate>)> = decided_chunks.into_iter().collect();
    parts.sort_unstable_by_key(|(number, _)| *number);
    debug_assert_eq!(parts.len(), batch.len().div_ceil(CHUNK), "every chunk is decided");
    parts.into_iter().flat_map(|(_, fates)| fates).collect()
}

fn normalise(record: &mut SourceRecord, normaliser: &Normaliser) -> Result<Posting, Reject> {
    let listing = record.take_listing()?;
    guarded(|| normaliser.normalise(&listing))
}

/// A posting's fate against everything kept so far; a kept posting joins the index.
fn deduplicate(outcome: Result<Posting, Reject>, index: &mut DedupIndex) -> Fate {
    match outcome {
        Err(reject) => Fate::Quarantined(reject),
        Ok(posting) => {
            if let Some(duplicate) = index.check(&posting, posting.signature.as_ref()) {
                index.alias(&posting.posting_key, &duplicate.of);
                Fate::Duplicate(Repeat::of(posting), duplicate)
            } else {
                let near = posting.signature.clone().map(|s| NearEntry::of(&posting, s));
                index.insert(&posting.posting_key, posting.job_url.as_deref(), &posting.content_hash, near);
                Fate::Kept(Box::new(posting))
            }
        }
    }
}

/// Reads the details of the kept postings among `fates` ([`Normaliser::add_details`]). A
/// posting whose skills fail (only a learned model can) is quarantined after the index took
/// it in: later copies of it are then counted as its duplicates, still accounted for.
fn with_details(mut fates: Vec<Fate>, normaliser: &Normaliser) -> Vec<Fate> {
    for fate in &mut fates {
        if let Fate::Kept(posting) = fate
            && let Err(reject) = guarded(|| normaliser.add_details(posting))
        {
            *fate = Fate::Quarantined(reject);
        }
    }
    fates
}

/// One stream of records with its own position in the lake: an input file, or a Kafka
/// partition. Records of a stream carry increasing `Coordinates::record` numbers, and each
/// table records the last one it holds as the Delta application transaction `app_id`.
#[derive(Debug, Clone)]
pub struct Stream {
    pub app_id: String,
    /// Records of this stream each table already holds: (bronze, quarantine, duplicates, silver).
    pub committed: [u64; 4],
}

impl Stream {
    /// Reads the stream's position from the lake.
    pub fn open(lake: &Lake, app_id: String) -> Result<Self, LakeError> {
        let committed = lake.committed(&app_id)?.map(|v| v.max(0) as u64);
        Ok(Stream { app_id, committed })
    }

    /// The records every table holds: where a resumed run starts.
    pub fn resume_from(&self) -> u64 {
        self.committed.iter().copied().min().unwrap_or(0)
    }
}

/// Streams by `Coordinates::file`, the name every record carries.
pub type Streams = HashMap<String, Stream>;

/// How the batch's records were read, for bronze.
pub struct Origin<'a> {
    pub input_format: &'a str,
    pub mapping: Option<&'a str>,
}

/// Commits a decided batch: each table gets the rows it does not hold yet and, in the same
/// Delta commit, the new position of every stream in the batch. A table that already holds
/// the whole batch (a replay after a crash) is skipped. The streams' positions advance.
///
/// Takes the batch to let go of its records as soon as the tables' rows are built from them:
/// the rows hold copies, and writing the files is when memory peaks (the Parquet writers'
/// buffers, the next batch being decided and the read-ahead all at once).
pub fn commit(
    lake: &mut Lake,
    streams: &mut Streams,
    batch: Vec<SourceRecord>,
    fates: Vec<Fate>,
    origin: &Origin<'_>,
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), LakeError> {
    let held = |r: &SourceRecord, table: usize| streams.get(&r.coordinates.file).map_or(0, |s| s.committed[table]);
    let new_in = |table: usize| move |(r, _): &(&SourceRecord, &Fate)| r.coordinates.record > held(r, table);
    let pairs = || batch.iter().zip(&fates);

    // Bronze copies every record's raw payload: its rows are built on a thread of their own
    // while the other tables' are.
    let (bronze, quarantine, duplicates, silver) = std::thread::scope(|scope| {
        let bronze = scope.spawn(|| {
            rows::bronze_batch(
                pairs().filter(new_in(BRONZE)).map(|(r, _)| (&r.coordinates, raw(r))),
                origin.input_format,
                origin.mapping,
            )
        });
        let quarantine = rows::quarantine_batch(pairs().filter(new_in(QUARANTINE)).filter_map(|(r, f)| match f {
            Fate::Quarantined(reject) => Some((&r.coordinates, raw(r), reject)),
            _ => None,
        }));
        let duplicates = rows::duplicates_batch(pairs().filter(new_in(DUPLICATES)).filter_map(|(r, f)| match f {
            Fate::Duplicate(repeat, d) => Some((&r.coordinates, repeat, d)),
            _ => None,
        }));
        // Silver gets a file per month a batch's postings span (about 75 in the benchmark's
        // batches), its longest write: its months are split in two halves written at once.
        let (mut even_months, mut odd_months): (Vec<rows::SilverRow<'_>>, Vec<_>) = pairs()
            .filter(new_in(SILVER))
            .filter_map(|(r, f)| match f {
                Fate::Kept(p) => Some((&r.coordinates, p.as_ref())),
                _ => None,
            })
            .partition(|(_, p)| p.date_posted.is_none_or(|d| chrono::Datelike::month0(&d) % 2 == 0));
        // Each half in month order, so that its files are written one after another, each
        // closed before the next opens (`Table::write_files`).
        let month = |(_, p): &rows::SilverRow<'_>| p.date_posted.map(|d| (chrono::Datelike::year(&d), chrono::Datelike::month(&d)));
        even_months.sort_by_key(month);
        odd_months.sort_by_key(month);
        let silver = vec![rows::silver_batch(&even_months), rows::silver_batch(&odd_months)];
        let bronze = bronze.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (bronze, quarantine, duplicates, silver)
    });

    // The last record of each stream in this batch.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for r in &batch {
        match last.get_mut(&r.coordinates.file) {
            Some(record) => *record = (*record).max(r.coordinates.record),
            None => {
                last.insert(r.coordinates.file.clone(), r.coordinates.record);
            }
        }
    }
    drop((batch, fates));
    let write = |table: usize, parts: Vec<RecordBatch>| {
        let transactions: Vec<(String, i64)> = last
            .iter()
            .filter_map(|(file, &record)| {
                let stream = streams.get(file)?;
                (record > stream.committed[table]).then(|| (stream.app_id.clone(), record as i64))
            })
            .collect();
        (!transactions.is_empty()).then_some(TableWrite { parts, transactions })
    };
    let writes = [
        write(BRONZE, vec![bronze]),
        write(QUARANTINE, vec![quarantine]),
        write(DUPLICATES, vec![duplicates]),
        write(SILVER, silver),
    ];
    lake.commit_batch(metadata, writes)?;
    for (file, record) in last {
        if let Some(stream) = streams.get_mut(&file) {
            for held in &mut stream.committed {
                *held = (*held).max(record);
            }
        }
    }
    Ok(())
}

/// Rebuilds the dedup index from silver and the duplicates table.
pub fn load_index(lake: &Lake) -> Result<DedupIndex, LakeError> {
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

/// A record as received, for bronze and quarantine.
fn raw(record: &SourceRecord) -> rows::Raw<'_> {
    (record.raw.as_str(), record.raw_bytes.as_deref())
}
