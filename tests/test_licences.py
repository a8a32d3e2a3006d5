"""The licence files, the citation and the README's pointers to them agree with pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_code_licence_is_mit_with_a_copyright_holder() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 The Tiny Graphs First authors" in text
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE", "LICENSE-CONTENT.md"]


def test_the_content_licence_names_cc_by_4_and_what_it_covers() -> None:
    text = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in text
    assert "[LICENSE](LICENSE)" in text and "`notebooks/`" in text


def test_the_citation_parses_and_matches_the_package() -> None:
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == PROJECT["version"]
    assert cff["license"] == ["MIT", "CC-BY-4.0"]
    assert cff["title"].startswith("Tiny Graphs First")
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])


def test_the_readme_points_to_the_licences_the_citation_and_how_to_report_an_error() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in ("(LICENSE)", "(LICENSE-CONTENT.md)", "(CITATION.cff)"):
        assert target in readme
    assert "**Found an error?**" in readme and "git rev-parse --short HEAD" in readme
