// embedding.wgsl — row gather from a table weight [V][D] (f32, row-major) by indices [n] (i32), and its backward.
//   embedding:      out[i][d] = weight[idx[i]][d]; an index outside [0, V) writes NaN into the whole row i (a bad
//                   index cannot pass silently). One thread per output element (i, d), e = i·D + d.
//                   Bindings: 1 weight, 2 idx (read), 3 out (rw).
//   embedding_grad: gWeight[v][d] = Σ over i with idx[i] = v of g[i][d]. Deterministic and without atomics: one
//                   thread per weight element (v, d) scans all n indices in order and sums the matching rows of g
//                   (O(V·D·n) work: right for small tables such as 10 class labels; a large vocabulary would want
//                   a sort by index and segmented sums instead). Out-of-range indices match no row. ACCUM = 1
//                   (override) adds the sums to gWeight's values instead. Bindings: 1 idx, 2 g (read), 3 gWeight (rw).
// 256 threads per workgroup, workgroups split over x/y (e = (x + y·nx)·256 + local).
override ACCUM: u32 = 0u;
struct P { n: u32, V: u32, D: u32, nx: u32 }
@group(0) @binding(0) var<uniform> p: P;

@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn embedding(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = (wg.x + wg.y * p.nx) * 256u + li;
  if (e >= p.n * p.D) { return; }
  let i = e / p.D;
  let d = e - i * p.D;
  let v = idx[i];
  // NaN built from a runtime value (WGSL rejects NaN constants)
  if (v < 0 || u32(v) >= p.V) { out[e] = bitcast<f32>(0x7fc00000u | (p.n & 0u)); return; }
  out[e] = weight[u32(v) * p.D + d];
}

@group(0) @binding(1) var<storage, read> gidx: array<i32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gweight: array<f32>;

@compute @workgroup_size(256)
fn embedding_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = (wg.x + wg.y * p.nx) * 256u + li;
  if (e >= p.V * p.D) { return; }
  let v = i32(e / p.D);
  let d = e % p.D;
  var s = 0.0;
  for (var i = 0u; i < p.n; i++) {
    if (gidx[i] == v) { s += g[i * p.D + d]; }
  }
  if (ACCUM == 1u) { gweight[e] = gweight[e] + s; } else { gweight[e] = s; }
}
