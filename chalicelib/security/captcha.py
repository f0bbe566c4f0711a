"""A CAPTCHA drawn here, with no outside service: five distorted characters as an SVG image.

It only has to make each guess of a password cost a person's attention (see security.throttling),
not to beat a determined machine-vision attack, so it is deliberately modest:

- The characters are drawn as strokes, never as SVG ``<text>``: reading the file does not give the
  answer. Each stroke is cut into pieces of random length, the pieces of all characters and of the
  noise lines are shuffled and spread over a few paths of random colour and width, so neither the
  order nor the style of the path data says which piece belongs to which character.
- Each character is scaled, rotated, sheared and shifted at random, its points jittered; noise
  curves and strokes of the same colours and widths cross it.
- The alphabet leaves out look-alikes (0/O/D/Q, 1/I, 2/Z, 5/S, 6/G, 8/B), and the answer is read
  case-insensitively, after NFKC (a full-width ``Ａ`` typed on a phone is ``A``).

The answer is stored as an HMAC bound to the challenge id under a server-side key: with 25^5 ≈ 10^7
answers a plain hash would be reversed at once by whoever reads the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import math
import random
import secrets
import unicodedata
from collections.abc import Callable
from datetime import timedelta

ALPHABET = "2345679ACEFHJKLMNPRTUVWXY"
LENGTH = 5
TTL = timedelta(minutes=5)
WIDTH, HEIGHT = 200, 70
_MIN_KEY_BYTES = 32

Point = tuple[float, float]

# Strokes on a 4 x 6 grid (x right, y down), one polyline per stroke.
_GLYPHS: dict[str, tuple[tuple[Point, ...], ...]] = {
    "2": (((0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (0, 6), (4, 6)),),
    "3": (((0, 0.5), (1, 0), (3, 0), (4, 1), (3.5, 2.5), (2, 3), (3.5, 3.5), (4, 5), (3, 6), (1, 6), (0, 5.5)),),
    "4": (((3, 6), (3, 0), (0, 4), (4, 4)),),
    "5": (((4, 0), (0.5, 0), (0, 3), (3, 2.7), (4, 4), (3, 6), (0, 6)),),
    "6": (((3.5, 0), (1, 1), (0, 4), (1, 6), (3, 6), (4, 4.5), (3, 3), (1, 3), (0, 4)),),
    "7": (((0, 0), (4, 0), (1.5, 6)),),
    "9": (((4, 2), (3, 3), (1, 3), (0, 1.5), (1, 0), (3, 0), (4, 2), (3, 5), (0.5, 6)),),
    "A": (((0, 6), (2, 0), (4, 6)), ((0.8, 4), (3.2, 4))),
    "C": (((4, 1), (3, 0), (1, 0), (0, 2), (0, 4), (1, 6), (3, 6), (4, 5)),),
    "E": (((4, 0), (0, 0), (0, 6), (4, 6)), ((0, 3), (3, 3))),
    "F": (((4, 0), (0, 0), (0, 6)), ((0, 3), (3, 3))),
    "H": (((0, 0), (0, 6)), ((4, 0), (4, 6)), ((0, 3), (4, 3))),
    "J": (((4, 0), (4, 5), (3, 6), (1, 6), (0, 5)),),
    "K": (((0, 0), (0, 6)), ((4, 0), (0, 3.5)), ((1.2, 2.6), (4, 6))),
    "L": (((0, 0), (0, 6), (4, 6)),),
    "M": (((0, 6), (0, 0), (2, 3), (4, 0), (4, 6)),),
    "N": (((0, 6), (0, 0), (4, 6), (4, 0)),),
    "P": (((0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)),),
    "R": (((0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)), ((2, 3), (4, 6))),
    "T": (((0, 0), (4, 0)), ((2, 0), (2, 6))),
    "U": (((0, 0), (0, 5), (1, 6), (3, 6), (4, 5), (4, 0)),),
    "V": (((0, 0), (2, 6), (4, 0)),),
    "W": (((0, 0), (1, 6), (2, 2), (3, 6), (4, 0)),),
    "X": (((0, 0), (4, 6)), ((4, 0), (0, 6))),
    "Y": (((0, 0), (2, 3), (4, 0)), ((2, 3), (2, 6))),
}
if set(_GLYPHS) != set(ALPHABET):  # a table typo fails at import, not in a sign-in
    raise RuntimeError("every CAPTCHA character needs a glyph")

Segment = tuple[Point, Point]


def new_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(submitted: object) -> str:
    """What a person typed, in the form answers are compared: NFKC, upper case, no spaces."""
    if not isinstance(submitted, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", submitted).upper().split())


def hash_answer(answer: str, *, key: bytes, captcha_id: str) -> str:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"the CAPTCHA key must be at least {_MIN_KEY_BYTES} bytes")
    message = f"captcha\x00{captcha_id}\x00{normalise(answer)}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def answer_matches(submitted: object, stored_hash: str, *, key: bytes, captcha_id: str) -> bool:
    candidate = normalise(submitted)
    if len(candidate) != LENGTH:
        return False
    expected = hash_answer(candidate, key=key, captcha_id=captcha_id)
    return stored_hash.isascii() and hmac.compare_digest(expected, stored_hash)


def data_url(svg: str) -> str:
    """The image as a ``data:`` URL an ``<img src>`` shows directly."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def render_svg(answer: str, rng: random.Random | None = None) -> str:
    """``answer`` drawn as a distorted SVG (``rng`` for a reproducible picture in tests)."""
    rng = rng or random.SystemRandom()
    segments: list[Segment] = []
    slot = (WIDTH - 20) / len(answer)
    for index, character in enumerate(answer):
        centre = (10 + slot * (index + 0.5) + rng.uniform(-3, 3), HEIGHT / 2 + rng.uniform(-5, 5))
        transform = _random_transform(rng, centre)
        for stroke in _GLYPHS[character]:
            points = [transform(x + rng.uniform(-0.2, 0.2), y + rng.uniform(-0.2, 0.2)) for x, y in stroke]
            segments += _cut(points, rng)
    segments += _noise(rng)
    rng.shuffle(segments)
    return _svg(segments, rng)


