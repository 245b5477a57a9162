// fill.wgsl — fill_words: out[i] = bits for i < words (u32 words, so one kernel fills f32 NaN poison, zeros, or
// any constant given by its bit pattern). 1-D over words; workgroups split over x/y (linear id = x + y·nx).
// Bindings: 0 uniform P, 1 out (rw).
struct P { words: u32, bits: u32, nx: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn fill_words(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * p.nx) * 256u + li;
  if (i < p.words) { out[i] = p.bits; }
}
