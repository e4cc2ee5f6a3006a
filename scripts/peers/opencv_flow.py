"""Peer: OpenCV's DualTVL1 optical flow (default parameters) on a frame pair.
(A copy of the project's peer benchmark bench/opencv_flow.py, so that make test and make bench can run it.)

usage: opencv_flow.py A.png B.png [OUT.flo] [GT.flo]
Prints opencv_tvl1_ms=<median of 5 runs, 2 threads>, and epe=<mean end-point error vs GT> if given.
"""
import sys, time, statistics, numpy as np, cv2
def read_flo(p):
    with open(p, "rb") as f:
        assert np.fromfile(f, np.float32, 1)[0] == 202021.25
        w, h = np.fromfile(f, np.int32, 2); return np.fromfile(f, np.float32).reshape(h, w, 2)
a = cv2.imread(sys.argv[1], 0); b = cv2.imread(sys.argv[2], 0)
cv2.setNumThreads(2); tv = cv2.optflow.DualTVL1OpticalFlow_create()
flow = tv.calc(a, b, None); ts = []
for _ in range(5):
    t = time.perf_counter(); flow = tv.calc(a, b, None); ts.append((time.perf_counter() - t) * 1000)
if len(sys.argv) > 3 and sys.argv[3] != "-":
    with open(sys.argv[3], "wb") as f:
        np.array([202021.25], np.float32).tofile(f); np.array([a.shape[1], a.shape[0]], np.int32).tofile(f)
        flow.astype(np.float32).tofile(f)
if len(sys.argv) > 4:
    gt = read_flo(sys.argv[4]); m = 8  # ignore a border of 8 px
    print(f"epe={np.linalg.norm((flow - gt)[m:-m, m:-m], axis=2).mean():.4f}")
print(f"opencv_tvl1_ms={statistics.median(ts):.1f}")
