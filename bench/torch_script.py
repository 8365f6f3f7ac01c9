"""What many people write: pandas reads the file, torch computes mse and torchvision's sigmoid focal loss
with autograd for the gradients.

    python bench/torch_script.py FILE.parquet
"""

import sys

import pandas as pd
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
frame = pd.read_parquet(sys.argv[1], columns=["pred", "target"])
y = torch.tensor(frame["target"].to_numpy())
for name in ("mse", "focal"):
    x = torch.tensor(frame["pred"].to_numpy(), requires_grad=True)
    if name == "mse":
        value = F.mse_loss(x, y)
    else:  # torchvision.ops.sigmoid_focal_loss, written out
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        value = ((0.25 * y + 0.75 * (1 - y)) * ce * (1 - p_t) ** 2).mean()
    value.backward()
    g = x.grad
    print(name, value.item(), g.norm().item(), g.abs().max().item(), g.mean().item())
