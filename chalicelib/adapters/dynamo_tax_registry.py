"""Tax registry records in the merchants table: ``pk = REGISTRY#<ubn>``, ``sk = REGISTRY``."""

from __future__ import annotations

from chalicelib.adapters.aws import client
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.settings import get_settings

SORT_KEY = "REGISTRY"


def registry_key(ubn: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"REGISTRY#{ubn}"}, "sk": {"S": SORT_KEY}}


class DynamoTaxRegistry:
    def get(self, ubn: str) -> TaxRegistration | None:
        item = (
            client("dynamodb")
            .get_item(TableName=get_settings().merchants_table, Key=registry_key(ubn), ConsistentRead=True)
            .get("Item")
        )
        if item is None:
            return None
        return TaxRegistration(
            ubn=ubn,
            name=item["name"]["S"],
            address=item.get("address", {}).get("S", ""),
            status=RegistrationStatus(item["status"]["S"]),
        )
