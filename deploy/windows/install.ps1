<#
.SYNOPSIS
Installs cantina-ops on Windows: the binary, a data directory with its
configuration, and scheduled tasks that run the worker and the scheduler
(and optionally the web process) at startup.

.DESCRIPTION
cantina-ops.exe is a console program, not a Windows service (it does not
speak the service control protocol), so it runs as scheduled tasks:

  \cantina-ops\cantina-ops-worker      cantina-ops.exe worker
  \cantina-ops\cantina-ops-scheduler   cantina-ops.exe scheduler
  \cantina-ops\cantina-ops-web         cantina-ops.exe web   (with -Web)

Each task starts at boot and is started again every 5 minutes if it is not
running (a task that is already running is left alone), so a process that
exits is back within 5 minutes. The tasks run in the data directory, where
cantina-ops reads its configuration from the file .env.

Running the script again updates the binary and the tasks; an existing
.env is never overwritten. -Uninstall removes the tasks and the binary and
keeps the data directory (configuration, backups, logs).

Run it from an elevated PowerShell (Run as administrator).

.PARAMETER Binary
The cantina-ops.exe to install (default: the one next to this script).

.PARAMETER InstallDir
Where the binary goes (default: C:\Program Files\cantina-ops).

.PARAMETER DataDir
Configuration (.env), backups and logs (default: C:\ProgramData\cantina-ops).
Only Administrators, SYSTEM and the -Credential account may read it.

.PARAMETER Web
Also run the web process (probes, API, console) as a task.

.PARAMETER Credential
Run the tasks as this account instead of SYSTEM (its password is stored by
Task Scheduler; the account needs "Log on as a batch job").

