//! The page's data-parallel CPU step: helper workers. Wasm on this stable toolchain has no
//! threads, so the training worker starts N − 1 more instances of its own script
//! (`…&role=helper`), each with its own copy of the network; every step it sends each helper
//! the weights and one row shard of the batch, computes shard 0 itself, and sums the shards'
//! gradients in shard order before its one optimizer step ([`crate::core::train::shards`]).
//!
//! A helper counts only once it says it is listening (`Loaded`); until then, and after it
//! dies, the training worker computes its shard itself, so the run is the same whichever
//! helpers are up. A helper that dies mid-step (a panic, an uncaught error) has its promise
//! settled with why, the step is finished here, and the training loop pauses with the reason.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::core::backend::Backend;
use crate::core::config::ModelConfig;
use crate::core::error::CoreError;
use crate::core::model::network::Network;
use crate::core::plan::Plan;
use crate::core::train::shards::{
    Received, ShardGrads, ShardHelpers, ShardJob, load_weights, shard_gradients,
};
use crate::protocol::{ShardReply, ShardRequest, WorkerInput, WorkerOutput, bytes_f32, f32_bytes};

/// How long a helper may take over one shard before it counts as stopped (a worker the
/// browser killed without an `error` event never answers).
const SHARD_TIMEOUT_MS: i32 = 120_000;

/// What the training worker knows of one helper.
#[derive(Default)]
struct HelperState {
    /// It said `Loaded`: messages now reach its handler.
    ready: bool,
    /// Why it stopped, once it has.
    dead: Option<String>,
    /// The shard in flight: its tag (unique in the pool) and the resolve function of the
    /// promise its answer settles. A helper with a shard in flight takes no other.
    waiting: Option<(u64, js_sys::Function)>,
    /// Its death has been reported to a run ([`ShardHelpers::lost`]).
    reported: bool,
}

impl HelperState {
    fn settle(&mut self, value: &JsValue) {
        if let Some((_, resolve)) = self.waiting.take() {
            let _ = resolve.call1(&JsValue::NULL, value);
        }
    }

    /// Settles the shard in flight with `value` if `tag` is its tag (a late answer to an
    /// earlier shard is dropped).
    fn answer(&mut self, tag: Option<u64>, value: &JsValue) {
        if self.waiting.as_ref().map(|(t, _)| *t) == tag && tag.is_some() {
            self.settle(value);
        }
    }

    fn die(&mut self, why: String) {
        self.settle(&JsValue::from_str(&why));
        self.dead.get_or_insert(why);
    }
}

