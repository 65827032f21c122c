"""`baishitong attachments …`: the stored files of work orders from the command line."""

from pathlib import Path

import click

from baishitong.cli import database, db_option
from baishitong.config import get_settings


@click.group()
def attachments() -> None:
    """工单附件（诉求人照片、答复附件）。"""


@attachments.command("strip-metadata")
@click.option("--var-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="数据目录（默认 BAISHITONG_VAR_DIR）")
@db_option
def strip_metadata(var_dir: Path | None, db: str | None) -> None:
    """去除已保存图片中的 EXIF（拍摄位置、相机、时间）等元数据；升级前收到的诉求照片是原样保存的。可重复执行。"""
    from baishitong.attachments import service

    store = database(db)
    try:
        with store.session() as session:
            result = service.strip_stored(session, var_dir=var_dir or get_settings().var_dir, actor="cli")
    finally:
        store.dispose()
    click.echo(f"已去除元数据 {result.stripped} 张，本无元数据 {result.clean} 张")
    if result.missing:
        click.echo(f"文件已丢失 {len(result.missing)} 个（附件编号 {'、'.join(map(str, result.missing))}）", err=True)
    if result.unreadable:
        click.echo(f"无法解析、保持原样 {len(result.unreadable)} 张（附件编号 {'、'.join(map(str, result.unreadable))}），请人工核查", err=True)
