//! Timers, variable mappings and JSON ↔ FEEL round trips.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use workflow_model::feel::{StaticOrExpression, feel_to_json, json_to_feel};
use workflow_model::mapping::{
    TargetPath, VariableMapping, apply_input_mappings, completion_variables,
};
use workflow_model::timer::{IsoDuration, TimerError, TimerSchedule, parse_date_time};

fn base() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 31, 12, 0, 0)
        .single()
        .unwrap_or_else(|| panic!())
}

fn due(text: &str) -> String {
    let d: IsoDuration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    d.after(base())
        .unwrap_or_else(|e| panic!("{e}"))
        .to_rfc3339()
}

#[test]
fn durations_add_calendar_then_exact_parts() {
    assert_eq!(due("PT10S"), "2024-01-31T12:00:10+00:00");
    assert_eq!(due("P1D"), "2024-02-01T12:00:00+00:00");
    assert_eq!(due("P1M"), "2024-02-29T12:00:00+00:00");
    assert_eq!(due("P1Y1M"), "2025-02-28T12:00:00+00:00");
    assert_eq!(due("P2W"), "2024-02-14T12:00:00+00:00");
    assert_eq!(due("P1DT2H30M"), "2024-02-01T14:30:00+00:00");
    assert_eq!(due("PT0.25S"), "2024-01-31T12:00:00.250+00:00");
}

#[test]
fn bad_durations_are_refused() {
    for bad in [
        "", "P", "PT", "10S", "P1H", "PT1D", "P1.5D", "-PT1S", "P1DT", "PTS", "R/PT1H",
    ] {
        assert!(
            matches!(
                bad.parse::<IsoDuration>(),
                Err(TimerError::InvalidDuration { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn dates_need_an_offset() {
    let d = parse_date_time("2030-01-31T17:00:00+01:00").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        TimerSchedule::Date(d)
            .due_at(base())
            .map(|t| t.to_rfc3339()),
        Ok("2030-01-31T16:00:00+00:00".to_owned())
    );
    assert!(parse_date_time("2030-01-31T17:00:00+01:00[Europe/Paris]").is_ok());
    assert!(parse_date_time("2030-01-31T17:00:00").is_err());
    assert!(parse_date_time("tomorrow").is_err());
}

fn mapping(source: &str, target: &str) -> VariableMapping {
    VariableMapping {
        source: Some(StaticOrExpression::parse(source).unwrap_or_else(|e| panic!("{e}"))),
        target: TargetPath::parse(target).unwrap_or_else(|e| panic!("{e}")),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object()
        .cloned()
        .unwrap_or_else(|| panic!("not an object"))
}

#[test]
fn input_mappings_see_earlier_targets_and_build_nested_locals() {
    let visible = obj(json!({"x": 1, "customer": {"name": "Ann", "tier": "gold"}}));
    let locals = apply_input_mappings(
        &[
            mapping("=x", "a"),
            mapping("=a + 1", "b"),
            mapping("=\"vip\"", "customer.tier"),
            mapping("static", "c.d.e"),
        ],
        &visible,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Value::Object(locals),
        json!({"a": 1, "b": 2, "customer": {"tier": "vip"}, "c": {"d": {"e": "static"}}})
    );
}

#[test]
fn output_mappings_write_only_targets_and_merge_nested() {
    let visible = obj(json!({"order": {"id": 7, "state": "new"}, "kept": true}));
    let job = obj(json!({"status": "ok", "reservationId": "r-1", "noise": 1}));
    let out = completion_variables(
        &[
            mapping("=reservationId", "order.reservationId"),
            mapping("=status = \"ok\"", "reserved"),
        ],
        &visible,
        &job,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        Value::Object(out),
        json!({"order": {"id": 7, "state": "new", "reservationId": "r-1"}, "reserved": true})
    );
    let merged = completion_variables(&[], &visible, &job).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(merged, job);
}

#[test]
fn mapping_targets_are_validated() {
    assert!(TargetPath::parse("a..b").is_err());
    assert!(TargetPath::parse("").is_err());
    assert_eq!(
        TargetPath::parse("a.b").map(|t| t.root().to_owned()),
        Ok("a".to_owned())
    );
}

#[test]
fn mapping_errors_name_the_target() {
    let err = apply_input_mappings(&[mapping("=f(1)", "y")], &Map::new());
    // an unknown function evaluates to null in FEEL; only unrepresentable results fail
    assert_eq!(err.map(Value::Object), Ok(json!({"y": null})));
    let err = apply_input_mappings(&[mapping("=function(a) a", "fn")], &Map::new()).err();
    assert!(err.is_some_and(|e| e.to_string().contains("'fn'")));
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12)
            .prop_filter("no -0", |f| *f != 0.0)
            .prop_map(Value::from),
        "[a-zA-Z0-9 äß€\"\\\\]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-zA-Z0-9_]{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn json_feel_round_trip(value in json_value()) {
        let feel = json_to_feel(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(feel_to_json(&feel).map_err(|e| TestCaseError::fail(e.to_string()))?, value);
    }

    #[test]
    fn variables_are_visible_unchanged(value in json_value()) {
        let e = workflow_model::feel::Expression::parse("v").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let vars = json!({"v": value.clone()});
        prop_assert_eq!(e.evaluate(&vars).map_err(|e| TestCaseError::fail(e.to_string()))?, value);
    }

    #[test]
    fn durations_display_and_reparse(d in 0u32..400, h in 0u32..48, m in 0u32..120, s in 0u32..100) {
        let text = format!("P{d}DT{h}H{m}M{s}S");
        let parsed: IsoDuration = text.parse().map_err(|e: TimerError| TestCaseError::fail(e.to_string()))?;
        let again: IsoDuration = parsed.to_string().parse().map_err(|e: TimerError| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, again);
    }
}
