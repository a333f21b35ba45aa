//! Where a run's tensors live: a burn `Device` and the words the page and the CLI use for it.
//! burn 0.22 picks the backend at run time through the device, so the same core code trains on
//! the CPU (burn's flex backend, natively and in wasm) and on WebGPU/Vulkan (burn-wgpu).

use burn::tensor::Device;

use super::summary::BackendKind;

/// Where a run trains: the device and how to describe it.
#[derive(Debug, Clone)]
pub struct Backend {
    pub device: Device,
    pub kind: BackendKind,
    pub label: String,
}

impl Backend {
    /// burn's pure-Rust CPU backend.
    pub fn cpu() -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Cpu,
            label: "CPU (burn flex)".into(),
        }
    }
}
