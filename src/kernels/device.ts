// device.ts — acquire a WebGPU adapter and device from any `GPU` object (navigator.gpu in a browser, Dawn's
// `create()` in Node: see src/node/gpu.ts). Requests the limits the kernels need, up to what the adapter offers,
// and the optional features they can use (timestamp queries, subgroups).
import { Gpu, type AdapterDescription } from './gpu.js';

export class NoAdapterError extends Error {}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** substring of the adapter description/vendor to insist on (checked after the request) */
  adapter?: string;
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;
const WANTED_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description || [vendor, architecture, device].filter(Boolean).join(' ') || 'unknown adapter';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const software =
    Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    /software|llvmpipe|lavapipe|swiftshader|warp/.test(text);
  return { vendor, architecture, device, description, software };
}

export async function createGpu(gpu: GPU | undefined, opts: DeviceOptions = {}): Promise<Gpu> {
  if (!gpu) throw new NoAdapterError('WebGPU is not available here (no navigator.gpu).');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoAdapterError('No WebGPU adapter found.');
  const desc = describeAdapter(adapter);
  if (
    opts.adapter &&
    !`${desc.vendor} ${desc.description} ${desc.device}`.toLowerCase().includes(opts.adapter.toLowerCase())
  )
    throw new NoAdapterError(`The adapter "${desc.description}" does not match --adapter "${opts.adapter}".`);
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'engine' });
  return new Gpu(device, desc, new Set(requiredFeatures));
}

export function describeGpu(g: Gpu): string {
  const a = g.adapter;
  return `${a.description}${a.vendor && !a.description.includes(a.vendor) ? ` (${a.vendor})` : ''}, ${a.software ? 'software' : 'hardware'} adapter`;
}
