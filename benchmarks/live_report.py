"""The printed figures of benchmarks/live_load.py: one summary table with quiz-server's figures
beside the bare server's as ratios, then each target's questions, refusals and checks."""

from __future__ import annotations

import argparse
import os
from collections import Counter
from typing import Any


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary(result: dict[str, Any]) -> dict[str, float | None]:
    """The figures the targets are compared by."""
    load, questions = result["load"], result["load"].questions.values()
    seated = len(load.joins)
    ok = sum(q.ok for q in questions)
    answer_cpu = sum(q.cpu for q in questions)
    fanout = [v for q in questions for v in q.fanout]
    return {
        "phones seated": seated,
        "join rate /s": seated / result["join_wall"] if seated else 0,
        "join ack p99 ms": pct(load.joins, 0.99),
        "server CPU per join ms": result["join_cpu"] / seated * 1000 if seated else None,
        "answers acked ok": ok,
        "worst ack p99 ms": max((pct(q.acks, 0.99) or 0 for q in questions), default=None),
        "ack max ms": max((max(q.acks, default=0) for q in questions), default=None),
        "lost acks": sum(q.lost + q.late for q in questions),
        "fan-out p50 ms": pct(fanout, 0.5),
        "fan-out p99 ms": pct(fanout, 0.99),
        "server CPU per acked answer ms": answer_cpu / ok * 1000 if ok else None,
        "generator CPU per acked answer ms": sum(q.generator_cpu for q in questions) / ok * 1000
        if ok
        else None,
        "server RSS peak MB": sum(peak for _, peak in result["memory"]),
    }


DIGITS = {"join rate /s": 0, "server CPU per join ms": 2, "server CPU per acked answer ms": 2,
          "generator CPU per acked answer ms": 2}  # fmt: skip


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(
        f"phones offered {args.phones} at {args.join_rate:.0f} joins/s, {args.questions} questions, "
        f"answers over {args.answer_window:g} s, {args.processes} process(es), "
        f"database {'sqlite' if args.database == 'sqlite' else 'postgresql'}"
    )
    first = results[0]
    cores = ", ".join(str(c) for c in first["cores"])
    rest = sorted(os.sched_getaffinity(0))
    if args.pin:
        print(
            f"server process(es) pinned to core(s) {cores}; load generator on {rest} "
            f"(of {os.cpu_count()} cores)"
        )
    else:
        print(f"no core pinning: the kernel places servers and load generator on {rest}")
    print(
        "numbers are ±30 % on a shared 2-core machine: quote the ratios to the bare server, "
        "measured in the same run"
    )
    rows = [summary(r) for r in results]
    names = [r["target"] for r in results]
    ratio = len(results) == 2 and names[0] == "bare"
    header = f"{'':<36}" + "".join(f"{n:>14}" for n in names) + (f"{'ratio':>9}" if ratio else "")
    print("\n" + header)
    for key in rows[0]:
        digits = DIGITS.get(key, 0)
        cells = "".join(f"{fmt(row[key], digits):>14}" for row in rows)
        if ratio:
            a, b = rows[0][key], rows[1][key]
            cells += f"{b / a:>8.2f}×" if a and b is not None else f"{'-':>9}"
        print(f"{key:<36}{cells}")
    for result in results:
        details(result, args)


