"""adapters.dynamo's item conversion agrees with boto3's TypeSerializer/TypeDeserializer, which it
replaces so the API function need not import boto3 (the reference below is the previous code)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.adapters.dynamo import from_item, to_item

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are never stored; use Decimal")
    if isinstance(value, bool | str | Decimal | bytes) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Mapping):
        return {k: _storable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, set | frozenset):
        return set(value) if value else None
    return value


def reference_to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(_storable(v)) for k, v in values.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Binary):
        return bytes(value)  # the one intended difference: bytes, not boto3's wrapper
    if isinstance(value, set):
        return {bytes(v) if isinstance(v, Binary) else v for v in value}
    return value


def reference_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


numbers = st.integers(min_value=-(10**40), max_value=10**40) | st.decimals(
    allow_nan=False, allow_infinity=False, min_value=Decimal("-1e40"), max_value=Decimal("1e40")
)
scalars = st.none() | st.booleans() | st.text(max_size=8) | numbers | st.binary(max_size=8)
sets = st.frozensets(st.text(max_size=4), max_size=3) | st.frozensets(st.integers(-5, 5), max_size=3)
values = st.recursive(
    scalars | sets,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


def _outcome(convert: Any, item: Any) -> Any:
    try:
        return convert(item)
    except ArithmeticError:
        return "refused: a number DynamoDB cannot hold"
    except TypeError:
        return "refused: a type DynamoDB has not"


@given(st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=4))
def test_items_convert_as_boto3_converts_them_both_ways(item: dict[str, Any]) -> None:
    ours, theirs = _outcome(to_item, item), _outcome(reference_to_item, item)
    assert ours == theirs
    if isinstance(theirs, dict):
        assert from_item(ours) == reference_from_item(theirs)


def test_floats_and_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        to_item({"a": 1.5})
    with pytest.raises(TypeError):
        to_item({"a": {"b": [0.5]}})
    with pytest.raises(TypeError):
        to_item({"a": object()})
