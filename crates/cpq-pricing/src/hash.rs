//! The price hash: SHA-256 over a canonical byte encoding of everything a pricing run depends
//! on, so "the price that was approved" can be compared with "the price at acceptance" without
//! comparing documents.
//!
//! # Canonical encoding, version 1
//!
//! ```text
//! input      = "cpq-pricing/price-hash/v1\n"
//!              str(price_book_id) i32(price_book_version) str(currency) str(rounding_mode)
//!              u64(#lines) line*            -- sorted by line_id (bytewise)
//!              u64(#term_rules) term_rule*  -- sorted by min_term_months, then rule_id
//!              u64(#quote_discounts) discount* -- request order (order changes the result)
//! line       = str(line_id) str(offering_id) i32(offering_version) u64(quantity)
//!              opt(u32(term_months)) str(configuration_hash)
//!              u64(#discounts) discount*    -- request order
//!              u64(#overrides) override*    -- sorted by charge kind
//! discount   = str(rule_id) str(reason) u8(1 = percent | 2 = amount) dec(value)
//!              opt(str(applies_to))
//! override   = str(charge) dec(original_price) dec(new_price) str(actor) str(reason)
//! term_rule  = str(rule_id) u32(min_term_months) dec(percent)
//! str        = u64(byte length) UTF-8 bytes
//! opt(x)     = 0x00 | 0x01 x
//! dec        = the value with trailing zeros removed (and -0 as 0):
//!              i128(mantissa) u32(scale)
//! integers   = fixed width, big-endian; i32 as two's complement
//! ```
//!
//! Lines are sorted, so the order of lines in a request does not change the hash (nor the
//! trace: the engine prices in the same order). Decimals are hashed by value, so `10.0` and
//! `10.00` are the same price. Every field is length-prefixed or fixed-width, so no two inputs
//! share an encoding. The price book's charges are not hashed: a price-book version is immutable
//! and named by id + version.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::ROUNDING_MODE;
use crate::model::{Discount, DiscountValue, LineInput, PricingRequest};

/// Domain tag and encoding version; bump it whenever the encoding or the engine's arithmetic
/// changes meaning.
pub const PRICE_HASH_DOMAIN: &str = "cpq-pricing/price-hash/v1\n";

/// The price hash of a request (lowercase hex SHA-256), as [`crate::price`] reports it.
pub fn price_hash(request: &PricingRequest) -> String {
    let mut lines: Vec<&LineInput> = request.lines.iter().collect();
    lines.sort_by(|a, b| a.line_id.cmp(&b.line_id));
    let mut hasher = PriceHasher::new(request);
    for line in lines {
        hasher.line(line);
    }
    hasher.finish(request)
}

/// The price hash computed incrementally: the header, then each line in line-id order (the
/// engine feeds lines while it prices them, when they are in cache), then the request-level
/// tail.
pub(crate) struct PriceHasher {
    enc: Encoder,
}

impl PriceHasher {
    /// Starts the encoding: domain tag, price book, currency, rounding rule, line count.
    pub(crate) fn new(request: &PricingRequest) -> Self {
        let mut enc = Encoder::new();
        enc.raw(PRICE_HASH_DOMAIN.as_bytes());
        enc.str(&request.price_book_id);
        enc.i32(request.price_book_version);
        enc.str(request.currency.code());
        enc.str(rounding_mode_name());
        enc.len(request.lines.len());
        Self { enc }
    }

    /// Adds one line; lines must come in line-id order.
    pub(crate) fn line(&mut self, line: &LineInput) {
        let enc = &mut self.enc;
        enc.str(&line.line_id);
        enc.str(&line.offering_id);
        enc.i32(line.offering_version);
        enc.u64(line.quantity);
        match line.term_months {
            None => enc.u8(0),
            Some(months) => {
                enc.u8(1);
                enc.u32(months);
            }
        }
        enc.str(&line.configuration_hash);
        enc.len(line.discounts.len());
        for discount in &line.discounts {
            enc.discount(discount);
        }
        enc.len(line.overrides.len());
        let mut overrides: Vec<_> = line.overrides.iter().collect();
        overrides.sort_by_key(|o| o.charge);
        for o in overrides {
            enc.str(o.charge.as_str());
            enc.dec(o.original_price);
            enc.dec(o.new_price);
            enc.str(&o.actor);
            enc.str(&o.reason);
        }
    }

