"""``stepgrad variants`` (app/cli.py): every file of a set written from a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main as cli
from solvers.variants.sets import VariantSet


def test_cli_writes_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "quiz"
    cli(["variants", "--count", "3", "--seed", "2020", "--out", str(out), "--no-pdf"])
    names = {p.name for p in out.iterdir()}
    assert {"sheets.html", "key.html", "variants.json", "answers.csv", "moodle.xml"} <= names
    assert (out / "static" / "css" / "app.css").exists()
    assert 'href="static/css/app.css"' in (out / "sheets.html").read_text()
    saved = VariantSet.model_validate_json((out / "variants.json").read_text())
    assert saved.count == 3 and saved.seed == 2020
    assert "5 files" in capsys.readouterr().out
