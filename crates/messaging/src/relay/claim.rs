//! The claim: one transaction that holds key buckets (ADR 0012) and reads their pending rows.
//!
//! The transaction is the lease. PostgreSQL ends a session that sits idle inside it for longer
//! than the lease (a hung relay), and a crashed relay's locks go with its connection, so its rows
//! are free again at once. Until the transaction ends, every pending row of the claimed buckets is
//! this relay's alone: no other relay publishes them, and no key is split between relays.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, FromRow, PgPool, Postgres, Row, Transaction, ValueRef};

use super::RelayConfig;
use super::row_id::RowId;

/// A pending outbox row with everything the producer needs.
#[derive(Debug)]
pub(super) struct Claimed {
    pub outbox_seq: i64,
    /// Where the row lies, for deleting it once acknowledged.
    pub row_id: RowId,
    pub event_id: uuid::Uuid,
    pub topic: String,
    pub partition_key: String,
    pub event_type: String,
    pub event_version: i32,
    /// The envelope, sent as the message body.
    pub envelope: Envelope,
    /// Whether the envelope carries the row's own eventId, eventType and eventVersion; an
    /// envelope that does not is unreadable for consumers (poison).
    pub envelope_matches: bool,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub traceparent: Option<String>,
    pub attempts: i32,
    pub occurred_at: DateTime<Utc>,
}

/// The message body of a claimed row.
///
/// A queue row's envelope stays in the row as the database sent it and is handed to the
/// producer from there (which copies it once, into its own buffer). Decoding it into a `String`
/// first cost an allocation, a copy and a UTF-8 scan of ~1 kB per event: 11 % of the read's
/// instructions, 7 % of the relay loop's (ADR 0020). PostgreSQL only ever sends text in the
/// client encoding, UTF-8, so the scan proved nothing.
#[derive(Debug)]
pub(super) enum Envelope {
    /// Column [`ENVELOPE_COLUMN`] of a queue row read in binary format.
    InRow(PgRow),
    /// Rendered by the log's query, for rows queued before they carried their message.
    Owned(String),
}

/// The envelope's position in the queue read's column list.
const ENVELOPE_COLUMN: usize = 7;

impl Envelope {
    /// The body's bytes; `None` if the row's column cannot be read (the read checked it is
    /// there), which the relay treats as poison rather than send an empty body.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::InRow(row) => row
                .try_get_raw(ENVELOPE_COLUMN)
                .ok()
                .and_then(|value| value.as_bytes().ok()),
            Self::Owned(text) => Some(text.as_bytes()),
        }
    }
}

#[cfg(test)]
impl From<&str> for Envelope {
    fn from(text: &str) -> Self {
        Self::Owned(text.to_owned())
    }
}

impl Claimed {
    /// The ordering unit: rows of one key are published in commit order.
    pub fn key(&self) -> (&str, &str) {
        (&self.topic, &self.partition_key)
    }
}

/// Keys hash into this many buckets (`outbox_pending.key_bucket`, 0–255, in the migrations).
const KEY_BUCKETS: usize = 256;

/// An open claim on some key buckets.
pub(super) struct Claim {
    pub transaction: Transaction<'static, Postgres>,
    pub buckets: Vec<i16>,
    /// Indexed by bucket: whether this claim holds it. Reads test a row's bucket with one array
    /// subscript; `key_bucket = ANY(buckets)` searched up to 256 entries per row and was a
    /// third of the read's cost.
    held: Vec<bool>,
}

/// Opens a claim on the key buckets of the oldest pending rows that no other relay holds;
/// `None` when there is nothing to claim.
pub(super) async fn open(
    pool: &PgPool,
    config: &RelayConfig,
) -> Result<Option<Claim>, sqlx::Error> {
    let mut transaction = pool.begin_with(begin_statement(config.lease)).await?;
    let buckets = claim_buckets(&mut transaction, config).await?;
    if buckets.is_empty() {
        return Ok(None);
    }
    let mut held = vec![false; KEY_BUCKETS];
    for &bucket in &buckets {
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| held.get_mut(b)) {
            *slot = true;
        }
    }
    Ok(Some(Claim {
        transaction,
        buckets,
        held,
    }))
}

