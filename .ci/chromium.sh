#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver from the OS packages when missing, for the
# progress page's browser test (tests/api/progress_page.rs). Idempotent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
echo "installing chromium and chromium-driver from the OS packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
