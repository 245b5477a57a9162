// index.ts — the engine's public API for Node.js: the browser-clean core plus the Node edge (Dawn device).
export * from './autograd/backend.js';
export * from './autograd/tensor.js';
export * as F from './autograd/ops.js';
export * from './autograd/random.js';
export { CpuBackend } from './cpu/backend.js';
export { GpuBackend } from './kernels/backend.js';
export { Gpu, GpuError, grid } from './kernels/gpu.js';
export type { Kernel, GpuStats, AdapterDescription } from './kernels/gpu.js';
export { createGpu, describeGpu, NoAdapterError } from './kernels/device.js';
export { nodeGpu, releaseNodeGpu, NO_ADAPTER_HELP } from './node/gpu.js';
export * from './nn/safetensors.js';
export * from './nn/checkpoint.js';
export { writeFileAtomic, readCheckpoint, saveCheckpoint, CheckpointFileError } from './node/checkpoint.js';
