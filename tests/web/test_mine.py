"""我的诉求 pages: verify the phone by SMS code, see its orders, open one in 进度查询, sign out."""

from sqlalchemy import select

from baishitong.tickets.models import PhoneCode
from tests.tickets.factories import make_ticket
from tests.tickets.test_verification import sent_code
from tests.web.test_pages import token

PHONE = "13512340031"
CALLER = {"name": "黄女士", "phone": PHONE}


def verify(client, session, phone: str = PHONE):
    page = client.get("/mine")
    asked = client.post("/mine/code", data={"csrf_token": token(page.text), "phone": phone})
    assert asked.status_code == 200 and "验证码已发送到 135****0031" in asked.text and phone not in asked.text.replace(f'value="{phone}"', "")
    return client.post("/mine/verify", data={"csrf_token": token(asked.text), "phone": phone, "code": sent_code(session, phone)})


def test_a_requester_without_the_number_finds_their_orders_by_phone(client, session):
    replied = make_ticket(session, state="replied", requester=CALLER)
    signed = make_ticket(session, state="signed", requester=CALLER)
    stranger = make_ticket(session, state="signed", requester={"name": "李先生", "phone": "13512340032"})
    assert 'href="/mine"' in client.get("/track").text
    listing = verify(client, session)
    assert listing.status_code == 200 and "手机 135****0031 反映的诉求（2）" in listing.text
    assert replied.title in listing.text and replied.number in listing.text and signed.number in listing.text and "待您评价" in listing.text
    assert stranger.number not in listing.text
    # Each order opens in 进度查询, rating form included.
    opened = client.post("/track", data={"csrf_token": token(listing.text), "number": replied.number, "phone": PHONE})
    assert 'id="callback"' in opened.text
    out = client.post("/mine/logout", data={"csrf_token": token(listing.text)})
    assert "获取验证码" in out.text and replied.number not in out.text


def test_a_wrong_code_is_refused_and_counted(client, session):
    page = client.get("/mine")
    asked = client.post("/mine/code", data={"csrf_token": token(page.text), "phone": PHONE})
    refused = client.post("/mine/verify", data={"csrf_token": token(asked.text), "phone": PHONE, "code": "99999a"})
    assert refused.status_code == 422 and "验证码不正确，还可以再试 4 次" in refused.text
    # Where the code went is still said, and a new one can be asked for without typing the number again.
    assert "验证码已发送到 135****0031" in refused.text and 'action="/mine/code"' in refused.text and "重新获取验证码" in refused.text
    assert session.scalar(select(PhoneCode.attempts)) == 1
    assert "获取验证码" in client.get("/mine").text


def test_a_second_code_within_a_minute_is_not_sent(client, session):
    page = client.get("/mine")
    client.post("/mine/code", data={"csrf_token": token(page.text), "phone": PHONE})
    again = client.post("/mine/code", data={"csrf_token": token(page.text), "phone": PHONE})
    assert again.status_code == 429 and 'name="code"' in again.text
    wait = int(again.headers["retry-after"])
    assert 55 <= wait <= 60 and f"请 {'1 分钟' if wait == 60 else f'{wait} 秒'}后再重新获取" in again.text


def test_a_landline_gets_a_clear_message(client):
    page = client.get("/mine")
    refused = client.post("/mine/code", data={"csrf_token": token(page.text), "phone": "0757-22300001"})
    assert refused.status_code == 422 and "固定电话收不到短信验证码" in refused.text and 'value="0757-22300001"' in refused.text
    assert 'id="landline-help"' in refused.text


def test_a_landline_caller_follows_the_order_in_track(client, session):
    """The way 我的诉求 points a landline caller to works: 进度查询 takes the number and the landline."""
    ticket = make_ticket(session, requester={"name": "陈先生", "phone": "0757-22300001"})
    page = client.get("/track")
    assert "联系电话" in page.text
    found = client.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": "0757-22300001"})
    assert found.status_code == 200 and 'id="track-result"' in found.text
    wrong = client.post("/track", data={"csrf_token": token(page.text), "number": ticket.number, "phone": "0757-22300002"})
    assert "请核对工单号和反映诉求时留下的联系电话" in wrong.text


def test_a_returned_order_reads_as_being_dispatched_again_to_the_citizen(client, session):
    returned = make_ticket(session, state="returned", requester=CALLER)
    listing = verify(client, session)
    assert "重新派单中" in listing.text and "退单待审" not in listing.text
    opened = client.post("/track", data={"csrf_token": token(listing.text), "number": returned.number, "phone": PHONE})
    assert "重新派单中" in opened.text and "退单待审" not in opened.text
