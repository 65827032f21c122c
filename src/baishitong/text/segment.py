"""Chinese segmentation shared by routing and search.

jieba is initialised once per process, with the Shunde place names and a short
government-service vocabulary (gov_dict.txt) added so that "容桂街道", "江义村"
or "住房公积金" stay whole words.
"""

import json
import threading
from functools import lru_cache
from importlib import resources

import jieba

_lock = threading.Lock()
_ready = False


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


def _tokenizer() -> jieba.Tokenizer:
    global _ready
    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(60)
                for name in (*place_names(), *gov_terms()):
                    jieba.add_word(name, freq=20000)
                _ready = True
    return jieba.dt


def tokenize(text: str) -> list[str]:
    return [t for t in _tokenizer().lcut(text) if t.strip()]
