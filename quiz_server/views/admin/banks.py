"""Question banks in the console: upload (validated, stored only when clean), versions, the diff
between two versions, a phone-like preview of every question, and YAML/xlsx export."""

from __future__ import annotations

from pathlib import PurePath

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ... import audit, uploads
from ...auth import role_required
from ...banks import (
    ParsedBank,
    diff_versions,
    export_xlsx,
    export_yaml,
    find_version,
    store_bank,
    template_workbook,
)
from ...banks.check import CheckReport, check_banks, coverage_rows
from ...banks.parsed import field_label
from ...banks.template import workbook_bytes
from ...banks.text import split_note
from ...extensions import db
from ...models import Bank, BankVersion, Question
from ...questions import question_type
from .console import XLSX, bp, download

DIFFICULTY = {1: "容易", 2: "中等", 3: "较难"}


@bp.route("/banks")
@role_required("organizer")
def banks() -> str:
    listed = db.session.scalars(
        select(Bank)
        .options(selectinload(Bank.versions).selectinload(BankVersion.questions))
        .order_by(Bank.slug)
    ).all()
    return render_template("admin/banks.html", banks=listed)


@bp.route("/banks/upload", methods=["POST"])
@role_required("organizer")
def upload() -> str | Response | tuple[str, int]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的题库文件（.yaml、.yml 或 .xlsx）。", "error")
        return redirect(url_for("admin.banks"))
    name = PurePath(upload.filename).name
    bank, errors = uploads.parse_bank(name, upload.stream.read())
    if bank is None:
        return render_template("admin/bank_errors.html", filename=name, errors=errors), 422
    version, created = store_bank(db.session, bank)
    summary = f"{name}：{bank.title} 第 {version.number} 版，{len(bank.questions)} 题"
    audit.record("bank.upload", detail=summary + ("" if created else "（内容相同，未新建版本）"))
    db.session.commit()
    if created:
        flash(
            f"已导入题库：{bank.title}（第 {version.number} 版，共 {len(bank.questions)} 题）。",
            "ok",
        )
    else:
        flash(f"内容与第 {version.number} 版相同，未新建版本。", "ok")
    if bank.cleaned:  # what the import changed by itself, as `banks load` prints it
        notes = [(field_label(key), key, what) for key, what in map(split_note, bank.cleaned)]
        return render_template("admin/bank_notes.html", filename=name, version=version, notes=notes)
    return redirect(url_for("admin.bank_version", slug=bank.slug, number=version.number))


def _version_or_404(slug: str, number: int) -> BankVersion:
    version = find_version(db.session, slug, number)
    if version is None:
        abort(404)
    return version


@bp.route("/banks/<slug>/v<int:number>")
@role_required("organizer")
def bank_version(slug: str, number: int) -> str:
    version = _version_or_404(slug, number)
    titles = {c["id"]: c["title"] for c in version.categories}
    previews = [preview(q, titles) for q in version.questions]
    report = quality_report(version)
    return render_template(
        "admin/bank_version.html",
        version=version,
        previews=previews,
        report=report,
        summary=report.summaries[0],
        coverage=coverage_rows(report.summaries[0], DRAW_FOR_COVERAGE),
        draw=DRAW_FOR_COVERAGE,
    )


DRAW_FOR_COVERAGE = 10  # the usual paper; `quiz-server banks check --draw N` shows any other


def quality_report(version: BankVersion) -> CheckReport:
    """The `banks check` report for this version, near-duplicates counted against the latest
    version of every other bank; the findings are this version's own."""
    others = db.session.scalars(
        select(BankVersion).join(Bank).where(Bank.id != version.bank_id)
    ).all()
    latest = {v.bank_id: v for v in sorted(others, key=lambda v: v.number)}
    banks = [ParsedBank.from_version(v) for v in (version, *latest.values())]
    report = check_banks(banks, current_app.config["QUIZ"].source_hosts)
    report.summaries = report.summaries[:1]
    report.findings = [f for f in report.findings if f.bank == version.bank.slug]
    return report


def preview(q: Question, titles: dict[str, str]) -> dict[str, object]:
    """A question as the phone lays it out (ids, labels), plus what only the organizer sees."""
    qtype = question_type(q.type)
    correct = set(qtype.correct_ids(q.answer))
    options = [
        {"id": oid, "text": text, "correct": oid in correct}
        for oid, text in zip(
            qtype.option_ids(q.options), qtype.option_labels(q.options), strict=True
        )
    ]
    return {
        "qid": q.qid,
        "type_label": qtype.label,
        "stem": q.stem,
        "options": options,
        "explanation": q.explanation,
        "source": q.source,
        "source_url": q.source_url,
        "source_copy": q.source_copy,
        "category": titles.get(q.category, q.category),
        "difficulty": DIFFICULTY.get(q.difficulty, q.difficulty),
        "time_limit": q.time_limit,
        "tags": q.tags,
    }


@bp.route("/banks/<slug>/v<int:number>.yaml")
@role_required("organizer")
def export_bank_yaml(slug: str, number: int) -> Response:
    version = _version_or_404(slug, number)
    _exported(version, "YAML")
    return download(export_yaml(version).encode(), f"{slug}-v{number}.yaml", "application/x-yaml")


@bp.route("/banks/<slug>/v<int:number>.xlsx")
@role_required("organizer")
def export_bank_xlsx(slug: str, number: int) -> Response:
    version = _version_or_404(slug, number)
    _exported(version, "Excel")
    return download(export_xlsx(version), f"{slug}-v{number}.xlsx", XLSX)


def _exported(version: BankVersion, kind: str) -> None:
    audit.record(
        "report.export", detail=f"导出题库 {version.bank.slug} 第 {version.number} 版（{kind}）"
    )
    db.session.commit()


@bp.route("/banks/template.xlsx")
@role_required("organizer")
def bank_template() -> Response:
    return download(workbook_bytes(template_workbook()), "题库模板.xlsx", XLSX)


@bp.route("/banks/<slug>/diff")
@role_required("organizer")
def bank_diff(slug: str) -> str:
    old_no, new_no = request.args.get("old", type=int), request.args.get("new", type=int)
    if old_no is None or new_no is None:
        abort(404)
    old, new = _version_or_404(slug, old_no), _version_or_404(slug, new_no)
    result = diff_versions(old, new)
    stems = {q.qid: q.stem for q in (*old.questions, *new.questions)}
    return render_template("admin/bank_diff.html", old=old, new=new, diff=result, stems=stems)
