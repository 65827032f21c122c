"""`baishitong router …` (train, predict, evaluate, switch model versions) and `baishitong locate`."""

import csv
import time
from pathlib import Path

import click

from baishitong.cli import database, db_option, echo_json


def _columns(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def _fail(exc) -> click.ClickException:
    return click.ClickException(getattr(exc, "message", None) or str(exc))


def _active(session):
    from baishitong.routing import service

    active = service.active_model(session)
    if active is None:
        raise click.ClickException("没有已启用的分拨模型，请先运行 baishitong router train")
    return active


@click.group()
def router() -> None:
    """智能分拨：分类模型的训练、评估、预测和版本管理。"""


@router.command()
@click.option("--data", "path", required=True, type=click.Path(exists=True, dir_okay=False), help="CSV 或 XLSX 训练文件")
@click.option("--text-col", "text_col", required=True, help="文本列，多个用逗号分隔")
@click.option("--label-col", "label_col", required=True, help="标签列")
@click.option("--tokenized", is_flag=True, help="文本已分词（空格分隔）")
@click.option("--kind", type=click.Choice(["category", "unit"]), default="category", show_default=True, help="标签是问题分类还是承办单位")
@click.option("--no-activate", is_flag=True, help="只保存，不启用")
@db_option
def train(path: str, text_col: str, label_col: str, tokenized: bool, kind: str, no_activate: bool, db: str | None) -> None:
    """用带标签的文件训练，保存为新版本并（默认）启用。"""
    from sqlalchemy import select

    from baishitong.errors import DomainError
    from baishitong.routing import service
    from baishitong.routing.models import RouterModel

    started = time.perf_counter()
    store = database(db)
    try:
        with store.session() as session:
            row = service.train_from_file(session, data=path, text_columns=_columns(text_col), label_column=label_col, actor="cli", tokenized=tokenized, kind=kind, activate_now=False)
            worse = service.reason_not_to_replace(session, candidate=row)
            previous = session.scalar(select(RouterModel.version).where(RouterModel.active.is_(True)))
            if not no_activate:
                service.activate(session, version=row.version, actor="cli")
            version, metrics = row.version, row.metrics
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    f1 = metrics.get("cv_macro_f1")
    click.echo(f"模型版本：{version}{'' if no_activate else '（已启用）'}")
    click.echo(f"训练样本：{metrics.get('n_train')}，交叉验证 macro-F1：{f1:.4f}" if f1 is not None else f"训练样本：{metrics.get('n_train')}（样本太少，未做交叉验证）")
    if metrics.get("cv_left_out"):
        click.echo(f"未参与交叉验证（仅 1 条样本）：{'、'.join(metrics['cv_left_out'])}")
    if worse and not no_activate and previous is not None:
        click.echo(f"注意：{worse}；如需切回，运行 baishitong router activate {previous}", err=True)
    if metrics.get("unmapped_labels"):
        click.echo(f"注意：以下标签在问题分类中找不到，对应诉求不会自动派单：{'、'.join(metrics['unmapped_labels'])}", err=True)
    click.echo(f"用时 {time.perf_counter() - started:.1f} 秒")


@router.command()
@click.option("--data", "path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--text-cols", "text_cols", required=True, help="文本列，多个用逗号分隔")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--batch", default=2000, show_default=True, type=int)
@db_option
def predict(path: str, text_cols: str, out: str, batch: int, db: str | None) -> None:
    """用当前模型批量预测每一行（模型只载入一次，逐行不访问数据库）。"""
    from baishitong.routing import dataset

    store = database(db)
    with store.session(write=False) as session:
        active = _active(session)
    store.dispose()
    try:
        rows = dataset.read_rows(path)
        dataset.require_columns(rows, _columns(text_cols))
    except ValueError as exc:
        raise _fail(exc) from None
    id_col = dataset.columns(rows)[0] if rows else "id"
    started = time.perf_counter()
    if not Path(out).resolve().parent.is_dir():
        raise click.ClickException(f"结果文件的目录不存在：{Path(out).parent}")
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([id_col, "label", "confidence", "top3"])
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            for row, p in zip(chunk, active.model.predict([dataset.pick_text(r, _columns(text_cols)) for r in chunk])):
                writer.writerow([row.get(id_col, ""), p.label, f"{p.confidence:.4f}", "|".join(f"{lab}:{s:.2f}" for lab, s in p.top3)])
    elapsed = time.perf_counter() - started
    click.echo(f"模型 {active.version}：已预测 {len(rows)} 条，写入 {out}（{len(rows) / elapsed if elapsed else 0:.0f} 条/秒）")


@router.command("eval")
@click.option("--data", "path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--text-cols", "text_cols", required=True)
@click.option("--label-col", "label_col", required=True)
@db_option
def evaluate(path: str, text_cols: str, label_col: str, db: str | None) -> None:
    """用当前模型评估：各类别精确率/召回率/F1、宏平均 F1 和混淆矩阵。"""
    from baishitong.routing import classifier, dataset

    store = database(db)
    with store.session(write=False) as session:
        active = _active(session)
    store.dispose()
    try:
        texts, labels = dataset.load_labelled(path, _columns(text_cols), label_col)
    except ValueError as exc:
        raise _fail(exc) from None
    if not texts:
        raise click.ClickException(f"没有可评估的样本：{text_cols} 与 {label_col} 列都有内容的行为 0")
    result = classifier.evaluate(active.model, texts, labels)
    click.echo(f"模型 {active.version}，样本 {result['n']}，准确率 {result['accuracy']:.4f}，macro-F1 {result['macro_f1']:.4f}")
    width = max(len(lab) for lab in result["per_class"]) + 2
    click.echo(f"{'类别':<{width}}{'精确率':>8}{'召回率':>8}{'F1':>8}{'样本':>6}")
    for lab, m in result["per_class"].items():
        click.echo(f"{lab:<{width}}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>8}")
    click.echo("混淆矩阵（行：真实，列：预测）：")
    order = result["confusion"]["labels"]
    click.echo("\t".join(["", *order]))
    for lab, counts in zip(order, result["confusion"]["matrix"]):
        click.echo("\t".join([lab, *map(str, counts)]))


@router.command("models")
@db_option
def list_models(db: str | None) -> None:
    """列出已保存的模型版本（新的在前，* 为当前启用）。"""
    from baishitong.routing import service

    store = database(db)
    with store.session(write=False) as session:
        for m in service.list_models(session):
            f1 = m.metrics.get("cv_macro_f1")
            click.echo(f"{'*' if m.active else ' '} {m.version:<14} {m.kind:<9} {m.source:<9} {len(m.labels):>3} 类  {'未做交叉验证（样本不足）' if f1 is None else f'macro-F1 {f1:.4f}'}  {m.created_at:%Y-%m-%d %H:%M} {m.created_by}")
    store.dispose()


@router.command()
@click.argument("version")
@db_option
def activate(version: str, db: str | None) -> None:
    """切换到已保存的模型版本（例如回退到早先版本）。"""
    from baishitong.errors import DomainError
    from baishitong.routing import service

    store = database(db)
    try:
        with store.session() as session:
            service.activate(session, version=version, actor="cli")
    except DomainError as exc:
        raise _fail(exc) from None
    finally:
        store.dispose()
    click.echo(f"已启用模型 {version}")


@click.command("locate")
@click.argument("text")
def locate(text: str) -> None:
    """识别地址所在的顺德镇街和村居，输出 JSON。"""
    from baishitong.routing import service

    echo_json(service.location_out(service.locate_text(text)))
