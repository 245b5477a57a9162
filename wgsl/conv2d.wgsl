// conv2d.wgsl — 2-D convolution as an implicit GEMM (no im2col buffer): forward, input gradient, weight gradient.
// Layouts (NCHW, as PyTorch): x [N][C][H][W], w [K][C][R][S], bias [K], y [N][K][P][Q]; ph, pw: top/left padding.
// MODE picks the GEMM's rows gm, columns gn and reduction gk: 0 forward (gm = n,p,q; gn = k; gk = c,r,s; out y);
// 1 input gradient in gather form, also a transposed conv's forward (gm = n,h,w; gn = c; gk = k,r,s; out gx);
// 2 weight gradient (gm = k; gn = c,r,s; gk = n,p,q; out gw). Split-K (mode 2; modes 0, 1 with kChunk > 0):
// workgroup z sums slice z of gk into out + z·gm·gn (partial sums, added by the reduce kernel).
// Tiling as matmul.wgsl's: a workgroup computes a BM × BN output tile (32, 64 or 128 each; 64 × 64 by default),
// each thread a TB × TB block (TB = 4, or 8 as a 2×2 of 4×4 blocks), stepping gk by BK = 32 through vec4
// workgroup tiles As[k][m/4], Bs[k][n/4]. Epilogue (modes 0, 1): + bias (HAS_BIAS), then ACT. Also PHASED (mode 1
// per output phase), PREFETCH (the next step's loads before this step's FMAs), ACCUM (add to out).
// conv2d_skinny: gn ≤ 4 columns, 32 rows per workgroup, each row's reduction split over 8 threads.
// Grid: (ceil(gn/BN), ceil(gm/BM), slices or phases); skinny: (ceil(gm/32), 1, phases).
// Bindings: 0 uniform P, 1 a-source (x or gy), 2 b-source (w or x), 3 bias (read; a 1-element dummy when
// HAS_BIAS = 0), 4 out (rw). The TS side appends wgsl/activation.wgsl.
// Every override, tile, phase and split in detail: docs/conv-kernel.md.
override MODE: u32 = 0u;
override HAS_BIAS: u32 = 0u;
override ACT: u32 = 0u;
override PHASED: u32 = 0u;
override ACCUM: u32 = 0u;
override PREFETCH: u32 = 0u;

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, P: u32,
  Q: u32, sh: u32, sw: u32, ph: u32,
  pw: u32, kChunk: u32, alpha: f32, _pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> srcA: array<f32>;
@group(0) @binding(2) var<storage, read> srcB: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override BM: u32 = 64u;
override BN: u32 = 64u;
// TB: each thread's output block, TB × TB: 4 (four vec4 accumulators) or 8 (sixteen: rows 4·ty.. and BM/2 + 4·ty..
// by columns 4·tx.. and BN/2 + 4·tx.., a 2×2 of 4×4 blocks half a tile apart, so its shared-memory reads stay
// vec4 and conflict-free); 8 does 64 FMAs per four vec4 reads of As/Bs where 4 does 16 per two
override TB: u32 = 4u;
const BK = 32u;
// derived from BM, BN, TB (never set from the TS side)
override NT: u32 = (BM / TB) * (BN / TB); // threads per workgroup
override LA: u32 = BK * (BM / 4u) / NT;   // As vec4 slots each thread loads per tile step
override LB: u32 = BK * (BN / 4u) / NT;   // Bs vec4 slots each thread loads per tile step
override AKS: u32 = NT / (BM / 4u);       // modes 0, 1: the k stride between a thread's As slots (BN/4 when TB = 4)
var<workgroup> As: array<vec4<f32>, BK * BM / 4u>; // [BK][BM/4]
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>; // [BK][BN/4]

