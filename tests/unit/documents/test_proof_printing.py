"""The proof's codes as a printer and a reader meet them (issue 15, items 3 and 4).

* QR version: barcode spec v1.8 (電子發票證明聯一維及二維條碼規格說明) 「左方二維條碼使用QR Code
  V6(含)以上版本，並採用 Level L(容錯率7%)以上」, and both symbols of a proof share one version.
  The version is read off the rendered page: a symbol of version v is 17 + 4v modules wide, and
  its finder patterns are 7 modules, so width / finder run x 7 gives the module count.
* Code 39: a 58 mm thermal printer prints at 203 dpi (8 dots/mm, 384 dots); the barcode must
  scan from a page rasterised at that resolution, and at 300 dpi (an office printer).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.documents.pdf import InvoiceDocument, render_proof
from tests.unit.documents.test_pdf import (  # noqa: F401 - pdf_tools fails the module without poppler/zbar
    B2B,
    B2C_CARRIER,
    DONATED,
    FULL_CODES,
    MANY,
    make_document,
    pdf_tools,
)

MM_PER_INCH = 25.4
SHORT = make_document([("Tea", "1", None, "5")], number="ZZ00000001", random_number="0001")
DOCUMENTS = {
    "short": SHORT,
    "b2c-carrier": B2C_CARRIER,
    "b2b": B2B,
    "donated": DONATED,
    "many-items": MANY,
    "full": FULL_CODES,
}


def _rasterise(pdf: bytes, tmp: Path, dpi: int) -> Path:
    (tmp / "proof.pdf").write_bytes(pdf)
    subprocess.run(  # noqa: S603 - fixed argv
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(tmp / "proof.pdf"), str(tmp / f"p{dpi}")],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return tmp / f"p{dpi}.png"


def _zbar(png: Path) -> list[str]:
    """The data of every symbol zbar reads in ``png`` (a Code 39 is the 19-character line)."""
    result = subprocess.run(  # noqa: S603 - fixed argv
        ["zbarimg", "--raw", "-q", str(png)],  # noqa: S607 - a system tool on PATH
        check=False,
        capture_output=True,
        text=True,
    )
    return result.stdout.splitlines()


def _module_counts(png: Path, dpi: int) -> tuple[int, int]:
    """Modules per side of the left and the right QR symbol, measured on the raster.

    Each half of the page holds one symbol: its top row is the first row of the one band of dark
    rows 15-25 mm tall (the symbols are at least 1.5 cm, spec v1.9). On that row the left finder
    pattern is a run of 7 dark modules, and the row spans the whole symbol.
    """
    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    counts = []
    for x0, x1 in ((0, width // 2), (width // 2, width)):
        dark_rows = [y for y in range(height) if any(pixels[x, y] < 128 for x in range(x0, x1))]
        bands: list[list[int]] = []
        for y in dark_rows:
            if bands and y == bands[-1][1] + 1:
                bands[-1][1] = y
            else:
                bands.append([y, y])
        mm = dpi / MM_PER_INCH
        (top,) = [start for start, end in bands if 15 * mm <= end - start + 1 <= 25 * mm]
        dark = [x for x in range(x0, x1) if pixels[x, top] < 128]
        first, last = dark[0], dark[-1]
        run = next(x for x in range(first, x1) if pixels[x, top] >= 128) - first
        counts.append(round(7 * (last - first + 1) / run))
    return counts[0], counts[1]


@pytest.mark.parametrize("doc", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_both_qr_codes_are_version_6_or_more_and_the_same(doc: InvoiceDocument, tmp_path: Path) -> None:
    png = _rasterise(render_proof(doc), tmp_path, 600)
    left, right = _module_counts(png, 600)
    assert left == right, "both QR codes of a proof use the same version"
    assert (left - 17) % 4 == 0, f"{left} modules is no QR version"
    assert left >= 41, f"version {(left - 17) // 4} < 6"
    read = _zbar(png)
    assert doc.qr_left in read and doc.qr_right in read


def test_a_short_invoice_still_gets_version_6(tmp_path: Path) -> None:
    """The shortest proof: one item, so its left payload alone would fit version 5 (37 modules)."""
    assert len(SHORT.qr_left.encode()) <= 106  # version 5-L byte capacity (ISO/IEC 18004 table 7)
    assert _module_counts(_rasterise(render_proof(SHORT), tmp_path, 600), 600) == (41, 41)


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("doc", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_code39_scans_at_thermal_and_office_resolutions(doc: InvoiceDocument, dpi: int, tmp_path: Path) -> None:
    read = _zbar(_rasterise(render_proof(doc), tmp_path, dpi))
    assert doc.barcode in read, read
    assert doc.qr_left in read and doc.qr_right in read


def test_the_console_draws_the_same_version_6_symbols() -> None:
    """The web console's invoice page draws its QR images with ``qr_symbols`` too."""
    from chalicelib.documents.pdf import _common

    left, right = _common.qr_symbols(SHORT.qr_left, SHORT.qr_right)
    assert (left.version, right.version, left.error, right.error) == (6, 6, "L", "L")
