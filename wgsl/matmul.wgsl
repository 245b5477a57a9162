// matmul.wgsl — batched C[z] = op(A[z]) · op(B[z]) in f32, C row-major [batch][M][N].
// op(A) is [M][K]: A stored [M][K], or [K][M] when TRANS_A = 1; op(B) is [K][N]: B stored [K][N], or [N][K] when
// TRANS_B = 1 (so backward passes need no transpose copies). strideA/strideB step between batch matrices
// (0 shares one matrix across the batch).
// Tiling: a 16×16 workgroup computes a 64×64 tile of C; each thread owns a 4×4 register block at rows ty+16i,
// cols tx+16j (i,j < 4), so stores and shared-memory reads of B are contiguous across tx. The K loop steps by 16:
// all 256 threads cooperatively load a 64×16 tile of op(A) and a 16×64 tile of op(B) into workgroup memory
// (loads ordered along each matrix's contiguous axis; out-of-range elements read as 0), then accumulate.
// Grid: (ceil(N/64), ceil(M/64), batch). Bindings: 0 uniform P, 1 A (read), 2 B (read), 3 C (rw).
override TRANS_A: u32 = 0u;
override TRANS_B: u32 = 0u;

struct P { M: u32, N: u32, K: u32, strideA: u32, strideB: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

const BM = 64u;
const BN = 64u;
const BK = 16u;
var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) t: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let aBase = wg.z * p.strideA;
  let bBase = wg.z * p.strideB;
  let tx = lid.x;
  let ty = lid.y;
  var acc: array<array<f32, 4>, 4>;
  for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = 0.0; } }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var l = 0u; l < 4u; l++) {
      let e = t + 256u * l;
      // A tile
      var m: u32; var k: u32;
      if (TRANS_A == 0u) { m = e / BK; k = e % BK; } else { k = e / BM; m = e % BM; }
      let gm = row0 + m;
      let gk = k0 + k;
      var av = 0.0;
      if (gm < p.M && gk < p.K) {
        if (TRANS_A == 0u) { av = A[aBase + gm * p.K + gk]; } else { av = A[aBase + gk * p.M + gm]; }
      }
      As[k * BM + m] = av;
      // B tile
      var n: u32; var kb: u32;
      if (TRANS_B == 0u) { kb = e / BN; n = e % BN; } else { n = e / BK; kb = e % BK; }
      let gn = col0 + n;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gn < p.N && gkb < p.K) {
        if (TRANS_B == 0u) { bv = B[bBase + gkb * p.N + gn]; } else { bv = B[bBase + gn * p.K + gkb]; }
      }
      Bs[kb * BN + n] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[k * BM + ty + 16u * i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[k * BN + tx + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let cBase = wg.z * p.M * p.N;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + ty + 16u * i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + tx + 16u * j;
      if (c < p.N) { C[cBase + r * p.N + c] = acc[i][j]; }
    }
  }
}
