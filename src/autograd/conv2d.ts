// autograd/conv2d.ts — differentiable 2-D convolution and transposed convolution (NCHW), with an optional fused
// bias + activation epilogue. The transposed convolution is the convolution's input gradient run forward, so one
// set of three kernels (forward, input gradient, weight gradient) serves both.
import type { Activation, ConvDims } from './backend.js';
import { Tensor, record } from './tensor.js';
import { sumInto, preActivationGrad } from './grads.js';

export type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

export interface Conv2dOptions {
  stride?: Pair;
  /** a number or [top, left] (symmetric), 'valid' (0), or 'same' (TensorFlow's: output = ceil(in / stride), extra
  /** padding at the bottom/right) */
  padding?: Pair | 'same' | 'valid';
  activation?: Activation;
  /** leaky_relu slope */
  alpha?: number;
}

/** the convolution dims for x [N,C,H,W] and w [K,C,R,S] */
export function convDims(xs: readonly number[], ws: readonly number[], opts: Conv2dOptions): ConvDims {
  if (xs.length !== 4 || ws.length !== 4 || xs[1] !== ws[1])
    throw new Error(`conv2d: input [${xs}] (want [N, C, H, W]) and weight [${ws}] (want [K, C, R, S]) do not match`);
  const [N, C, H, W] = xs;
  const [K, , R, S] = ws;
  const [sh, sw] = pair(opts.stride ?? 1);
  let ph: number, pw: number, P: number, Q: number;
  const pad = opts.padding ?? 0;
  if (pad === 'same') {
    P = Math.ceil(H / sh);
    Q = Math.ceil(W / sw);
    ph = Math.floor(Math.max((P - 1) * sh + R - H, 0) / 2);
    pw = Math.floor(Math.max((Q - 1) * sw + S - W, 0) / 2);
  } else {
    [ph, pw] = pad === 'valid' ? [0, 0] : pair(pad);
    P = Math.floor((H + 2 * ph - R) / sh) + 1;
    Q = Math.floor((W + 2 * pw - S) / sw) + 1;
  }
  if (!(sh >= 1 && sw >= 1) || P < 1 || Q < 1)
    throw new Error(`conv2d: kernel ${R}×${S} stride ${sh}×${sw} does not fit input ${H}×${W}`);
  return { N, C, H, W, K, R, S, P, Q, sh, sw, ph, pw };
}

function checkBias(bias: Tensor | null | undefined, n: number, op: string): void {
  if (bias && (bias.size !== n || bias.dtype !== 'f32'))
    throw new Error(`${op}: bias [${bias.shape}] should have ${n} elements`);
}

/** y = act(conv2d(x, w) + bias); x [N,C,H,W], w [K,C,R,S], bias [K] → y [N,K,P,Q] */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const d = convDims(x.shape, w.shape, opts);
  checkBias(bias, d.K, 'conv2d');
  const act = opts.activation ?? 'none';
  const alpha = opts.alpha ?? 0.2;
  const be = x.backend;
  const y = Tensor.empty(be, [d.N, d.K, d.P, d.Q]);
  be.conv2d(x.store, w.store, bias?.store ?? null, y.store, d, act, alpha);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (g, needs, out) => {
    const gp = preActivationGrad(y, g, act, alpha);
    let gx: Tensor | null = null,
      gw: Tensor | null = null,
      gb: Tensor | null = null;
    if (needs[0]) {
      gx = Tensor.empty(be, x.shape);
      be.conv2dGradInput(gp.store, w.store, gx.store, d, null, 'none', 0);
    }
    if (needs[1]) {
      const o = out(1, w.shape);
      gw = o.t;
      be.conv2dGradWeight(x.store, gp.store, gw.store, d, o.add);
    }
    if (bias && needs[2]) gb = sumInto(gp, [0, 2, 3], out(2, bias.shape));
    if (gp !== g) gp.dispose();
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** PyTorch's padding (a number or pair), or 'same' (TensorFlow's: output = input · stride) */
  padding?: Pair | 'same';
  /** PyTorch's output_padding (extra rows/cols at the bottom/right), ignored with 'same' */
  outputPadding?: Pair;
  activation?: Activation;
  alpha?: number;
}

/** the dims of the convolution whose input gradient this transposed convolution is (x [N,Cin,H,W], w [Cin,Cout,R,S]) */
export function convTransposeDims(
  xs: readonly number[],
  ws: readonly number[],
  opts: ConvTranspose2dOptions,
): ConvDims {
  if (xs.length !== 4 || ws.length !== 4 || xs[1] !== ws[0])
    throw new Error(
      `convTranspose2d: input [${xs}] (want [N, Cin, H, W]) and weight [${ws}] (want [Cin, Cout, R, S]) do not match`,
    );
  const [N, Cin, H, W] = xs;
  const [, Cout, R, S] = ws;
  const [sh, sw] = pair(opts.stride ?? 1);
  let OH: number, OW: number, ph: number, pw: number;
  if (opts.padding === 'same') {
    OH = H * sh;
    OW = W * sw;
    ph = Math.floor(Math.max((H - 1) * sh + R - OH, 0) / 2);
    pw = Math.floor(Math.max((W - 1) * sw + S - OW, 0) / 2);
  } else {
    [ph, pw] = pair(opts.padding ?? 0);
    const [oph, opw] = pair(opts.outputPadding ?? 0);
    if (oph >= sh || opw >= sw) throw new Error(`convTranspose2d: output padding must be smaller than the stride`);
    OH = (H - 1) * sh - 2 * ph + R + oph;
    OW = (W - 1) * sw - 2 * pw + S + opw;
  }
  if (OH < 1 || OW < 1) throw new Error(`convTranspose2d: empty output ${OH}×${OW}`);
  return { N, C: Cout, H: OH, W: OW, K: Cin, R, S, P: H, Q: W, sh, sw, ph, pw };
}

/** y = act(conv_transpose2d(x, w) + bias); x [N,Cin,H,W], w [Cin,Cout,R,S] (PyTorch layout), bias [Cout] */
export function convTranspose2d(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null = null,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const d = convTransposeDims(x.shape, w.shape, opts);
  checkBias(bias, d.C, 'convTranspose2d');
  const act = opts.activation ?? 'none';
  const alpha = opts.alpha ?? 0.2;
  const be = x.backend;
  const y = Tensor.empty(be, [d.N, d.C, d.H, d.W]);
  be.conv2dGradInput(x.store, w.store, y.store, d, bias?.store ?? null, act, alpha);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'convTranspose2d', inputs, (g, needs, out) => {
    const gp = preActivationGrad(y, g, act, alpha);
    let gx: Tensor | null = null,
      gw: Tensor | null = null,
      gb: Tensor | null = null;
    if (needs[0]) {
      gx = Tensor.empty(be, x.shape);
      be.conv2d(gp.store, w.store, null, gx.store, d, 'none', 0);
    }
    if (needs[1]) {
      const o = out(1, w.shape);
      gw = o.t;
      be.conv2dGradWeight(gp.store, x.store, gw.store, d, o.add);
    }
    if (bias && needs[2]) gb = sumInto(gp, [0, 2, 3], out(2, bias.shape));
    if (gp !== g) gp.dispose();
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}