// phased mode 1: this workgroup's output phase, its first taps (r0, s0) and how many taps of each kernel column
// (phRp) and row (phSp) reach it — all in the kernel, so no tap of the reduction is a padding zero (the loaders
// read these instead of dividing again per element)
var<private> phA: u32;
var<private> phB: u32;
var<private> phR0: u32;
var<private> phS0: u32;
var<private> phRp: u32;
var<private> phSp: u32;
fn setPhase(z: u32) {
  phA = z / p.sw;
  phB = z % p.sw;
  phR0 = (phA + p.ph) % p.sh;
  phS0 = (phB + p.pw) % p.sw;
  let n = phaseTaps(z);
  phRp = n.x;
  phSp = n.y;
}
// the taps of phase z per kernel column and row (0 where none reaches it, e.g. R = 1); a function of z and the
// uniforms, not of the private variables, so that the reduction's length stays uniform (workgroupBarrier)
fn phaseTaps(z: u32) -> vec2<u32> {
  let r0 = (z / p.sw + p.ph) % p.sh;
  let s0 = (z % p.sw + p.pw) % p.sw;
  return vec2<u32>(select(0u, (p.R - r0 + p.sh - 1u) / p.sh, r0 < p.R), select(0u, (p.S - s0 + p.sw - 1u) / p.sw, s0 < p.S));
}
fn Hp() -> u32 { return (p.H + p.sh - 1u) / p.sh; }
fn Wp() -> u32 { return (p.W + p.sw - 1u) / p.sw; }

// mode 1: the input pixel (n, h, w) of GEMM row m; h = H marks a row outside the image (phased tail)
fn pixel(m: u32) -> vec3<u32> {
  if (PHASED == 0u) {
    let hw = p.H * p.W;
    let t = m % hw;
    return vec3<u32>(m / hw, t / p.W, t % p.W);
  }
  let hw = Hp() * Wp();
  let t = m % hw;
  let h = (t / Wp()) * p.sh + phA;
  let w = (t % Wp()) * p.sw + phB;
  if (h >= p.H || w >= p.W) { return vec3<u32>(m / hw, p.H, 0u); }
  return vec3<u32>(m / hw, h, w);
}
// mode 1: the tap (k, r, s) of reduction index kk (phased: of this phase's taps, every one inside the kernel)
fn tap(kk: u32) -> vec3<u32> {
  if (PHASED == 0u) {
    let rs = p.R * p.S;
    let t = kk % rs;
    return vec3<u32>(kk / rs, t / p.S, t % p.S);
  }
  let rs = phRp * phSp;
  let t = kk % rs;
  return vec3<u32>(kk / rs, phR0 + (t / phSp) * p.sh, phS0 + (t % phSp) * p.sw);
}

fn gemmM() -> u32 {
  switch MODE {
    case 0u: { return p.N * p.P * p.Q; }
    case 1u: { if (PHASED == 1u) { return p.N * Hp() * Wp(); } return p.N * p.H * p.W; }
    default: { return p.K; }
  }
}
fn gemmN() -> u32 {
  switch MODE { case 0u: { return p.K; } case 1u: { return p.C; } default: { return p.C * p.R * p.S; } }
}
fn gemmK(z: u32) -> u32 { // z: the workgroup's z (phased mode 1: its phase)
  switch MODE {
    case 0u: { return p.C * p.R * p.S; }
    case 1u: { if (PHASED == 1u) { let n = phaseTaps(z); return p.K * n.x * n.y; } return p.K * p.R * p.S; }
    default: { return p.N * p.P * p.Q; }
  }
}

// conv2d_skinny's forward (mode 0; the tiled kernel has its own loaders below): A = x gathered at GEMM row
// m = (n, p, q) and reduction index kk = (c, r, s), B = w; 0 outside the GEMM or the image
fn xAt(n: u32, c: u32, oh: u32, ow: u32, r: u32, s: u32) -> f32 {
  let ih = i32(oh * p.sh + r) - i32(p.ph);
  let iw = i32(ow * p.sw + s) - i32(p.pw);
  if (ih < 0 || iw < 0 || ih >= i32(p.H) || iw >= i32(p.W)) { return 0.0; }
  return srcA[((n * p.C + c) * p.H + u32(ih)) * p.W + u32(iw)];
}
fn aval(m: u32, kk: u32, gm: u32, gk: u32) -> f32 {
  if (m >= gm || kk >= gk) { return 0.0; }
  let pq = p.P * p.Q;
  let n = m / pq; let r0 = m % pq;
  let rs = p.R * p.S;
  let c = kk / rs; let t = kk % rs;
  return xAt(n, c, r0 / p.Q, r0 % p.Q, t / p.S, t % p.S);
}
fn bval(kk: u32, j: u32, gk: u32, gn: u32) -> f32 {
  if (j >= gn || kk >= gk) { return 0.0; }
  return srcB[j * (p.C * p.R * p.S) + kk];
}

