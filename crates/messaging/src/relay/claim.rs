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
use super::headers::HeaderValues;
use super::row_id::RowId;

/// A pending outbox row with everything the producer needs.
#[derive(Debug)]
pub(super) struct Claimed {
    pub outbox_seq: i64,
    /// Where the row lies, for deleting it once acknowledged.
    pub row_id: RowId,
    pub attempts: i32,
    pub occurred_at: DateTime<Utc>,
    message: Message,
}

/// Where a claimed row keeps its topic, key, headers and envelope.
///
/// A queue row's values stay in the row as the database sent it and are handed to the producer
/// from there (which copies them once, into its own buffers). Decoding each into a `String`
/// first cost an allocation, a copy and a free per value and event (ADR 0020, ADR 0022).
#[derive(Debug)]
enum Message {
    /// A queue row read in binary format, in the columns of [`READ_ALL_KEYS`].
    InRow(PgRow),
    /// Rendered by the log's query, for a row queued before rows carried their message.
    FromLog(Box<LoggedMessage>),
}

/// Positions in the queue read's column list ([`READ_ALL_KEYS`]).
const TOPIC_COLUMN: usize = 4;
const PARTITION_KEY_COLUMN: usize = 5;
const EVENT_ID_COLUMN: usize = 6;
const EVENT_TYPE_COLUMN: usize = 7;
const EVENT_VERSION_COLUMN: usize = 8;
const CORRELATION_ID_COLUMN: usize = 9;
const CAUSATION_ID_COLUMN: usize = 10;
const TRACEPARENT_COLUMN: usize = 11;
const ENVELOPE_COLUMN: usize = 12;

impl Claimed {
    /// The row's topic.
    pub fn topic(&self) -> &str {
        match &self.message {
            Message::InRow(row) => text_at(row, TOPIC_COLUMN),
            Message::FromLog(log) => &log.topic,
        }
    }

    /// The row's Kafka message key, as bytes: the producer takes bytes, and reading them as text
    /// only to hand them on as bytes cost a UTF-8 check per row.
    pub fn partition_key(&self) -> &[u8] {
        match &self.message {
            Message::InRow(row) => bytes_at(row, PARTITION_KEY_COLUMN)
                .ok()
                .flatten()
                .unwrap_or_default(),
            Message::FromLog(log) => log.partition_key.as_bytes(),
        }
    }

    /// The ordering unit: rows of one key are published in commit order.
    pub fn key(&self) -> (&str, &[u8]) {
        (self.topic(), self.partition_key())
    }

    /// The headers and body to send; `Err` with the reason when the row cannot be sent as it is
    /// (poison): its topic, key, headers or envelope cannot be read, or a log row's envelope does
    /// not carry the row's own eventId, eventType and eventVersion (for a queue row the table's
    /// check constraint makes them agree).
    pub fn message(&self) -> Result<(HeaderValues<'_>, &[u8]), String> {
        match &self.message {
            Message::InRow(row) => {
                let unreadable = |column: usize| {
                    move |error: sqlx::Error| {
                        format!("column {column} of the queue read unreadable: {error}")
                    }
                };
                row.try_get_unchecked::<&str, _>(TOPIC_COLUMN)
                    .map_err(unreadable(TOPIC_COLUMN))?;
                let text = |column: usize| bytes_at(row, column).map_err(unreadable(column));
                let required = |column: usize| {
                    text(column)?
                        .ok_or_else(|| format!("column {column} of the queue read is null"))
                };
                let headers = HeaderValues {
                    event_id: row
                        .try_get_unchecked(EVENT_ID_COLUMN)
                        .map_err(unreadable(EVENT_ID_COLUMN))?,
                    event_type: required(EVENT_TYPE_COLUMN)?,
                    event_version: row
                        .try_get_unchecked(EVENT_VERSION_COLUMN)
                        .map_err(unreadable(EVENT_VERSION_COLUMN))?,
                    correlation_id: text(CORRELATION_ID_COLUMN)?,
                    causation_id: text(CAUSATION_ID_COLUMN)?,
                    traceparent: text(TRACEPARENT_COLUMN)?,
                };
                required(PARTITION_KEY_COLUMN)?;
                let body = required(ENVELOPE_COLUMN)?;
                Ok((headers, body))
            }
            Message::FromLog(log) => {
                if !log.envelope_matches {
                    return Err(format!(
                        "envelope does not carry the row's eventId, eventType and eventVersion ({}, {}, {})",
                        log.event_id, log.event_type, log.event_version
                    ));
                }
                Ok((log.header_values(), log.envelope.as_bytes()))
            }
        }
    }

    /// The event id, for logs; `None` when the row cannot be read.
    pub fn event_id(&self) -> Option<uuid::Uuid> {
        self.message().ok().map(|(headers, _)| headers.event_id)
    }
}

/// A text column of a queue row. The column is `NOT NULL` text, and PostgreSQL sends text only
/// in the client encoding, UTF-8; a value that still cannot be read reads as empty here, and
/// [`Claimed::message`] refuses its row as poison.
fn text_at(row: &PgRow, column: usize) -> &str {
    row.try_get_unchecked::<&str, _>(column).unwrap_or_default()
}

/// A text column's bytes as PostgreSQL sent them (UTF-8, the client encoding), without decoding
/// them into text: the producer copies them into the message as bytes. `None` for NULL.
fn bytes_at(row: &PgRow, column: usize) -> Result<Option<&[u8]>, sqlx::Error> {
    let value = row.try_get_raw(column)?;
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(value.as_bytes().map_err(sqlx::Error::Decode)?))
}

