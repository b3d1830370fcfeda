//! The written form of amounts. Decimal arithmetic carries a scale that depends on the path
//! taken (`1300.00 × 97.5 / 100` is `1267.5000`); the engine writes every amount it records in
//! one form that depends only on the value, so equal prices always serialise — and hash —
//! identically.

use rust_decimal::Decimal;

/// Trailing zeros dropped, but never fewer decimals than the currency has (`1267.500` →
/// `1267.50`, `12.18750` → `12.1875`, `1350` → `1350.00`).
pub(crate) fn canonical(amount: Decimal, scale: u32) -> Decimal {
    let mut normal = amount.normalize();
    if normal.scale() < scale {
        normal.rescale(scale);
    }
    normal
}

/// `amount` at exactly `scale` decimals, or `None` when that would lose digits (a price or an
/// amount that does not fit the currency's minor units).
pub(crate) fn to_scale(amount: Decimal, scale: u32) -> Option<Decimal> {
    let normal = amount.normalize();
    if normal.scale() > scale {
        return None;
    }
    let mut scaled = normal;
    scaled.rescale(scale);
    Some(scaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn canonical_keeps_the_currency_scale_and_drops_the_rest() {
        for (input, expected) in [
            ("1267.500", "1267.50"),
            ("12.18750", "12.1875"),
            ("1350", "1350.00"),
            ("-0.000", "0.00"),
        ] {
            assert_eq!(canonical(dec(input), 2).to_string(), expected, "{input}");
        }
        assert_eq!(canonical(dec("501.0"), 0).to_string(), "501");
    }

    #[test]
    fn to_scale_refuses_lost_digits() {
        assert_eq!(
            to_scale(dec("10.5"), 2).map(|d| d.to_string()),
            Some("10.50".into())
        );
        assert_eq!(
            to_scale(dec("10.500"), 2).map(|d| d.to_string()),
            Some("10.50".into())
        );
        assert_eq!(to_scale(dec("10.505"), 2), None);
    }
}