// the epilogue's activation (wgsl/activation.wgsl, appended by the TS side)
fn act(v: f32) -> f32 { return activate(v, ACT, p.alpha); }

fn outIndex(m: u32, j: u32) -> u32 {
  switch MODE {
    case 0u: { let pq = p.P * p.Q; return ((m / pq) * p.K + j) * pq + m % pq; }
    case 1u: { let px = pixel(m); return ((px.x * p.C + j) * p.H + px.y) * p.W + px.z; }
    default: { return m * gemmN() + j; }
  }
}

fn store(m: u32, j0: u32, v: vec4<f32>, gm: u32, gn: u32, zOff: u32) {
  if (m >= gm) { return; }
  if (MODE == 1u && PHASED == 1u && pixel(m).y >= p.H) { return; }
  for (var e = 0u; e < 4u; e++) {
    let j = j0 + e;
    if (j < gn) {
      var x = v[e];
      if (MODE != 2u) {
        if (HAS_BIAS == 1u) { x += bias[j]; }
        x = act(x);
      }
      let o = zOff + outIndex(m, j);
      if (ACCUM == 1u) { out[o] = out[o] + x; } else { out[o] = x; }
    }
  }
}

// ---------------------------------------------------------------- the tile loaders
// Modes 0 and 1 load As slots (k = t/(BM/4) + (BN/4)·l, rows 4·(t % (BM/4)) + 0..3, l < LA): a thread's four rows
// never change, so their pixel decode happens once (decodeRows); per tile step each slot decodes its reduction
// index once and reuses it for the four rows. Mode 2's A is a plain strided read. B slots are (k = t % BK,
// cols 4·(t/BK + (NT/BK)·l), l < LB): the reduction index is fixed per tile step, decoded once.
var<private> rowBase: array<i32, 4>; // source offset of the row's image (−1: row outside the GEMM or the image)
var<private> rowY: array<i32, 4>;    // mode 0: p·sh − ph; mode 1: h + ph; phased mode 1: (h + ph) / sh
var<private> rowX: array<i32, 4>;    // mode 0: q·sw − pw; mode 1: w + pw; phased mode 1: (w + pw) / sw

fn decodeRows(m0: u32, gm: u32) {
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    rowBase[i] = -1;
    if (m >= gm || MODE == 2u) { continue; }
    if (MODE == 0u) {
      let pq = p.P * p.Q;
      let n = m / pq;
      let r0 = m % pq;
      rowBase[i] = i32(n * p.C * p.H * p.W);
      rowY[i] = i32((r0 / p.Q) * p.sh) - i32(p.ph);
      rowX[i] = i32((r0 % p.Q) * p.sw) - i32(p.pw);
    } else {
      let px = pixel(m);
      if (px.y >= p.H) { continue; }
      rowBase[i] = i32(px.x * p.K * p.P * p.Q);
      if (PHASED == 1u) {
        // in output units: h + ph = sh·(rowY) + r0, and the phase's i-th tap row r0 + i·sh reads gy row rowY − i
        rowY[i] = i32((px.y + p.ph) / p.sh);
        rowX[i] = i32((px.z + p.pw) / p.sw);
      } else {
        rowY[i] = i32(px.y + p.ph);
        rowX[i] = i32(px.z + p.pw);
      }
    }
  }
}

