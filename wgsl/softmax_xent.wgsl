// softmax_xent.wgsl — softmax cross-entropy with integer labels, row-wise over logits [N][C] (f32, row-major),
// labels [N] (i32). One thread per row (C is small for classifiers: 10 here), max-subtracted for stability.
//   softmax_xent:      loss[i] = logsumexp(x_i) − x_i[label_i]; a label outside [0, C) writes NaN (so a bad
//                      label cannot pass silently). Bindings: 1 logits, 2 labels (read), 3 loss (rw).
//   softmax_xent_grad: g[i][c] = gRow[i] · (softmax(x_i)_c − [c = label_i]).
//                      Bindings: 1 logits, 2 labels, 3 gRow (read), 4 gLogits (rw).
// Workgroups of 256 rows split over x/y (row = (x + y·nx)·256 + local).
struct P { N: u32, C: u32, nx: u32 }
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

@compute @workgroup_size(256)
fn softmax_xent(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  let y = labels[i];
  // a bad label gives NaN (built from a runtime value: WGSL rejects NaN constants)
  if (y < 0 || u32(y) >= p.C) { loss[i] = bitcast<f32>(0x7fc00000u | (p.N & 0u)); return; }
  let o = i * p.C;
  let m = rowMax(o);
  loss[i] = m + log(rowSumExp(o, m)) - logits[o + u32(y)];
}

@group(0) @binding(3) var<storage, read> gRow: array<f32>;
@group(0) @binding(4) var<storage, read_write> gLogits: array<f32>;

@compute @workgroup_size(256)
fn softmax_xent_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.N) { return; }
  let y = labels[i];
  let o = i * p.C;
  let m = rowMax(o);
  let s = rowSumExp(o, m);
  let g = gRow[i];
  for (var c = 0u; c < p.C; c++) {
    let onehot = select(0.0, 1.0, i32(c) == y);
    gLogits[o + c] = g * (exp(logits[o + c] - m) / s - onehot);
  }
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
