#!/usr/bin/env bash
# Installs everything jxdoc needs, only what is missing: Debian packages (CJK fonts, the PDF
# libraries, LibreOffice, Redis, PostgreSQL, Chromium), the virtual environment and the Python
# packages. Safe to run again: each step checks first. Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

# Debian packages. run: what documents need, and nginx, which reads requests whole in front of gunicorn
# (service/front.py). test: also the real servers and clients the tests start (LibreOffice to open
# docx and xlsx, driven through its UNO bridge python3-uno, Redis for Celery, PostgreSQL, Chromium for
# the browser tests, SoftHSM for a PKCS#11 signing token, Node.js for the npm packages the browser tests
# load: axe-core, and ofd.js, the independent OFD renderer; Gnumeric, whose ssconvert prints the xlsx
# as a second spreadsheet engine laying columns out as Excel does, tests/office/gnumeric.py).
run_pkgs=(fontconfig fonts-noto-cjk fonts-arphic-gkai00mp fonts-lxgw-wenkai texlive-lang-chinese fonts-liberation2
          libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils redis-server nginx-light)
test_pkgs=(libreoffice-writer-nogui libreoffice-calc-nogui python3-uno gnumeric postgresql chromium softhsm2
           nodejs)
pkgs=("${run_pkgs[@]}")
[ "$purpose" = test ] && pkgs+=("${test_pkgs[@]}")
# npm installs axe-core and ofd.js for the browser tests (package-lock.json); a Node.js that bundles npm will do.
[ "$purpose" = test ] && ! command -v npm >/dev/null && pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> 安装系统软件包: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: 3.11 from the machine, the project in a venv, reinstalled when pyproject.toml changes.
py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
    echo "==> 创建虚拟环境 .venv ($("$py" --version))"
    "$py" -m venv .venv
fi
stamp=".venv/.jxdoc-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "==> 安装 Python 依赖"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    rm -f .venv/.jxdoc-installed-*
    touch "$stamp"
fi
if [ "$purpose" = test ] && [ -f package-lock.json ]; then
    npm_stamp="node_modules/.jxdoc-installed-$(sha256sum package-lock.json | cut -c1-16)"
    if [ ! -f "$npm_stamp" ]; then
        echo "==> 安装浏览器测试依赖 (npm)"
        npm ci --silent --no-audit --no-fund
        touch "$npm_stamp"
    fi
fi
