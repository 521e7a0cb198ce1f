"""No user text reaches a gateway template as markup: no `|safe`, no `Markup` in the gateway's
code, and every GOV.UK macro `html:` parameter is a literal, a `{% set %}` block (whose parts are
escaped) or our own macro's output."""

from __future__ import annotations

import re
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "services" / "gateway"
TEMPLATES = GATEWAY / "templates"
HTML_PARAM = re.compile(r"""["']html["']\s*:\s*([^,}]+)""")
ALLOWED = (
    re.compile(r"^'[^'{]*'$"),  # a literal sentence of ours
    re.compile(r"^when$"),  # listing.html: a {% set %} block built from escaped parts
    re.compile(r"^tag\("),  # macros.html's tag(): escaped text in a fixed element
)


def test_no_template_marks_anything_safe():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\|\s*safe\b", text), path
        assert "autoescape false" not in text, path


def test_no_gateway_code_builds_markup():
    for path in GATEWAY.rglob("*.py"):
        assert "Markup" not in path.read_text(), path


def test_every_html_parameter_is_a_literal_or_built_from_escaped_parts():
    found = 0
    for path in TEMPLATES.rglob("*.html"):
        for value in HTML_PARAM.findall(path.read_text()):
            found += 1
            value = value.strip()
            assert any(rule.search(value) for rule in ALLOWED), (path.name, value)
    assert found >= 3  # the check looks at real parameters
