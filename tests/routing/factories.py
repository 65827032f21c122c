"""A router trained on three clear topics, for the tests that need routing to propose a category."""

import random

from sqlalchemy.orm import Session

from baishitong.routing import service
from baishitong.routing.models import RouterModel

TOPICS = {
    "城乡建设": ["路灯不亮", "井盖缺失", "道路破损", "排水管道堵塞", "垃圾没人清运", "绿化带", "公共厕所"],
    "劳动和社会保障": ["拖欠工资", "社保断缴", "劳动合同", "工伤认定", "养老保险", "加班费", "失业金"],
    "商贸旅游": ["预付卡退费", "商品质量", "网购纠纷", "缺斤短两", "价格欺诈", "虚假宣传", "商家不退货"],
}
FILLER = ["我们", "附近", "最近", "希望", "尽快", "处理", "反映", "一直", "严重", "麻烦"]


def corpus_csv(seed: int = 1, per_class: int = 30) -> bytes:
    rng = random.Random(seed)
    lines = ["id,text,label"]
    for i in range(per_class * len(TOPICS)):
        label = list(TOPICS)[i % len(TOPICS)]
        words = rng.sample(TOPICS[label], 3) + rng.sample(FILLER, 3)
        rng.shuffle(words)
        lines.append(f"{i},{'，'.join(words)}。,{label}")
    return ("\n".join(lines) + "\n").encode()


def train_router(session: Session) -> RouterModel:
    """The default catalogue and an active model trained on corpus_csv()."""
    service.ensure_default_catalogue(session)
    return service.train_from_file(session, data=corpus_csv(), filename="t.csv", text_columns=["text"], label_column="label", actor="test")
