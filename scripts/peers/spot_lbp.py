#!/usr/bin/env python3
"""spot_lbp.py TRUTH.csv [--fps F] [--base 1|0] [--p P] [--length SECONDS] [--crop X,Y,W,H] [--interior] [--clips]

The classic appearance-based spotting baseline, peer of `tell bench spot`:
LBP-chi-squared feature difference (Moilanen, Zhao & Pietikainen, ICPR 2014;
the MEGC 2019-2021 spotting baseline, Li et al.). Each frame's grey image is
cut into 6x6 blocks, each block described by the histogram of its 8-neighbour
LBP codes; for frame t the feature difference of a block is the chi-squared
distance between its histogram and the mean of the histograms at t-k and t+k
(k = half the expected expression length, --length, default 0.3 s), the
frame's FD the mean of the largest third of its blocks' differences. The
contrasted signal C(t) = FD(t) - (FD(t-k) + FD(t+k))/2 (negative values 0)
is thresholded at mean + p (max - mean) of the clip (--p, default 0.1); each
peak above it, peaks at least k apart, is an interval [peak-k, peak+k], its
apex the peak. At a clip's ends the frame t-k or t+k is clamped to the
first or last frame, so a clip cut from onset to offset is scored; with
--interior only frames with both neighbours inside the clip are peaks (the
method as published, for long videos: clamping makes the ends look like
changes). The whole frame is the face region (MEGC's baseline runs on
face crops): use it on face crops, or give the face's box with --crop (pixels,
the same box for every frame) when the face is a small part of the picture.

Reads the same truth file as tell bench spot (clip or video or frames,
onset, offset, optional apex and fps; frame numbers from --base, default 1)
and prints the same name=value lines, spot_f1= last: matches at IoU >= 0.5,
one to one, pooled over clips; apex error in frames over the matched
expressions with a coded apex.
"""
import argparse
import csv
import os
import sys

import cv2
import numpy as np


def frames_of(path, crop=None):
    """Grey frames of a folder of images (name order) or a video file,
    cut to crop (x, y, w, h) when given."""
    for g in _frames(path):
        if crop:
            x, y, w, h = crop
            if x + w > g.shape[1] or y + h > g.shape[0]:
                raise SystemExit("%s: --crop %d,%d,%d,%d is outside the %dx%d frame" % (path, x, y, w, h, g.shape[1], g.shape[0]))
            g = g[y:y + h, x:x + w]
        yield g


def _frames(path):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")))
        for n in names:
            g = cv2.imread(os.path.join(path, n), cv2.IMREAD_GRAYSCALE)
            if g is None:
                raise SystemExit("%s: cannot read" % os.path.join(path, n))
            yield g.astype(np.int16)
        return
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SystemExit("%s: cannot open" % path)
    while True:
        ok, f = cap.read()
        if not ok:
            break
        yield cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.int16)


