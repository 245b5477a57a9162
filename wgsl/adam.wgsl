// adam.wgsl — fused in-place Adam/AdamW updates of parameters with their moments (flat f32 arrays):
//   g ← grad (+ wd·p for Adam's L2 decay);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p·(1 − lr·wd) for AdamW's decoupled decay;  p ← p − (lr/bc1)·m / (√v/√bc2 + eps)   (PyTorch's order)
// with bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t. The host computes 1 − β1, 1 − β2, lr/bc1 and 1/√bc2 in
// float64: forming 1 − β2 in f32 from f32(0.999) alone would be off by 1.3e-5 and bias every step.
//   adam:       one tensor of n elements; one thread per element, 256 per workgroup.
//   adam_multi: every tensor of an optimizer in one dispatch. grad, param, m and v are arenas (one buffer each,
//               the same layout in all four: tensor k at element offset off_k, a multiple of 64, i.e. 256 bytes).
//               The tensors to update are cut into runs of ≤ 256 elements, one per workgroup, and the table holds
//               one row per workgroup, (first element, length): tensor k of n_k elements gets ⌈n_k/256⌉ rows
//               (off_k + 256·t, min(256, n_k − 256·t)). Workgroup w updates row w's elements, one per invocation.
//               Tensors not in the table (no gradient this step) and the padding between slots are untouched.
// Workgroups split over x/y (id = x + y·nx). Bindings: 0 uniform P, 1 grad (read), 2 param (rw), 3 m (rw),
// 4 v (rw); adam_multi also 5 table (read, `groups` rows of vec2<u32>).
struct P {
  n: u32, nx: u32, decoupled: u32, groups: u32,
  beta1: f32, beta2: f32, omb1: f32, omb2: f32,
  eps: f32, wd: f32, lrWd: f32, stepSize: f32,
  invSqrtBc2: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> table: array<vec2<u32>>;

/** the update of element i */
fn update(i: u32) {
  var w = param[i];
  var g = grad[i];
  if (p.decoupled == 0u) { g = fma(p.wd, w, g); } else { w = w - p.lrWd * w; }
  let mi = fma(p.beta1, m[i], p.omb1 * g);
  let vi = fma(p.beta2, v[i], p.omb2 * g * g);
  m[i] = mi;
  v[i] = vi;
  param[i] = w - p.stepSize * mi / (sqrt(vi) * p.invSqrtBc2 + p.eps);
}

@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  update(i);
}

// one table read per workgroup, no search: a per-invocation or barrier-shared binary search over per-tensor rows ran
// this kernel 2× slower than the per-tensor kernels on lavapipe
@compute @workgroup_size(256)
fn adam_multi(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let w = wg.x + wg.y * p.nx;
  if (w >= p.groups) { return; }
  let r = table[w];
  if (li >= r.y) { return; }
  update(r.x + li);
}
