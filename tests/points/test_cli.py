"""`baishitong points` commands against a real database file."""

from click.testing import CliRunner

from baishitong import migrate
from baishitong.db import Database
from baishitong.points.cli import points
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.points.test_service import ORIGIN, csv_bytes


def test_import_export_nearest_coverage(tmp_path):
    url = create_fresh_database(tmp_path)
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
        db.dispose()
        source = tmp_path / "points.csv"
        source.write_bytes(csv_bytes())
        runner = CliRunner()
        result = runner.invoke(points, ["import", str(source), "--db", url])
        assert result.exit_code == 0, result.output
        assert "新增 4" in result.output
        assert "未变 4" in runner.invoke(points, ["import", str(source), "--db", url]).output
        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_bytes(["B-1,坏,bank_branch,地址,22.8,999,,,,,"]))
        failed = runner.invoke(points, ["import", str(bad), "--db", url])
        assert failed.exit_code != 0 and "第2行" in failed.output
        out = tmp_path / "out.xlsx"
        assert runner.invoke(points, ["export", "--out", str(out), "--db", url]).exit_code == 0 and out.stat().st_size > 0
        near = runner.invoke(points, ["nearest", "--lat", str(ORIGIN[0]), "--lon", str(ORIGIN[1]), "--radius", "500", "--db", url])
        assert near.exit_code == 0 and near.output.index("T-A") < near.output.index("T-C") and "T-B" not in near.output
        svg = tmp_path / "map.svg"
        cov = runner.invoke(points, ["coverage", "--radius", "2000", "--svg", str(svg), "--db", url])
        assert cov.exit_code == 0, cov.output
        assert "未覆盖" in cov.output and "建议1" in cov.output and svg.read_text(encoding="utf-8").startswith("<svg")
        # NaN passed `radius <= 0` and printed every community as uncovered, 0.1 km from a point.
        for radius in ("nan", "inf", "-5", "50001"):
            refused = runner.invoke(points, ["coverage", "--radius", radius, "--db", url])
            assert refused.exit_code == 1 and "覆盖半径须大于 0、不超过 50,000 米" in refused.output, (radius, refused.output)
    finally:
        drop_fresh_database(url)
