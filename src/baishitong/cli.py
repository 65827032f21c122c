"""The `baishitong` command."""

import json
import os
import sys

import click

from baishitong import cli_text
from baishitong.config import get_settings

# At import, before any command is built or invoked: click makes (and keeps) a command's --help option
# the first time it is asked for, and every domain's CLI module imports this one.
cli_text.install()


def resolve_db(db: str | None) -> str:
    return db or os.environ.get("BAISHITONG_DATABASE_URL") or get_settings().effective_database_url


def default_public_url(host: str, port: int) -> None:
    """Links in messages point at the address being served unless BAISHITONG_PUBLIC_URL says otherwise."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    os.environ.setdefault("BAISHITONG_PUBLIC_URL", f"http://{shown}:{port}")


db_option = click.option("--db", "db", default=None, help="数据库 URL（默认 BAISHITONG_DATABASE_URL，其次内置 SQLite 文件）")


def database(db: str | None):
    """The database for a command; background jobs it enqueues are recorded in the same one."""
    from baishitong.db import Database
    from baishitong.jobs import queue

    store = Database(resolve_db(db))
    queue.use_database(store)
    return store


class DomainCommands(click.Group):
    """Commands that live in their domain's package, imported only when used.

    The domain modules import this module (for `db_option`, `database()`), so importing
    them here at start-up would be circular; `baishitong --help` still lists them.
    """

    LAZY = {
        "attachments": "baishitong.attachments.cli:attachments",
        "kb": "baishitong.knowledge.cli:kb",
        "points": "baishitong.points.cli:points",
        "router": "baishitong.routing.cli:router",
        "locate": "baishitong.routing.cli:locate",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            import importlib

            module, attr = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        """What an administrator's environment gets wrong (a database that is down, not initialised or misspelt, a
        file that is missing, unwritable or not UTF-8) is told in Chinese with exit status 1 for every command,
        instead of a Python traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = environment_error(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


_CSV_ERRORS = {"field larger than field limit": "有一格内容过长（超过 131072 个字符）", "line contains NUL": "文件含有空字符，可能不是文本 CSV"}


def environment_error(exc: Exception) -> str | None:
    """The Chinese message for an error of the command's surroundings rather than of its logic; None for any other."""
    import csv

    from sqlalchemy import exc as sa

    if isinstance(exc, sa.NoSuchModuleError | sa.ArgumentError):
        return "数据库 URL 无效，应形如 sqlite:///var/baishitong.db 或 postgresql+psycopg://user@host:5432/db（--db 或 BAISHITONG_DATABASE_URL）"
    if isinstance(exc, sa.OperationalError | sa.ProgrammingError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
            return "数据库尚未初始化（缺少数据表），请先运行 baishitong init（使用同一个 --db）"
        return f"无法访问数据库，请检查 --db 或 BAISHITONG_DATABASE_URL，以及数据库服务是否在运行（{detail}）"
    if isinstance(exc, UnicodeDecodeError):
        return "文件不是 UTF-8 编码，请另存为 UTF-8 编码的 CSV，或 Excel（.xlsx）文件"
    if isinstance(exc, csv.Error):
        detail = next((zh for en, zh in _CSV_ERRORS.items() if en in str(exc)), str(exc))
        return f"CSV 文件无法读取：{detail}"
    if isinstance(exc, FileNotFoundError):
        return f"文件或目录不存在：{exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename} 是一个目录，请给出文件路径"
    if isinstance(exc, PermissionError):
        return f"没有权限读写：{exc.filename}"
    if isinstance(exc, OSError) and exc.filename:
        return f"无法读写文件 {exc.filename}：{exc.strerror}"
    return None


@click.group(cls=DomainCommands)
def main() -> None:
    """百事通 — 政务服务便民平台。"""


@main.command()
@db_option
@click.option("--demo", is_flag=True, help="同时载入顺德演示数据（演示账号、工单、知识库、网点）")
def init(db: str | None, demo: bool) -> None:
    """迁移数据库并载入基础数据；可重复执行。"""
    from baishitong import migrate, seed
    from baishitong.tickets import service as tickets

    url = resolve_db(db)
    migrate.upgrade(url)
    store = database(db)
    with store.session() as session:
        counts = seed.load_reference(session)
        # Orders left with accounts disabled or moved before that released them (tickets.service.release_stranded).
        released = tickets.release_stranded(session)
    click.echo(f"数据库已就绪：{_safe_url(url)}")
    for name, count in counts.items():
        if count:
            click.echo(f"  载入{name}：{count}")
    if released:
        click.echo(f"  停用或调离人员名下的未办结工单退回单位未指派：{len(released)} 件")
    if demo:
        with store.session() as session:
            result = seed.load_demo(session)
        if result.created:
            click.echo(f"  演示工单：{result.tickets} 件")
            f1 = f"，按一级分类交叉验证 macro-F1 {result.router_f1:.3f}" if result.router_f1 is not None else ""
            click.echo(f"  分拨模型：{result.router_version}（由演示的已办结工单按问题分类训练，工单足够多的细类单独学习{f1}）")
        click.echo("演示账号（仅限演示模式，密码均为 demo12345）：")
        for username, role, unit in result.accounts:
            click.echo(f"  {username:<14} {role:<10} {unit or ''}")
    store.dispose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=int)
def serve(db: str | None, host: str, port: int, workers: int) -> None:
    """只启动网站和接口（不含后台任务进程）。"""
    import uvicorn

    from baishitong.runtime import limit_malloc_arenas

    limit_malloc_arenas()
    os.environ["BAISHITONG_DATABASE_URL"] = resolve_db(db)
    default_public_url(host, port)
    get_settings.cache_clear()
    uvicorn.run("baishitong.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@main.group()
def user() -> None:
    """工作人员账号。"""


@user.command("add", help="新建工作人员账号，密码从标准输入读取。")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["operator", "handler", "unit_admin", "supervisor", "admin"]), help="角色：话务员、承办人、单位管理员、督办员、管理员")
@click.option("--unit", "unit_code", default=None, help="所属单位编码（承办人、单位管理员必填）")
@click.option("--name", "display_name", default=None, help="显示姓名")
@click.option("--password-stdin", is_flag=True, required=True, help="从标准输入读取密码")
@db_option
def user_add(username: str, role: str, unit_code: str | None, display_name: str | None, password_stdin: bool, db: str | None) -> None:
    from baishitong.errors import DomainError
    from baishitong.org import service as org

    password = sys.stdin.readline().rstrip("\n")
    store = database(db)
    try:
        with store.session() as session:
            org.create_user(session, username=username, password=password, role=role, unit_code=unit_code, display_name=display_name, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"已创建用户 {username}（{org.ROLES[role]}）")


