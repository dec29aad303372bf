#!/usr/bin/env bash
# Wrap a built bundle into a .deb: /opt/calendar-app (the bundle), /usr/bin/calendar-app, the menu
# entry, AppStream metainfo and icons.
#   packaging/linux/make-deb.sh BUNDLE_DIR VERSION OUT_DIR [DEPENDS]
# DEPENDS (the Depends: value) is computed from the bundle when not given; the upgrade test passes
# it in to build two versions from one bundle quickly. Prints the path of the .deb it wrote.
set -euo pipefail
project="$(cd "$(dirname "$0")/../.." && pwd)"
bundle="$(realpath "$1")"
version="$2"
out_dir="$3"
depends="${4:-}"
app_id="com.example.CalendarApp"
architecture="$(dpkg --print-architecture)"

[[ -x "$bundle/calendar-app" ]] || { echo "make-deb: $bundle/calendar-app is not a built bundle" >&2; exit 2; }
dpkg --validate-version "$version" 2>/dev/null || { echo "make-deb: '$version' is not a Debian version" >&2; exit 2; }

stage="$(mktemp -d "${TMPDIR:-/tmp}/calendar-app-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/calendar-app"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/metainfo" \
         "$root/usr/share/doc/calendar-app"
cp -a "$bundle" "$root/opt/calendar-app"
ln -s /opt/calendar-app/calendar-app "$root/usr/bin/calendar-app"
install -m 0644 "$project/resources/$app_id.desktop" "$root/usr/share/applications/$app_id.desktop"
install -m 0644 "$project/resources/$app_id.metainfo.xml" "$root/usr/share/metainfo/$app_id.metainfo.xml"
for png in "$project"/resources/icons/hicolor/*/apps/calendar-app.png; do
    size_dir="$(basename "$(dirname "$(dirname "$png")")")"
    install -D -m 0644 "$png" "$root/usr/share/icons/hicolor/$size_dir/apps/calendar-app.png"
done
install -D -m 0644 "$project/resources/calendar-app.svg" "$root/usr/share/icons/hicolor/scalable/apps/calendar-app.svg"
cat >"$root/usr/share/doc/calendar-app/copyright" <<'COPYRIGHT'
calendar-app: proprietary, all rights reserved by the calendar-app team.
The bundle in /opt/calendar-app also carries Python (PSF License), Qt and PySide6 (LGPLv3),
exchangelib (BSD-2-Clause), cryptography (Apache-2.0 or BSD-3-Clause), keyring (MIT), lxml
(BSD-3-Clause), requests (Apache-2.0) and tzdata (Apache-2.0); their licences are in the bundle's
*.dist-info folders or at their projects' sites.
COPYRIGHT
# Group/other write bits from the build machine's umask must not reach the installed system.
chmod -R go-w "$root"

if [[ -z "$depends" ]]; then
    depends="$("$project/packaging/linux/deb-depends.sh" "$root" "$root/opt/calendar-app")"
fi
installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
# No maintainer scripts: the icon cache and the menu are refreshed by the dpkg triggers of
# hicolor-icon-theme and desktop-file-utils. User data lives in the home folder (XDG paths) and
# the keyring, never under /opt, so upgrades and even --purge leave it alone.
cat >"$root/DEBIAN/control" <<CONTROL
Package: calendar-app
Version: $version
Architecture: $architecture
Maintainer: calendar-app team <calendar-app@example.com>
Section: misc
Priority: optional
Installed-Size: $installed_kb
Depends: $depends
Recommends: gnome-keyring | keepassxc
Description: sales team calendar in two-way sync with Microsoft Exchange
 Reps create, edit and cancel appointments locally, online or offline; a
 background engine keeps them in sync with their Exchange mailbox (EWS).
 An administrator connects it once: the server's TLS certificate, a
 keystore, the NTLM account. Passwords stay in the system keyring.
 .
 Self-contained: Python, Qt and the Python libraries are bundled in
 /opt/calendar-app; run 'calendar-app --self-test' to check an installation.
CONTROL

mkdir -p "$out_dir"
deb="$(realpath "$out_dir")/calendar-app_${version}_${architecture}.deb"
dpkg-deb --build --root-owner-group -Zzstd "$root" "$deb" >/dev/null
echo "$deb"
