"""Writes torch_golden.json: reference values from PyTorch (Debian's 1.13)
for nn's tests. Regenerate with: /usr/bin/python3 torch_golden.py
"""
import json, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
out = {}
L = lambda t: t.detach().reshape(-1).tolist()

# Cross-entropy with class weights and label smoothing.
x = torch.randn(5, 4, requires_grad=True); y = torch.tensor([0, 2, 1, 2, 3]); w = torch.tensor([1., 2., .5, 3.])
ce = F.cross_entropy(x, y, weight=w, label_smoothing=0.2); ce.backward()
out["ce"] = {"logits": L(x), "targets": y.tolist(), "weights": L(w), "smoothing": 0.2, "loss": ce.item(), "grad": L(x.grad)}

# Pre-norm transformer encoder layer (norm_first, GELU, no dropout).
W, H, FF, B, T = 8, 2, 16, 2, 3
layer = nn.TransformerEncoderLayer(W, H, FF, 0.0, activation="gelu", batch_first=True, norm_first=True)
xin = torch.randn(B, T, W, requires_grad=True)
yo = layer(xin); r = torch.randn(B, T, W); (yo * r).sum().backward()
sd = {k: L(v) for k, v in layer.state_dict().items()}
grads = {k: L(p.grad) for k, p in layer.named_parameters()}
out["block"] = {"dim": W, "heads": H, "mlp": FF, "shape": [B, T, W], "x": L(xin), "y": L(yo), "r": L(r), "dx": L(xin.grad), "state": sd, "grads": grads}

# AdamW: three steps on one tensor with changing gradients.
p = torch.nn.Parameter(torch.randn(6)); opt = torch.optim.AdamW([p], lr=0.01, weight_decay=0.05)
p0 = L(p); gs = [torch.randn(6) for _ in range(3)]; ps = []
for g in gs:
    p.grad = g.clone(); opt.step(); ps.append(L(p))
out["adamw"] = {"p0": p0, "grads": [L(g) for g in gs], "after": ps, "lr": 0.01, "wd": 0.05}

# Symmetric InfoNCE as in bench/torch_step.py.
a = torch.randn(4, 6, requires_grad=True); b = torch.randn(4, 6, requires_grad=True); s = torch.tensor(1.3, requires_grad=True)
sim = s.exp() * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t(); ar = torch.arange(4)
loss = (F.cross_entropy(sim, ar) + F.cross_entropy(sim.t(), ar)) / 2; loss.backward()
out["infonce"] = {"a": L(a), "b": L(b), "logit_scale": 1.3, "loss": loss.item(), "da": L(a.grad), "db": L(b.grad), "dscale": s.grad.item()}

# BatchNorm2d: a training step (batch statistics, running statistics
# updated twice) and an evaluation pass with the running statistics.
bn = nn.BatchNorm2d(3); bn.weight.data = torch.randn(3); bn.bias.data = torch.randn(3)
xb = torch.randn(4, 3, 2, 5, requires_grad=True); rb = torch.randn(4, 3, 2, 5)
bn.train(); bn(torch.randn(4, 3, 2, 5) * 2 + 1)  # a first step moves the running statistics
rm0, rv0 = L(bn.running_mean), L(bn.running_var)
yb = bn(xb); (yb * rb).sum().backward()
bn.eval(); xe = torch.randn(2, 3, 2, 5); ye = bn(xe)
out["batchnorm"] = {"weight": L(bn.weight), "bias": L(bn.bias), "running_mean0": rm0, "running_var0": rv0, "x": L(xb), "shape": [4, 3, 2, 5], "y": L(yb), "r": L(rb),
    "dx": L(xb.grad), "dweight": L(bn.weight.grad), "dbias": L(bn.bias.grad),
    "running_mean": L(bn.running_mean), "running_var": L(bn.running_var), "xe": L(xe), "ye": L(ye)}

# Pooling with padding (STSTNet's MaxPool2d(3, 3, padding=1), AvgPool2d with padding).
xp = torch.randn(2, 2, 7, 8, requires_grad=True); mp = F.max_pool2d(xp, 3, 3, padding=1); rp = torch.randn(mp.shape)
(mp * rp).sum().backward(); mpg = L(xp.grad); xp.grad = None
ap = F.avg_pool2d(xp, 2, 2, padding=1); ra = torch.randn(ap.shape); (ap * ra).sum().backward()
out["pool"] = {"x": L(xp), "shape": [2, 2, 7, 8], "max": L(mp), "max_shape": list(mp.shape), "rmax": L(rp), "dmax": mpg,
    "avg": L(ap), "avg_shape": list(ap.shape), "ravg": L(ra), "davg": L(xp.grad)}

# Depthwise convolution (groups = channels), stride 2, padding 1.
dw = nn.Conv2d(3, 3, 3, stride=2, padding=1, groups=3)
xd = torch.randn(2, 3, 6, 5, requires_grad=True); yd = dw(xd); rd = torch.randn(yd.shape); (yd * rd).sum().backward()
out["depthwise"] = {"weight": L(dw.weight), "bias": L(dw.bias), "x": L(xd), "shape": [2, 3, 6, 5], "y": L(yd), "y_shape": list(yd.shape), "r": L(rd),
    "dx": L(xd.grad), "dweight": L(dw.weight.grad), "dbias": L(dw.bias.grad)}

json.dump(out, open(__file__.replace(".py", ".json"), "w"))
