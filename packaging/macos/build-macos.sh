#!/usr/bin/env bash
# Build the macOS app and disk image: Calendar.app from packaging/calendar-app.spec (the same spec
# as Linux and Windows), then dist/calendar-app-VERSION.dmg with the app and an Applications link.
#   PYTHON=python3 packaging/macos/build-macos.sh
# Needs: macOS 11+, Python 3.11 with the project installed with its `package` extra; iconutil,
# hdiutil and codesign come with macOS. NOT TESTED here (only Linux was): written for the release
# workflow's macos-latest runner. The app is ad-hoc signed only; distributing it outside a managed
# fleet needs a Developer ID signature and notarisation (set CODESIGN_IDENTITY for the former).
# User data lives in ~/Library/Application Support/calendar-app, ~/Library/Logs/calendar-app and
# the login Keychain, never in the .app, so replacing the app (an upgrade) keeps it.
set -euo pipefail
project="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$project"
python="${PYTHON:-python3}"
version="$("$python" -c 'import calendar_app; print(calendar_app.__version__)')"

# The .icns the spec embeds, from the committed PNG renders of resources/calendar-app.svg.
iconset="build/calendar-app.iconset"
rm -rf "$iconset" && mkdir -p "$iconset"
for size in 16 32 128 256 512; do
    cp "resources/icons/hicolor/${size}x${size}/apps/calendar-app.png" "$iconset/icon_${size}x${size}.png"
done
for size in 16 32 128 256; do
    double=$((size * 2))
    cp "resources/icons/hicolor/${double}x${double}/apps/calendar-app.png" "$iconset/icon_${size}x${size}@2x.png"
done
iconutil -c icns "$iconset" -o build/calendar-app.icns

CALENDAR_APP_ICNS="$project/build/calendar-app.icns" "$python" -m PyInstaller --noconfirm --clean \
    --log-level WARN --distpath build/bundle --workpath build/pyinstaller packaging/calendar-app.spec
app="build/bundle/Calendar.app"
codesign --force --deep --sign "${CODESIGN_IDENTITY:--}" "$app"

# The bundle must answer --version and pass its self-test before it is wrapped.
"$app/Contents/MacOS/calendar-app" --version
"$app/Contents/MacOS/calendar-app" --self-test

staging="build/dmg"
rm -rf "$staging" && mkdir -p "$staging" dist
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
dmg="dist/calendar-app-$version.dmg"
rm -f "$dmg"
hdiutil create -volname "Calendar $version" -srcfolder "$staging" -fs HFS+ -format UDZO "$dmg"
echo "built $dmg ($(du -m "$dmg" | cut -f1) MB)"
