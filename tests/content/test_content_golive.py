"""Going live: production refuses region files that would give a person in crisis a placeholder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from content.golive import region_blockers
from content.schema import Emergency, Library
from tests.conftest import make_config


def test_the_demo_region_is_refused_for_every_placeholder_and_says_what_to_change(starter_library: Library):
    blockers = region_blockers(starter_library)
    assert len(blockers) == 5  # four placeholder services and the emergency number
    assert all("region 'demo' (regions/demo.yaml)" in b for b in blockers)
    assert any("emergency number +1 202 555 0199 is a placeholder" in b for b in blockers)
    assert any("helpline 'DEMO GBV LINE - REPLACE' is a placeholder" in b for b in blockers)


def test_real_services_and_an_emergency_number_go_live(starter_library: Library):
    region = starter_library.regions[0]
    real = replace(region, helplines=tuple(replace(h, placeholder=False) for h in region.helplines),
                   emergency=Emergency("112", "Police and ambulance"))
    assert region_blockers(replace(starter_library, regions=(real,))) == []
    missing = replace(real, emergency=None)
    assert region_blockers(replace(starter_library, regions=(missing,))) == [
        "region 'demo' (regions/demo.yaml) has no emergency number: add 'emergency: {number: ...}' with the "
        "local number for danger now"]


def test_a_production_release_refuses_placeholder_numbers_before_loading_any_content(tmp_path: Path):
    from bot import create_app

    config = make_config(tmp_path, ENV="production", SIMULATOR_ENABLED=False,
                         DATABASE_URL=f"sqlite:///{tmp_path / 'release.db'}", REDIS_URL="redis://127.0.0.1:6379/2")
    app = create_app(config)
    result = app.test_cli_runner().invoke(args=["release"])
    app.extensions["tumaini.services"].close()
    assert result.exit_code != 0
    assert "not ready: region 'demo'" in result.output and "placeholder" in result.output
    assert "people in crisis would be given placeholder numbers" in result.output
    assert "new versions" not in result.output  # nothing was loaded
