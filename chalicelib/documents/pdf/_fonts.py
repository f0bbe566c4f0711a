"""Process-wide cache of the parsed CJK fonts, attached to each document without re-parsing.

Why: fpdf2 parses a font on every ``add_font`` (Noto Sans CJK: ~40 ms for our Big5 subset, ~160 ms
for the full TTC face) and subsets it with fontTools on every ``output()`` (~60-250 ms), and it
caches nothing across ``FPDF`` instances. A Lambda renders one document per request, so without a
cache each proof costs ~0.3 s of font work. Two caches remove nearly all of it:

1. **Parsed font, once per process.** ``add_font`` builds a ``TTFFont``: metrics, cmap, glyph ids
   and descriptor, all read-only afterwards. We build it once in a throwaway ``FPDF`` and give
   each document a shallow copy whose per-document state is fresh: its index in the document,
   its ``SubsetMap`` (the glyphs this document used), ``missing_glyphs``, ``biggest_size_pt``
   and its fontTools ``ttfont``. The ``ttfont`` must not be shared: fpdf2's output subsets it
   *in place*, destroying it for the next document.
2. **Subset per glyph set, compiled once.** Just before ``output()`` we give each copy a
   ``ttfont`` that already *is* the subset fpdf2 is about to make: for a CID-keyed CFF font (all
   of ours) fpdf2 embeds only the compiled ``CFF `` table, so we cut the full font down to the
   document's glyphs with fontTools once per distinct glyph set, compile that table once, and
   keep the bytes in an LRU (256 sets). Each document gets a bare ``TTFont`` holding the glyph
   order and a ``_CompiledCFF`` table whose subsetting hooks keep everything and whose
   ``compile()`` returns the cached bytes, so fpdf2's subsetting pass costs ~0.1 ms instead of
   ~10 ms per font. Every document also picks the digits and ``" -:,./"``, so proofs that differ
   only in numbers (dates, amounts, random codes) share one glyph set: all proofs of one seller
   hit the cache. A document with new glyphs (another seller, new item names on an A4) misses
   once and pays one fontTools subset (~50-100 ms).

Measured on the 2-core dev box (fpdf2 2.8.9, fontTools 4.68): cold first proof ~0.45-0.5 s in a
fresh process, imports included (fpdf2 + fontTools ~0.3 s, fonts ~0.1 s); warm proof ~7 ms
(see ``bench/pdf.py`` for where it goes). Without these caches: ~0.3 s per proof.

This relies on fpdf2 internals (``TTFFont``'s attributes, ``SubsetMap``, ``FPDF.fonts``, and that
``output()`` runs fontTools' ``Subsetter`` and then embeds ``ttfont["CFF "].compile()``), so
``requirements.txt`` pins fpdf2 and the tests render real PDFs and decode them; if an upgrade
changes those internals the tests fail rather than silently producing broken fonts.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from fontTools.ttLib import TTFont
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

FONT_DIR: Final = Path(__file__).resolve().parent.parent.parent / "fonts"
SYSTEM_NOTO_DIR: Final = Path("/usr/share/fonts/opentype/noto")

FAMILY: Final = "NotoSansTC"  # set_font() family of REGULAR and BOLD
REGULAR: Final = "notosanstc"
BOLD: Final = "notosanstcB"
FALLBACK: Final = "notosanstcfull"

# Picked into every document so that documents differing only in their numbers (dates, amounts,
# random codes) share one cached subset; the {nb} page-count alias needs the digits too. Kept
# short on purpose: every glyph picked "just in case" is embedded in every PDF.
_ALWAYS_PICKED: Final = tuple(ord(ch) for ch in "0123456789 -:,./")
_SUBSET_CACHE_SIZE: Final = 256


@dataclass(frozen=True, slots=True)
class FontSource:
    family: str
    style: str
    path: Path
    face: int = 0


class FontsMissing(RuntimeError):
    """The built fonts are not there: run ``make fonts`` (``make deps`` does it)."""


def _sources() -> dict[str, FontSource]:
    return {
        REGULAR: FontSource("NotoSansTC", "", FONT_DIR / "NotoSansTC-Regular.otf"),
        BOLD: FontSource("NotoSansTC", "B", FONT_DIR / "NotoSansTC-Bold.otf"),
    }


def _fallback_source() -> FontSource | None:
    """The font for characters outside Big5/CP950 (rare names, HKSCS, CJK Ext. B such as 𠀋).

    Customer item names are free text, so a Big5-only font would print blank boxes for them. The
    supplement built by ``infra/fonts.py`` is the rest of the same Noto Sans CJK TC face (7 MB,
    shipped with the package); on a machine without it the full TTC face from Debian's
    ``fonts-noto-cjk`` does the same job. Without either, such characters print as .notdef boxes
    and fpdf2 logs a warning naming them.
    """
    supplement = FONT_DIR / "NotoSansTC-Supplement.otf"
    if supplement.exists():
        return FontSource("NotoSansTCFull", "", supplement)
    ttc = SYSTEM_NOTO_DIR / "NotoSansCJK-Regular.ttc"
    if ttc.exists():
        return FontSource("NotoSansTCFull", "", ttc, face=3)  # face 3 = Noto Sans CJK TC
    return None


class _FontCache:
    """Parsed ``TTFFont`` templates and glyph-set subsets, shared by every document in the process."""

    def __init__(self) -> None:
        # Lambda runs one request at a time per process, but local servers and tests use threads.
        self._lock = threading.Lock()
        self._templates: dict[str, TTFFont] = {}
        self._sources: dict[str, FontSource] = {}
        self._subsets: OrderedDict[tuple[str, frozenset[str]], _Subset] = OrderedDict()
        self.parses = 0  # how many times a font file was parsed (tests assert it stays at one per font)

    def template(self, key: str) -> TTFFont:
        with self._lock:
            found = self._templates.get(key)
            if found is None:
                found = self._templates[key] = self._parse(key)
            return found

    def _parse(self, key: str) -> TTFFont:
        from fpdf import FPDF
        from fpdf.fonts import TTFFont

        source = _sources().get(key) if key != FALLBACK else _fallback_source()
        if source is None or not source.path.exists():
            raise FontsMissing(f"font {key!r} is missing ({source.path if source else 'no file'}): run `make fonts`")
        scratch = FPDF()
        scratch.add_font(source.family, source.style, source.path, collection_font_number=source.face)
        font = scratch.fonts[key]
        if not isinstance(font, TTFFont):  # add_font of an .otf/.ttc always makes one
            raise TypeError(f"{source.path} did not load as a TrueType/OpenType font")
        # The template's own ttfont is never subset or saved (each document gets a fresh one); close
        # it so the process does not hold the font file open.
        font.ttfont.close()
        self._sources[key] = source
        self.parses += 1
        return font

    def has_glyph(self, key: str, codepoint: int) -> bool:
        return codepoint in self.template(key).cmap

    def subset(self, key: str, glyph_names: frozenset[str]) -> _Subset:
        """The font cut down to ``glyph_names`` (plus .notdef), cached per glyph set."""
        cache_key = (key, glyph_names)
        with self._lock:
            found = self._subsets.get(cache_key)
            if found is not None:
                self._subsets.move_to_end(cache_key)
                return found
            source = self._sources[key]
            template = self._templates[key]
        from fontTools import subset
        from fontTools.ttLib import TTFont

        # fpdf2's own subsetting options (fpdf/output.py), so the glyphs kept are the ones it would keep.
        options = subset.Options(notdef_outline=True, recommended_glyphs=True)
        # Plain charstrings: no subroutine bookkeeping for a few dozen glyphs, the most portable CFF.
        options.desubroutinize = True
        options.layout_features = []
        options.drop_tables += ["GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "vhea", "vmtx", "VORG"]
        font = TTFont(source.path, fontNumber=source.face, lazy=True, recalcTimestamp=False)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(glyphs=sorted(glyph_names))
            subsetter.subset(font)
            order = tuple(font.getGlyphOrder())
            if template.is_cff and template.is_cid_keyed and "CFF " in font:
                # Exactly what fpdf2 embeds for a CID-keyed CFF font: the bare CFF table.
                found = _Subset(order, font["CFF "].compile(font), cff=True)
            else:  # not one of our fonts (all are CID-keyed CFF): the whole font, subset again by fpdf2
                out = BytesIO()
                font.save(out)
                found = _Subset(order, out.getvalue(), cff=False)
        finally:
            font.close()
        with self._lock:
            self._subsets[cache_key] = found
            while len(self._subsets) > _SUBSET_CACHE_SIZE:
                self._subsets.popitem(last=False)
        return found


@dataclass(frozen=True, slots=True)
class _Subset:
    """One font cut down to one glyph set: the glyph order and the bytes fpdf2 embeds."""

    glyph_order: tuple[str, ...]
    data: bytes  # the compiled CFF table when ``cff``, else a whole OpenType font
    cff: bool

    def ttfont(self) -> TTFont:
        """A fresh ``TTFont`` for one document's ``output()`` (fpdf2 consumes and closes it)."""
        from fontTools.ttLib import TTFont

        if not self.cff:
            # recalcBBoxes=False: fpdf2 takes the font box from the template's descriptor.
            return TTFont(BytesIO(self.data), recalcTimestamp=False, recalcBBoxes=False)
        font = TTFont(recalcTimestamp=False, recalcBBoxes=False)
        font.sfntVersion = "OTTO"
        font.setGlyphOrder(list(self.glyph_order))
        font["CFF "] = _CompiledCFF(self.data)
        return font


