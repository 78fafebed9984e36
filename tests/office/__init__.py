"""Documents as a clerk's office suite prints them: LibreOffice (Writer and Calc) through
lo_convert.py, and, for the xlsx, Gnumeric as a second spreadsheet engine (gnumeric.py), both with
the project's fontconfig."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.office.gnumeric import print_with_gnumeric

ROOT = Path(__file__).resolve().parents[2]
FONTS_CONF = ROOT / "templates" / "official" / "fonts" / "fonts.conf"
CONVERTER = Path(__file__).with_name("lo_convert.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-uno (scripts/bootstrap.sh)
FONTS_ENV = {"FONTCONFIG_FILE": str(FONTS_CONF)}

# The spreadsheet engines the printed xlsx is checked with, by the name a test reports
XLSX_ENGINES = ("calc", "gnumeric")


def print_with_libreoffice(files: list[Path], out_dir: Path, profile: Path) -> dict[Path, Path]:
    """Each .docx/.xlsx printed to PDF by one LibreOffice process with the project's fontconfig;
    {input: its PDF}. Names must be unique by stem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **FONTS_ENV)
    subprocess.run([SYSTEM_PYTHON, str(CONVERTER), str(profile), str(out_dir), *map(str, files)],
                   check=True, env=env, timeout=1200)
    return {f: out_dir / f"{f.stem}.pdf" for f in files}


def print_office_files(files: list[Path], folder: Path) -> dict[str, dict[Path, Path]]:
    """Each .docx/.xlsx printed as the clerk's office suites print it: {engine: {input: its PDF}},
    "writer"/"calc" for LibreOffice (one process for all), and "gnumeric" for each .xlsx."""
    by_office = print_with_libreoffice(files, folder / "lo", folder / "profile")
    xlsx = [f for f in files if f.suffix == ".xlsx"]
    return {"writer": {f: p for f, p in by_office.items() if f.suffix == ".docx"},
            "calc": {f: p for f, p in by_office.items() if f.suffix == ".xlsx"},
            "gnumeric": print_with_gnumeric(xlsx, folder / "gnumeric", FONTS_ENV)}
