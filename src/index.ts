// index.ts — the engine's public API for Node.js: the browser-clean core plus the Node edge (Dawn device).
// the public API names WebGPU's types (GPUDevice, GPUBuffer…): kept in the emitted index.d.ts so a user's
// program gets them from @webgpu/types (a dependency for that reason)
/// <reference types="@webgpu/types" preserve="true" />
export * from './autograd/backend.js';
export * from './autograd/tensor.js';
export * as F from './autograd/ops.js';
export * from './autograd/random.js';
export { CpuBackend } from './cpu/backend.js';
export { GpuBackend } from './kernels/backend.js';
export { Gpu, GpuError, grid } from './kernels/gpu.js';
export type { Kernel, GpuStats, AdapterDescription } from './kernels/gpu.js';
export { createGpu, describeGpu, NoAdapterError } from './kernels/device.js';
// the convolution kernels with their tile choice exposed (bench/conv.js --tiles times every tile on a device)
export * as convKernels from './kernels/conv2d.js';
// the batchnorm kernels with their slicing exposed (bench/conv.js times a channel per workgroup and sliced)
export * as batchnormKernels from './kernels/batchnorm.js';
export {
  tuneConvTiles,
  tileName,
  tuneModeOf,
  tunesOn,
  TUNE_MODES,
  type TunedConv,
  type TuneMode,
} from './kernels/conv2d_tune.js';
export { loadTileCache, saveTileCache, tileCachePath } from './node/tile_cache.js';
export { nodeGpu, nodeNavigatorGpu, releaseNodeGpu, NO_ADAPTER_HELP, DAWN_FLAGS } from './node/gpu.js';
export * from './nn/safetensors.js';
export * from './nn/checkpoint.js';
export { FORMAT_V1, v2Name } from './nn/checkpoint_v1.js';
export { storeTransposed, isStoredTransposed, transposedNames } from './nn/torch_layout.js';
export { writeFileAtomic, readCheckpoint, saveCheckpoint, CheckpointFileError } from './node/checkpoint.js';
export * from './nn/module.js';
export * from './nn/layers.js';
export * from './nn/optim.js';
export * as init from './nn/init.js';
export { Cnn, SEED_CNN } from './models/cnn.js';
export type { CnnConfig } from './models/cnn.js';
export { GanGenerator, GanDiscriminator } from './gan/models.js';
export type { GanConfig } from './gan/models.js';
export {
  ganStep,
  makeGan,
  PRESETS,
  generate,
  SCALARS,
  stepVector,
  samplingGenerator,
  recalibrateEma,
} from './gan/train.js';
export { runGan, loadGan } from './app/gan_run.js';
export { GanLoop, ganStateTensors, ganCheckpointMeta, ganFromCheckpoint, trainingSet } from './gan/loop.js';
export { PageTrainer } from './web/trainer.js';
export { startPlayground } from './app/serve.js';
export type { GanRunOptions, GanEpoch } from './app/gan_run.js';
export { loadGanModels, slimGanCheckpoint, shipGanBytes, ganModelTensors } from './gan/load.js';
export { SHIPPED_GAN, shipGan } from './app/ship.js';
export type { GanModels } from './gan/load.js';
export { loadFashionMnist, findDataDir } from './node/fashion_mnist.js';
export { evaluateGan, EVAL_WHAT } from './app/eval_run.js';
export { frechetDistance, frechetFeatures, symmetricEigen } from './eval/frechet.js';
export { kidPrc, kid, precisionRecall, kidSubsets, KID_DEFAULTS, PRC_DEFAULTS } from './eval/kid_prc.js';
export { isc, ISC_DEFAULTS } from './eval/isc.js';
