// activation.wgsl — the activations fused into kernel epilogues. Not a kernel on its own: its TS side appends it
// to wgsl/matmul.wgsl and wgsl/conv2d.wgsl (after their own text, so their line numbers in error messages hold).
// act: 0 none, 1 relu, 2 leaky_relu(alpha), 3 tanh, 4 sigmoid — the order of ACTIVATIONS in
// src/autograd/backend.ts. Called with an override constant, so each pipeline keeps one branch.
fn activate(v: f32, act: u32, alpha: f32) -> f32 {
  switch act {
    case 1u: { return max(v, 0.0); }
    case 2u: { return select(alpha * v, v, v > 0.0); }
    case 3u: { return tanh(clamp(v, -15.0, 15.0)); }
    case 4u: { return 1.0 / (1.0 + exp(-v)); }
    default: { return v; }
  }
}
