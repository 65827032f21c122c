"""The sentence vectors of hybrid search: made for new and edited documents, dropped for retired ones.

The worker's minute runs `baishitong kb embed` as a short-lived child (see `embed_changed`); this module
imports only `documents` and the encoder, not the search machinery, so that child stays small.
"""

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from baishitong.db import Database
from baishitong.knowledge import documents
from baishitong.text import embedding

log = logging.getLogger(__name__)

# Two passages at a time: the engine's working memory grows with the batch (the child's peak with passages
# of PASSAGE_CHARS: 245 MB at 8, 191 MB at 4, 163 MB at 2), and a worker must stay under 200 MB.
EMBED_BATCH = 2
# The worker's share per minute, so a large backfill goes in slices and the next tick is not held up.
EMBED_BUDGET_S = 40.0
EMBED_TIMEOUT_S = 300
_settled: dict[str, tuple] = {}
_running = threading.Lock()


def embed_pending(
    db: Database,
    *,
    encoder: embedding.Encoder | None = None,
    budget_s: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Vectors for the articles and items that lack a current one; returns how many were made.

    The documents are read in one short transaction and each batch is stored in its own, with no
    transaction open while the model runs (0.1–0.25 s a passage), so the SQLite write lock is never
    held for long. Idempotent: a document whose text has not changed is not embedded again.
    """
    encoder = encoder or embedding.encoder()
    if encoder is None:
        return 0
    with db.session(write=False) as session:
        inputs = documents.embedding_inputs(session)
        stored = documents.stored_vector_hashes(session)
    if set(stored) - set(inputs):
        with db.session() as session:
            documents.drop_vectors(session, keep=inputs)
    todo = [(key, text, embedding.content_hash(text)) for key, text in inputs.items()]
    todo = [entry for entry in todo if stored.get(entry[0]) != entry[2]]
    started, done = time.monotonic(), 0
    for start in range(0, len(todo), EMBED_BATCH):
        if budget_s is not None and time.monotonic() - started > budget_s:
            break
        batch = todo[start : start + EMBED_BATCH]
        vectors = encoder.passages([text for _, text, _ in batch])
        with db.session() as session:
            documents.save_vectors(session, vectors={key: (digest, embedding.pack(v)) for (key, _, digest), v in zip(batch, vectors)})
        done += len(batch)
        if progress is not None:
            progress(done, len(todo))
    return done


def embed_changed(db: Database) -> bool:
    """The worker's minute: when an article, an item or a vector changed since everything was last
    current, `baishitong kb embed` runs as a short-lived child. The model's working memory (about
    70 MB while it embeds passages) stays out of the long-running worker, as hot topics' clustering does.
    Returns whether everything is current now."""
    if not embedding.available() or not _running.acquire(blocking=False):
        return False
    try:
        with db.session(write=False) as session:
            revision = documents.knowledge_revision(session)
        if _settled.get(db.url) == revision:
            return True
        command = [sys.executable, "-m", "baishitong", "kb", "embed", "--budget", str(EMBED_BUDGET_S), "--threads", "1"]
        env = {**os.environ, "BAISHITONG_DATABASE_URL": db.url}  # not on the command line: it may hold a password
        done = subprocess.run(command, env=env, capture_output=True, text=True, encoding="utf-8", timeout=EMBED_TIMEOUT_S, check=False)
        if done.returncode != 0:
            log.error("embedding failed: %s", done.stderr[-2000:])
            return False
        current = is_current(db)
        if current is not None:
            _settled[db.url] = current
        return current is not None
    finally:
        _running.release()


def is_current(db: Database) -> tuple | None:
    """The knowledge revision if every document's vector matches its text, else None.

    The revision is read before the documents: an edit that lands in between makes the next minute look again.
    """
    with db.session(write=False) as session:
        revision = documents.knowledge_revision(session)
        stored = documents.stored_vector_hashes(session)
        inputs = documents.embedding_inputs(session)
    return revision if all(stored.get(key) == embedding.content_hash(text) for key, text in inputs.items()) else None
