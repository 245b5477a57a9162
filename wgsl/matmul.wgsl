// matmul.wgsl — batched C[z] = op(A[z]) · op(B[z]) in f32, C row-major [batch][M][N].
// op(A) is [M][K]: A stored [M][K], or [K][M] when TRANS_A = 1; op(B) is [K][N]: B stored [K][N], or [N][K] when
// TRANS_B = 1 (no transpose copies). strideA/strideB step between batch matrices (0: one matrix for the batch).
// Tiling: a 16×16 workgroup computes a 64×64 tile of C; thread (tx, ty) owns the 4×4 register block at rows
// 4·ty..4·ty+3 and cols 4·tx..4·tx+3, held as four vec4 accumulators. The K loop steps by BK = 32: the 256 threads
// load a 64×32 tile of op(A) and a 32×64 tile of op(B) into workgroup memory, stored k-major as vec4s
// (As[k][m/4], Bs[k][n/4]), so each k step is one vec4 read of A, one of B and four vec4 FMAs. Global loads run
// along each matrix's contiguous axis; out-of-range elements read as 0, out-of-range outputs are not stored.
// Epilogue: + bias[col] when HAS_BIAS = 1, then ACT (0 none, 1 relu, 2 leaky_relu(alpha), 3 tanh, 4 sigmoid) —
// a dense layer's bias and activation cost no extra pass over C. ACCUM = 1 adds the result to C's values instead
// of overwriting them (C += op(A)·op(B): a second gradient of a weight summed in place).
// BIAS_GRAD (`matmul` only, batch 1): also the column sums of op(B), gbias[n] = Σ_k op(B)[k][n] — a dense layer's
// bias gradient from the pass that makes its weight gradient (A = x read transposed, B = the output gradient).
// Grid: (ceil(N/64), ceil(M/64), batch). Bindings: 0 uniform P, 1 A (read), 2 B (read), 3 bias (read; a
// 1-element dummy when HAS_BIAS = 0), 4 C (rw), 5 gbias (rw; a 1-element dummy when BIAS_GRAD = 0).
override TRANS_A: u32 = 0u;
override TRANS_B: u32 = 0u;
override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;
override ACCUM: u32 = 0u;
// BIAS_GRAD: the 16 threads of row 0 of the workgroups of row tile 0 add the Bs tile's rows k = 0, 1, … in turn as
// the K loop loads them (reduce_small's order); 1 writes the sums to gbias, 2 adds them to its values (a second
// gradient)
override BIAS_GRAD: u32 = 0u;

