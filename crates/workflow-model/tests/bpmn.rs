//! Fixture files parse into the expected model; unsupported content is refused precisely.

use workflow_model::bpmn::{
    BoundaryTrigger, DeployError, NodeKind, ProblemCode, ProcessDefinition, TimerDefinition,
    parse_bpmn,
};
use workflow_model::feel::StaticOrExpression;
use workflow_model::timer::TimerSchedule;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn single(name: &str) -> ProcessDefinition {
    let mut processes = parse_bpmn(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(processes.len(), 1);
    processes.remove(0)
}

fn ids(list: &[workflow_model::bpmn::ElementId]) -> Vec<&str> {
    list.iter().map(|i| i.as_str()).collect()
}

#[test]
fn service_task_sequence() {
    let p = single("service-sequence.bpmn");
    assert_eq!(p.bpmn_process_id(), "order-fulfilment");
    assert_eq!(p.name(), Some("Order fulfilment"));
    assert_eq!(p.start_event().as_str(), "StartEvent_1");
    assert_eq!(ids(p.outgoing("StartEvent_1")), ["Flow_1"]);
    assert_eq!(ids(p.incoming("EndEvent_1")), ["Flow_3"]);
    let reserve = p.node("Task_Reserve").unwrap_or_else(|| panic!("missing"));
    assert_eq!(reserve.line, 7);
    let NodeKind::ServiceTask(task) = &reserve.kind else {
        panic!("{reserve:?}")
    };
    assert_eq!(
        task.job_type,
        StaticOrExpression::Static("reserve-stock".to_owned())
    );
    assert_eq!(task.retries, StaticOrExpression::Static("5".to_owned()));
    assert_eq!(
        task.headers,
        [
            ("warehouse".to_owned(), "north".to_owned()),
            ("priority".to_owned(), "high".to_owned())
        ]
    );
    assert_eq!(reserve.inputs.len(), 1);
    assert_eq!(reserve.outputs[0].target.to_string(), "order.reservationId");
    let ship = p.node("Task_Ship").unwrap_or_else(|| panic!("missing"));
    let NodeKind::ServiceTask(task) = &ship.kind else {
        panic!()
    };
    let vars = serde_json::json!({"order": {"carrier": "dhl"}});
    let vars = vars.as_object().unwrap_or_else(|| panic!());
    assert_eq!(
        task.job_type.evaluate_string(vars),
        Ok("ship-dhl".to_owned())
    );
    assert_eq!(task.retries, StaticOrExpression::Static("3".to_owned()));
    assert_eq!(
        p.flow("Flow_2")
            .map(|f| (f.source.as_str(), f.target.as_str())),
        Some(("Task_Reserve", "Task_Ship"))
    );
}

#[test]
fn exclusive_gateway_with_conditions_and_default() {
    let p = single("exclusive-gateway.bpmn");
    let gw = p.node("Gateway_Amount").unwrap_or_else(|| panic!());
    let NodeKind::ExclusiveGateway { default_flow } = &gw.kind else {
        panic!()
    };
    assert_eq!(default_flow.as_ref().map(|f| f.as_str()), Some("Flow_Auto"));
    assert_eq!(
        ids(p.outgoing("Gateway_Amount")),
        ["Flow_Big", "Flow_Medium", "Flow_Auto"]
    );
    let vars = serde_json::json!({"quote": {"total": 5000, "discount": 0.1}});
    let vars = vars.as_object().unwrap_or_else(|| panic!());
    let eval = |flow: &str| {
        p.flow(flow)
            .and_then(|f| f.condition.as_ref())
            .map(|c| c.evaluate_condition(vars))
    };
    assert_eq!(eval("Flow_Big"), Some(Ok(false)));
    assert_eq!(eval("Flow_Medium"), Some(Ok(true)));
    assert_eq!(eval("Flow_Auto"), None);
    assert_eq!(
        ids(p.incoming("Gateway_Join")),
        ["Flow_J1", "Flow_J2", "Flow_J3"]
    );
}

#[test]
fn parallel_fork_join() {
    let p = single("parallel.bpmn");
    assert!(matches!(
        p.node("Fork").map(|n| &n.kind),
        Some(NodeKind::ParallelGateway)
    ));
    assert_eq!(ids(p.outgoing("Fork")), ["F2", "F3"]);
    assert_eq!(ids(p.incoming("Join")), ["F4", "F5"]);
    assert_eq!(p.nodes().count(), 6);
}

#[test]
fn error_boundary_and_error_end() {
    let p = single("error-boundary.bpmn");
    assert_eq!(
        ids(p.boundary_events("Task_Charge")),
        ["Boundary_Declined", "Boundary_Any"]
    );
    let kind = |id: &str| p.node(id).map(|n| n.kind.clone());
    let Some(NodeKind::BoundaryEvent(b)) = kind("Boundary_Declined") else {
        panic!()
    };
    assert!(b.cancel_activity);
    assert_eq!(
        b.trigger,
        BoundaryTrigger::Error {
            error_code: Some("CARD_DECLINED".to_owned())
        }
    );
    let Some(NodeKind::BoundaryEvent(b)) = kind("Boundary_Any") else {
        panic!()
    };
    assert_eq!(b.trigger, BoundaryTrigger::Error { error_code: None });
    assert_eq!(
        kind("End_Declined"),
        Some(NodeKind::ErrorEndEvent {
            error_code: "PAYMENT_FAILED".to_owned()
        })
    );
    assert_eq!(p.errors().len(), 2);
}

#[test]
fn timer_boundary_on_user_task() {
    let p = single("user-task-timer.bpmn");
    let review = p.node("Task_Review").unwrap_or_else(|| panic!());
    let NodeKind::UserTask(task) = &review.kind else {
        panic!()
    };
    assert!(
        matches!(&task.assignee, Some(StaticOrExpression::Expression(e)) if e.source() == "quote.owner")
    );
    assert_eq!(
        task.candidate_groups,
        Some(StaticOrExpression::Static("sales, finance".to_owned()))
    );
    assert_eq!(task.form_id.as_deref(), Some("review-form"));
    assert!(matches!(
        task.follow_up_date,
        Some(StaticOrExpression::Expression(_))
    ));
    assert_eq!(review.inputs.len(), 1);
    let Some(NodeKind::BoundaryEvent(reminder)) =
        p.node("Boundary_Reminder").map(|n| n.kind.clone())
    else {
        panic!()
    };
    assert!(!reminder.cancel_activity);
    let BoundaryTrigger::Timer(TimerDefinition::Static(TimerSchedule::Duration(d))) =
        reminder.trigger
    else {
        panic!()
    };
    assert_eq!(d.to_string(), "P1D");
    let Some(NodeKind::BoundaryEvent(deadline)) =
        p.node("Boundary_Deadline").map(|n| n.kind.clone())
    else {
        panic!()
    };
    assert!(deadline.cancel_activity);
    assert!(matches!(
        deadline.trigger,
        BoundaryTrigger::Timer(TimerDefinition::Static(TimerSchedule::Date(_)))
    ));
}

#[test]
fn message_catch_with_correlation_key() {
    let p = single("message-catch.bpmn");
    let catch = p.node("Catch_Payment").unwrap_or_else(|| panic!());
    let NodeKind::MessageCatchEvent(sub) = &catch.kind else {
        panic!()
    };
    assert_eq!(sub.message_id, "Message_Payment");
    assert_eq!(
        sub.message_name,
        StaticOrExpression::Static("payment-received".to_owned())
    );
    let vars = serde_json::json!({"orderId": "o-42"});
    assert_eq!(
        sub.correlation_key.evaluate(&vars),
        Ok(serde_json::json!("o-42"))
    );
    assert_eq!(catch.outputs.len(), 1);
    assert!(matches!(
        p.node("Catch_Wait").map(|n| &n.kind),
        Some(NodeKind::TimerCatchEvent(TimerDefinition::Static(_)))
    ));
}

#[test]
fn unsupported_elements_are_named_with_their_lines() {
    let Err(DeployError::Invalid { problems }) = parse_bpmn(&fixture("unsupported.bpmn")) else {
        panic!("must be refused")
    };
    let found: Vec<(ProblemCode, Option<&str>, &str, u32)> = problems
        .iter()
        .map(|p| (p.code, p.element_id.as_deref(), p.tag.as_str(), p.line))
        .collect();
    let expected = [
        (
            ProblemCode::StartEventCount,
            Some("too-much"),
            "bpmn:process",
            3,
        ),
        (
            ProblemCode::UnsupportedEventDefinition,
            Some("Start_Timer"),
            "bpmn:timerEventDefinition",
            6,
        ),
        (
            ProblemCode::UnsupportedElement,
            Some("Sub_1"),
            "bpmn:subProcess",
            8,
        ),
        (
            ProblemCode::UnsupportedElement,
            Some("Script_1"),
            "bpmn:scriptTask",
            11,
        ),
        (
            // Parallel multi-instance runs (ADR 0039); without zeebe:loopCharacteristics it
            // has no inputCollection.
            ProblemCode::MissingAttribute,
            Some("Task_Multi"),
            "bpmn:multiInstanceLoopCharacteristics",
            14,
        ),
        (
            ProblemCode::UnsupportedElement,
            Some("Gateway_Events"),
            "bpmn:eventBasedGateway",
            16,
        ),
        (
            ProblemCode::UnsupportedElement,
            Some("Throw_Signal"),
            "bpmn:intermediateThrowEvent",
            17,
        ),
    ];
    assert_eq!(found, expected, "{problems:#?}");
    let text = DeployError::Invalid { problems }.to_string();
    assert!(
        text.contains("line 8: UNSUPPORTED_ELEMENT <bpmn:subProcess id=\"Sub_1\">"),
        "{text}"
    );
}

#[test]
fn malformed_xml_is_a_clean_error() {
    let xml = "<?xml version=\"1.0\"?>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n  <bpmn:process id=\"p\">\n</bpmn:definitions>";
    match parse_bpmn(xml) {
        Err(DeployError::MalformedXml { line, .. }) => assert_eq!(line, 4),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_bpmn("<a/>"),
        Err(DeployError::NotBpmn { .. })
    ));
    assert!(matches!(
        parse_bpmn(""),
        Err(DeployError::MalformedXml { .. })
    ));
}

