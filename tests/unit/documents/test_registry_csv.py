"""The MOF business registration extract (BGMOPEN1.csv) as the tax office downloads it."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.documents.registry_csv import parse_registry_csv
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.tax_registry import RegistrationStatus

HEADER = (
    "營業地址,統一編號,總機構統一編號,營業人名稱,資本額,設立日期,組織別名稱,使用統一發票,"
    "行業代號,名稱,行業代號1,名稱1,行業代號2,名稱2,行業代號3,名稱3"
)
SUSPENDED_HEADER = (
    "營業地址,統一編號,總機構統一編號,營業人名稱,資本額,設立日期,組織別名稱,停業日期,使用統一發票,"
    "行業代號,名稱,行業代號1,名稱1,行業代號2,名稱2,行業代號3,名稱3"
)
STAMP = "10-APR-23" + "," * 15
INDUSTRY = "561112,飲料店,,,,,,"


def row(address: str, ubn: str, head: str, name: str) -> str:
    return f"{address},{ubn},{head},{name},1000000,0780101,獨資,Y,{INDUSTRY}"


def csv_bytes(*lines: str, bom: bool = False, newline: str = "\r\n") -> bytes:
    data = newline.join(lines).encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def test_the_published_layout_with_bom_and_stamp():
    data = csv_bytes(
        HEADER,
        STAMP,
        row("臺北市中正區重慶南路一段2號", "24634102", "", "範例商行"),
        row("新北市板橋區中山路一段161號", "04595257", "", "另一商號"),
        bom=True,
    )
    parsed = parse_registry_csv(data)
    assert parsed.stamp == "10-APR-23"
    assert parsed.stamp_date == date(2023, 4, 10)
    assert parsed.suspended_file is False
    assert parsed.rejected == []
    assert [(r.ubn, r.name, r.address, r.status) for r in parsed.records] == [
        ("24634102", "範例商行", "臺北市中正區重慶南路一段2號", RegistrationStatus.ACTIVE),
        ("04595257", "另一商號", "新北市板橋區中山路一段161號", RegistrationStatus.ACTIVE),
    ]


def test_quoted_fields_may_hold_commas_quotes_and_line_breaks():
    data = csv_bytes(
        HEADER,
        STAMP,
        row('"臺北市中正區重慶南路一段2號,3樓"', "24634102", "", '"範例商行 ""總店"""'),
        row('"高雄市\n前金區"', "04595257", "", "另一商號"),
    )
    parsed = parse_registry_csv(data)
    assert parsed.records[0].address == "臺北市中正區重慶南路一段2號,3樓"
    assert parsed.records[0].name == '範例商行 "總店"'
    assert parsed.records[1].address == "高雄市 前金區"  # a line break in a cell is layout
    assert parsed.rejected == []


def test_the_head_office_row_wins_over_branch_rows_of_the_same_ubn():
    data = csv_bytes(
        HEADER,
        STAMP,
        row("分店地址", "24634102", "04595257", "範例商行分店"),
        row("總店地址", "24634102", "", "範例商行"),
        row("另一分店", "24634102", "04595257", "範例商行二店"),
    )
    parsed = parse_registry_csv(data)
    assert [(r.ubn, r.name, r.address) for r in parsed.records] == [("24634102", "範例商行", "總店地址")]
    assert parsed.duplicate_rows == 2


def test_without_a_head_office_row_the_first_row_is_kept():
    data = csv_bytes(
        HEADER, row("一店", "24634102", "04595257", "一店名"), row("二店", "24634102", "04595257", "二店名")
    )
    parsed = parse_registry_csv(data)
    assert [r.name for r in parsed.records] == ["一店名"]
    assert parsed.stamp is None


def test_rows_with_a_bad_checksum_are_reported_with_their_line_not_imported():
    data = csv_bytes(
        HEADER,
        STAMP,
        row("地址一", "24634102", "", "好商行"),
        row("地址二", "24634103", "", "壞檢查碼"),
        row("地址三", "1234567", "", "七位數"),
        row("地址四", "04595257", "", ""),
    )
    parsed = parse_registry_csv(data)
    assert [r.ubn for r in parsed.records] == ["24634102"]
    assert [(r.line, r.ubn) for r in parsed.rejected] == [(4, "24634103"), (5, "1234567"), (6, "04595257")]
    assert "check digit" in parsed.rejected[0].reason
    assert parsed.rejected[0].reason_zh == "統一編號檢查碼錯誤"
    assert parsed.rejected[1].reason_zh == "統一編號不是 8 位數字"
    assert parsed.rejected[2].reason_zh == "營業人名稱空白"


