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

# GB/T 9704 sets the body of a letter in 仿宋, titles in 小标宋, headings in 黑体. A bureau's
# machines usually have 仿宋_GB2312 / 方正仿宋 and 方正小标宋 (commercial); the letters use
# them when installed (templates/letters/gbt9704.css). The free 仿宋 is FandolFang (with
# FandolHei 黑体 and FandolKai 楷体) from Debian's texlive-lang-chinese: only the font files
# are taken out of the package (GPL v3 with the font exception), not TeX Live. No free
# 小标宋 exists: titles fall back to Noto Serif CJK SC Bold (fonts-noto-cjk, above).
# Idempotent: nothing is downloaded when the three files are in place.
FANDOL_DIR=/usr/local/share/fonts/fandol
FANDOL_FONTS=(FandolFang-Regular FandolHei-Regular FandolKai-Regular)
fandol_missing=()
for f in "${FANDOL_FONTS[@]}"; do
  [ -f "$FANDOL_DIR/$f.otf" ] || fandol_missing+=("$f")
done
if [ ${#fandol_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the Fandol fonts (${fandol_missing[*]}) from texlive-lang-chinese into $FANDOL_DIR"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && { apt-get download texlive-lang-chinese >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get download texlive-lang-chinese >/dev/null; }; })
    dpkg-deb --fsys-tarfile "$work"/texlive-lang-chinese_*.deb \
      | tar -x -C "$work" --wildcards './usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/*' \
          './usr/share/doc/texlive-doc/fonts/fandol/README*' 2>/dev/null || true
    mkdir -p "$FANDOL_DIR"
    for f in "${FANDOL_FONTS[@]}"; do
      install -m 0644 "$work/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/$f.otf" "$FANDOL_DIR/"
    done
    for readme in "$work"/usr/share/doc/texlive-doc/fonts/fandol/README*; do
      [ -f "$readme" ] && install -m 0644 "$readme" "$FANDOL_DIR/README"
    done
    fc-cache -f "$FANDOL_DIR" >/dev/null 2>&1 || true
  else
    echo "The letters' 仿宋 face FandolFang is not installed; as root run: bash tools/system-packages.sh" >&2
    echo "(or install 仿宋_GB2312 / 方正仿宋; letters fall back to Noto Serif CJK SC meanwhile)" >&2
  fi
fi