// mode 2: the x columns (c, r, s) a thread's B slots read are the same at every tile step, so with at most
// COL_SLOTS slots (every 4×4-block tile and 128×128/8, 128×64/8) they are decoded once (decodeCols) instead of at
// every step (4 integer divisions per element: the weight gradient's loader did more integer work than FMAs)
const COL_SLOTS = 4u;
var<private> colBase: array<i32, 16>; // c·H·W of column 4·bn4(l) + e, at l·4 + e (−1: outside the GEMM)
var<private> colRS: array<u32, 16>;   // (r << 16) | s

fn decodeCols(t: u32, col0: u32, gn: u32) {
  for (var l = 0u; l < min(LB, COL_SLOTS); l++) {
    let bn4 = t / BK + (NT / BK) * l;
    for (var e = 0u; e < 4u; e++) {
      let j = col0 + 4u * bn4 + e;
      let rs = p.R * p.S;
      let u = j % rs;
      colBase[4u * l + e] = select(-1, i32((j / rs) * p.H * p.W), j < gn);
      colRS[4u * l + e] = ((u / p.S) << 16u) | (u % p.S);
    }
  }
}

// where thread t's l-th slot goes in As (k-major: MODE 2's slots are (k = t % BK, rows 4·am4..), the other modes'
// (k = ak, rows 4·(t % (BM/4))..)) and in Bs (k = t % BK, columns 4·bn4..); the loaders below use the same
fn slotA(t: u32, l: u32) -> u32 {
  if (MODE == 2u) { return (t % BK) * (BM / 4u) + t / BK + (NT / BK) * l; }
  return (t / (BM / 4u) + AKS * l) * (BM / 4u) + t % (BM / 4u);
}
fn slotB(t: u32, l: u32) -> u32 { return (t % BK) * (BN / 4u) + t / BK + (NT / BK) * l; }
// PREFETCH = 1: the slots a thread loaded for the next tile step, kept in registers until commit() stores them;
// 0: the loaders store straight into As, Bs
const STAGE = 8u;
var<private> stA: array<vec4<f32>, STAGE>;
var<private> stB: array<vec4<f32>, STAGE>;
fn putA(t: u32, l: u32, v: vec4<f32>) {
  if (PREFETCH == 1u) { stA[l] = v; } else { As[slotA(t, l)] = v; }
}
fn putB(t: u32, l: u32, v: vec4<f32>) {
  if (PREFETCH == 1u) { stB[l] = v; } else { Bs[slotB(t, l)] = v; }
}
fn commit(t: u32) {
  for (var l = 0u; l < LA; l++) { As[slotA(t, l)] = stA[l]; }
  for (var l = 0u; l < LB; l++) { Bs[slotB(t, l)] = stB[l]; }
}

