"""Report charts as PNG or SVG files a programme office pastes into its annual report
(matplotlib, drawn off screen). Japanese labels need a CJK font: Noto Sans CJK (Debian's
fonts-noto-cjk) or another installed one is used when present; without any, the labels
fall back to English so that no box characters are printed.

Two charts:
- `targets`: the four target figures (meetings held, follow-ups, contracts, new
  businesses), each as the year before, this year and the target, side by side.
- `groups`: per group of the report, meetings held, follow-ups and contracts.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from typing import Literal, get_args

from models.reports import TARGET_KEYS, Report

ChartKind = Literal["targets", "groups"]
CHART_KINDS: tuple[str, ...] = get_args(ChartKind)
ChartFormat = Literal["png", "svg"]
CHART_FORMATS: tuple[str, ...] = get_args(ChartFormat)
ChartLang = Literal["ja", "en"]

MEDIA_TYPES: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
MAX_BARS = 40
"""Groups drawn at most (the largest by meetings held); the table has them all."""

_CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic")
_LOCK = threading.Lock()  # pyplot's state is global: one figure at a time

WORDS: dict[str, dict[str, str]] = {
    "meetings_held": {"ja": "商談実施件数", "en": "Meetings held"},
    "follow_ups": {"ja": "継続商談件数", "en": "Follow-ups"},
    "contracts": {"ja": "成約件数", "en": "Contracts"},
    "new_businesses": {"ja": "新事業創出件数", "en": "New businesses"},
    "before": {"ja": "前年度", "en": "Year before"},
    "actual": {"ja": "実績", "en": "Actual"},
    "target": {"ja": "目標", "en": "Target"},
    "title_targets": {"ja": "FY{year} 目標と実績", "en": "FY{year}: targets and results"},
    "title_groups": {"ja": "FY{year} {by}別の実績", "en": "FY{year} by {by}"},
    "total": {"ja": "全体", "en": "total"},
    "event": {"ja": "イベント", "en": "event"},
    "program": {"ja": "事業", "en": "programme"},
    "fiscal_year": {"ja": "年度", "en": "fiscal year"},
    "quarter": {"ja": "四半期", "en": "quarter"},
    "month": {"ja": "月", "en": "month"},
    "kind_pair": {"ja": "組織種別の組合せ", "en": "kind pair"},
    "country_pair": {"ja": "国の組合せ", "en": "country pair"},
    "none": {"ja": "（なし）", "en": "(none)"},
}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def chart(report: Report, kind: ChartKind, fmt: ChartFormat, lang: ChartLang) -> bytes:
    """The chart as a file's bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    if font is None:
        lang = "en"

    def w(key: str) -> str:
        return WORDS[key][lang]

    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with (
        _LOCK,
        matplotlib.rc_context(
            {
                "font.family": families,
                "svg.fonttype": "path",
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        fig = Figure(figsize=(8, 4.5), dpi=150)
        ax = fig.subplots()
        colors = ("#9aa5b1", "#1f6feb", "#f0883e")
        width = 0.27
        if kind == "targets":
            total = report.total
            labels = [w(k) for k in TARGET_KEYS]
            before = [total.before.target_value(k) if total.before else 0 for k in TARGET_KEYS]
            actual = [total.figures.target_value(k) for k in TARGET_KEYS]
            target = [(total.targets.get(k) if total.targets else None) or 0 for k in TARGET_KEYS]
            series = ((w("before"), before), (w("actual"), actual), (w("target"), target))
            title = w("title_targets").format(year=report.fiscal_year)
        else:
            rows = sorted(report.rows, key=lambda r: -r.figures.held)[:MAX_BARS]
            rows.sort(key=lambda r: r.key)
            labels = [r.label or w("none") for r in rows]
            series = (
                (w("meetings_held"), [r.figures.held for r in rows]),
                (w("follow_ups"), [r.figures.follow_ups for r in rows]),
                (w("contracts"), [r.figures.contracts for r in rows]),
            )
            title = w("title_groups").format(year=report.fiscal_year, by=w(report.by))
        xs = range(len(labels))
        for i, (name, values) in enumerate(series):
            bars = ax.bar(
                [x + (i - 1) * width for x in xs], values, width, label=name, color=colors[i]
            )
            ax.bar_label(bars, fontsize=7, padding=1)
        ax.set_xticks(
            list(xs),
            labels,
            rotation=0 if len(labels) <= 6 else 45,
            ha="center" if len(labels) <= 6 else "right",
            fontsize=8,
        )
        ax.set_title(title)
        ax.legend(fontsize=8, frameon=False)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 contracts
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return out.getvalue()
