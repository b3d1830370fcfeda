//! FEEL adapter behaviour on Zeebe-style expressions.

use serde_json::{Map, Value, json};
use workflow_model::feel::{Expression, FeelError, StaticOrExpression};

fn vars(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("test variables must be an object"),
    }
}

fn eval(expr: &str, v: Value) -> Value {
    Expression::parse(expr)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .evaluate(&v)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

#[test]
fn arithmetic() {
    let v = json!({"x": 2, "price": 19.99, "qty": 3});
    assert_eq!(eval("x + 3 * 2", v.clone()), json!(8));
    assert_eq!(eval("x - 1", v.clone()), json!(1));
    assert_eq!(eval("x-1", v.clone()), json!(1));
    assert_eq!(eval("price * qty", v.clone()), json!(59.97));
    assert_eq!(eval("10 / 4", v.clone()), json!(2.5));
    assert_eq!(eval("decimal(1 / 3, 2)", v.clone()), json!(0.33));
    assert_eq!(eval("0.1 + 0.2", v), json!(0.3));
}

#[test]
fn comparison_and_logic() {
    let v = json!({"x": 2, "name": "ann", "flag": true});
    assert_eq!(eval("x > 1", v.clone()), json!(true));
    assert_eq!(eval("x >= 3", v.clone()), json!(false));
    assert_eq!(eval("x = 2 and name = \"ann\"", v.clone()), json!(true));
    assert_eq!(eval("x != 2 or flag", v.clone()), json!(true));
    assert_eq!(eval("not(flag)", v.clone()), json!(false));
    assert_eq!(eval("x in [1..3]", v.clone()), json!(true));
    assert_eq!(eval("x between 1 and 3", v.clone()), json!(true));
    assert_eq!(
        eval("if x > 1 then \"big\" else \"small\"", v),
        json!("big")
    );
}

#[test]
fn string_functions() {
    let v = json!({"firstName": "ann", "lastName": "Lee"});
    assert_eq!(eval("upper case(firstName)", v.clone()), json!("ANN"));
    assert_eq!(
        eval("firstName + \" \" + lastName", v.clone()),
        json!("ann Lee")
    );
    assert_eq!(eval("string length(lastName)", v.clone()), json!(3));
    assert_eq!(eval("substring(\"foobar\", 3)", v.clone()), json!("obar"));
    assert_eq!(eval("contains(lastName, \"e\")", v.clone()), json!(true));
    assert_eq!(
        eval("starts with(firstName, \"a\")", v.clone()),
        json!(true)
    );
    assert_eq!(eval("string(12)", v), json!("12"));
}

#[test]
fn contexts_and_paths() {
    let v = json!({"order": {"total": 150, "customer": {"tier": "gold"}, "lines": [{"sku": "A"}, {"sku": "B"}]}});
    assert_eq!(eval("order.total > 100", v.clone()), json!(true));
    assert_eq!(eval("order.customer.tier", v.clone()), json!("gold"));
    assert_eq!(eval("order.lines[1].sku", v.clone()), json!("A"));
    assert_eq!(eval("order.lines.sku", v.clone()), json!(["A", "B"]));
    assert_eq!(
        eval("{a: order.total, b: [true, null]}", v.clone()),
        json!({"a": 150, "b": [true, null]})
    );
    assert_eq!(eval("get value(order, \"total\")", v), json!(150));
}

#[test]
fn lists() {
    let v = json!({"items": [3, 1, 2]});
    assert_eq!(eval("count(items)", v.clone()), json!(3));
    assert_eq!(eval("sum(items)", v.clone()), json!(6));
    assert_eq!(eval("items[item > 1]", v.clone()), json!([3, 2]));
    assert_eq!(
        eval("for i in items return i * 2", v.clone()),
        json!([6, 2, 4])
    );
    assert_eq!(
        eval("some i in items satisfies i > 2", v.clone()),
        json!(true)
    );
    assert_eq!(eval("list contains(items, 2)", v.clone()), json!(true));
    assert_eq!(
        eval("sort(items, function(a, b) a < b)", v),
        json!([1, 2, 3])
    );
}

#[test]
fn null_handling() {
    let v = json!({"x": null});
    assert_eq!(eval("missing", v.clone()), json!(null));
    assert_eq!(eval("missing > 1", v.clone()), json!(null));
    assert_eq!(eval("x = null", v.clone()), json!(true));
    assert_eq!(eval("missing = null", v.clone()), json!(true));
    assert_eq!(eval("x.y.z", v.clone()), json!(null));
    assert_eq!(eval("if x = null then \"none\" else x", v), json!("none"));
}

#[test]
fn temporal_literals_become_iso_strings() {
    let v = json!({});
    assert_eq!(
        eval("date(\"2024-01-02\") + duration(\"P1D\")", v.clone()),
        json!("2024-01-03")
    );
    assert_eq!(
        eval(
            "date and time(\"2024-01-02T10:00:00Z\") + duration(\"PT90M\")",
            v.clone()
        ),
        json!("2024-01-02T11:30:00Z")
    );
    assert_eq!(
        eval("@\"2024-01-02T10:00:00Z\"", v.clone()),
        json!("2024-01-02T10:00:00Z")
    );
    assert_eq!(eval("duration(\"PT10S\")", v.clone()), json!("PT10S"));
    assert_eq!(eval("duration(\"P1Y2M\")", v.clone()), json!("P1Y2M"));
    assert_eq!(
        eval("date(\"2024-03-01\") > date(\"2024-02-29\")", v.clone()),
        json!(true)
    );
    assert_eq!(
        eval(
            "date(due) - date(\"2024-01-01\")",
            json!({"due": "2024-01-11"})
        ),
        json!("P10D")
    );
    assert_eq!(
        eval(
            "years and months duration(date(\"2024-01-01\"), date(\"2025-03-01\"))",
            v
        ),
        json!("P1Y2M")
    );
}

#[test]
fn parse_errors_are_reported_at_compile_time() {
    for bad in ["1 +", "", "   ", "(x", "a ? b"] {
        match Expression::parse(bad) {
            Err(FeelError::Parse { .. }) => {}
            other => panic!("{bad:?} should not parse: {other:?}"),
        }
    }
}

#[test]
fn conditions_accept_only_booleans() {
    let v = vars(json!({"order": {"total": 150}}));
    let cond = |s: &str| Expression::parse(s).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        cond("order.total > 100")
            .evaluate_condition(&v)
            .unwrap_or(false)
    );
    assert_eq!(cond("order.total < 100").evaluate_condition(&v), Ok(false));
    let err = cond("order.total").evaluate_condition(&v).err();
    assert_eq!(
        err.map(|e| e.to_string()),
        Some(
            "Expected result of the expression 'order.total' to be 'BOOLEAN', but was 'NUMBER'."
                .to_owned()
        )
    );
    match cond("missing > 1").evaluate_condition(&v) {
        Err(FeelError::UnexpectedType {
            expected: "BOOLEAN",
            found: "NULL",
            detail,
            ..
        }) => {
            assert!(detail.contains("warnings"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn static_values_and_expressions() {
    let v = vars(json!({"kind": "credit"}));
    let st = StaticOrExpression::parse("payment-service").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(st, StaticOrExpression::Static("payment-service".to_owned()));
    let ex = StaticOrExpression::parse("=\"payment-\" + kind").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ex.evaluate_string(&v), Ok("payment-credit".to_owned()));
    assert!(matches!(
        StaticOrExpression::parse("=1 +"),
        Err(FeelError::Parse { .. })
    ));
    let num = StaticOrExpression::parse("=3").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        num.evaluate_string(&v),
        Err(FeelError::UnexpectedType {
            expected: "STRING",
            found: "NUMBER",
            ..
        })
    ));
}

#[test]
fn variables_must_be_an_object() {
    let e = Expression::parse("1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        e.evaluate(&json!([1])),
        Err(FeelError::VariablesNotAnObject { found: "an array" })
    );
    assert_eq!(e.evaluate(&json!(null)), Ok(json!(1)));
}

#[test]
fn functions_cannot_be_variables() {
    let e = Expression::parse("function(a) a + 1").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        e.evaluate(&json!({})),
        Err(FeelError::UnsupportedResult { .. })
    ));
}

#[test]
fn now_is_an_instant_with_an_offset() {
    let before = chrono::Utc::now();
    let due = eval("now() + duration(\"PT4H\")", json!({}));
    let text = due.as_str().expect("a date-time string");
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text} is not RFC 3339 with an offset: {e}"));
    let ahead = parsed.with_timezone(&chrono::Utc) - before;
    assert!(
        ahead >= chrono::Duration::hours(4) - chrono::Duration::seconds(1)
            && ahead <= chrono::Duration::hours(4) + chrono::Duration::seconds(60),
        "{text} is about four hours from now"
    );
    // A date-time that names its offset keeps it.
    assert_eq!(
        eval("date and time(\"2026-01-02T10:00:00+02:00\")", json!({})),
        json!("2026-01-02T10:00:00+02:00")
    );
}
