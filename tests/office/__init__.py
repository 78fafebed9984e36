"""Documents as a clerk's office suite prints them: LibreOffice, through lo_convert.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FONTS_CONF = ROOT / "templates" / "official" / "fonts" / "fonts.conf"
CONVERTER = Path(__file__).with_name("lo_convert.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-uno (scripts/bootstrap.sh)


def print_with_libreoffice(files: list[Path], out_dir: Path, profile: Path) -> dict[Path, Path]:
    """Each .docx/.xlsx printed to PDF by one LibreOffice process with the project's fontconfig;
    {input: its PDF}. Names must be unique by stem."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF))
    subprocess.run([SYSTEM_PYTHON, str(CONVERTER), str(profile), str(out_dir), *map(str, files)],
                   check=True, env=env, timeout=1200)
    return {f: out_dir / f"{f.stem}.pdf" for f in files}