def lbp_blocks(g, nb=6):
    """256-bin LBP histograms of nb x nb blocks, normalised, shape (nb*nb, 256)."""
    c = g[1:-1, 1:-1]
    code = np.zeros(c.shape, np.int32)
    nbrs = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    h, w = g.shape
    for bit, (dy, dx) in enumerate(nbrs):
        n = g[1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx]
        code |= (n >= c).astype(np.int32) << bit
    hh, ww = code.shape
    out = np.zeros((nb * nb, 256))
    for by in range(nb):
        for bx in range(nb):
            blk = code[by * hh // nb:(by + 1) * hh // nb, bx * ww // nb:(bx + 1) * ww // nb]
            hist = np.bincount(blk.ravel(), minlength=256).astype(np.float64)
            out[by * nb + bx] = hist / max(1.0, hist.sum())
    return out


def spot(feats, k, p, interior=False):
    n = len(feats)
    fd = np.zeros(n)
    for t in range(n):
        a, b = feats[max(0, t - k)], feats[min(n - 1, t + k)]
        avg = (a + b) / 2
        d = ((feats[t] - avg) ** 2 / (feats[t] + avg + 1e-10)).sum(axis=1)
        m = max(1, len(d) // 3)
        fd[t] = np.sort(d)[-m:].mean()
    c = np.array([fd[t] - (fd[max(0, t - k)] + fd[min(n - 1, t + k)]) / 2 for t in range(n)])
    c[c < 0] = 0
    if interior and n > 2 * k:
        c[:k] = 0
        c[n - k:] = 0
    thr = c.mean() + p * (c.max() - c.mean())
    peaks = []
    for t in np.argsort(-c):
        if c[t] <= thr:
            break
        if all(abs(t - q) >= k for q in peaks):
            peaks.append(int(t))
    return sorted((max(0, q - k), q, min(n - 1, q + k)) for q in peaks)


def iou(a, b):
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return inter / float((a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter)


def match(truth, spotted):
    """Maximum one-to-one matching at IoU >= 0.5: pairs (truth, spot)."""
    owner = [-1] * len(truth)

    def aug(s, seen):
        for g in range(len(truth)):
            if g not in seen and iou(truth[g], spotted[s]) >= 0.5:
                seen.add(g)
                if owner[g] < 0 or aug(owner[g], seen):
                    owner[g] = s
                    return True
        return False

    for s in range(len(spotted)):
        aug(s, set())
    return [(g, s) for g, s in enumerate(owner) if s >= 0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("--fps", type=float, default=30)
    ap.add_argument("--base", type=int, default=1)
    ap.add_argument("--p", type=float, default=0.1)
    ap.add_argument("--length", type=float, default=0.3)
    ap.add_argument("--crop", default="", help="X,Y,W,H: the face's box in pixels")
    ap.add_argument("--interior", action="store_true", help="peaks only where t-k and t+k are inside the clip")
    ap.add_argument("--clips", action="store_true")
    a = ap.parse_args()
    crop = None
    if a.crop:
        try:
            crop = tuple(int(v) for v in a.crop.split(","))
        except ValueError:
            crop = ()
        if len(crop) != 4 or min(crop) < 0 or crop[2] < 8 or crop[3] < 8:
            raise SystemExit("--crop %r: want X,Y,W,H in pixels (W, H at least 8)" % a.crop)
    rows = list(csv.DictReader(open(a.truth)))
    clips, order = {}, []
    for r in rows:
        c = next((r[k] for k in ("clip", "video", "frames") if r.get(k)), "")
        path = os.path.join(os.path.dirname(a.truth), c)
        if path not in clips:
            clips[path] = {"fps": float(r.get("fps") or a.fps), "truth": []}
            order.append(path)
        if r.get("onset"):
            ap_ = r.get("apex") or ""
            clips[path]["truth"].append((int(r["onset"]) - a.base + 1, int(ap_) - a.base + 1 if ap_ not in ("", "/") else 0, int(r["offset"]) - a.base + 1))
    tp = fp = fn = 0
    errs = []
    for path in order:
        feats = [lbp_blocks(g) for g in frames_of(path, crop)]
        k = max(1, int(round(a.length * clips[path]["fps"] / 2)))
        sp = [(s + 1, q + 1, e + 1) for s, q, e in spot(feats, k, a.p, a.interior)]
        tr = clips[path]["truth"]
        pairs = match([(t[0], t[2]) for t in tr], [(s[0], s[2]) for s in sp])
        tp += len(pairs)
        fp += len(sp) - len(pairs)
        fn += len(tr) - len(pairs)
        for g, s in pairs:
            if tr[g][1]:
                errs.append(abs(sp[s][1] - tr[g][1]))
        if a.clips:
            print("clip %s: coded %s spotted %s" % (path, tr, sp))
    prec = tp / float(tp + fp) if tp + fp else 0
    rec = tp / float(tp + fn) if tp + fn else 0
    print("clips=%d\ntp=%d\nfp=%d\nfn=%d\nprecision=%.3f\nrecall=%.3f" % (len(order), tp, fp, fn, prec, rec))
    if errs:
        e = sorted(errs)
        print("apex_err_mean=%.1f\napex_err_median=%.1f\napex_within_10=%d/%d" % (sum(e) / len(e), float(np.median(e)), sum(1 for x in e if x <= 10), len(e)))
    print("spot_f1=%.3f" % (2 * tp / float(2 * tp + fp + fn) if tp + fp + fn else 0))


if __name__ == "__main__":
    sys.exit(main())
