"""The read-only PowerShell the Windows collector runs. Each prints base64 of UTF-8 so no code page can garble it.

Kept short: pywinrm passes a script on one command line.
"""

from __future__ import annotations

import re
from datetime import date

EMIT = "[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes(($o | ConvertTo-Json -Depth 5 -Compress)))"

# auditpol /backup carries a numeric setting column that does not depend on the display language;
# it can only write to a file, so the file goes to %TEMP% and is removed at once.
AUDIT_POLICY = r"""$f = Join-Path $env:TEMP ("auditpack-" + [guid]::NewGuid() + ".csv")
auditpol /backup /file:$f | Out-Null
$c = [IO.File]::ReadAllText($f); Remove-Item $f -Force
[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($c))"""

SECURITY_LOG = (
    r"""$l = Get-WinEvent -ListLog Security
$e = Get-WinEvent -LogName Security -Oldest -MaxEvents 1 -ErrorAction SilentlyContinue
$o = @{max_size_bytes=[int64]$l.MaximumSizeInBytes; log_mode=[int]$l.LogMode; record_count=[int64]$l.RecordCount
 oldest_record=$(if ($e) { $e.TimeCreated.ToUniversalTime().ToString('o') } else { $null })}
"""
    + EMIT
)

# Counted with EventLogReader, never rendering messages: fast on large DC logs and language-independent.
# __SINCE__ is the first UTC day to read (a quoted ISO date: the day before the last day this host's log was read,
# so one day overlaps) or $null for a host never read, which reads all the log holds. The time condition goes into
# the XPath query, so the event log service hands over only the new days' records: the work grows with those days.
SECURITY_EVENTS = (
    r"""$since = __SINCE__
$ids = 4624,4625,4634,4647,4663,4719,4725,4740,5140,5145,1102
$w = if ($since) { " and TimeCreated[@SystemTime>='$($since)T00:00:00.000Z']" } else { '' }
$q = "*[System[(" + (($ids | % { "EventID=$_" }) -join ' or ') + ")$w]]"
$R = 'System.Diagnostics.Eventing.Reader'
$r = New-Object "$R.EventLogReader" (New-Object "$R.EventLogQuery" 'Security', ([type]"$R.PathType")::LogName, $q)
$d = @{}; $n = @(); $x = @()
while ($e = $r.ReadEvent()) {
 $t = $e.TimeCreated.ToUniversalTime(); $k = $t.ToString('yyyy-MM-dd'); $i = [string]$e.Id
 if (-not $d[$k]) { $d[$k] = @{} }; $d[$k][$i] = 1 + [int]$d[$k][$i]
 $p = @($e.Properties | % { [string]$_.Value })
 if ($e.Id -in 1102,4719) { $n += @{event_id=$e.Id; time=$t.ToString('o'); by="$($p[2])\$($p[1])"} }
 if ($e.Id -eq 4725) { $x += @{account=$p[0]; domain=$p[1]; time=$t.ToString('o'); by="$($p[5])\$($p[4])"} }
 $e.Dispose() }
$old = Get-WinEvent -LogName Security -Oldest -MaxEvents 1 -ErrorAction SilentlyContinue
$now = (Get-Date).ToUniversalTime(); $from = $now
if ($since) { $from = [datetime]::ParseExact($since, 'yyyy-MM-dd', $null, 'AssumeUniversal,AdjustToUniversal') }
if ($old -and (-not $since -or $old.TimeCreated.ToUniversalTime() -gt $from)) { $from = $old.TimeCreated.ToUniversalTime() }
$o = @{requested_from=$since; covered_from=$from.ToString('o'); covered_to=$now.ToString('o'); days=$d; notable=$n; disabled=$x}
"""
    + EMIT
)

FIREWALL = (
    r"""$p = @(Get-NetFirewallProfile -PolicyStore ActiveStore | % { @{name=[string]$_.Name; enabled=[int]$_.Enabled
 inbound=[int]$_.DefaultInboundAction; outbound=[int]$_.DefaultOutboundAction; log_allowed=[int]$_.LogAllowed; log_blocked=[int]$_.LogBlocked} })
$f = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName FirewallProduct -ErrorAction SilentlyContinue | % { [string]$_.displayName })
$o = @{profiles=$p; third_party=$f}
"""
    + EMIT
)

ANTIVIRUS = (
    r"""$a = @(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct -ErrorAction SilentlyContinue |
 % { @{name=[string]$_.displayName; state=[int]$_.productState; timestamp=[string]$_.timestamp} })
$m = $null
try { $s = Get-MpComputerStatus -ErrorAction Stop
 $m = @{enabled=[bool]$s.AntivirusEnabled; realtime=[bool]$s.RealTimeProtectionEnabled; engine=[string]$s.AMEngineVersion
  signature=$s.AntivirusSignatureLastUpdated.ToUniversalTime().ToString('o')} } catch { }
$c = $null; $ca = Join-Path $env:ProgramFiles 'McAfee\Agent\cmdagent.exe'
if (Test-Path $ca) { $c = (& $ca -i) -join "`n" }
$o = @{antivirus=$a; defender=$m; mcafee_agent=$c}
"""
    + EMIT
)

# auditpack doctor's one script after the WinRM logon: which account it runs as, on which machine. Reads nothing else.
LOGON_CHECK = (
    r"""$o = @{computer=[string]$env:COMPUTERNAME; account="$env:USERDOMAIN\$env:USERNAME"; powershell=[string]$PSVersionTable.PSVersion}
"""
    + EMIT
)

