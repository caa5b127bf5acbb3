#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Merge the benches' result files into bench/results/latest.{json,md,svg}.

    bench/report.py DIR     every DIR/<name>.json, as bench/run leaves them

A bench found in DIR replaces its previous result in latest.json; the
others keep theirs, each with its own date. Prints the table, writes the
Markdown and the plot (every ratio against its baseline, with its target),
and rewrites each bench's section of docs/performance.md, between
<!-- results:NAME --> and <!-- /results:NAME -->, when those markers are
there (NAME "targets": every figure that has a target). The schema is in bench/README.md; a file that breaks it is refused
with the key named.
"""

import json
import os
import re
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(TOP, "bench", "results")
DOC = os.path.join(TOP, "docs", "performance.md")
UNITS = ("x baseline", "ns", "ms", "s", "pps", "entries/s", "count", "bytes")


class SchemaError(Exception):
    pass


def check(doc, where):
    """Raise SchemaError naming the first key of @doc that breaks the schema."""
    def need(obj, key, types, ctx):
        v = obj.get(key)
        if v is None or isinstance(v, bool) or not isinstance(v, types):
            raise SchemaError(f"{where}: {ctx}{key}: missing or of the wrong type")
        return v

    need(doc, "bench", str, "")
    host = need(doc, "host", dict, "")
    for k in ("kernel", "cpu"):
        need(host, k, str, "host.")
    need(doc, "method", str, "")
    figs = need(doc, "figures", list, "")
    names = set()
    for i, f in enumerate(figs):
        ctx = f"figures[{i}]."
        if not isinstance(f, dict):
            raise SchemaError(f"{where}: figures[{i}]: not an object")
        name = need(f, "name", str, ctx)
        if not re.fullmatch(r"[a-z0-9_]+", name) or name in names:
            raise SchemaError(f"{where}: {ctx}name: {name!r} not lower_case or not unique")
        names.add(name)
        need(f, "value", (int, float), ctx)
        if need(f, "unit", str, ctx) not in UNITS:
            raise SchemaError(f"{where}: {ctx}unit: {f['unit']!r} not one of {UNITS}")
        if "baseline" in f:
            b = need(f, "baseline", dict, ctx)
            need(b, "name", str, ctx + "baseline.")
            need(b, "value", (int, float), ctx + "baseline.")
            need(b, "unit", str, ctx + "baseline.")
        elif f["unit"] == "x baseline":
            raise SchemaError(f"{where}: {ctx}baseline: a ratio needs one")
        # Absent target and met mean null.
        t = f.setdefault("target", None)
        if t is not None and (not isinstance(t, str) or not re.fullmatch(r"[<>]= ?[0-9.]+", t)):
            raise SchemaError(f"{where}: {ctx}target: {t!r} not '<= N', '>= N' or null")
        if f.setdefault("met", None) not in (True, False, None):
            raise SchemaError(f"{where}: {ctx}met: not true, false or null")
        need(f, "command", str, ctx)


def load_new(directory):
    """The valid result files of @directory, and how many were refused."""
    new, bad = {}, 0
    for fn in sorted(os.listdir(directory)):
        if not fn.endswith(".json"):
            continue
        path = os.path.join(directory, fn)
        try:
            with open(path) as fh:
                doc = json.load(fh)
            check(doc, path)
        except (SchemaError, ValueError) as e:
            # One bench's broken file must not cost the others their report.
            print(f"report.py: refused: {e}", file=sys.stderr)
            bad += 1
            continue
        doc.setdefault("date", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime(os.path.getmtime(path))))
        new[doc["bench"]] = doc
    return new, bad


def fmt(v):
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 100:
        return f"{int(v):,}"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def met_word(f):
    return {True: "met", False: "**not met**", None: ""}[f["met"]]


def bench_md(doc):
    """The Markdown section of one bench (without a heading)."""
    h = doc["host"]
    vm = f", in qemu under {h['accel'].upper()} ({h.get('accel_why', '')})" if h.get("accel") else ""
    lines = [f"Run {doc['date']} on {h['cpu']} ({h.get('cpus', '?')} CPUs), "
             f"Linux {h['kernel']} {h.get('machine', '')}{vm}.".replace(" .", ".").replace(" ,", ","), "",
             f"Method: {doc['method']}", ""]
    cmds = {f["command"] for f in doc["figures"]}
    if len(cmds) == 1:
        lines += [f"Command: `{cmds.pop()}`", ""]
        cmd_col = False
    else:
        cmd_col = True
    head = "| figure | value | unit | baseline | target | |" + (" command |" if cmd_col else "")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for f in doc["figures"]:
        b = f.get("baseline")
        base = f"{b['name']} {fmt(b['value'])} {b['unit']}" if b else ""
        row = (f"| {f['name']} | {fmt(f['value'])} | {f['unit']} | {base} | "
               f"{f.get('target') or ''} | {met_word(f)} |")
        if cmd_col:
            row += f" `{f['command']}` |"
        lines.append(row)
    notes = [f for f in doc["figures"] if f.get("note")]
    if notes:
        lines += [""] + [f"- {f['name']}: {f['note']}" for f in notes]
    return "\n".join(lines) + "\n"


def write_md(merged, path):
    out = ["# Benchmark results", "",
           "Written by `bench/report.py` from the latest run of each bench "
           "(`bench/run`); the plot is `latest.svg` beside this file.", ""]
    for name in sorted(merged):
        out += [f"## {name}", "", bench_md(merged[name])]
    with open(path, "w") as fh:
        fh.write("\n".join(out))


def print_table(merged):
    for name in sorted(merged):
        print(f"== {name} ({merged[name]['date']})")
        for f in merged[name]["figures"]:
            b = f.get("baseline")
            base = f"  vs {b['name']} {fmt(b['value'])} {b['unit']}" if b else ""
            tgt = f"  target {f['target']}: {'met' if f['met'] else 'NOT MET'}" if f.get("target") else ""
            print(f"  {f['name']:<30} {fmt(f['value']):>10} {f['unit']:<10}{base}{tgt}")


def plot(merged, path):
    import matplotlib
    matplotlib.use("Agg")
    # Text as text and no run-dependent ids or dates: a small file whose
    # diff between two runs shows what changed.
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "hadp"
    import matplotlib.pyplot as plt

    groups = [(n, [f for f in merged[n]["figures"] if f["unit"] == "x baseline"])
              for n in sorted(merged)]
    groups = [(n, figs) for n, figs in groups if figs]
    if not groups:
        return
    rows = sum(len(f) for _, f in groups)
    fig, axes = plt.subplots(len(groups), 1, squeeze=False,
                             figsize=(8, 1.2 + 0.32 * rows + 0.6 * len(groups)),
                             gridspec_kw={"height_ratios": [len(f) for _, f in groups]})
    for ax, (name, figs) in zip(axes[:, 0], groups):
        ys = range(len(figs))
        colors = ["#4c9a2a" if f["met"] else "#c0392b" if f["met"] is False else "#7f8c8d"
                  for f in figs]
        ax.barh(list(ys), [f["value"] for f in figs], color=colors)
        for y, f in zip(ys, figs):
            ax.text(f["value"], y, f" {f['value']:.2f}", va="center", fontsize=8)
            t = f.get("target")
            if t:
                x = float(t[2:])
                ax.plot([x, x], [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([f"{f['name']} (vs {f['baseline']['name']})" for f in figs],
                           fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{name}: x baseline (lower is better unless the target says >=); "
                     "black tick: target", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(0, max(max(f["value"] for f in figs),
                           max((float(f["target"][2:]) for f in figs if f.get("target")),
                               default=0)) * 1.15)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def targets_md(merged):
    """Every figure that has a target, across the benches."""
    lines = ["| bench | figure | value | target | |", "|---|---|---|---|---|"]
    for name in sorted(merged):
        for f in merged[name]["figures"]:
            if f.get("target"):
                lines.append(f"| {name} | {f['name']} | {fmt(f['value'])} {f['unit']} | "
                             f"{f['target']} | {met_word(f)} |")
    return "\n".join(lines) + "\n"


def update_doc(merged, path):
    """Rewrite the results sections of docs/performance.md: one per bench,
    and "targets" for every figure with a target."""
    if not os.path.exists(path):
        return
    with open(path) as fh:
        text = fh.read()
    blocks = {name: bench_md(doc) for name, doc in merged.items()}
    blocks["targets"] = targets_md(merged)
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- results:{re.escape(name)} -->\n).*?(<!-- /results:{re.escape(name)} -->)",
                         re.S)
        text = pat.sub(lambda m: m.group(1) + body + m.group(2), text)
    with open(path, "w") as fh:
        fh.write(text)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print(__doc__, file=sys.stderr)
        return 2
    new, bad = load_new(sys.argv[1])
    os.makedirs(RESULTS, exist_ok=True)
    latest = os.path.join(RESULTS, "latest.json")
    merged = {}
    if os.path.exists(latest):
        with open(latest) as fh:
            merged = {d["bench"]: d for d in json.load(fh)["benches"]}
    merged.update(new)
    with open(latest, "w") as fh:
        json.dump({"benches": [merged[n] for n in sorted(merged)]}, fh, indent=2)
        fh.write("\n")
    print_table(merged)
    write_md(merged, os.path.join(RESULTS, "latest.md"))
    plot(merged, os.path.join(RESULTS, "latest.svg"))
    update_doc(merged, DOC)
    print(f"report.py: {len(new)} new, {len(merged)} in bench/results/latest.json")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
