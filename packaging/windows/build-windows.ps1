# Build the Windows installer: PyInstaller bundle from packaging/calendar-app.spec, then Inno Setup.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build-windows.ps1
# Needs: Python 3.11 with the project installed with its `package` extra (pip install -e ".[package]"),
# and Inno Setup 6 (iscc.exe; preinstalled on GitHub's windows-latest runners, else `choco install innosetup`).
# NOT TESTED here (only Linux was): written for the release workflow's windows-latest runner.
$ErrorActionPreference = "Stop"
$project = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $project
$python = if ($env:PYTHON) { $env:PYTHON } else { "python" }
$version = & $python -c "import calendar_app; print(calendar_app.__version__)"

& $python -m PyInstaller --noconfirm --clean --log-level WARN `
    --distpath build\bundle --workpath build\pyinstaller packaging\calendar-app.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# The bundle must at least answer --version and pass its self-test before it is wrapped.
$cli = "build\bundle\calendar-app\calendar-app-cli.exe"
& $cli --version
if ($LASTEXITCODE -ne 0) { throw "the bundle does not start" }
& $cli --self-test
if ($LASTEXITCODE -ne 0) { throw "the bundle's self-test failed" }

$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $iscc "/DAppVersion=$version" "/DBundleDir=$project\build\bundle\calendar-app" "/DOutputDir=$project\dist" `
    packaging\windows\calendar-app.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Get-ChildItem dist\calendar-app-$version-setup.exe | ForEach-Object { "built $($_.FullName) ($([math]::Round($_.Length / 1MB, 1)) MB)" }
