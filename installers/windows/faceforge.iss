; Inno Setup 6 script for FaceForge: a per-user install (no administrator rights) of the PyInstaller onedir folder,
; with a Start-menu entry and an optional desktop icon. installers\build.py compiles it with:
;   ISCC.exe /DAppVersion=X /DSourceDir=build\installers\dist\FaceForge /DOutputDir=dist /DIconFile=...\faceforge.ico
; The bundle is CPU-only (PyTorch's CPU build); GPU users install with pip instead (README, Install).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\installers\dist\FaceForge"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6F1D2C7A-3B9E-4E51-9C0B-FACEF0A6E001}
AppName=FaceForge
AppVersion={#AppVersion}
AppPublisher=FaceForge
DefaultDirName={localappdata}\Programs\FaceForge
DefaultGroupName=FaceForge
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir={#OutputDir}
OutputBaseFilename=FaceForge-{#AppVersion}-windows-setup
Compression=lzma2/ultra64
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
UninstallDisplayIcon={app}\FaceForge.exe
#ifdef IconFile
SetupIconFile={#IconFile}
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\FaceForge"; Filename: "{app}\FaceForge.exe"
Name: "{autodesktop}\FaceForge"; Filename: "{app}\FaceForge.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\FaceForge.exe"; Description: "{cm:LaunchProgram,FaceForge}"; Flags: nowait postinstall skipifsilent