struct Helper {
    worker: Worker,
    state: Rc<RefCell<HelperState>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

/// The helper workers, kept across runs (starting one compiles the wasm again).
pub struct Pool {
    helpers: Vec<Helper>,
    /// The next shard's tag: unique across the runs and benches that share the pool.
    next_tag: std::cell::Cell<u64>,
}

impl Pool {
    /// Starts `count` helpers running this worker's own script.
    pub fn start(count: usize) -> Result<Rc<Pool>, String> {
        let scope = super::scope().ok_or("helpers start from the training worker")?;
        // The script this worker runs (`worker_loader.js?build=…`), read without web-sys's
        // `WorkerLocation` binding.
        let href = js_sys::Reflect::get(&scope, &"location".into())
            .and_then(|l| js_sys::Reflect::get(&l, &"href".into()))
            .ok()
            .and_then(|h| h.as_string())
            .ok_or("this worker does not know its own address")?;
        let url = format!(
            "{href}{}role=helper",
            if href.contains('?') { "&" } else { "?" }
        );
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Classic);
        let mut helpers: Vec<Helper> = Vec::with_capacity(count);
        for n in 1..=count {
            let worker = match Worker::new_with_options(&url, &options) {
                Ok(worker) => worker,
                Err(e) => {
                    // Stop the ones already started rather than leave them loading.
                    for helper in &helpers {
                        helper.worker.terminate();
                    }
                    return Err(format!(
                        "the browser refused to start helper worker {n}: {e:?}"
                    ));
                }
            };
            let state = Rc::new(RefCell::new(HelperState::default()));
            let on_message = {
                let (state, worker) = (state.clone(), worker.clone());
                Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                    let data = event.data();
                    let kind = js_sys::Reflect::get(&data, &"type".into())
                        .ok()
                        .and_then(|t| t.as_string())
                        .unwrap_or_default();
                    let message = || {
                        js_sys::Reflect::get(&data, &"message".into())
                            .ok()
                            .and_then(|m| m.as_string())
                            .unwrap_or_default()
                    };
                    let step = js_sys::Reflect::get(&data, &"step".into())
                        .ok()
                        .and_then(|v| v.as_f64())
                        .map(|v| v as u64);
                    let mut s = state.borrow_mut();
                    match kind.as_str() {
                        "loaded" => s.ready = true,
                        "shard_done" | "shard_failed" => s.answer(step, &data),
                        "crashed" | "error" => {
                            s.die(format!("helper worker {n} stopped ({})", message()));
                            worker.terminate();
                        }
                        _ => {}
                    }
                })
            };
            let on_error = {
                let (state, worker) = (state.clone(), worker.clone());
                Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                    event.prevent_default();
                    state
                        .borrow_mut()
                        .die(format!("helper worker {n} stopped ({})", event.message()));
                    worker.terminate();
                })
            };
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            helpers.push(Helper {
                worker,
                state,
                _on_message: on_message,
                _on_error: on_error,
            });
        }
        // For the end-to-end test of a helper dying mid-step (as the loader keeps
        // `__ppGpuDevice` for the lost-device test): the helpers' `Worker` objects.
        let list = js_sys::Array::new();
        for helper in &helpers {
            list.push(&helper.worker);
        }
        let _ = js_sys::Reflect::set(&scope, &"__ppHelpers".into(), &list);
        Ok(Rc::new(Pool {
            helpers,
            next_tag: std::cell::Cell::new(1),
        }))
    }

    /// Helpers started.
    pub fn size(&self) -> usize {
        self.helpers.len()
    }

    /// Helpers listening and not dead, now.
    pub fn ready(&self) -> usize {
        self.alive().count()
    }

    /// Whether a helper has stopped (a pool is then replaced, not reused).
    pub fn any_dead(&self) -> bool {
        self.helpers.iter().any(|h| h.state.borrow().dead.is_some())
    }

    /// Helpers listening, not dead and not busy with a shard.
    fn alive(&self) -> impl Iterator<Item = &Helper> {
        self.helpers.iter().filter(|h| {
            let s = h.state.borrow();
            s.ready && s.dead.is_none() && s.waiting.is_none()
        })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for helper in &self.helpers {
            helper.worker.terminate();
            helper
                .state
                .borrow_mut()
                .die("the helper workers were stopped".into());
        }
    }
}

/// One run's use of the pool: the network the helpers build, and the shards in flight.
pub struct RunHelpers {
    pool: Rc<Pool>,
    plan: Plan,
    model: ModelConfig,
    /// The shards in flight: each one's tag and the promise its answer settles.
    sent: Vec<(u64, js_sys::Promise)>,
}

impl RunHelpers {
    pub fn new(pool: Rc<Pool>, plan: Plan, model: ModelConfig) -> Self {
        Self {
            pool,
            plan,
            model,
            sent: Vec::new(),
        }
    }
}

impl ShardHelpers for RunHelpers {
    fn count(&self) -> usize {
        self.pool.alive().count()
    }

    fn send(&mut self, weights: &[f32], jobs: &[ShardJob]) -> Result<(), String> {
        self.sent.clear();
        let bytes = f32_bytes(weights);
        // Bytes travel as one `Uint8Array`, not an array of numbers.
        let serializer =
            serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false);
        let helpers: Vec<&Helper> = self.pool.alive().collect();
        for (helper, job) in helpers.into_iter().zip(jobs) {
            let tag = self.pool.next_tag.get();
            self.pool.next_tag.set(tag + 1);
            let request = WorkerInput::Shard(Box::new(ShardRequest {
                step: tag,
                plan: self.plan.clone(),
                model: self.model,
                weights: bytes.clone(),
                job: job.clone(),
            }));
            let value = serde::Serialize::serialize(&request, &serializer)
                .map_err(|e| format!("could not write a shard for a helper: {e}"))?;
            let state = helper.state.clone();
            let promise = js_sys::Promise::new(&mut |resolve, _reject| {
                state.borrow_mut().waiting = Some((tag, resolve));
            });
            if let Err(e) = helper.worker.post_message(&value) {
                state
                    .borrow_mut()
                    .die(format!("could not reach a helper worker: {e:?}"));
            } else {
                watch(&helper.worker, state, tag);
            }
            self.sent.push((tag, promise));
        }
        Ok(())
    }

    fn lost(&mut self) -> Vec<String> {
        let mut lost = Vec::new();
        for helper in &self.pool.helpers {
            let mut s = helper.state.borrow_mut();
            if let (Some(why), false) = (&s.dead, s.reported) {
                lost.push(why.clone());
                s.reported = true;
            }
        }
        lost
    }

    fn receive(&mut self) -> Received<'_> {
        let sent = std::mem::take(&mut self.sent);
        Box::pin(async move {
            let mut results = Vec::with_capacity(sent.len());
            for (tag, promise) in sent {
                results.push(match JsFuture::from(promise).await {
                    Ok(value) => match value.as_string() {
                        Some(why) => Err(why),
                        None => reply(value, tag),
                    },
                    Err(e) => Err(format!("a helper worker failed: {e:?}")),
                });
            }
            results
        })
    }
}

