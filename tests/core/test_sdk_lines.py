"""`parse_lines` and `parse_csv_rows`: line formats, headers, one bad line names itself."""

import pytest

from parkflow.sdk import PayloadError, parse_csv_rows, parse_lines

HEADER = "kind;value"


def words(line: str) -> str:
    """A stand-in parser: `ok;<word>` -> the word, anything else a PayloadError."""
    kind, _, value = line.partition(";")
    if kind != "ok":
        raise PayloadError(f"kind must be ok, got {kind[:20]!r}")
    return value


def cells(row: list[str]) -> str:
    if len(row) != 2:
        raise PayloadError(f"expected 2 fields, got {len(row)}")
    return "|".join(row)


def test_lines_split_on_lf_and_crlf_and_skip_blank_lines():
    payload = b"ok;a\r\n\r\nok;b\n   \nok;c"
    assert parse_lines(payload, words) == ["a", "b", "c"]


def test_the_header_is_skipped_only_when_it_comes_first():
    payload = f"\n{HEADER}\r\nok;a\n".encode()
    assert parse_lines(payload, words, header=HEADER) == ["a"]
    with pytest.raises(PayloadError, match=r"^line 2: a header line must be exactly 'kind;value'"):
        parse_lines(f"ok;a\n{HEADER}\nok;b\n".encode(), words, header=HEADER)


def test_without_a_header_the_header_line_is_data():
    with pytest.raises(PayloadError, match=r"^line 1: kind must be ok, got 'kind'$"):
        parse_lines(f"{HEADER}\nok;a\n".encode(), words)


def test_a_header_in_another_case_is_named_as_a_header_problem():
    with pytest.raises(
        PayloadError, match=r"^line 1: a header line must be exactly 'kind;value' and"
    ):
        parse_lines(b"KIND;Value \nok;a\n", words, header=HEADER)


def test_a_bad_line_rejects_the_payload_with_its_physical_line_number():
    payload = f"{HEADER}\nok;a\n\nbad;b\nok;c\n".encode()
    with pytest.raises(PayloadError, match=r"^line 4: kind must be ok, got 'bad'$"):
        parse_lines(payload, words, header=HEADER)


def test_parse_line_may_return_several_events_or_none():
    assert parse_lines(b"2\n0\n1\n", lambda line: ["x"] * int(line)) == ["x", "x", "x"]
    assert parse_lines(b"0\n", lambda line: []) == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", r"^payload is empty$"),
        (b" \r\n\n", r"^payload is empty$"),
        (b"ok;a\xff\n", "not valid UTF-8"),
        (f"{HEADER}\r\n\r\n".encode(), r"^payload has a header line but no data lines$"),
    ],
)
def test_payloads_without_data_lines_are_rejected(payload, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_lines(payload, words, header=HEADER)


def test_too_many_lines_are_rejected_with_the_count():
    assert len(parse_lines(b"ok;a\n" * 5, words, max_lines=5)) == 5
    with pytest.raises(
        PayloadError, match=r"^payload has 6 lines; at most 5 are accepted, split the feed$"
    ):
        parse_lines(b"ok;a\n" * 6, words, max_lines=5)


def test_bugs_in_parse_line_are_not_turned_into_payload_errors():
    with pytest.raises(KeyError):
        parse_lines(b"ok;a\n", lambda line: {}[line])


def test_csv_rows_honour_quoting_and_number_lines_physically():
    payload = b'a,"b, c"\n\n"d\ne",f\r\ng,h,i\n'
    with pytest.raises(PayloadError, match=r"^line 5: expected 2 fields, got 3$"):
        parse_csv_rows(payload, cells)
    assert parse_csv_rows(payload.rsplit(b"g", 1)[0], cells) == ["a|b, c", "d\ne|f"]


def test_csv_header_delimiter_and_spaces_after_it():
    payload = b"kind; value\nok; 1\r\n"
    assert parse_csv_rows(payload, cells, header=["kind", "value"], delimiter=";") == ["ok|1"]
    with pytest.raises(PayloadError, match=r"^line 2: a header row must be exactly 'kind;value'"):
        parse_csv_rows(b"ok;1\nkind;value\n", cells, header=("kind", "value"), delimiter=";")
    with pytest.raises(PayloadError, match=r"^line 1: a header row must be exactly 'kind,value'"):
        parse_csv_rows(
            b"Kind , VALUE\n", lambda row: words(";".join(row)), header=["kind", "value"]
        )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'ok,1\n\nok,"never closed\nstill open\n', r"^line 3: a quoted field is never closed"),
        (b"ok,1\rok,2\n", r"^line 1: a line break \(CR\) inside an unquoted field"),
        (b'ok,"a"b\n', r"^line 1: not valid CSV: "),
        (b"ok," + b"x" * 200_000, r"^line 1: a field is longer than \d+ characters$"),
        (b"kind,value\n\n", r"^payload has a header row but no data rows$"),
        (b'\n""\n', r"^payload is empty$"),
    ],
)
def test_csv_problems_are_worded_for_the_feed_operator(payload, reason):
    with pytest.raises(PayloadError, match=reason):
        parse_csv_rows(payload, cells, header=["kind", "value"])


def test_csv_too_many_lines_and_several_events_per_row():
    assert parse_csv_rows(b"a,b\n" * 3, lambda row: row, max_lines=3) == ["a", "b"] * 3
    with pytest.raises(PayloadError, match=r"^payload has 4 lines; at most 3 are accepted"):
        parse_csv_rows(b"a,b\n" * 4, lambda row: row, max_lines=3)
