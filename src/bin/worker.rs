//! The training worker's entry point (wasm): install the message handler. Natively a no-op.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    pretrain_playground::shell::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
