//! Parallel multi-instance service tasks and catch-all error boundaries parse; what the engine
//! does not run (sequential, completionCondition, loopCardinality, multi-instance user tasks)
//! is refused with element, tag and line (ADR 0039).

use workflow_model::bpmn::{BoundaryTrigger, DeployError, NodeKind, ProblemCode, parse_bpmn};
use workflow_model::feel::StaticOrExpression;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Problems of a one-task process whose service task carries `characteristics`; the task is
/// on line 4, the characteristics start on line 6.
fn problems_with(task: &str, characteristics: &str) -> Vec<(ProblemCode, String, String, u32)> {
    let extension = if task == "userTask" {
        "<zeebe:userTask />"
    } else {
        r#"<zeebe:taskDefinition type="each" />"#
    };
    let xml = format!(
        r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0">
<bpmn:process id="p" isExecutable="true">
<bpmn:startEvent id="Start" />
<bpmn:{task} id="Task_Each">
<bpmn:extensionElements>{extension}</bpmn:extensionElements>
{characteristics}
</bpmn:{task}>
<bpmn:endEvent id="End" />
<bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Task_Each" />
<bpmn:sequenceFlow id="F2" sourceRef="Task_Each" targetRef="End" />
</bpmn:process>
</bpmn:definitions>"#
    );
    match parse_bpmn(&xml) {
        Err(DeployError::Invalid { problems }) => problems
            .into_iter()
            .map(|p| (p.code, p.element_id.unwrap_or_default(), p.tag, p.line))
            .collect(),
        Ok(_) => Vec::new(),
        Err(other) => panic!("{other}"),
    }
}

fn loop_chars(attributes: &str) -> String {
    format!(
        "<bpmn:multiInstanceLoopCharacteristics>\n<bpmn:extensionElements><zeebe:loopCharacteristics {attributes} /></bpmn:extensionElements>\n</bpmn:multiInstanceLoopCharacteristics>"
    )
}

#[test]
fn the_fulfilment_shape_is_accepted() {
    let process = parse_bpmn(&fixture("multi-instance.bpmn"))
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0);
    let task = process
        .node("Task_RunReadyTasks")
        .unwrap_or_else(|| panic!("task"));
    let NodeKind::ServiceTask(service) = &task.kind else {
        panic!("{task:?}")
    };
    assert!(
        matches!(&service.job_type, StaticOrExpression::Expression(e) if e.source() == "task.jobType")
    );
    assert_eq!(task.inputs.len(), 3);
    let mi = task
        .multi_instance
        .as_ref()
        .unwrap_or_else(|| panic!("multi-instance"));
    assert_eq!(mi.input_collection.source(), "readyTasks");
    assert_eq!(mi.input_element.as_deref(), Some("task"));
    assert_eq!(mi.output_collection.as_deref(), Some("taskResults"));
    assert_eq!(
        mi.output_element.as_ref().map(|e| e.source()),
        Some("{taskId: task.taskId, call: externalCall}")
    );
    // The catch-all boundary: no errorRef, every code.
    let boundary = process
        .node("Boundary_TaskRejected")
        .unwrap_or_else(|| panic!("boundary"));
    let NodeKind::BoundaryEvent(b) = &boundary.kind else {
        panic!("{boundary:?}")
    };
    assert_eq!(b.attached_to.as_str(), "Task_RunReadyTasks");
    assert_eq!(b.trigger, BoundaryTrigger::Error { error_code: None });
    assert_eq!(boundary.outputs.len(), 3);
    assert_eq!(boundary.outputs[0].target.to_string(), "falloutCode");
    // Other tasks are not multi-instance.
    assert!(
        process
            .node("Task_After")
            .is_some_and(|n| n.multi_instance.is_none())
    );
}

