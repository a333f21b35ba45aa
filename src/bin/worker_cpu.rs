//! The CPU-only training worker (wasm): the worker of `worker.rs`, built without the `wgpu`
//! feature for browsers that grant no WebGPU adapter. Natively a no-op.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    pretrain_playground::shell::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
