import csv
import json
import random
import re

import pytest
from click.testing import CliRunner

from baishitong.cli import main
from baishitong.routing.cli import locate, router
from tests.conftest import create_fresh_database, drop_fresh_database

TOPICS = {
    "城乡建设": ["路灯", "不亮", "井盖", "缺失", "道路", "破损", "排水", "内涝"],
    "劳动和社会保障": ["拖欠", "工资", "社保", "断缴", "劳动", "合同", "工伤", "认定"],
    "商贸旅游": ["预付卡", "退费", "商品", "质量", "网购", "纠纷", "价格", "欺诈"],
}


def write_csv(path, rows, header):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def tokens(seed: int, n: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(" ".join(rng.sample(TOPICS[lab], 4)), lab) for lab in (list(TOPICS)[i % 3] for i in range(n))]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    url = create_fresh_database(tmp_path_factory.mktemp("cli"))
    result = CliRunner().invoke(main, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    yield url
    drop_fresh_database(url)


@pytest.fixture(scope="module")
def trained(db_url, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.csv"
    write_csv(path, tokens(1, 90), ["tokens", "label"])
    result = CliRunner().invoke(router, ["train", "--data", str(path), "--text-col", "tokens", "--label-col", "label", "--tokenized", "--db", db_url])
    assert result.exit_code == 0, result.output
    return re.search(r"模型版本：(\S+?)（", result.output).group(1), result.output


def test_train_prints_version_and_f1(trained):
    version, output = trained
    assert re.fullmatch(r"r\d{8}-\d+", version)
    f1 = float(re.search(r"macro-F1：([0-9.]+)", output).group(1))
    assert f1 > 0.9


def test_predict_writes_labels_for_raw_rows(db_url, trained, tmp_path):
    raw = tmp_path / "raw.csv"
    write_csv(raw, [("a1", "路灯不亮", "晚上井盖缺失很危险"), ("a2", "公司拖欠工资", "社保也断缴了")], ["编号", "subject", "detail"])
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(router, ["predict", "--data", str(raw), "--text-cols", "subject,detail", "--out", str(out), "--db", db_url])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["编号", "label", "confidence", "top3"]
    assert [(r["编号"], r["label"]) for r in rows] == [("a1", "城乡建设"), ("a2", "劳动和社会保障")]
    top3 = rows[0]["top3"].split("|")
    assert len(top3) == 3 and top3[0].startswith("城乡建设:") and 0 < float(rows[0]["confidence"]) <= 1


def test_eval_prints_report(db_url, trained, tmp_path):
    path = tmp_path / "dev.csv"
    write_csv(path, [(t.replace(" ", ""), lab) for t, lab in tokens(7, 30)], ["text", "label"])
    result = CliRunner().invoke(router, ["eval", "--data", str(path), "--text-cols", "text", "--label-col", "label", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "混淆矩阵" in result.output
    for label in TOPICS:
        assert label in result.output


def test_models_and_activate(db_url, trained, tmp_path):
    path = tmp_path / "train2.csv"
    write_csv(path, tokens(2, 60), ["tokens", "label"])
    runner = CliRunner()
    assert runner.invoke(router, ["train", "--data", str(path), "--text-col", "tokens", "--label-col", "label", "--tokenized", "--db", db_url]).exit_code == 0
    result = runner.invoke(router, ["activate", trained[0], "--db", db_url])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(router, ["models", "--db", db_url]).output
    active = [line for line in listing.splitlines() if line.startswith("*")]
    assert len(active) == 1 and trained[0] in active[0]
    missing = runner.invoke(router, ["activate", "r19990101-1", "--db", db_url])
    assert missing.exit_code != 0 and "不存在" in missing.output


def test_train_reports_bad_columns(db_url, tmp_path):
    path = tmp_path / "bad.csv"
    write_csv(path, [("x", "y")], ["a", "b"])
    result = CliRunner().invoke(router, ["train", "--data", str(path), "--text-col", "text", "--label-col", "label", "--db", db_url])
    assert result.exit_code != 0 and "缺少列" in result.output


def test_locate_prints_json():
    result = CliRunner().invoke(locate, ["佛山市顺德区容桂街道高黎社区桂洲大道东"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["town"]["name"].startswith("容桂") and data["community"]["code"].startswith(data["town"]["code"])
    assert set(data) == {"town", "community", "method", "score"}
    assert json.loads(CliRunner().invoke(locate, ["黑龙江省哈尔滨市"]).output)["town"] is None


def test_models_says_when_a_version_was_not_cross_validated(db_url, tmp_path):
    path = tmp_path / "tiny.csv"
    # One sample of each class: nothing can be held out, so there is no macro-F1 to print.
    write_csv(path, [("公交车 站台 没有 遮雨棚", "交通运输"), ("学校 门口 车辆 乱停", "教育文体")], ["tokens", "label"])
    runner = CliRunner()
    trained = runner.invoke(router, ["train", "--data", str(path), "--text-col", "tokens", "--label-col", "label", "--tokenized", "--db", db_url])
    assert trained.exit_code == 0 and "未做交叉验证" in trained.output, trained.output
    listing = runner.invoke(router, ["models", "--db", db_url]).output
    assert "None" not in listing and "未做交叉验证（样本不足）" in listing.splitlines()[0]


def test_train_names_the_classes_left_out_of_cross_validation(db_url, tmp_path):
    path = tmp_path / "one_off.csv"
    write_csv(path, [*tokens(4, 30), ("路灯 不亮 晚上 很 黑", "孤例")], ["tokens", "label"])
    trained = CliRunner().invoke(router, ["train", "--data", str(path), "--text-col", "tokens", "--label-col", "label", "--tokenized", "--db", db_url])
    assert trained.exit_code == 0 and "交叉验证 macro-F1" in trained.output
    assert "未参与交叉验证（仅 1 条样本）：孤例" in trained.output, trained.output


def test_eval_and_train_refuse_unusable_files_in_chinese(db_url, trained, tmp_path):
    """A file whose rows all lack a text or a label used to end eval in scikit-learn's traceback (empty input array);
    a CSV cell past the csv module's limit ended train in _csv.Error."""
    blanks = tmp_path / "blanks.csv"
    write_csv(blanks, [("路灯不亮", ""), ("", "城乡建设")], ["tokens", "label"])
    result = CliRunner().invoke(router, ["eval", "--data", str(blanks), "--text-cols", "tokens", "--label-col", "label", "--db", db_url])
    assert result.exit_code == 1 and "没有可评估的样本" in result.output
    assert isinstance(result.exception, SystemExit)
    huge = tmp_path / "huge.csv"
    write_csv(huge, [("路灯" * 70_000, "城乡建设")], ["tokens", "label"])
    result = CliRunner().invoke(router, ["train", "--data", str(huge), "--text-col", "tokens", "--label-col", "label", "--db", db_url])
    assert result.exit_code == 1 and "第 2 行无法读取" in result.output
    assert isinstance(result.exception, SystemExit)
