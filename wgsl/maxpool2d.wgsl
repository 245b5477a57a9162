// maxpool2d.wgsl — 2-D max pooling over x [N][C][H][W] (f32, NCHW, row-major) with k×k windows at stride s, no
// padding, floor mode: out [N][C][OH][OW], OH = ⌊(H − k)/s⌋ + 1 (trailing rows/columns no window covers are
// dropped, as PyTorch). A window's argmax is its FIRST maximum in row-major window order (strict >), identical
// in the forward, the backward and the CPU reference (src/cpu/maxpool2d.ts).
//   maxpool2d:      out[n][c][oh][ow] = max of the window at (oh·s, ow·s). One thread per output element.
//                   Bindings: 1 x (read), 2 out (rw).
//   maxpool2d_grad: a gather, no atomics: one thread per input element (ih, iw) visits the windows that contain
//                   it (oh ∈ [⌈(ih − k + 1)/s⌉, ⌊ih/s⌋] ∩ [0, OH), likewise ow), recomputes each one's argmax from x
//                   and sums g over those whose argmax it is; elements no window covers get 0. With s = k that is
//                   at most one window. Bindings: 1 x, 2 g (read), 3 gx (rw).
// DROP = 1 (override) fuses inverted dropout after the pooling: maxpool2d writes out[e] = (bits(key, e) >> 8) ≥
// threshold ? max·scale : 0 (random.wgsl's dropout mask of the pooled tensor, wgsl/hash.wgsl appended by the TS
// side), and maxpool2d_grad reads each window's g through the same mask — one kernel each way instead of two.
// 256 threads per workgroup, workgroups split over x/y (e = (x + y·nx)·256 + local).
override DROP: u32 = 0u;
struct P {
  n: u32, nx: u32, H: u32, W: u32,
  k: u32, s: u32, OH: u32, OW: u32,
  key: u32, threshold: u32, scale: f32,
}
@group(0) @binding(0) var<uniform> p: P;

/** the dropout of pooled element j's value v (DROP = 1), else v */
fn drop(v: f32, j: u32) -> f32 {
  if (DROP == 0u) { return v; }
  return dropKeep(v, p.key, j, p.threshold, p.scale);
}

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

/** offset in x of the first maximum of window (oh, ow) of the plane starting at `base` */
fn argmax(base: u32, oh: u32, ow: u32) -> u32 {
  let h0 = oh * p.s;
  let w0 = ow * p.s;
  var best = base + h0 * p.W + w0;
  var bv = x[best];
  for (var i = 0u; i < p.k; i++) {
    for (var j = 0u; j < p.k; j++) {
      let o = base + (h0 + i) * p.W + w0 + j;
      let v = x[o];
      if (v > bv) { best = o; bv = v; }
    }
  }
  return best;
}

@compute @workgroup_size(256)
fn maxpool2d(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = (wg.x + wg.y * p.nx) * 256u + li;
  if (e >= p.n) { return; }
  let ow = e % p.OW;
  let t = e / p.OW;
  let oh = t % p.OH;
  let plane = t / p.OH;
  out[e] = drop(x[argmax(plane * p.H * p.W, oh, ow)], e);
}

@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gx: array<f32>;

/** the first window index along one axis whose window [o·s, o·s + k) contains i */
fn firstWindow(i: u32) -> u32 {
  if (i + 1u < p.k) { return 0u; }
  return (i + 1u - p.k + p.s - 1u) / p.s;
}

@compute @workgroup_size(256)
fn maxpool2d_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = (wg.x + wg.y * p.nx) * 256u + li;
  if (e >= p.n) { return; }
  let iw = e % p.W;
  let t = e / p.W;
  let ih = t % p.H;
  let plane = t / p.H;
  let base = plane * p.H * p.W;
  let gbase = plane * p.OH * p.OW;
  var s = 0.0;
  let ohEnd = min(ih / p.s + 1u, p.OH);
  let owEnd = min(iw / p.s + 1u, p.OW);
  for (var oh = firstWindow(ih); oh < ohEnd; oh++) {
    for (var ow = firstWindow(iw); ow < owEnd; ow++) {
      let j = gbase + oh * p.OW + ow;
      if (argmax(base, oh, ow) == e) { s += drop(g[j], j); }
    }
  }
  gx[e] = s;
}
