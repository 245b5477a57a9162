// random.wgsl — counter-based random numbers and dropout, bit-identical in their integers to the CPU reference
// (src/autograd/random.ts): element i of stream `key` uses h = hash32(hash32(i + hash32(key)) ^ key),
// hash32 = lowbias32. uniform = (h >> 8)·2⁻²⁴; normal = Box–Muller with u1 = ((h >> 8) + 1)·2⁻²⁴ from stream key
// and u2 from stream key ^ 0x68bc21eb.
//   random:  out[i] = uniform or normal (override DIST: 0 uniform, 1 normal).  Bindings: 1 out (rw).
//   random_int: iout[i] = ((h >> 8)·high) >> 24 ∈ [0, high) (i32; class labels drawn on the GPU, high < 2^8
//            keeps the product exact in u32).  Bindings: 1 iout (rw).
//   dropout: out[i] = (h >> 8) >= threshold ? x[i]·scale : 0 (the same mask serves forward and backward).
//            Bindings: 1 x (read), 2 out (rw).
// One thread per element, 256 per workgroup, x/y split grid. hash32 and bits come from wgsl/hash.wgsl, appended by
// the TS side.
override DIST: u32 = 0u;
struct P { n: u32, nx: u32, key: u32, offset: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;

@group(0) @binding(1) var<storage, read_write> rout: array<f32>;

@compute @workgroup_size(256)
fn random(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let c = p.offset + i;
  if (DIST == 0u) {
    rout[i] = f32(bits(p.key, c) >> 8u) * (1.0 / 16777216.0);
  } else {
    let u1 = f32((bits(p.key, c) >> 8u) + 1u) * (1.0 / 16777216.0);
    let u2 = f32(bits(p.key ^ 0x68bc21ebu, c) >> 8u) * (1.0 / 16777216.0);
    rout[i] = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  }
}

@group(0) @binding(1) var<storage, read_write> iout: array<i32>;

// (the `threshold` field carries `high` here)
@compute @workgroup_size(256)
fn random_int(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  iout[i] = i32(((bits(p.key, p.offset + i) >> 8u) * p.threshold) >> 24u);
}

@group(0) @binding(1) var<storage, read> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> dout: array<f32>;

@compute @workgroup_size(256)
fn dropout(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  dout[i] = dropKeep(dx[i], p.key, p.offset + i, p.threshold, p.scale);
}
