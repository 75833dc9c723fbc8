"""`auditpack notify run` and `notify test`: the day's new findings sent once through apprise URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from auditpack.errors import AuditpackError

from .shared import (
    Outcome,
    console,
    exceptions_option,
    lang_option,
    load_exceptions,
    load_profile,
    open_store,
    profile_option,
    store_option,
)

NOTIFY_URLS_ENV = "AUDITPACK_NOTIFY_URLS"

CONSOLE = {
    "nl": {
        "nothing_new": "Geen nieuwe bevindingen op {day}: niets verstuurd.",
        "sent": "Verstuurd naar {channel}: {count:bevinding|bevindingen}.",
        "dry_run": "Proefdraai: niets verstuurd en niets vastgelegd.",
        "already_sent": "{channel}: niets nieuws (al eerder gemeld).",
        "test_sent": "Testbericht afgeleverd bij {channel}.",
    },
    "en": {
        "nothing_new": "No new findings on {day}: nothing sent.",
        "sent": "Sent to {channel}: {count:finding|findings}.",
        "dry_run": "Dry run: nothing sent and nothing recorded.",
        "already_sent": "{channel}: nothing new (sent before).",
        "test_sent": "Test message delivered to {channel}.",
    },
}


def _notify_urls() -> list[str]:
    """The alert URLs the settings name: $AUDITPACK_NOTIFY_URLS (whitespace-separated), else [notify] urls."""
    from auditpack.config import notify_urls

    return notify_urls()


def _say(key: str, lang: str, **values: object) -> None:
    from auditpack.wording import fill

    console.print(fill(CONSOLE[lang][key], values, lang), markup=False, highlight=False, soft_wrap=True)


url_option = click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help=f"An apprise URL to send to (repeatable), e.g. mailtos://user:pass@smtp.example.org?to=ict@example.org; "
    f"default ${NOTIFY_URLS_ENV} (whitespace-separated), else urls under [notify] in the configuration file. "
    "Printed and recorded only masked.",
)


@click.group()
def notify() -> None:
    """Alert ICT of the day's new findings by e-mail, Teams, Slack or a JSON webhook (apprise URLs)."""


@notify.command(name="run")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day whose findings are sent (YYYY-MM-DD; default today, UTC).",
)
@lang_option
@store_option
@profile_option
@exceptions_option
@url_option
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing and record nothing.")
def run_command(
    day: datetime | None,
    lang: str,
    store_path: Path,
    profile_path: str | None,
    exceptions_path: str | None,
    urls: tuple[str, ...],
    dry_run: bool,
) -> Outcome:
    """Send the day's new findings, once, to every alert URL.

    The findings: a failed or missing backup (T-BAK-1), anti-virus signatures too
    old or no anti-virus (T-AV), a firewall rule without a reason in the egress
    register (T-FWP), a leaver's account still enabled (O-LVR), a log cleared
    (T-LOG-2), and a collection run that failed or came back partial. Each is
    judged by the same evaluation as the report, over the last days up to the
    day; what an exception covers is not sent. A finding is sent once per URL,
    not every day until it changes: what was sent is kept in the store
    (alerts-sent.json). A finding that went away and comes back is sent again.
    A URL that cannot be reached is retried the next run.

    \b
    Examples:
      auditpack notify run
      auditpack notify run --date 2026-12-06 --lang en --dry-run
      auditpack notify run --url 'mailtos://alerts:pass@smtp.example.org?to=ict@example.org'
    Exit codes: 0 nothing new, 1 new findings sent, 2 a URL could not be reached
                (those findings are sent again next run) or unusable input.
    """
    from auditpack.alert_message import compose
    from auditpack.alerts import SentState, day_findings
    from auditpack.delivery import mask_url, send

    urls = urls or tuple(_notify_urls())
    if not urls and not dry_run:
        raise AuditpackError(
            f"No alert URL: give --url URL, set {NOTIFY_URLS_ENV}, or urls under [notify] in the configuration file "
            f"(see docs/alerts.md)."
        )
    profile, exceptions = load_profile(profile_path), load_exceptions(exceptions_path)
    store = open_store(store_path, create=False)
    when = day.date() if day else datetime.now(UTC).date()
    findings = day_findings(store, when, profile, exceptions)
    state = SentState(store)
    channels = [(url, state.channel(url, mask_url(url))) for url in urls]
    per_channel = {channel: state.new_for(channel, findings) for _, channel in channels}
    new = {a.key: a for found in per_channel.values() for a in found} if channels else {a.key: a for a in findings.alerts}
    if not new:
        _say("nothing_new", lang, day=when.isoformat())
        if not dry_run:
            for _, channel in channels:
                state.record(channel, findings, [])
            state.save()
        return Outcome.OK
    title, body = compose(list(new.values()), when.isoformat(), lang)
    console.print(f"{title}\n\n{body}", markup=False, highlight=False, soft_wrap=True)
    if dry_run:
        _say("dry_run", lang)
        return Outcome.FINDINGS
    failures = []
    for url, channel in channels:
        found = per_channel[channel]
        if found:
            failure = send(url, *compose(found, when.isoformat(), lang))
            if failure is not None:
                failures.append(failure)
                continue  # not recorded: the next run sends them again
            _say("sent", lang, channel=mask_url(url), count=len(found))
        else:
            _say("already_sent", lang, channel=mask_url(url))
        state.record(channel, findings, found)
    state.save()
    if failures:
        raise AuditpackError(
            "Alerts not delivered (they are sent again on the next run)",
            [f"{f.channel}: {f.reason}" for f in failures],
        )
    return Outcome.FINDINGS


@notify.command(name="test")
@url_option
@lang_option
def test_command(urls: tuple[str, ...], lang: str) -> Outcome:
    """Send a test message to each alert URL, to see that alerts will arrive.

    \b
    Examples:
      auditpack notify test --url 'mailtos://alerts:pass@smtp.example.org?to=ict@example.org'
      auditpack notify test --url 'json://alerts.example.org/hooks/auditpack' --lang en
      auditpack notify test        (the URLs of $AUDITPACK_NOTIFY_URLS)
    Exit codes: 0 delivered to every URL, 2 some URL could not be reached (apprise's reason is printed).
    """
    from auditpack.alert_message import trial_message
    from auditpack.delivery import mask_url, send

    urls = urls or tuple(_notify_urls())
    if not urls:
        raise AuditpackError(
            f"No alert URL: give --url URL, set {NOTIFY_URLS_ENV}, or urls under [notify] in the configuration file "
            f"(see docs/alerts.md)."
        )
    failures = []
    for url in urls:
        failure = send(url, *trial_message(lang))
        if failure is None:
            _say("test_sent", lang, channel=mask_url(url))
        else:
            failures.append(failure)
    if failures:
        raise AuditpackError("Test message not delivered", [f"{f.channel}: {f.reason}" for f in failures])
    return Outcome.OK


COMMANDS = (notify,)
