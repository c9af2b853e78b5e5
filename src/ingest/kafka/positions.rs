//! Where each assigned partition starts: the lake's position, not Kafka's committed offset.
//! The lake is the record of what was consumed (its commits and the offsets they cover are
//! one atomic step); Kafka's group offsets follow it, for lag monitoring only. So on every
//! assignment the consumer seeks each partition to the position the lake holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// Next offset to read per partition, as the lake holds it.
pub type Positions = Arc<Mutex<HashMap<i32, i64>>>;

/// The consumer context that assigns partitions at the lake's positions.
pub struct LakePositions {
    pub topic: String,
    pub positions: Positions,
}

impl ClientContext for LakePositions {}

impl ConsumerContext for LakePositions {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let positions = self.positions.lock().unwrap_or_else(PoisonError::into_inner);
                let partitions: Vec<i32> = tpl
                    .elements_for_topic(&self.topic)
                    .iter()
                    .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
                    .collect();
                for partition in &partitions {
                    let offset = match positions.get(partition) {
                        Some(&next) if next > 0 => Offset::Offset(next),
                        _ => Offset::Beginning,
                    };
                    if let Err(e) = tpl.set_partition_offset(&self.topic, *partition, offset) {
                        tracing::error!(partition, error = %e, "cannot set the start position");
                    }
                }
                tracing::info!(?partitions, "partitions assigned; reading from the lake's positions");
                if let Err(e) = consumer.assign(tpl) {
                    tracing::error!(error = %e, "assigning partitions failed");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!("partitions revoked");
                if let Err(e) = consumer.unassign() {
                    tracing::error!(error = %e, "unassigning partitions failed");
                }
            }
            other => {
                tracing::error!(error = ?other, "rebalance failed; unassigning");
                if let Err(e) = consumer.unassign() {
                    tracing::error!(error = %e, "unassigning partitions failed");
                }
            }
        }
    }
}