/// Stops a helper that has not answered shard `tag` within [`SHARD_TIMEOUT_MS`].
fn watch(worker: &Worker, state: Rc<RefCell<HelperState>>, tag: u64) {
    let worker = worker.clone();
    let timeout = Closure::once_into_js(move || {
        let mut s = state.borrow_mut();
        if s.waiting.as_ref().is_some_and(|(t, _)| *t == tag) {
            s.die(format!(
                "a helper worker did not answer within {} s",
                SHARD_TIMEOUT_MS / 1000
            ));
            worker.terminate();
        }
    });
    if let Some(scope) = super::scope() {
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(
            timeout.unchecked_ref(),
            SHARD_TIMEOUT_MS,
        );
    }
}

/// A helper's answer to shard `tag` as the trainer takes it.
fn reply(value: JsValue, tag: u64) -> Result<ShardGrads, String> {
    match serde_wasm_bindgen::from_value::<WorkerOutput>(value) {
        Ok(WorkerOutput::ShardDone(reply)) if reply.step == tag => Ok(ShardGrads {
            present: reply.present,
            values: bytes_f32(&reply.values).ok_or("a helper's gradient was cut short")?,
            parts: reply.parts,
        }),
        Ok(WorkerOutput::ShardFailed { step, message }) if step == tag => Err(format!(
            "a helper worker could not compute its shard: {message}"
        )),
        Ok(_) => Err("a helper worker answered another step".into()),
        Err(e) => Err(format!("a helper worker's answer could not be read: {e}")),
    }
}

thread_local! {
    /// A helper's network, kept while the plan and shape stay the same.
    static NETWORK: RefCell<Option<(Plan, ModelConfig, Network)>> = const { RefCell::new(None) };
}

/// In a helper: computes the shard asked for and answers the training worker.
pub fn compute(request: ShardRequest) {
    wasm_bindgen_futures::spawn_local(async move {
        let step = request.step;
        let output = match shard(request).await {
            Ok(reply) => WorkerOutput::ShardDone(Box::new(reply)),
            Err(e) => WorkerOutput::ShardFailed {
                step,
                message: e.to_string(),
            },
        };
        super::post_any(&output);
    });
}

async fn shard(request: ShardRequest) -> Result<ShardReply, CoreError> {
    let ShardRequest {
        step,
        plan,
        model,
        weights,
        job,
    } = request;
    let backend = Backend::cpu();
    let kept = NETWORK.with(|n| {
        n.borrow_mut()
            .take()
            .filter(|(p, m, _)| *p == plan && *m == model)
    });
    let network = match kept {
        Some((_, _, network)) => network,
        None => Network::init(
            plan.architecture,
            plan.extras(),
            &model,
            0,
            &backend.device.clone().autodiff(),
        ),
    };
    let weights = bytes_f32(&weights)
        .ok_or_else(|| CoreError::Config("the weights sent were cut short".into()))?;
    let network = load_weights(network, &weights)?;
    let grads = shard_gradients(&network, &job, &backend.label).await;
    NETWORK.with(|n| *n.borrow_mut() = Some((plan, model, network)));
    let grads = grads?;
    Ok(ShardReply {
        step,
        present: grads.present,
        values: f32_bytes(&grads.values),
        parts: grads.parts,
    })
}
