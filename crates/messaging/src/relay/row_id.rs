//! A queue row's physical address (`ctid`), so the recorder deletes acknowledged rows without
//! looking each one up in the primary key again.
//!
//! The address read in a claim stays the row's for the whole claim: only the claim's own
//! recorder changes or deletes rows of the claimed buckets, and the claim's transaction holds
//! back vacuum, so no other row can take a dead row's place before the claim commits. A row that
//! something else did change (an operator's retry) simply is not deleted and is sent again later
//! with the same event id, which the at-least-once contract already covers.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// PostgreSQL's `tid`: block number and line pointer within the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RowId {
    block: u32,
    offset: u16,
}

#[cfg(test)]
impl RowId {
    /// A made-up address for rows that never were in a table.
    pub(super) const fn at(block: u32, offset: u16) -> Self {
        Self { block, offset }
    }
}

/// `tid` and `tid[]` in `pg_type`; stable since PostgreSQL's first catalogue.
const TID: Oid = Oid(27);
const TID_ARRAY: Oid = Oid(1010);

impl Type<Postgres> for RowId {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(TID)
    }
}

impl PgHasArrayType for RowId {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(TID_ARRAY)
    }
}

impl Encode<'_, Postgres> for RowId {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend_from_slice(&self.block.to_be_bytes());
        buf.extend_from_slice(&self.offset.to_be_bytes());
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for RowId {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes = value.as_bytes()?;
                let (Some(block), Some(offset)) = (bytes.get(0..4), bytes.get(4..6)) else {
                    return Err(format!("a tid is 6 bytes, not {}", bytes.len()).into());
                };
                Ok(Self {
                    block: u32::from_be_bytes(block.try_into()?),
                    offset: u16::from_be_bytes(offset.try_into()?),
                })
            }
            PgValueFormat::Text => parse(value.as_str()?),
        }
    }
}

/// Parses the text form `(block,offset)`.
fn parse(text: &str) -> Result<RowId, BoxDynError> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("not a tid: {text:?}"))?;
    let (block, offset) = inner
        .split_once(',')
        .ok_or_else(|| format!("not a tid: {text:?}"))?;
    Ok(RowId {
        block: block.trim().parse()?,
        offset: offset.trim().parse()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_is_block_and_line_pointer() {
        assert_eq!(
            parse("(4294967295,7)").ok(),
            Some(RowId {
                block: u32::MAX,
                offset: 7
            })
        );
        assert!(parse("(1;2)").is_err());
        assert!(parse("1,2").is_err());
        assert!(parse("(1,70000)").is_err());
    }
}
