"""Distinct character bigrams of many texts at once, over code points with numpy.

Duplicate detection and hot-topic mining compare hundreds to thousands of
requests by their bigrams; Python sets of two-character strings would cost
about 10 kB per request and a loop per character, this costs a few sorts.
"""

import numpy as np


def word_characters(cps: np.ndarray) -> np.ndarray:
    """Han characters, ASCII digits and lower-case letters (callers lower-case first)."""
    return ((cps >= 0x3400) & (cps <= 0x9FFF)) | ((cps >= 0x30) & (cps <= 0x39)) | ((cps >= 0x61) & (cps <= 0x7A))


def distinct_bigrams(texts: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) for each distinct bigram of two word characters in each text, sorted by key then row;
    key = first code point << 21 | second."""
    joined = "\0".join(t.replace("\0", " ") for t in texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    doc = np.cumsum(cps == 0)
    word = word_characters(cps)
    pair = word[:-1] & word[1:]
    bits = np.uint64(max(len(texts).bit_length(), 1))
    first, second = cps[:-1][pair].astype(np.uint64), cps[1:][pair].astype(np.uint64)
    combined = np.unique((((first << np.uint64(21)) | second) << bits) | doc[:-1][pair].astype(np.uint64))
    return (combined & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.int64), combined >> bits