.PARAMETER Uninstall
Stop and remove the tasks and the installed binary; keep DataDir.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File .\install.ps1 -Web
#>
[CmdletBinding()]
param(
    [string]$Binary = (Join-Path $PSScriptRoot 'cantina-ops.exe'),
    [string]$InstallDir = (Join-Path $env:ProgramFiles 'cantina-ops'),
    [string]$DataDir = (Join-Path $env:ProgramData 'cantina-ops'),
    [switch]$Web,
    [System.Management.Automation.PSCredential]$Credential,
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$TaskPath = '\cantina-ops\'
$AllProcesses = @('worker', 'scheduler', 'web')
$Exe = Join-Path $InstallDir 'cantina-ops.exe'
$EnvFile = Join-Path $DataDir '.env'

function Test-Administrator {
    $id = [Security.Principal.WindowsIdentity]::GetCurrent()
    (New-Object Security.Principal.WindowsPrincipal $id).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
}

function Get-CantinaTask([string]$Process) {
    Get-ScheduledTask -TaskPath $TaskPath -TaskName "cantina-ops-$Process" -ErrorAction SilentlyContinue
}

# Stop-CantinaTasks stops every running task of ours: a running
# cantina-ops.exe cannot be replaced or deleted. Stopping ends the process at
# once; a task it was running goes back to its queue and is retried.
function Stop-CantinaTasks {
    foreach ($p in $AllProcesses) {
        $t = Get-CantinaTask $p
        if ($t -and $t.State -eq 'Running') {
            Write-Host "Stopping cantina-ops-$p"
            $t | Stop-ScheduledTask
        }
    }
}

if (-not (Test-Administrator)) {
    throw 'Run this script from an elevated PowerShell (Run as administrator).'
}

if ($Uninstall) {
    Stop-CantinaTasks
    foreach ($p in $AllProcesses) {
        $t = Get-CantinaTask $p
        if ($t) {
            $t | Unregister-ScheduledTask -Confirm:$false
            Write-Host "Removed task cantina-ops-$p"
        }
    }
    if (Test-Path $InstallDir) {
        Remove-Item -Recurse -Force $InstallDir
        Write-Host "Removed $InstallDir"
    }
    Write-Host "Kept $DataDir (configuration, backups, logs): delete it by hand if you no longer need them."
    return
}

if (-not (Test-Path -PathType Leaf $Binary)) {
    throw "cantina-ops.exe not found at ${Binary}: pass -Binary PATH\cantina-ops.exe"
}

# The binary.
Stop-CantinaTasks
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
if ((Resolve-Path $Binary).Path -ne $Exe) {
    Copy-Item -Force $Binary $Exe
}
Write-Host "Installed $Exe"

# The data directory: Administrators (S-1-5-32-544) and SYSTEM (S-1-5-18)
# only, plus the tasks' account; well-known SIDs work in every language.
foreach ($d in @($DataDir, (Join-Path $DataDir 'backups'), (Join-Path $DataDir 'logs'))) {
    New-Item -ItemType Directory -Force -Path $d | Out-Null
}
$grants = @('*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F')
if ($Credential) {
    $grants += "$($Credential.UserName):(OI)(CI)M"
}
& icacls.exe $DataDir /inheritance:r /grant:r @grants | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $DataDir failed (exit $LASTEXITCODE)" }

# The configuration: created once from a template, never overwritten.
$newConfig = $false
if (-not (Test-Path -PathType Leaf $EnvFile)) {
    $newConfig = $true
    $template = @"
# cantina-ops configuration: read by cantina-ops.exe from its working
# directory ($DataDir). Real environment variables win over this file.
# Every variable is described in the README's configuration table.
# Check it with:  cd $DataDir; & '$Exe' config check

# The POS database and the queue Redis.
DATABASE_URL=mysql://USER:PASSWORD@127.0.0.1:3306/cantina
REDIS_URL=redis://127.0.0.1:6379/0

# Backups (native engine; mysqldump.exe is not needed).
BACKUP_DIR=$DataDir\backups
BACKUP_SCHEDULE=0 2 * * *
BACKUP_RETENTION_DAYS=30
BACKUP_KEEP_MIN=7
# SCHEDULE_TZ=Europe/Madrid

# Log file with rotation (the tasks have no console to write to).
LOG_FILE=$DataDir\logs\cantina-ops.log
LOG_MAX_SIZE_MB=10

# Email alerts (same names as Django).
# EMAIL_HOST=smtp.example.com
# EMAIL_PORT=587
# EMAIL_HOST_USER=
# EMAIL_HOST_PASSWORD=
# NOTIFY_EMAILS=admin@example.com

# Web process (with -Web).
# PORT=8080
# CONSOLE_USER=admin
# CONSOLE_PASSWORD=
"@
    # UTF-8 without a byte-order mark, in Windows PowerShell 5.1 as in 7.
    [IO.File]::WriteAllText($EnvFile, $template, (New-Object Text.UTF8Encoding $false))
    Write-Host "Created $EnvFile from the template"
}
$envGrants = @('*S-1-5-32-544:F', '*S-1-5-18:F')
if ($Credential) {
    $envGrants += "$($Credential.UserName):R"
}
& icacls.exe $EnvFile /inheritance:r /grant:r @envGrants | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls on $EnvFile failed (exit $LASTEXITCODE)" }

# The tasks.
$processes = @('worker', 'scheduler')
if ($Web) { $processes += 'web' }
$settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit ([TimeSpan]::Zero) `
    -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -StartWhenAvailable `
    -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
foreach ($p in $processes) {
    $action = New-ScheduledTaskAction -Execute $Exe -Argument $p -WorkingDirectory $DataDir
    $triggers = @(
        (New-ScheduledTaskTrigger -AtStartup),
        # Starts the process again if it has exited; IgnoreNew leaves a running one alone.
        (New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 5))
    )
    $register = @{
        TaskName    = "cantina-ops-$p"
        TaskPath    = $TaskPath
        Action      = $action
        Trigger     = $triggers
        Settings    = $settings
        Description = "cantina-ops $p (installed by deploy\windows\install.ps1)"
        Force       = $true
    }
    if ($Credential) {
        $register.User = $Credential.UserName
        $register.Password = $Credential.GetNetworkCredential().Password
        $register.RunLevel = 'Limited'
    } else {
        $register.Principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    }
    Register-ScheduledTask @register | Out-Null
    Write-Host "Registered task $TaskPath`cantina-ops-$p"
}
# A process left out this time (web without -Web) loses its task.
foreach ($p in $AllProcesses) {
    if ($processes -notcontains $p) {
        $t = Get-CantinaTask $p
        if ($t) {
            $t | Unregister-ScheduledTask -Confirm:$false
            Write-Host "Removed task cantina-ops-$p"
        }
    }
}

if ($newConfig) {
    Write-Host ''
    Write-Host "Next: edit $EnvFile (DATABASE_URL, REDIS_URL, email) and check it:"
    Write-Host "  cd '$DataDir'; & '$Exe' config check"
    Write-Host 'The tasks start at boot and every 5 minutes; to start them now:'
    foreach ($p in $processes) { Write-Host "  Start-ScheduledTask -TaskPath '$TaskPath' -TaskName cantina-ops-$p" }
    return
}

$ok = $false
Push-Location $DataDir
try {
    & $Exe config check
    $ok = ($LASTEXITCODE -eq 0)
} finally {
    Pop-Location
}
if (-not $ok) {
    Write-Warning "config check failed: fix $EnvFile, then start the tasks with Start-ScheduledTask -TaskPath '$TaskPath' -TaskName cantina-ops-worker (and -scheduler, -web)."
    return
}
foreach ($p in $processes) {
    Start-ScheduledTask -TaskPath $TaskPath -TaskName "cantina-ops-$p"
    Write-Host "Started cantina-ops-$p"
}
Write-Host "Check it with:  cd '$DataDir'; & '$Exe' health --verbose"
