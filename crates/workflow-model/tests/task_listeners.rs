//! `zeebe:taskListeners` on Camunda user tasks: `completing` listeners are read in model order
//! with their job type and retries; every other event type is refused, naming it.

use workflow_model::bpmn::{
    DeployError, NodeKind, ProblemCode, TaskListenerEventType, UserTask, parse_bpmn,
};
use workflow_model::feel::StaticOrExpression;

fn approve_task(xml: &str) -> UserTask {
    let process = parse_bpmn(xml).unwrap_or_else(|e| panic!("{e}")).remove(0);
    match process.node("Task_Approve").map(|n| n.kind.clone()) {
        Some(NodeKind::UserTask(task)) => task,
        other => panic!("{other:?}"),
    }
}

fn with_listeners(listeners: &str) -> String {
    format!(
        r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0">
<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="s" />
  <bpmn:userTask id="Task_Approve"><bpmn:extensionElements><zeebe:userTask />
    <zeebe:taskListeners>
{listeners}
    </zeebe:taskListeners>
  </bpmn:extensionElements></bpmn:userTask>
  <bpmn:endEvent id="e" />
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Task_Approve" />
  <bpmn:sequenceFlow id="f2" sourceRef="Task_Approve" targetRef="e" />
</bpmn:process>
</bpmn:definitions>"#
    )
}

fn problems(listeners: &str) -> Vec<(ProblemCode, String, String, u32)> {
    match parse_bpmn(&with_listeners(listeners)) {
        Err(DeployError::Invalid { problems }) => problems
            .into_iter()
            .map(|p| (p.code, p.tag, p.message, p.line))
            .collect(),
        other => panic!("must be refused: {other:?}"),
    }
}

#[test]
fn completing_listeners_are_read_in_order_with_type_and_retries() {
    let xml = std::fs::read_to_string(format!(
        "{}/tests/fixtures/user-task-listeners.bpmn",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let task = approve_task(&xml);
    assert_eq!(task.headers, [("level".to_owned(), "MANAGER".to_owned())]);
    let listeners: Vec<_> = task
        .listeners_of(TaskListenerEventType::Completing)
        .collect();
    assert_eq!(listeners.len(), 3);
    assert_eq!(
        listeners[0].job_type,
        StaticOrExpression::Static("approval.check-decision".to_owned())
    );
    assert_eq!(
        listeners[0].retries,
        StaticOrExpression::Static("3".to_owned()),
        "Zeebe's default"
    );
    let vars = serde_json::json!({"auditKind": "decision", "auditRetries": 2});
    let vars = vars.as_object().unwrap_or_else(|| panic!("object"));
    assert_eq!(
        listeners[1].job_type.evaluate_string(vars),
        Ok("audit.decision".to_owned())
    );
    assert!(matches!(
        listeners[1].retries,
        StaticOrExpression::Expression(_)
    ));
    assert_eq!(
        (
            &listeners[2].job_type,
            &listeners[2].retries,
            listeners[2].event_type.as_str()
        ),
        (
            &StaticOrExpression::Static("legacy.check".to_owned()),
            &StaticOrExpression::Static("5".to_owned()),
            "completing"
        ),
        "Camunda 8.7's `complete` is the same event"
    );
}

#[test]
fn other_event_types_are_refused_naming_the_event_type() {
    for event in ["creating", "assigning", "updating", "canceling"] {
        let found = problems(&format!(
            r#"      <zeebe:taskListener eventType="{event}" type="x" />"#
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        let (code, tag, message, line) = &found[0];
        assert_eq!(*code, ProblemCode::UnsupportedAttribute);
        assert_eq!(tag, "zeebe:taskListener");
        assert_eq!(*line, 6);
        assert!(message.contains(&format!("'{event}'")), "{message}");
        assert!(message.contains("only 'completing'"), "{message}");
    }
}

#[test]
fn malformed_listeners_are_refused() {
    let found = problems(
        r#"      <zeebe:taskListener type="x" />
      <zeebe:taskListener eventType="completing" />
      <zeebe:taskListener eventType="completing" type="x" retries="many" />
      <zeebe:taskListener eventType="finishing" type="x" />
      <zeebe:taskListener eventType="completing" type="=x +" />
      <zeebe:executionListener eventType="start" type="x" />"#,
    );
    let codes: Vec<(ProblemCode, u32)> = found.iter().map(|(c, _, _, l)| (*c, *l)).collect();
    assert_eq!(
        codes,
        [
            (ProblemCode::MissingAttribute, 6),
            (ProblemCode::MissingAttribute, 7),
            (ProblemCode::InvalidAttribute, 8),
            (ProblemCode::InvalidAttribute, 9),
            (ProblemCode::InvalidExpression, 10),
            (ProblemCode::UnsupportedExtension, 11),
        ],
        "{found:#?}"
    );
    assert!(found[3].2.contains("'finishing'"), "{found:?}");
}

#[test]
fn task_listeners_on_a_service_task_are_refused() {
    let xml = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0">
<bpmn:process id="p" isExecutable="true">
  <bpmn:startEvent id="s" />
  <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="x" />
    <zeebe:taskListeners><zeebe:taskListener eventType="completing" type="y" /></zeebe:taskListeners>
  </bpmn:extensionElements></bpmn:serviceTask>
  <bpmn:endEvent id="e" />
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
  <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e" />
</bpmn:process>
</bpmn:definitions>"#;
    let Err(DeployError::Invalid { problems }) = parse_bpmn(xml) else {
        panic!("must be refused")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, ProblemCode::UnsupportedExtension);
    assert_eq!(problems[0].tag, "zeebe:taskListeners");
}