fn loadA(t: u32, row0: u32, k0: u32, kEnd: u32, gm: u32) {
  for (var l = 0u; l < LA; l++) {
    var v = vec4<f32>(0.0);
    if (MODE == 2u) {
      let am4 = t / BK + (NT / BK) * l;
      let kk = k0 + t % BK;
      if (kk < kEnd) {
        let pq = p.P * p.Q;
        let base = (kk / pq) * p.K * pq + kk % pq;
        for (var i = 0u; i < 4u; i++) {
          let m = row0 + 4u * am4 + i;
          if (m < gm) { v[i] = srcA[base + m * pq]; }
        }
      }
      putA(t, l, v);
      continue;
    }
    let ak = t / (BM / 4u) + AKS * l;
    let kk = k0 + ak;
    if (kk < kEnd) {
      if (MODE == 0u) {
        let rs = p.R * p.S;
        let c = kk / rs;
        let u = kk % rs;
        let r = i32(u / p.S);
        let sx = i32(u % p.S);
        let chan = i32(c * p.H * p.W);
        for (var i = 0u; i < 4u; i++) {
          let ih = rowY[i] + r;
          let iw = rowX[i] + sx;
          if (rowBase[i] >= 0 && ih >= 0 && iw >= 0 && ih < i32(p.H) && iw < i32(p.W)) {
            v[i] = srcA[rowBase[i] + chan + ih * i32(p.W) + iw];
          }
        }
      } else if (PHASED == 1u) {
        // no division per element: the phase makes every (h + ph − r)/sh whole (see decodeRows)
        let rs = phRp * phSp;
        let t2 = kk % rs;
        let tr = t2 / phSp;
        let ts = t2 % phSp;
        let chan = i32((kk / rs) * p.P * p.Q);
        for (var i = 0u; i < 4u; i++) {
          let oh = rowY[i] - i32(tr);
          let ow = rowX[i] - i32(ts);
          if (rowBase[i] >= 0 && oh >= 0 && ow >= 0 && oh < i32(p.P) && ow < i32(p.Q)) {
            v[i] = srcA[rowBase[i] + chan + oh * i32(p.Q) + ow];
          }
        }
      } else {
        let tp = tap(kk);
        let unitStride = p.sh == 1u && p.sw == 1u; // uniform: no divergence, no division per element
        let chan = i32(tp.x * p.P * p.Q);
        for (var i = 0u; i < 4u; i++) {
          let th = rowY[i] - i32(tp.y);
          let tw = rowX[i] - i32(tp.z);
          if (rowBase[i] < 0 || th < 0 || tw < 0) { continue; }
          if (unitStride) {
            // stride 1 (every unphased input gradient that pickTile's path makes): th, tw are gy's row and column
            if (th < i32(p.P) && tw < i32(p.Q)) { v[i] = srcA[rowBase[i] + chan + th * i32(p.Q) + tw]; }
            continue;
          }
          if (u32(th) % p.sh != 0u || u32(tw) % p.sw != 0u) { continue; }
          let oh = u32(th) / p.sh;
          let ow = u32(tw) / p.sw;
          if (oh < p.P && ow < p.Q) { v[i] = srcA[rowBase[i] + chan + i32(oh * p.Q + ow)]; }
        }
      }
    }
    putA(t, l, v);
  }
}

fn loadB(t: u32, col0: u32, k0: u32, kEnd: u32, gn: u32) {
  let bk = t % BK;
  let kb = k0 + bk;
  // the reduction index's decode, shared by both slots and all four columns
  var kOff = 0u;       // mode 0: kb; mode 1: offset of (k, r, s) in w less the channel term
  var ok = kb < kEnd;
  var ihB = 0; var iwB = 0; var xB = 0u; // mode 2: the output pixel's input window and image offset
  if (ok) {
    if (MODE == 0u) { kOff = kb; }
    else if (MODE == 1u && PHASED == 1u) {
      let rs = phRp * phSp;
      let t2 = kb % rs;
      let r = phR0 + (t2 / phSp) * p.sh;
      let sx = phS0 + (t2 % phSp) * p.sw;
      kOff = ((kb / rs) * p.C * p.R + r) * p.S + sx;
    } else if (MODE == 1u) {
      let tp = tap(kb);
      kOff = (tp.x * p.C * p.R + tp.y) * p.S + tp.z;
    } else {
      let pq = p.P * p.Q;
      let n = kb / pq;
      let r0 = kb % pq;
      ihB = i32((r0 / p.Q) * p.sh) - i32(p.ph);
      iwB = i32((r0 % p.Q) * p.sw) - i32(p.pw);
      xB = n * p.C * p.H * p.W;
    }
  }
  for (var l = 0u; l < LB; l++) {
    let bn4 = t / BK + (NT / BK) * l;
    var v = vec4<f32>(0.0);
    if (ok) {
      for (var e = 0u; e < 4u; e++) {
        let j = col0 + 4u * bn4 + e;
        if (j >= gn) { continue; }
        if (MODE == 0u) { v[e] = srcB[j * (p.C * p.R * p.S) + kOff]; }
        else if (MODE == 1u) { v[e] = srcB[kOff + j * p.R * p.S]; }
        else if (LB <= COL_SLOTS) {
          let cb = colBase[4u * l + e];
          let ih = ihB + i32(colRS[4u * l + e] >> 16u);
          let iw = iwB + i32(colRS[4u * l + e] & 0xffffu);
          if (ih >= 0 && iw >= 0 && ih < i32(p.H) && iw < i32(p.W)) { v[e] = srcB[xB + u32(cb + ih * i32(p.W) + iw)]; }
        } else {
          let rs = p.R * p.S;
          let c = j / rs;
          let u = j % rs;
          let ih = ihB + i32(u / p.S);
          let iw = iwB + i32(u % p.S);
          if (ih >= 0 && iw >= 0 && ih < i32(p.H) && iw < i32(p.W)) { v[e] = srcB[xB + (c * p.H + u32(ih)) * p.W + u32(iw)]; }
        }
      }
    }
    putB(t, l, v);
  }
}

