"""The trained router as the web process holds it: numpy and a hash function, nothing more.

Training needs scikit-learn (classifier.py); answering a request does not, and
keeping scikit-learn and SciPy out of the app process saves about 90 MB on a
small government server. Features are hashed character 1–3-grams (MurmurHash3,
the same function scikit-learn's HashingVectorizer uses), compacted to the
buckets seen in training, TF-IDF weighted and L2-normalised; the score is a
linear function of them, turned into a calibrated probability by a softmax
with a fitted temperature.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from operator import add

import mmh3
import numpy as np

MAX_CHARS = 800
HEAD_CHARS = 30
HEAD_WEIGHT = 1.0
N_FEATURES = 2**21
FORMAT = 2

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


def char_grams(text: str) -> list[str]:
    """Character 1-3 grams; map() keeps the loop in C, the hot spot of prediction."""
    bigrams = list(map(add, text, text[1:]))
    return [*text, *bigrams, *map(add, bigrams, text[2:])]


def hashed_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, count) pairs of a normalised text, buckets as HashingVectorizer numbers them."""
    if not text:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    buckets = np.abs(np.fromiter(map(mmh3.hash, char_grams(text)), dtype=np.int64)) % N_FEATURES
    unique, counts = np.unique(buckets, return_counts=True)
    return unique, counts.astype(np.float32)


@dataclass
class Block:
    """One TF-IDF block over the hashed buckets kept at training (sorted), with their idf."""

    kept: np.ndarray
    idf: np.ndarray

    @property
    def width(self) -> int:
        return len(self.idf)

    def columns(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse (column, value) of one text: log-scaled tf × idf, L2-normalised; unseen buckets dropped."""
        buckets, counts = hashed_counts(text)
        pos = np.searchsorted(self.kept, buckets)
        pos[pos >= len(self.kept)] = 0
        seen = self.kept[pos] == buckets
        cols = pos[seen]
        values = (1 + np.log(counts[seen])) * self.idf[cols]
        norm = float(np.sqrt(values @ values))
        return cols, values / norm if norm else values


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    top3: list[tuple[str, float]]


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TrainedModel:
    """A linear model over hashed n-grams (a body block and a head block), with calibrated confidences."""

    labels: list[str]
    body: Block
    head: Block
    coef: np.ndarray  # (classes, body.width + head.width)
    intercept: np.ndarray
    temperature: float
    metrics: dict = field(default_factory=dict)
    version: str | None = None

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), len(self.labels)), dtype=np.float64)
        offset = self.body.width
        for i, text in enumerate(texts):
            doc = normalize(text or "")
            body_cols, body_values = self.body.columns(doc)
            head_cols, head_values = self.head.columns(doc[:HEAD_CHARS])
            out[i] = self.coef[:, body_cols] @ body_values + HEAD_WEIGHT * (self.coef[:, head_cols + offset] @ head_values)
        return out + self.intercept

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probs = softmax(self.scores(texts), self.temperature)
        order = np.argsort(-probs, axis=1)[:, :3]
        return [
            Prediction(label=self.labels[row[0]], confidence=float(p[row[0]]), top3=[(self.labels[i], float(p[i])) for i in row])
            for p, row in zip(probs, order)
        ]

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]

    def probabilities(self, text: str) -> dict[str, float]:
        """Every label's calibrated probability, for adding up a category's and its sub-categories'."""
        return dict(zip(self.labels, softmax(self.scores([text]), self.temperature)[0].tolist()))

    def to_bytes(self) -> bytes:
        """A plain numpy archive: loading it runs no pickled code."""
        buf = io.BytesIO()
        meta = {"format": FORMAT, "labels": self.labels, "temperature": self.temperature, "metrics": self.metrics}
        np.savez_compressed(
            buf,
            meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8),
            body_kept=self.body.kept,
            body_idf=self.body.idf,
            head_kept=self.head.kept,
            head_idf=self.head.idf,
            coef=self.coef,
            intercept=self.intercept,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                meta = json.loads(data["meta"].tobytes().decode())
                if meta.get("format") != FORMAT:
                    raise ValueError
                return cls(
                    labels=list(meta["labels"]),
                    body=Block(data["body_kept"], data["body_idf"]),
                    head=Block(data["head_kept"], data["head_idf"]),
                    coef=data["coef"],
                    intercept=data["intercept"],
                    temperature=float(meta["temperature"]),
                    metrics=meta.get("metrics") or {},
                )
        except (ValueError, KeyError, OSError, EOFError, json.JSONDecodeError):
            raise ValueError("模型数据格式不兼容，请重新训练") from None
