#!/usr/bin/env python3
"""jpeg_landmarks.py TELL DLIB_LANDMARKS DLIB_GRAY WORKDIR [IMAGE...]

Landmarks on JPEG input, tell against dlib. Each IMAGE (default: the portrait,
portrait/astronaut.png) is written by Pillow (libjpeg-turbo) as JPEG at quality
50, 75 and 95 with 4:2:0 and 4:4:4 chroma (and as a grey JPEG), at its own size
and at 256 and 768 px on the longer side. For every file: the box tell finds
(`tell bench landmarks`, its Finder) is given to both; dlib decodes the file
itself (load_image: libjpeg, default settings), tell with Go's image/jpeg and
its one grey conversion. Printed per file: the share of grey pixels that
differ, the largest grey difference, the landmarks' largest and mean |Δ| in
pixels (dlib's integer points against tell's rounded ones); then the same
with tell run on dlib's own decoded pixels (equal pixels). Last lines:
jpeg_landmark_max_px=, jpeg_landmark_mean_px=, equal_pixels_max_px=.
"""
import os
import subprocess
import sys

from PIL import Image

MODEL = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"


def read_pgm(path):
    """Reads a binary PGM: four header fields, one whitespace byte, then the
    pixels (which may begin with bytes that look like whitespace)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, i = [], 0
    while len(fields) < 4:
        while data[i:i + 1].isspace():
            i += 1
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[i + 1: i + 1 + w * h]


def points(out):
    box, pts = None, {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "box":
            box = f[1:5]
        elif len(f) == 3 and f[0].isdigit():
            pts[int(f[0])] = (int(f[1]), int(f[2]))
    return box, pts


def compare(a, b):
    d = [max(abs(a[i][0] - b[i][0]), abs(a[i][1] - b[i][1])) for i in range(68)]
    return max(d), sum(d) / 68


def main():
    tell, dlib_lm, dlib_gray, work = sys.argv[1:5]
    images = sys.argv[5:] or ["portrait/astronaut.png"]
    os.makedirs(work, exist_ok=True)
    worst, means, equal_worst = 0, [], 0
    for src_path in images:
        src = Image.open(src_path).convert("RGB")
        stem = os.path.splitext(os.path.basename(src_path))[0]
        for size in (None, 256, 768):
            im = src
            if size:
                s = size / max(src.size)
                im = src.resize((round(src.width * s), round(src.height * s)), Image.LANCZOS)
            for q in (50, 75, 95):
                for name, kw in (("420", {"subsampling": 2}), ("444", {"subsampling": 0}), ("grey", None)):
                    path = os.path.join(work, f"{stem}_{im.width}_q{q}_{name}.jpg")
                    if kw is None:
                        im.convert("L").save(path, quality=q)
                    else:
                        im.save(path, quality=q, **kw)
                    tg, dg = path + ".tell.pgm", path + ".dlib.pgm"
                    out = subprocess.run([tell, "bench", "landmarks", "--n", "1", "--gray", tg, path],
                                         capture_output=True, text=True)
                    if out.returncode != 0:
                        print(f"{os.path.basename(path)}: tell: {out.stderr.strip()}")
                        continue
                    box, ours = points(out.stdout)
                    _, theirs = points(subprocess.run([dlib_lm, MODEL, path] + box, capture_output=True, text=True, check=True).stdout)
                    subprocess.run([dlib_gray, path, dg], check=True)
                    w, h, a = read_pgm(tg)
                    _, _, b = read_pgm(dg)
                    diff = [abs(x - y) for x, y in zip(a, b)]
                    ndiff = sum(1 for x in diff if x)
                    mx, mean = compare(ours, theirs)
                    # tell on dlib's own pixels: the decoder taken out.
                    png = path + ".dlib.png"
                    Image.frombytes("L", (w, h), b).save(png)
                    _, ours_eq = points(subprocess.run([tell, "bench", "landmarks", "--n", "1", "--box", ",".join(box), png],
                                                       capture_output=True, text=True, check=True).stdout)
                    eq_max, _ = compare(ours_eq, theirs)
                    worst, equal_worst = max(worst, mx), max(equal_worst, eq_max)
                    means.append(mean)
                    print(f"{os.path.basename(path)} {w}x{h} pixels_differing={100 * ndiff / len(diff):.2f}% "
                          f"max_grey_diff={max(diff)} landmark_max_px={mx} landmark_mean_px={mean:.2f} "
                          f"equal_pixels_max_px={eq_max}")
    print(f"jpeg_landmark_max_px={worst}")
    print(f"jpeg_landmark_mean_px={sum(means) / len(means):.3f}")
    print(f"equal_pixels_max_px={equal_worst}")


if __name__ == "__main__":
    main()
