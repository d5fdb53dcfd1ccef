#!/usr/bin/env bash
# Security scan of the six SAM templates with checkov, configured by .checkov.yaml (which checks are
# skipped, stack-wide, and why; resource-specific skips sit in each resource's Metadata). checkov comes
# from a venv of one pinned version, so the result does not depend on the machine's Python packages.
#
# Environment: CHECKOV_VENV (default .venv/checkov).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHECKOV_VERSION=3.3.30
venv=${CHECKOV_VENV:-.venv/checkov}

if [[ ! -x "$venv/bin/checkov" ]] || [[ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]]; then
  echo "installing checkov $CHECKOV_VERSION into $venv"
  python3 -m venv "$venv"
  pip_log=$(mktemp)
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    exit 1
  fi
  rm -f "$pip_log"
fi

# Exits non-zero on any failed check that is not skipped.
"$venv/bin/checkov" --config-file .checkov.yaml
echo "checkov $CHECKOV_VERSION: no failed check"
