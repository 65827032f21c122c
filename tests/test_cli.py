"""The `baishitong` command as an administrator uses it."""

import pytest
from click.testing import CliRunner

from baishitong.cli import main
from tests.conftest import create_fresh_database, drop_fresh_database


def test_init_is_idempotent_and_user_commands_work(tmp_path):
    url = create_fresh_database(tmp_path)
    runner = CliRunner()
    try:
        first = runner.invoke(main, ["init", "--db", url])
        assert first.exit_code == 0, first.output
        assert "载入单位：257" in first.output and "载入区域：216" in first.output
        again = runner.invoke(main, ["init", "--db", url])
        assert again.exit_code == 0 and "载入单位" not in again.output

        added = runner.invoke(main, ["user", "add", "liang", "--role", "handler", "--unit", "ronggui", "--password-stdin", "--db", url], input="s3cret-pass\n")
        assert added.exit_code == 0, added.output
        no_unit = runner.invoke(main, ["user", "add", "lone", "--role", "handler", "--password-stdin", "--db", url], input="s3cret-pass\n")
        assert no_unit.exit_code != 0 and "必须指定所属单位" in no_unit.output
        weak = runner.invoke(main, ["user", "add", "weak", "--role", "operator", "--password-stdin", "--db", url], input="123\n")
        assert weak.exit_code != 0 and "密码至少 8 位" in weak.output

        listed = runner.invoke(main, ["user", "list", "--db", url])
        assert "liang" in listed.output and "ronggui" in listed.output and "启用" in listed.output
        disabled = runner.invoke(main, ["user", "disable", "liang", "--db", url])
        assert disabled.exit_code == 0
        assert "停用" in runner.invoke(main, ["user", "list", "--db", url]).output
        missing = runner.invoke(main, ["user", "disable", "nobody", "--db", url])
        assert missing.exit_code != 0 and "不存在" in missing.output
        assert runner.invoke(main, ["user", "enable", "liang", "--db", url]).exit_code == 0
        assert "启用" in runner.invoke(main, ["user", "list", "--db", url]).output
        reset = runner.invoke(main, ["user", "passwd", "liang", "--password-stdin", "--db", url], input="another-pass\n")
        assert reset.exit_code == 0 and "已重置" in reset.output
        assert "密码至少 8 位" in runner.invoke(main, ["user", "passwd", "liang", "--password-stdin", "--db", url], input="short\n").output
    finally:
        drop_fresh_database(url)


def test_sla_deadline_command_crosses_national_day():
    runner = CliRunner()
    result = runner.invoke(main, ["sla", "deadline", "--start", "2026-09-30 16:00", "--working-days", "2"])
    assert result.output.strip() == "2026-10-09T16:00"
    hours = runner.invoke(main, ["sla", "deadline", "--start", "2026-09-30 16:00", "--working-hours", "2"])
    assert hours.output.strip() == "2026-10-08T09:00"
    provisional = runner.invoke(main, ["sla", "deadline", "--start", "2030-06-03 09:00", "--working-days", "1"])
    assert provisional.output.strip() == "2030-06-04T09:00 provisional"


def test_init_demo_loads_a_working_shunde_demo(tmp_path):
    """What `make run` shows: orders in every state, a trained router, knowledge base, service points."""
    from sqlalchemy import func, select

    from baishitong.audit import service as audit
    from baishitong.db import Database
    from baishitong.knowledge.models import Article
    from baishitong.points.models import ServicePoint
    from baishitong.routing.models import RouterModel
    from baishitong.tickets.models import Ticket

    url = create_fresh_database(tmp_path)
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["init", "--db", url, "--demo"])
        assert result.exit_code == 0, result.output
        assert "演示工单：360 件" in result.output and "demo12345" in result.output and "operator1" in result.output
        db = Database(url)
        with db.session(write=False) as session:
            statuses = dict(session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
            assert set(statuses) >= {"registered", "dispatched", "signed", "returned", "replied", "callback", "closed", "archived", "voided", "merged"}
            model = session.scalar(select(RouterModel).where(RouterModel.active.is_(True)))
            # The demo's router learnt the sub-categories it has enough closed orders of, and says how it scores at level 1.
            assert {len(code) for code in model.labels} == {2, 4}
            assert f"{model.version}（由演示的已办结工单按问题分类训练，工单足够多的细类单独学习，按一级分类交叉验证 macro-F1 {model.metrics['cv_macro_f1_l1']:.3f}）" in result.output
            assert session.scalar(select(func.count()).select_from(Article)) >= 30
            assert session.scalar(select(func.count()).select_from(ServicePoint)) >= 235
            assert audit.verify(session).ok
            # Every timeline entry names a person (a user's display name), not a made-up actor id.
            from baishitong.org.models import User
            from baishitong.tickets.models import TicketEvent

            actors = set(session.scalars(select(TicketEvent.actor).distinct())) - {"system", "requester"}
            assert actors <= set(session.scalars(select(User.username)))
            # Handlers phone requesters, mostly in time, so the league table's 按时联系率 ranks something.
            on_time = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.contacted_at <= Ticket.contact_due))
            late = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.contacted_at > Ticket.contact_due))
            assert on_time > 4 * late > 0
        again = runner.invoke(main, ["init", "--db", url, "--demo"])
        assert again.exit_code == 0 and "演示工单" not in again.output
        db.dispose()
    finally:
        drop_fresh_database(url)


