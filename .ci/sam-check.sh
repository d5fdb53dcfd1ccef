#!/usr/bin/env bash
# Proves the SAM templates deploy as far as anything short of an AWS account can:
#   1. `sam validate --lint` on the root and every nested template (SAM transform + cfn-lint),
#   2. `cfn-lint` on all of them with .cfnlintrc.yaml,
#   3. `sam build` of the root (nested stacks are built recursively) with esbuild, into a temp dir,
#   4. every built bundle loads under Node and exports the handler its template names,
#   5. the IAM roles the local stack enforces equal those aws-sam-translator (in the same venv) generates.
# SAM CLI and cfn-lint come from a venv of pinned versions, so the result does not depend on the
# machine's Python packages. No AWS account is touched: the credentials are dummies.
#
# Environment: SAM_VENV (default .venv/sam), SAM_BUILD_DIR (default: a temp dir, removed at exit).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
venv=${SAM_VENV:-.venv/sam}
templates=(template.yaml db/template.yaml shared/template.yaml front/template.yaml api/template.yaml workflows/template.yaml)

log() { printf '\n== [%ss] %s\n' "$SECONDS" "$*"; }

if [[ ! -x "$venv/bin/sam" ]] || [[ "$("$venv/bin/sam" --version 2>/dev/null)" != *"$SAM_CLI_VERSION"* ]] \
  || [[ "$("$venv/bin/cfn-lint" --version 2>/dev/null)" != *"$CFN_LINT_VERSION"* ]]; then
  log "installing aws-sam-cli $SAM_CLI_VERSION and cfn-lint $CFN_LINT_VERSION into $venv"
  python3 -m venv "$venv"
  pip_log=$(mktemp)
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    exit 1
  fi
  rm -f "$pip_log"
fi
sam="$repo/$venv/bin/sam"
cfn_lint="$repo/$venv/bin/cfn-lint"
sam_python="$repo/$venv/bin/python"
[[ "$venv" = /* ]] && sam="$venv/bin/sam" && cfn_lint="$venv/bin/cfn-lint" && sam_python="$venv/bin/python"

# Dummy credentials and no shared config: nothing here may reach a real account.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0

for template in "${templates[@]}"; do
  log "sam validate --lint -t $template"
  "$sam" validate --lint -t "$template"
done

log "cfn-lint ${templates[*]}"
"$cfn_lint" --config-file .cfnlintrc.yaml -- "${templates[@]}"

log "local IAM roles = aws-sam-translator's roles (.ci/sam-roles.py)"
SAM_PYTHON="$sam_python" SAM_ROLES_REQUIRED=1 npx vitest run tests/unit/local/iam/sam-roles.test.ts

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_dir=${SAM_BUILD_DIR:-$work/build}

# CodeUri is the repo root, and SAM copies the whole CodeUri (except node_modules, .git, .aws-sam) once per
# function: build from a copy of just the files git would ship, not the venv or local stack data.
src="$work/src"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
else
  tar --exclude=./node_modules --exclude=./.git --exclude=./.venv --exclude=./.aws-sam -cf - . | tar -xf - -C "$src"
fi

log "sam build (root and nested stacks) into $build_dir"
started=$(date +%s)
(cd "$src" && "$sam" build --template-file template.yaml --build-dir "$build_dir" --cache-dir "$work/cache")
echo "sam build took $(($(date +%s) - started)) s"

log "built bundles load and export their handler"
# Each function is built into <build>/<Stack>/<Function>/<entry>.mjs; importing it proves the bundle resolves
# under Node (ESM, the createRequire banner) and that the Handler's export exists.
export POWERTOOLS_TRACE_ENABLED=false POWERTOOLS_DEV=false
checked=0
for stack_dir in "$build_dir"/*/; do
  for fn_dir in "$stack_dir"*/; do
    [[ -d "$fn_dir" ]] || continue
    bundle=$(find "$fn_dir" -maxdepth 1 -name '*.mjs' | head -n 1)
    [[ -n "$bundle" ]] || { echo "no .mjs bundle in $fn_dir" >&2; exit 1; }
    node --input-type=module -e "
      const m = await import(process.argv[1]);
      if (typeof m.handler !== 'function') { console.error('no exported handler in', process.argv[1]); process.exit(1); }
    " "$bundle"
    echo "ok $(basename "$stack_dir")/$(basename "$fn_dir") $(basename "$bundle")"
    checked=$((checked + 1))
  done
done
[[ $checked -gt 0 ]] || { echo "sam build produced no function bundles" >&2; exit 1; }
echo "sam-check: ${#templates[@]} templates valid, $checked functions built and loadable (${SECONDS} s)"
