"""A period's summary as a picture (PNG or PDF, matplotlib) or one self-contained HTML page (the picture inlined,
tables beside it): for a weekly e-mail or a meeting."""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Mapping
from typing import Any

FIGURE_INCHES = (14.0, 9.0)
FIGURE_DPI = 100
"""A PNG report is 1400 × 900 pixels."""
_FONTS = ("DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP")
"""Latin first, then a Chinese font when one is installed (shoppers' questions may be in Chinese)."""


def _period_title(summary: Mapping[str, Any]) -> str:
    period = summary["period"]
    fmt = "%Y-%m-%d %H:%M"
    since = time.strftime(fmt, time.gmtime(period["since"]))
    until = time.strftime(fmt, time.gmtime(period["until"]))
    return f"kefu insights · {since} – {until} UTC · {period['channel'] or 'all channels'}"


def render_figure(summary: Mapping[str, Any], *, fmt: str) -> bytes:
    """The summary drawn on one figure, as ``png`` or ``pdf`` bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import UTC, datetime

    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    plt.rcParams["font.family"] = [name for name in _FONTS if name in installed] or ["sans-serif"]
    figure, axes = plt.subplots(2, 3, figsize=FIGURE_INCHES, dpi=FIGURE_DPI)
    figure.suptitle(_period_title(summary))
    timeline = summary["timeline"]
    when = [datetime.fromtimestamp(point["at"], UTC) for point in timeline]
    ax = axes[0][0]
    ax.plot(when, [p["turns"] for p in timeline], label="messages")
    ax.plot(when, [p["conversations"] for p in timeline], label="conversations")
    ax.set_title("conversations and messages")
    ax.legend(loc="upper left")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    intents = summary["intents"][:10]
    _bars(axes[0][1], [i["intent"] for i in intents], [i["turns"] for i in intents], "intent mix (messages)")
    moves = summary["moves"]
    _bars(axes[0][2], [m["move"] for m in moves], [100 * (m["share"] or 0) for m in moves], "what the bot did (%)")
    rated = [i for i in summary["intents"] if i["up"] or i["down"]][:10]
    ax = axes[1][0]
    names = [i["intent"] for i in rated]
    ax.barh(names, [i["up"] for i in rated], color="#2e9d5b", label="helpful")
    ax.barh(names, [-i["down"] for i in rated], color="#c8463c", label="unhelpful")
    ax.set_title("feedback per intent (helpful right, unhelpful left)")
    if not rated:
        ax.text(0.5, 0.5, "no feedback in this period", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    latency = summary["latency_ms"]
    ax = axes[1][1]
    stages = [stage["stage"] for stage in latency]
    ax.barh(stages, [stage["p95"] or 0 for stage in latency], color="#f3b562", label="p95")
    ax.barh(stages, [stage["p50"] or 0 for stage in latency], color="#3b82f6", label="p50")
    ax.set_xscale("symlog")
    ax.set_title("latency per stage (ms)")
    ax.legend(loc="lower right")
    ax = axes[1][2]
    ax.axis("off")
    ax.set_title("most asked unanswered questions")
    lines = [f"{g['count']:>4} × {g['question'][:60]}" for g in summary["unanswered"]["groups"][:12]]
    ax.text(0, 1, "\n".join(lines) or "none", va="top", fontsize=8, transform=ax.transAxes)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format=fmt, dpi=FIGURE_DPI)
    plt.close(figure)
    return out.getvalue()


def _bars(ax: Any, labels: list[str], values: list[float], title: str) -> None:
    ax.barh(labels[::-1], values[::-1], color="#3b82f6")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=8)


def render_html(summary: Mapping[str, Any]) -> str:
    """One self-contained HTML page: the figure inlined as a data URL and the figures as tables."""
    picture = base64.b64encode(render_figure(summary, fmt="png")).decode("ascii")
    t = summary["totals"]
    rows = {
        "Totals": [
            ("conversations", t["conversations"]),
            ("messages", t["turns"]),
            ("👍", t["up"]),
            ("👎", t["down"]),
            ("voice share", _pct(summary["media"]["voice_share"])),
            ("photo share", _pct(summary["media"]["photo_share"])),
            ("open tickets", summary["tickets"]["open"]),
            ("longest wait (min)", _minutes(summary["tickets"]["waiting_s"]["max"])),
        ],
        "Intents": [
            (i["intent"], f"{i['turns']} · {_pct(i['share'])} · 👍 {i['up']} 👎 {i['down']}")
            for i in summary["intents"]
        ],
        "Moves": [
            (
                m["move"],
                f"{m['turns']} · {_pct(m['share'])} · " + "; ".join(f"{w['why']} ({w['turns']})" for w in m["why"][:4]),
            )
            for m in summary["moves"]
        ],
        "Latency (ms)": [(s["stage"], f"p50 {s['p50']} · p95 {s['p95']}") for s in summary["latency_ms"]],
        "Unanswered questions": [(g["question"], g["count"]) for g in summary["unanswered"]["groups"][:50]],
    }
    sections = "".join(
        f"<h2>{html.escape(name)}</h2><table>"
        + "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in items)
        + "</table>"
        for name, items in rows.items()
    )
    title = html.escape(_period_title(summary))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d2430}img{max-width:100%}"
        "table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #eee}</style></head>"
        f"<body><h1>{title}</h1><img alt='charts' src='data:image/png;base64,{picture}'>{sections}</body></html>"
    )


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f} %"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"
