// bce_logits.wgsl — the mean binary cross-entropy of sigmoid(logits) against targets, and its gradient, each in one
// dispatch (instead of elementwise → sum → scale forward and scale → expand → sigmoid_sub → mul backward).
// Layouts: logits [G·n] f32 (any shape, flattened): G groups of n consecutive logits (G = 1 but for a batch of
// groups, e.g. a discriminator's real and generated images in one pass); targets [G·n] f32 (tStride 1) or one
// value for all (tStride 0); loss and prob [G].
//   bce_logits_mean:      per group k (workgroup k): loss[k] = scale·Σ_i (max(a,0) − a·t + log(1 + e^−|a|)) and
//                         prob[k] = scale·Σ_i sigmoid(a) over the group's i, scale = 1/n (f32): the mean loss and
//                         the mean probability (a discriminator's D(x)), the same bits as a call on the group alone.
//                         Workgroups of 256 threads. The sums run in reduce_sum's order: n ≤ 64 (small = 1,
//                         REDUCE_SMALL_MAX) one thread adds i = 0..n−1 in turn (as reduce_small); otherwise thread
//                         li adds i = li, li+256, … and a tree adds the 256 partial sums (as reduce_wg, sum_tree.wgsl).
//                         Bindings: 1 logits, 2 targets (read), 3 loss [1] (rw), 4 prob [1] (rw).
//   bce_logits_mean_grad: gLogits[i] = (sigmoid(a_i) − t_i)·(g·scale), g = gLoss[k] of i's group k = ⌊i/n⌋. One
//                         thread per element of all G·n, 256 per workgroup, workgroups split over x/y (i = (x + y·nx)·256 + local).
//                         Bindings: 1 logits, 2 targets, 3 gLoss [1] (read), 4 gLogits (rw).
struct P { n: u32, tStride: u32, small: u32, nx: u32, scale: f32, groups: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> prob: array<f32>;

fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// the elementwise bce_logits term (elementwise.wgsl's binary op 5, written identically)
fn term(i: u32) -> f32 { // i: an index into all G·n logits
  let a = logits[i];
  let b = targets[i * p.tStride];
  return max(a, 0.0) - a * b + log(1.0 + exp(-abs(a)));
}

@compute @workgroup_size(256)
fn bce_logits_mean(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let k = wg.x;
  let o = k * p.n; // the group's first logit
  var s = 0.0;
  var q = 0.0;
  if (p.small == 1u) {
    if (li == 0u) {
      for (var i = 0u; i < p.n; i++) {
        s += term(o + i);
        q += sigm(logits[o + i]);
      }
      loss[k] = s * p.scale;
      prob[k] = q * p.scale;
    }
    return;
  }
  for (var i = li; i < p.n; i += 256u) {
    s += term(o + i);
    q += sigm(logits[o + i]);
  }
  let ts = sumTree(li, s);
  let tq = sumTree(li, q);
  if (li == 0u) {
    loss[k] = ts * p.scale;
    prob[k] = tq * p.scale;
  }
}

@group(0) @binding(3) var<storage, read> gLoss: array<f32>;
@group(0) @binding(4) var<storage, read_write> gLogits: array<f32>;

@compute @workgroup_size(256)
fn bce_logits_mean_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n * p.groups) { return; }
  gLogits[i] = (sigm(logits[i]) - targets[i * p.tStride]) * (gLoss[i / p.n] * p.scale);
}
