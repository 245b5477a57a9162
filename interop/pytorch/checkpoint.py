"""checkpoint.py - the engine's checkpoints (safetensors files) in PyTorch, both ways.

Format 2 ("fmnist-webgpu-engine/2" in the metadata's "format"): every tensor as PyTorch's state_dict holds it,
under `<net>.<state_dict name>` for a GAN (G, G_ema: the generator's weight average, D) and `<state_dict name>` for
the CNN; Adam's moments as `optim.m.<name>` / `optim.v.<name>`. Metadata values other than "format" are JSON text
(config, preprocessing, conventions, epoch, ...). Format 1 files (until 2026-12-04: Linear weights [in, out],
a GAN's moments as `G.optim.m.<name>`) are converted on load, exactly (a transpose).

    ckpt = load('models/eval-classifier.safetensors')      # Checkpoint: .tensors, .meta (parsed), .format
    cnn = build(ckpt)['cnn']                               # torch.nn modules, strict load, eval mode
    x = preprocess(pixels_uint8, ckpt)                     # pixels / 255 as the engine feeds them
    save('mine.safetensors', {**cnn.state_dict()}, ckpt.meta)   # back: the engine loads this

Reads with the `safetensors` package when it is installed, else with the few lines below (little-endian hosts)."""
import json

import torch
from torch import nn

from models import Cnn, Discriminator, Generator

FORMAT = 'fmnist-webgpu-engine/2'
FORMAT_V1 = 'fmnist-webgpu-engine/1'
_DTYPES = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
           'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8,
           'BOOL': torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """(tensors by name, metadata of strings) of a safetensors file"""
    try:
        from safetensors import safe_open
    except ImportError:
        safe_open = None
    if safe_open is not None:
        with safe_open(path, framework='pt') as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})
    with open(path, 'rb') as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', None) or {}
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        dtype = _DTYPES[e['dtype']]
        data = bytearray(raw[8 + n + begin:8 + n + end])  # a copy: torch.frombuffer shares memory
        t = torch.frombuffer(data, dtype=dtype) if data else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e['shape'])
    return tensors, meta


def write_safetensors(tensors, path, metadata=None):
    """write tensors (CPU, any layout: made contiguous) and string metadata as a safetensors file"""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    if save_file is not None:
        return save_file(tensors, path, metadata=metadata)
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    # widest elements first keeps every tensor aligned to its element size, as the reference writer does
    for k in sorted(tensors, key=lambda k: (-tensors[k].element_size(), k)):
        b = tensors[k].numpy().tobytes() if tensors[k].dtype != torch.bfloat16 else \
            tensors[k].view(torch.int16).numpy().tobytes()
        header[k] = {'dtype': _NAMES[tensors[k].dtype], 'shape': list(tensors[k].shape),
                     'data_offsets': [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(len(h).to_bytes(8, 'little') + h + b''.join(chunks))


class Checkpoint:
    """an engine checkpoint in format 2: tensors (PyTorch's layout), meta (JSON values parsed), format (the
    file's own: format 1 files are converted on load)"""

    def __init__(self, tensors, meta, format):
        self.tensors, self.meta, self.format = tensors, meta, format

    @property
    def model(self):
        return self.meta.get('model')

    def state_dict(self, prefix=''):
        """the tensors under `prefix` ('G.', 'G_ema.', 'D.'; '' for the CNN) without it, Adam's moments left out:
        what that network's load_state_dict takes"""
        return {k[len(prefix):]: v for k, v in self.tensors.items()
                if k.startswith(prefix) and not k.startswith('optim.')}


def networks(meta):
    """fresh torch.nn modules for a checkpoint's metadata, by checkpoint prefix: {'': Cnn} or
    {'G.': Generator, 'G_ema.': Generator, 'D.': Discriminator}"""
    config, model = meta.get('config'), meta.get('model')
    if model == 'cnn':
        return {'': Cnn(config)}
    if model in ('cgan', 'acgan'):
        return {'G.': Generator(config), 'G_ema.': Generator(config), 'D.': Discriminator(config)}
    raise ValueError(f'a checkpoint of model {model!r}: these definitions know cnn, cgan and acgan')


def _v1_to_v2(tensors, meta):
    """format 1 -> 2: `G.optim.m.x` -> `optim.m.G.x`; Linear weights (and their moments) [in, out] -> [out, in]"""
    renamed = {}
    for k, v in tensors.items():
        parts = k.split('.')
        if len(parts) > 3 and parts[1] == 'optim' and parts[2] in ('m', 'v'):
            k = '.'.join(['optim', parts[2], parts[0]] + parts[3:])
        renamed[k] = v
    linear = set()
    for prefix, net in networks(meta).items():
        for name, m in net.named_modules():
            if isinstance(m, nn.Linear):
                w = f'{prefix}{name}.weight'
                linear |= {w, f'optim.m.{w}', f'optim.v.{w}'}
    return {k: v.t().contiguous() if k in linear else v for k, v in renamed.items()}


def load(path):
    """an engine checkpoint as a Checkpoint (format 1 converted to format 2)"""
    tensors, raw = read_safetensors(path)
    fmt = raw.get('format')
    if fmt not in (FORMAT, FORMAT_V1):
        raise ValueError(f'{path}: format {fmt!r}, expected {FORMAT!r} or {FORMAT_V1!r}: not a checkpoint of the engine')
    meta = {k: json.loads(v) for k, v in raw.items() if k != 'format'}
    if fmt == FORMAT_V1:
        tensors = _v1_to_v2(tensors, meta)
    return Checkpoint(tensors, meta, fmt)


def build(ckpt, dtype=torch.float32):
    """the checkpoint's networks with its weights (load_state_dict strict=True), in eval mode, by name: {'cnn'} or
    {'G', 'D', and 'G_ema' where the file has the weight average}"""
    out = {}
    for prefix, net in networks(ckpt.meta).items():
        state = ckpt.state_dict(prefix)
        if prefix and not state:
            continue  # e.g. no weight average, or a weights-only file without the trained G
        net.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}, strict=True)
        out[prefix.rstrip('.') or 'cnn'] = net.to(dtype).eval()
    return out


def preprocess(pixels, ckpt):
    """uint8 pixels [N, 28, 28] or [N, 1, 28, 28] -> the float32 input the engine feeds the model: the
    metadata's "preprocessing" (x = pixel * scale + offset, computed in float64 and rounded, as the engine does)"""
    p = ckpt.meta.get('preprocessing') or ({'scale': 1 / 255, 'offset': 0} if ckpt.model == 'cnn'
                                           else {'scale': 2 / 255, 'offset': -1})  # format-1 files lack it
    x = pixels.reshape(pixels.shape[0], 1, 28, 28).to(torch.float64) * p['scale'] + p['offset']
    return x.to(torch.float32)


def save(path, tensors, meta):
    """write a state_dict (or several under their prefixes: {'G.' + k: v, 'D.' + k: v}) with the engine's metadata
    (a Checkpoint's meta: model and config at least) as a format-2 file the engine loads; batchnorm's
    num_batches_tracked may stay (the engine drops it)"""
    metadata = {'format': FORMAT}
    metadata.update({k: json.dumps(v) for k, v in meta.items() if k != 'format'})
    write_safetensors(tensors, path, metadata)
