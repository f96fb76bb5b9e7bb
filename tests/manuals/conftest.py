"""Fixtures for the manuals tests: a small catalogue with its own template directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from manuals.catalog import Catalog, read_catalog
from manuals.render import TEMPLATES_DIR, ManualRenderer

MINI_CATALOG = """
[defaults]
radius_m = 500
window_minutes = 60
keyword_weight = 2.0
synonym_weight = 1.0
name_weight = 3.0

[numbers]
known = ["119", "112"]

[experts]
fields = ["fire"]

[[scenario]]
slug = "alpha"
code = 1001
category = "natural"
kind = "hazard"
icon = "A"
name_ko = "알파"
name_en = "Alpha"
numbers = ["119"]
urgent = true
cap_category = "Met"
cap_event = "Alpha"
related = ["beta"]
experts = ["fire"]
keywords_ko = ["알파사고"]
keywords_en = ["alpha accident"]

[[scenario]]
slug = "beta"
code = 3001
category = "daily"
kind = "procedure"
icon = "B"
name_ko = "베타"
name_en = "Beta"
numbers = []
cap_category = "Health"
cap_event = "Beta"
keywords_ko = ["베타처치"]
keywords_en = ["beta aid"]
"""

HAZARD = """{# test #}
{% block now -%}
• one {{ who|default("") }}
• two
• three
{%- endblock %}
{% block before -%}
• b1
{%- endblock %}
{% block during -%}
• d1
{%- endblock %}
{% block after -%}
• a1
{%- endblock %}
"""

PROCEDURE = """{% block now -%}
• first
• second
• third
{%- endblock %}
{% block steps -%}
1. do
2. done
{%- endblock %}
"""

HANDBOOK = """{% block triage -%}
1. read
{%- endblock %}
{% block priorities -%}
• P1 {{ sla_p1_minutes|default(2) }}
{%- endblock %}
{% block closing -%}
• close
{%- endblock %}
"""


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    """Return a templates directory with the shared partials and two tiny scenarios."""
    for lang in ("ko", "en"):
        target = tmp_path / "templates" / lang
        target.mkdir(parents=True)
        for partial in (TEMPLATES_DIR / lang).glob("_*.j2"):
            (target / partial.name).write_text(partial.read_text(encoding="utf-8"), "utf-8")
        (target / "alpha.j2").write_text(HAZARD, encoding="utf-8")
        (target / "beta.j2").write_text(PROCEDURE, encoding="utf-8")
        (target / "handbook.j2").write_text(HANDBOOK, encoding="utf-8")
    return tmp_path / "templates"


@pytest.fixture
def mini_catalog(tmp_path: Path) -> Catalog:
    """Return the two-scenario catalogue."""
    path = tmp_path / "mini.toml"
    path.write_text(MINI_CATALOG, encoding="utf-8")
    return read_catalog(path)


@pytest.fixture
def mini_renderer(mini_catalog: Catalog, mini_dir: Path) -> ManualRenderer:
    """Return a renderer over the two-scenario catalogue and its templates."""
    return ManualRenderer(mini_catalog, mini_dir)
