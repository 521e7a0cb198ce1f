import csv
import io

import pytest

from shared.spreadsheet import csv_writer, safe_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","click")',
        "=1+1",
        "+44 cmd",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_text_that_would_start_a_formula_is_written_as_text(text):
    out = io.StringIO()
    csv_writer(out).writerow(["label", text])
    [row] = list(csv.reader(io.StringIO(out.getvalue())))
    assert row == ["label", "'" + text]


@pytest.mark.parametrize("value", [-12, 3.5, "-12.5", "+3", "plain words", "", None, "a=b"])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert safe_cell(value) == value


def test_writerows_neutralises_every_row():
    out = io.StringIO()
    csv_writer(out).writerows([["=1"], ["@x"]])
    assert out.getvalue().splitlines() == ["'=1", "'@x"]
