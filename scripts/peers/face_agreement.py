#!/usr/bin/env python3
"""face_agreement.py TELL_FILE DLIB_FILE

Compares the faces tell's Finder found (face TestFinderRealCrops with
TELL_FACE_CROPS_OUT) with dlib's own (dlib_faces.cpp: HOG detector on the
image upsampled once, then the 68-point predictor) on the same images.
Prints how many images each found a face in, and over the images both found
one in, the mean landmark distance in units of dlib's inter-ocular distance
(eye centres): median, 90th percentile, share within 3% and 5%.
"""
import sys


def read(path, skip):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) < 2:
            continue
        if f[1] == "1":
            v = [float(x) for x in f[2 + skip: 2 + skip + 136]]
            out[f[0]] = [(v[2 * i], v[2 * i + 1]) for i in range(68)]
        else:
            out[f[0]] = None
    return out


def centre(p, a, b):
    xs = [p[i][0] for i in range(a, b)]
    ys = [p[i][1] for i in range(a, b)]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def main():
    tell, dlib = read(sys.argv[1], 0), read(sys.argv[2], 4)
    names = sorted(set(tell) & set(dlib))
    errs = []
    for n in names:
        a, b = tell[n], dlib[n]
        if a is None or b is None:
            continue
        (lx, ly), (rx, ry) = centre(b, 36, 42), centre(b, 42, 48)
        iod = ((lx - rx) ** 2 + (ly - ry) ** 2) ** 0.5
        d = sum(((a[i][0] - b[i][0]) ** 2 + (a[i][1] - b[i][1]) ** 2) ** 0.5 for i in range(68)) / 68
        errs.append(d / iod)
    errs.sort()
    k = len(errs)
    print(f"images={len(names)} tell_found={sum(1 for n in names if tell[n])} dlib_found={sum(1 for n in names if dlib[n])} both={k}")
    if k:
        print(f"mean_landmark_distance_iod median={errs[k // 2]:.4f} p90={errs[k * 9 // 10]:.4f} max={errs[-1]:.4f} "
              f"within_3pct={sum(1 for e in errs if e <= 0.03) / k:.3f} within_5pct={sum(1 for e in errs if e <= 0.05) / k:.3f}")


if __name__ == "__main__":
    main()
