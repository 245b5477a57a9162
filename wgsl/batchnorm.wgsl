// batchnorm.wgsl — batch normalisation over x [N][C][L] (f32, row-major; L = H·W for NCHW images, 1 for [N][C]
// features): per-channel mean and biased variance over the N·L elements x[(n·C + c)·L + l], per group of samples.
//   batchnorm_stats(_running): the statistics (and the running ones), one 256-thread workgroup per channel,
//     sums in a fixed tree in workgroup memory (deterministic, no atomics).
//   batchnorm_apply: out = (x − mean)·gamma/√(var + eps) + beta, then the epilogue (ACT, DROP: activation and
//     dropout); activation_dropout: the epilogue alone; batchnorm_epilogue_grad: its gradient. A thread per element.
//   batchnorm_grad: gBeta = Σg, gGamma = Σg·x̂ and gx, a workgroup per channel (ACCUM: add to gGamma, gBeta).
//   Sliced, for few long channels: batchnorm_stats_part/_merge, batchnorm_grad_part/_apply (the last section).
// IN_RELU = 1: x is read through relu (the previous layer's ReLU, moved in). Workgroups and threads split over x/y
// (c = x + y·nx; i = (x + y·nx)·256 + local). The TS side appends wgsl/activation.wgsl and wgsl/hash.wgsl.
// Bindings: 0 uniform P; each section declares its entries' storage buffers above them (x read, outputs rw).
// Formulas, bindings per entry, groups, the epilogue's gradient: docs/batchnorm-kernel.md.
override ACT: u32 = 0u;
override DROP: u32 = 0u;
override ACCUM: u32 = 0u;
override IN_RELU: u32 = 0u;
struct P {
  N: u32, C: u32, L: u32, nx: u32,
  n: u32, training: u32, eps: f32, momentum: f32,
  unbias: f32, alpha: f32, key: u32, threshold: u32,
  scale: f32, slices: u32, chunk: u32, groups: u32,
}
@group(0) @binding(0) var<uniform> p: P;

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

/** an input value as the batchnorm sees it: through relu with IN_RELU = 1 */
fn xin(v: f32) -> f32 {
  if (IN_RELU == 1u) { return max(v, 0.0); }
  return v;
}

/** elements per channel in a group: Ng·L */
fn groupM() -> u32 {
  return (p.N / p.groups) * p.L;
}

/** offset of element m ∈ [0, Ng·L) of channel c in group g */
fn at(g: u32, c: u32, m: u32) -> u32 {
  let n = m / p.L;
  return ((g * (p.N / p.groups) + n) * p.C + c) * p.L + (m - n * p.L);
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

/** the mean and M2 = Σ(x − mean)² of group g's channel c's elements [m0, m1) (two passes), to every invocation */
fn rangeStats(g: u32, c: u32, m0: u32, m1: u32, li: u32) -> vec2<f32> {
  var s = 0.0;
  if (c < p.C) {
    for (var m = m0 + li; m < m1; m += 256u) { s += xin(sx[at(g, c, m)]); }
  }
  let mu = wgSum(li, s) / f32(max(m1 - m0, 1u));
  var q = 0.0;
  if (c < p.C) {
    for (var m = m0 + li; m < m1; m += 256u) {
      let d = xin(sx[at(g, c, m)]) - mu;
      q += d * d;
    }
  }
  return vec2<f32>(mu, wgSum(li, q));
}

/** group g's channel c's mean and biased variance, written to smean/svar by invocation 0 and returned to all */
fn channelStats(g: u32, c: u32, li: u32) -> vec2<f32> {
  let M = groupM();
  let st = rangeStats(g, c, 0u, M, li);
  let v = st.y / f32(M);
  if (li == 0u && c < p.C) {
    smean[g * p.C + c] = st.x;
    svar[g * p.C + c] = v;
  }
  return vec2<f32>(st.x, v);
}

@compute @workgroup_size(256)
fn batchnorm_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  for (var g = 0u; g < p.groups; g++) { _ = channelStats(g, wg.x + wg.y * p.nx, li); }
}

@compute @workgroup_size(256)
fn batchnorm_stats_running(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x + wg.y * p.nx;
  for (var g = 0u; g < p.groups; g++) {
    let st = channelStats(g, c, li);
    if (li == 0u && c < p.C) {
      let m = p.momentum;
      srmean[c] = (1.0 - m) * srmean[c] + m * st.x;
      srvar[c] = (1.0 - m) * srvar[c] + m * st.y * p.unbias;
    }
  }
}