def test_a_row_with_the_wrong_number_of_fields_is_reported():
    data = csv_bytes(HEADER, row("臺北市,中正區", "24634102", "", "未加引號"), row("地址", "04595257", "", "好"))
    parsed = parse_registry_csv(data)
    assert [r.ubn for r in parsed.records] == ["04595257"]
    assert parsed.rejected[0].line == 2
    assert "17" in parsed.rejected[0].reason


def test_the_suspended_extract_is_recognised_by_its_column_and_marked_suspended():
    line = f"臺中市西區民權路99號,24634102,,停業商行,500000,0950301,有限公司,1120301,N,{INDUSTRY}"
    parsed = parse_registry_csv(csv_bytes(SUSPENDED_HEADER, STAMP, line, bom=True))
    assert parsed.suspended_file is True
    assert [(r.ubn, r.name, r.address, r.status) for r in parsed.records] == [
        ("24634102", "停業商行", "臺中市西區民權路99號", RegistrationStatus.SUSPENDED)
    ]


def test_whitespace_around_fields_and_blank_lines_are_ignored():
    data = csv_bytes(HEADER, STAMP, "", row(" 地址 ", " 24634102 ", "", " 商行\u3000"), "", "", newline="\n")
    parsed = parse_registry_csv(data)
    assert [(r.ubn, r.name, r.address) for r in parsed.records] == [("24634102", "商行", "地址")]


def test_control_characters_in_a_name_are_rejected():
    parsed = parse_registry_csv(csv_bytes(HEADER, row("地址", "24634102", "", "商\x00行")))
    assert parsed.records == []
    assert parsed.rejected[0].reason_zh.startswith("營業人名稱：")
    assert "U+0000" in parsed.rejected[0].reason_zh


@pytest.mark.parametrize(
    ("address", "name", "column", "point"),
    [
        ("地址", "範例\u202e商行", "營業人名稱", "U+202E"),  # RIGHT-TO-LEFT OVERRIDE
        ("臺北市\ufeff中正區", "範例商行", "營業地址", "U+FEFF"),  # a BOM left by pasting files together
    ],
)
def test_bidi_and_bom_characters_reject_the_row_naming_the_column(address, name, column, point):
    parsed = parse_registry_csv(
        csv_bytes(HEADER, row(address, "24634102", "", name), row("地址", "04595257", "", "另一商號"))
    )
    assert [r.ubn for r in parsed.records] == ["04595257"]
    [rejected] = parsed.rejected
    assert (rejected.line, rejected.ubn) == (2, "24634102")
    assert column in rejected.reason and point in rejected.reason
    assert point in rejected.reason_zh


def test_cjk_extension_and_private_use_names_are_imported():
    # 𠀋 (Ext B) and U+E000 (a 造字 in the private-use area) are real characters of real names
    parsed = parse_registry_csv(csv_bytes(HEADER, row("地址", "24634102", "", "𠀋\ue000商行")))
    assert [r.name for r in parsed.records] == ["𠀋\ue000商行"]


def test_over_long_names_are_rejected_like_a_manual_entry_would_be():
    parsed = parse_registry_csv(csv_bytes(HEADER, row("地址", "24634102", "", "名" * 61)))
    assert parsed.records == []
    assert parsed.rejected[0].reason_zh == "營業人名稱超過 60 字"


def test_a_header_only_file_imports_nothing():
    parsed = parse_registry_csv(csv_bytes(HEADER, STAMP))
    assert parsed.records == [] and parsed.rejected == []
    assert parsed.stamp == "10-APR-23"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_CSV"),
        ("統一編號,營業人名稱\n24634102,商行".encode(), "INVALID_CSV_HEADER"),
        (b"name,ubn\n", "INVALID_CSV_HEADER"),
        ("營業地址,統一編號".encode("big5"), "INVALID_CSV_ENCODING"),
        (csv_bytes(HEADER, '"未結束的引號,24634102'), "MALFORMED_CSV"),
    ],
)
def test_a_file_that_is_not_the_registry_extract_is_refused_as_a_whole(data, code):
    with pytest.raises(InvalidInput) as raised:
        parse_registry_csv(data)
    assert raised.value.code == code
    assert raised.value.message and raised.value.message_zh
