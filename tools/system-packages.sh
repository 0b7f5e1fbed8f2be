#!/usr/bin/env bash
# Install the system packages edu_guard needs: CJK fonts for the letters (Noto CJK,
# and the free 仿宋/宋体 faces of the Fandol family), chromium for the browser tests,
# and Pango with HarfBuzz's subsetter for WeasyPrint. Installs with apt when missing and
# run as root; otherwise says exactly what to install and fails.
set -euo pipefail

missing=()
if ! fc-list :lang=zh 2>/dev/null | grep -qi 'Noto Serif CJK'; then
  missing+=(fonts-noto-cjk fontconfig)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
  missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fi
# HarfBuzz's subsetter makes WeasyPrint embed fonts in a fraction of the time.
if ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0'; then
  missing+=(libharfbuzz-subset0)
fi
# The letters' tests read the printed grid back with pdftotext (poppler-utils).
if ! command -v pdftotext >/dev/null 2>&1; then
  missing+=(poppler-utils)
fi
# The browser tests drive Debian's chromium through Playwright (never Playwright's downloads).
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
# The job queue's Redis storage is tested against a local Redis (tests/jobs, tests/test_multiprocess.py).
if ! command -v redis-server >/dev/null 2>&1; then
  missing+=(redis-server)
fi
if [ ${#missing[@]} -eq 0 ]; then
  :
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fc-cache -f >/dev/null 2>&1 || true
else
  echo "edu_guard needs these system packages (letters, browser tests): ${missing[*]}" >&2
  echo "Install them as root, e.g.:  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

# GB/T 9704 sets the body of a letter in 仿宋 and titles in 小标宋. A bureau's machines
# usually have 仿宋_GB2312 / 方正仿宋 and 方正小标宋 (commercial); the letters use them when
# installed. The free 仿宋 is FandolFang (and FandolSong Bold a 小标宋 substitute), from
# Debian's texlive-lang-chinese: only the font files are taken out of the package (GPL v3
# with the font exception), not TeX Live. bench/letter_fonts.py prints with them; the
# stylesheet still falls back to the Noto CJK subsets (see bench/README.md).
FANDOL_DIR=/usr/local/share/fonts/fandol
if ! fc-list 2>/dev/null | grep -q 'FandolFang'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the Fandol fonts (仿宋, 宋体) from texlive-lang-chinese into $FANDOL_DIR"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download texlive-lang-chinese >/dev/null 2>&1 || { apt-get update -qq && apt-get download texlive-lang-chinese >/dev/null; })
    dpkg-deb -x "$work"/texlive-lang-chinese_*.deb "$work/x"
    mkdir -p "$FANDOL_DIR"
    for f in FandolFang-Regular FandolSong-Regular FandolSong-Bold FandolHei-Regular FandolKai-Regular; do
      install -m 0644 "$work/x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/$f.otf" "$FANDOL_DIR/"
    done
    install -m 0644 "$work/x/usr/share/doc/texlive-doc/fonts/fandol/README" "$FANDOL_DIR/README"
    fc-cache -f >/dev/null 2>&1 || true
  else
    echo "The letters' 仿宋 face FandolFang is not installed; as root run: bash tools/system-packages.sh" >&2
    echo "(or install 仿宋_GB2312 / 方正仿宋; letters fall back to Noto Serif CJK meanwhile)" >&2
  fi
fi
