from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _aws(local_aws: object) -> object:
    return local_aws
