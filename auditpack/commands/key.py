"""`auditpack key init|show|export-public|backup|restore`: the processor's signing key and pseudonym key.

The signing key signs every pack (the auditors hold its public half); the pseudonym key turns names into P-…
pseudonyms and is the only way back (`reveal`). Both are secrets kept outside every pack, 0600, and both are
irreplaceable: these commands make them, show where they are and back them up.
"""

from __future__ import annotations

import getpass
import json
import stat
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from auditpack.errors import AuditpackError

from .shared import Outcome, announce_new_key, console, json_option, signing_key_option

WHAT = {"signing": "signing key", "pseudonym": "pseudonym key"}


pseudonym_path_option = click.option(
    "--pseudonym-key",
    "pseudonym_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The pseudonym key (default $AUDITPACK_PSEUDONYM_KEY, else [keys] pseudonym in the configuration file, "
    "else ~/.config/auditpack/pseudonym-key).",
)
passphrase_option = click.option(
    "--passphrase",
    "passphrase_ref",
    default="prompt",
    show_default=True,
    metavar="REF",
    help="Where the backup's passphrase comes from: env:VARIABLE, keyring:SERVICE:USER or prompt (asked twice).",
)


def _paths(signing_path: Path | None, pseudonym_path: Path | None) -> dict[str, Path]:
    from auditpack import pseudonymise, signing

    return {
        "signing": signing_path.expanduser() if signing_path else signing.default_key_path(),
        "pseudonym": pseudonym_path.expanduser() if pseudonym_path else pseudonymise.default_key_path(),
    }


@dataclass
class KeyFacts:
    """What can be said of a key without showing it."""

    key: str  # signing or pseudonym
    path: str
    present: bool
    name: str | None = None  # the signing key's fingerprint, the pseudonym key's id
    permissions: str | None = None
    created: str | None = None  # the file's date: a key file is written once and never changed
    problem: str | None = None


def _load(which: str, path: Path) -> object:
    """The key itself (raises when it is missing or unusable)."""
    from auditpack import pseudonymise, signing

    return signing.load_existing_key(path) if which == "signing" else pseudonymise.load_existing_key(path)


def _name(which: str, key: object) -> str:
    from auditpack import pseudonymise, signing

    return signing.fingerprint(key) if which == "signing" else pseudonymise.key_id(key)  # type: ignore[arg-type]


