"""Request text → category label, trained on historic tickets.

Training data may arrive pre-tokenised with stop words removed while live
requests are raw text, so both go through one normalisation (stop words and
punctuation dropped, spaces removed) and are described by hashed character
n-grams: no segmentation at predict time, which keeps one core above a few
thousand messages per second. The opening characters (the subject, in
"subject。detail" input) get a second, separately weighted block because the
subject is the densest statement of what the citizen wants.

Historic tickets hold many near-duplicates (one complaint filed several times),
so cross-validation keeps messages with the same opening in the same fold:
otherwise C is tuned, and the CV figure reported, on copies of the test text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from operator import add

import joblib
import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

MAX_CHARS = 800
HEAD_CHARS = 30
HEAD_WEIGHT = 1.0
N_FEATURES = 2**21
MIN_DF = 2
MIN_DF_FROM = 200
C_GRID = (0.5, 1.0, 2.0)
GROUP_CHARS = 30
_FORMAT = 1

_NON_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")


@lru_cache
def _stop_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    words = resources.files("baishitong.text").joinpath("stopwords.txt").read_text("utf-8").split()
    multi = sorted({w for w in words if len(w) > 1}, key=len, reverse=True)
    single = "".join(sorted({w for w in words if len(w) == 1}))
    return re.compile("|".join(map(re.escape, multi))), re.compile(f"[{re.escape(single)}]")


def normalize(text: str, *, tokenized: bool = False) -> str:
    """Map raw and pre-tokenised text into the same character stream."""
    if tokenized:
        text = text.replace(" ", "")
    multi, single = _stop_patterns()
    text = single.sub(" ", multi.sub(" ", text[: MAX_CHARS * 2]))
    return _NON_TEXT.sub("", text)[:MAX_CHARS]


def _char_grams(text: str) -> list[str]:
    """Character 1-3 grams; map() keeps the loop in C, the hot spot of prediction."""
    bigrams = list(map(add, text, text[1:]))
    return [*text, *bigrams, *map(add, bigrams, text[2:])]


_HASHER = HashingVectorizer(
    analyzer=_char_grams, n_features=N_FEATURES, alternate_sign=False, norm=None, dtype=np.float32
)


@dataclass
class _Block:
    """One hashed TF-IDF block, compacted to the buckets seen in training.

    Buckets seen fewer than MIN_DF times are dropped, so n-grams that appear
    only in new text add no noise, and the weight matrix stays small.
    """

    remap: np.ndarray | None = None
    idf: np.ndarray | None = None

    @property
    def width(self) -> int:
        assert self.idf is not None
        return len(self.idf)

    def fit(self, docs: Sequence[str]) -> _Block:
        df = np.bincount(_HASHER.transform(docs).indices, minlength=N_FEATURES)
        kept = np.flatnonzero(df >= (MIN_DF if len(docs) >= MIN_DF_FROM else 1))
        if not len(kept):
            raise ValueError("训练文本中没有可用的文字内容")
        self.remap = np.full(N_FEATURES, -1, dtype=np.int32)
        self.remap[kept] = np.arange(len(kept), dtype=np.int32)
        self.idf = (np.log((1 + len(docs)) / (1 + df[kept])) + 1).astype(np.float32)
        return self

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        assert self.remap is not None and self.idf is not None
        x = _HASHER.transform(docs)
        cols = self.remap[x.indices]
        keep = cols >= 0
        rows = np.repeat(np.arange(len(docs)), np.diff(x.indptr))[keep]
        cols = cols[keep]
        data = (1 + np.log(x.data[keep])) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(docs)))
        norms[norms == 0] = 1.0
        data = (data / norms[rows]).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(docs)))])
        return sp.csr_matrix((data, cols, indptr), shape=(len(docs), self.width))


@dataclass
class _Featurizer:
    body: _Block = field(default_factory=_Block)
    head: _Block = field(default_factory=_Block)

    def fit(self, docs: Sequence[str]) -> _Featurizer:
        self.body.fit(docs)
        self.head.fit([d[:HEAD_CHARS] for d in docs])
        return self

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        heads = self.head.transform([d[:HEAD_CHARS] for d in docs])
        return sp.hstack([self.body.transform(docs), HEAD_WEIGHT * heads], format="csr")


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    top3: list[tuple[str, float]]


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TrainedModel:
    """A linear model over hashed n-grams, with calibrated softmax confidences."""

    labels: list[str]
    featurizer: _Featurizer
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    metrics: dict = field(default_factory=dict)
    version: str | None = None

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        x = self.featurizer.transform([normalize(t or "") for t in texts])
        return x @ self.coef.T + self.intercept

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = _softmax(self.scores(texts), self.temperature)
        order = np.argsort(-probs, axis=1)[:, :3]
        return [
            Prediction(
                label=self.labels[row[0]],
                confidence=float(p[row[0]]),
                top3=[(self.labels[i], float(p[i])) for i in row],
            )
            for p, row in zip(probs, order)
        ]

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump({"format": _FORMAT, "model": self}, buf, compress=3)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        data = joblib.load(io.BytesIO(blob))
        if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("model"), cls):
            raise ValueError("模型数据格式不兼容，请重新训练")
        return data["model"]


def _fit_svm(x: sp.csr_matrix, y: np.ndarray, c: float) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced").fit(x, y)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature that makes softmax(scores / T) a calibrated probability on out-of-fold scores."""

    def nll(log_t: float) -> float:
        p = _softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    res = minimize_scalar(nll, bounds=(-5.0, 3.0), method="bounded")
    return float(np.exp(res.x))