// ---------------------------------------------------------------- normalise, scale, shift
/** inverted dropout of element i's value v: v·scale where stream key's word keeps it, else 0 */
fn dropout(v: f32, i: u32) -> f32 {
  return dropKeep(v, p.key, i, p.threshold, p.scale);
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
  let s = (i / ((p.N / p.groups) * p.C * p.L)) * p.C + c; // the statistics of the element's group
  let k = agamma[c] / sqrt(avar[s] + p.eps);
  let y = activate((xin(ax[i]) - amean[s]) * k + abeta[c], ACT, p.alpha);
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

/** the index of group g's channel c's statistics: training, g·C + c; eval (the running ones), c */
fn statAt(g: u32, c: u32) -> u32 {
  return select(c, g * p.C + c, p.training != 0u);
}

/** Σg and Σg·x̂ over group g's channel c's elements [m0, m1), to every invocation (pass 1) */
fn gradSums(g: u32, c: u32, m0: u32, m1: u32, li: u32) -> vec2<f32> {
  var sg = 0.0;
  var sgx = 0.0;
  if (c < p.C) {
    let mu = gx_mean[statAt(g, c)];
    let invstd = 1.0 / sqrt(gx_var[statAt(g, c)] + p.eps);
    for (var m = m0 + li; m < m1; m += 256u) {
      let i = at(g, c, m);
      let g = gIn(i);
      sg += g;
      sgx += g * (xin(gx_x[i]) - mu) * invstd;
    }
  }
  return vec2<f32>(wgSum(li, sg), wgSum(li, sgx));
}

/** gBeta[c] = Σg, gGamma[c] = Σg·x̂ (or added to them, by ACCUM) */
fn writeParamGrads(c: u32, S: vec2<f32>) {
  if ((ACCUM & 2u) != 0u) { gx_gbeta[c] = gx_gbeta[c] + S.x; } else { gx_gbeta[c] = S.x; }
  if ((ACCUM & 1u) != 0u) { gx_ggamma[c] = gx_ggamma[c] + S.y; } else { gx_ggamma[c] = S.y; }
}

/** gx over group g's channel c's elements [m0, m1), given the group's channel's sums S = (Σg, Σg·x̂) (pass 2) */
fn writeGx(g: u32, c: u32, m0: u32, m1: u32, li: u32, S: vec2<f32>) {
  let mu = gx_mean[statAt(g, c)];
  let invstd = 1.0 / sqrt(gx_var[statAt(g, c)] + p.eps);
  let k = gx_gamma[c] * invstd;
  let fM = f32(groupM());
  for (var m = m0 + li; m < m1; m += 256u) {
    let i = at(g, c, m);
    var v: f32;
    if (p.training != 0u) {
      let xhat = (xin(gx_x[i]) - mu) * invstd;
      v = k * (gIn(i) - S.x / fM - xhat * (S.y / fM));
    } else {
      v = k * gIn(i);
    }
    if (IN_RELU == 1u) { v = v * select(0.0, 1.0, gx_x[i] > 0.0); }
    gx_out[i] = v;
  }
}

@compute @workgroup_size(256)
fn batchnorm_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x + wg.y * p.nx;
  let M = groupM();
  var total = vec2<f32>(0.0);
  for (var g = 0u; g < p.groups; g++) {
    let S = gradSums(g, c, 0u, M, li);
    total += S;
    if (c < p.C) { writeGx(g, c, 0u, M, li, S); }
  }
  if (c < p.C && li == 0u) { writeParamGrads(c, total); }
}

// ---------------------------------------------------------------- sliced (few, long channels)
// One workgroup per channel leaves most of a GPU idle when there are few channels of many elements (the CNN's
// first layers: 32 channels of N·L = 50 176 values at batch 64: 32 workgroups, each a long serial walk). The sliced
// path gives each channel p.slices workgroups, slice s holding elements [s·chunk, min((s + 1)·chunk, M)) (none
// empty; M = Ng·L, per group); workgroup w = (g·C + c)·slices + s, its partial results at part[2w], part[2w + 1].
// Deterministic: fixed trees in a workgroup, slices combined in order, groups in order.
//   batchnorm_stats_part:  the slice's mean and M2 = Σ(x − mean_s)² (two passes over the slice).
//                          Bindings: 1 x (read), 2 part (rw).
//   batchnorm_stats_merge: one thread per channel merges each group's slices in order (Chan, Golub and LeVeque:
//                          δ = mean_b − mean, n' = n + n_b, mean += δ·n_b/n', M2 += M2_b + δ²·n·n_b/n'), writes
//                          mean and var = M2/M, and with RUNNING = 1 updates the running statistics as
//                          batchnorm_stats_running does. Bindings: 1 part (read), 2 mean, 3 var, 4 rmean, 5 rvar (rw).
//   batchnorm_grad_part:   the slice's Σg and Σg·x̂. Bindings: 1 x, 2 g, 3 mean, 4 var (read), 5 part (rw).
//   batchnorm_grad_apply:  every workgroup of a group's channel adds its slices' sums in order (the same sums in
//                          each), writes its slice's gx as batchnorm_grad's second pass does; group 0's slice 0
//                          writes gGamma, gBeta (every group's sums, added in group order; ACCUM as there). Bindings: batchnorm_grad's 1–8, 9 part (read).
// (A gradient through an epilogue is taken back by batchnorm_epilogue_grad first on this path.)
override RUNNING: u32 = 0u;