#[cfg(test)]
impl Claimed {
    /// A row as the log path renders it, for tests of what happens after the read.
    pub fn for_test(seq: i64, key: &str, envelope_matches: bool) -> Self {
        Self {
            outbox_seq: seq,
            row_id: RowId::at(0, u16::try_from(seq).unwrap_or_default()),
            attempts: 0,
            occurred_at: Utc::now(),
            message: Message::FromLog(Box::new(LoggedMessage {
                outbox_seq: seq,
                topic: "t".into(),
                partition_key: key.into(),
                event_id: uuid::Uuid::nil(),
                event_type: "t.v1".into(),
                event_version: 1,
                envelope: "{}".into(),
                envelope_matches,
                correlation_id: Some("c".into()),
                causation_id: None,
                traceparent: None,
                occurred_at: Utc::now(),
            })),
        }
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
    /// Whether a key of the claimed buckets was backing off after a failure when the claim
    /// began; if none was, reads need not look for them.
    keys_backing_off: bool,
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
    let keys_backing_off: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM outbox_pending \
                        WHERE attempts > 0 AND next_attempt_at > now() AND ($1::bool[])[key_bucket + 1])",
    )
    .bind(&held)
    .fetch_one(&mut *transaction)
    .await?;
    Ok(Some(Claim {
        transaction,
        buckets,
        held,
        keys_backing_off,
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

/// A pending row as stored, without its message values: rows written before the queue carried
/// messages have no header values and no envelope (ADR 0018).
#[derive(Debug)]
struct PendingRow {
    outbox_seq: i64,
    row_id: RowId,
    attempts: i32,
    occurred_at: Option<DateTime<Utc>>,
    /// Whether the row carries its header values and envelope; they stay in the row.
    has_message: bool,
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
            row_id: row.try_get_unchecked(1)?,
            attempts: row.try_get_unchecked(2)?,
            occurred_at: row.try_get_unchecked(3)?,
            has_message: [
                EVENT_ID_COLUMN,
                EVENT_TYPE_COLUMN,
                EVENT_VERSION_COLUMN,
                ENVELOPE_COLUMN,
            ]
            .into_iter()
            .try_fold(true, |all, column| {
                Ok::<_, sqlx::Error>(all && !row.try_get_raw(column)?.is_null())
            })?,
        })
    }
}

impl PendingRow {
    /// The row as a message, when it carries one; otherwise what is needed to find it in the
    /// log.
    fn into_message(self, row: PgRow) -> Result<Claimed, QueuedOnly> {
        match (self.has_message, self.occurred_at) {
            (true, Some(occurred_at)) => Ok(Claimed {
                outbox_seq: self.outbox_seq,
                row_id: self.row_id,
                attempts: self.attempts,
                occurred_at,
                message: Message::InRow(row),
            }),
            _ => Err(QueuedOnly {
                outbox_seq: self.outbox_seq,
                row_id: self.row_id,
                topic: text_at(&row, TOPIC_COLUMN).to_owned(),
                partition_key: text_at(&row, PARTITION_KEY_COLUMN).to_owned(),
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

/// What the log says about an event whose queue row carries no message, with the queue row's
/// topic and key.
#[derive(Debug, sqlx::FromRow)]
struct LoggedMessage {
    outbox_seq: i64,
    #[sqlx(skip)]
    topic: String,
    #[sqlx(skip)]
    partition_key: String,
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

impl LoggedMessage {
    fn header_values(&self) -> HeaderValues<'_> {
        HeaderValues {
            event_id: self.event_id,
            event_type: self.event_type.as_bytes(),
            event_version: self.event_version,
            correlation_id: self.correlation_id.as_deref().map(str::as_bytes),
            causation_id: self.causation_id.as_deref().map(str::as_bytes),
            traceparent: self.traceparent.as_deref().map(str::as_bytes),
        }
    }
}

/// The queue read: a claim's next pending rows in commit order, each with its message (topic,
/// key, header values, envelope) after the row's own columns, and optionally a filter.
macro_rules! queue_read {
    ($($filter:literal)?) => {
        concat!(
            "SELECT outbox_seq, ctid, attempts, occurred_at, topic, partition_key, event_id, event_type, \
                    event_version, correlation_id, causation_id, traceparent, envelope::text AS envelope \
             FROM outbox_pending \
             WHERE ($1::bool[])[key_bucket + 1] AND outbox_seq > $2 AND next_attempt_at <= now()",
            $($filter,)?
            " ORDER BY outbox_seq LIMIT $3"
        )
    };
}

/// The read while no key of the claim's buckets backs off after a failure.
const READ_ALL_KEYS: &str = queue_read!();

/// The read that leaves out the rows of keys whose earlier row backs off after a failure: they
/// wait behind it. Looking the keys up took about a sixth of the read's time, so claims skip it
/// when none of their keys back off (keys that fail during the claim are held back by the claim
/// itself).
const READ_SKIPPING_BACKING_OFF_KEYS: &str = queue_read!(
    " AND (topic, partition_key) NOT IN ( \
       SELECT topic, partition_key FROM outbox_pending WHERE attempts > 0 AND next_attempt_at > now())"
);

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
        let statement = if self.keys_backing_off {
            READ_SKIPPING_BACKING_OFF_KEYS
        } else {
            READ_ALL_KEYS
        };
        let rows: Vec<PgRow> = sqlx::query(statement)
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
                let mut log = logged.remove(&row.outbox_seq)?;
                log.topic = row.topic;
                log.partition_key = row.partition_key;
                Some(Claimed {
                    outbox_seq: row.outbox_seq,
                    row_id: row.row_id,
                    attempts: row.attempts,
                    occurred_at: log.occurred_at,
                    message: Message::FromLog(Box::new(log)),
                })
            })
            .collect())
    }
}