@compute @workgroup_size(BN / TB, BM / TB)
fn conv2d(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
          @builtin(local_invocation_index) t: u32) {
  if (PHASED == 1u) { setPhase(wg.z); }
  let gm = gemmM();
  let gn = gemmN();
  let gkAll = gemmK(wg.z);
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  // split-K (mode 2 always; modes 0 and 1 unphased when kChunk > 0): this workgroup's slice of the reduction
  let split = MODE == 2u || (PHASED == 0u && p.kChunk > 0u);
  var kBeg = 0u;
  var kEnd = gkAll;
  if (split) { kBeg = wg.z * p.kChunk; kEnd = min(gkAll, kBeg + p.kChunk); }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // TB = 8: rows 4·ty.. by columns BN/2 + 4·tx.. (accR*), rows BM/2 + 4·ty.. by columns 4·tx.. (accD*) and by
  // columns BN/2 + 4·tx.. (accDR*)
  var accR0 = vec4<f32>(0.0); var accR1 = vec4<f32>(0.0); var accR2 = vec4<f32>(0.0); var accR3 = vec4<f32>(0.0);
  var accD0 = vec4<f32>(0.0); var accD1 = vec4<f32>(0.0); var accD2 = vec4<f32>(0.0); var accD3 = vec4<f32>(0.0);
  var accDR0 = vec4<f32>(0.0); var accDR1 = vec4<f32>(0.0); var accDR2 = vec4<f32>(0.0); var accDR3 = vec4<f32>(0.0);

  decodeRows(row0 + 4u * (t % (BM / 4u)), gm);
  if (MODE == 2u && LB <= COL_SLOTS) { decodeCols(t, col0, gn); }
  // PREFETCH: the first step's tile goes to workgroup memory before the loop; each step then loads the next one
  if (PREFETCH == 1u && kBeg < kEnd) {
    loadA(t, row0, kBeg, kEnd, gm);
    loadB(t, col0, kBeg, kEnd, gn);
    commit(t);
  }
  for (var k0 = kBeg; k0 < kEnd; k0 += BK) {
    if (PREFETCH == 1u) {
      if (k0 + BK < kEnd) {
        loadA(t, row0, k0 + BK, kEnd, gm);
        loadB(t, col0, k0 + BK, kEnd, gn);
      }
    } else {
      loadA(t, row0, k0, kEnd, gm);
      loadB(t, col0, k0, kEnd, gn);
    }
    workgroupBarrier();
    if (TB == 8u) {
      for (var k = 0u; k < BK; k++) {
        let a = As[k * (BM / 4u) + lid.y];
        let ad = As[k * (BM / 4u) + lid.y + BM / 8u];
        let b = Bs[k * (BN / 4u) + lid.x];
        let br = Bs[k * (BN / 4u) + lid.x + BN / 8u];
        acc0 = fma(vec4<f32>(a.x), b, acc0);
        acc1 = fma(vec4<f32>(a.y), b, acc1);
        acc2 = fma(vec4<f32>(a.z), b, acc2);
        acc3 = fma(vec4<f32>(a.w), b, acc3);
        accR0 = fma(vec4<f32>(a.x), br, accR0);
        accR1 = fma(vec4<f32>(a.y), br, accR1);
        accR2 = fma(vec4<f32>(a.z), br, accR2);
        accR3 = fma(vec4<f32>(a.w), br, accR3);
        accD0 = fma(vec4<f32>(ad.x), b, accD0);
        accD1 = fma(vec4<f32>(ad.y), b, accD1);
        accD2 = fma(vec4<f32>(ad.z), b, accD2);
        accD3 = fma(vec4<f32>(ad.w), b, accD3);
        accDR0 = fma(vec4<f32>(ad.x), br, accDR0);
        accDR1 = fma(vec4<f32>(ad.y), br, accDR1);
        accDR2 = fma(vec4<f32>(ad.z), br, accDR2);
        accDR3 = fma(vec4<f32>(ad.w), br, accDR3);
      }
    } else {
      for (var k = 0u; k < BK; k++) {
        let a = As[k * (BM / 4u) + lid.y];
        let b = Bs[k * (BN / 4u) + lid.x];
        acc0 = fma(vec4<f32>(a.x), b, acc0);
        acc1 = fma(vec4<f32>(a.y), b, acc1);
        acc2 = fma(vec4<f32>(a.z), b, acc2);
        acc3 = fma(vec4<f32>(a.w), b, acc3);
      }
    }
    workgroupBarrier();
    if (PREFETCH == 1u && k0 + BK < kEnd) { commit(t); } // every thread is done with this step's tiles
  }
  var zOff = 0u;
  if (split) { zOff = wg.z * gm * gn; } // every mode's output has gm·gn elements
  let r = row0 + 4u * lid.y;
  let c = col0 + 4u * lid.x;
  store(r, c, acc0, gm, gn, zOff);
  store(r + 1u, c, acc1, gm, gn, zOff);
  store(r + 2u, c, acc2, gm, gn, zOff);
  store(r + 3u, c, acc3, gm, gn, zOff);
  if (TB == 8u) {
    let rd = r + BM / 2u;
    let cr = c + BN / 2u;
    store(r, cr, accR0, gm, gn, zOff);
    store(r + 1u, cr, accR1, gm, gn, zOff);
    store(r + 2u, cr, accR2, gm, gn, zOff);
    store(r + 3u, cr, accR3, gm, gn, zOff);
    store(rd, c, accD0, gm, gn, zOff);
    store(rd + 1u, c, accD1, gm, gn, zOff);
    store(rd + 2u, c, accD2, gm, gn, zOff);
    store(rd + 3u, c, accD3, gm, gn, zOff);
    store(rd, cr, accDR0, gm, gn, zOff);
    store(rd + 1u, cr, accDR1, gm, gn, zOff);
    store(rd + 2u, cr, accDR2, gm, gn, zOff);
    store(rd + 3u, cr, accDR3, gm, gn, zOff);
  }
}

