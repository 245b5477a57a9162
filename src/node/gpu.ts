// node/gpu.ts — the Node.js edge of the engine: creates Dawn's WebGPU (the `webgpu` npm package) and turns
// "no adapter" into advice on which driver to install. Everything else in the engine is browser-clean.
import { create, globals } from 'webgpu';
import { createGpu, NoAdapterError, type DeviceOptions } from '../kernels/device.js';
import type { Gpu } from '../kernels/gpu.js';

let navigatorGpu: GPU | null = null;

export const NO_ADAPTER_HELP = [
  'No WebGPU adapter: Dawn found no usable Vulkan driver.',
  'On a machine without a GPU, install Mesa >= 24 lavapipe (Debian bookworm: run `sudo bash scripts/setup.sh`,',
  'which adds bookworm-backports and installs mesa-vulkan-drivers). With an NVIDIA GPU, install its driver',
  'with Vulkan support (nvidia_icd.json). Check with `vulkaninfo --summary`.',
].join('\n');

/**
 * Dawn's flags. Dawn rounds timestamp queries down to multiples of 65.536 µs unless told not to (its toggle
 * `timestamp_quantization`, a guard against timing attacks in browsers): on a GPU that made every small kernel of
 * the profile, the conv-tile tuner and bench/conv.js read 0 or 0.066 ms (first GPU session, 2026-12-01). Node runs
 * our own code only, so we take full resolution.
 */
export const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

/** Create the GPU context in Node. Options also come from env: WEBGPU_ADAPTER, WEBGPU_POWER. */
export async function nodeGpu(opts: DeviceOptions = {}): Promise<Gpu> {
  Object.assign(globalThis, globals);
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp'; // silences a lavapipe warning
  const adapter = opts.adapter ?? process.env.WEBGPU_ADAPTER;
  const power = (opts.powerPreference ?? process.env.WEBGPU_POWER) as GPUPowerPreference | undefined;
  if (!navigatorGpu) navigatorGpu = create(DAWN_FLAGS) as unknown as GPU;
  try {
    return await createGpu(navigatorGpu, { adapter, powerPreference: power });
  } catch (e) {
    if (e instanceof NoAdapterError && !opts.adapter && !process.env.WEBGPU_ADAPTER)
      throw new NoAdapterError(NO_ADAPTER_HELP);
    throw e;
  }
}

/**
 * Dawn's WebGPU entry point (navigator.gpu's counterpart) that nodeGpu uses, created with DAWN_FLAGS if it is not
 * yet: for a peer library that wants a `navigator.gpu` on the same adapter (bench/conv.js gives it to TF.js)
 */
export function nodeNavigatorGpu(): GPU {
  Object.assign(globalThis, globals);
  if (!navigatorGpu) navigatorGpu = create(DAWN_FLAGS) as unknown as GPU;
  return navigatorGpu;
}

/** Drop the reference to Dawn so the process can exit. */
export function releaseNodeGpu(g?: Gpu): void {
  g?.destroy();
  navigatorGpu = null;
}
