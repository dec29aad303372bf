#!/usr/bin/env bash
# Under an X display (xvfb-run): start /usr/bin/calendar-app, save a picture of its main window
# (title "Calendar"), stop it. Fails when the window does not appear or the app dies first.
#   packaging/linux/screenshot-installed-app.sh PYTHON OUTPUT_PNG
set -euo pipefail
python="$1"
output="$2"
here="$(cd "$(dirname "$0")" && pwd)"
log="$(mktemp)"
"$python" "$here/screenshot_data.py"
/usr/bin/calendar-app >"$log" 2>&1 &
app_pid=$!
stop_app() {
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_app EXIT
if ! "$python" "$here/grab_window.py" --title Calendar --output "$output" --timeout 60; then
    echo "screenshot: the app's output:" >&2
    cat "$log" >&2
    kill -0 "$app_pid" 2>/dev/null || echo "screenshot: the app is no longer running" >&2
    exit 1
fi
kill -0 "$app_pid" 2>/dev/null || { echo "screenshot: the app exited right after showing its window" >&2; exit 1; }
