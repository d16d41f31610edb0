#!/usr/bin/env bash
# LocalStack (CloudWatch, SNS, SQS) in its own virtualenv, .venv-localstack, for the slow-tier tests that
# evaluate the rendered CloudWatch alarms (tests/test_cloudwatch_localstack.py). No Docker: the tests start
# `python -m localstack.runtime.main` on 127.0.0.1 themselves (tests/conftest_localstack.py).
#
# localstack-core 4.14 needs Python >= 3.13; the interpreter is $LOCALSTACK_PYTHON, else pyenv's 3.13, else
# python3.13 on PATH. The pins beside localstack-core are what it takes to start (each checked by leaving it
# out, with localstack-core 4.14.0 on Python 3.13.0):
#   cbor2<5.7              cbor2 6 -> "No component plugins found in namespace localstack.runtime.components"
#   pyopenssl==24.2.1      pyOpenSSL 26 -> "'X509' object has no attribute 'add_extensions'" (self-signed cert)
#   cryptography<44        without it service_identity pulls cryptography 50, on which pyOpenSSL 24.2.1 fails
#                          ("module 'lib' has no attribute 'GEN_EMAIL'")
#   service_identity       twisted's TLS imports it: "No module named 'service_identity'"
# Idempotent: does nothing when the virtualenv already has this version. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.14.0
VENV=.venv-localstack
PINS=("localstack-core[runtime]==$VERSION" 'cbor2<5.7' 'pyopenssl==24.2.1' 'cryptography>=41.0.5,<44' 'service_identity')

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("localstack-core") == sys.argv[1] else 1)
EOF
then
  echo "localstack $VERSION: already installed in $VENV"
  exit 0
fi

PY=${LOCALSTACK_PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then PY=$candidate; break; fi
  done
fi
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
  echo "install-localstack: no Python >= 3.13 found (set LOCALSTACK_PYTHON, or install pyenv's 3.13)" >&2
  exit 1
fi

start=$(date +%s)
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/python" -m pip install -q "${PINS[@]}" 2>&1 | grep -v '^WARNING: Location' || true
"$VENV/bin/python" -c "import localstack.runtime.main, localstack.services.cloudwatch.provider_v2" \
  || { echo "install-localstack: localstack did not install into $VENV" >&2; exit 1; }
echo "localstack $VERSION: installed into $VENV with $("$VENV/bin/python" --version) in $(( $(date +%s) - start )) s"
