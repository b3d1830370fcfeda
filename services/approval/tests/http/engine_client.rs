//! The engine client against the real embedded engine (search, assign, complete as the
//! `approval-service` client), and the outcomes it must tell apart: a refusal is a refusal,
//! while no answer, a 5xx or a timeout is unknown, never "failed".

use std::sync::Arc;
use std::time::Duration;

use approval::app::ports::{TaskEngineError, TaskFilter, UserTaskEngine};
use approval::infra::EngineTaskClient;
use axum::http::StatusCode as AxumStatus;
use common_kernel::auth::{AuthSettings, ServiceTokens};
use serde_json::{Map, json};
use test_support::TcpProxy;

use crate::harness::{Engine, MANAGERS, issuer};

fn service_tokens() -> Arc<ServiceTokens> {
    let [(id_name, id), (secret_name, secret)] = issuer().client_env("approval-service");
    let lookup = |name: &str| match name {
        "OIDC_ISSUER" => Some(issuer().issuer_url()),
        "OIDC_AUDIENCE" => Some(issuer().audience().to_owned()),
        n if n == id_name => Some(id.clone()),
        n if n == secret_name => Some(secret.clone()),
        _ => None,
    };
    let settings = AuthSettings::from_lookup(lookup).expect("auth settings");
    Arc::new(
        ServiceTokens::new(&settings)
            .expect("client")
            .expect("a client is configured"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_searched_assigned_and_completed_as_the_service() {
    let engine = Engine::start().await;
    let client = EngineTaskClient::new(&engine.rest(), Some(service_tokens())).unwrap();
    let first = engine.start_instance(&[MANAGERS]).await;
    let second = engine.start_instance(&["approver-director"]).await;

    let all = client
        .search_open(&TaskFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|t| t.process_instance_key)
            .collect::<Vec<_>>(),
        [first, second]
    );
    let managers = client
        .search_open(
            &TaskFilter {
                candidate_group: Some(MANAGERS.into()),
                ..TaskFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(managers.len(), 1);
    let task = &managers[0];
    assert_eq!(task.process_instance_key, first);
    assert_eq!(task.element_id, "Task_ApproveLevel");
    assert_eq!(task.candidate_groups, [MANAGERS]);
    assert_eq!(task.assignee, None);
    assert_eq!(
        task.due_date.map(|d| d.to_rfc3339()),
        Some("2031-01-01T10:00:00+00:00".into())
    );
    let by_instance = client
        .search_open(
            &TaskFilter {
                process_instance_key: Some(second),
                ..TaskFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(by_instance.len(), 1);
    assert_eq!(
        client
            .search_open(&TaskFilter::default(), 1)
            .await
            .unwrap()
            .len(),
        1,
        "the limit holds"
    );

    client.assign(task.user_task_key, "manager1").await.unwrap();
    let mine = client
        .search_open(
            &TaskFilter {
                assignee: Some("manager1".into()),
                ..TaskFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|t| t.user_task_key).collect::<Vec<_>>(),
        [task.user_task_key]
    );
    // Taking over from another assignee is allowed.
    client.assign(task.user_task_key, "manager2").await.unwrap();

    let mut variables = Map::new();
    variables.insert("decision".into(), json!("APPROVE"));
    client
        .complete(task.user_task_key, variables.clone())
        .await
        .unwrap();
    let open = client
        .search_open(
            &TaskFilter {
                process_instance_key: Some(first),
                ..TaskFilter::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(open.is_empty(), "completed tasks are not open");
    match client.complete(task.user_task_key, variables).await {
        Err(TaskEngineError::Refused { status: 409, .. }) => {}
        other => panic!("completing twice is refused, got {other:?}"),
    }
    match client.assign(4242, "manager1").await {
        Err(TaskEngineError::NotFound(4242)) => {}
        other => panic!("an unknown task is not found, got {other:?}"),
    }
    // Without the service's token the engine refuses: a refusal, not an unknown outcome.
    let anonymous = EngineTaskClient::new(&engine.rest(), None).unwrap();
    match anonymous.search_open(&TaskFilter::default(), 10).await {
        Err(TaskEngineError::Refused { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
}

async fn server_answering(status: AxumStatus) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = axum::Router::new().fallback(move || async move { (status, "engine trouble") });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_a_5xx_or_a_timeout_is_unknown() {
    let unavailable = EngineTaskClient::new(
        &server_answering(AxumStatus::SERVICE_UNAVAILABLE).await,
        None,
    )
    .unwrap();
    assert!(matches!(
        unavailable.complete(1, Map::new()).await,
        Err(TaskEngineError::Unknown(_))
    ));
    let refusing =
        EngineTaskClient::new(&server_answering(AxumStatus::BAD_REQUEST).await, None).unwrap();
    assert!(matches!(
        refusing.complete(1, Map::new()).await,
        Err(TaskEngineError::Refused { status: 400, .. })
    ));
    let nobody = EngineTaskClient::new(
        &format!("http://127.0.0.1:{}", test_support::free_port()),
        None,
    )
    .unwrap();
    assert!(matches!(
        nobody.search_open(&TaskFilter::default(), 10).await,
        Err(TaskEngineError::Unknown(_))
    ));

    let engine = Engine::start().await;
    let proxy = TcpProxy::start(engine.rest().trim_start_matches("http://"));
    let stalled = EngineTaskClient::new(
        &format!("http://{}", proxy.address()),
        Some(service_tokens()),
    )
    .unwrap();
    stalled
        .search_open(&TaskFilter::default(), 10)
        .await
        .expect("through the proxy");
    proxy.stall();
    let started = std::time::Instant::now();
    assert!(matches!(
        stalled.assign(1, "manager1").await,
        Err(TaskEngineError::Unknown(_))
    ));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "it waited for the timeout"
    );
}
