"""Make a frame pair with known optical flow, for judging flow accuracy.
(A copy of the project's peer benchmark bench/flow_pair.py, so that make test and make bench can run it.)

usage: flow_pair.py IMAGE SIZE OUTDIR [SEED]
Writes OUTDIR/a.png, OUTDIR/b.png (grey, SIZE x SIZE) and OUTDIR/gt.flo (Middlebury .flo),
where b(x) = a(x - flow(x)) for a smooth flow of micro-expression scale (up to ~2 px,
one local bump up to ~4 px), so that flow(a -> b) = gt.
"""
import sys, os, numpy as np, cv2
img, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
os.makedirs(out, exist_ok=True)
a = cv2.resize(cv2.imread(img, cv2.IMREAD_GRAYSCALE), (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
def smooth(scale):
    f = cv2.resize(rng.normal(0, 1, (4, 4)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return f / (np.abs(f).max() + 1e-6) * scale
u, v = smooth(1.5), smooth(1.5)
cx, cy, r = rng.uniform(0.3, 0.7) * size, rng.uniform(0.5, 0.8) * size, size * 0.12
bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)).astype(np.float32)
u += bump * rng.uniform(-4, 4); v += bump * rng.uniform(-4, 4)
# b(x) = a(x - flow(x)): sample a at x - flow (first-order inverse of a forward warp)
b = cv2.remap(a, xx - u, yy - v, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
cv2.imwrite(os.path.join(out, "a.png"), np.clip(a, 0, 255).astype(np.uint8))
cv2.imwrite(os.path.join(out, "b.png"), np.clip(b, 0, 255).astype(np.uint8))
with open(os.path.join(out, "gt.flo"), "wb") as f:
    np.array([202021.25], np.float32).tofile(f); np.array([size, size], np.int32).tofile(f)
    np.dstack([u, v]).astype(np.float32).tofile(f)
print("wrote", out)
