#!/usr/bin/env bash
# Print the Depends: value for a PyInstaller bundle: the Debian packages that provide the shared
# libraries its ELF files link and the bundle does not carry itself, with the minimum versions
# from those packages' symbols/shlibs files (dpkg-shlibdeps, from dpkg-dev, does the work).
#   packaging/linux/deb-depends.sh STAGED_PACKAGE_ROOT BUNDLE_DIR_INSIDE_IT
# The bundle must already sit in the staged package tree (a directory with DEBIAN/), so that
# dpkg-shlibdeps resolves the bundle's $ORIGIN run paths.
set -euo pipefail
package_root="$(realpath "$1")"
bundle="$(realpath "$2")"
command -v dpkg-shlibdeps >/dev/null || { echo "deb-depends: dpkg-shlibdeps is missing (apt-get install dpkg-dev)" >&2; exit 2; }
[[ -d "$package_root/DEBIAN" ]] || { echo "deb-depends: $package_root has no DEBIAN/ directory" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
# dpkg-shlibdeps wants a source package's debian/control next to it; a minimal one will do.
printf 'Source: calendar-app\n\nPackage: calendar-app\nArchitecture: any\n' >"$work/debian/control"

mapfile -t elf_files < <(find "$bundle" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0 |
    xargs -0 -r sh -c 'for f; do [ "$(head -c 4 "$f" | od -An -tx1 | tr -d " \n")" = 7f454c46 ] && echo "$f"; done' sh |
    sort)
[[ ${#elf_files[@]} -gt 0 ]] || { echo "deb-depends: no ELF files in $bundle" >&2; exit 2; }
mapfile -t library_dirs < <(printf '%s\n' "${elf_files[@]}" | grep -E '\.so(\.[0-9]+)*$' | xargs -r -n1 dirname | sort -u)

# Warnings about unused linkage and $ORIGIN are noise for a bundle; errors are not.
if ! (cd "$work" && dpkg-shlibdeps -O --warnings=0 --ignore-missing-info \
        "${library_dirs[@]/#/-l}" "${elf_files[@]}") >"$work/out" 2>"$work/err"; then
    grep -E 'error' "$work/err" >&2 || cat "$work/err" >&2
    echo "deb-depends: a library the bundle links is not installed on this build machine; install the" \
         "package that provides it (see above) and build again" >&2
    exit 1
fi
sed -n 's/^shlibs:Depends=//p' "$work/out"
