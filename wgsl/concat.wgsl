// concat.wgsl — concatenation along one axis and its inverse, up to 4 parts per dispatch. The tensors are viewed as
// [outer][W][inner] (the concatenated one, W = its extent along the axis) and [outer][w_k][inner] (part k, placed at
// columns [off_k, off_k + w_k) of the middle axis). Copies raw 32-bit words (f32 and i32 alike).
//   concat: out[o][j][l] = part_k[o][j − off_k][l] for the part k holding column j. The parts fill [0, W) (the TS side
//           dispatches parts 4 at a time; a thread whose column lies in no listed part writes nothing).
//           Bindings: 1–4 parts 0–3 (read; unused ones bound to part 0), 5 out (rw).
//   split:  part_k[o][j − off_k][l] = g[o][j][l] for the listed parts (count ≤ 4; columns of unlisted parts are
//           skipped). Bindings: 1 g (read), 2–5 parts 0–3 (rw; unused ones bound to spare words).
// One thread per element of the concatenated tensor, 256 per workgroup, x/y split grid (i = (x + y·nx)·256 + local).
struct P {
  n: u32, nx: u32, W: u32, inner: u32,
  count: u32, _p0: u32, _p1: u32, _p2: u32,
  off: vec4<u32>, w: vec4<u32>,
}
@group(0) @binding(0) var<uniform> p: P;

/** element i's part (4: none), and its index in that part */
fn locate(i: u32) -> vec2<u32> {
  let l = i % p.inner;
  let rest = i / p.inner;
  let j = rest % p.W;
  let o = rest / p.W;
  for (var k = 0u; k < p.count; k++) {
    if (j >= p.off[k] && j < p.off[k] + p.w[k]) { return vec2<u32>(k, (o * p.w[k] + j - p.off[k]) * p.inner + l); }
  }
  return vec2<u32>(4u, 0u);
}

@group(0) @binding(1) var<storage, read> c0: array<u32>;
@group(0) @binding(2) var<storage, read> c1: array<u32>;
@group(0) @binding(3) var<storage, read> c2: array<u32>;
@group(0) @binding(4) var<storage, read> c3: array<u32>;
@group(0) @binding(5) var<storage, read_write> cout: array<u32>;

@compute @workgroup_size(256)
fn concat(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let at = locate(i);
  switch at.x {
    case 0u: { cout[i] = c0[at.y]; }
    case 1u: { cout[i] = c1[at.y]; }
    case 2u: { cout[i] = c2[at.y]; }
    case 3u: { cout[i] = c3[at.y]; }
    default: {}
  }
}

@group(0) @binding(1) var<storage, read> sg: array<u32>;
@group(0) @binding(2) var<storage, read_write> s0: array<u32>;
@group(0) @binding(3) var<storage, read_write> s1: array<u32>;
@group(0) @binding(4) var<storage, read_write> s2: array<u32>;
@group(0) @binding(5) var<storage, read_write> s3: array<u32>;

@compute @workgroup_size(256)
fn split(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let at = locate(i);
  switch at.x {
    case 0u: { s0[at.y] = sg[i]; }
    case 1u: { s1[at.y] = sg[i]; }
    case 2u: { s2[at.y] = sg[i]; }
    case 3u: { s3[at.y] = sg[i]; }
    default: {}
  }
}
