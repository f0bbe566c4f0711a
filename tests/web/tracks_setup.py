"""Giving a test merchant numbers: the tax office allocates (配號) a range through the staff API,
as it does for real; activating and assigning are left to the test (that is what it checks)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of, post_json

QR_KEY = "FE05F029154F6AA67A78B338ED2F6601"


def this_period() -> str:
    """Worked out by hand: ROC year and the even month closing today's two-month period."""
    today = datetime.now(TAIWAN_TZ).date()
    return f"{today.year - 1911:03d}{today.month + today.month % 2:02d}"


def random_track() -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return secrets.choice(letters) + secrets.choice(letters)


def random_begin(booklets: int) -> int:
    return secrets.randbelow(1_000_000 - booklets) * 50


def allocate(client: Any, staff_headers: dict[str, str], ubn: str, booklets: int) -> tuple[str, str, int]:
    """A fresh range of ``booklets`` booklets (50 numbers each) this period: (track_id, track, begin)."""
    track, begin = random_track(), random_begin(booklets)
    response = post_json(
        client,
        "/v1/admin/allocations",
        {
            "ubn": ubn,
            "period": this_period(),
            "invoice_type": "07",
            "track": track,
            "begin_no": f"{begin:08d}",
            "end_no": f"{begin + booklets * 50 - 1:08d}",
        },
        staff_headers,
    )
    assert response.status_code == 201, response.body
    return body_of(response)["track_id"], track, begin


def activate_and_assign(client: Any, headers: dict[str, str], track_id: str, assignments: list[dict[str, Any]]) -> None:
    """Through the JSON API, for tests whose subject is something else."""
    assert post_json(client, f"/v1/tracks/{track_id}/activate", {}, headers).status_code == 200
    response = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps({"assignments": assignments}),
    )
    assert response.status_code == 200, response.body


def ready_to_issue(client: Any, headers: dict[str, str]) -> None:
    response = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps({"settings": {"qr_aes_key": QR_KEY}}),
    )
    assert response.status_code == 200, response.body