fn problems_of(body: &str) -> Vec<(ProblemCode, String)> {
    let xml = format!(
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">\n{body}\n</bpmn:definitions>"
    );
    match parse_bpmn(&xml) {
        Err(DeployError::Invalid { problems }) => problems
            .into_iter()
            .map(|p| (p.code, p.element_id.unwrap_or_default()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn structural_problems_are_all_reported() {
    let found = problems_of(
        r#"<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="s" />
  <bpmn:serviceTask id="t" />
  <bpmn:exclusiveGateway id="g" default="nope" />
  <bpmn:endEvent id="e1" />
  <bpmn:endEvent id="e2" />
  <bpmn:serviceTask id="lonely"><bpmn:extensionElements><zeebe:taskDefinition type="x" /></bpmn:extensionElements></bpmn:serviceTask>
  <bpmn:boundaryEvent id="b" attachedToRef="g"><bpmn:timerEventDefinition><bpmn:timeDuration>10 seconds</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="g" />
  <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e1"><bpmn:conditionExpression>=x &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2" />
  <bpmn:sequenceFlow id="f5" sourceRef="s" targetRef="ghost" />
  <bpmn:sequenceFlow id="f6" sourceRef="lonely" targetRef="e2"><bpmn:conditionExpression>=true</bpmn:conditionExpression></bpmn:sequenceFlow>
</bpmn:process>"#,
    );
    let has = |code: ProblemCode, id: &str| found.iter().any(|(c, i)| *c == code && i == id);
    assert!(has(ProblemCode::MissingAttribute, "t"), "{found:?}");
    assert!(has(ProblemCode::InvalidDefaultFlow, "g"), "{found:?}");
    assert!(has(ProblemCode::InvalidExpression, "f3"), "{found:?}");
    assert!(has(ProblemCode::MissingCondition, "f4"), "{found:?}");
    assert!(has(ProblemCode::UnknownReference, "f5"), "{found:?}");
    assert!(has(ProblemCode::ConditionNotAllowed, "f6"), "{found:?}");
    assert!(has(ProblemCode::InvalidFlowCount, "lonely"), "{found:?}");
    assert!(has(ProblemCode::UnreachableNode, "lonely"), "{found:?}");
    assert!(has(ProblemCode::InvalidTimer, "b"), "{found:?}");
}

#[test]
fn references_and_ids_are_checked() {
    let found = problems_of(
        r#"<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="s" />
  <bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
  <bpmn:endEvent id="e"><bpmn:errorEventDefinition errorRef="missing" /></bpmn:endEvent>
  <bpmn:endEvent id="s" />
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="c" />
  <bpmn:sequenceFlow id="f2" sourceRef="c" targetRef="e" />
</bpmn:process>
<bpmn:message id="m" name="no-key" />"#,
    );
    let codes: Vec<ProblemCode> = found.iter().map(|(c, _)| *c).collect();
    assert!(codes.contains(&ProblemCode::MissingAttribute), "{found:?}");
    assert!(codes.contains(&ProblemCode::UnknownReference), "{found:?}");
    assert!(codes.contains(&ProblemCode::DuplicateId), "{found:?}");
    assert_eq!(
        problems_of("<bpmn:process id=\"p\" />"),
        [(ProblemCode::NoExecutableProcess, String::new())]
    );
}
