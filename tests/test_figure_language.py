"""Figure labels follow the chosen language, and Chinese text draws without a glyph warning."""

from __future__ import annotations

import logging
import warnings

import pandas as pd

import placement_engine as pe
from placement_engine.reports import plots

TABLE = pd.DataFrame({"variant": ["baseline", "closer"], "objective": [100.0, 90.0], "first_choice_share": [0.5, 0.4], "needs_met_share": [0.3, 0.6]})


def titles(figure) -> list[str]:
    return [figure.get_suptitle(), *(axes.get_title() for axes in figure.axes if axes.get_visible())]


def test_metric_titles_are_chinese_with_lang_zh_and_english_otherwise(caplog) -> None:
    english = titles(plots.metrics_figure(TABLE))
    with pe.language("zh"), warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("always")
        figure = plots.metrics_figure(TABLE)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(figure).draw()
        chinese = titles(figure)
    assert english[0].startswith("Metrics by variant") and "posts whose needs were met" in english
    assert chinese[0].startswith("各方案指标对比") and "需求得到满足的岗位比例" in chinese
    assert not [w for w in caught if "glyph" in str(w.message).lower()] and not caplog.records


def test_wish_legend_is_translated() -> None:
    table = pd.DataFrame({"post_id": ["P1", "P2", ""], "choice": [1, None, None]})
    with pe.language("zh"):
        figure = plots.wishes_figure({"baseline": table})
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels[0] == "第1志愿" and "未满足志愿" in labels