@user.command("list", help="列出工作人员账号。")
@db_option
def user_list(db: str | None) -> None:
    from baishitong.org import service as org

    with database(db).session(write=False) as session:
        for u in org.list_users(session):
            state = "启用" if u.active else "停用"
            click.echo(f"{u.username:<16} {u.role:<11} {(u.unit.code if u.unit else '-'):<14} {state}  {u.display_name}")


def _change_user(db: str | None, change, done) -> None:
    """One account change in its own transaction; a refusal is printed in Chinese with a non-zero exit.
    `done` is what to print, or makes it from what `change` returned."""
    from baishitong.errors import DomainError

    try:
        with database(db).session() as session:
            result = change(session)
            message = done(result) if callable(done) else done
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(message)


@user.command("disable", help="停用账号；其登录会话和接口令牌立即失效，其承办的未办结工单退回本单位未指派。")
@click.argument("username")
@db_option
def user_disable(username: str, db: str | None) -> None:
    from baishitong.org import service as org

    _change_user(db, lambda session: org.disable_user(session, username=username, actor="cli"), lambda change: f"已停用用户 {username}，其令牌全部失效" + org.released_text(change))


@user.command("enable", help="重新启用已停用的账号。")
@click.argument("username")
@db_option
def user_enable(username: str, db: str | None) -> None:
    from baishitong.org import service as org

    _change_user(db, lambda session: org.enable_user(session, username=username, actor="cli"), f"已启用用户 {username}")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="从标准输入读取新密码")
@db_option
def user_passwd(username: str, password_stdin: bool, db: str | None) -> None:
    """重置密码（例如管理员无法登录网页时）；该用户的登录会话随即失效。"""
    from baishitong.org import service as org

    password = sys.stdin.readline().rstrip("\n")

    def reset(session) -> None:
        user = org.get_user(session, username=username)
        org.update_user(session, username=username, display_name=user.display_name, role=user.role, unit_code=user.unit.code if user.unit else None, password=password, actor="cli")

    _change_user(db, reset, f"已重置用户 {username} 的密码，其登录会话已失效")


