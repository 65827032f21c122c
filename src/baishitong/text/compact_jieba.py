"""jieba's default and search modes over a marisa trie, for a fraction of jieba's memory.

jieba.Tokenizer keeps every word *and every word prefix* in a Python str→int dict (about 584k
entries, ~60 MB in each process). Segmenting only needs to know which real words start at each
position and their frequencies: a static marisa trie of those words (1.3 MB) answers that with
one C call per position, and a double array holds each word's weight (2.8 MB). The methods below
port jieba 0.42.1 step by step (`get_DAG`, `calc`, `__cut_DAG`, `cut`, `cut_for_search`, HMM on)
so that the output is the same word for word; runs of unknown single characters still go to
jieba's own HMM (`jieba.finalseg`).
"""

import ctypes
import hashlib
import mmap
import os
import struct
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from itertools import chain
from math import inf, log
from pathlib import Path
from typing import BinaryIO

import marisa_trie
from jieba import finalseg, re_han_default, re_skip_default

# A saved segmenter: header, then the weights (native doubles), then the trie's bytes; all three
# are 8-byte aligned so that `load` can map the file as it is.
_MAGIC = b"cjieba1\0"
_HEADER = struct.Struct("<8sdqqq")  # magic, log(total), longest word, number of words, trie bytes


def _dict_entries(open_dict: Callable[[], BinaryIO]) -> Iterator[tuple[str, int]]:
    """(word, freq) per line of a jieba dictionary, parsed as jieba's `gen_pfdict` does."""
    with open_dict() as handle:
        for line in handle:
            word, freq = line.strip().decode("utf-8").split(" ")[:2]
            yield word, int(freq)


