"""evaluate.py - test accuracy and loss of an engine CNN checkpoint in PyTorch, on the 10 000 Fashion-MNIST test
images: what `npm run eval -- cnn --checkpoint FILE` reports, computed by the torch.nn definitions here.
Usage: python3 interop/pytorch/evaluate.py [CHECKPOINT] [--data DIR]
(defaults: models/eval-classifier.safetensors; $FASHION_MNIST_DIR, ./data or /usr/share/datasets/fashion-mnist)"""
import argparse
import gzip
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint import build, load, preprocess  # noqa: E402


def idx(path, offset):
    with gzip.open(path) as f:
        return torch.frombuffer(bytearray(f.read()[offset:]), dtype=torch.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('checkpoint', nargs='?', default='models/eval-classifier.safetensors')
    ap.add_argument('--data', default=None)
    a = ap.parse_args()
    dirs = [a.data] if a.data else [os.environ.get('FASHION_MNIST_DIR'), 'data', '/usr/share/datasets/fashion-mnist']
    data = next((d for d in dirs if d and os.path.exists(os.path.join(d, 't10k-images-idx3-ubyte.gz'))), None)
    if data is None:
        sys.exit(f'Fashion-MNIST test files not found in {dirs}; install them with bash scripts/setup.sh')
    pixels = idx(os.path.join(data, 't10k-images-idx3-ubyte.gz'), 16).reshape(-1, 28, 28)
    labels = idx(os.path.join(data, 't10k-labels-idx1-ubyte.gz'), 8).long()
    ckpt = load(a.checkpoint)
    cnn = build(ckpt)['cnn']
    correct, loss = 0, 0.0
    with torch.no_grad():
        for s in range(0, len(labels), 500):
            logits = cnn(preprocess(pixels[s:s + 500], ckpt))
            correct += (logits.argmax(1) == labels[s:s + 500]).sum().item()
            loss += F.cross_entropy(logits.double(), labels[s:s + 500], reduction='sum').item()
    n = len(labels)
    print(f'{a.checkpoint} (format {ckpt.format}) in PyTorch {torch.__version__}: test accuracy '
          f'{100 * correct / n:.2f}% on {n} images (loss {loss / n:.4f})')


if __name__ == '__main__':
    main()
