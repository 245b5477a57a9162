// reduce.wgsl — reduce_sum: out[o] = Σ_r x[base(o) + off(r)] over any set of axes of a row-major f32 tensor.
// The kept axes (shape ks, input strides kst) index the output o; the reduced axes (shape rs, strides rst)
// index r in [0, R). Rank ≤ 8 each. Two entry points:
//   reduce_wg:    one 256-thread workgroup per output element, strided partial sums then a tree in workgroup
//                 memory (deterministic, no atomics); for large R. Workgroups split over x/y (o = x + y·nx).
//   reduce_small: one thread per output element, a plain loop over R; for small R.
// Sliced (chunk > 0, the first stage of a two-stage sum where few outputs each sum very many elements): workgroup
// z of reduce_wg sums r in [z·chunk, (z+1)·chunk) and writes out[o·slices + z] (never ACCUM); the TS side then sums
// the [outN][slices] partials with a second dispatch, so more workgroups than outputs share a long reduction.
// ACCUM = 1 (override) adds the sums to out's values instead of overwriting them (a bias's second gradient).
// Bindings: 0 uniform P, 1 x (read), 2 out (rw).
override ACCUM: u32 = 0u;

struct P {
  outN: u32, R: u32, nx: u32, kr: u32,   // kr: number of kept axes
  rr: u32, chunk: u32, slices: u32, _p2: u32, // rr: number of reduced axes; chunk, slices: sliced mode (0: off)
  ks: array<vec4<u32>, 2>, kst: array<vec4<u32>, 2>,
  rs: array<vec4<u32>, 2>, rst: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn base(o: u32) -> u32 {
  var rest = o;
  var off = 0u;
  for (var k = i32(p.kr) - 1; k >= 0; k--) {
    let d = p.ks[k / 4][k % 4];
    off += (rest % d) * p.kst[k / 4][k % 4];
    rest = rest / d;
  }
  return off;
}
fn roff(r: u32) -> u32 {
  var rest = r;
  var off = 0u;
  for (var k = i32(p.rr) - 1; k >= 0; k--) {
    let d = p.rs[k / 4][k % 4];
    off += (rest % d) * p.rst[k / 4][k % 4];
    rest = rest / d;
  }
  return off;
}

fn put(o: u32, s: f32) {
  if (ACCUM == 1u) { out[o] = out[o] + s; } else { out[o] = s; }
}

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce_wg(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let o = wg.x + wg.y * p.nx;
  var rBeg = 0u;
  var rEnd = p.R;
  if (p.chunk > 0u) { rBeg = wg.z * p.chunk; rEnd = min(p.R, rBeg + p.chunk); }
  var s = 0.0;
  if (o < p.outN) {
    let b = base(o);
    for (var r = rBeg + li; r < rEnd; r += 256u) { s += x[b + roff(r)]; }
  }
  part[li] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (li < w) { part[li] += part[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u && o < p.outN) {
    if (p.chunk > 0u) { out[o * p.slices + wg.z] = part[0]; } else { put(o, part[0]); }
  }
}

@compute @workgroup_size(256)
fn reduce_small(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let o = (wg.x + wg.y * p.nx) * 256u + li;
  if (o >= p.outN) { return; }
  let b = base(o);
  var s = 0.0;
  for (var r = 0u; r < p.R; r++) { s += x[b + roff(r)]; }
  put(o, s);
}
