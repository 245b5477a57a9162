// batchnorm.wgsl — batch normalisation over x [N][C][L] (f32, row-major; L = H·W for NCHW images, 1 for [N][C]
// features). Per-channel statistics run over the M = N·L elements x[(n·C + c)·L + l].
//   batchnorm_stats:   mean[c] = Σx/M, var[c] = Σ(x − mean)²/M (biased), two passes over the channel.
//                      One 256-thread workgroup per channel: strided partial sums, then a fixed tree in
//                      workgroup memory (deterministic, no atomics). Bindings: 1 x (read), 2 mean, 3 var (rw).
//   batchnorm_stats_running: batchnorm_stats (training mode), and the same thread that writes the channel's
//                      statistics updates the running ones in place: rmean = (1 − m)·rmean + m·mean,
//                      rvar = (1 − m)·rvar + m·var·unbias (unbias = M/(M − 1): PyTorch's unbiased running var).
//                      Bindings: 1 x (read), 2 mean, 3 var, 4 rmean, 5 rvar (rw).
//   batchnorm_apply:   out[i] = (x[i] − mean[c])·gamma[c]/√(var[c] + eps) + beta[c]. One thread per element.
//                      Fused epilogue (override constants, one pipeline each): ACT, an activation of
//                      wgsl/activation.wgsl (0 none, 1 relu, 2 leaky_relu with slope alpha), then with DROP = 1
//                      inverted dropout: out = (bits(key, i) >> 8) ≥ threshold ? out·scale : 0, the mask of
//                      random.wgsl's dropout for stream key (wgsl/hash.wgsl). Bindings: 1 x, 2 mean, 3 var,
//                      4 gamma, 5 beta (read), 6 out (rw).
//   activation_dropout: the epilogue alone, on a tensor no batchnorm precedes (a convolution's output):
//                      out[i] = dropout(act(x[i]), i), same ACT, DROP. Bindings: 1 x (read), 2 out (rw).
//   batchnorm_epilogue_grad: the gradient back through that epilogue (either entry's), one thread per element (same ACT, DROP):
//                      gn = (DROP ? (kept ? g·scale : 0) : g)·act'(y), the slope read off the sign of the
//                      epilogue's output y (relu: y > 0; leaky_relu: 1 or alpha), which is the sign of its input
//                      wherever the element was kept. Bindings: 1 g, 2 y (read), 3 gn (rw).
//   batchnorm_grad:    one 256-thread workgroup per channel; it reads its incoming gradient g through gIn(i).
//                      Pass 1 (tree as in stats): gBeta[c] = Σg,
//                      gGamma[c] = Σ g·x̂ with x̂ = (x − mean)·invstd. Pass 2 writes the channel's gx:
//                      training: gx = gamma·invstd·(g − Σg/M − x̂·Σ(g·x̂)/M); eval: gx = g·gamma·invstd.
//                      ACCUM (override, bits: 1 gGamma, 2 gBeta) adds those sums to the outputs' values instead
//                      (a parameter's second gradient). Bindings: 1 x, 2 g, 3 mean, 4 var, 5 gamma (read), 6 gx,
//                      7 gGamma, 8 gBeta (rw) — 8 storage buffers, WebGPU's default per-stage limit.
//                      Through the epilogue (devices with ≥ 9 storage buffers per stage): the TS side swaps the
//                      line marked GRAD_IN for a gIn that takes g back through batchnorm_apply's epilogue itself
//                      (epiGrad of binding 9, the epilogue's output y), so batchnorm_epilogue_grad's pass and its
//                      buffer are skipped; same ACT, DROP, and the same f32 values as the two kernels give.
// IN_RELU = 1 (override, statistics, apply and grad): x is read through relu — the ReLU of the layer before (a
// convolution's), moved into the batchnorm so that batchnorm_grad's gx is also the gradient before that ReLU
// (gx·[x > 0]), one kernel fewer than the ReLU's own gradient pass.
// Per-channel workgroups split over x/y (c = x + y·nx); per-element threads likewise (i = (x + y·nx)·256 + local).
// The TS side appends wgsl/activation.wgsl and wgsl/hash.wgsl.
override ACT: u32 = 0u;
override DROP: u32 = 0u;
override ACCUM: u32 = 0u;
override IN_RELU: u32 = 0u;
struct P {
  N: u32, C: u32, L: u32, nx: u32,
  n: u32, training: u32, eps: f32, momentum: f32,
  unbias: f32, alpha: f32, key: u32, threshold: u32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> p: P;

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

/** an input value as the batchnorm sees it: through relu with IN_RELU = 1 */
fn xin(v: f32) -> f32 {
  if (IN_RELU == 1u) { return max(v, 0.0); }
  return v;
}

/** offset of element m ∈ [0, N·L) of channel c */
fn at(c: u32, m: u32) -> u32 {
  let n = m / p.L;
  return (n * p.C + c) * p.L + (m - n * p.L);
}

/** sum of v over the workgroup (fixed tree order); every invocation gets the result */
fn wgSum(li: u32, v: f32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (li < w) { red[li] += red[li + w]; }
    workgroupBarrier();
  }
  let s = red[0];
  workgroupBarrier(); // red is reused by the next call
  return s;
}

// ---------------------------------------------------------------- statistics
@group(0) @binding(1) var<storage, read> sx: array<f32>;
@group(0) @binding(2) var<storage, read_write> smean: array<f32>;
@group(0) @binding(3) var<storage, read_write> svar: array<f32>;
@group(0) @binding(4) var<storage, read_write> srmean: array<f32>;
@group(0) @binding(5) var<storage, read_write> srvar: array<f32>;