/** v = g·C + c's channel c, or C (which reads nothing) for a workgroup past the last group's channels */
fn validChannel(v: u32) -> u32 {
  return select(p.C, v % p.C, v < p.C * p.groups);
}

/** workgroup w's group and channel as one index v = g·C + c, and its element range [m0, m1) */
fn sliceOf(w: u32) -> vec3<u32> {
  let v = w / p.slices;
  let M = groupM();
  let m0 = min((w - v * p.slices) * p.chunk, M);
  return vec3<u32>(v, m0, min(m0 + p.chunk, M));
}

@group(0) @binding(2) var<storage, read_write> spart: array<f32>;

@compute @workgroup_size(256)
fn batchnorm_stats_part(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let w = wg.x + wg.y * p.nx;
  let r = sliceOf(w);
  let st = rangeStats(r.x / p.C, validChannel(r.x), r.y, r.z, li);
  if (li == 0u && r.x < p.C * p.groups) {
    spart[2u * w] = st.x;
    spart[2u * w + 1u] = st.y;
  }
}

@group(0) @binding(1) var<storage, read> mpart: array<f32>;

@compute @workgroup_size(256)
fn batchnorm_stats_merge(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = (wg.x + wg.y * p.nx) * 256u + li;
  if (c >= p.C) { return; }
  let M = groupM();
  for (var g = 0u; g < p.groups; g++) {
    let w0 = (g * p.C + c) * p.slices;
    var n = f32(min(p.chunk, M));
    var mean = mpart[2u * w0];
    var m2 = mpart[2u * w0 + 1u];
    for (var s = 1u; s < p.slices; s++) {
      let m0 = s * p.chunk;
      let nb = f32(min(m0 + p.chunk, M) - m0);
      let d = mpart[2u * (w0 + s)] - mean;
      let nt = n + nb;
      mean += d * (nb / nt);
      m2 += mpart[2u * (w0 + s) + 1u] + d * d * (n * nb / nt);
      n = nt;
    }
    let v = m2 / f32(M);
    smean[g * p.C + c] = mean;
    svar[g * p.C + c] = v;
    if (RUNNING == 1u) {
      let m = p.momentum;
      srmean[c] = (1.0 - m) * srmean[c] + m * mean;
      srvar[c] = (1.0 - m) * srvar[c] + m * v * p.unbias;
    }
  }
}

@group(0) @binding(5) var<storage, read_write> gpart: array<f32>;

@compute @workgroup_size(256)
fn batchnorm_grad_part(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let w = wg.x + wg.y * p.nx;
  let r = sliceOf(w);
  let S = gradSums(r.x / p.C, validChannel(r.x), r.y, r.z, li);
  if (li == 0u && r.x < p.C * p.groups) {
    gpart[2u * w] = S.x;
    gpart[2u * w + 1u] = S.y;
  }
}

@group(0) @binding(9) var<storage, read> gx_part: array<f32>;

@compute @workgroup_size(256)
fn batchnorm_grad_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let w = wg.x + wg.y * p.nx;
  let r = sliceOf(w);
  if (r.x >= p.C * p.groups) { return; }
  let g = r.x / p.C;
  let c = r.x % p.C;
  let S = sliceSums(r.x);
  if (li == 0u && w == c * p.slices) {
    // group 0's slice 0: gGamma, gBeta over every group (group 0's sums, then each next group's added)
    var total = S;
    for (var h = 1u; h < p.groups; h++) { total += sliceSums(h * p.C + c); }
    writeParamGrads(c, total);
  }
  writeGx(g, c, r.y, r.z, li, S);
}

/** the sums (Σg, Σg·x̂) of v = g·C + c: its slices' partial sums added in slice order */
fn sliceSums(v: u32) -> vec2<f32> {
  let w0 = v * p.slices;
  var S = vec2<f32>(0.0);
  for (var s = 0u; s < p.slices; s++) { S += vec2<f32>(gx_part[2u * (w0 + s)], gx_part[2u * (w0 + s) + 1u]); }
  return S;
}