@user.command("token")
@click.argument("username")
@click.option("--name", default="integration", show_default=True, help="令牌名称（便于识别用途）")
@db_option
def user_token(username: str, name: str, db: str | None) -> None:
    """为系统对接创建接口令牌（只显示一次）。"""
    from baishitong.errors import DomainError
    from baishitong.org import service as org

    try:
        with database(db).session() as session:
            token = org.create_api_token(session, username=username, name=name, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(token)


@main.group()
def audit() -> None:
    """审计记录。"""


@audit.command("verify")
@db_option
def audit_verify(db: str | None) -> None:
    """校验审计记录的哈希链；如有记录被篡改，指出该行并以状态码 1 退出。"""
    from baishitong.audit import service as audit_service

    with database(db).session(write=False) as session:
        result = audit_service.verify(session)
    if result.ok:
        click.echo(f"审计链完整：共校验 {result.checked} 条记录")
        return
    click.echo(f"审计链被破坏：第 {result.broken_at} 条记录 — {result.reason}（此前 {result.checked} 条完好）", err=True)
    sys.exit(1)


@main.group()
def sla() -> None:
    """法定办理时限。"""


@sla.command("deadline")
@click.option("--start", required=True, help="开始时间（本地时间），如 \"2026-09-30 16:00\"")
@click.option("--working-days", type=float, default=None)
@click.option("--working-hours", type=float, default=None)
@click.option("--db", "db", default=None, help="使用该数据库中的节假日与工作时间；默认使用内置日历")
def sla_deadline(start: str, working_days: float | None, working_hours: float | None, db: str | None) -> None:
    """输出办理期限（ISO 8601）；该年份缺少工作日历数据时附注 provisional（暂估）。"""
    from datetime import datetime

    from baishitong.errors import DomainError
    from baishitong.sla import service as sla_service
    from baishitong.sla.calendar import BusinessCalendar

    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        raise click.BadParameter("时间格式应为 YYYY-MM-DD HH:MM", param_hint="--start") from None
    if db:
        with database(db).session(write=False) as session:
            calendar = sla_service.business_calendar(session)
    else:
        calendar = BusinessCalendar.from_chinese_calendar()
    try:
        deadline = sla_service.cli_deadline(start=begin, working_days=working_days, working_hours=working_hours, calendar=calendar)
    except DomainError as exc:
        raise click.UsageError(exc.message) from None
    click.echo(sla_service.deadline_text(deadline))


# Seconds waited between tries while the database cannot be reached at the worker's start (about a minute in all).
CATCH_UP_WAITS = (2, 4, 8, 15, 30)


def _catch_up(work) -> None:
    """The worker's first catch-up, tried again while the database is restarting or not up yet (the machine booting,
    `run` starting its worker alongside): the worker the web started would otherwise be gone for good, and no message
    or deadline check run until someone restarts it. A database still unreachable after that, or never set up, stops
    the worker with the Chinese error as before."""
    import time

    from baishitong.db import database_unavailable

    for wait in CATCH_UP_WAITS:
        try:
            return work()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            click.echo(f"数据库暂时无法访问，{wait} 秒后重试…", err=True)
            time.sleep(wait)
    return work()


@main.command()
@db_option
@click.option("--workers", default=2, show_default=True, type=int, help="并发执行的线程数")
@click.option("--notify-workers", default=2, show_default=True, type=click.IntRange(1), help="另行发送短信、微信消息的线程数")
def worker(db: str | None, workers: int, notify_workers: int) -> None:
    """运行后台任务进程（期限检查、消息通知、分拨模型任务）。"""
    from baishitong.logs import mask_personal_data
    from baishitong.runtime import limit_malloc_arenas

    limit_malloc_arenas()
    mask_personal_data()
    os.environ["BAISHITONG_DATABASE_URL"] = resolve_db(db)
    get_settings.cache_clear()
    from baishitong.jobs.periodic import run_periodic
    from baishitong.jobs.queue import NOTIFY, MainConsumer, get_database, get_huey
    from baishitong.jobs.service import relay

    # Catch up at once on what fell due while no worker ran; the minute ticks follow.
    _catch_up(lambda: (relay(get_database()), run_periodic(get_database())))
    # Messages on threads of their own, so a slow gateway holds up no other job. Started first: the main consumer's
    # signal handlers, set after, replace this one's; once it stops (Ctrl+C, TERM), so does this one. Its health
    # checks restart this one's dead threads too.
    messages = get_huey(NOTIFY).create_consumer(workers=notify_workers, periodic=False, worker_type="thread")
    consumer = MainConsumer(get_huey(), messages=messages, workers=workers, periodic=True, worker_type="thread")
    click.echo(f"百事通后台任务进程已启动（{workers} 个线程，另有 {notify_workers} 个发送消息，队列：{get_settings().queue_backend}）")
    messages.start()
    try:
        consumer.run()
    finally:
        messages.stop(graceful=True)


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def run(db: str | None, host: str, port: int) -> None:
    """启动网站和一个后台任务进程（`make run` 即执行此命令）。"""
    import subprocess

    import uvicorn

    from baishitong.runtime import die_with_parent, limit_malloc_arenas

    limit_malloc_arenas()
    os.environ["BAISHITONG_DATABASE_URL"] = resolve_db(db)
    default_public_url(host, port)
    get_settings.cache_clear()
    worker_process = subprocess.Popen([sys.executable, "-m", "baishitong", "worker", "--workers", "2"], preexec_fn=die_with_parent)
    click.echo(f"百事通已启动：http://{host}:{port}/  （后台任务进程 PID {worker_process.pid}）")
    try:
        uvicorn.run("baishitong.app:create_app", factory=True, host=host, port=port, log_level="info")
    finally:
        worker_process.terminate()
        worker_process.wait(10)


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
