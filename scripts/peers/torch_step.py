"""Peer timing: one training step of the reference MER model in PyTorch (CPU).
(A copy of the project's peer benchmark bench/torch_step.py, so that make test and make bench can run it.)

Reference model (the same spec as the project's `nn` benchmark):
  input  : batch 32 of 3x28x28 optical-flow images (u, v, strain)
  vision : patch 4 -> 49 tokens + cls, width 128, depth 4, heads 4, MLP x4, pre-LN, GELU
  head   : 2 transformer layers (the emotion inference module) on all tokens, cls -> 3 classes
  text   : 32 AU descriptions, 16 tokens each, vocab 512, width 128, depth 2 -> mean pool -> proj
  loss   : cross-entropy on classes + symmetric InfoNCE (learnable temperature) between cls and text
  optim  : AdamW lr 1e-3 wd 0.05
Prints: torch_step_ms=<median over timed steps>
"""
import time, statistics, sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0)
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
B, W, D, H = 32, 128, 4, 4
def enc(d): return nn.TransformerEncoder(nn.TransformerEncoderLayer(W, H, 4*W, 0.0, activation="gelu", batch_first=True, norm_first=True), d)
class M(nn.Module):
    def __init__(s):
        super().__init__()
        s.patch = nn.Conv2d(3, W, 4, 4); s.cls = nn.Parameter(torch.zeros(1,1,W)); s.pos = nn.Parameter(torch.zeros(1,50,W))
        s.vis = enc(D); s.eim = enc(2); s.head = nn.Linear(W, 3); s.vproj = nn.Linear(W, W)
        s.tok = nn.Embedding(512, W); s.tpos = nn.Parameter(torch.zeros(1,16,W)); s.txt = enc(2); s.tproj = nn.Linear(W, W)
        s.logit_scale = nn.Parameter(torch.tensor(2.659))
    def forward(s, x, t):
        v = s.patch(x).flatten(2).transpose(1,2)
        v = torch.cat([s.cls.expand(x.shape[0],-1,-1), v], 1) + s.pos
        v = s.vis(v); logits = s.head(s.eim(v)[:,0])
        z = F.normalize(s.vproj(v[:,0]), dim=-1)
        u = F.normalize(s.tproj(s.txt(s.tok(t) + s.tpos).mean(1)), dim=-1)
        sim = s.logit_scale.exp() * z @ u.t()
        return logits, sim
m = M(); opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.05)
x = torch.randn(B,3,28,28); t = torch.randint(0,512,(B,16)); y = torch.randint(0,3,(B,))
ar = torch.arange(B)
def step():
    opt.zero_grad(); logits, sim = m(x, t)
    loss = F.cross_entropy(logits, y) + (F.cross_entropy(sim, ar) + F.cross_entropy(sim.t(), ar))/2
    loss.backward(); opt.step(); return loss.item()
for _ in range(3): step()
ts = []
for _ in range(15):
    t0 = time.perf_counter(); step(); ts.append((time.perf_counter()-t0)*1000)
print(f"params={sum(p.numel() for p in m.parameters())} threads={threads}")
print(f"torch_step_ms={statistics.median(ts):.1f}")
