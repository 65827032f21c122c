"""`baishitong points …`: the service-point directory from the command line."""

from pathlib import Path

import click

from baishitong.cli import database, db_option


@click.group()
def points() -> None:
    """门口办服务网点：导入、导出、就近查询、覆盖分析。"""


def _fail(exc) -> click.ClickException:
    return click.ClickException(exc.message)


@points.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def import_cmd(file: Path, db: str | None) -> None:
    """按编码从 CSV/XLSX 导入或更新网点（全部成功或全部不导入）。"""
    from baishitong.errors import DomainError
    from baishitong.points import service

    store = database(db)
    try:
        with store.session() as session:
            result = service.import_file(session, filename=file.name, content=file.read_bytes(), actor="cli")
    except DomainError as exc:
        for line in exc.details.get("errors", [])[service.MAX_IMPORT_ERRORS :]:
            click.echo(line, err=True)
        raise _fail(exc) from None
    finally:
        store.dispose()
    click.echo(f"导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")


@points.command("export", help="导出全部网点到 CSV/XLSX。")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出文件（.csv 或 .xlsx）")
@db_option
def export_cmd(out: Path, db: str | None) -> None:
    from baishitong.points import service

    with database(db).session(write=False) as session:
        out.write_bytes(service.export_file(session, filename=out.name))
        count = len(service.list_points(session, include_inactive=True))
    click.echo(f"已导出 {count} 个网点到 {out}")


@points.command("nearest", help="查询离某位置最近的网点（经纬度或地名）。")
@click.option("--lat", type=float, default=None, help="纬度")
@click.option("--lon", type=float, default=None, help="经度")
@click.option("--near", default=None, help="地址、村居或镇街名称（代替经纬度）")
@click.option("--radius", type=float, default=None, help="半径（米）")
@click.option("--limit", type=int, default=10, show_default=True, help="最多列出几个网点")
@click.option("--service", "service_code", default=None, help="服务事项编码")
@db_option
def nearest_cmd(lat: float | None, lon: float | None, near: str | None, radius: float | None, limit: int, service_code: str | None, db: str | None) -> None:
    from baishitong.errors import DomainError
    from baishitong.points import service

    try:
        with database(db).session(write=False) as session:
            if lat is None or lon is None:
                if not near:
                    raise click.UsageError("请提供 --lat/--lon 或 --near")
                lat, lon, place = service.locate_text(session, text=near)
                click.echo(f"位置：{place}（{lat:.5f}, {lon:.5f}）")
            hits = service.nearest(session, lat=lat, lon=lon, radius_m=radius, limit=limit, service=service_code)
            for point, distance in hits:
                click.echo(f"{distance:>9.1f} 米  {point.code:<14} {point.name}  {point.address}")
    except DomainError as exc:
        raise _fail(exc) from None
    if not hits:
        click.echo("范围内没有服务网点")


@points.command("coverage")
@click.option("--radius", type=float, default=2000, show_default=True, help="覆盖半径（米）")
@click.option("--svg", "svg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="同时输出覆盖图 SVG")
@db_option
def coverage_cmd(radius: float, svg: Path | None, db: str | None) -> None:
    """未覆盖的村居及建议新增的网点位置。"""
    from baishitong.errors import DomainError
    from baishitong.points import service

    try:
        with database(db).session(write=False) as session:
            report = service.coverage(session, radius_m=radius)
            if svg:
                svg.write_text(service.coverage_svg(session, radius_m=radius), encoding="utf-8")
    except DomainError as exc:
        raise _fail(exc) from None
    click.echo(f"{radius:g} 米覆盖：{report['covered']}/{report['communities']} 个村居（{report['ratio'] * 100:.1f}%），未覆盖 {len(report['uncovered'])} 个")
    for c in report["uncovered"]:
        distance = "无网点" if c["distance_m"] is None else f"{c['distance_m'] / 1000:.1f} 公里"
        click.echo(f"  未覆盖  {c['code']}  {c['name']}  最近网点 {distance}")
    for n, s in enumerate(report["suggestions"], start=1):
        where = s["anchor_name"] or f"{s['lat']:.5f}, {s['lon']:.5f}"
        click.echo(f"  建议{n}  {where}：可覆盖 {s['closes']} 个村居（{'、'.join(s['community_codes'])}）")
    if svg:
        click.echo(f"覆盖图已写入 {svg}")


@points.command("demo")
@db_option
def demo_cmd(db: str | None) -> None:
    """载入演示网点（可重复执行）。"""
    from baishitong.points import service

    with database(db).session() as session:
        result = service.load_demo(session)
    click.echo(f"演示网点：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
