; Inno Setup 6 script: installs the PyInstaller bundle built from packaging/calendar-app.spec
; (the same spec as Linux and macOS) into Program Files, with a Start menu entry.
;   iscc /DAppVersion=0.1.0 /DBundleDir=..\..\build\bundle\calendar-app packaging\windows\calendar-app.iss
; packaging/windows/build-windows.ps1 runs PyInstaller and then this. NOT TESTED here: written for the
; release workflow's windows-latest runner (see packaging/README.md for what was tested where).
; User data never lives in the install folder: settings, the calendar database and the log are in
; %LOCALAPPDATA%\calendar-app (platformdirs), passwords in the Windows Credential Locker.
; An upgrade replaces the program files only; uninstalling leaves user data alone.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\build\bundle\calendar-app"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
; The AppId identifies the product across versions: keep it, or upgrades install side by side.
AppId={{6B1E2F0C-6F43-4C1B-9D7E-3A1F2C9B8E51}
AppName=Calendar
AppVersion={#AppVersion}
AppVerName=Calendar {#AppVersion}
AppPublisher=calendar-app team
DefaultDirName={autopf}\calendar-app
DefaultGroupName=Calendar
DisableProgramGroupPage=yes
OutputDir={#OutputDir}
OutputBaseFilename=calendar-app-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\calendar-app.ico
UninstallDisplayIcon={app}\calendar-app.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Admins deploy per machine; a rep without admin rights can still install for themselves.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
CloseApplications=yes
WizardStyle=modern

[Files]
; The whole one-folder bundle; stale files of an older version are removed first (see [InstallDelete]).
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A new version may drop modules; never let an old _internal folder mix with the new one.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Calendar"; Filename: "{app}\calendar-app.exe"; Comment: "Your appointments, kept in sync with Microsoft Exchange"
Name: "{autodesktop}\Calendar"; Filename: "{app}\calendar-app.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\calendar-app.exe"; Description: "{cm:LaunchProgram,Calendar}"; Flags: nowait postinstall skipifsilent
