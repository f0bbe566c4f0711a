"""Build the CJK font the PDF renderer embeds: ``python -m infra.fonts`` (``make fonts``).

Source: Debian's ``fonts-noto-cjk`` (SIL OFL 1.1). Face 3 of ``NotoSansCJK-*.ttc`` is "Noto Sans
CJK TC". We cut it down to ASCII + the Big5/CP950 repertoire + CJK punctuation and full-width
forms, without the vertical metrics and OpenType layout tables fpdf2 drops anyway: 4 MB instead
of 19.5 MB, parsed by fpdf2 in ~40 ms instead of ~160 ms.

Characters outside that set (rare names, HKSCS, CJK Ext. B such as 𠀋) come from a fallback font:
``NotoSansTC-Supplement.otf`` is the *rest* of the same TC face (Regular, 7 MB), so the two files
together cover the whole face and ship with the package. The renderer loads the supplement only
for documents that need it (or, when it has not been built, the full TTC face from the system).

The build takes ~15-25 s per file, so ``make fonts`` runs it only when a file is missing. The
output is git-ignored; ``chalice package`` bundles ``chalicelib/fonts/`` into the deployment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "chalicelib" / "fonts"
NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
TC_FACE = 3  # 0 JP, 1 KR, 2 SC, 3 TC, 4 HK in the Debian collection
WEIGHTS = {"Regular": "NotoSansCJK-Regular.ttc", "Bold": "NotoSansCJK-Bold.ttc"}
SUPPLEMENT = "Supplement"  # the rest of the Regular face, for characters outside the repertoire


def repertoire() -> set[int]:
    """Code points kept in the subset: ASCII, every CP950 double-byte character, punctuation.

    CP950 is Microsoft's Big5 (a superset of plain Big5 with 碁 銹 恒 裏 € and a few more); it is
    what Taiwanese POS systems and the MOF tools accept, so it is the realistic repertoire of
    item and company names. Lead bytes 0x81-0xFE, trail bytes 0x40-0x7E and 0xA1-0xFE.
    """
    points = set(range(0x20, 0x7F))
    for lead in range(0x81, 0xFF):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                text = bytes((lead, trail)).decode("cp950")
            except UnicodeDecodeError:
                continue
            points.update(ord(ch) for ch in text)
    # Big5-HKSCS is left out on purpose: those characters come from the fallback face.
    points.update(range(0x3000, 0x3040))  # CJK symbols and punctuation (、。「」〈〉…)
    points.update(range(0xFF00, 0xFFF0))  # half-width and full-width forms (，：０-９Ａ-Ｚ)
    points.update(range(0x2010, 0x2070))  # general punctuation (– — ‘ ’ “ ” … ‰ ※)
    points.update((0x00A0, 0x00B7, 0x00D7, 0x00F7, 0x20AC, 0x2103, 0x2116, 0x2122, 0x25CB, 0x25CF))
    return points


def build(weight: str, target: Path, source_dir: Path = NOTO_DIR) -> Path:
    """Write the ``weight`` subset (``Regular``, ``Bold`` or ``Supplement``) to ``target``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source = source_dir / WEIGHTS["Regular" if weight == SUPPLEMENT else weight]
    if not source.exists():
        raise SystemExit(f"{source} is missing: run `make deps` (apt-get install fonts-noto-cjk)")
    font = TTFont(source, fontNumber=TC_FACE, lazy=True, recalcTimestamp=False)  # reproducible builds
    kept = repertoire()
    if weight == SUPPLEMENT:
        kept = set(font.getBestCmap()) - kept
    options = subset.Options()
    # Keep what makes the text correct in any PDF viewer; drop layout features fpdf2 does not use
    # (it drops GSUB/GPOS/GDEF itself when embedding) and the vertical metrics (horizontal only).
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "vhea", "vmtx", "VORG", "BASE"]
    options.name_IDs = ["*"]  # keep the copyright and OFL licence records in the font itself
    options.name_legacy = True
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.hinting = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(kept))
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp.otf")  # *.otf: git-ignored even if left behind
    font.save(partial)
    partial.replace(target)  # atomic: an interrupted build never leaves a truncated font behind
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", type=Path, help="fonts to build (default: every weight)")
    args = parser.parse_args(argv)
    names = [*WEIGHTS, SUPPLEMENT]
    targets: list[Path] = args.targets or [FONT_DIR / f"NotoSansTC-{name}.otf" for name in names]
    for target in targets:
        weight = target.stem.rpartition("-")[2]
        if weight not in names:
            parser.error(f"{target}: name it NotoSansTC-<{'|'.join(names)}>.otf")
        started = time.monotonic()
        build(weight, target)
        size = target.stat().st_size / 1e6
        print(f"built {target} ({size:.1f} MB) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