def test_usage_mistakes_and_help_read_in_chinese(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["router", "train"])
    assert missing.exit_code == 2 and "错误：缺少选项 '--data'" in missing.output and "router train --help' 查看用法" in missing.output
    unknown = runner.invoke(main, ["routr"])
    assert unknown.exit_code == 2 and "错误：没有命令 'routr'" in unknown.output
    no_file = runner.invoke(main, ["router", "predict", "--data", str(tmp_path / "none.csv"), "--text-cols", "a", "--out", str(tmp_path / "out.csv")])
    assert no_file.exit_code == 2 and "不存在" in no_file.output and "Error" not in no_file.output
    bad_choice = runner.invoke(main, ["user", "add", "x1", "--role", "boss", "--password-stdin"], input="s3cret-pass\n")
    assert bad_choice.exit_code == 2 and "'--role' 的值无效" in bad_choice.output
    for command in ([], ["user"], ["kb"], ["router"], ["points"], ["router", "train"]):
        shown = runner.invoke(main, [*command, "--help"]).output
        assert "用法：" in shown and "显示本帮助并退出" in shown
        assert "Usage" not in shown and "Show this message" not in shown


def test_sla_deadline_refuses_what_it_cannot_compute_in_chinese():
    """Year 9999, a negative, NaN or huge limit, and a start with an offset each ended in a traceback; two limits at
    once quietly used the days."""
    runner = CliRunner()
    cases = {
        ("--start", "9999-12-31 10:00", "--working-days", "2"): "2000 年至 2100 年",
        ("--start", "0001-01-01 10:00", "--working-days", "2"): "2000 年至 2100 年",
        ("--start", "2026-09-30 16:00", "--working-days", "-2"): "--working-days 须在 0 至 365 之间",
        ("--start", "2026-09-30 16:00", "--working-days", "nan"): "--working-days 须在 0 至 365 之间",
        ("--start", "2026-09-30 16:00", "--working-hours", "1e12"): "--working-hours 须在",
        ("--start", "2026-09-30 16:00", "--working-days", "2", "--working-hours", "2"): "只能指定其中一个",
    }
    for args, message in cases.items():
        result = runner.invoke(main, ["sla", "deadline", *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    # An offset is read in local time: 16:00 in Beijing is 08:00 UTC.
    utc = runner.invoke(main, ["sla", "deadline", "--start", "2026-09-30 08:00+00:00", "--working-days", "2"])
    assert utc.exit_code == 0 and utc.output.strip() == "2026-10-09T16:00"


def test_a_database_or_file_the_environment_gets_wrong_is_told_in_chinese(tmp_path, database_url):
    """Every command, not a traceback: a misspelt URL, a database not initialised or not running, a file that is
    missing, unwritable, or not UTF-8."""
    runner = CliRunner()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    queries = tmp_path / "queries.csv"
    queries.write_bytes("id,query\n1,路灯不亮\n".encode("gb18030"))
    cases = {
        ("router", "models", "--db", "bogus://x"): "数据库 URL 无效",
        ("audit", "verify", "--db", empty): "数据库尚未初始化",
        ("router", "models", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/none"): "无法访问数据库",
        ("kb", "export", "--out", str(tmp_path / "no" / "such" / "dir" / "kb.csv"), "--db", database_url): "文件或目录不存在",
        ("kb", "search", "--queries", str(queries), "--out", str(tmp_path / "o.csv"), "--db", database_url): "不是 UTF-8 编码",
    }
    for args, message in cases.items():
        result = runner.invoke(main, list(args))
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert isinstance(result.exception, SystemExit), args


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_port_that_cannot_exist_is_refused_before_anything_starts(command):
    result = CliRunner().invoke(main, [command, "--port", "99999999"])
    assert result.exit_code == 2 and "'--port' 的值无效" in result.output and "1<=x<=65535" in result.output