struct P { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read_write> gbias: array<f32>;

fn epilogue(v: f32, col: u32) -> f32 {
  var x = v;
  if (HAS_BIAS == 1u) { x += bias[col]; }
  return activate(x, ACT, p.alpha); // wgsl/activation.wgsl, appended by the TS side
}

const BM = 64u;
const BN = 64u;
const BK = 32u;
var<workgroup> As: array<vec4<f32>, 512>; // [BK][BM/4]
var<workgroup> Bs: array<vec4<f32>, 512>; // [BK][BN/4]

fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A == 0u) { return A[base + m * p.K + k]; }
  return A[base + k * p.M + m];
}
fn loadB(base: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  if (TRANS_B == 0u) { return B[base + k * p.N + n]; }
  return B[base + n * p.K + k];
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) t: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let aBase = wg.z * p.strideA;
  let bBase = wg.z * p.strideB;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var colSum = vec4<f32>(0.0); // BIAS_GRAD: Σ_k op(B)[k][4·tx..4·tx+3]
  let sums = BIAS_GRAD != 0u && wg.y == 0u && lid.y == 0u;

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // each thread fills 2 vec4 slots of As and 2 of Bs (512 each)
    for (var l = 0u; l < 2u; l++) {
      let s = t + 256u * l;
      // As slot s = (k, m4): four rows m = 4·m4 + 0..3 at one k
      var ak: u32; var am4: u32;
      if (TRANS_A == 0u) { am4 = s / BK; ak = s % BK; } else { ak = s / (BM / 4u); am4 = s % (BM / 4u); }
      let am = row0 + 4u * am4;
      As[ak * (BM / 4u) + am4] = vec4<f32>(loadA(aBase, am, k0 + ak), loadA(aBase, am + 1u, k0 + ak),
                                           loadA(aBase, am + 2u, k0 + ak), loadA(aBase, am + 3u, k0 + ak));
      // Bs slot s = (k, n4): four columns n = 4·n4 + 0..3 at one k
      var bk: u32; var bn4: u32;
      if (TRANS_B == 0u) { bk = s / (BN / 4u); bn4 = s % (BN / 4u); } else { bn4 = s / BK; bk = s % BK; }
      let bn = col0 + 4u * bn4;
      Bs[bk * (BN / 4u) + bn4] = vec4<f32>(loadB(bBase, k0 + bk, bn), loadB(bBase, k0 + bk, bn + 1u),
                                           loadB(bBase, k0 + bk, bn + 2u), loadB(bBase, k0 + bk, bn + 3u));
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a = As[k * (BM / 4u) + lid.y];
      let b = Bs[k * (BN / 4u) + lid.x];
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
      if (sums && k0 + k < p.K) { colSum += b; }
    }
    workgroupBarrier();
  }
  let cBase = wg.z * p.M * p.N;
  let r = row0 + 4u * lid.y;
  let c = col0 + 4u * lid.x;
  if (sums) {
    for (var j = 0u; j < 4u; j++) {
      if (c + j < p.N) {
        if (BIAS_GRAD == 2u) { gbias[c + j] = gbias[c + j] + colSum[j]; } else { gbias[c + j] = colSum[j]; }
      }
    }
  }
  store(cBase, r, c, acc0);
  store(cBase, r + 1u, c, acc1);
  store(cBase, r + 2u, c, acc2);
  store(cBase, r + 3u, c, acc3);
}

fn put(o: u32, v: f32) {
  if (ACCUM == 1u) { C[o] = C[o] + v; } else { C[o] = v; }
}

fn store(base: u32, r: u32, c: u32, v: vec4<f32>) {
  if (r >= p.M) { return; }
  let o = base + r * p.N + c;
  if (c < p.N) { put(o, epilogue(v.x, c)); }
  if (c + 1u < p.N) { put(o + 1u, epilogue(v.y, c + 1u)); }
  if (c + 2u < p.N) { put(o + 2u, epilogue(v.z, c + 2u)); }
  if (c + 3u < p.N) { put(o + 3u, epilogue(v.w, c + 3u)); }
}

// matmul_big: the same product with a 128×128 tile per 16×16 workgroup; thread (tx, ty) owns the 8×8 block at
// rows 8·ty..8·ty+7, cols 8·tx..8·tx+7 (sixteen vec4 accumulators), BK = 16. Twice the FMAs per workgroup-memory
// read of `matmul`; used for large outputs (kernels/matmul.ts picks by shape). Grid: (ceil(N/128), ceil(M/128), batch).
const GM = 128u;
const GK = 16u;
var<workgroup> As2: array<vec4<f32>, 512>; // [GK][GM/4]
var<workgroup> Bs2: array<vec4<f32>, 512>; // [GK][GM/4]

