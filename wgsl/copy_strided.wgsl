// copy_strided.wgsl — dst[dOff + Σ i_k·dst_k] = src[sOff + Σ i_k·src_k] for every multi-index i of `shape`
// (rank ≤ 8). One kernel serves transpose, expand (zero source strides), narrow/slice and concat. Copies raw
// 32-bit words, so it moves f32 and i32 alike. One thread per element, 256 per workgroup, x/y split grid.
// Bindings: 0 uniform P, 1 src (read), 2 dst (rw).
struct P {
  n: u32, nx: u32, rank: u32, sOff: u32,
  dOff: u32, _p0: u32, _p1: u32, _p2: u32,
  shape: array<vec4<u32>, 2>, ss: array<vec4<u32>, 2>, ds: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(256)
fn copy_strided(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  var rest = i;
  var si = p.sOff;
  var di = p.dOff;
  for (var k = i32(p.rank) - 1; k >= 0; k--) {
    let d = p.shape[k / 4][k % 4];
    let c = rest % d;
    rest = rest / d;
    si += c * p.ss[k / 4][k % 4];
    di += c * p.ds[k / 4][k % 4];
  }
  dst[di] = src[si];
}
