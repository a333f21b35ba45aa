// How the project launches Debian's headless Chromium (never a downloaded browser), shared by
// the browser tests and the bench harness. `--enable-unsafe-webgpu` added to these gives
// WebGPU on SwiftShader; without it `requestAdapter()` returns null (the CPU fallback).
'use strict';
const CHROMIUM = '/usr/bin/chromium';
const BASE_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-sync',
  '--disable-background-networking', '--disable-component-update', '--disable-quic',
];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];

module.exports = { CHROMIUM, BASE_FLAGS, WEBGPU_FLAGS };
