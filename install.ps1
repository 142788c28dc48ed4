<#
.SYNOPSIS
  Installs the Budgie CLI for the current user on Windows, from an unpacked Windows package
  (budgie-VERSION-windows-ARCH.zip, which holds this script).

.DESCRIPTION
  Copies budgie.cmd, budgie.js, file-worker.js, proto\, README.md and LICENSE to %LOCALAPPDATA%\budgie, adds that
  folder to the user's PATH, and writes %LOCALAPPDATA%\budgie\config.yaml with every agent
  setting commented out (an existing one is never touched). Needs Node.js 20 or later on PATH;
  needs no administrator rights. Running it again upgrades in place.

  Only the CLI runs on Windows: the agent (budgie agent) needs Linux with containerd. The CLI
  reaches an agent only through the agent's local unix socket (--socket or BUDGIE_SOCKET); it has
  no network client, so on Windows it cannot drive an agent yet. What works here without an
  agent: budgie validate FILE.bun, budgie nest learn, budgie --help. Drive agents from the Linux
  machines they run on (over ssh, say), or from WSL, which is Linux.

.PARAMETER Prefix
  Where to install; default %LOCALAPPDATA%\budgie.

.PARAMETER Uninstall
  Removes what install.ps1 installed and the PATH entry; keeps config.yaml.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\install.ps1
.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
  [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'budgie'),
  [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$MinNodeMajor = 20
# The Windows package's contents (build-all.sh), besides this script.
$PackageFiles = @('budgie.cmd', 'budgie.js', 'file-worker.js', 'README.md', 'LICENSE')
$PackageDirs = @('proto')

function Fail([string]$Message) {
  [Console]::Error.WriteLine("install.ps1: $Message")
  exit 1
}

function Say([string]$Message) {
  Write-Output "install.ps1: $Message"
}

# The user's PATH as stored (REG_EXPAND_SZ, with %VARIABLES% unexpanded): going through
# [Environment]::SetEnvironmentVariable would expand them and change the value's type.
function Get-UserPathEntries {
  $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment')
  $value = $key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
  $key.Close()
  return @($value.Split(';') | Where-Object { $_ -ne '' })
}

function Set-UserPathEntries([string[]]$Entries) {
  $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment', $true)
  $key.SetValue('Path', ($Entries -join ';'), [Microsoft.Win32.RegistryValueKind]::ExpandString)
  $key.Close()
  # Tell Explorer (and the terminals it starts from now on) that the environment changed.
  Add-Type -Namespace Budgie -Name Env -MemberDefinition @'
[DllImport("user32.dll", SetLastError = true, CharSet = CharSet.Auto)]
public static extern IntPtr SendMessageTimeout(IntPtr hWnd, uint Msg, UIntPtr wParam, string lParam,
  uint fuFlags, uint uTimeout, out UIntPtr lpdwResult);
'@
  $result = [UIntPtr]::Zero
  [void][Budgie.Env]::SendMessageTimeout([IntPtr]0xffff, 0x1A, [UIntPtr]::Zero, 'Environment', 2, 5000, [ref]$result)
}

function Test-SameDir([string]$A, [string]$B) {
  return $A.TrimEnd('\') -ieq $B.TrimEnd('\')
}

function Remove-Program {
  foreach ($name in $PackageFiles + $PackageDirs) {
    $path = Join-Path $Prefix $name
    if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
  }
}

if ($Uninstall) {
  Remove-Program
  $entries = @(Get-UserPathEntries)
  $kept = @($entries | Where-Object { -not (Test-SameDir $_ $Prefix) })
  if ($kept.Count -ne $entries.Count) { Set-UserPathEntries $kept }
  Say "removed the Budgie CLI from $Prefix and $Prefix from your PATH"
  Say "kept $(Join-Path $Prefix 'config.yaml') (remove it by hand to forget everything)"
  exit 0
}

$source = $PSScriptRoot
foreach ($name in $PackageFiles + $PackageDirs) {
  if (-not (Test-Path -LiteralPath (Join-Path $source $name))) {
    Fail "$name not found beside install.ps1: run it from the unpacked budgie-VERSION-windows-ARCH folder"
  }
}

$node = Get-Command node -ErrorAction SilentlyContinue
if ($null -eq $node) { Fail "node not found on PATH: install Node.js $MinNodeMajor or later first" }
$nodeVersion = (& $node.Source --version).Trim()
if ([int]$nodeVersion.TrimStart('v').Split('.')[0] -lt $MinNodeMajor) {
  Fail "node $nodeVersion is too old: Budgie needs $MinNodeMajor or later"
}

# 1. The program: the old one out first, so that files a new version dropped do not linger.
New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
Remove-Program
foreach ($name in $PackageFiles + $PackageDirs) {
  Copy-Item -LiteralPath (Join-Path $source $name) -Destination $Prefix -Recurse -Force
}

# 2. PATH: the folder holding budgie.cmd, once.
if (@(Get-UserPathEntries | Where-Object { Test-SameDir $_ $Prefix }).Count -eq 0) {
  Set-UserPathEntries (@(Get-UserPathEntries) + $Prefix)
  Say "added $Prefix to your PATH (terminals opened from now on see it)"
}
if (@($env:Path.Split(';') | Where-Object { Test-SameDir $_ $Prefix }).Count -eq 0) {
  $env:Path = "$env:Path;$Prefix"
}

# 3. The config file: the agent's settings, the same as install.sh writes on Linux.
$config = Join-Path $Prefix 'config.yaml'
if (Test-Path -LiteralPath $config) {
  Say "kept the existing $config"
} else {
  $template = @'
# Budgie agent settings. Every key is optional: the values shown are the defaults.
# The agent runs on Linux only: copy this file to /etc/budgie/config.yaml on the machine that
# runs it. Flags (budgie agent --help) and BUDGIE_* environment variables win over this file.
#containerd: /run/containerd/containerd.sock
#namespace: budgie
#socket: /run/budgie/budgie.sock
#state_dir: /var/lib/budgie
#log_dir: /var/log/budgie
#node_name: <the hostname>
#log_level: info
#bridge: budgie0
#subnet: auto                # or an IPv4 CIDR such as 10.213.0.0/16
#publish_address: 0.0.0.0    # where published ports listen
#listen: 0.0.0.0:7447        # the peer API (mutual TLS), served while a cluster member
#advertise: <first non-loopback IPv4>
#mdns: on
#peers:                      # members to dial where multicast is blocked
#  - 192.168.1.20:7447
#heartbeat: 1s
#suspect_after: 3s
#dead_after: 10s
'@
  Set-Content -LiteralPath $config -Value $template -Encoding ASCII
  Say "wrote $config"
}

$version = (& (Join-Path $Prefix 'budgie.cmd') --version).Trim()
Say "installed $(Join-Path $Prefix 'budgie.cmd') ($version)"
Say 'the agent needs Linux with containerd; this CLI reaches an agent only through its local unix socket, so here: budgie validate, budgie nest learn'
