#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret
# Service), with a throw-away XDG_DATA_HOME so the login keyring is new every run.
# Without dbus-run-session or gnome-keyring the command runs as is; the keyring tests then
# skip locally and fail in CI (CI installs both).
set -euo pipefail
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    keyring_home="$(mktemp -d)"
    trap 'rm -rf "$keyring_home"' EXIT
    export XDG_DATA_HOME="$keyring_home/data"
    mkdir -p "$XDG_DATA_HOME"
    export CALENDAR_APP_TEST_KEYRING=1
    dbus-run-session -- sh -c '
        printf "%s" "throwaway-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        exec "$@"' sh "$@"
else
    echo "run-with-keyring: dbus-run-session or gnome-keyring-daemon missing; Secret Service tests will not run" >&2
    exec "$@"
fi
