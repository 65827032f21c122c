import random

import pytest

from baishitong.routing import classifier
from baishitong.routing.classifier import TrainedModel, evaluate, normalize, train

TOPICS = {
    "交通运输": ["公交车", "地铁站", "红绿灯", "出租车", "停车位", "公交站台", "驾驶证"],
    "教育文体": ["学校", "学生", "老师", "学位", "幼儿园", "补课", "体育馆"],
    "卫生计生": ["医院", "医生", "疫苗", "社区卫生站", "药店", "门诊", "护士"],
}
FILLER = ["我们", "小区", "附近", "最近", "问题", "希望", "尽快", "处理", "反映", "情况", "一直", "严重"]


def _corpus(n: int, seed: int, *, tokenized: bool) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = list(TOPICS)[i % 3]
        words = rng.sample(TOPICS[label], 3) + rng.sample(FILLER, 5)
        rng.shuffle(words)
        texts.append(" ".join(words) if tokenized else "关于" + words[0] + "的问题。" + "，".join(words) + "。")
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    texts, labels = _corpus(90, seed=1, tokenized=True)
    return train(texts, labels, tokenized=True, cv_folds=3)


def test_trained_on_tokens_predicts_raw_text(model: TrainedModel) -> None:
    texts, labels = _corpus(60, seed=2, tokenized=False)
    assert [p.label for p in model.predict(texts)] == labels
    assert model.labels == sorted(TOPICS)
    assert model.metrics["n_train"] == 90
    assert model.metrics["cv_macro_f1"] > 0.9
    assert set(model.metrics["per_class_f1"]) == set(TOPICS)


def test_confidence_is_a_probability_and_top3_sorted(model: TrainedModel) -> None:
    for p in model.predict(["明天学校的老师说幼儿园学位紧张", "", "无关内容" * 500]):
        assert 0.0 <= p.confidence <= 1.0
        assert len(p.top3) == 3
        probs = [prob for _, prob in p.top3]
        assert probs == sorted(probs, reverse=True)
        assert p.top3[0] == (p.label, p.confidence)
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)


def test_round_trip_through_bytes_keeps_predictions(model: TrainedModel) -> None:
    texts, _ = _corpus(12, seed=3, tokenized=False)
    blob = model.to_bytes()
    assert isinstance(blob, bytes)
    loaded = TrainedModel.from_bytes(blob)
    assert loaded.predict(texts) == model.predict(texts)
    assert loaded.metrics == model.metrics


def test_from_bytes_rejects_foreign_blob() -> None:
    import pickle

    for blob in (pickle.dumps({"something": "else"}), b"not a model", b""):
        with pytest.raises(ValueError, match="重新训练"):
            TrainedModel.from_bytes(blob)


def test_app_side_features_match_scikit_learn_hashing() -> None:
    """The web process hashes n-grams itself; the buckets must be HashingVectorizer's."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from baishitong.routing.model import N_FEATURES, char_grams, hashed_counts

    text = normalize("容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上很不安全")
    reference = HashingVectorizer(analyzer=char_grams, n_features=N_FEATURES, alternate_sign=False, norm=None).transform([text])
    buckets, counts = hashed_counts(text)
    assert buckets.tolist() == sorted(reference.indices.tolist())
    assert counts.tolist() == [reference[0, b] for b in buckets]


def test_predicting_does_not_import_scikit_learn(model: TrainedModel, tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "model.npz"
    path.write_bytes(model.to_bytes())
    code = (
        "import sys; from pathlib import Path; from baishitong.routing.model import TrainedModel;"
        f"m = TrainedModel.from_bytes(Path({str(path)!r}).read_bytes()); m.predict(['路灯不亮']);"
        "print('sklearn' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_tokenized_and_raw_forms_normalise_alike() -> None:
    assert normalize("小区 垃圾 没人 清理", tokenized=True) == normalize("我们小区的垃圾，没人清理！")


def test_train_rejects_single_class_and_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        train(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError):
        train(["a"], ["x", "y"])


def test_tiny_training_set_skips_cross_validation() -> None:
    m = train(["公交车站台", "学校老师"], ["交通运输", "教育文体"])
    assert m.metrics == {"n_train": 2}
    assert m.predict_one("公交车").label == "交通运输"


class _Fixed(TrainedModel):
    def __init__(self, answers: list[str]) -> None:
        self.labels = ["甲", "乙"]
        self._answers = answers

    def predict(self, texts):  # type: ignore[override]
        return [classifier.Prediction(a, 1.0, [(a, 1.0)]) for a in self._answers]


def test_evaluate_figures_for_a_known_case() -> None:
    truth = ["甲", "甲", "甲", "乙"]
    report = evaluate(_Fixed(["甲", "甲", "乙", "乙"]), ["t"] * 4, truth)
    assert report["accuracy"] == 0.75
    a, b = report["per_class"]["甲"], report["per_class"]["乙"]
    assert (a["precision"], a["recall"], a["support"]) == (1.0, pytest.approx(2 / 3), 3)
    assert (b["precision"], b["recall"], b["support"]) == (0.5, 1.0, 1)
    assert a["f1"] == pytest.approx(0.8)
    assert b["f1"] == pytest.approx(2 / 3)
    assert report["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert report["confusion"] == {"labels": ["甲", "乙"], "matrix": [[2, 1], [0, 1]]}


def test_a_class_with_one_sample_is_left_out_of_cross_validation_not_the_whole_model() -> None:
    texts, labels = _corpus(60, seed=3, tokenized=True)
    # 环境保护 has a single order (cannot be held out); 城乡建设 two near-copies (one group: a fold trains without it).
    texts += ["工地 噪音 半夜 施工 扰民", "路灯 不亮 小区 附近 晚上", "路灯 不亮 小区 附近 晚上 很黑"]
    labels += ["环境保护", "城乡建设", "城乡建设"]
    m = train(texts, labels, tokenized=True, cv_folds=3)
    assert m.metrics["cv_folds"] == 2 and m.metrics["cv_macro_f1"] > 0.5
    assert m.metrics["cv_left_out"] == ["环境保护"]
    assert set(m.metrics["per_class_f1"]) == {"交通运输", "教育文体", "卫生计生", "城乡建设"}
    assert "环境保护" in m.labels, "still learnt, only not scored"
