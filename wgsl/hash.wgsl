// hash.wgsl — the counter-based random words of src/autograd/random.ts: element i of stream `key` is
// bits(key, i) = hash32(hash32(i + hash32(key)) ^ key), hash32 = lowbias32. Not a kernel on its own: the TS side
// appends it to wgsl/random.wgsl, wgsl/batchnorm.wgsl and wgsl/maxpool2d.wgsl (after their own text, so their
// line numbers in error messages hold).
fn hash32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}
fn bits(key: u32, i: u32) -> u32 { return hash32(hash32(i + hash32(key)) ^ key); }
/** inverted dropout of element i's value v in stream key: v·scale if its word's top 24 bits reach threshold, else 0
 *  (the mask of autograd/random.ts's dropoutAt; threshold = dropThreshold(p) = round(p·2²⁴), scale = 1/(1 − p)) */
fn dropKeep(v: f32, key: u32, i: u32, threshold: u32, scale: f32) -> f32 {
  return select(0.0, v * scale, (bits(key, i) >> 8u) >= threshold);
}