/// Begins the claim with its session settings, local to its transaction, in one round trip.
///
/// The queue is always read in commit order through its primary key, and only a batch's worth
/// of it; statistics lag behind bursts, and a planner that believed them sorted the whole queue
/// and joined every envelope per read, so sequential scans and sorts are off. Those settings
/// inflate plan costs past `jit_above_cost`, and JIT-compiling the claim took about 100 ms for
/// a query that runs in 1 ms, so JIT is off too. The claim's statements have one good plan
/// whatever their parameters, and planning them afresh on every execution cost a quarter of an
/// idle claim, so the cached generic plan is used.
///
/// Nothing the claim writes needs to wait for the WAL flush: if PostgreSQL crashed before
/// flushing, rows would be pending again and be sent again with the same event id, which the
/// at-least-once contract already covers.
fn begin_statement(lease: Duration) -> AssertSqlSafe<String> {
    // Only a number is formatted in: no input reaches this text.
    AssertSqlSafe(format!(
        "BEGIN; \
         SET LOCAL synchronous_commit = off; \
         SET LOCAL idle_in_transaction_session_timeout = {}; \
         SET LOCAL enable_seqscan = off; \
         SET LOCAL enable_sort = off; \
         SET LOCAL jit = off; \
         SET LOCAL plan_cache_mode = force_generic_plan",
        lease.as_millis()
    ))
}

/// Locks the key buckets of the oldest pending rows (`FOR UPDATE SKIP LOCKED` on
/// `outbox_key_bucket`), oldest first, at most `buckets_per_cycle`.
async fn claim_buckets(
    transaction: &mut Transaction<'static, Postgres>,
    config: &RelayConfig,
) -> Result<Vec<i16>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.bucket FROM outbox_key_bucket b JOIN ( \
           SELECT key_bucket, min(outbox_seq) AS oldest FROM ( \
             SELECT key_bucket, outbox_seq FROM outbox_pending WHERE next_attempt_at <= now() \
             ORDER BY outbox_seq LIMIT $1) candidate \
           GROUP BY key_bucket) c ON c.key_bucket = b.bucket \
         ORDER BY c.oldest LIMIT $2 FOR UPDATE OF b SKIP LOCKED",
    )
    .bind(config.batch_size)
    .bind(config.buckets_per_cycle)
    .fetch_all(&mut **transaction)
    .await
}

/// A pending row as stored: the message columns are empty for rows written before the queue
/// carried messages (ADR 0018).
#[derive(Debug)]
struct PendingRow {
    outbox_seq: i64,
    row_id: RowId,
    topic: String,
    partition_key: String,
    attempts: i32,
    event_id: Option<uuid::Uuid>,
    event_type: Option<String>,
    event_version: Option<i32>,
    /// Whether the row carries an envelope; the bytes stay in the row.
    has_envelope: bool,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    traceparent: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
}

/// Decoded by position, not by name, and without sqlx's per-column type-compatibility check:
/// the relay decodes every row it sends, and both were a measurable share of its CPU (the check
/// was 15 % of the read's remaining instructions, ADR 0020). The statement is fixed and its column types
/// are the table's; each decoder still checks its value's length and contents, so a schema change
/// that broke this would fail every relay test.
impl<'r> sqlx::FromRow<'r, PgRow> for PendingRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            outbox_seq: row.try_get_unchecked(0)?,
            topic: row.try_get_unchecked(1)?,
            partition_key: row.try_get_unchecked(2)?,
            attempts: row.try_get_unchecked(3)?,
            event_id: row.try_get_unchecked(4)?,
            event_type: row.try_get_unchecked(5)?,
            event_version: row.try_get_unchecked(6)?,
            has_envelope: !row.try_get_raw(ENVELOPE_COLUMN)?.is_null(),
            correlation_id: row.try_get_unchecked(8)?,
            causation_id: row.try_get_unchecked(9)?,
            traceparent: row.try_get_unchecked(10)?,
            occurred_at: row.try_get_unchecked(11)?,
            row_id: row.try_get_unchecked(12)?,
        })
    }
}

impl PendingRow {
    /// The row as a message, when it carries one (the table's check constraint makes a carried
    /// envelope agree with the headers); otherwise what is needed to find it in the log.
    fn into_message(self, row: PgRow) -> Result<Claimed, QueuedOnly> {
        match (
            self.event_id,
            self.event_type,
            self.event_version,
            self.has_envelope,
            self.occurred_at,
        ) {
            (Some(event_id), Some(event_type), Some(event_version), true, Some(occurred_at)) => {
                Ok(Claimed {
                    outbox_seq: self.outbox_seq,
                    row_id: self.row_id,
                    event_id,
                    topic: self.topic,
                    partition_key: self.partition_key,
                    event_type,
                    event_version,
                    envelope: Envelope::InRow(row),
                    envelope_matches: true,
                    correlation_id: self.correlation_id,
                    causation_id: self.causation_id,
                    traceparent: self.traceparent,
                    attempts: self.attempts,
                    occurred_at,
                })
            }
            _ => Err(QueuedOnly {
                outbox_seq: self.outbox_seq,
                row_id: self.row_id,
                topic: self.topic,
                partition_key: self.partition_key,
                attempts: self.attempts,
            }),
        }
    }
}

