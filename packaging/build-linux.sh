#!/usr/bin/env bash
# Build the Linux installer: the PyInstaller one-folder bundle (build/bundle/calendar-app) and a
# .deb (dist/calendar-app_VERSION_ARCH.deb). `make package` runs this with the project's venv.
#   PYTHON=.venv/bin/python packaging/build-linux.sh [--deb-version VERSION]
# Needs: the project installed with its `package` extra (PyInstaller), dpkg-dev (dpkg-shlibdeps,
# and binutils for PyInstaller), and the system libraries the bundle links (see .ci/run).
# Reports the .deb's size and how long the bundle takes to answer --version.
set -euo pipefail
project="$(cd "$(dirname "$0")/.." && pwd)"
cd "$project"
python="${PYTHON:-$project/.venv/bin/python}"
app_version="$("$python" -c 'import calendar_app; print(calendar_app.__version__)')"
deb_version="$app_version"
if [[ "${1:-}" == "--deb-version" ]]; then
    deb_version="${2:?--deb-version needs a value}"
fi
"$python" -c 'import PyInstaller' 2>/dev/null ||
    { echo "build-linux: PyInstaller is missing; install the package extra: pip install -e '.[package]'" >&2; exit 2; }

started=$SECONDS
echo "build-linux: bundling calendar-app $app_version with PyInstaller"
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath build/bundle --workpath build/pyinstaller packaging/calendar-app.spec
bundle="build/bundle/calendar-app"


echo "build-linux: packing the .deb"
deb="$(packaging/linux/make-deb.sh "$bundle" "$deb_version" dist)"
deb_bytes="$(stat -c %s "$deb")"

# Start-up time: the best of five runs of --version (the first one also warms the page cache).
best_ms=""
for _ in 1 2 3 4 5; do
    start_ns=$(date +%s%N)
    "$bundle/calendar-app" --version >/dev/null
    elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
    if [[ -z "$best_ms" || $elapsed_ms -lt $best_ms ]]; then best_ms=$elapsed_ms; fi
done

echo "build-linux: built $deb"
printf 'build-linux: bundle %s MB, .deb %s MB (limit 90 MB), --version in %s ms (target < 500 ms), %s s\n' \
    "$(du -sm "$bundle" | cut -f1)" "$(awk -v b="$deb_bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$best_ms" "$((SECONDS - started))"
echo "build-linux: Depends: $(dpkg-deb --field "$deb" Depends)"
