#!/usr/bin/env bash
# Install the system packages edu_guard needs: CJK fonts for the letters (Noto CJK),
# chromium for the browser tests, and Pango with HarfBuzz's subsetter for WeasyPrint. Installs with apt when missing and run as root; otherwise
# says exactly what to install and fails.
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
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
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
