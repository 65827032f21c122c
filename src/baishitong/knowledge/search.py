"""In-memory Chinese full-text search: field-weighted BM25 over jieba search-mode words, synonym
concepts, character n-grams (typo tolerance) and place names, scored with one sparse matrix product
per query; where the documents carry sentence vectors, BM25's top candidates are re-ranked with
the question's vector as well (measured in bench/assistant.py).

Documents are plain mappings (`id` plus text fields), so the same index serves knowledge-base
articles, past work orders ("similar cases") and the service-item catalogue.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import sparse

from baishitong.text.segment import dictionary_places, tokenize, tokenize_for_search

Document = Mapping[str, object]

DEFAULT_FIELDS: dict[str, float] = {"title": 3.0, "keywords": 2.0, "body": 1.0}
# Measured on policy_qa (bench/assistant.py): n-grams over the body too, and a place channel that
# outweighs the words, since a question about 重庆 is rarely answered by an article about 四川.
DEFAULT_NGRAM_SHARE = 1.0
DEFAULT_PLACE_SHARE = 4.0

STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 和 与 及 或 是 在 对 把 被 给 让 将 就 都 也 还 又 而 并 等 之 其 以 于 为 "
    "我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 这些 那些 有 没有 一下 一个 请问 想 想要 "
    "怎么 怎么办 怎么样 怎样 如何 什么 哪些 哪个 是否 能否 可以 能 会 要 需要 吗？ 请 谢谢 你好 您好".split()
)
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_NGRAM_CHARS = re.compile(r"[\u3400-\u9fffA-Za-z0-9]+")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_CONCEPT = "\x02"
_NGRAM = "\x01"
_PLACE = "\x03"
# Re-ranking: BM25's best RERANK_CANDIDATES, scored z(BM25) + DENSE_WEIGHT · z(cosine) among themselves.
RERANK_CANDIDATES = 50
DENSE_WEIGHT = 0.8
# A search whose every hit covers less of the question's idf mass than this has found nothing: 火星移民签证
# or asdfgh share only a character or a common word with some article. On policy_qa (bench/assistant.py)
# some hit covers at least this much of every query, so no article that was found is lost.
MIN_COVERAGE = 0.1
# What a person is shown of a result list: the hits scoring at least this share of the best. Below it lies the
# tail of articles sharing a word or two with the question (社保卡丢了怎么补办 listed 30 of the demo's 41, now 7).
# The largest share at which no gold article of policy_qa (bench/assistant.py) leaves the top 5, with e5
# re-ranking or BM25 alone (at 0.25 BM25 alone loses one), so Recall@k is unchanged.
SHOWN_SHARE = 0.2
_PLACE_SUFFIX = re.compile(r"(?:省|市|自治区|特别行政区|壮族自治区|回族自治区|维吾尔自治区)$")


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    title: str
    snippet: str
    highlights: tuple[str, ...]
    document: Document = field(repr=False, compare=False)


@dataclass(frozen=True)
class Synonyms:
    """Groups of interchangeable terms; a text mentioning any variant carries the group's concept."""

    groups: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            variants = tuple(dict.fromkeys(v for v in re.split(r"[\s,，、/]+", line) if v))
            if len(variants) >= 2:
                groups.append(variants)
        return cls(tuple(groups))

    def concepts(self, text: str) -> list[str]:
        return [_CONCEPT + group[0] for group in self.groups if any(v in text for v in group)]

    def variants(self, term: str) -> tuple[str, ...]:
        for group in self.groups:
            if term in group:
                return group
        return ()


@lru_cache
def default_synonyms() -> Synonyms:
    return Synonyms.parse(resources.files("baishitong.knowledge").joinpath("synonyms.txt").read_text("utf-8"))


def _content(tokens: Iterable[str]) -> list[str]:
    """Lower-cased tokens without punctuation and function words."""
    return [t for t in (token.lower() for token in tokens) if t not in STOP_WORDS and not _PUNCT.fullmatch(t)]


def words(text: str) -> list[str]:
    """Content words of `text` from jieba's default mode."""
    return _content(tokenize(text))


@lru_cache(maxsize=64)
def _search_tokens(text: str) -> tuple[str, ...]:
    """Shared by the word and place channels of one field, so each text is segmented once."""
    return tuple(tokenize_for_search(text))