// skinny: SK_ROWS GEMM rows per workgroup, each row's reduction cut into SK_SLICES contiguous slices, one thread
// each (a warp = 32 neighbouring rows of one slice, so its reads are contiguous); the slices' sums are added in
// slice order (deterministic). One thread per row walking all of K (the first version) left a GPU waiting on memory:
// 0.46 ms for the generator's 192→1 output layer at batch 64 on an H200, 0.12 GFLOP.
const SK_ROWS = 32u;
const SK_SLICES = 8u;
var<workgroup> skPart: array<vec4<f32>, 256>; // [slice][row]

// the weights of one channel and tap for the gn ≤ 4 columns (column e at wi + e·rs; 0 past gn). Constant component
// indices: the first version's acc[e] in a loop over e indexed a vector at run time, which a compiler may keep in
// memory instead of registers
fn skinnyW(wi: u32, rs: u32, gn: u32) -> vec4<f32> {
  var v = vec4<f32>(srcB[wi], 0.0, 0.0, 0.0);
  if (gn > 1u) { v.y = srcB[wi + rs]; }
  if (gn > 2u) { v.z = srcB[wi + 2u * rs]; }
  if (gn > 3u) { v.w = srcB[wi + 3u * rs]; }
  return v;
}

@compute @workgroup_size(256)
fn conv2d_skinny(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  if (PHASED == 1u) { setPhase(wg.z); }
  let gm = gemmM();
  let gn = gemmN();
  let gk = gemmK(wg.z);
  let m = wg.x * SK_ROWS + li % SK_ROWS;
  let q = li / SK_ROWS;
  var acc = vec4<f32>(0.0);
  if (m < gm) {
    if (MODE == 1u) {
      // the pixel is decoded once; each kernel tap (r, s) that reaches it is found once, then the loop over this
      // slice's input channels k runs without any index arithmetic; only the gn (≤ 4) real columns are read
      let px = pixel(m);
      if (px.y < p.H) {
        var r0 = 0u; var s0 = 0u; var dr = 1u; var ds = 1u;
        if (PHASED == 1u) { r0 = phR0; s0 = phS0; dr = p.sh; ds = p.sw; }
        let pq = p.P * p.Q;
        let rs = p.R * p.S;
        let kLo = q * p.K / SK_SLICES;
        let kHi = (q + 1u) * p.K / SK_SLICES;
        for (var r = r0; r < p.R; r += dr) {
          let th = i32(px.y + p.ph) - i32(r);
          if (th < 0 || u32(th) % p.sh != 0u || u32(th) / p.sh >= p.P) { continue; }
          for (var sx = s0; sx < p.S; sx += ds) {
            let tw = i32(px.z + p.pw) - i32(sx);
            if (tw < 0 || u32(tw) % p.sw != 0u || u32(tw) / p.sw >= p.Q) { continue; }
            var ai = (px.x * p.K + kLo) * pq + (u32(th) / p.sh) * p.Q + u32(tw) / p.sw;
            var wi = kLo * p.C * rs + r * p.S + sx;
            // four channels per round, their eight loads issued before the first FMA waits on one (the loop was
            // one memory latency per channel), then added in channel order: the sum is the rolled loop's, bit for bit
            let wk = p.C * rs;
            var k = kLo;
            for (; k + 4u <= kHi; k += 4u) {
              let a0 = srcA[ai]; let a1 = srcA[ai + pq]; let a2 = srcA[ai + 2u * pq]; let a3 = srcA[ai + 3u * pq];
              let w0 = skinnyW(wi, rs, gn); let w1 = skinnyW(wi + wk, rs, gn);
              let w2 = skinnyW(wi + 2u * wk, rs, gn); let w3 = skinnyW(wi + 3u * wk, rs, gn);
              acc = fma(vec4<f32>(a0), w0, acc);
              acc = fma(vec4<f32>(a1), w1, acc);
              acc = fma(vec4<f32>(a2), w2, acc);
              acc = fma(vec4<f32>(a3), w3, acc);
              ai += 4u * pq;
              wi += 4u * wk;
            }
            for (; k < kHi; k++) {
              acc = fma(vec4<f32>(srcA[ai]), skinnyW(wi, rs, gn), acc);
              ai += pq;
              wi += wk;
            }
          }
        }
      }
    } else { // mode 0 (the TS side runs no weight gradient here)
      for (var kk = q * gk / SK_SLICES; kk < (q + 1u) * gk / SK_SLICES; kk++) {
        let a = aval(m, kk, gm, gk);
        if (a != 0.0) {
          acc = fma(vec4<f32>(a), vec4<f32>(bval(kk, 0u, gk, gn), bval(kk, 1u, gk, gn), bval(kk, 2u, gk, gn), bval(kk, 3u, gk, gn)), acc);
        }
      }
    }
  }
  skPart[li] = acc;
  workgroupBarrier();
  if (q == 0u && m < gm) {
    var sum = skPart[li];
    for (var j = 1u; j < SK_SLICES; j++) { sum += skPart[j * SK_ROWS + li]; }
    store(m, 0u, sum, gm, gn, 0u); // a phased tail row (outside the image) is skipped by store
  }
}
