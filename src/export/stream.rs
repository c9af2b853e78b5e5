//! A lazy query's rows as a pull iterator of small frames, produced by Polars' streaming
//! engine on a thread of its own. The engine pushes batches into a callback; a bounded channel
//! turns that into the iterator the writers pull from, so at most a few batches (plus the
//! engine's own morsels in flight) are held at once, whatever the table's size. When the
//! reader stops pulling (a closed pipe, an error), the engine is told to stop at its next
//! batch.

use std::num::NonZeroUsize;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;

use super::ExportError;

/// Rows per batch the engine hands over. Silver rows carry whole descriptions (a few kB each),
/// so this keeps a batch to tens of megabytes.
const BATCH_ROWS: usize = 8_192;

/// Batches waiting between the engine and the writer.
const BATCHES_IN_FLIGHT: usize = 2;

/// The rows of a streamed query, in order.
pub struct Batches {
    what: String,
    received: Receiver<DataFrame>,
    engine: Option<JoinHandle<PolarsResult<()>>>,
    /// The answer's columns without rows, handed over when the engine sends no batch at all, so
    /// an empty export still has its header or schema.
    empty: Option<DataFrame>,
}

impl Batches {
    /// Starts `frame` on the streaming engine; `what` names it in errors.
    pub fn start(mut frame: LazyFrame, what: String) -> Result<Self, ExportError> {
        let schema = frame.collect_schema().map_err(|e| query_error(&what, &e))?;
        let empty = DataFrame::empty_with_schema(&schema);
        let (send, received) = sync_channel(BATCHES_IN_FLIGHT);
        let sink = frame
            .sink_batches(
                // `true` asks the engine to stop: the reader has gone.
                PlanCallback::new(move |batch: DataFrame| Ok(send.send(batch).is_err())),
                true,
                NonZeroUsize::new(BATCH_ROWS),
            )
            .map_err(|e| query_error(&what, &e))?;
        let engine = std::thread::Builder::new()
            .name("export-stream".into())
            .spawn(move || sink.collect_with_engine(Engine::Streaming).map(drop))
            .map_err(|e| ExportError::Query {
                what: what.clone(),
                message: format!("cannot start the query engine: {e}"),
            })?;
        Ok(Batches {
            what,
            received,
            engine: Some(engine),
            empty: Some(empty),
        })
    }

    /// How the engine ended, once its channel is closed: `None` when it finished cleanly.
    fn outcome(&mut self) -> Option<ExportError> {
        let engine = self.engine.take()?;
        match engine.join() {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(query_error(&self.what, &error)),
            Err(panic) => Some(ExportError::Query {
                what: self.what.clone(),
                message: format!(
                    "the query engine stopped: {}",
                    panic
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no reason given".into())
                ),
            }),
        }
    }
}

impl Iterator for Batches {
    type Item = Result<DataFrame, ExportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.received.recv() {
            Ok(batch) => {
                self.empty = None;
                Some(Ok(batch))
            }
            // The engine dropped its sender: it finished or failed.
            Err(_) => match self.outcome() {
                Some(error) => Some(Err(error)),
                None => self.empty.take().map(Ok),
            },
        }
    }
}

impl Drop for Batches {
    /// A reader that stops early closes the channel first, so the engine's next batch tells it
    /// to stop and the join below returns promptly.
    fn drop(&mut self) {
        let (_, closed) = sync_channel(0);
        drop(std::mem::replace(&mut self.received, closed));
        if let Some(engine) = self.engine.take() {
            let _ = engine.join();
        }
    }
}

fn query_error(what: &str, error: &PolarsError) -> ExportError {
    ExportError::Query {
        what: what.to_string(),
        message: crate::transform::engine::polars_message(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(n: i64) -> LazyFrame {
        df!("n" => (0..n).collect::<Vec<_>>()).expect("frame").lazy()
    }

    #[test]
    fn every_row_arrives_in_order_in_small_batches() {
        let rows = 3 * BATCH_ROWS as i64 + 17;
        let batches: Vec<DataFrame> = Batches::start(numbers(rows).filter(col("n").gt_eq(lit(0))), "numbers".into())
            .expect("starts")
            .collect::<Result<_, _>>()
            .expect("streams");
        assert!(batches.len() > 1, "{} batches", batches.len());
        assert!(batches.iter().all(|b| b.height() <= BATCH_ROWS));
        let seen: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column("n")
                    .expect("n")
                    .i64()
                    .expect("i64")
                    .into_no_null_iter()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(seen, (0..rows).collect::<Vec<_>>());
    }

    #[test]
    fn no_rows_still_come_as_one_empty_frame_with_the_columns() {
        let batches: Vec<DataFrame> = Batches::start(numbers(100).filter(col("n").lt(lit(0))), "numbers".into())
            .expect("starts")
            .collect::<Result<_, _>>()
            .expect("streams");
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].height(), 0);
        assert_eq!(batches[0].get_column_names(), ["n"]);
    }

    #[test]
    fn a_failing_query_is_an_error_not_a_short_export() {
        let failing = numbers(10).select([col("missing")]);
        let results: Vec<_> = Batches::start(failing, "the query".into()).map_or_else(|e| vec![Err(e)], Iterator::collect::<Vec<_>>);
        assert!(
            matches!(results.last(), Some(Err(ExportError::Query { what, .. })) if what == "the query"),
            "{results:?}"
        );
    }

    #[test]
    fn a_reader_that_stops_early_stops_the_engine() {
        let mut batches = Batches::start(numbers(50 * BATCH_ROWS as i64), "numbers".into()).expect("starts");
        assert!(batches.next().is_some_and(|b| b.is_ok()));
        drop(batches);
    }
}