# Windows Server Backup and Veeam take the same __SINCE__ as the Security log, from this host's last backup listing:
# only the jobs that started since then are sent (the history itself cannot be asked for a date, only for the last N).
WINDOWS_BACKUP = (
    r"""$since = __SINCE__
$from = if ($since) { [datetime]::ParseExact($since, 'yyyy-MM-dd', $null, 'AssumeUniversal,AdjustToUniversal') } else { $null }
$o = @{available=$false; requested_from=$since; jobs=@()}
if (Get-Command Get-WBJob -ErrorAction SilentlyContinue) {
 $o.available = $true
 $o.jobs = @(Get-WBJob -Previous 400 | ? { -not $since -or $_.StartTime.ToUniversalTime() -ge $from } | % { @{type=[string]$_.JobType; start=$_.StartTime.ToUniversalTime().ToString('o')
  end=$(if ($_.EndTime) { $_.EndTime.ToUniversalTime().ToString('o') } else { $null }); hresult=[int64]$_.HResult} }) }
"""
    + EMIT
)


# Veeam Backup & Replication, on its own server: one record per protected machine per session.
# Enum names (Success, Warning, Failed) are code identifiers, not translated text.
VEEAM = (
    r"""$since = __SINCE__
$o = @{available=$false; requested_from=$since; runs=@()}
if (Get-Module -ListAvailable -Name Veeam.Backup.PowerShell) {
 Import-Module Veeam.Backup.PowerShell -WarningAction SilentlyContinue; $o.available = $true
 $from = if ($since) { [datetime]::ParseExact($since, 'yyyy-MM-dd', $null, 'AssumeUniversal,AdjustToUniversal') } else { (Get-Date).AddDays(-400) }
 $o.runs = @(Get-VBRBackupSession | ? { $_.CreationTime.ToUniversalTime() -ge $from } | % { $s = $_; $s.GetTaskSessions() | % {
  @{server=[string]$_.Name; job=[string]$s.JobName; start=$s.CreationTime.ToUniversalTime().ToString('o')
   end=$(if ($s.EndTime -gt $s.CreationTime) { $s.EndTime.ToUniversalTime().ToString('o') } else { $null }); status=[string]$_.Status} } }) }
"""
    + EMIT
)


# What __SINCE__ may be: a quoted ISO date, or $null (nothing read before: all the log holds).
SINCE = r"'[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])'|\$null"


def since_literal(since: date | None) -> str:
    return "$null" if since is None else f"'{since.isoformat()}'"


def with_since(template: str, since: date | None) -> str:
    """A probe that reads from a start day (SECURITY_EVENTS, WINDOWS_BACKUP, VEEAM), filled in."""
    return template.replace("__SINCE__", since_literal(since))


def security_events_script(since: date | None) -> str:
    return with_since(SECURITY_EVENTS, since)


def since_of(template: str, script: str) -> tuple[bool, date | None]:
    """(True, start day or None) when SCRIPT is TEMPLATE filled in with a start day; (False, None) otherwise."""
    head, marker, tail = template.partition("__SINCE__")
    if not marker or not script.startswith(head) or not script.endswith(tail):
        return False, None
    value = script[len(head) : len(script) - len(tail)]
    if re.fullmatch(SINCE, value) is None:
        return False, None
    return True, None if value == "$null" else date.fromisoformat(value[1:-1])


# Per data location (O-RET): how many files, the oldest LastWriteTime and how many are older than the limit; ages
# only, never names or contents. "Older than N days" counts whole days as `find -mtime +N` does over SSH. A location
# that is not there exits 2 (an error for that location, never "0 files"); unreadable subfolders go to stderr.
# __PATH__ becomes a single-quoted literal (ps_literal), __DAYS__ a number: see retention_script.
RETENTION = (
    r"""$p = __PATH__; $n = __DAYS__
if (-not (Test-Path -LiteralPath $p -PathType Container)) { [Console]::Error.WriteLine("no such directory: $p"); exit 2 }
$c = (Get-Date).ToUniversalTime().AddDays(-$n - 1); $k = 0; $m = 0; $t = $null
Get-ChildItem -LiteralPath $p -Recurse -File -Force | % { $k++; $w = $_.LastWriteTimeUtc
 if ($w -le $c) { $m++ }; if ($null -eq $t -or $w -lt $t) { $t = $w } }
$o = @{file_count=$k; older_than_limit=$m; oldest=$(if ($null -ne $t) { $t.ToString('o') } else { $null })}
"""
    + EMIT
)

# PowerShell ends a single-quoted string at any of these quote characters, and reads any two in a row as one quote.
PS_QUOTES = "'\u2018\u2019\u201a\u201b"
# What ps_literal writes, as a regular expression: quotes inside only ever doubled.
PS_LITERAL = f"'(?:[^{PS_QUOTES}]|[{PS_QUOTES}]{{2}})*'"


def ps_literal(text: str) -> str:
    """A single-quoted PowerShell string holding `text` verbatim: no value can end it early or be expanded."""
    return "'" + "".join(c * 2 if c in PS_QUOTES else c for c in text) + "'"


def retention_script(path: str, days: int) -> str:
    return RETENTION.replace("__DAYS__", str(int(days))).replace("__PATH__", ps_literal(path))


_RETENTION_FILLED = re.compile(
    re.escape(RETENTION).replace("__PATH__", f"({PS_LITERAL})").replace("__DAYS__", r"(\d+)"), re.DOTALL
)


def retention_arguments(script: str) -> tuple[str, int] | None:
    """The (path, days) a retention script was built from; None unless it is exactly the template, filled in."""
    found = _RETENTION_FILLED.fullmatch(script)
    if found is None:
        return None
    quoted, days = found.groups()
    return re.sub(f"([{PS_QUOTES}])[{PS_QUOTES}]", r"\1", quoted[1:-1]), int(days)
