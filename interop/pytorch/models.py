"""models.py - the engine's three networks as torch.nn modules: the classifier CNN, the GAN generator and the GAN
discriminator (projection cGAN, channel cGAN, AC-GAN). Child names, shapes and computation follow the engine
(src/models/cnn.ts, src/gan/models.ts), so a checkpoint of format 2 loads with load_state_dict(strict=True) and
gives the engine's outputs. What matters and differs from PyTorch's habits (also in each checkpoint's
"conventions" metadata and in models/README.md):
  - the CNN applies ReLU BEFORE batchnorm; its batchnorm eps is 1e-3 (config bnEps), the GANs' 1e-5;
  - batchnorm momentum is in PyTorch's convention already (0.01 = Keras' 0.99);
  - 'same' padding is TensorFlow's: an odd total puts the extra row/column at the bottom/right (Conv2dSame), and
    a 'same' transposed convolution is PyTorch's with padding 0, cropped (ConvTranspose2dSame);
  - inputs: the CNN takes pixels / 255 (no mean/std), the GANs images in [-1, 1] (checkpoint "preprocessing").
Configs are the checkpoint's "config" metadata (a dict with the engine's camelCase keys)."""
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F

GAN_BN_EPS = 1e-5


def same_padding(size, kernel, stride):
    """TensorFlow's 'same' for one axis: (before, after); output = ceil(size / stride)"""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d with TensorFlow's 'same' padding, as the engine computes it (state_dict as nn.Conv2d's)"""

    def forward(self, x):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        top, bottom = same_padding(x.shape[2], kh, sh)
        left, right = same_padding(x.shape[3], kw, sw)
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride)


class ConvTranspose2dSame(nn.ConvTranspose2d):
    """nn.ConvTranspose2d (padding 0) cropped to input * stride, from floor((kernel - stride) / 2): the engine's
    'same' transposed convolution (for 5x5 stride 2: PyTorch's padding=1 without its last row and column)"""

    def forward(self, x):
        y = super().forward(x)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ph, pw = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
        return y[:, :, ph:ph + x.shape[2] * sh, pw:pw + x.shape[3] * sw]


class Cnn(nn.Module):
    """the seed CNN classifier: logits [N, classes] for x = pixels / 255, [N, 1, 28, 28]"""

    def __init__(self, config):
        super().__init__()
        c = config
        eps, momentum = c['bnEps'], c['bnMomentum']
        layers, in_c, size = [], 1, 28
        for i, ch in enumerate(c['channels']):
            layers += [(f'conv{i + 1}', Conv2dSame(in_c, ch, 3)), (f'relu{i + 1}', nn.ReLU()),
                       (f'bn{i + 1}', nn.BatchNorm2d(ch, eps=eps, momentum=momentum))]
            in_c = ch
            if i % 2 == 1:
                k = (i + 1) // 2
                layers += [(f'pool{k}', nn.MaxPool2d(2)), (f'drop{k}', nn.Dropout(c['dropout']))]
                size //= 2
        self.body = nn.Sequential(OrderedDict(layers))
        self.dense = nn.Sequential(OrderedDict([
            ('flatten', nn.Flatten()), ('fc', nn.Linear(in_c * size * size, c['dense'])), ('relu', nn.ReLU()),
            ('bn', nn.BatchNorm1d(c['dense'], eps=eps, momentum=momentum))]))
        self.drop = nn.Dropout(c['dropout'])
        self.out = nn.Linear(c['dense'], c['classes'])

    def features(self, x):
        """the 128-d penultimate features (the engine's FID space; eval mode)"""
        return self.dense(self.body(x))

    def forward(self, x):
        return self.out(self.drop(self.features(x)))


class Generator(nn.Module):
    """images [N, 1, 28, 28] in [-1, 1] for noise z [N, noiseDim] ~ N(0, 1) and labels y [N] (int64)"""

    def __init__(self, config):
        super().__init__()
        c = config
        self.maps = c['gMaps']
        self.label_embed = nn.Embedding(c['classes'], c['embedDim'])
        self.label_fc = nn.Linear(c['embedDim'], 49)
        self.noise_fc = nn.Linear(c['noiseDim'], c['gMaps'] * 49)
        self.up1 = ConvTranspose2dSame(c['gMaps'] + 1, c['gMid'], 5, stride=2, bias=False)
        self.bn1 = nn.BatchNorm2d(c['gMid'], eps=GAN_BN_EPS, momentum=c['bnMomentum'])
        self.up2 = ConvTranspose2dSame(c['gMid'], 1, 5, stride=2)

    def forward(self, z, y):
        n = z.shape[0]
        label = self.label_fc(self.label_embed(y)).view(n, 1, 7, 7)
        noise = F.relu(self.noise_fc(z)).view(n, self.maps, 7, 7)
        h = F.relu(self.bn1(self.up1(torch.cat([noise, label], 1))))
        return torch.tanh(self.up2(h))


class Discriminator(nn.Module):
    """(real/fake logit [N, 1], class logits [N, classes] or None) for x [N, 1, 28, 28] in [-1, 1], labels y [N];
    the cGAN takes the label by projection (dCond 'projection') or as a second input channel ('channel', also
    what a config without dCond means); the AC-GAN ignores y and has a class head"""

    def __init__(self, config):
        super().__init__()
        c = config
        cond = c['kind'] == 'cgan'
        self.channel = cond and c.get('dCond', 'channel') == 'channel'
        if self.channel:
            self.label_embed = nn.Embedding(c['classes'], c['embedDim'])
            self.label_fc = nn.Linear(c['embedDim'], 784)
        in_c = 2 if self.channel else 1
        self.depth = len(c['dChannels'])
        for i, ch in enumerate(c['dChannels']):
            setattr(self, f'conv{i + 1}', Conv2dSame(in_c, ch, 3, stride=2 if i % 2 == 0 else 1, bias=i == 0))
            if i > 0:
                setattr(self, f'bn{i + 1}', nn.BatchNorm2d(ch, eps=GAN_BN_EPS, momentum=c['bnMomentum']))
            in_c = ch
        self.drop = nn.Dropout(c['dropout'])
        feat = in_c * 49
        self.adv = nn.Linear(feat, 1)
        self.cls = nn.Linear(feat, c['classes']) if not cond else None
        self.label_proj = nn.Embedding(c['classes'], feat) if cond and not self.channel else None

    def forward(self, x, y):
        n = x.shape[0]
        h = x
        if self.channel:
            h = torch.cat([x, self.label_fc(self.label_embed(y)).view(n, 1, 28, 28)], 1)
        for i in range(self.depth):
            h = getattr(self, f'conv{i + 1}')(h)
            if i > 0:
                h = getattr(self, f'bn{i + 1}')(h)
            h = self.drop(F.leaky_relu(h, 0.2))
        flat = h.reshape(n, -1)
        adv = self.adv(flat)
        if self.label_proj is not None:
            adv = adv + (self.label_proj(y) * flat).sum(1, keepdim=True)
        return adv, self.cls(flat) if self.cls is not None else None
