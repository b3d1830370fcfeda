//! Correlation fields and `traceparent` travel from the variables of the instance into the
//! handler: its [`JobContext`], the fields of its `workflow_job` span, and — with an
//! OpenTelemetry layer installed, as `common_kernel::telemetry` does — the caller's trace.
//! Its own test binary, because it installs a global tracing subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use serde_json::json;
use support::Target;
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Span, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use workflow_runtime::{
    Correlation, JobContext, JobError, WorkerConfig, handler, instance_variables,
};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

type Fields = BTreeMap<String, String>;

/// Records the fields of every `workflow_job` span by span id.
#[derive(Clone, Default)]
struct JobSpans(Arc<Mutex<HashMap<u64, Fields>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for JobSpans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == "workflow_job" {
            let mut fields = Fields::new();
            attrs.record(&mut Collect(&mut fields));
            self.0.lock().unwrap().insert(id.into_u64(), fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(fields) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Collect(fields));
        }
    }
}

impl JobSpans {
    fn of(&self, span: &Span) -> Fields {
        let id = span.id().expect("handler runs inside a span");
        self.0
            .lock()
            .unwrap()
            .get(&id.into_u64())
            .cloned()
            .expect("a workflow_job span")
    }
}

/// What the handler saw.
#[derive(Debug)]
struct Seen {
    correlation: Correlation,
    span_fields: Fields,
    trace_id: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_and_traceparent_reach_the_handler_its_span_and_its_trace() {
    let spans = JobSpans::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    tracing_subscriber::registry()
        .with(spans.clone())
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("workflow-runtime-test")))
        .init();

    let target = Target::start().await;
    target.deploy("traced.bpmn").await;
    let (tx, mut rx) = mpsc::unbounded_channel::<Seen>();
    let recorder = spans.clone();
    let traced = handler(move |ctx: JobContext, _: serde_json::Value| {
        let (tx, spans) = (tx.clone(), recorder.clone());
        async move {
            let span = Span::current();
            let trace_id = span.context().span().span_context().trace_id().to_string();
            let _ = tx.send(Seen {
                correlation: ctx.correlation,
                span_fields: spans.of(&span),
                trace_id,
            });
            Ok::<_, JobError>(())
        }
    });
    let worker = target
        .gateway
        .start_worker(WorkerConfig::new("rt-traced"), traced)
        .expect("worker starts");

    // How a service starts an instance while handling a request.
    let correlation = Correlation {
        correlation_id: Some("corr-42".into()),
        causation_id: Some("cmd-7".into()),
        business_transaction_id: Some("btx-9".into()),
        traceparent: Some(TRACEPARENT.into()),
    };
    let variables = instance_variables(&correlation, &json!({"quoteId": "q-1"})).expect("object");
    let (key, _) = target
        .run("rt-traced", variables, Duration::from_secs(15))
        .await;
    let seen = rx.recv().await.expect("handler ran");
    assert_eq!(seen.correlation, correlation);
    let field = |name: &str| seen.span_fields.get(name).map(String::as_str);
    assert_eq!(field("correlation_id"), Some("corr-42"));
    assert_eq!(field("causation_id"), Some("cmd-7"));
    assert_eq!(field("business_transaction_id"), Some("btx-9"));
    assert_eq!(field("traceparent"), Some(TRACEPARENT));
    assert_eq!(field("job_type"), Some("rt-traced"));
    assert_eq!(
        field("process_instance_key"),
        Some(key.to_string().as_str())
    );
    assert_eq!(
        seen.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736",
        "the job's span joined the caller's trace"
    );

    // Without correlation variables the job still runs, in a trace of its own.
    target
        .run(
            "rt-traced",
            json!({"quoteId": "q-2"}),
            Duration::from_secs(15),
        )
        .await;
    let bare = rx.recv().await.expect("handler ran");
    assert_eq!(bare.correlation, Correlation::default());
    assert_eq!(bare.span_fields.get("correlation_id"), None);
    assert_ne!(bare.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(bare.trace_id, "00000000000000000000000000000000");

    let report = worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.stats.completed, 2);
}
