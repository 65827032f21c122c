"""Chinese segmentation shared by routing and search.

jieba's segmentation, run by CompactJieba over jieba's dictionary (jieba's own
prefix dict would cost ~60 MB per process), with the Shunde place names and a
short government-service vocabulary (gov_dict.txt) added so that "容桂街道",
"江义村" or "住房公积金" stay whole words. Set up once per process, from the copy
an earlier process saved in <var_dir>/cache/ when there is one.
"""

import json
import threading
from functools import lru_cache
from importlib import resources

import jieba

from baishitong.config import get_settings
from baishitong.text.compact_jieba import CompactJieba, load_or_build

_lock = threading.Lock()
_segmenter: CompactJieba | None = None


@lru_cache
def gov_terms() -> tuple[str, ...]:
    text = resources.files("baishitong.text").joinpath("gov_dict.txt").read_text("utf-8")
    return tuple(w for w in text.split() if len(w) >= 2)


@lru_cache
def place_names() -> tuple[str, ...]:
    data = json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))
    names: set[str] = set()
    for town in data["towns"]:
        names.update([town["name"], *town["aliases"]])
        for community in town["communities"]:
            names.update([community["name"], *community["aliases"]])
    return tuple(sorted(n for n in names if len(n) >= 2))


def _tokenizer() -> CompactJieba:
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                # As if jieba.add_word(name, freq=20000) were called for each name.
                added = [(name, 20000) for name in (*place_names(), *gov_terms())]
                _segmenter = load_or_build(jieba.get_dict_file, added, get_settings().var_dir / "cache")
    return _segmenter


def tokenize(text: str) -> list[str]:
    return [t for t in _tokenizer().cut(text) if t.strip()]


def tokenize_for_search(text: str) -> list[str]:
    """jieba search mode: long words plus their dictionary sub-words (北京市 → 北京, 北京市), for recall."""
    return [t for t in _tokenizer().cut_for_search(text) if t.strip()]


@lru_cache
def dictionary_places() -> frozenset[str]:
    """Place names: jieba's `ns` entries plus the gazetteer; read once, about 18k words."""
    district = json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))["district"]
    names = {*place_names(), district["name"], district["name"].rstrip("区县"), district["city"]}
    with jieba.get_dict_file() as handle:
        for line in handle:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and parts[2] == "ns" and len(parts[0]) >= 2:
                names.add(parts[0])
    return frozenset(names)
