"""常用答复语 page and the reply forms: admin and unit admin keep phrases, handlers use them."""

import re

from sqlalchemy import select

from baishitong.phrases import service as phrases
from baishitong.phrases.models import ReplyPhrase
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token



def post(client, action: str, data: dict):
    page = client.get("/staff/phrases")
    return client.post(action, data={"csrf_token": token(page.text), **data}, follow_redirects=False)


def test_admin_adds_edits_and_disables_a_shared_phrase(web, session):
    login(web, "t_admin")
    page = web.get("/staff/phrases")
    assert page.status_code == 200 and 'href="/staff/phrases"' in page.text and "全部单位通用" in page.text
    assert post(web, "/staff/phrases", {"title": "结束语", "body": "感谢您对我区工作的支持。", "unit": ""}).status_code == 303
    phrase = session.scalars(select(ReplyPhrase).where(ReplyPhrase.title == "结束语")).one()
    assert phrase.unit is None and phrase.created_by == "t_admin"
    assert "已保存常用答复语“结束语”" in web.get("/staff/phrases").text

    edit = web.get(f"/staff/phrases?edit={phrase.id}")
    assert "修改常用答复语" in edit.text and "感谢您对我区工作的支持。" in edit.text
    assert post(web, "/staff/phrases", {"id": str(phrase.id), "title": "结束语", "body": "感谢您的监督。", "unit": "ronggui"}).status_code == 303
    assert phrase.body == "感谢您的监督。" and phrase.unit.code == "ronggui"

    assert post(web, f"/staff/phrases/{phrase.id}/disable", {}).status_code == 303
    assert not phrase.active
    listing = web.get("/staff/phrases").text
    assert "已停用" in listing and f'action="/staff/phrases/{phrase.id}/enable"' in listing


def test_two_tabs_editing_one_phrase_do_not_overwrite_each_other(web, session):
    login(web, "t_admin")
    post(web, "/staff/phrases", {"title": "路灯已修复", "body": "路灯已修复。", "unit": ""})
    phrase = session.scalars(select(ReplyPhrase).where(ReplyPhrase.title == "路灯已修复")).one()
    version = re.search(r'name="version" value="(\d+)"', web.get(f"/staff/phrases?edit={phrase.id}").text).group(1)
    tab_a = {"id": str(phrase.id), "version": version, "title": "路灯已修复", "body": "路灯已于当日修复。", "unit": ""}
    tab_b = {"id": str(phrase.id), "version": version, "title": "路灯已修复", "body": "路灯已修复，感谢监督。", "unit": ""}
    assert post(web, "/staff/phrases", tab_a).status_code == 303
    refused = post(web, "/staff/phrases", tab_b)
    assert refused.status_code == 409 and "已被修改（可能是您在其他窗口的操作或他人的操作）" in refused.text and "路灯已修复，感谢监督。" in refused.text
    session.refresh(phrase)
    assert phrase.body == "路灯已于当日修复。"


def test_a_refused_phrase_comes_back_with_what_was_typed(web, session):
    login(web, "t_admin")
    response = post(web, "/staff/phrases", {"title": "标" * 41, "body": "这段内容不应丢失", "unit": "ronggui"})
    assert response.status_code == 422
    assert "标题不能超过 40 个字" in response.text and "这段内容不应丢失" in response.text
    assert re.search(r'<option value="ronggui" selected', response.text)
    assert session.scalar(select(ReplyPhrase.id).limit(1)) is None


