"""torch_interop.py - the PyTorch half of test/torch_interop.test.ts (issue 26), through interop/pytorch/ only.
Usage: python3 test/torch_interop.py JOB.json, JOB = {"cases": [{"name", "checkpoint", "inputs", "out",
"back"?, "backOut"?}]}. For each case: load the engine's checkpoint, build its networks with
load_state_dict(strict=True), run them in eval mode on the inputs (uint8 pixels, labels, noise), write the outputs
to `out`. With "back": new networks of the same config made in PyTorch (weights redrawn, batchnorm statistics
set away from 0 and 1, num_batches_tracked kept), saved as a PyTorch state_dict to `back`
with the checkpoint's metadata, their outputs to `backOut`. Prints one line per case; any failure raises."""
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'interop', 'pytorch'))
import torch  # noqa: E402
from torch import nn  # noqa: E402
from checkpoint import build, load, networks, preprocess, read_safetensors, save, write_safetensors  # noqa: E402

torch.set_num_threads(2)


def outputs(nets, ckpt, inputs):
    x = preprocess(inputs['pixels'], ckpt)
    out = {}
    with torch.no_grad():
        if 'cnn' in nets:
            out['logits'] = nets['cnn'](x)
            out['features'] = nets['cnn'].features(x)
            return out
        y = inputs['y'].long()
        for g in ('G', 'G_ema'):
            if g in nets:
                out[f'{g}.images'] = nets[g](inputs['z'], y)
        adv, cls = nets['D'](x, y)
        out['D.adv'] = adv
        if cls is not None:
            out['D.cls'] = cls
    return out


def redraw(net, gen):
    """PyTorch's own networks with the weights redrawn as the engine's test draws its own (He's scale, biases
    N(0, 0.1), batchnorm scales and running variances in [0.5, 1.5), running means N(0, 0.2): as well conditioned
    as a trained network), num_batches_tracked set to 7"""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith('weight') and p.dim() == 1:  # batchnorm scale
                p.uniform_(0.5, 1.5, generator=gen)
            else:
                p.normal_(0, math.sqrt(2 / p[0].numel()) if p.dim() > 1 else 0.1, generator=gen)
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.num_batches_tracked.fill_(7)
    return net.eval()


def run(case):
    ckpt = load(case['checkpoint'])
    nets = build(ckpt)  # strict=True: any missing, unexpected or mis-shaped tensor raises
    if any(k.startswith('optim.') for k in ckpt.tensors):  # Adam's moments: one per parameter, in its layout
        for prefix, net in networks(ckpt.meta).items():
            for name, p in net.named_parameters() if prefix != 'G_ema.' else []:  # the average has no optimizer
                for mv in 'mv':
                    k = f'optim.{mv}.{prefix}{name}'
                    assert ckpt.tensors[k].shape == p.shape, f'{k}: {tuple(ckpt.tensors[k].shape)} vs {tuple(p.shape)}'
    inputs, _ = read_safetensors(case['inputs'])
    write_safetensors(outputs(nets, ckpt, inputs), case['out'])
    line = f"{case['name']}: format {ckpt.format}, {', '.join(sorted(nets))} loaded strictly"
    if 'back' in case:
        gen = torch.Generator().manual_seed(26)
        fresh = {p: redraw(net, gen) for p, net in networks(ckpt.meta).items() if p != 'G.'}
        state = {prefix + k: v for prefix, net in fresh.items() for k, v in net.state_dict().items()}
        save(case['back'], state, ckpt.meta)
        named = {(p.rstrip('.') or 'cnn'): net for p, net in fresh.items()}
        write_safetensors(outputs(named, ckpt, inputs), case['backOut'])
        line += f"; back: {len(state)} tensors ({sum(k.endswith('num_batches_tracked') for k in state)} num_batches_tracked)"
    print(line)


if __name__ == '__main__':
    for c in json.load(open(sys.argv[1]))['cases']:
        run(c)
