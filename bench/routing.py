"""Classifier figures on the TIPDM 2020 C data: train on tokens, evaluate on raw messages.

Run from the project root:  .venv/bin/python bench/routing.py [--data DIR]

The CV figure comes from folds that keep near-duplicate messages (same opening)
together, so it is not inflated by copies; dev_raw has only 448 messages, so
its macro-F1 moves by about ±0.015 between equally good models. The goals
(macro-F1 ≥ 0.95 with every class ≥ 0.90, ≥ 2,000 raw messages/s on one
core, model < 100 MB) are checked at the end. The issue's baseline (jieba
words + TF-IDF + LinearSVC) is trained and scored on the same split, for comparison.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baishitong.routing import classifier, dataset

ROOT = Path(__file__).resolve().parents[1]

_RSS_PROBE = """
import resource, sys
from pathlib import Path
from baishitong.routing.classifier import TrainedModel
def rss_kb():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() // 1024
before = rss_kb()
m = TrainedModel.from_bytes(Path(sys.argv[1]).read_bytes())
m.predict(["小区垃圾没人清理"])
print(before, rss_kb())
"""


def _rss_of_loaded(blob: bytes) -> tuple[float, float]:
    """(RSS after imports, RSS after loading the model) in MB, measured in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(blob)
        f.flush()
        out = subprocess.run([sys.executable, "-c", _RSS_PROBE, f.name], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    return before / 1024, after / 1024


def _jieba_baseline(train_texts, train_labels, dev_texts, dev_labels) -> tuple[float, dict[str, float]]:
    """Plain jieba + TF-IDF + LinearSVC: train tokens are jieba words already, dev is segmented the same way.

    Stop words need no removal on dev: they are absent from the training vocabulary, so TF-IDF ignores them.
    """
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    jieba.setLogLevel(60)
    segmenter = jieba.Tokenizer()  # a fresh dictionary, without the project's added words
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    svm = LinearSVC().fit(vectorizer.fit_transform(train_texts), train_labels)
    predicted = svm.predict(vectorizer.transform([" ".join(segmenter.lcut(t)) for t in dev_texts]))
    labels = sorted(set(train_labels))
    per_class = f1_score(dev_labels, predicted, labels=labels, average=None)
    return float(per_class.mean()), dict(zip(labels, map(float, per_class)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/tipdm2020c")
    parser.add_argument("--cv-folds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"data: {args.data}   cores: {sorted(os.sched_getaffinity(0))}\n")

    train_texts, train_labels = dataset.load_labelled(args.data / "train_tokens.csv", ["tokens"], "label")
    dev_texts, dev_labels = dataset.load_labelled(args.data / "dev_raw.csv", ["subject", "detail"], "label")

    t0 = time.perf_counter()
    model = classifier.train(train_texts, train_labels, tokenized=True, cv_folds=args.cv_folds)
    train_s = time.perf_counter() - t0
    report = classifier.evaluate(model, dev_texts, dev_labels)

    print(f"train: {len(train_texts)} tokenised messages   dev: {len(dev_texts)} raw messages")
    print(f"training time (incl. {model.metrics.get('cv_folds', 0)}-fold CV over C): {train_s:.1f} s")
    print(f"chosen C: {model.metrics.get('C')}   temperature: {model.metrics.get('temperature', 1.0):.3f}")
    print(f"CV macro-F1 on train tokens (near-duplicate-grouped folds): {model.metrics.get('cv_macro_f1', float('nan')):.4f}\n")
    print(f"dev macro-F1: {report['macro_f1']:.4f}   accuracy: {report['accuracy']:.4f}")
    print(f"{'class':<10}{'P':>8}{'R':>8}{'F1':>8}{'n':>6}")
    for label, m in report["per_class"].items():
        print(f"{label:<10}{m['precision']:>8.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>6}")

    labels = report["confusion"]["labels"]
    print("\nconfusion on dev (rows: true, columns: predicted, in the order above)")
    for label, row in zip(labels, report["confusion"]["matrix"]):
        print(f"{label:<10}" + "".join(f"{n:>5}" for n in row))

    base_f1, base_per_class = _jieba_baseline(train_texts, train_labels, dev_texts, dev_labels)
    print(f"\nbaseline jieba words + TF-IDF + LinearSVC(C=1), same train/dev: dev macro-F1 {base_f1:.4f}")
    print("  " + "  ".join(f"{label} {f:.3f}" for label, f in base_per_class.items()))

    mean_conf = statistics.mean(p.confidence for p in model.predict(dev_texts))
    print(f"mean confidence on dev: {mean_conf:.3f} (accuracy {report['accuracy']:.3f})\n")

    batch = dev_texts * max(1, 4000 // len(dev_texts))
    chars = statistics.mean(map(len, batch))
    t0 = time.perf_counter()
    model.predict(batch)
    rate = len(batch) / (time.perf_counter() - t0)
    print(f"batch throughput (1 core, raw text, {chars:.0f} chars avg): {rate:,.0f} messages/s")

    latencies = []
    for text in dev_texts * 3:
        t0 = time.perf_counter()
        model.predict_one(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(latencies, n=100)
    print(f"single message latency: p50 {q[49]:.2f} ms   p95 {q[94]:.2f} ms   max {max(latencies):.2f} ms")

    blob = model.to_bytes()
    base, loaded = _rss_of_loaded(blob)
    print(f"serialized model: {len(blob) / 1e6:.1f} MB")
    print(f"RSS of a process with the model loaded: {loaded:.0f} MB (interpreter + imports alone: {base:.0f} MB)\n")

    worst = min(m["f1"] for m in report["per_class"].values())
    goals = [
        ("dev macro-F1 >= 0.95", report["macro_f1"] >= 0.95),
        ("every class F1 >= 0.90 on dev", worst >= 0.90),
        ("throughput >= 2,000 messages/s", rate >= 2000),
        ("model < 100 MB", len(blob) < 100e6),
    ]
    for name, met in goals:
        print(f"goal {name}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
