// ema.wgsl — exponential moving average of weights, in place on flat f32 arrays:
//   avg ← avg + (1 − decay)·(x − avg)     (= decay·avg + (1 − decay)·x, one fma, exact when x = avg)
// The host passes 1 − decay, formed in float64 (f32(0.999) alone would make 1 − decay off by ~1e-5 relative).
// Used on whole arenas (src/nn/ema.ts): x is an optimizer's parameter arena, avg an arena of the same layout, so
// one dispatch averages every tensor of a network (the padding between slots is averaged too and never read).
// One thread per element, 256 per workgroup, workgroups split over x/y (id = x + y·nx).
// Bindings: 0 uniform P, 1 x (read), 2 avg (read_write).
struct P {
  n: u32, nx: u32, omd: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> avg: array<f32>;

@compute @workgroup_size(256)
fn ema_update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i >= p.n) { return; }
  let a = avg[i];
  avg[i] = fma(p.omd, x[i] - a, a);
}
