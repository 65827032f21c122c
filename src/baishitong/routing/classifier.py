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

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

from baishitong.routing.model import HEAD_CHARS, HEAD_WEIGHT, Block, Prediction, TrainedModel, hashed_counts, normalize, softmax

__all__ = ["Prediction", "TrainedModel", "evaluate", "normalize", "train"]

MIN_DF = 2
MIN_DF_FROM = 200
C_GRID = (0.5, 1.0, 2.0)
GROUP_CHARS = 30


def _fit_block(docs: Sequence[str]) -> Block:
    """Buckets seen in fewer than MIN_DF documents are dropped: n-grams only new text has add no noise."""
    hashed = [hashed_counts(d)[0] for d in docs]
    buckets, df = np.unique(np.concatenate(hashed) if hashed else np.zeros(0, dtype=np.int64), return_counts=True)
    keep = df >= (MIN_DF if len(docs) >= MIN_DF_FROM else 1)
    if not keep.any():
        raise ValueError("训练文本中没有可用的文字内容")
    idf = (np.log((1 + len(docs)) / (1 + df[keep])) + 1).astype(np.float32)
    return Block(kept=buckets[keep], idf=idf)


def _matrix(body: Block, head: Block, docs: Sequence[str]) -> sp.csr_matrix:
    """The same features TrainedModel.scores() computes one text at a time, as one sparse matrix."""
    rows, cols, values = [], [], []
    for i, doc in enumerate(docs):
        for block, text, offset, weight in ((body, doc, 0, 1.0), (head, doc[:HEAD_CHARS], body.width, HEAD_WEIGHT)):
            c, v = block.columns(text)
            rows.append(np.full(len(c), i))
            cols.append(c + offset)
            values.append(v * weight)
    return sp.csr_matrix(
        (np.concatenate(values).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(docs), body.width + head.width),
    )


def _fit_svm(x: sp.csr_matrix, y: np.ndarray, c: float) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced").fit(x, y)


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature that makes softmax(scores / T) a calibrated probability on out-of-fold scores."""

    def nll(log_t: float) -> float:
        p = softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

    res = minimize_scalar(nll, bounds=(-5.0, 3.0), method="bounded")
    return float(np.exp(res.x))


def _level1_f1(probs: np.ndarray, column_roots: Sequence[str], y: np.ndarray) -> float:
    roots = sorted(set(column_roots))
    member = np.zeros((len(column_roots), len(roots)))
    member[np.arange(len(column_roots)), [roots.index(r) for r in column_roots]] = 1.0
    truth = member[y].argmax(1)
    return float(f1_score(truth, (probs @ member).argmax(1), average="macro"))


def _decision(model: LinearSVC, x: sp.csr_matrix, n_classes: int) -> np.ndarray:
    """Scores in the columns of all `n_classes`; a class missing from this fit (its few samples all fell in
    the held-out fold) scores below every other."""
    s = model.decision_function(x)
    if len(model.classes_) == 2:
        s = np.column_stack([-s, s]) / 2
    if len(model.classes_) == n_classes:
        return s
    full = np.full((s.shape[0], n_classes), float(s.min()) - 1.0 if s.size else -1.0)
    full[:, model.classes_] = s
    return full


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    tokenized: bool = False,
    cv_folds: int = 5,
    level1: Mapping[str, str] | None = None,
) -> TrainedModel:
    """Fit on labelled texts; C is chosen and the metrics measured by near-duplicate-grouped stratified CV.

    `level1` gives each label's level-1 category when the labels are finer: the cross-validated macro-F1
    is then also measured at level 1 (probabilities added up per category), the one figure comparable
    with a level-1 model's."""
    if len(texts) != len(labels):
        raise ValueError("文本与标签数量不一致")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("至少需要两个类别才能训练")
    y = np.array([classes.index(lab) for lab in labels])
    docs = [normalize(t or "", tokenized=tokenized) for t in texts]
    body, head = _fit_block(docs), _fit_block([d[:HEAD_CHARS] for d in docs])
    x = _matrix(body, head, docs)

    # A class with one sample cannot be held out and still be learnt: cross-validation runs over the others
    # (a unit that has closed one order must not cost the whole model its score), and says which it left out.
    counts = np.bincount(y, minlength=len(classes))
    scored = np.flatnonzero(counts >= 2)
    best_c, temperature = C_GRID[len(C_GRID) // 2], 1.0
    metrics: dict = {"n_train": len(docs)}
    folds = min(cv_folds, int(counts[scored].min())) if len(scored) >= 2 else 0
    keep = np.flatnonzero(np.isin(y, scored))
    x_cv, y_cv = x[keep], np.searchsorted(scored, y[keep])
    splits = []
    groups = [docs[i][:GROUP_CHARS] for i in keep]
    if folds >= 2 and len(set(groups)) >= folds:
        splits = list(StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(x_cv, y_cv, groups))
    # So few samples (or near-copies) that some fold would train on a single class: nothing to score.
    if splits and all(len(np.unique(y_cv[tr])) >= 2 for tr, _ in splits):
        best_f1 = -1.0
        for c in C_GRID:
            oof = np.zeros((len(y_cv), len(scored)))
            for tr, te in splits:
                oof[te] = _decision(_fit_svm(x_cv[tr], y_cv[tr], c), x_cv[te], len(scored))
            f1 = f1_score(y_cv, oof.argmax(1), average="macro")
            if f1 > best_f1:
                best_f1, best_c, best_oof = f1, c, oof
        temperature = _fit_temperature(best_oof, y_cv)
        pred = best_oof.argmax(1)
        per_class = f1_score(y_cv, pred, average=None, labels=range(len(scored)))
        metrics |= {
            "cv_folds": folds,
            "cv_macro_f1": float(best_f1),
            "cv_accuracy": float((pred == y_cv).mean()),
            "per_class_f1": {classes[k]: float(f) for k, f in zip(scored, per_class)},
            "C": best_c,
            "temperature": temperature,
        }
        if level1 is not None:
            metrics["cv_macro_f1_l1"] = _level1_f1(softmax(best_oof, temperature), [level1[classes[k]] for k in scored], y_cv)
        if len(scored) < len(classes):
            metrics["cv_left_out"] = [classes[k] for k in np.flatnonzero(counts < 2)]

    svm = _fit_svm(x, y, best_c)
    coef = np.asarray(svm.coef_, dtype=np.float32)
    intercept = np.asarray(svm.intercept_, dtype=np.float32)
    if len(classes) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    return TrainedModel(
        labels=classes,
        body=body,
        head=head,
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
