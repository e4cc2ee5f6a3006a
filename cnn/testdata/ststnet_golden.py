"""Writes ststnet_golden.json: the STSTNet-style network of
../../../shared/bench/ststnet_loso.py (three streams of 3, 5 and 8 channels:
Conv2d 3x3 pad 1 -> ReLU -> BatchNorm2d -> MaxPool2d(3, 3, pad 1) ->
AvgPool2d(2, 2); concatenated; Linear to 3 classes) on a batch of 28x28
inputs x[i] = sin(0.731 i) + 0.5 cos(0.117 i) (evaluation: i + 7), PyTorch 1.13: the training-mode logits, the cross-entropy loss and
every gradient, the running statistics after the step, and evaluation-mode
logits. Regenerate with: /usr/bin/python3 ststnet_golden.py
"""
import json, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
L = lambda t: t.detach().reshape(-1).tolist()

class Net(nn.Module):
    def __init__(s, k=3):
        super().__init__()
        s.b = nn.ModuleList([nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(c), nn.MaxPool2d(3, 3, padding=1), nn.AvgPool2d(2, 2)) for c in (3, 5, 8)])
        s.fc = nn.Linear(16 * 5 * 5, k)
    def forward(s, x): return s.fc(torch.cat([b(x) for b in s.b], 1).flatten(1))

net = Net()
for b in net.b:  # non-trivial BatchNorm affine parameters
    b[2].weight.data = torch.rand(b[2].weight.shape) + 0.5
    b[2].bias.data = torch.randn(b[2].bias.shape) * 0.1
# Inputs from a formula (Go computes the same), so the file need not hold them.
wave = lambda n, off: torch.tensor([__import__("math").sin(0.731 * (i + off)) + 0.5 * __import__("math").cos(0.117 * (i + off)) for i in range(n)], dtype=torch.float32)
x = wave(5 * 3 * 28 * 28, 0).reshape(5, 3, 28, 28); y = torch.tensor([0, 2, 1, 2, 0])
cat = lambda ts: torch.cat([t.detach().reshape(t.shape[0], -1) for t in ts], 0).reshape(-1).tolist()
params = {
    "conv.weight": cat([b[0].weight for b in net.b]), "conv.bias": cat([b[0].bias for b in net.b]),
    "bn.weight": cat([b[2].weight for b in net.b]), "bn.bias": cat([b[2].bias for b in net.b]),
    "fc.weight": L(net.fc.weight), "fc.bias": L(net.fc.bias),
}
net.train(); logits = net(x); loss = F.cross_entropy(logits, y); loss.backward()
grads = {
    "conv.weight": cat([b[0].weight.grad for b in net.b]), "conv.bias": cat([b[0].bias.grad for b in net.b]),
    "bn.weight": cat([b[2].weight.grad for b in net.b]), "bn.bias": cat([b[2].bias.grad for b in net.b]),
    "fc.weight": L(net.fc.weight.grad), "fc.bias": L(net.fc.bias.grad),
}
running = {"bn.running_mean": cat([b[2].running_mean for b in net.b]), "bn.running_var": cat([b[2].running_var for b in net.b])}
net.eval(); xe = wave(2 * 3 * 28 * 28, 7).reshape(2, 3, 28, 28); le = net(xe)
json.dump({"y": y.tolist(), "params": params, "logits": L(logits), "loss": loss.item(), "grads": grads,
           "running": running, "eval_logits": L(le)}, open(__file__.replace(".py", ".json"), "w"))