def _facts(which: str, path: Path) -> KeyFacts:
    facts = KeyFacts(which, str(path), path.exists())
    if not facts.present:
        return facts
    info = path.stat()
    facts.permissions = f"{stat.S_IMODE(info.st_mode):04o}"
    facts.created = datetime.fromtimestamp(info.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        facts.name = _name(which, _load(which, path))
    except AuditpackError as exc:
        facts.problem = str(exc)
    return facts


@click.group(name="key")
def key_group() -> None:
    """Make, show and back up the signing key and the pseudonym key.

    The signing key signs every evidence pack; the auditors check packs with its
    public half (`key export-public`). The pseudonym key makes the P-… names of a
    pseudonymised pack; only with it can `reveal` say who is behind one. Both are
    made on first use (or by `key init`), 0600, outside every pack. Neither can be
    made again: back both up with `key backup` and keep the backup off this machine.

    \b
    Examples:
      auditpack key init
      auditpack key show
      auditpack key export-public klant-a.pub
      auditpack key backup /media/usb --passphrase prompt
    """


@key_group.command(name="init")
@signing_key_option
@pseudonym_path_option
def key_init(key_path: Path | None, pseudonym_path: Path | None) -> Outcome:
    """Make the signing key and the pseudonym key where they do not exist yet; an existing key is never replaced.

    \b
    Examples:
      auditpack key init
      AUDITPACK_SIGNING_KEY=/etc/auditpack/signing-key.pem auditpack key init
    Exit codes: 0 both keys are there (made now or before), 2 a key that exists cannot be used (permissions, not a key).
    """
    from auditpack import pseudonymise, signing

    paths = _paths(key_path, pseudonym_path)
    for which, path in paths.items():
        existed = path.exists()
        say = announce_new_key(which)
        key = (
            signing.load_or_create_key(path, on_create=say)
            if which == "signing"
            else pseudonymise.load_or_create_key(path, on_create=say)
        )
        state = "already there, not changed" if existed else "made"
        console.print(f"{WHAT[which]}: {path} ({state}; {_name(which, key)})", highlight=False, markup=False, soft_wrap=True)
    return Outcome.OK


@key_group.command(name="show")
@signing_key_option
@pseudonym_path_option
@json_option
def key_show(key_path: Path | None, pseudonym_path: Path | None, as_json: bool) -> Outcome:
    """Where each key is, its fingerprint or id, its permissions and its date; never the key itself.

    The signing key is named by the fingerprint of its public key (the one the
    report and VERIFY.txt print); the pseudonym key by a key id derived from it,
    which says whether two installations hold the same key without showing it.

    \b
    Examples:
      auditpack key show
      auditpack key show --json
    Exit codes: 0 both keys are there and usable, 1 a key is not made yet, 2 a key cannot be used.
    """
    facts = [_facts(which, path) for which, path in _paths(key_path, pseudonym_path).items()]
    if as_json:
        click.echo(json.dumps({f.key: asdict(f) for f in facts}, indent=2, ensure_ascii=False))
    else:
        for f in facts:
            _print_facts(f)
    if any(f.problem for f in facts):
        return Outcome.ERROR
    return Outcome.OK if all(f.present for f in facts) else Outcome.FINDINGS


def _print_facts(f: KeyFacts) -> None:
    label = {"signing": "fingerprint", "pseudonym": "key id"}[f.key]
    lines = [f"{WHAT[f.key]}: {f.path}"]
    if not f.present:
        lines.append("  not made yet: `auditpack key init` makes it (a pack or report makes it on first use too)")
    else:
        private = "owner only" if f.permissions == "0600" else "others may read it"
        lines += [f"  {label}: {f.name or '-'}", f"  permissions: {f.permissions} ({private})", f"  created: {f.created}"]
        if f.problem:
            lines.append(f"  NOT usable: {f.problem}")
    style = "red" if f.problem else None
    console.print("\n".join(lines), style=style, highlight=False, markup=False, soft_wrap=True)


@key_group.command(name="export-public")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@signing_key_option
def key_export_public(file: Path | None, key_path: Path | None) -> Outcome:
    """Write the signing key's public half (PEM) for the auditors, to FILE or to standard output.

    Send it to the auditors apart from the packs (another channel) and tell them
    its fingerprint, which `key show` and every report print. It holds nothing
    secret, so the file is readable by all (0644).

    \b
    Examples:
      auditpack key export-public klant-a.pub
      auditpack key export-public | mail -s "auditpack public key" auditor@example.org
    Exit codes: 0 written, 2 there is no signing key yet, or it cannot be used.
    """
    from auditpack.atomic import write_atomic
    from auditpack.private import PUBLIC_FILE
    from auditpack.signing import fingerprint, public_key_pem

    path = _paths(key_path, None)["signing"]
    key = _load("signing", path)
    pem = public_key_pem(key)  # type: ignore[arg-type]
    if file is None:
        click.echo(pem.decode(), nl=False)
        return Outcome.OK
    write_atomic(file, pem, mode=PUBLIC_FILE)
    console.print(f"Public key of {fingerprint(key)} written to {file}", highlight=False, markup=False, soft_wrap=True)  # type: ignore[arg-type]
    return Outcome.OK


def _passphrase(reference: str, confirm: bool) -> str:
    """The passphrase the reference names; 'prompt' asks on the terminal (twice when making a backup)."""
    from auditpack.credentials import parse_reference

    ref = parse_reference(reference)
    if ref.scheme != "prompt":
        return ref.resolve(getpass.getuser(), "the key backup").reveal()
    if not sys.stdin.isatty():
        raise AuditpackError(
            "--passphrase prompt needs a terminal to ask on; give --passphrase env:VARIABLE or keyring:SERVICE:USER"
        )
    first = getpass.getpass("Passphrase for the key backup: ")
    if confirm and getpass.getpass("The same passphrase again: ") != first:
        raise AuditpackError("The two passphrases differ; nothing was written.")
    return first


def _backup_file(target: Path) -> Path:
    """TARGET itself, or a dated file in it when it is a folder; never one that exists."""
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = target / f"auditpack-keys-{stamp}.backup"
    if target.exists():
        raise AuditpackError(f"{target} exists; a key backup never replaces a file: name another one")
    return target


@key_group.command(name="backup")
@click.argument("target", metavar="DIR|FILE", type=click.Path(path_type=Path))
@signing_key_option
@pseudonym_path_option
@passphrase_option
def key_backup(target: Path, key_path: Path | None, pseudonym_path: Path | None, passphrase_ref: str) -> Outcome:
    """Write both secret keys to one file encrypted with a passphrase, for you to keep off this machine.

    The file (0600) holds the keys sealed with AES-256-GCM under a key derived
    from the passphrase by scrypt; in the clear only the signing key's
    fingerprint and the pseudonym key's id, so you can tell backups apart. Give
    a folder (a USB stick, a vault share) and the file is named with the date.
    Keep the passphrase apart from the backup (a password manager, a sealed
    envelope): without it the backup cannot be opened. `key restore` puts the
    keys back. A passphrase has at least 12 characters.

    \b
    Examples:
      auditpack key backup /media/usb
      auditpack key backup keys-2026.backup --passphrase keyring:auditpack-backup:ops
    Exit codes: 0 both keys backed up, 1 only one (the other is not made yet), 2 no key, or an error.
    """
    from auditpack.atomic import write_atomic
    from auditpack.keybackup import seal

    file = _backup_file(target)
    secrets: dict[str, str] = {}
    facts: dict[str, dict[str, str]] = {}
    for which, path in _paths(key_path, pseudonym_path).items():
        if not path.exists():
            console.print(f"{WHAT[which]}: {path} is not made yet; not in the backup", style="yellow", markup=False)
            continue
        key = _load(which, path)
        secrets[which] = path.read_text()
        facts[which] = {"name": _name(which, key), "file": path.name}
    if not secrets:
        raise AuditpackError("There is no key to back up yet (`auditpack key init` makes them).")
    write_atomic(file, seal(secrets, facts, _passphrase(passphrase_ref, confirm=True)))
    for which, fact in facts.items():
        console.print(f"{WHAT[which]} {fact['name']} backed up", highlight=False, markup=False)
    console.print(
        f"Backup: {file} (0600). Keep it off this machine, and the passphrase apart from it.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    return Outcome.OK if len(secrets) == len(WHAT) else Outcome.FINDINGS


@key_group.command(name="restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@signing_key_option
@pseudonym_path_option
@passphrase_option
def key_restore(file: Path, key_path: Path | None, pseudonym_path: Path | None, passphrase_ref: str) -> Outcome:
    """Put the keys of a backup (`key backup`) back where auditpack looks for them.

    A key file that exists is never replaced: one holding the same key is left
    as it is, one holding another key stops the restore (move it away first if
    it is really to go).

    \b
    Examples:
      auditpack key restore /media/usb/auditpack-keys-20261206-210000.backup
      AUDITPACK_SIGNING_KEY=/etc/auditpack/signing-key.pem auditpack key restore keys.backup --passphrase env:BACKUP_PASS
    Exit codes: 0 every key in the backup is in place, 2 wrong passphrase, not a backup, or another key is in the way.
    """
    from auditpack import pseudonymise, signing
    from auditpack.keybackup import unseal
    from auditpack.keyfiles import write_new

    header, secrets = unseal(file.read_bytes(), _passphrase(passphrase_ref, confirm=False), str(file))
    paths = _paths(key_path, pseudonym_path)
    keys = {}
    for which, text in secrets.items():  # every key checked before any is written: all or nothing
        data = text.encode()
        key = (
            signing.private_key_from_pem(data, f"the signing key in {file}")
            if which == "signing"
            else pseudonymise.parse_key_file(data, f"the pseudonym key in {file}")
        )
        if paths[which].exists() and _name(which, _load(which, paths[which])) != _name(which, key):
            raise AuditpackError(
                f"{paths[which]} holds another {WHAT[which]} ({_name(which, _load(which, paths[which]))}) than the "
                f"backup ({_name(which, key)}); nothing was restored. Move it away first if it is to be replaced."
            )
        keys[which] = (data, _name(which, key))
    for which, (data, name) in keys.items():
        state = "already in place"
        if not paths[which].exists():
            write_new(paths[which], data)
            state = "restored"
        console.print(f"{WHAT[which]} {name}: {paths[which]} ({state})", highlight=False, markup=False, soft_wrap=True)
    console.print(f"From the backup of {header['created']}.", highlight=False, markup=False)
    return Outcome.OK


COMMANDS = (key_group,)
