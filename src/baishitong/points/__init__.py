"""Doorstep service points (门口办): bank branches and halls where residents can get government services.

Pure, database-free core: geo (distances, nearest-point index), hours (opening
hours text and booking slots), coverage (2 km reach and new-site suggestions),
mapsvg (admin map) and demo (the project's deterministic demo network).
"""

KIND_LABELS: dict[str, str] = {
    "bank_branch": "银行网点门口办",
    "town_centre": "镇街行政服务中心",
    "district_hall": "区行政服务中心",
    "self_service": "政务自助终端",
}
POINT_KINDS: tuple[str, ...] = tuple(KIND_LABELS)
