"""惠企政策 pages: the GET profile form, the detail page, 我要咨询 into 我要反映, and the admin page."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from baishitong.enterprise import service
from baishitong.enterprise.models import FinancingProduct, Policy
from baishitong.tickets.models import Ticket
from tests.enterprise.factories import BEIJIAO, make_policy, make_product
from tests.web.test_pages import login, submit_form, token

PROFILE = "industry=manufacturing&size=small&town=440606102&year=2018"



def test_home_links_to_the_enterprise_page(web):
    assert 'href="/enterprise"' in web.get("/").text


def test_the_profile_form_works_without_js_and_shows_reasons(web, session):
    make_policy(session, title="北滘智能制造扶持", industries=["manufacturing"], sizes=["small"], towns=[BEIJIAO], apply_to=service.today() + timedelta(days=2))
    make_policy(session, title="高企奖励", tags=["high_tech"])
    make_policy(session, title="草稿政策", status="draft")
    make_product(session, name="小微快贷", sizes=["small"])
    blank = web.get("/enterprise")
    assert blank.status_code == 200 and 'method="get" action="/enterprise#results"' in blank.text
    assert "北滘智能制造扶持" in blank.text and "草稿政策" not in blank.text

    page = web.get(f"/enterprise?{PROFILE}&tags=tech_sme&credit_code=91350100M000100Y43")
    assert page.status_code == 200
    text = page.text
    assert text.index("北滘智能制造扶持") < text.index("高企奖励")
    assert "符合：制造业、小型企业、位于北滘镇" in text and "即将截止：剩 2 天" in text
    assert "差一项：需具备高新技术企业资质" in text and "草稿政策" not in text
    assert "小微快贷" in text and "校验通过" in text
    assert 'value="tech_sme" checked' in text


def test_a_wrong_profile_comes_back_with_messages_and_what_was_typed(web):
    page = web.get("/enterprise?industry=manufacturing&size=&town=440606102&year=18x&name=顺德某某电器&credit_code=91350100M000100Y44")
    assert page.status_code == 422
    assert "请选择企业规模" in page.text and "请填写成立年份" in page.text and "校验位不正确" in page.text
    summary = page.text[page.text.index('id="error-summary"') :].split("</ul>")[0]
    assert re.findall(r'<a href="#([\w-]+)">', summary) == ["f-size", "f-year", "f-credit_code"]
    assert 'value="顺德某某电器"' in page.text and 'value="91350100M000100Y44"' in page.text


def test_an_empty_profile_names_every_missing_field_at_once(web):
    """查找适合的政策 on an empty form: 所在镇街 is listed with the others, not found missing only after they are put right."""
    page = web.get("/enterprise?industry=&size=&town=&year=&name=&credit_code=")
    assert page.status_code == 422
    summary = page.text[page.text.index('id="error-summary"') :].split("</ul>")[0]
    assert re.findall(r'<a href="#([\w-]+)">', summary) == ["f-industry", "f-size", "f-town", "f-year"]
    assert "请选择企业所在镇街" in summary
    unknown = web.get("/enterprise?industry=manufacturing&size=&town=999999&year=2018")
    summary = unknown.text[unknown.text.index('id="error-summary"') :].split("</ul>")[0]
    assert re.findall(r'<a href="#([\w-]+)">', summary) == ["f-size", "f-town"]


def test_the_detail_page_explains_the_fit_and_offers_a_prefilled_consultation(web, session):
    policy = make_policy(session, title="北滘智能制造扶持", body="## 支持对象\n\n区内**制造业**企业。", industries=["manufacturing"], tags=["high_tech", "specialised"])
    page = web.get(f"/enterprise/policies/{policy.id}?{PROFILE}&name=顺德某某电器&credit_code=91350100M000100Y43")
    assert page.status_code == 200
    assert "<strong>制造业</strong>" in page.text and "高新技术企业、专精特新（具备其一即可）" in page.text
    assert "差一项：需具备高新技术企业或专精特新资质" in page.text
    consult = html.unescape(re.search(r'href="(/submit\?[^"]+)"[^>]*id="consult"', page.text).group(1))
    query = parse_qs(urlsplit(consult).query)
    assert query["type"] == ["咨询"] and query["channel"] == ["enterprise"] and query["region"] == [BEIJIAO]
    assert "北滘智能制造扶持" in query["content"][0] and "顺德某某电器" in query["content"][0]
    assert "91350100M000100Y43" not in consult

    form = web.get(consult)
    assert 'name="channel" value="enterprise"' in form.text and "企业诉求" in form.text
    assert re.search(r'value="咨询" checked', form.text) and '<option value="440606102" selected' in form.text
    data = submit_form(web, type="咨询", channel="enterprise", town=BEIJIAO, content=query["content"][0])
    done = web.post("/submit", data=data, follow_redirects=False)
    assert done.status_code == 303
    number = done.headers["location"].rsplit("/", 1)[-1]
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    assert (ticket.channel, ticket.type) == ("enterprise", "咨询")
    assert web.get(done.headers["location"]).status_code == 200


def test_a_public_form_cannot_claim_another_channel(web, session):
    assert 'name="channel"' not in web.get("/submit?channel=hotline").text
    done = web.post("/submit", data=submit_form(web, channel="hotline"), follow_redirects=False)
    number = done.headers["location"].rsplit("/", 1)[-1]
    assert session.scalar(select(Ticket).where(Ticket.number == number)).channel == "web"


def test_unpublished_policies_have_no_public_page(web, session):
    draft = make_policy(session, status="draft")
    assert web.get(f"/enterprise/policies/{draft.id}").status_code == 404
    product = make_product(session, amount_max=300)
    page = web.get(f"/enterprise/products/{product.id}?{PROFILE}")
    assert page.status_code == 200 and "最高300万元" in page.text and "面向全区各类企业" in page.text


def test_a_products_contact_number_is_one_tap_to_call(web, session):
    """请直接联系机构办理: on a phone the number in 联系方式 dials, as a service point's does."""
    product = make_product(session, contact="普惠金融部 0757-22300002，客户经理 13800138000 <陈>")
    page = web.get(f"/enterprise/products/{product.id}").text
    assert '<td>普惠金融部 <a href="tel:075722300002">0757-22300002</a>，客户经理 <a href="tel:13800138000">13800138000</a> &lt;陈&gt;</td>' in page


