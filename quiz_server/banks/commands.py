"""`quiz-server banks …`: check, load, export and compare question banks from the shell."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import with_app_context
from ..config import source_hosts
from ..extensions import db
from ..models import BankVersion
from .check import CheckReport, check_banks, coverage_rows
from .parsed import ParsedBank
from .store import BankDiff, diff_versions, find_version, parse_file, store_bank
from .xlsx import export_xlsx, template_workbook
from .yamlfile import export_yaml

F = TypeVar("F", bound=Callable[..., Any])
FILES = click.Path(exists=True, dir_okay=False)

banks = click.Group(
    "banks",
    help="Question banks (题库): validate, load, export and diff YAML or xlsx bank files.",
)


def _checked(path: str) -> ParsedBank | None:
    """Parses one file and prints its errors and cleanup notes, as `file:line: field: message`."""
    bank, errors = parse_file(path)
    for error in errors:
        click.echo(str(error))
    if bank is None:
        click.echo(f"failed: {path} ({len(errors)} error{'' if len(errors) == 1 else 's'})")
        return None
    for note in bank.cleaned:
        click.echo(f"cleaned: {path}: {note}")
    return bank


@banks.command()
@click.argument("files", nargs=-1, required=True, type=FILES)
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check bank files (never touches the database); exit status 1 if any has an error."""
    failed = False
    for path in files:
        bank = _checked(path)
        if bank is not None:
            click.echo(f"ok: {path} ({len(bank.questions)} questions)")
        failed |= bank is None
    ctx.exit(1 if failed else 0)


@banks.command()
@click.argument("files", nargs=-1, required=True, type=FILES)
@click.option("--draw", default=10, show_default=True, help="Questions drawn per attempt.")
@click.option(
    "--hosts",
    envvar="QUIZ_SOURCE_HOSTS",
    help="Comma-separated official source hosts (default: gov.cn, wenming.cn, 12371.cn, …).",
)
@click.pass_context
def check(ctx: click.Context, files: tuple[str, ...], draw: int, hosts: str | None) -> None:
    """Quality check of bank files, together (duplicates across banks count); exit 1 on errors."""
    parsed = [bank for bank in map(_checked, files) if bank is not None]
    report = check_banks(parsed, source_hosts(hosts))
    for line in report_lines(report, draw):
        click.echo(line)
    failed = len(parsed) < len(files) or bool(report.errors)
    ctx.exit(1 if failed else 0)


def report_lines(report: CheckReport, draw: int) -> Iterator[str]:
    for s in report.summaries:
        total = s.questions or 1
        yield f"bank {s.slug} {s.title}: {s.questions} questions"
        yield "  categories: " + ", ".join(f"{k} {v}" for k, v in s.categories.items())
        yield "  types: " + ", ".join(
            f"{k} {v} ({round(100 * v / total)}%)" for k, v in sorted(s.types.items())
        )
        yield "  difficulty: " + ", ".join(
            f"{k}: {v} ({round(100 * v / total)}%)" for k, v in s.difficulties.items()
        )
        yield "  single-choice answers: " + ", ".join(
            f"{k} {v}" for k, v in s.answer_letters.items()
        )
        rows = ", ".join(f"{k} → {share}%" for k, share in coverage_rows(s, draw))
        yield f"  pool seen after k attempts of {draw}: {rows}"
    for finding in report.findings:
        yield str(finding)
    yield (
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        f" ({len(report.reviewed)} reviewed and accepted)"
    )


@banks.command()
@click.argument("files", nargs=-1, required=True, type=FILES)
@click.pass_context
@with_app_context
def load(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Validate and store bank files; changed content becomes a new version of the bank."""
    failed = False
    for path in files:
        bank = _checked(path)
        if bank is None:
            failed = True
            continue
        version, created = store_bank(db.session, bank)
        db.session.commit()
        if created:
            count = len(bank.questions)
            click.echo(f"loaded bank {bank.slug} version {version.number} ({count} questions)")
        else:
            click.echo(f"unchanged: bank {bank.slug} version {version.number}")
    ctx.exit(1 if failed else 0)


def _version(slug: str, number: int | None) -> BankVersion:
    version = find_version(db.session, slug, number)
    if version is None:
        which = f"version {number} of bank {slug}" if number else f"bank {slug}"
        raise click.ClickException(f"no {which} in the database (load it first)")
    return version


@banks.command()
@click.argument("slug")
@click.option("--version", "number", type=int, help="Version number; the latest by default.")
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "xlsx"]), help="Default: from -o's suffix."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write.")
@with_app_context
def export(slug: str, number: int | None, fmt: str | None, output: str | None) -> None:
    """Write a stored version as YAML (to stdout without -o) or as an xlsx workbook."""
    version = _version(slug, number)
    fmt = fmt or ("xlsx" if output and output.lower().endswith(".xlsx") else "yaml")
    if fmt == "xlsx" and not output:
        raise click.UsageError("xlsx export needs -o FILE")
    if output is None:
        click.echo(export_yaml(version), nl=False)
        return
    target = Path(output)
    if fmt == "xlsx":
        target.write_bytes(export_xlsx(version))
    else:
        target.write_text(export_yaml(version), encoding="utf-8")
    click.echo(f"exported bank {slug} version {version.number} to {output}")


@banks.command()
@click.argument("slug")
@click.argument("old", type=int)
@click.argument("new", type=int)
@with_app_context
def diff(slug: str, old: int, new: int) -> None:
    """Show questions added, removed and changed between two versions of a bank."""
    result = diff_versions(_version(slug, old), _version(slug, new))
    for line in diff_lines(result):
        click.echo(line)


def diff_lines(result: BankDiff) -> Iterator[str]:
    if result.empty:
        yield "no differences"
    if result.bank_fields:
        yield f"bank: {', '.join(result.bank_fields)} changed"
    yield from (f"+ {qid}" for qid in result.added)
    yield from (f"- {qid}" for qid in result.removed)
    for change in result.changed:
        yield f"~ {change.qid}: {', '.join(change.fields)}"
        for name in change.fields:
            yield f"    {name}: {change.before[name]!r} → {change.after[name]!r}"


@banks.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="TEMPLATE.xlsx")
def template(output: str) -> None:
    """Write the xlsx template (with three sample questions) for organizers to fill in."""
    template_workbook().save(output)
    click.echo(f"wrote {output}")