def _release_freed_heap() -> None:
    """Give what a build frees (~20 MB, mostly marisa's builder) back to the OS; glibc would keep it.

    This reaches all of glibc's main arena but not the top of another thread's arena: after a
    build in a request thread ~8 MB stays resident, which is why `load_or_build` saves the result.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


class CompactJieba:
    """An immutable `jieba.Tokenizer` equivalent (HMM on), safe to share between threads."""

    def __init__(
        self,
        trie: marisa_trie.Trie,
        weight: Sequence[float],
        longest: int,
        logtotal: float,
        mapped: mmap.mmap | None = None,
    ):
        """Made by `build` or `load`; `weight[id]` is jieba's log(freq) - log(total) for trie word `id`.

        `mapped` is the file that `load` mapped the trie and the weights from: marisa does not keep
        a reference to it, so this object does.
        """
        self._trie, self._weight, self._longest, self._logtotal = trie, weight, longest, logtotal
        self._mapped = mapped

    @classmethod
    def build(cls, open_dict: Callable[[], BinaryIO], added: Sequence[tuple[str, int]] = ()) -> "CompactJieba":
        """Build from a jieba dictionary ("word freq [tag]" lines) and `added` (word, freq) pairs.

        `open_dict` (e.g. jieba.get_dict_file) is read twice, streaming, so that the build never
        holds 350k Python strings at once. Each added pair has the effect of
        `jieba.add_word(word, freq)`, in order: the word's frequency is replaced, but jieba's
        total grows by `freq` every time, even for a word it already had, so the total (which
        weighs every word) is summed the same way here. Frequencies must be positive: jieba keeps
        zero-frequency words out of its DAG, and neither dict.txt nor this project has any.
        """
        trie = marisa_trie.Trie(word for word, _ in chain(_dict_entries(open_dict), added))
        # Per word id: first the frequency, then, once the total is known, jieba's edge weight
        # log(freq) - log(total), the very double jieba computes for each DAG edge.
        weight = array("d", [0.0]) * len(trie)
        total = 0
        longest = 0
        for word, freq in chain(_dict_entries(open_dict), added):
            if freq <= 0:
                raise ValueError(f"word without a positive frequency: {word!r} {freq}")
            weight[trie[word]] = freq
            total += freq
            longest = max(longest, len(word))
        logtotal = log(total)
        for key, freq in enumerate(weight):
            weight[key] = log(freq) - logtotal
        return cls(trie, weight, longest, logtotal)

    def save(self, path: Path) -> None:
        """Write to `path` atomically: another process may be loading it at the same time."""
        path.parent.mkdir(parents=True, exist_ok=True)
        trie = self._trie.tobytes()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_HEADER.pack(_MAGIC, self._logtotal, self._longest, len(self._weight), len(trie)))
                handle.write(self._weight)
                handle.write(trie)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: Path) -> "CompactJieba":
        """Map what `save` wrote (ValueError if `path` holds anything else).

        Mapped rather than read: nothing is copied onto the heap, and processes that load the same
        file share its pages.
        """
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)  # ValueError if empty
        if len(mapped) < _HEADER.size:
            raise ValueError(f"not a saved segmenter: {path}")
        magic, logtotal, longest, words, trie_size = _HEADER.unpack_from(mapped)
        if magic != _MAGIC or len(mapped) != _HEADER.size + 8 * words + trie_size:
            raise ValueError(f"not a saved segmenter: {path}")
        view = memoryview(mapped)
        weight = view[_HEADER.size : _HEADER.size + 8 * words].cast("d")
        trie = marisa_trie.Trie()
        trie.map(view[_HEADER.size + 8 * words :])
        return cls(trie, weight, longest, logtotal, mapped)

    def _route(self, sentence: str) -> list[int]:
        """jieba's `get_DAG` + `calc` in one backward pass: for each start, the best word's last index.

        The DAG edges from k are the dictionary words that start there (one trie call), or the
        single character with frequency 1 when none does; the score is the same float sum and a
        tie goes to the longer word, as in jieba's max over (score, end) tuples.
        """
        n = len(sentence)
        prefixes = self._trie.iter_prefixes_with_ids
        weight = self._weight
        longest = self._longest
        unknown = log(1) - self._logtotal
        scores = [0.0] * (n + 1)
        ends = [0] * n
        for k in range(n - 1, -1, -1):
            best = -inf
            for word, key in prefixes(sentence[k : k + longest]):  # shortest first
                x = k + len(word) - 1
                score = weight[key] + scores[x + 1]
                if score >= best:
                    best, ends[k] = score, x
            if best == -inf:
                best, ends[k] = unknown + scores[k + 1], k
            scores[k] = best
        return ends

    def _cut_dag(self, sentence: str) -> Iterator[str]:
        """jieba's `__cut_DAG`: best route, with runs of single characters left to the HMM."""
        ends = self._route(sentence)
        x = 0
        buf = ""
        n = len(sentence)
        while x < n:
            y = ends[x] + 1
            l_word = sentence[x:y]
            if y - x == 1:
                buf += l_word
            else:
                if buf:
                    yield from self._flush(buf)
                    buf = ""
                yield l_word
            x = y
        if buf:
            yield from self._flush(buf)

    def _flush(self, buf: str) -> Iterator[str]:
        """A run of single characters: the HMM may join it into new words unless it is a known word."""
        if len(buf) == 1:
            yield buf
        elif buf not in self._trie:
            yield from finalseg.cut(buf)
        else:
            yield from buf

    def cut(self, sentence: str) -> Iterator[str]:
        """`jieba.cut(sentence)`: accurate mode with HMM."""
        for blk in re_han_default.split(sentence):
            if not blk:
                continue
            if re_han_default.match(blk):
                yield from self._cut_dag(blk)
            else:
                for x in re_skip_default.split(blk):
                    if re_skip_default.match(x):
                        yield x
                    else:
                        yield from x

    def cut_for_search(self, sentence: str) -> Iterator[str]:
        """`jieba.cut_for_search(sentence)`: each word preceded by its 2- and 3-character sub-words."""
        trie = self._trie
        for w in self.cut(sentence):
            if len(w) > 2:
                for i in range(len(w) - 1):
                    if w[i : i + 2] in trie:
                        yield w[i : i + 2]
            if len(w) > 3:
                for i in range(len(w) - 2):
                    if w[i : i + 3] in trie:
                        yield w[i : i + 3]
            yield w


def load_or_build(open_dict: Callable[[], BinaryIO], added: Sequence[tuple[str, int]], directory: Path) -> CompactJieba:
    """The segmenter an earlier process saved in `directory` for the same words, else a new one (saved).

    Loading takes milliseconds, building about 0.9 s; and a build in a request thread leaves
    ~8 MB of freed heap resident (see `_release_freed_heap`). The file name hashes the dictionary
    and the added words, so a changed vocabulary never loads a stale file. Without a writable
    `directory` every process builds its own.
    """
    with open_dict() as handle:
        digest = hashlib.file_digest(handle, "sha256")
    digest.update("\n".join(f"{word} {freq}" for word, freq in added).encode())
    path = directory / f"jieba-{digest.hexdigest()[:32]}.cjieba"
    try:
        return CompactJieba.load(path)
    except (OSError, ValueError):  # not saved yet
        segmenter = CompactJieba.build(open_dict, added)
        with suppress(OSError):
            segmenter.save(path)
        _release_freed_heap()
        return segmenter
