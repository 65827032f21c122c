import pytest

from baishitong.routing.locate import locate

RONGGUI, DALIANG, LELIU, BEIJIAO, LONGJIANG = "440606006", "440606005", "440606004", "440606102", "440606104"


@pytest.mark.parametrize(
    ("text", "town", "community"),
    [
        ("容桂高黎社区", RONGGUI, "高黎社区"),
        ("大良街道鉴海北路18号", DALIANG, None),
        ("勒流的江义村", LELIU, "江义村"),
        ("顺德区北滘镇碧江社区", BEIJIAO, "碧江社区"),
        ("龙江镇 世埠村", LONGJIANG, "世埠社区"),
        ("佛山市顺德区容桂街道东风社区居委会路口", RONGGUI, "东风社区"),
        ("勒流街道东风村委会", LELIU, "东风村"),
        ("大良南华社区", DALIANG, "南华社区"),
    ],
)
def test_resolves_town_and_community(text: str, town: str, community: str | None) -> None:
    loc = locate(text)
    assert loc is not None
    assert loc.town_code == town
    assert loc.community_name == community
    assert loc.method == ("community_name" if community else "town_name")
    assert 0 < loc.score <= 1


@pytest.mark.parametrize(
    "text",
    ["广州市天河区体育西路", "佛山市南海区桂城街道", "北京朝阳区", "黑龙江省哈尔滨市", "上海浦东新区幸福路", "", "随便说点什么"],
)
def test_places_outside_shunde_resolve_to_nothing(text: str) -> None:
    assert locate(text) is None


def test_unique_suffixed_community_settles_the_town() -> None:
    loc = locate("碧江社区")
    assert loc is not None and loc.town_code == BEIJIAO


def test_bare_common_word_needs_its_town() -> None:
    assert locate("生活很幸福") is None
    loc = locate("容桂幸福")
    assert loc is not None and loc.community_name == "幸福社区"


def test_community_name_in_two_towns_is_not_guessed() -> None:
    assert locate("东风社区") is None
    near_ronggui = locate("东风社区", lat=22.76, lon=113.26)
    assert near_ronggui is not None and near_ronggui.town_code == RONGGUI


def test_town_name_used_as_a_market_name_still_counts() -> None:
    loc = locate("容桂市场门口")
    assert loc is not None and loc.town_code == RONGGUI and loc.community_code is None


def test_coordinates_pick_the_nearest_community() -> None:
    loc = locate(None, lat=22.84017, lon=113.18519)
    assert loc is not None
    assert (loc.town_name, loc.community_name, loc.method) == ("伦教街道", "三洲社区", "coordinates")


def test_coordinates_outside_shunde_give_nothing() -> None:
    assert locate("", lat=23.13, lon=113.32) is None
    assert locate("", lat=39.9, lon=116.4) is None


def test_coordinates_refine_a_town_only_address() -> None:
    loc = locate("伦教街道", lat=22.84017, lon=113.18519)
    assert loc is not None and loc.community_name == "三洲社区" and loc.method == "town_name+coordinates"


def test_text_naming_another_district_ignores_coordinates() -> None:
    assert locate("佛山市南海区桂城街道", lat=22.84017, lon=113.18519) is None