def search_words(text: str) -> list[str]:
    """Like `words`, from jieba's search mode, so 北京市 also matches an article that says 北京."""
    return _content(_search_tokens(text))


def places(text: str) -> list[str]:
    """Place names in `text` without their 省/市 suffix (重庆市 and 重庆 are one place)."""
    known = dictionary_places()
    out = []
    for token in _search_tokens(text):
        if token in known:
            name = _PLACE_SUFFIX.sub("", token)
            if len(name) >= 2:
                out.append(_PLACE + name)
    return out


def char_ngrams(text: str) -> list[str]:
    """Character unigrams and bigrams: a mistyped 公积检 or 社宝 still shares grams with 公积金/社保."""
    grams = []
    for run in _NGRAM_CHARS.findall(text.lower()):
        grams.extend(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return [_NGRAM + g for g in grams if g not in STOP_WORDS]


def field_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return "\n".join(str(v) for v in value)
    return str(value)


def shown(hits: Sequence[Hit], share: float = SHOWN_SHARE, *, measured_by: Callable[[Hit], bool] | None = None) -> list[Hit]:
    """The hits a person reads, best first: the best one and those scoring at least `share` of it. With
    `measured_by`, the bar is `share` of the best hit it accepts (of the best hit when it accepts none)."""
    best = next((h for h in hits if measured_by(h)), None) if measured_by and hits else None
    return [h for h in hits if h.score >= share * (best or hits[0]).score] if hits else []


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def best_passage(text: str, terms: Mapping[str, float], max_chars: int = 160) -> str:
    """The window of consecutive sentences that covers the most query weight, within `max_chars`."""
    parts = sentences(text)
    if not parts:
        return ""
    gains = [sum(w for t, w in terms.items() if t in s) for s in parts]
    best, best_gain = (0, 1), -1.0
    for start in range(len(parts)):
        length, gain = 0, 0.0
        for end in range(start, len(parts)):
            length += len(parts[end])
            if end > start and length > max_chars:
                break
            gain += gains[end]
            if gain > best_gain + 1e-9:
                best, best_gain = (start, end + 1), gain
    passage = "".join(parts[best[0] : best[1]])
    return passage if len(passage) <= max_chars else passage[: max_chars - 1] + "…"


@dataclass
class _Analyzed:
    """A document's term ids (int32) and counts (uint16) for all channels, packed: no per-doc token lists."""

    doc: Document
    terms: np.ndarray
    counts: np.ndarray
    sizes: tuple[int, ...]
    lengths: tuple[int, ...]


class SearchIndex:
    """Field-weighted BM25 index; edits are cheap and the scoring matrix is rebuilt lazily."""

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        fields: Mapping[str, float] | None = None,
        ngram_fields: Mapping[str, float] | None = None,
        place_fields: Mapping[str, float] | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        synonyms: Synonyms | None = None,
        title_field: str = "title",
        snippet_field: str = "body",
        query_vector: Callable[[str], np.ndarray] | None = None,
    ):
        self.fields = dict(fields or DEFAULT_FIELDS)
        if ngram_fields is None:
            ngram_fields = {f: DEFAULT_NGRAM_SHARE * w for f, w in self.fields.items()}
        if place_fields is None:
            place_fields = {f: DEFAULT_PLACE_SHARE * w for f, w in self.fields.items()}
        self.ngram_fields, self.place_fields = dict(ngram_fields), dict(place_fields)
        self.k1, self.b = k1, b
        self.synonyms = synonyms if synonyms is not None else default_synonyms()
        self.title_field, self.snippet_field = title_field, snippet_field
        # One channel per (field, analyzer): words+concepts, character n-grams, place names.
        self._channels: list[tuple[str, Callable[[str], list[str]], float]] = [(f, self._words, w) for f, w in self.fields.items()]
        self._channels += [(f, char_ngrams, w) for f, w in self.ngram_fields.items()]
        self._channels += [(f, places, w) for f, w in self.place_fields.items()]
        self._vocab: dict[str, int] = {}
        self._docs: dict[str, _Analyzed] = {}
        self._lock = threading.RLock()
        self._matrix: sparse.csc_matrix | None = None
        self._ids: list[str] = []
        self._idf = np.zeros(0)
        # Sentence vectors by document id (float16, unit length) and the function that embeds a question.
        self.query_vector = query_vector
        self._vectors: dict[str, np.ndarray] = {}
        self.add_many(documents)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def get(self, doc_id: str) -> Document | None:
        entry = self._docs.get(doc_id)
        return entry.doc if entry else None

    def documents(self) -> list[Document]:
        return [entry.doc for entry in self._docs.values()]

    def add(self, doc: Document) -> None:
        """Insert or replace a document (by its `id`)."""
        self.add_many([doc])

    update = add

    def add_many(self, docs: Iterable[Document]) -> None:
        analyzed = [(str(doc["id"]), self._analyze_doc(doc)) for doc in docs]
        with self._lock:
            for doc_id, entry in analyzed:
                self._docs[doc_id] = entry
            if analyzed:
                self._matrix = None

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            found = self._docs.pop(doc_id, None) is not None
            self._vectors.pop(doc_id, None)
            if found:
                self._matrix = None
            return found

    def set_vectors(self, vectors: Mapping[str, np.ndarray]) -> None:
        """The documents' sentence vectors (unit length); a document without one is neutral in re-ranking."""
        with self._lock:
            self._vectors = {doc_id: v for doc_id, v in vectors.items() if doc_id in self._docs}

    def has_vectors(self) -> bool:
        return bool(self._vectors)

    def cosine(self, query: str, doc_id: str) -> float | None:
        """How close in meaning the question is to one document; None without an encoder or its vector."""
        vector = self._vectors.get(doc_id)
        if self.query_vector is None or vector is None:
            return None
        return float(vector.astype(np.float32) @ self.query_vector(query))

    def _words(self, text: str) -> list[str]:
        return search_words(text) + self.synonyms.concepts(text)

    def _analyze_doc(self, doc: Document) -> _Analyzed:
        terms: list[int] = []
        counts: list[int] = []
        sizes, lengths = [], []
        for name, analyzer, _ in self._channels:
            channel = Counter(analyzer(field_text(doc.get(name))))
            with self._lock:
                terms.extend(self._vocab.setdefault(t, len(self._vocab)) for t in channel)
            counts.extend(channel.values())
            sizes.append(len(channel))
            lengths.append(sum(channel.values()))
        packed = np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16)
        return _Analyzed(doc, np.asarray(terms, dtype=np.int32), packed, tuple(sizes), tuple(lengths))

    def _ensure_matrix(self) -> tuple[sparse.csc_matrix, list[str], np.ndarray]:
        with self._lock:
            if self._matrix is not None:
                return self._matrix, self._ids, self._idf
            ids = list(self._docs)
            entries = [self._docs[i] for i in ids]
            n_docs, n_terms, n_channels = len(ids), max(len(self._vocab), 1), len(self._channels)
            if not entries or not n_channels:
                self._matrix = sparse.csc_matrix((n_docs, n_terms), dtype=np.float32)
                self._ids, self._idf = ids, np.zeros(n_terms)
                return self._matrix, self._ids, self._idf
            sizes = np.asarray([e.sizes for e in entries], dtype=np.int64)
            lengths = np.asarray([e.lengths for e in entries], dtype=np.float64)
            avg = lengths.mean(axis=0)
            norm = self.k1 * (1 - self.b + self.b * lengths / np.where(avg > 0, avg, 1.0))
            weights = np.asarray([w for _, _, w in self._channels]) * (self.k1 + 1)
            indptr = np.zeros(n_docs + 1, dtype=np.int64)
            np.cumsum(sizes.sum(axis=1), out=indptr[1:])
            # Fill preallocated 32-bit arrays block by block so a 10k-article build never holds big temporaries.
            col = np.empty(indptr[-1], dtype=np.int32)
            val = np.empty(indptr[-1], dtype=np.float32)
            for start in range(0, n_docs, 1024):
                block = entries[start : start + 1024]
                segment = np.repeat(np.arange(start * n_channels, (start + len(block)) * n_channels), sizes[start : start + len(block)].ravel())
                tf = np.concatenate([e.counts for e in block]).astype(np.float32)
                span = slice(indptr[start], indptr[start + len(block)])
                col[span] = np.concatenate([e.terms for e in block])
                val[span] = weights[segment % n_channels] * tf / (tf + norm.ravel()[segment])
            # Rows are already grouped by document, so CSR needs no COO sort; duplicates are a term in two channels.
            rows = sparse.csr_matrix((val, col, indptr), shape=(n_docs, n_terms))
            del val, col
            rows.sum_duplicates()
            matrix = rows.tocsc()
            del rows
            # After duplicates are summed each stored cell is one (document, term): column sizes are document frequencies.
            df = np.diff(matrix.indptr)
            idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
            matrix.data *= np.repeat(idf.astype(np.float32), df)
            self._matrix, self._ids, self._idf = matrix, ids, idf
            return matrix, ids, idf

    def query_terms(self, query: str) -> dict[str, float]:
        """Query words (with synonym variants) weighted by idf; for highlighting, passage picking and the
        assistant's confidence. A word no document contains gets the highest idf: 火星 in 火星移民的政策 is
        what the question is about, and no article answers it."""
        _, _, idf = self._ensure_matrix()
        unseen = float(np.log1p((len(self) + 0.5) / 0.5))
        terms: dict[str, float] = {}
        for word in words(query):
            for variant in (word, *self.synonyms.variants(word)):
                i = self._vocab.get(variant)
                weight = float(idf[i]) if i is not None and i < len(idf) else unseen
                terms[variant] = max(terms.get(variant, 0.0), weight if variant == word else 0.8 * weight)
        for group in self.synonyms.groups:
            if any(v in query for v in group):
                for v in group:
                    terms.setdefault(v, 0.8)
        return terms

    def coverage(self, query: str, text: str) -> float:
        """Share of the query's idf mass found in `text`; a mistyped longer word (公积检) earns partial credit
        from its character pairs. A two-character word earns none from single characters: 养猫 shares 养 with
        养老, which says nothing about whether the article answers it. A one-character word (用, 交) weighs
        at most 1: such verbs are in most questions and name no matter."""
        terms = self.query_terms(query)
        total = matched = 0.0
        for word in dict.fromkeys(words(query)):
            weight = min(terms.get(word, 1.0), 1.0) if len(word) == 1 else terms.get(word, 1.0)
            total += weight
            variants = (word, *self.synonyms.variants(word))
            if any(v in text for v in variants):
                matched += weight
            elif len(word) > 2:
                grams = [word[i : i + 2] for i in range(len(word) - 1)]
                matched += 0.8 * weight * sum(g in text for g in grams) / len(grams)
        return matched / total if total else 0.0

    def text(self, hit: Hit) -> str:
        """A hit's searched fields as one text, for `coverage`."""
        return " ".join(field_text(hit.document.get(f)) for f in self.fields)

    def found(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        """`hits`, or none when no hit covers MIN_COVERAGE of the query: BM25 and the character n-grams find
        something for any text, and a list of unrelated articles under 啊啊啊啊 is worse than 未找到."""
        return list(hits) if any(self.coverage(query, self.text(h)) >= MIN_COVERAGE for h in hits) else []

    def _query_vector(self, query: str, n_terms: int) -> tuple[np.ndarray, np.ndarray]:
        """Query term weights times idf: on top of the idf inside BM25 this favours the rare, specific terms
        (places, agencies, programme names) over the generic words that many articles share."""
        terms = Counter(self._words(query))
        if self.place_fields:
            terms.update(dict.fromkeys(places(query), 1))
        weights: dict[int, float] = {}
        for term, count in terms.items():
            i = self._vocab.get(term)
            if i is not None and i < n_terms:
                weights[i] = 1.0 + 0.5 * (count - 1)
        if self.ngram_fields:
            for gram in set(char_ngrams(query)):
                i = self._vocab.get(gram)
                if i is not None and i < n_terms:
                    weights[i] = 1.0
        cols = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        return cols, values * self._idf[cols]

    def scores(self, query: str) -> np.ndarray:
        """Raw score of every document, aligned with `ids()`."""
        matrix, _, _ = self._ensure_matrix()
        cols, weights = self._query_vector(query, matrix.shape[1])
        if not len(cols):
            return np.zeros(matrix.shape[0], dtype=np.float64)
        return np.asarray(matrix[:, cols] @ weights, dtype=np.float64).ravel()

    def nbytes(self) -> int:
        """Size of the scoring matrix, the index's main memory cost besides the stored documents."""
        matrix = self._ensure_matrix()[0]
        return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes

    def ids(self) -> list[str]:
        return list(self._ensure_matrix()[1])

    def search(
        self, query: str, top_k: int = 10, filter: Callable[[Document], bool] | None = None
    ) -> list[Hit]:
        ids = self._ensure_matrix()[1]
        scores = self.scores(query)
        return self._hits(query, self._reranked(query, scores, ids), ids, top_k, filter)

    def search_many(
        self, queries: Sequence[str], top_k: int = 10, filter: Callable[[Document], bool] | None = None
    ) -> list[list[Hit]]:
        """Batch search: one sparse product for all queries."""
        matrix, ids, _ = self._ensure_matrix()
        n_terms = matrix.shape[1]
        rows, cols, vals = [], [], []
        for r, query in enumerate(queries):
            c, w = self._query_vector(query, n_terms)
            rows.append(np.full(len(c), r))
            cols.append(c)
            vals.append(w)
        if not queries:
            return []
        q = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(queries), n_terms)
        )
        all_scores = (q @ matrix.T).toarray()
        return [self._hits(query, self._reranked(query, all_scores[r], ids), ids, top_k, filter) for r, query in enumerate(queries)]

    def _reranked(self, query: str, scores: np.ndarray, ids: list[str]) -> np.ndarray:
        """BM25's best candidates re-scored with the sentence vectors, in BM25's own units.

        Each candidate's score becomes bm25 + DENSE_WEIGHT · sd(bm25) · z(cosine), which orders the
        candidates as z(bm25) + DENSE_WEIGHT · z(cosine) does; the other documents keep their order below
        the lowest candidate, so a long result list still ends in BM25 order. A candidate without a
        vector (an article saved a moment ago) counts as average.
        """
        if self.query_vector is None or not self._vectors:
            return scores
        positive = np.flatnonzero(scores > 0)
        if len(positive) < 2:
            return scores
        if len(positive) > RERANK_CANDIDATES:
            positive = positive[np.argpartition(-scores[positive], RERANK_CANDIDATES - 1)[:RERANK_CANDIDATES]]
        vectors = [self._vectors.get(ids[i]) for i in positive]
        known = [k for k, v in enumerate(vectors) if v is not None]
        if not known:
            return scores
        question = self.query_vector(query)
        cosine = np.zeros(len(positive))
        cosine[known] = np.stack([vectors[k] for k in known]).astype(np.float32) @ question
        cosine[[k for k in range(len(positive)) if vectors[k] is None]] = cosine[known].mean()
        bm25 = scores[positive]
        spread = cosine.std()
        if spread <= 0:
            return scores
        # Candidates tied on BM25 are told apart by meaning alone, on a tenth of their score.
        scale = bm25.std() if bm25.std() > 0 else 0.1 * bm25.mean()
        fused = bm25 + DENSE_WEIGHT * scale * (cosine - cosine.mean()) / spread
        if fused.min() <= 0:
            fused += 1e-6 - fused.min()
        out = scores.copy()
        out[positive] = 0.0
        below = out.max()
        if below >= fused.min():
            out *= 0.999 * fused.min() / below
        out[positive] = fused
        return out

    def _hits(
        self,
        query: str,
        scores: np.ndarray,
        ids: list[str],
        top_k: int,
        filter: Callable[[Document], bool] | None,
    ) -> list[Hit]:
        positive = np.flatnonzero(scores > 0)
        if not len(positive) or top_k <= 0:
            return []
        if filter is None and len(positive) > top_k:
            positive = positive[np.argpartition(-scores[positive], top_k - 1)[:top_k]]
        order = positive[np.argsort(-scores[positive], kind="stable")]
        chosen: list[int] = []
        for i in order:
            if filter is None or filter(self._docs[ids[i]].doc):
                chosen.append(int(i))
                if len(chosen) == top_k:
                    break
        terms = self.query_terms(query) if chosen else {}
        return [self._hit(ids[i], float(scores[i]), terms) for i in chosen]

    def _hit(self, doc_id: str, score: float, terms: Mapping[str, float]) -> Hit:
        doc = self._docs[doc_id].doc
        title = field_text(doc.get(self.title_field))
        texts = " ".join(field_text(doc.get(f)) for f in self.fields)
        highlights = tuple(t for t in terms if t in texts)
        body = field_text(doc.get(self.snippet_field)) or title
        return Hit(doc_id, score, title, best_passage(body, terms), highlights, doc)
