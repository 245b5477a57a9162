// sum_tree.wgsl — a snippet appended to the one-workgroup loss-mean kernels (bce_logits.wgsl, softmax_xent.wgsl):
// the tree half of reduce_wg (reduce.wgsl), so that a fused loss mean adds its terms in exactly the order
// reduce_sum would (bit-identical to the unfused sum → mean).
//   sumTree(li, s): the sum of the 256 threads' partial sums s (thread li's is s), returned to every thread.
//                   Call it in uniform control flow, from a workgroup of 256 threads.
var<workgroup> tree: array<f32, 256>;

fn sumTree(li: u32, s: f32) -> f32 {
  tree[li] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (li < w) { tree[li] += tree[li + w]; }
    workgroupBarrier();
  }
  let total = tree[0];
  workgroupBarrier(); // every thread has read tree[0] before a second call overwrites it
  return total;
}
