"""The short-axis FCN of Bai et al. (J Cardiovasc Magn Reson 20:65, 2018).

Encoder: 5 levels of 16/32/64/128/256 filters with 2/2/3/3/3 3x3 convolutions (no bias,
batch norm, ReLU); the first convolution of levels 2-5 has stride 2. Each level feeds a
1x1 conv + BN + ReLU side output of 32 channels, upsampled bilinearly to full resolution;
the five are concatenated (160 channels) and go through two 1x1 conv + BN + ReLU layers of
64 channels and a 1x1 convolution to 4 classes (0 background, 1 LV blood pool,
2 myocardium, 3 RV blood pool). Parameter names are what the Rust loader reads.
"""

import torch
from torch import nn
import torch.nn.functional as F

FILTERS = (16, 32, 64, 128, 256)
CONVS = (2, 2, 3, 3, 3)
SIDE = 32
HEAD = 64
CLASSES = 4


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SaxFcn(nn.Module):
    """in_channels: 1 for one slice (the paper), 3 for the slice with its two neighbours in
    the stack as extra channels (data.with_context)."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.in_channels = in_channels
        levels = []
        cin = in_channels
        for i, (f, n) in enumerate(zip(FILTERS, CONVS)):
            layers = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(ConvBnRelu(cin, f, 3, stride))
                cin = f
            levels.append(nn.Sequential(*layers))
        self.levels = nn.ModuleList(levels)
        self.sides = nn.ModuleList([ConvBnRelu(f, SIDE, 1) for f in FILTERS])
        self.head1 = ConvBnRelu(SIDE * len(FILTERS), HEAD, 1)
        self.head2 = ConvBnRelu(HEAD, HEAD, 1)
        self.classifier = nn.Conv2d(HEAD, CLASSES, 1)

    def forward(self, x):
        """x: (N, in_channels, H, W) with H, W multiples of 16; returns logits (N, 4, H, W)."""
        size = x.shape[-2:]
        sides = []
        for level, side in zip(self.levels, self.sides):
            x = level(x)
            s = side(x)
            if s.shape[-2:] != size:
                s = F.interpolate(s, size=size, mode="bilinear", align_corners=False)
            sides.append(s)
        y = torch.cat(sides, dim=1)
        return self.classifier(self.head2(self.head1(y)))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def in_channels_of(state):
    """The input channel count of a state_dict (its first convolution's weight)."""
    return int(state["levels.0.0.conv.weight"].shape[1])
