"""Policies and products for tests, created through the service as the test admin."""

from baishitong.enterprise import service
from baishitong.enterprise.models import FinancingProduct, Policy
from baishitong.enterprise.schemas import PolicyIn, ProductIn
from tests.conftest import actor

BEIJIAO, RONGGUI = "440606102", "440606006"


def make_policy(session, **overrides):
    data = {"title": "智能化改造扶持", "unit": "GXJ", "summary": "支持制造业企业智能化改造。", "benefit": "最高补贴50万元", "status": "published", **overrides}
    return service.create(session, Policy, actor=actor(session, "t_admin"), data=PolicyIn(**data))


def make_product(session, **overrides):
    data = {"institution": "顺德农商银行", "name": "智造贷", "rate": "年化3.3%起", "term": "1至5年", "contact": "0757-22300001", "status": "published", **overrides}
    return service.create(session, FinancingProduct, actor=actor(session, "t_admin"), data=ProductIn(**data))
