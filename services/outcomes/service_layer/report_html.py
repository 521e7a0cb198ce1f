"""The evaluation report as one self-contained HTML page, its charts drawn as inline SVG."""

from __future__ import annotations

from html import escape
from typing import Any

from jinja2 import Environment, select_autoescape

from shared.suppression import MARK

_ENV = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }}</title>
<style>
body{font-family:Arial,Helvetica,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#0b0c0c}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #b1b4b6;padding:4px 8px;text-align:left}
th{background:#f3f2f1}.c{background:#fff7bf;font-weight:bold}.note{color:#505a5f}
.warn{border-left:5px solid #d4351c;padding-left:1em}
</style></head><body>
<h1>{{ r.title }}</h1>
<p class="note">Generated {{ r.generated_at }}. Cells marked <span class="c">{{ mark }}</span> are withheld:
{{ r.suppression.rule }}</p>
{% if r.small_sample_warning %}<p class="warn">{{ r.small_sample_warning }}</p>{% endif %}
<h2>Who is counted</h2>
<table><tr><th>Baselines answered</th><th>Matched pairs</th><th>Completion</th></tr>
<tr>{% for k in ("baselines_answered", "matched_pairs") %}{{ cell(r.population[k]) }}{% endfor %}
<td>{{ pct(r.population.completion_rate_pct) }}</td></tr></table>
{% if r.population.completion_note %}<p class="note">{{ r.population.completion_note }}</p>{% endif %}
<h2>Change by measure (follow-up minus baseline)</h2>
{% for m in r.measures %}
<h3>{{ m.label }}{% if not m.validated %} (not validated){% endif %}</h3>
<p class="note">{{ m.instrument }}; scale {{ m.scale[0]|round(0)|int }}-{{ m.scale[1]|round(0)|int }};
{{ "higher" if m.higher_is_better else "lower" }} is better.</p>
{% if m.summary %}
{{ chart(m) | safe }}
<table><tr><th>Pairs</th><th>Before (mean)</th><th>After (mean)</th><th>Mean change (95% CI)</th>
<th>Median (IQR)</th><th>Meaningful improvement (95% CI)</th><th>{{ m.summary.test.name }}</th><th>Effect size dz</th></tr>
<tr>{{ cell(m.pairs) }}<td>{{ m.summary.before_mean }}</td><td>{{ m.summary.after_mean }}</td>
<td>{{ m.summary.mean_change }} ({{ m.summary.mean_change_ci95[0] }} to {{ m.summary.mean_change_ci95[1] }})</td>
<td>{{ m.summary.median_change }} ({{ m.summary.iqr_change[0] }} to {{ m.summary.iqr_change[1] }})</td>
{% if m.summary.meaningful_improvement_pct is none %}<td class="c">{{ mark }}</td>{% else %}
<td>{{ m.summary.meaningful_improvement_pct }}% ({{ m.summary.meaningful_improvement_ci95_pct[0] }}-{{ m.summary.meaningful_improvement_ci95_pct[1] }}%)</td>{% endif %}
<td>p = {{ m.summary.test.p_value if m.summary.test.p_value is not none else "n/a" }}</td>
<td>{{ m.summary.effect_size.value }}</td></tr></table>
<table><tr><th>Improved</th><th>Same</th><th>Worse</th></tr><tr>
{% for k in ("improved", "same", "worse") %}{{ cell(m.direction[k], m.direction[k].pct) }}{% endfor %}</tr></table>
{% if m.bands %}<table><tr><th>Band</th>{% for b in m.bands.before %}<th>{{ b }}</th>{% endfor %}</tr>
{% for when in ("before", "after") %}<tr><th>{{ when }}</th>{% for b, c in m.bands[when].items() %}{{ cell(c) }}{% endfor %}</tr>{% endfor %}
</table>
<table><tr>{% for k in m.band_movement %}<th>{{ k|capitalize }}</th>{% endfor %}</tr>
<tr>{% for k, c in m.band_movement.items() %}{{ cell(c, c.pct) }}{% endfor %}</tr></table>{% endif %}
{% if m.benchmark %}<p class="benchmark">Low life satisfaction{% if not m.benchmark.all_pairs %} (young people on
care leavers' schemes only){% endif %}: {{ pct(m.benchmark.baseline_pct) }} at baseline,
{{ pct(m.benchmark.follow_up_pct) }} at follow-up; {{ m.benchmark.care_leavers_pct }}% of care leavers and
{{ m.benchmark.all_16_24_pct }}% of all 16-24 year olds nationally.</p>{% endif %}
{% else %}<p class="c">{{ m.withheld }}</p>{% endif %}
{% endfor %}
<h2>At each follow-up (mean change from baseline, 95% CI)</h2>
<table><tr><th>Follow-up</th><th>Pairs</th>{% for m in r.measures %}<th>{{ m.label }}</th>{% endfor %}</tr>
{% for row in r.by_follow_up %}<tr><td>{{ row.week }} weeks</td>{{ cell(row.pairs) }}
{% for m in r.measures %}{% if m.key in row.mean_change %}{% set c = row.mean_change[m.key] %}<td>{{ c.mean }} ({{ c.ci95[0] }} to {{ c.ci95[1] }})</td>{% else %}<td class="c">{{ mark }}</td>{% endif %}{% endfor %}
</tr>{% endfor %}</table>
<h2>Rating of the activities</h2>
<p>{% if r.activity_rating.mean is not none %}Mean {{ r.activity_rating.mean }} out of 5
from {{ cell_text(r.activity_rating.n) }} ratings.{% else %}Too few ratings to show ({{ mark }}).{% endif %}</p>
<h2>Has it helped?</h2>
<table><tr>{% for k in r.helped.answers %}<th>{{ k }}</th>{% endfor %}</tr>
<tr>{% for k, c in r.helped.answers.items() %}{{ cell(c, c.pct) }}{% endfor %}</tr></table>
{% for name, rows in r.breakdowns.items() %}
<h2>{{ titles[name] }}</h2>
{% if name == "age_band" and r.age_band_note %}<p class="note">{{ r.age_band_note }}</p>{% endif %}
<table><tr><th>Group</th><th>Pairs</th>{% for m in r.measures %}<th>{{ m.label }} change</th>{% endfor %}</tr>
{% for row in rows %}<tr><td>{{ row.group }}</td>{{ cell(row.pairs) }}
{% for m in r.measures %}{% if m.key in row.mean_change %}<td>{{ row.mean_change[m.key] }}</td>{% else %}<td class="c">{{ mark }}</td>{% endif %}{% endfor %}
</tr>{% endfor %}</table>
{% endfor %}
<h2>Case studies</h2>
{% for s in r.case_studies %}<h3>{{ s.title }}</h3><p class="note">Aged {{ s.age_band }}, {{ s.place }}{% if s.category %}, {{ s.category }}{% endif %}</p>
<p>{{ s.story }}</p>{% else %}<p>No approved case studies yet.</p>{% endfor %}
<h2>Limits of this evaluation</h2>
<ul>{% for l in r.limits %}<li>{{ l }}</li>{% endfor %}</ul>
<p class="note">{% for a in r.attributions %}{{ a }}. {% endfor %}</p>
</body></html>
"""


def _cell(cell: dict[str, Any] | None, pct: float | None = None) -> str:
    from markupsafe import Markup, escape

    if cell is None:
        return Markup("<td></td>")
    if cell.get("suppressed"):
        return Markup(f'<td class="c" title="withheld ({escape(cell["suppressed"])})">{MARK}</td>')
    extra = f" ({pct}%)" if pct is not None else ""
    return Markup(f"<td>{escape(cell.get('count'))}{escape(extra)}</td>")


def _pct(value: float | None) -> str:
    return MARK if value is None else f"{value}%"


def _chart(measure: dict[str, Any]) -> str:
    """Before and after means on the measure's own scale, with the change's 95% CI."""
    lo, hi = (float(v) for v in measure["scale"])
    s = measure["summary"]
    width, left, right = 420, 60, 20

    def x(v: float) -> float:
        return left + (v - lo) / ((hi - lo) or 1) * (width - left - right)

    ci_lo = s["before_mean"] + s["mean_change_ci95"][0]
    ci_hi = s["before_mean"] + s["mean_change_ci95"][1]
    return (
        f'<svg role="img" aria-label="{escape(measure["label"])}: mean {s["before_mean"]} before, '
        f'{s["after_mean"]} after" width="{width}" height="70" viewBox="0 0 {width} 70">'
        f'<line x1="{x(lo)}" y1="50" x2="{x(hi)}" y2="50" stroke="#505a5f"/>'
        f'<text x="{x(lo)}" y="66" font-size="11">{lo:g}</text>'
        f'<text x="{x(hi) - 12}" y="66" font-size="11">{hi:g}</text>'
        f'<text x="0" y="24" font-size="12">before</text>'
        f'<circle cx="{x(s["before_mean"])}" cy="20" r="6" fill="#505a5f"/>'
        f'<text x="0" y="44" font-size="12">after</text>'
        f'<line x1="{x(ci_lo)}" y1="40" x2="{x(ci_hi)}" y2="40" stroke="#1d70b8" stroke-width="3"/>'
        f'<circle cx="{x(s["after_mean"])}" cy="40" r="6" fill="#1d70b8"/></svg>'
    )


def to_html(report: dict[str, Any]) -> str:
    from services.outcomes.service_layer.reports import BREAKDOWN_TITLES

    template = _ENV.from_string(_TEMPLATE)
    return template.render(
        r=report,
        mark=MARK,
        cell=_cell,
        cell_text=lambda c: MARK if c.get("suppressed") else c.get("count"),
        pct=_pct,
        chart=_chart,
        titles=BREAKDOWN_TITLES,
    )
