//! `pretrain-playground`: the native CLI over the same core the browser runs — headless
//! experiments with bigger budgets and reproducible run summaries.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    pretrain_playground::cli::keep_freed_memory();
    std::process::exit(pretrain_playground::cli::main(
        std::env::args().skip(1).collect(),
    ));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