class _CompiledCFF:
    """A ``CFF `` table that is already the subset fpdf2 is about to make, compiled once.

    fpdf2's ``output()`` runs fontTools' ``Subsetter`` over each embedded font, saves it, then embeds
    ``ttfont["CFF "].compile(ttfont)`` (for a CID-keyed CFF font the saved file is discarded). The
    subsetter calls the table's own hooks (``prune_pre_subset``, ``closure_glyphs``,
    ``subset_glyphs``, ``prune_post_subset``); this table is already cut to the requested glyphs,
    so each hook keeps everything, and ``compile`` returns the cached bytes: no charstring is
    decompiled or recompiled per document. The ``TTFont`` around it holds just the subset's glyph
    order (the subsetter checks the requested glyph names against it).
    """

    def __init__(self, data: bytes) -> None:
        self.tableTag = "CFF "
        self.data = data

    def prune_pre_subset(self, font: object, options: object) -> bool:
        return True

    def closure_glyphs(self, subsetter: object) -> None:
        return None

    def subset_glyphs(self, subsetter: object) -> bool:
        return True

    def prune_post_subset(self, font: object, options: object) -> bool:
        return True

    def compile(self, font: object) -> bytes:
        return self.data


CACHE: Final = _FontCache()


def attach_font(pdf: FPDF, key: str) -> None:
    """Register the cached font ``key`` in ``pdf``, as ``add_font`` would but without parsing."""
    from fontTools.ttLib import TTFont
    from fpdf.fonts import SubsetMap

    template = CACHE.template(key)
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    # A placeholder until prepare_output() swaps in the document's subset; never the template's.
    font.ttfont = TTFont()
    font.subset = SubsetMap(font)
    if key != FALLBACK:  # the supplement has no ASCII: it only holds what the main font lacks
        for codepoint in _ALWAYS_PICKED:
            font.subset.pick(codepoint)
    pdf.fonts[key] = font
    if font.is_cff and font.is_cid_keyed:
        # What add_font does for CID-keyed CFF fonts (Noto CJK is one): PDF 1.6 is required.
        pdf._set_min_pdf_version("1.6")


def prepare_output(pdf: FPDF) -> None:
    """Give each cached font in ``pdf`` a fresh, tiny ``ttfont`` holding just the glyphs it used.

    Call after the last text is placed and ``pdf.close()`` has run (it prints the last footer).
    """
    from fpdf.fonts import TTFFont

    for key, font in pdf.fonts.items():
        if not isinstance(font, TTFFont) or key not in (REGULAR, BOLD, FALLBACK):
            continue
        font.ttfont = CACHE.subset(key, frozenset(font.subset.get_all_glyph_names())).ttfont()


def fallback_available() -> bool:
    return _fallback_source() is not None
