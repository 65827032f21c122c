#!/usr/bin/env python3
"""渲染样式指南：templates/styleguide.html → var/styleguide*.html，并（如有 chromium）截图。

用法：
    .venv/bin/python scripts/render_styleguide.py            # 渲染 + 截图
    .venv/bin/python scripts/render_styleguide.py --no-shot  # 只渲染 HTML

输出：
    var/styleguide.html          工作台布局（base_staff）
    var/styleguide_public.html   公众布局（base_public）
    var/styleguide.png           1280 宽桌面截图（工作台）
    var/styleguide_public.png    1280 宽桌面截图（公众）
    var/styleguide_mobile.png    390 宽手机截图（公众）
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "src" / "baishitong"
TEMPLATES = PKG / "templates"
STATIC = PKG / "static"
OUT = ROOT / "var"
CHROMIUM = Path("/usr/bin/chromium")

TZ = dt.timezone(dt.timedelta(hours=8))


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(TZ) + delta).replace(microsecond=0).isoformat()


def sample_context() -> dict:
    statuses = [
        ("registered", "已登记"),
        ("dispatched", "已派单"),
        ("signed", "已签收"),
        ("replied", "已答复"),
        ("callback", "待回访"),
        ("closed", "已办结"),
        ("archived", "已归档"),
        ("returned", "已退回"),
        ("extension", "申请延期"),
        ("voided", "已作废"),
        ("merged", "已合并"),
    ]
    towns = [(t, t) for t in ["大良街道", "容桂街道", "伦教街道", "勒流街道", "陈村镇", "北滘镇", "乐从镇", "龙江镇", "杏坛镇", "均安镇"]]
    h = dt.timedelta(hours=1)
    tickets = [
        dict(no="SD20240501-0012", title="小区门口人行道长期被摊贩占用", addr="大良街道 德民路 12 号", town="大良街道", unit="大良街道城市管理办", status="dispatched", status_label="已派单", deadline=_iso(51 * h), overdue=False),
        dict(no="SD20240501-0009", title="夜间工地施工噪音扰民", addr="容桂街道 桂洲大道中 88 号", town="容桂街道", unit="区住建局", status="signed", status_label="已签收", deadline=_iso(5 * h + dt.timedelta(minutes=20)), overdue=False),
        dict(no="SD20240430-0147", title="路灯损坏多日未修复", addr="北滘镇 君兰社区 跃进路", town="北滘镇", unit="北滘镇公共服务办", status="extension", status_label="申请延期", deadline=_iso(-5 * h), overdue=True),
        dict(no="SD20240430-0133", title="咨询灵活就业人员社保缴费标准", addr="—", town="乐从镇", unit="区人社局", status="replied", status_label="已答复", deadline=_iso(3 * 24 * h), overdue=False),
        dict(no="SD20240429-0088", title="河涌水面漂浮垃圾较多", addr="杏坛镇 马齐村 河涌段", town="杏坛镇", unit="杏坛镇农业农村办", status="returned", status_label="已退回", deadline=_iso(-30 * h), overdue=True),
    ]
    events = [
        dict(at="2024-05-02 09:41", actor="大良街道城市管理办 · 李工", label="签收", note=None),
        dict(at="2024-05-01 16:20", actor="区 12345 热线中心 · 王敏", label="派单", note="请大良街道城市管理办于 3 个工作日内处理并答复市民。", tone=None),
        dict(at="2024-05-01 15:02", actor="市民（网页）", label="登记", note="小区门口人行道长期被摊贩占用，行人需绕行机动车道，存在安全隐患。"),
    ]
    kv_rows = [
        ("工单号", "SD20240501-0012"),
        ("诉求类型", "投诉"),
        ("反映人", "陈女士（138****0013）"),
        ("事发地址", "大良街道 新城区 德民路 12 号"),
        ("承办单位", "大良街道城市管理办"),
        ("受理时间", "2024-05-01 15:02"),
        ("回访结果", None),
    ]
    staff_nav = [
        dict(group="工单办理"),
        dict(href="/staff", label="工作台首页"),
        dict(href="/staff/inbox", label="待办工单", badge=23),
        dict(href="/staff/tickets", label="全部工单"),
        dict(href="/staff/callback", label="回访管理", badge=6),
        dict(group="知识与数据"),
        dict(href="/staff/kb", label="知识库维护"),
        dict(href="/staff/reports", label="统计报表"),
        dict(group="系统"),
        dict(href="/staff/styleguide", label="样式指南"),
        dict(href="/staff/users", label="用户管理"),
    ]
    return dict(
        csrf_token="sample-csrf-token",
        messages=[("success", "工单 SD20240501-0012 已派发至大良街道城市管理办。")],
        user=dict(display_name="王敏", role_label="派单员", unit_name="区 12345 热线中心"),
        staff_nav=staff_nav,
        statuses=statuses,
        towns=towns,
        kinds=[("complaint", "投诉"), ("help", "求助"), ("advice", "建议"), ("consult", "咨询"), ("praise", "表扬")],
        tickets=tickets,
        events=events,
        kv_rows=kv_rows,
        sample=dict(d_ok=_iso(2 * 24 * h + 3 * h + dt.timedelta(minutes=5)), d_warn=_iso(5 * h + dt.timedelta(minutes=30)), d_over=_iso(-5 * h - dt.timedelta(minutes=5))),
        page_url=lambda p: f"?page={p}",
    )


def render(layout: str, nav: str) -> str:
    # StrictUndefined：保证模板在严格模式下也能渲染（缺字段时立即报错）
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    ctx = sample_context()
    ctx.update(layout=layout, nav=nav)
    html = env.get_template("styleguide.html").render(**ctx)
    # 让 /static/ 指向本地文件，便于 file:// 直接打开与截图
    return html.replace('"/static/', '"' + STATIC.as_uri() + "/")


def wait_for_chromium(timeout: float) -> bool:
    end = time.time() + timeout
    while True:
        if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
            return True
        if time.time() >= end:
            return False
        print("等待 chromium 安装完成…", file=sys.stderr)
        time.sleep(10)


def screenshot(html_path: Path, png_path: Path, width: int, height: int) -> None:
    profile = tempfile.mkdtemp(prefix="bst-chromium-")
    try:
        cmd = [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", "--lang=zh-CN", f"--user-data-dir={profile}",
            "--virtual-time-budget=3000",
            f"--screenshot={png_path}", f"--window-size={width},{height}",
            html_path.as_uri(),
        ]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or not png_path.exists():
            print(r.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"截图失败：{png_path}")
        print(f"截图：{png_path} ({width}×{height})")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-shot", action="store_true", help="只渲染 HTML，不截图")
    ap.add_argument("--wait", type=float, default=600, help="等待 chromium 出现的最长秒数（默认 600）")
    ap.add_argument("--height", type=int, default=2400, help="桌面截图高度")
    ap.add_argument("--mobile-height", type=int, default=3200, help="手机截图高度")
    args = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    staff = OUT / "styleguide.html"
    public = OUT / "styleguide_public.html"
    staff.write_text(render("base_staff.html", "/staff/styleguide"), encoding="utf-8")
    public.write_text(render("base_public.html", "/submit"), encoding="utf-8")
    print(f"已渲染：{staff}\n已渲染：{public}")

    if args.no_shot:
        return 0
    if not wait_for_chromium(args.wait):
        print("未找到 /usr/bin/chromium，跳过截图。", file=sys.stderr)
        return 0
    screenshot(staff, OUT / "styleguide.png", 1280, args.height)
    screenshot(public, OUT / "styleguide_public.png", 1280, args.height)
    screenshot(public, OUT / "styleguide_mobile.png", 390, args.mobile_height)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
