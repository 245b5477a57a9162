// torch_layout.ts — where a checkpoint file's tensors differ from the engine's. Files of checkpoint format 2 hold
// every tensor as PyTorch's state_dict does, so that `model.load_state_dict(load_file(f))` works with a matching
// torch.nn model (interop/pytorch/). The engine keeps one kind of tensor in another layout: a Linear's weight is
// [in, out] here (y = x·W + b, as the matmul kernels read it) and [out, in] in PyTorch (y = x·Wᵀ + b). Such tensors
// are marked (`storeTransposed`: Linear marks its weight, Adam that weight's moments); saving writes a marked tensor
// transposed and loading a format-2 file transposes it back (src/nn/checkpoint.ts). Format-1 files hold the
// engine's layout (src/nn/checkpoint_v1.ts). PyTorch's BatchNorm keeps a `num_batches_tracked` counter, which
// this engine does not use (its momentum is fixed): a file that has one (a PyTorch state_dict) loads, the counter
// dropped; files written here have none, and PyTorch's load_state_dict fills in 0 for it.

const TRANSPOSED = new WeakSet<object>();

/** the batchnorm momentum convention (every model's), written into checkpoints' "conventions" */
export const BN_MOMENTUM_CONVENTION =
  "PyTorch's: running = (1 − momentum)·running + momentum·batch " +
  "(Keras' momentum is 1 − this); running_var from the unbiased batch variance, normalisation by the biased one";
/** 'same' padding (autograd/conv2d.ts), written into checkpoints' "conventions" */
export const SAME_PADDING =
  "TensorFlow's 'same': output = ceil(input / stride); " +
  'an odd total padding puts the extra row and column at the bottom/right';

/** mark a 2-D tensor (or a TensorSpec) as [in, out] here and [out, in] in checkpoint files; returns it */
export function storeTransposed<T extends object>(t: T): T {
  TRANSPOSED.add(t);
  return t;
}

/** whether `t` is stored transposed in checkpoint files of PyTorch's layout */
export function isStoredTransposed(t: object): boolean {
  return TRANSPOSED.has(t);
}

/** the names of the marked tensors among `tensors` */
export function transposedNames(tensors: Record<string, object>): Set<string> {
  return new Set(
    Object.entries(tensors)
      .filter(([, t]) => TRANSPOSED.has(t))
      .map(([k]) => k),
  );
}

type Numeric = Float32Array | Float64Array | Int32Array | Uint8Array;

/** row-major [rows, cols] data as [cols, rows] (a new array of the same type) */
export function transpose2d<T extends Numeric>(data: T, rows: number, cols: number): T {
  if (data.length !== rows * cols) throw new Error(`transpose2d: ${data.length} values for [${rows}, ${cols}]`);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * the shape a tensor of engine shape `shape` has in a file: reversed where marked and the file is in PyTorch's layout
 */
export function fileShape(spec: object, shape: readonly number[], pytorchLayout: boolean): number[] {
  if (!pytorchLayout || !TRANSPOSED.has(spec)) return [...shape];
  if (shape.length !== 2) throw new Error(`a tensor stored transposed must be 2-D, got [${shape.join(', ')}]`);
  return [shape[1], shape[0]];
}

/**
 * Whether a file's tensor `name`, which the model does not list, is one loading may drop: PyTorch's
 * `<batchnorm>.num_batches_tracked`, where the model has that batchnorm (its running_mean).
 */
export function droppedOnLoad(name: string, expected: object): boolean {
  const m = /^(.*)\.num_batches_tracked$/.exec(name);
  return m !== null && Object.hasOwn(expected, `${m[1]}.running_mean`);
}