@compute @workgroup_size(16, 16)
fn matmul_big(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) t: u32) {
  let row0 = wg.y * GM;
  let col0 = wg.x * GM;
  let aBase = wg.z * p.strideA;
  let bBase = wg.z * p.strideB;
  var acc: array<vec4<f32>, 16>; // acc[2·i + h]: row 8·ty+i, cols 8·tx + 4h..4h+3
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var k0 = 0u; k0 < p.K; k0 += GK) {
    for (var l = 0u; l < 2u; l++) {
      let s = t + 256u * l;
      var ak: u32; var am4: u32;
      if (TRANS_A == 0u) { am4 = s / GK; ak = s % GK; } else { ak = s / (GM / 4u); am4 = s % (GM / 4u); }
      let am = row0 + 4u * am4;
      As2[ak * (GM / 4u) + am4] = vec4<f32>(loadA(aBase, am, k0 + ak), loadA(aBase, am + 1u, k0 + ak),
                                            loadA(aBase, am + 2u, k0 + ak), loadA(aBase, am + 3u, k0 + ak));
      var bk: u32; var bn4: u32;
      if (TRANS_B == 0u) { bk = s / (GM / 4u); bn4 = s % (GM / 4u); } else { bn4 = s / GK; bk = s % GK; }
      let bn = col0 + 4u * bn4;
      Bs2[bk * (GM / 4u) + bn4] = vec4<f32>(loadB(bBase, k0 + bk, bn), loadB(bBase, k0 + bk, bn + 1u),
                                            loadB(bBase, k0 + bk, bn + 2u), loadB(bBase, k0 + bk, bn + 3u));
    }
    workgroupBarrier();
    for (var k = 0u; k < GK; k++) {
      let a0 = As2[k * (GM / 4u) + 2u * lid.y];
      let a1 = As2[k * (GM / 4u) + 2u * lid.y + 1u];
      let b0 = Bs2[k * (GM / 4u) + 2u * lid.x];
      let b1 = Bs2[k * (GM / 4u) + 2u * lid.x + 1u];
      let a = array<f32, 8>(a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w);
      for (var i = 0u; i < 8u; i++) {
        acc[2u * i] = fma(vec4<f32>(a[i]), b0, acc[2u * i]);
        acc[2u * i + 1u] = fma(vec4<f32>(a[i]), b1, acc[2u * i + 1u]);
      }
    }
    workgroupBarrier();
  }
  let cBase = wg.z * p.M * p.N;
  for (var i = 0u; i < 8u; i++) {
    let r = row0 + 8u * lid.y + i;
    store(cBase, r, col0 + 8u * lid.x, acc[2u * i]);
    store(cBase, r, col0 + 8u * lid.x + 4u, acc[2u * i + 1u]);
  }
}

// matmul_skinny: a product with few columns (N ≤ 16: a discriminator's or classifier's head) and a long K, e.g.
// [64, 12544]·[12544, 1]. The tiled kernels give it one workgroup per 64 rows, which walks all of K alone (one
// compute unit busy for 392 K steps); here one 256-thread workgroup per output row m splits K over its threads
// (k = t, t + 256, …: op(A)'s row read along memory when TRANS_A = 0), each thread keeping SK_N = N partial sums
// (an override, so the column loops have constant bounds and unroll into registers), then one fixed tree over the
// 256 threads for all columns at once in workgroup memory (deterministic, no atomics). Thread n < N applies the
// epilogue (HAS_BIAS, ACT, ACCUM as above) and stores C[m][n]. No BIAS_GRAD. Grid: (M, batch).
override SK_N: u32 = 16u;
var<workgroup> red: array<f32, 4096>; // [16][256]: column n's partial sums at n·256 + t

@compute @workgroup_size(256)
fn matmul_skinny(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let m = wg.x;
  let aBase = wg.y * p.strideA;
  let bBase = wg.y * p.strideB;
  var acc: array<f32, 16>;
  for (var n = 0u; n < SK_N; n++) { acc[n] = 0.0; }
  for (var k = t; k < p.K; k += 256u) {
    let a = loadA(aBase, m, k);
    for (var n = 0u; n < SK_N; n++) { acc[n] = fma(a, loadB(bBase, k, n), acc[n]); }
  }
  for (var n = 0u; n < SK_N; n++) { red[n * 256u + t] = acc[n]; }
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (t < w) {
      for (var n = 0u; n < SK_N; n++) { red[n * 256u + t] += red[n * 256u + t + w]; }
    }
    workgroupBarrier();
  }
  if (t < SK_N) { put(wg.y * p.M * p.N + m * p.N + t, epilogue(red[t * 256u], t)); }
}