def _random_transform(rng: random.Random, centre: Point) -> Callable[[float, float], Point]:
    scale_x, scale_y = rng.uniform(5.5, 7.0), rng.uniform(6.0, 7.5)
    angle, shear = rng.uniform(-0.35, 0.35), rng.uniform(-0.3, 0.3)
    cos, sin = math.cos(angle), math.sin(angle)

    def transform(x: float, y: float) -> Point:
        # Grid centre (2, 3) to the origin, scale, shear, rotate, then to the character's place.
        u, v = (x - 2) * scale_x, (y - 3) * scale_y
        u += shear * v
        return centre[0] + cos * u - sin * v, centre[1] + sin * u + cos * v

    return transform


def _cut(points: list[Point], rng: random.Random) -> list[Segment]:
    """A polyline as loose segments, each original segment cut at 0-2 random, jittered points."""
    pieces: list[Segment] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        cuts = sorted(rng.random() for _ in range(rng.randint(0, 2)))
        stops = [(x0, y0)]
        for t in cuts:
            stops.append((x0 + (x1 - x0) * t + rng.uniform(-0.6, 0.6), y0 + (y1 - y0) * t + rng.uniform(-0.6, 0.6)))
        stops.append((x1, y1))
        pieces += list(itertools.pairwise(stops))
    return pieces


def _noise(rng: random.Random) -> list[Segment]:
    segments: list[Segment] = []
    for _ in range(2):  # curves across the picture, drawn like strokes
        p0 = (rng.uniform(-10, 20), rng.uniform(0, HEIGHT))
        p3 = (rng.uniform(WIDTH - 20, WIDTH + 10), rng.uniform(0, HEIGHT))
        p1 = (rng.uniform(0, WIDTH), rng.uniform(-20, HEIGHT + 20))
        p2 = (rng.uniform(0, WIDTH), rng.uniform(-20, HEIGHT + 20))
        curve = [_bezier(p0, p1, p2, p3, step / 16) for step in range(17)]
        segments += _cut(curve, rng)
    for _ in range(6):  # short strokes the size of a character's parts
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        angle, length = rng.uniform(0, math.tau), rng.uniform(6, 16)
        segments.append(((x, y), (x + math.cos(angle) * length, y + math.sin(angle) * length)))
    return segments


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return (
        a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
    )


def _svg(segments: list[Segment], rng: random.Random) -> str:
    paths: list[list[Segment]] = [[] for _ in range(4)]
    for segment in segments:
        paths[rng.randrange(len(paths))].append(segment)
    background = f"hsl({rng.randrange(360)},40%,93%)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>',
    ]
    for _ in range(6):
        parts.append(
            f'<circle cx="{rng.uniform(0, WIDTH):.1f}" cy="{rng.uniform(0, HEIGHT):.1f}" '
            f'r="{rng.uniform(4, 14):.1f}" fill="hsl({rng.randrange(360)},35%,85%)"/>'
        )
    for members in paths:
        data = " ".join(f"M{a[0]:.1f} {a[1]:.1f}L{b[0]:.1f} {b[1]:.1f}" for a, b in members)
        colour = f"hsl({rng.randrange(360)},55%,{rng.randrange(18, 34)}%)"
        width = f"{rng.uniform(2.2, 3.2):.1f}"
        parts.append(f'<path d="{data}" fill="none" stroke="{colour}" stroke-width="{width}" stroke-linecap="round"/>')
    parts.append("</svg>")
    return "".join(parts)
