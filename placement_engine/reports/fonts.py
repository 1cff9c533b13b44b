"""Fonts for figures: Latin text in DejaVu Sans, Chinese in Noto Sans SC, on any machine.

Noto Sans SC (SIL Open Font License 1.1) comes from the ``pylopdf-fonts-zh-cn`` package, so
no system font is needed. Matplotlib picks, glyph by glyph, the first font of the list that
has the glyph: Latin letters and digits keep the usual look, and Chinese place names are
never drawn as empty boxes nor warned about.
"""

from __future__ import annotations

from functools import cache

from matplotlib import font_manager, rcParams
from pylopdf_fonts_zh_cn import sans_path

CJK_FAMILY = "Noto Sans SC"
LATIN_FAMILY = "DejaVu Sans"  # matplotlib's own font, always installed


@cache
def install() -> None:
    """Register Noto Sans SC with matplotlib and make the font list DejaVu Sans, then Noto Sans SC.

    The families are named, not the generic ``sans-serif``: matplotlib falls back glyph by glyph
    only across the fonts named in ``font.family``."""
    font_manager.fontManager.addfont(str(sans_path()))
    rcParams["font.family"] = [LATIN_FAMILY, CJK_FAMILY]