def test_admin_adds_edits_and_retires_policies_and_products(web, session):
    login(web, "t_admin")
    page = web.get("/staff/enterprise")
    assert page.status_code == 200 and '<a href="/staff/enterprise" aria-current="page"><span>惠企政策</span>' in page.text
    form = {"csrf_token": token(page.text), "title": "家电企业出海补贴", "unit": "SWUJ", "summary": "支持家电企业参加境外展会。", "benefit": "最高10万元", "body": "", "apply_from": "", "apply_to": "", "min_years": "0", "status": "published", "industries": ["appliances"], "tags": ["foreign_trade"]}
    assert web.post("/staff/enterprise/policies", data=form, follow_redirects=False).status_code == 303
    policy = session.scalars(select(Policy).where(Policy.title == "家电企业出海补贴")).one()
    assert policy.industries == ["appliances"] and policy.unit.code == "SWUJ" and policy.apply_to is None

    edit = web.get(f"/staff/enterprise?policy={policy.id}")
    assert "修改政策" in edit.text and 'value="appliances" checked' in edit.text
    assert web.post("/staff/enterprise/policies", data={**form, "id": str(policy.id), "towns": [BEIJIAO]}, follow_redirects=False).status_code == 303
    assert policy.towns == [BEIJIAO]
    assert web.post(f"/staff/enterprise/policies/{policy.id}/retire", data={"csrf_token": form["csrf_token"]}, follow_redirects=False).status_code == 303
    assert policy.status == "retired"

    product = {"csrf_token": form["csrf_token"], "institution": "中国银行顺德分行", "name": "外贸通宝", "summary": "", "amount_min": "20", "amount_max": "2000", "rate": "浮动", "term": "1年", "contact": "0757-22300004", "min_years": "", "status": "published", "tags": ["foreign_trade"]}
    assert web.post("/staff/enterprise/products", data=product, follow_redirects=False).status_code == 303
    saved = session.scalars(select(FinancingProduct).where(FinancingProduct.name == "外贸通宝")).one()
    assert (saved.amount_min, saved.amount_max, saved.min_years) == (20, 2000, 0)


