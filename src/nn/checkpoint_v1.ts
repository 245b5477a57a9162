// checkpoint_v1.ts — files of checkpoint format 1 ("fmnist-webgpu-engine/1": everything written until 2026-12-04,
// among them the models/ files shipped until then). They load as they are, converted on load; nothing else in the
// engine needs to know them. Format 1 differs from format 2 in two ways:
//   - Linear weights in the engine's layout, [in, out] (format 2: PyTorch's [out, in]; src/nn/torch_layout.ts);
//   - a GAN's Adam moments under its network, `G.optim.m.up1.weight` (format 2: under `optim.`, with the tensor's
//     full name, `optim.m.G.up1.weight`, as the CNN always had: a network's prefix then holds its state_dict alone).
// `v1Names` is applied by parseCheckpoint; the layout is handled where tensors are checked and loaded (format 1 is
// the engine's own). `upgradeV1` rewrites a whole file in format 2 (`node dist/cli.js upgrade`).
import type { SafeData, Safetensors } from './safetensors.js';
import { transpose2d } from './torch_layout.js';

export const FORMAT_V1 = 'fmnist-webgpu-engine/1';

/** the format-2 name of a format-1 tensor name: `<net>.optim.<m|v>.<rest>` → `optim.<m|v>.<net>.<rest>` */
export function v2Name(name: string): string {
  const m = /^([^.]+)\.optim\.([mv])\.(.+)$/.exec(name);
  return m ? `optim.${m[2]}.${m[1]}.${m[3]}` : name;
}

/** a format-1 file's tensors under their format-2 names (data and shapes unchanged) */
export function v1Names(file: Safetensors): Safetensors {
  const tensors: Safetensors['tensors'] = {};
  for (const [k, t] of Object.entries(file.tensors)) {
    const to = v2Name(k);
    if (Object.hasOwn(tensors, to)) throw new Error(`format-1 file: tensors "${k}" and another both become "${to}"`);
    Object.defineProperty(tensors, to, { value: t, enumerable: true, writable: true, configurable: true });
  }
  return { ...file, tensors };
}

/**
 * A format-1 file's tensors in format 2: `transposed` names the tensors stored [in, out] (Linear weights and
 * their Adam moments, by format-2 name; from the model, torch_layout.transposedNames), each written [out, in].
 * The tensors must already carry format-2 names (v1Names). Values are copied exactly.
 */
export function v1ToV2Tensors(
  tensors: Safetensors['tensors'],
  transposed: ReadonlySet<string>,
): Safetensors['tensors'] {
  const out: Safetensors['tensors'] = {};
  for (const [k, t] of Object.entries(tensors)) {
    let v = t;
    if (transposed.has(k)) {
      if (t.shape.length !== 2)
        throw new Error(`format-1 file: "${k}" should be a 2-D Linear weight, is [${t.shape.join(', ')}]`);
      v = { ...t, shape: [t.shape[1], t.shape[0]], data: transpose2d(t.data as SafeData, t.shape[0], t.shape[1]) };
    }
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