    /// Adds the term policy and the quote discounts and returns the hex digest.
    pub(crate) fn finish(mut self, request: &PricingRequest) -> String {
        let enc = &mut self.enc;
        let mut rules: Vec<_> = request.term_discounts.iter().collect();
        rules.sort_by(|a, b| {
            a.min_term_months
                .cmp(&b.min_term_months)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        enc.len(rules.len());
        for rule in rules {
            enc.str(&rule.rule_id);
            enc.u32(rule.min_term_months);
            enc.dec(rule.percent);
        }
        enc.len(request.quote_discounts.len());
        for discount in &request.quote_discounts {
            enc.discount(discount);
        }
        self.enc.finish()
    }
}

fn rounding_mode_name() -> &'static str {
    match ROUNDING_MODE {
        domain_kernel::money::RoundingMode::HalfUp => "HALF_UP",
        domain_kernel::money::RoundingMode::HalfEven => "HALF_EVEN",
        domain_kernel::money::RoundingMode::Down => "DOWN",
    }
}

/// Writes the canonical encoding into a SHA-256 hasher through a buffer, so a 10,000-line
/// request is hashed without building one large string and without one hasher call per field.
struct Encoder {
    hasher: Sha256,
    buffer: Vec<u8>,
}

const FLUSH_AT: usize = 64 * 1024;

impl Encoder {
    fn new() -> Self {
        Self {
            hasher: Sha256::new(),
            buffer: Vec::with_capacity(FLUSH_AT + 256),
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= FLUSH_AT {
            self.hasher.update(&self.buffer);
            self.buffer.clear();
        }
    }

    fn u8(&mut self, value: u8) {
        self.raw(&[value]);
    }

    fn u32(&mut self, value: u32) {
        self.raw(&value.to_be_bytes());
    }

    fn i32(&mut self, value: i32) {
        self.raw(&value.to_be_bytes());
    }

    fn u64(&mut self, value: u64) {
        self.raw(&value.to_be_bytes());
    }

    fn len(&mut self, len: usize) {
        self.u64(len as u64);
    }

    fn str(&mut self, value: &str) {
        self.len(value.len());
        self.raw(value.as_bytes());
    }

    fn dec(&mut self, value: Decimal) {
        let normal = value.normalize();
        self.raw(&normal.mantissa().to_be_bytes());
        self.u32(normal.scale());
    }

    fn discount(&mut self, discount: &Discount) {
        self.str(&discount.rule_id);
        self.str(&discount.reason);
        match discount.value {
            DiscountValue::Percent(p) => {
                self.u8(1);
                self.dec(p);
            }
            DiscountValue::Amount(a) => {
                self.u8(2);
                self.dec(a);
            }
        }
        match discount.applies_to {
            None => self.u8(0),
            Some(kind) => {
                self.u8(1);
                self.str(kind.as_str());
            }
        }
    }

    fn finish(mut self) -> String {
        self.hasher.update(&self.buffer);
        hex::encode(self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChargeKind, ManualOverride, TermDiscountRule};
    use domain_kernel::money::Currency;

    fn request() -> PricingRequest {
        let line = |id: &str| LineInput {
            line_id: id.into(),
            offering_id: "off".into(),
            offering_version: 1,
            quantity: 2,
            term_months: Some(12),
            configuration_hash: "cfg".into(),
            discounts: vec![],
            overrides: vec![],
        };
        PricingRequest {
            price_book_id: "pb".into(),
            price_book_version: 3,
            currency: Currency::parse("USD").unwrap(),
            lines: vec![line("b"), line("a")],
            term_discounts: vec![],
            quote_discounts: vec![],
        }
    }

    #[test]
    fn the_empty_request_has_a_pinned_hash() {
        // Pins the encoding: changing it must be deliberate (and bump the domain tag).
        let mut r = request();
        r.lines.clear();
        let mut expected = Vec::new();
        let str = |s: &str, out: &mut Vec<u8>| {
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        expected.extend_from_slice(PRICE_HASH_DOMAIN.as_bytes());
        str("pb", &mut expected);
        expected.extend_from_slice(&3i32.to_be_bytes());
        str("USD", &mut expected);
        str("HALF_UP", &mut expected);
        for _ in 0..3 {
            expected.extend_from_slice(&0u64.to_be_bytes());
        }
        assert_eq!(price_hash(&r), hex::encode(Sha256::digest(&expected)));
    }

    #[test]
    fn line_order_does_not_matter_but_content_does() {
        let r = request();
        let mut reversed = r.clone();
        reversed.lines.reverse();
        assert_eq!(price_hash(&r), price_hash(&reversed));
        let mut more = r.clone();
        more.lines[0].quantity = 3;
        assert_ne!(price_hash(&r), price_hash(&more));
        let mut config = r.clone();
        config.lines[1].configuration_hash = "other".into();
        assert_ne!(price_hash(&r), price_hash(&config));
    }

    #[test]
    fn decimals_hash_by_value_and_fields_do_not_run_together() {
        let with = |percent: &str, rule: &str, reason: &str| {
            let mut r = request();
            r.quote_discounts.push(Discount {
                rule_id: rule.into(),
                reason: reason.into(),
                value: DiscountValue::Percent(percent.parse().unwrap()),
                applies_to: None,
            });
            price_hash(&r)
        };
        assert_eq!(with("10", "r", "x"), with("10.00", "r", "x"));
        assert_ne!(with("10", "r", "x"), with("1", "r", "x"));
        assert_ne!(with("10", "rx", ""), with("10", "r", "x"));
    }

    #[test]
    fn term_policy_and_override_order_do_not_matter() {
        let rule = |id: &str, m| TermDiscountRule {
            rule_id: id.into(),
            min_term_months: m,
            percent: Decimal::ONE,
        };
        let ov = |charge| ManualOverride {
            charge,
            original_price: Decimal::TEN,
            new_price: Decimal::ONE,
            actor: "a".into(),
            reason: "r".into(),
        };
        let mut a = request();
        a.term_discounts = vec![rule("t12", 12), rule("t24", 24)];
        a.lines[0].overrides = vec![
            ov(ChargeKind::OneTime),
            ov(ChargeKind::Recurring(crate::model::Period::Month)),
        ];
        let mut b = a.clone();
        b.term_discounts.reverse();
        b.lines[0].overrides.reverse();
        assert_eq!(price_hash(&a), price_hash(&b));
    }
}