def _decision(model: LinearSVC, x: sp.csr_matrix, n_classes: int) -> np.ndarray:
    s = model.decision_function(x)
    if n_classes == 2:
        s = np.column_stack([-s, s]) / 2
    return s


def train(
    texts: Sequence[str], labels: Sequence[str], *, tokenized: bool = False, cv_folds: int = 5
) -> TrainedModel:
    """Fit on labelled texts; C is chosen and the metrics measured by near-duplicate-grouped stratified CV."""
    if len(texts) != len(labels):
        raise ValueError("文本与标签数量不一致")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("至少需要两个类别才能训练")
    y = np.array([classes.index(lab) for lab in labels])
    docs = [normalize(t or "", tokenized=tokenized) for t in texts]
    featurizer = _Featurizer().fit(docs)
    x = featurizer.transform(docs)

    folds = min(cv_folds, int(np.bincount(y).min()))
    best_c, temperature = C_GRID[len(C_GRID) // 2], 1.0
    metrics: dict = {"n_train": len(docs)}
    if folds >= 2:
        groups = [d[:GROUP_CHARS] for d in docs]
        splits = list(StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(x, y, groups))
        best_f1 = -1.0
        for c in C_GRID:
            oof = np.zeros((len(y), len(classes)))
            for tr, te in splits:
                oof[te] = _decision(_fit_svm(x[tr], y[tr], c), x[te], len(classes))
            f1 = f1_score(y, oof.argmax(1), average="macro")
            if f1 > best_f1:
                best_f1, best_c, best_oof = f1, c, oof
        temperature = _fit_temperature(best_oof, y)
        pred = best_oof.argmax(1)
        per_class = f1_score(y, pred, average=None, labels=range(len(classes)))
        metrics |= {
            "cv_folds": folds,
            "cv_macro_f1": float(best_f1),
            "cv_accuracy": float((pred == y).mean()),
            "per_class_f1": {lab: float(f) for lab, f in zip(classes, per_class)},
            "C": best_c,
            "temperature": temperature,
        }

    svm = _fit_svm(x, y, best_c)
    coef = np.asarray(svm.coef_, dtype=np.float32)
    intercept = np.asarray(svm.intercept_, dtype=np.float32)
    if len(classes) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    return TrainedModel(
        labels=classes,
        featurizer=featurizer,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        metrics=metrics,
    )


def evaluate(model: TrainedModel, texts: Sequence[str], labels: Sequence[str]) -> dict:
    """Held-out figures in plain types, ready to store as JSON next to the model version."""
    predicted = [p.label for p in model.predict(texts)]
    order = list(model.labels) + sorted(set(labels) - set(model.labels))
    p, r, f, s = precision_recall_fscore_support(labels, predicted, labels=order, zero_division=0)
    present = [i for i, lab in enumerate(order) if s[i] > 0]
    return {
        "n": len(labels),
        "accuracy": float(np.mean([a == b for a, b in zip(labels, predicted)])) if labels else 0.0,
        "macro_f1": float(np.mean(f[present])) if present else 0.0,
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(order)
        },
        "confusion": {"labels": order, "matrix": confusion_matrix(labels, predicted, labels=order).tolist()},
    }
