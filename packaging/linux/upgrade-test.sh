#!/usr/bin/env bash
# Upgrades keep user data. Builds an older .deb from the same bundle (only the version in the
# control file differs), installs it, lets it create its database, adds an appointment, settings and
# a keyring entry, installs the given (newer) .deb over it, starts the new version on that data and
# checks everything is still there. Root only; run inside tests/run-with-keyring.sh (the keyring
# entry needs a Secret Service). Leaves the newer version installed.
#   packaging/linux/upgrade-test.sh PYTHON NEWER_DEB
set -euo pipefail
python="$1"
newer_deb="$(realpath "$2")"
project="$(cd "$(dirname "$0")/../.." && pwd)"
bundle="$project/build/bundle/calendar-app"
newer_version="$(dpkg-deb --field "$newer_deb" Version)"
older_version="${newer_version}~upgradetest"
dpkg --compare-versions "$older_version" lt "$newer_version"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The "rep's" home folders for this test (XDG_DATA_HOME is the keyring wrapper's throw-away one).
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache"
log_file="$XDG_STATE_HOME/calendar-app/log/calendar-app.log"
database_file="${XDG_DATA_HOME:?run inside tests/run-with-keyring.sh}/calendar-app/calendar.sqlite3"

installed_version() { dpkg-query -W -f '${Version}' calendar-app; }

# Start the installed app offscreen, wait until it has logged its start (it has then opened the
# database), check it is still running, stop it.
run_installed_app_once() {
    local starts_before app_pid waited=0
    starts_before="$(grep -c ' starting' "$log_file" 2>/dev/null || true)"
    QT_QPA_PLATFORM=offscreen /usr/bin/calendar-app >"$work/app-output" 2>&1 &
    app_pid=$!
    until [[ "$(grep -c ' starting' "$log_file" 2>/dev/null || true)" -gt "${starts_before:-0}" && -f "$database_file" ]]; do
        if ! kill -0 "$app_pid" 2>/dev/null || [[ $waited -ge 600 ]]; then
            echo "upgrade-test: FAIL: calendar-app $(installed_version) did not start on the user data:" >&2
            cat "$work/app-output" >&2
            kill "$app_pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    sleep 1
    kill -0 "$app_pid" 2>/dev/null || { echo "upgrade-test: FAIL: the app exited on start:" >&2; cat "$work/app-output" >&2; exit 1; }
    kill "$app_pid"
    wait "$app_pid" 2>/dev/null || true
}

older_deb="$("$project/packaging/linux/make-deb.sh" "$bundle" "$older_version" "$work/debs" \
    "$(dpkg-deb --field "$newer_deb" Depends)")"
echo "upgrade-test: installing the older build $older_version"
apt-get install -y -qq "$older_deb" >/dev/null
[[ "$(installed_version)" == "$older_version" ]]
run_installed_app_once
"$python" "$project/packaging/linux/upgrade_data.py" seed "$work/manifest.json"

echo "upgrade-test: upgrading to $newer_version"
apt-get install -y -qq "$newer_deb" >/dev/null
[[ "$(installed_version)" == "$newer_version" ]] ||
    { echo "upgrade-test: FAIL: $(installed_version) installed after the upgrade, expected $newer_version" >&2; exit 1; }
run_installed_app_once
"$python" "$project/packaging/linux/upgrade_data.py" verify "$work/manifest.json"
echo "upgrade-test: passed ($older_version -> $newer_version)"
