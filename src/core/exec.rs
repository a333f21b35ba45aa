//! Running the core's async API. Every read of a number from a device is `async` so the same
//! code runs on WebGPU in the page (where synchronous reads panic); natively a tiny blocking
//! executor drives it, and time comes from an injected [`Clock`] because `std::time::Instant`
//! does not exist in the browser.

/// Seconds from some fixed origin.
pub trait Clock {
    fn now_s(&self) -> f64;
}

/// Wall-clock time from `std::time::Instant` (native only).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy)]
pub struct SystemClock(std::time::Instant);

#[cfg(not(target_arch = "wasm32"))]
impl Default for SystemClock {
    fn default() -> Self {
        Self(std::time::Instant::now())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_s(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Runs a future to completion on the current thread, parking while it is pending.
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A point where a long computation lets others run: the page's worker builds a student's
/// text (megabytes) on the thread that also answers Pause and the tokenizer view, so the build
/// is `async` and awaits a checkpoint every few milliseconds of work. The implementation
/// decides whether to really yield (the worker's yields only once enough time has passed), so
/// callers may place checkpoints freely.
pub trait Checkpoint {
    fn checkpoint(&mut self) -> impl std::future::Future<Output = ()>;
}

/// Never yields: the synchronous path ([`run_ready`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoYield;

impl Checkpoint for NoYield {
    fn checkpoint(&mut self) -> impl std::future::Future<Output = ()> {
        std::future::ready(())
    }
}

/// Runs a future whose every await is ready at once (one driven only by [`NoYield`]
/// checkpoints) to completion on the current thread, on every target: the synchronous form of
/// the core's cooperative builds. It polls until ready, so a future that waits on something
/// else would spin; none of the callers does.
pub fn run_ready<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};

    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
