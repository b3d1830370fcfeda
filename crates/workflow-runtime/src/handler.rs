//! Handlers as plain async functions over serde types.
//!
//! A service writes `async fn charge(ctx: JobContext, input: ChargeInput) -> Result<ChargeOutput,
//! JobError>` and tests it by calling it. [`handler`] wraps it for the worker: it deserialises
//! the job variables into the input, catches panics, and serialises the output.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::JobContext;
use crate::correlation::object_of;
use crate::error::JobError;
use crate::outcome::Attempt;

/// What the worker runs for each job. Implemented by [`TypedHandler`]; implement it directly
/// only to work on raw variables. Object-safe, so handlers of different types can be kept
/// side by side as `Arc<dyn JobHandler>` (see [`crate::registry`]).
pub trait JobHandler: Send + Sync + 'static {
    /// Runs the handler for one job. Should not panic outward; the worker catches a panic
    /// anyway and treats it as [`Attempt::Panicked`].
    fn run(&self, ctx: JobContext, variables: &Value) -> BoxFuture<'static, Attempt>;
}

/// Shared handlers (including `Arc<dyn JobHandler>`) run like the handler they point to.
impl<H: JobHandler + ?Sized> JobHandler for Arc<H> {
    fn run(&self, ctx: JobContext, variables: &Value) -> BoxFuture<'static, Attempt> {
        (**self).run(ctx, variables)
    }
}

/// Boxed handlers (including `Box<dyn JobHandler>`) run like the handler they point to.
impl<H: JobHandler + ?Sized> JobHandler for Box<H> {
    fn run(&self, ctx: JobContext, variables: &Value) -> BoxFuture<'static, Attempt> {
        (**self).run(ctx, variables)
    }
}

/// An async function `(JobContext, I) -> Result<O, JobError>` as a [`JobHandler`].
pub struct TypedHandler<F, I, O> {
    function: Arc<F>,
    types: PhantomData<fn(I) -> O>,
}

impl<F, I, O> std::fmt::Debug for TypedHandler<F, I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedHandler")
            .field("input", &std::any::type_name::<I>())
            .field("output", &std::any::type_name::<O>())
            .finish()
    }
}

/// Wraps a typed async function as a handler. `I` is read from all job variables (unknown
/// fields are ignored unless `I` denies them); `O` must serialise to an object or `()`.
pub fn handler<F, Fut, I, O>(function: F) -> TypedHandler<F, I, O>
where
    F: Fn(JobContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, JobError>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    TypedHandler {
        function: Arc::new(function),
        types: PhantomData,
    }
}

impl<F, Fut, I, O> JobHandler for TypedHandler<F, I, O>
where
    F: Fn(JobContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, JobError>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
{
    fn run(&self, ctx: JobContext, variables: &Value) -> BoxFuture<'static, Attempt> {
        let input: I = match serde_path_to_error::deserialize(variables) {
            Ok(input) => input,
            Err(error) => {
                let path = error.path().to_string();
                let message = format!("at `{path}`: {}", error.into_inner());
                return futures::future::ready(Attempt::InvalidInput(message)).boxed();
            }
        };
        let function = Arc::clone(&self.function);
        // The call itself happens inside the caught future, so a panic before the first
        // `.await` is caught too.
        let call = async move { function(ctx, input).await };
        AssertUnwindSafe(call)
            .catch_unwind()
            .map(|result| match result {
                Ok(Ok(output)) => match object_of(&output) {
                    Ok(variables) => Attempt::Output(variables),
                    Err(error) => Attempt::InvalidOutput(error.to_string()),
                },
                Ok(Err(error)) => Attempt::Failed(error),
                Err(panic) => Attempt::Panicked(panic_message(panic.as_ref())),
            })
            .boxed()
    }
}

/// The text of a panic payload (`&str` or `String`, as `panic!` produces).
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Input {
        order_id: String,
        qty: u32,
    }

    #[derive(Debug, Serialize)]
    struct Output {
        total: u32,
    }

    async fn price(_ctx: JobContext, input: Input) -> Result<Output, JobError> {
        match input.qty {
            0 => Err(JobError::business(
                "EMPTY_ORDER",
                format!("{} has no lines", input.order_id),
            )),
            1000.. => Err(JobError::technical("pricing service busy")),
            13 => panic!("unlucky quantity"),
            qty => Ok(Output { total: qty * 2 }),
        }
    }

    async fn run(vars: Value) -> Attempt {
        handler(price).run(JobContext::default(), &vars).await
    }

    #[tokio::test]
    async fn a_plain_async_function_is_testable_directly() {
        let out = price(
            JobContext::default(),
            Input {
                order_id: "o".into(),
                qty: 2,
            },
        )
        .await;
        assert_eq!(out.ok().map(|o| o.total), Some(4));
    }

    #[tokio::test]
    async fn typed_results_become_attempts() {
        assert!(
            matches!(run(json!({"orderId": "o", "qty": 3, "extra": 1})).await,
            Attempt::Output(v) if v == json!({"total": 6}))
        );
        assert!(matches!(run(json!({"orderId": "o", "qty": 0})).await,
            Attempt::Failed(JobError::Business { code, .. }) if code == "EMPTY_ORDER"));
        assert!(matches!(
            run(json!({"orderId": "o", "qty": 5000})).await,
            Attempt::Failed(JobError::Technical { .. })
        ));
    }

    #[tokio::test]
    async fn bad_input_names_the_field_and_panics_are_caught() {
        match run(json!({"orderId": "o", "qty": "three"})).await {
            Attempt::InvalidInput(message) => assert!(message.contains("`qty`"), "{message}"),
            other => panic!("expected invalid input, got {other:?}"),
        }
        match run(json!({"orderId": "o", "qty": 13})).await {
            Attempt::Panicked(message) => assert_eq!(message, "unlucky quantity"),
            other => panic!("expected a caught panic, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unit_output_completes_without_variables_and_scalars_are_refused() {
        let unit = handler(|_ctx: JobContext, _: Value| async { Ok::<_, JobError>(()) });
        assert!(matches!(unit.run(JobContext::default(), &json!({})).await,
            Attempt::Output(v) if v == json!({})));
        let scalar = handler(|_ctx: JobContext, _: Value| async { Ok::<_, JobError>(7) });
        assert!(matches!(
            scalar.run(JobContext::default(), &json!({})).await,
            Attempt::InvalidOutput(_)
        ));
    }
}
