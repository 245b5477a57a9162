// elementwise.wgsl — unary, unary-gradient and broadcasting binary maps over f32 tensors (contiguous, row-major).
// The op is a pipeline-overridable constant (OP), so each op compiles to its own specialised pipeline.
//   unary:      out[i] = f(x[i])                        bindings: 1 x (read), 2 out (rw)
//   unary_grad: gx[i] = gy[i] · f'(x[i]) (uses y=f(x))  bindings: 1 x, 2 y, 3 gy (read), 4 gx (rw)
//   binary:     out[i] = g(a[ia], b[ib]); ia, ib from the output's multi-index and broadcast strides (0 on a
//               broadcast dim), rank ≤ 8. CONTIG=1 skips the index arithmetic when a, b and out share a shape.
//               bindings: 1 a, 2 b (read), 3 out (rw)
// One thread per element, 256 per workgroup; workgroups split over x/y (linear id = x + y·nx).
// Unary op codes: 0 neg 1 exp 2 log 3 tanh 4 sigmoid 5 relu 6 leaky_relu 7 add_s 8 mul_s 9 rsub_s 10 square
// 11 sqrt 12 recip 13 abs. Binary: 0 add 1 sub 2 mul 3 div 4 sigmoid_sub 5 bce_logits.

override OP: u32 = 0u;
override CONTIG: u32 = 0u;

struct UP { n: u32, nx: u32, alpha: f32 }
struct BP {
  n: u32, nx: u32, rank: u32, _pad: u32,
  shape: array<vec4<u32>, 2>,
  sa: array<vec4<u32>, 2>,
  sb: array<vec4<u32>, 2>,
}

fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

fn f(x: f32, a: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
    case 4u: { return sigm(x); }
    case 5u: { return max(x, 0.0); }
    case 6u: { return select(a * x, x, x > 0.0); }
    case 7u: { return x + a; }
    case 8u: { return x * a; }
    case 9u: { return a - x; }
    case 10u: { return x * x; }
    case 11u: { return sqrt(x); }
    case 12u: { return 1.0 / x; }
    default: { return abs(x); }
  }
}

fn df(x: f32, y: f32, a: f32) -> f32 {
  switch OP {
    case 0u: { return -1.0; }
    case 1u: { return y; }
    case 2u: { return 1.0 / x; }
    case 3u: { return 1.0 - y * y; }
    case 4u: { return y * (1.0 - y); }
    case 5u: { return select(0.0, 1.0, x > 0.0); }
    case 6u: { return select(a, 1.0, x > 0.0); }
    case 7u: { return 1.0; }
    case 8u: { return a; }
    case 9u: { return -1.0; }
    case 10u: { return 2.0 * x; }
    case 11u: { return 0.5 / y; }
    case 12u: { return -y * y; }
    default: { return sign(x); }
  }
}

fn g(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return sigm(a) - b; }
    default: { return max(a, 0.0) - a * b + log(1.0 + exp(-abs(a))); }
  }
}

@group(0) @binding(0) var<uniform> up: UP;
@group(0) @binding(1) var<storage, read> ux: array<f32>;
@group(0) @binding(2) var<storage, read_write> uout: array<f32>;

@compute @workgroup_size(256)
fn unary(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * up.nx) * 256u + li;
  if (i < up.n) { uout[i] = f(ux[i], up.alpha); }
}

@group(0) @binding(1) var<storage, read> gx_x: array<f32>;
@group(0) @binding(2) var<storage, read> gx_y: array<f32>;
@group(0) @binding(3) var<storage, read> gx_gy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx_out: array<f32>;

@compute @workgroup_size(256)
fn unary_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * up.nx) * 256u + li;
  if (i < up.n) { gx_out[i] = gx_gy[i] * df(gx_x[i], gx_y[i], up.alpha); }
}

@group(0) @binding(0) var<uniform> bp: BP;
@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> bout: array<f32>;

@compute @workgroup_size(256)
fn binary(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * bp.nx) * 256u + li;
  if (i >= bp.n) { return; }
  if (CONTIG == 1u) { bout[i] = g(ba[i], bb[i]); return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var k = i32(bp.rank) - 1; k >= 0; k--) {
    let d = bp.shape[k / 4][k % 4];
    let c = rest % d;
    rest = rest / d;
    ia += c * bp.sa[k / 4][k % 4];
    ib += c * bp.sb[k / 4][k % 4];
  }
  bout[i] = g(ba[ia], bb[ib]);
}