def test_unit_admin_keeps_their_units_phrases_and_cannot_touch_shared_ones(web, session):
    admin = actor(session, "t_admin")
    shared = phrases.create(session, actor=admin, title="结束语", body="感谢您对我区工作的支持。", unit_code=None)
    other = phrases.create(session, actor=admin, title="大良占道", body="大良街道已整治。", unit_code="daliang")
    login(web, "t_ronggui_admin")
    page = web.get("/staff/phrases")
    assert page.status_code == 200 and "常用答复语" in page.text
    assert "结束语" in page.text and "由系统管理员维护" in page.text and "大良占道" not in page.text
    assert 'name="unit"' not in page.text

    # The unit is the admin's own whatever the form says.
    assert post(web, "/staff/phrases", {"title": "路灯已修复", "body": "已更换灯具，恢复照明。", "unit": "daliang"}).status_code == 303
    mine = session.scalars(select(ReplyPhrase).where(ReplyPhrase.title == "路灯已修复")).one()
    assert mine.unit.code == "ronggui"
    assert post(web, "/staff/phrases", {"id": str(mine.id), "title": "路灯已修复", "body": "已更换灯具。"}).status_code == 303
    assert mine.body == "已更换灯具。"
    assert post(web, f"/staff/phrases/{mine.id}/disable", {}).status_code == 303 and not mine.active

    refused = post(web, "/staff/phrases", {"id": str(shared.id), "title": "改掉", "body": "不允许"})
    assert refused.status_code == 403 and "只能维护本单位" in refused.text and "不允许" in refused.text
    assert post(web, f"/staff/phrases/{other.id}/disable", {}).status_code == 303
    assert other.active and shared.title == "结束语"


def test_handler_cannot_open_the_phrases_page(web):
    login(web, "t_ronggui")
    assert web.get("/staff/phrases").status_code == 403
    assert 'href="/staff/phrases"' not in web.get("/staff/unit").text


def test_the_reply_form_offers_the_handlers_phrases(web, session):
    admin = actor(session, "t_admin")
    phrases.create(session, actor=admin, title="路灯已修复", body="容桂街道已安排维修，路灯恢复照明。", unit_code="ronggui")
    phrases.create(session, actor=admin, title="结束语", body="感谢您对我区工作的支持。", unit_code=None)
    phrases.create(session, actor=admin, title="大良占道", body="大良街道已整治。", unit_code="daliang")
    off = phrases.create(session, actor=admin, title="旧说法", body="已停用的说法", unit_code=None)
    phrases.set_active(session, actor=admin, phrase_id=off.id, active=False)
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    for path in (f"/staff/tickets/{ticket.number}", "/staff/unit?tab=signed"):
        html = web.get(path).text
        # The unit's list may hold other signed orders (left by tests that commit): take this one's form.
        assert f'id="a-{ticket.number}-reply-content"' in html, path
        form = html[html.rindex('data-action-form="reply"', 0, html.index(f'id="a-{ticket.number}-reply-content"')):]
        form = form[: form.index("</form>")]
        assert "插入常用答复语" in form and f'data-phrase-insert="a-{ticket.number}-reply-content"' in form, path
        assert 'data-body="容桂街道已安排维修，路灯恢复照明。">路灯已修复</option>' in form
        assert "结束语" in form and "大良占道" not in form and "旧说法" not in form
        assert form.index('<optgroup label="本单位">') < form.index('<optgroup label="全部单位通用">')


def test_a_community_handler_s_picker_names_the_town_s_group(web, session):
    admin = actor(session, "t_admin")
    phrases.create(session, actor=admin, title="高黎社区已核实", body="高黎社区已上门核实。", unit_code="440606006023")
    phrases.create(session, actor=admin, title="路灯已修复", body="容桂街道已安排维修。", unit_code="ronggui")
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="subdispatch", actor=actor(session, "t_ronggui"), body=schemas.UnitIn(version=ticket.version, unit="440606006023"))
    login(web, "t_gaoli")
    html = web.get(f"/staff/tickets/{ticket.number}").text
    form = html[html.index('data-action-form="reply"'):]
    form = form[: form.index("</form>")]
    assert form.index('<optgroup label="本单位">') < form.index("高黎社区已核实") < form.index('<optgroup label="容桂街道">') < form.index("路灯已修复")




def test_the_console_answer_offers_the_shared_phrases(web, session):
    """直接答复办结 at the console is the operator's reply too: the same picker as on the order's 直接办结 form."""
    admin = actor(session, "t_admin")
    phrases.create(session, actor=admin, title="结束语", body="感谢您对我区工作的支持。", unit_code=None)
    phrases.create(session, actor=admin, title="大良占道", body="大良街道已整治。", unit_code="daliang")
    login(web, "t_operator")
    page = web.get("/staff/console").text
    form = page[page.index('id="intake-form"') : page.index("</form>", page.index('id="intake-form"'))]
    assert 'data-phrase-insert="f-answer"' in form and 'data-body="感谢您对我区工作的支持。">结束语</option>' in form
    assert "大良占道" not in form, "a unit's own phrases are not the centre's"