/** channel c's mean and biased variance (two passes), written to smean/svar by invocation 0 and returned to all */
fn channelStats(c: u32, li: u32) -> vec2<f32> {
  let M = p.N * p.L;
  var s = 0.0;
  if (c < p.C) {
    for (var m = li; m < M; m += 256u) { s += xin(sx[at(c, m)]); }
  }
  let mu = wgSum(li, s) / f32(M);
  var q = 0.0;
  if (c < p.C) {
    for (var m = li; m < M; m += 256u) {
      let d = xin(sx[at(c, m)]) - mu;
      q += d * d;
    }
  }
  let v = wgSum(li, q) / f32(M);
  if (li == 0u && c < p.C) {
    smean[c] = mu;
    svar[c] = v;
  }
  return vec2<f32>(mu, v);
}

@compute @workgroup_size(256)
fn batchnorm_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  _ = channelStats(wg.x + wg.y * p.nx, li);
}

@compute @workgroup_size(256)
fn batchnorm_stats_running(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x + wg.y * p.nx;
  let st = channelStats(c, li);
  if (li == 0u && c < p.C) {
    let m = p.momentum;
    srmean[c] = (1.0 - m) * srmean[c] + m * st.x;
    srvar[c] = (1.0 - m) * srvar[c] + m * st.y * p.unbias;
  }
}

// ---------------------------------------------------------------- normalise, scale, shift
/** inverted dropout of element i's value v: v·scale where stream key's word keeps it, else 0 */
fn dropout(v: f32, i: u32) -> f32 {
  return select(0.0, v * p.scale, (bits(p.key, i) >> 8u) >= p.threshold);
}

@group(0) @binding(1) var<storage, read> ax: array<f32>;
@group(0) @binding(2) var<storage, read> amean: array<f32>;
@group(0) @binding(3) var<storage, read> avar: array<f32>;
@group(0) @binding(4) var<storage, read> agamma: array<f32>;
@group(0) @binding(5) var<storage, read> abeta: array<f32>;
@group(0) @binding(6) var<storage, read_write> aout: array<f32>;

@compute @workgroup_size(256)
fn batchnorm_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let c = (i / p.L) % p.C;
  let k = agamma[c] / sqrt(avar[c] + p.eps);
  let y = activate((xin(ax[i]) - amean[c]) * k + abeta[c], ACT, p.alpha);
  if (DROP == 0u) {
    aout[i] = y;
  } else {
    aout[i] = dropout(y, i);
  }
}

@group(0) @binding(1) var<storage, read> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> dout: array<f32>;

@compute @workgroup_size(256)
fn activation_dropout(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let y = activate(dx[i], ACT, p.alpha);
  if (DROP == 0u) {
    dout[i] = y;
  } else {
    dout[i] = dropout(y, i);
  }
}

// ---------------------------------------------------------------- back through the epilogue
@group(0) @binding(1) var<storage, read> eg: array<f32>;
@group(0) @binding(2) var<storage, read> ey: array<f32>;
@group(0) @binding(3) var<storage, read_write> egn: array<f32>;

/** element i's gradient g0 taken back through the epilogue, given the epilogue's output y */
fn epiGrad(g0: f32, y: f32, i: u32) -> f32 {
  var g = g0;
  if (DROP == 1u) { g = dropout(g, i); }
  if (ACT == 1u) { g = g * select(0.0, 1.0, y > 0.0); }
  if (ACT == 2u) { g = g * select(p.alpha, 1.0, y > 0.0); }
  return g;
}

@compute @workgroup_size(256)
fn batchnorm_epilogue_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  egn[i] = epiGrad(eg[i], ey[i], i);
}

// ---------------------------------------------------------------- backward
@group(0) @binding(1) var<storage, read> gx_x: array<f32>;
@group(0) @binding(2) var<storage, read> gx_g: array<f32>;
@group(0) @binding(3) var<storage, read> gx_mean: array<f32>;
@group(0) @binding(4) var<storage, read> gx_var: array<f32>;
@group(0) @binding(5) var<storage, read> gx_gamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> gx_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> gx_ggamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> gx_gbeta: array<f32>;
fn gIn(i: u32) -> f32 { return gx_g[i]; } // GRAD_IN

@compute @workgroup_size(256)
fn batchnorm_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x + wg.y * p.nx;
  let M = p.N * p.L;
  var mu = 0.0;
  var invstd = 0.0;
  var sg = 0.0;
  var sgx = 0.0;
  if (c < p.C) {
    mu = gx_mean[c];
    invstd = 1.0 / sqrt(gx_var[c] + p.eps);
    for (var m = li; m < M; m += 256u) {
      let i = at(c, m);
      let g = gIn(i);
      sg += g;
      sgx += g * (xin(gx_x[i]) - mu) * invstd;
    }
  }
  let SG = wgSum(li, sg);
  let SGX = wgSum(li, sgx);
  if (c >= p.C) { return; }
  if (li == 0u) {
    if ((ACCUM & 2u) != 0u) { gx_gbeta[c] = gx_gbeta[c] + SG; } else { gx_gbeta[c] = SG; }
    if ((ACCUM & 1u) != 0u) { gx_ggamma[c] = gx_ggamma[c] + SGX; } else { gx_ggamma[c] = SGX; }
  }
  let k = gx_gamma[c] * invstd;
  let fM = f32(M);
  for (var m = li; m < M; m += 256u) {
    let i = at(c, m);
    var v: f32;
    if (p.training != 0u) {
      let xhat = (xin(gx_x[i]) - mu) * invstd;
      v = k * (gIn(i) - SG / fM - xhat * (SGX / fM));
    } else {
      v = k * gIn(i);
    }
    if (IN_RELU == 1u) { v = v * select(0.0, 1.0, gx_x[i] > 0.0); }
    gx_out[i] = v;
  }
}