/// A queue row without its message.
#[derive(Debug)]
struct QueuedOnly {
    outbox_seq: i64,
    row_id: RowId,
    topic: String,
    partition_key: String,
    attempts: i32,
}

/// What the log says about an event whose queue row carries no message.
#[derive(Debug, sqlx::FromRow)]
struct LoggedMessage {
    outbox_seq: i64,
    event_id: uuid::Uuid,
    event_type: String,
    event_version: i32,
    envelope: String,
    envelope_matches: bool,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    traceparent: Option<String>,
    occurred_at: DateTime<Utc>,
}

impl Claim {
    /// The next pending rows of the claimed buckets after `after_seq`, in commit order, without
    /// the keys backing off after a failure (their later rows wait behind the failed one).
    ///
    /// Each read is a new statement, so it sees everything committed before it, including what
    /// the previous holder of a bucket committed and what this claim's recorder recorded. The
    /// queue is read alone, through its primary key: the rows carry their messages.
    pub async fn read_after(
        &mut self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let rows: Vec<PgRow> = sqlx::query(
            "SELECT outbox_seq, topic, partition_key, attempts, event_id, event_type, event_version, \
                    envelope::text AS envelope, correlation_id, causation_id, traceparent, occurred_at, ctid \
             FROM outbox_pending \
             WHERE ($1::bool[])[key_bucket + 1] AND outbox_seq > $2 AND next_attempt_at <= now() \
               AND (topic, partition_key) NOT IN ( \
                 SELECT topic, partition_key FROM outbox_pending WHERE attempts > 0 AND next_attempt_at > now()) \
             ORDER BY outbox_seq LIMIT $3",
        )
        .bind(&self.held)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&mut *self.transaction)
        .await?;
        let mut messages = Vec::with_capacity(rows.len());
        let mut without_message = Vec::new();
        for row in rows {
            match PendingRow::from_row(&row)?.into_message(row) {
                Ok(message) => messages.push(message),
                Err(row) => without_message.push(row),
            }
        }
        if without_message.is_empty() {
            return Ok(messages);
        }
        messages.extend(self.complete_from_log(without_message).await?);
        messages.sort_by_key(|m| m.outbox_seq);
        Ok(messages)
    }

    /// Completes rows without a message from the log; their envelopes are checked against the
    /// log's own columns, because nothing at the database made them agree.
    async fn complete_from_log(
        &mut self,
        rows: Vec<QueuedOnly>,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let seqs: Vec<i64> = rows.iter().map(|r| r.outbox_seq).collect();
        let logged: Vec<LoggedMessage> = sqlx::query_as(
            "SELECT outbox_seq, event_id, event_type, event_version, envelope::text AS envelope, \
                    coalesce(envelope->>'eventId' = event_id::text \
                             AND envelope->>'eventType' = event_type \
                             AND envelope->>'eventVersion' = event_version::text, false) AS envelope_matches, \
                    envelope->>'correlationId' AS correlation_id, envelope->>'causationId' AS causation_id, \
                    envelope->>'traceparent' AS traceparent, occurred_at \
             FROM outbox_event WHERE outbox_seq = ANY($1)",
        )
        .bind(&seqs)
        .fetch_all(&mut *self.transaction)
        .await?;
        let mut logged: std::collections::HashMap<i64, LoggedMessage> =
            logged.into_iter().map(|m| (m.outbox_seq, m)).collect();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let log = logged.remove(&row.outbox_seq)?;
                Some(Claimed {
                    outbox_seq: row.outbox_seq,
                    row_id: row.row_id,
                    event_id: log.event_id,
                    topic: row.topic,
                    partition_key: row.partition_key,
                    event_type: log.event_type,
                    event_version: log.event_version,
                    envelope: Envelope::Owned(log.envelope),
                    envelope_matches: log.envelope_matches,
                    correlation_id: log.correlation_id,
                    causation_id: log.causation_id,
                    traceparent: log.traceparent,
                    attempts: row.attempts,
                    occurred_at: log.occurred_at,
                })
            })
            .collect())
    }
}
