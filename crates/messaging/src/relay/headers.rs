//! The Kafka headers of a claimed row, borrowed from wherever the row keeps its values, and handed
//! to the producer.

use rdkafka::message::{Header, OwnedHeaders};

/// A row's header values: the event's identity, and the request context it was caused in. Text
/// values are the UTF-8 bytes as stored; headers are bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeaderValues<'r> {
    pub event_id: uuid::Uuid,
    pub event_type: &'r [u8],
    pub event_version: i32,
    pub correlation_id: Option<&'r [u8]>,
    pub causation_id: Option<&'r [u8]>,
    pub traceparent: Option<&'r [u8]>,
}

impl HeaderValues<'_> {
    /// The message's headers: the three identity headers always, the others where present.
    pub fn to_kafka(self) -> OwnedHeaders {
        let mut event_id = uuid::Uuid::encode_buffer();
        let event_id: &str = self.event_id.hyphenated().encode_lower(&mut event_id);
        let event_version = self.event_version.to_string();
        let mut headers = OwnedHeaders::new_with_capacity(6);
        for (key, value) in [
            ("eventId", Some(event_id.as_bytes())),
            ("eventType", Some(self.event_type)),
            ("eventVersion", Some(event_version.as_bytes())),
            ("correlationId", self.correlation_id),
            ("causationId", self.causation_id),
            ("traceparent", self.traceparent),
        ] {
            if let Some(value) = value {
                headers = headers.insert(Header {
                    key,
                    value: Some(value),
                });
            }
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::message::Headers;

    use super::*;

    #[test]
    fn absent_values_send_no_header() {
        let values = HeaderValues {
            event_id: uuid::Uuid::nil(),
            event_type: b"a.b.v1",
            event_version: 2,
            correlation_id: Some("kü-1".as_bytes()),
            causation_id: None,
            traceparent: None,
        };
        let headers = values.to_kafka();
        let sent: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|h| (h.key, h.value.unwrap_or_default()))
            .collect();
        assert_eq!(
            sent,
            [
                ("eventId", &b"00000000-0000-0000-0000-000000000000"[..]),
                ("eventType", b"a.b.v1"),
                ("eventVersion", b"2"),
                ("correlationId", "kü-1".as_bytes())
            ]
        );
    }
}