def test_two_admins_editing_one_policy_do_not_overwrite_each_other(web, session):
    login(web, "t_admin")
    csrf = token(web.get("/staff/enterprise").text)
    form = {"csrf_token": csrf, "title": "技改补贴", "unit": "SWUJ", "summary": "支持企业技术改造。", "benefit": "最高10万元", "body": "", "apply_from": "", "apply_to": "", "min_years": "0", "status": "published"}
    web.post("/staff/enterprise/policies", data=form)
    policy = session.scalars(select(Policy).where(Policy.title == "技改补贴")).one()
    opened = web.get(f"/staff/enterprise?policy={policy.id}").text
    version = re.search(r'name="version" value="(\d+)"', opened).group(1)
    tab_a = {**form, "id": str(policy.id), "version": version, "benefit": "最高20万元"}
    tab_b = {**form, "id": str(policy.id), "version": version, "summary": "另一处修改"}
    assert web.post("/staff/enterprise/policies", data=tab_a, follow_redirects=False).status_code == 303
    refused = web.post("/staff/enterprise/policies", data=tab_b)
    assert refused.status_code == 409 and "已被修改（可能是您在其他窗口的操作或他人的操作）" in refused.text and ">另一处修改</textarea>" in refused.text
    session.refresh(policy)
    assert (policy.benefit, policy.summary) == ("最高20万元", "支持企业技术改造。")


def test_a_refused_policy_form_keeps_what_was_typed(web, session):
    login(web, "t_admin")
    csrf = token(web.get("/staff/enterprise").text)
    form = {"csrf_token": csrf, "title": "保留我的标题", "unit": "SWUJ", "summary": "", "benefit": "最高10万元", "apply_from": "2026-12-10", "apply_to": "2026-12-01", "min_years": "3", "status": "published", "industries": ["food"]}
    page = web.post("/staff/enterprise/policies", data=form)
    assert page.status_code == 422
    assert "请填写政策摘要" in page.text and 'value="保留我的标题"' in page.text and 'value="food" checked' in page.text
    assert session.scalars(select(Policy)).all() == []


def test_the_admin_page_is_for_the_admin_only(web):
    login(web, "t_supervisor")
    assert web.get("/staff/enterprise").status_code == 403
    assert 'href="/staff/enterprise"' not in web.get("/staff/supervise").text


def test_public_navigation_and_footer_lead_to_the_enterprise_page(client):
    home = client.get("/").text
    nav = home[home.index('class="site-nav"'):home.index("</nav>")]
    assert 'href="/enterprise"' in nav
    footer = home[home.index("<footer"):]
    assert 'href="/enterprise"' in footer


def test_the_results_header_counts_full_matches_and_near_misses_apart(web, client, session):
    from tests.enterprise.factories import make_policy

    make_policy(session, title="全符合的政策", sizes=["small"], status="published")
    make_policy(session, title="差一项的政策", sizes=["small"], tags=["specialised"], status="published")
    session.commit()
    page = client.get("/enterprise", params={"industry": "manufacturing", "size": "small", "town": BEIJIAO, "year": "2018"}).text
    header = re.search(r'适合贵企业的惠企政策（[^）]*）', page).group(0)
    assert "完全符合" in header and "差一项" in header


def test_a_question_about_a_policy_goes_to_its_issuer(web, session):
    from baishitong.routing.service import latest_decision

    policy = make_policy(session, title="高新技术企业认定奖励", unit="KJJ")
    page = web.get(f"/enterprise/policies/{policy.id}?{PROFILE}")
    consult = html.unescape(re.search(r'href="(/submit\?[^"]+)"[^>]*id="consult"', page.text).group(1))
    query = parse_qs(urlsplit(consult).query)
    assert query["policy"] == [str(policy.id)]
    form = web.get(consult).text
    assert f'name="policy" value="{policy.id}"' in form
    done = web.post("/submit", data=submit_form(web, type="咨询", channel="enterprise", town=BEIJIAO, content=query["content"][0], policy=str(policy.id)), follow_redirects=False)
    ticket = session.scalar(select(Ticket).where(Ticket.number == done.headers["location"].rsplit("/", 1)[-1]))
    assert ticket.status == "dispatched" and ticket.lead_unit.code == "KJJ"
    decision = latest_decision(session, ticket_id=ticket.id)
    assert decision.lead_unit == "KJJ" and decision.evidence["lead_hint"]["reason"].startswith("咨询惠企政策《高新技术企业认定奖励》")
    dispatch = next(e for e in ticket.events if e.action == "dispatch")
    assert "派发文单位" in dispatch.note
    # A policy number is no way to steer an ordinary request: only the enterprise form carries it.
    plain = web.post("/submit", data=submit_form(web, policy=str(policy.id)), follow_redirects=False)
    other = session.scalar(select(Ticket).where(Ticket.number == plain.headers["location"].rsplit("/", 1)[-1]))
    assert latest_decision(session, ticket_id=other.id).evidence["lead_hint"] is None
