"""What a screen reader's landmark and heading lists show, read from the rendered pages: everything on a citizen
page is inside a landmark, there is one banner, the staff logo link says what it shows, headings do not skip a
level, and the banner's small text stays readable on its gradient."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from baishitong.knowledge import service as kb
from tests.conftest import actor
from tests.enterprise.factories import make_policy
from tests.web.test_pages import login

CSS = Path(__file__).parents[2] / "src" / "baishitong" / "static" / "css" / "app.css"
LANDMARKS = {"header", "nav", "main", "footer", "aside"}
LANDMARK_ROLES = {"banner", "navigation", "main", "contentinfo", "complementary", "region", "search"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict, parent: "Element | None") -> None:
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class Tree(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = self.current = Element("#document", {}, None)
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def body(html: str) -> Element:
    return next(e for e in Tree(html).root.walk() if e.tag == "body")


def outside_landmarks(html: str) -> list[str]:
    """The body's own children a screen reader's landmark list misses, as axe's region rule counts them:
    the skip link, live regions (read out when they change) and what is not shown are no content of their own."""
    missed = []
    for child in body(html).children:
        attrs = child.attrs
        if child.tag in LANDMARKS or attrs.get("role") in LANDMARK_ROLES | {"alert", "status", "log"}:
            continue
        if child.tag in {"script", "style", "template"} or "skip-link" in (attrs.get("class") or "") or attrs.get("aria-live") in {"polite", "assertive"}:
            continue
        if "hidden" in attrs or not (child.all_text().strip() or any(e.tag in {"a", "button", "input", "img"} for e in child.walk())):
            continue
        missed.append(f"<{child.tag} class={attrs.get('class')!r}>")
    return missed


def banners(html: str) -> int:
    """<header> is the page's banner unless it sits inside an article, aside, main, nav or (plain) section."""
    count = 0
    for element in Tree(html).root.walk():
        if element.tag != "header" and element.attrs.get("role") != "banner":
            continue
        node, scoped = element.parent, False
        while node is not None:
            if node.tag in {"article", "aside", "main", "nav"} or (node.tag == "section" and not node.attrs.get("role")):
                scoped = True
                break
            node = node.parent
        count += not scoped
    return count


@pytest.mark.parametrize("path", ["/", "/track", "/kb", "/kb/KB001", "/points", "/points?near=容桂高黎社区", "/enterprise", "/items", "/staff/login", "/submit"])
def test_everything_on_a_citizen_page_is_inside_a_landmark(client, demo, path):
    page = client.get(path)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert outside_landmarks(page.text) == [], "the 12345 strip and the 问政务君 button are found by landmark too"
    assert banners(page.text) == 1


def test_the_chat_panel_adds_no_second_banner(client, demo):
    home = client.get("/").text
    panel = client.get("/assistant/panel", headers={"HX-Request": "true"}).text
    assert banners(home) == 1 and banners(panel) == 0, "a <header> in the dialog would be a second page banner"
    assert '<h2 id="chat-panel-title">问政务君</h2>' in panel


def test_the_staff_logo_link_is_named_with_what_it_shows(web):
    """Voice control users say what they see (百事通 12345 接诉即办工作台): the link's name must contain it."""
    login(web, "t_operator")
    page = web.get("/staff/console").text
    brand = next(e for e in body(page).walk() if e.tag == "a" and "brand" in (e.attrs.get("class") or "").split())
    shown = " ".join(" ".join(e.text.split()) for e in brand.walk() if e.text.strip())  # 百事通 and its line below
    assert shown == "百事通 12345 接诉即办工作台"
    assert shown in (brand.attrs.get("aria-label") or shown) and "首页" in brand.attrs["aria-label"]


def heading_levels(html: str) -> list[int]:
    main = next(e for e in Tree(html).root.walk() if e.tag == "main")
    return [int(e.tag[1]) for e in main.walk() if re.fullmatch(r"h[1-6]", e.tag)]


def assert_no_skipped_level(levels: list[int]) -> None:
    assert levels and levels[0] == 1
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"h{before} then h{after}: {levels}"


def test_a_policy_body_starting_at_a_subheading_follows_the_page_title(web, session):
    policy = make_policy(session, title="北滘智能制造扶持", body="## 支持内容\n\n- 智能装备\n\n### 申报材料\n\n营业执照。")
    page = web.get(f"/enterprise/policies/{policy.id}")
    assert "<h2>支持内容</h2>" in page.text and "<h3>申报材料</h3>" in page.text
    assert_no_skipped_level(heading_levels(page.text))


def test_an_article_body_starting_at_a_subheading_follows_the_page_title(web, session):
    kb.create_article(session, actor=actor(session, "t_admin"), external_id="HD01", title="犬只登记", body="### 材料\n\n居民身份证。\n\n#### 费用\n\n不收费。", status="published")
    page = web.get("/kb/HD01")
    assert "<h2>材料</h2>" in page.text and "<h3>费用</h3>" in page.text
    assert_no_skipped_level(heading_levels(page.text))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_home_banners_text_is_readable_on_every_part_of_its_gradient():
    css = CSS.read_text("utf-8")
    variables = dict(re.findall(r"(--c-[\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    gradient = re.search(r"\.hero \{\s*background: linear-gradient\(([^;]+)\);", css).group(1)
    stops = [variables[name] if name else colour for name, colour in re.findall(r"var\((--[\w-]+)\)|(#[0-9a-fA-F]{6})", gradient)]
    text = re.search(r"\.hero p \{ color: (#[0-9a-fA-F]{6}); \}", css).group(1)
    assert len(stops) == 3
    for stop in stops:
        assert contrast(text, stop) >= 4.5, (text, stop, round(contrast(text, stop), 2))