def details(result: dict[str, Any], args: argparse.Namespace) -> None:
    load = result["load"]
    seated = len(load.joins)
    print(f"\n── {result['target']} ──")
    if "aborted" in result:
        print(f"RUN ABORTED, the contest stopped moving: {result['aborted']}")
    print(
        f"phones seated {seated} / offered {args.phones} in {result['join_wall']:.1f} s "
        f"(offered over {result['offered_for']:.1f} s); join ack p50 {fmt(pct(load.joins, 0.5))} ms, "
        f"p99 {fmt(pct(load.joins, 0.99))} ms, max {fmt(pct(load.joins, 1))} ms"
    )
    if load.join_refused:
        print(f"joins not seated: {_reasons(load.join_refused)}")
    if load.join_retries:
        print(f"join refusals retried (as the page does): {_reasons(load.join_retries)}")
    print(
        f"{'question':<10}{'phones':>8}{'fan-out p50':>13}{'p99':>8}{'ack p50':>9}{'p99':>8}"
        f"{'max':>8}{'ok':>7}{'refused':>9}{'lost':>6}{'CPU/ack ms':>12}{'p99<250':>9}"
    )
    for q in sorted(load.questions.values(), key=lambda q: q.position):
        p99 = pct(q.acks, 0.99)
        print(
            f"{q.position:<10}{q.expected:>8}{fmt(pct(q.fanout, 0.5)):>13}{fmt(pct(q.fanout, 0.99)):>8}"
            f"{fmt(pct(q.acks, 0.5)):>9}{fmt(p99):>8}{fmt(pct(q.acks, 1)):>8}{q.ok:>7}"
            f"{sum(q.refused.values()):>9}{q.lost + q.late:>6}"
            f"{fmt(q.cpu / q.ok * 1000 if q.ok else None, 2):>12}"
            f"{'yes' if p99 is not None and p99 < 250 and not q.lost + q.late else 'NO':>9}"
        )
        missed = q.expected - len(q.fanout)
        if missed > 0:
            print(f"          {missed} connected phones never received question {q.position}")
    refused: Counter[str] = Counter()
    for q in load.questions.values():
        refused.update(q.refused)
    print(f"answer refusals by reason: {_reasons(refused) or 'none'}")
    if args.standing:
        print(
            f"standing acks {len(load.standing)}, p50 {fmt(pct(load.standing, 0.5))} ms, "
            f"p99 {fmt(pct(load.standing, 0.99))} ms; refused {_reasons(load.standing_refused) or 'none'}"
        )
    if load.closed_by_server:
        print(f"seated phones whose socket the server closed: {load.closed_by_server}")
    wall_cpu = result["run_cpu"]
    print(
        f"CPU: joins {result['join_cpu']:.1f} s server, {result['join_generator_cpu']:.1f} s load "
        f"generator; questions {wall_cpu:.1f} s server, {result['run_generator_cpu']:.1f} s load "
        f"generator" + (f"; nginx {result['nginx_cpu']:.1f} s" if result["nginx_cpu"] else "")
    )
    if len(result["cpu_by_process"]) > 1:
        split = ", ".join(f"{cpu:.1f} s" for cpu in result["cpu_by_process"])
        print(f"server CPU per process over the questions: {split}")
    (join_server, join_gen), (run_server, run_gen) = result["join_waited"], result["run_waited"]
    print(
        f"waited for a CPU other processes had (shared machine): server {join_server:.1f} s "
        f"during joins, {run_server:.1f} s during questions; load generator {join_gen:.1f} s, "
        f"{run_gen:.1f} s"
    )
    lag = load.loop_lag
    print(f"load generator's event loop lag p50 {fmt(pct(lag, 0.5), 1)} ms, p99 "
          f"{fmt(pct(lag, 0.99), 1)} ms, max {fmt(pct(lag, 1), 1)} ms")  # fmt: skip
    print(f"Engine.IO ping interval {result['ping_interval']:g} s")
    memory = ", ".join(f"{now:.0f} MB now / {peak:.0f} MB peak" for now, peak in result["memory"])
    print(f"server RSS per process: {memory}")
    if "stored" in result:
        ok = sum(q.ok for q in load.questions.values())
        late_ok = sum(q.late_ok for q in load.questions.values())
        rows, seats = result["stored"]["answer"], result["stored"]["participant"]
        same = "equal" if rows == ok else f"NOT EQUAL ({rows - ok:+d}; {late_ok} ok acks came late)"
        print(f"database: {rows} answer rows, {ok} ok acks: {same}; "
              f"{seats} participant rows for {seated} seated phones")  # fmt: skip
    errors = result["log_errors"]
    print(f"server log {result['log'].name}: {_reasons(errors) or 'no errors'}")


def _reasons(counts: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.most_common())
