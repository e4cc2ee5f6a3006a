#!/usr/bin/env python3
"""peer-fer-eval.py MANIFEST faceapi|human [PEER_DIR]

Scores the TensorFlow.js peer (PEER_DIR/fer.js, default ../shared/bench/tfjs)
zero-shot on a still-image manifest with the rule `tell eval --appearance
NAME` uses, so that the two figures compare: each row's image is given
whole; the classes are the manifest's labels (the model classes the task
has, or for negative/positive/surprise the sums anger+disgust+fear+sadness,
happiness, surprise); the model's other classes (neutral, ...) stay answers
of their own, always wrong; argmax; accuracy, and UF1 and UAR averaged over
the task's classes, over the pooled predictions. Prints name=value lines.
Standard library only.
"""
import csv
import os
import subprocess
import sys

ORDER = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]  # fer.js's order
CANON = {"happy": "happiness", "sad": "sadness", "surprised": "surprise", "angry": "anger",
         "disgusted": "disgust", "fearful": "fear", "afraid": "fear", "joy": "happiness",
         "po": "positive", "pos": "positive", "ne": "negative", "neg": "negative", "sur": "surprise"}
THREE = {"anger": "negative", "disgust": "negative", "fear": "negative", "sadness": "negative",
         "happiness": "positive", "surprise": "surprise"}


def canon(label):
    l = label.strip().lower()
    return CANON.get(l, l)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    manifest, model = sys.argv[1], sys.argv[2]
    peer = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench", "tfjs")
    base = os.path.dirname(os.path.abspath(manifest))
    rows = [r for r in csv.DictReader(open(manifest, newline="")) if r.get("image")]
    labels = sorted({canon(r["label"]) for r in rows})
    three = all(l in ("negative", "positive", "surprise") for l in labels)
    classes = labels if three else [l for l in labels if l in ORDER]
    images = [os.path.join(base, r["image"]) for r in rows]
    out = subprocess.run(["node", os.path.join(peer, "fer.js"), model] + images, capture_output=True, text=True, check=True).stdout
    probs = {}
    for line in out.splitlines():
        f = line.rsplit(" ", 7)
        if len(f) == 8:
            probs[f[0]] = [float(x) for x in f[1:]]
    k = len(classes)
    # The model's classes outside the task keep their own answer.
    outside = [n for n in ORDER if (THREE.get(n) if three else n) not in classes]
    answers = classes + outside
    conf = [[0] * len(answers) for _ in range(k)]
    for r, img in zip(rows, images):
        t = canon(r["label"])
        if t not in classes:
            continue
        p = probs[img]
        score = [0.0] * len(answers)
        for j, name in enumerate(ORDER):
            c = THREE.get(name) if three else name
            score[answers.index(c if c in classes else name)] += p[j]
        conf[classes.index(t)][max(range(len(answers)), key=lambda i: score[i])] += 1
    n = sum(map(sum, conf))
    f1s, recs = [], []
    for i in range(k):
        tp = conf[i][i]
        fp = sum(conf[j][i] for j in range(k)) - tp
        fn = sum(conf[i]) - tp
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        recs.append(tp / (tp + fn) if tp + fn else 0.0)
    print(f"classes={','.join(classes)}")
    print(f"n={n}")
    print(f"uf1={sum(f1s) / k:.4f}")
    print(f"uar={sum(recs) / k:.4f}")
    print(f"accuracy={sum(conf[i][i] for i in range(k)) / n:.4f}")
    print(next(l for l in out.splitlines() if l.startswith("tfjs_")))


if __name__ == "__main__":
    main()