#[test]
fn input_element_and_output_are_optional() {
    let problems = problems_with("serviceTask", &loop_chars(r#"inputCollection="=items""#));
    assert_eq!(problems, []);
}

#[test]
fn a_missing_input_collection_is_refused() {
    let problems = problems_with("serviceTask", &loop_chars(r#"inputElement="item""#));
    assert_eq!(
        problems,
        [(
            ProblemCode::MissingAttribute,
            "Task_Each".to_owned(),
            "zeebe:loopCharacteristics".to_owned(),
            7
        )]
    );
    let problems = problems_with("serviceTask", "<bpmn:multiInstanceLoopCharacteristics />");
    assert_eq!(
        problems,
        [(
            ProblemCode::MissingAttribute,
            "Task_Each".to_owned(),
            "bpmn:multiInstanceLoopCharacteristics".to_owned(),
            6
        )]
    );
}

#[test]
fn malformed_attributes_are_refused() {
    let codes = |attributes: &str| -> Vec<ProblemCode> {
        problems_with("serviceTask", &loop_chars(attributes))
            .into_iter()
            .map(|p| p.0)
            .collect()
    };
    // Not FEEL, or FEEL that does not parse.
    assert_eq!(
        codes(r#"inputCollection="items""#),
        [ProblemCode::InvalidExpression]
    );
    assert_eq!(
        codes(r#"inputCollection="=items[""#),
        [ProblemCode::InvalidExpression]
    );
    // Collected output needs both halves.
    assert_eq!(
        codes(r#"inputCollection="=items" outputCollection="results""#),
        [ProblemCode::MissingAttribute]
    );
    assert_eq!(
        codes(r#"inputCollection="=items" outputElement="=x""#),
        [ProblemCode::MissingAttribute]
    );
    assert_eq!(
        codes(r#"inputCollection="=items" inputElement="a.b""#),
        [ProblemCode::InvalidAttribute]
    );
}

#[test]
fn what_the_engine_does_not_run_is_refused_with_element_and_line() {
    let sequential = problems_with(
        "serviceTask",
        &loop_chars(r#"inputCollection="=items""#).replace(
            "<bpmn:multiInstanceLoopCharacteristics>",
            r#"<bpmn:multiInstanceLoopCharacteristics isSequential="true">"#,
        ),
    );
    assert_eq!(
        sequential,
        [(
            ProblemCode::UnsupportedAttribute,
            "Task_Each".to_owned(),
            "bpmn:multiInstanceLoopCharacteristics".to_owned(),
            6
        )]
    );
    let completion = problems_with(
        "serviceTask",
        &loop_chars(r#"inputCollection="=items""#).replace(
            "\n</bpmn:multiInstanceLoopCharacteristics>",
            "\n<bpmn:completionCondition>=done</bpmn:completionCondition>\n</bpmn:multiInstanceLoopCharacteristics>",
        ),
    );
    assert_eq!(
        completion,
        [(
            ProblemCode::UnsupportedElement,
            "Task_Each".to_owned(),
            "bpmn:completionCondition".to_owned(),
            8
        )]
    );
    let cardinality = problems_with(
        "serviceTask",
        "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
    );
    assert!(
        cardinality.contains(&(
            ProblemCode::UnsupportedElement,
            "Task_Each".to_owned(),
            "bpmn:loopCardinality".to_owned(),
            6
        )),
        "{cardinality:?}"
    );
    let user_task = problems_with("userTask", &loop_chars(r#"inputCollection="=items""#));
    assert!(
        user_task.contains(&(
            ProblemCode::UnsupportedElement,
            "Task_Each".to_owned(),
            "bpmn:multiInstanceLoopCharacteristics".to_owned(),
            6
        )),
        "{user_task:?}"
    );
    let standard = problems_with("serviceTask", "<bpmn:standardLoopCharacteristics />");
    assert_eq!(
        standard,
        [(
            ProblemCode::UnsupportedElement,
            "Task_Each".to_owned(),
            "bpmn:standardLoopCharacteristics".to_owned(),
            6
        )]
    );
}
