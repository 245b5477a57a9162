// softmax_xent.wgsl — softmax cross-entropy with integer labels, row-wise over logits [N][C] (f32, row-major),
// labels [N] (i32). One thread per row (C is small for classifiers: 10 here), max-subtracted for stability.
//   softmax_xent:      loss[i] = logsumexp(x_i) − x_i[label_i]; a label outside [0, C) writes NaN (so a bad
//                      label cannot pass silently). Bindings: 1 logits, 2 labels (read), 3 loss (rw).
//   softmax_xent_grad: g[i][c] = gRow[i] · (softmax(x_i)_c − [c = label_i]).
//                      Bindings: 1 logits, 2 labels, 3 gRow (read), 4 gLogits (rw).
//   softmax_xent_mean: loss[0] = scale·Σ_i loss_i, scale = 1/N (f32): the mean in one dispatch (instead of rows →
//                      sum → scale). One workgroup of 256 threads, summing in reduce_sum's order: N ≤ 64 (small = 1,
//                      REDUCE_SMALL_MAX) one thread adds rows 0..N−1 in turn (as reduce_small); otherwise thread li
//                      adds rows li, li+256, … and a tree adds the partial sums (as reduce_wg; sum_tree.wgsl).
//                      Bindings: 1 logits, 2 labels (read), 3 loss [1] (rw).
//   softmax_xent_mean_grad: softmax_xent_grad with every row's gRow = gLoss[0]·scale (instead of scale → expand →
//                      softmax_xent_grad). Bindings: 1 logits, 2 labels, 3 gLoss [1] (read), 4 gLogits (rw).
// Workgroups of 256 rows split over x/y (row = (x + y·nx)·256 + local), except softmax_xent_mean (one workgroup).
struct P { N: u32, C: u32, nx: u32, small: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

fn rowMax(o: u32) -> f32 {
  var m = logits[o];
  for (var c = 1u; c < p.C; c++) { m = max(m, logits[o + c]); }
  return m;
}
fn rowSumExp(o: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += exp(logits[o + c] - m); }
  return s;
}

fn rowLoss(i: u32) -> f32 {
  let y = labels[i];
  // a bad label gives NaN (built from a runtime value: WGSL rejects NaN constants)
  if (y < 0 || u32(y) >= p.C) { return bitcast<f32>(0x7fc00000u | (p.N & 0u)); }
  let o = i * p.C;
  let m = rowMax(o);
  return m + log(rowSumExp(o, m)) - logits[o + u32(y)];
}

@compute @workgroup_size(256)
fn softmax_xent(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  loss[i] = rowLoss(i);
}

@compute @workgroup_size(256)
fn softmax_xent_mean(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  if (p.small == 1u) {
    if (li == 0u) {
      for (var i = 0u; i < p.N; i++) { s += rowLoss(i); }
      loss[0] = s * p.scale;
    }
    return;
  }
  for (var i = li; i < p.N; i += 256u) { s += rowLoss(i); }
  let t = sumTree(li, s);
  if (li == 0u) { loss[0] = t * p.scale; }
}

@group(0) @binding(3) var<storage, read> gRow: array<f32>;
@group(0) @binding(4) var<storage, read_write> gLogits: array<f32>;

fn rowGrad(i: u32, g: f32) {
  let y = labels[i];
  let o = i * p.C;
  let m = rowMax(o);
  let s = rowSumExp(o, m);
  for (var c = 0u; c < p.C; c++) {
    let onehot = select(0.0, 1.0, i32(c) == y);
    gLogits[o + c] = g * (exp(logits[o + c] - m) / s - onehot);
  }
}

@compute @workgroup_size(256)
fn softmax_xent_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  rowGrad(i, gRow[i]);
}

@compute @workgroup_size(256)
fn softmax_xent_mean_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  rowGrad(i, gRow[0] * p.scale);
}

// argmax_match: hit[i] = 1 if the first largest logit of row i is at label_i, else 0 (accuracy without a
// readback of the logits). Bindings: 1 logits, 2 labels (read), 3 hit (rw; the `loss` binding above).
@compute @workgroup_size(256)
fn argmax_match(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  let o = i * p.C;
  var best = 0u;
  for (var c = 1u; c < p.C; c++) { if (logits[o + c] > logits[o + best]) { best = c; } }
  loss[i] = select(0.0, 1.0, i32(best) == labels[i]);
}
