"""Knowledge-base commands: ``kefu kb build|search|stats``, ``kefu eval retrieval``, ``kefu bench kb``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.groups import app, bench_app, eval_app

kb_app = typer.Typer(help="Build, search and inspect the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="A kefu.toml (default: ./kefu.toml when present).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
EncoderOption = Annotated[str | None, typer.Option("--encoder", help="Encoder name or path (default: KEFU_KB__ENCODER).")]


def _settings(config: Path | None):
    from bot.config import load_settings
    from bot.errors import ConfigError

    try:
        return load_settings(config)
    except ConfigError as error:
        typer.secho(f"error: {error}", fg="red", err=True)
        raise typer.Exit(2) from None


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {getattr(error, 'user_message', None) or error}", fg="red", err=True)
    return typer.Exit(1)


def _is_index(path: Path) -> bool:
    return (path / "CURRENT").is_file() or (path / "manifest.json").is_file()


def _default_sources(settings: Any) -> list[Path]:
    """``KEFU_KB__PATH`` when it names sources, else the bundled demo store."""
    from importlib.resources import files

    if settings.kb.path is not None and not _is_index(Path(settings.kb.path)):
        return [Path(settings.kb.path)]
    return [Path(str(files("bot.demo.store")))]


def _open(settings: Any, encoder_name: str | None):
    """The configured knowledge base: a built index at ``KEFU_KB__PATH``, or the sources' cached index."""
    from rich.console import Console

    from kb.build import load_index, open_or_build
    from kb.encoders import load_encoder
    from kb.sources import collect

    with Console(stderr=True).status("loading the encoder and the knowledge base…"):
        encoder = load_encoder(encoder_name or settings.kb.encoder, device=settings.device)
        if settings.kb.path is not None and _is_index(Path(settings.kb.path)):
            return load_index(Path(settings.kb.path), encoder=encoder, device=settings.device)
        sources = collect(_default_sources(settings))
        return open_or_build(sources, cache_dir=settings.data_dir / "kb", encoder=encoder)


@kb_app.command("build")
def build(
    sources: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: configured or demo store).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Index folder (default: <data dir>/kb).")] = None,
    index: Annotated[str, typer.Option("--index", help="auto, flat, hnsw or ivf.")] = "auto",
    encoder: EncoderOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build (or incrementally rebuild) the index of SOURCES at --out."""
    import time

    from kb.build import build_index
    from kb.encoders import load_encoder
    from kb.errors import KbError
    from kb.sources import collect

    settings = _settings(config)
    target = out or settings.data_dir / "kb"
    start = time.perf_counter()
    try:
        paths = collect(sources or _default_sources(settings))
        knowledge = build_index(paths, out=target, encoder=load_encoder(encoder or settings.kb.encoder, device=settings.device),
                                kind=index)  # type: ignore[arg-type]
    except (KbError, ValueError) as error:
        raise _fail(error) from None
    result = {"out": str(target), "seconds": round(time.perf_counter() - start, 2), **knowledge.stats()}
    typer.echo(json.dumps(result, ensure_ascii=False) if as_json else
               f"built {result['chunks']} chunks from {len(paths)} files into {target} in {result['seconds']} s")


@kb_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What a shopper asks.")],
    k: Annotated[int, typer.Option("--k", min=1, help="How many hits.")] = 5,
    lang: Annotated[str | None, typer.Option("--lang", help="Only chunks in this language (zh, en).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or bm25.")] = "hybrid",
    encoder: EncoderOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the knowledge base and print the hits with their scores."""
    from kb.errors import KbError

    settings = _settings(config)
    try:
        knowledge = _open(settings, encoder)
        hits = knowledge.search_text(query, k=k, filters={"language": lang} if lang else None, mode=mode)  # type: ignore[arg-type]
    except (KbError, ValueError) as error:
        raise _fail(error) from None
    rows = [{"id": h.id, "title": h.title, "score": round(h.score, 4), "dense_score": round(h.metadata["dense_score"], 4),
             "text": h.text, "source": h.metadata["source"]} for h in hits]
    if as_json:
        typer.echo(json.dumps({"query": query, "hits": rows}, ensure_ascii=False))
        return
    for n, row in enumerate(rows, start=1):
        typer.echo(f"{n}. [{row['id']}] {row['title']}  (score {row['score']}, cosine {row['dense_score']})")
        typer.echo(f"   {row['text'][:160]}")


@kb_app.command("stats")
def stats(encoder: EncoderOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Chunks by source, kind and language, and the index in use."""
    from kb.errors import KbError

    settings = _settings(config)
    try:
        result = _open(settings, encoder).stats()
    except KbError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(f"{result['chunks']} chunks, encoder {result['encoder']} ({result['dim']} dims), {result['index']} index")
    for field in ("sources", "kinds", "languages"):
        typer.echo(f"  {field}: " + ", ".join(f"{name} {count}" for name, count in result[field].items()))


@eval_app.command("retrieval")
def eval_retrieval(
    questions_file: Annotated[Path, typer.Argument(help="JSON lines: question, language, relevant chunk ids.")],
    no_filter: Annotated[bool, typer.Option("--no-filter", help="Search all languages, not the question's.")] = False,
    fusion: Annotated[str, typer.Option("--fusion", help="Hybrid fusion: convex (default) or rrf.")] = "convex",
    encoder: EncoderOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """recall@1/5/10 and MRR of dense-only, BM25-only and hybrid retrieval."""
    from kb.errors import KbError
    from kb.evaluate import evaluate, load_questions

    settings = _settings(config)
    if fusion not in ("convex", "rrf"):
        raise typer.BadParameter("use convex or rrf", param_hint="--fusion")
    try:
        knowledge = _open(settings, encoder)
        knowledge.fusion = fusion  # type: ignore[assignment]
        report = evaluate(knowledge, load_questions(questions_file), language_filter=not no_filter)
    except (KbError, ValueError) as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps(report))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"retrieval on {report['questions']} questions")
    for column in ("retriever", "recall@1", "recall@5", "recall@10", "MRR"):
        table.add_column(column)
    for mode, row in report["modes"].items():
        table.add_row(mode, *(f"{row[key]:.3f}" for key in ("recall@1", "recall@5", "recall@10", "mrr")))
    Console().print(table)
    if report.get("threshold"):
        t = report["threshold"]
        typer.echo(f"best cut on top dense score: {t['min_dense_score']} (keeps {t['in_scope_kept']:.0%} answerable, "
                   f"rejects {t['out_of_scope_rejected']:.0%} of {report['out_of_scope']} out-of-scope)")


@bench_app.command("kb")
def bench_kb(
    sizes: Annotated[str, typer.Option("--sizes", help="Comma-separated index sizes.")] = "10000,100000,1000000",
    kinds: Annotated[str, typer.Option("--kinds", help="Approximate kinds to compare with Flat: hnsw, ivf.")] = "ivf,hnsw",
    hnsw_max: Annotated[int, typer.Option("--hnsw-max", help="Skip HNSW above this size (its build is slow).")] = 200_000,
    hnsw_m: Annotated[int, typer.Option("--hnsw-m", help="HNSW links per node.")] = 32,
    ef_construction: Annotated[int, typer.Option("--ef-construction", help="HNSW build-time search depth.")] = 80,
    clusters: Annotated[int | None, typer.Option("--clusters", help="Clusters in the synthetic data (default n/50).")] = None,
    queries: Annotated[int, typer.Option("--queries", min=10, help="Queries per measurement.")] = 200,
    sentences: Annotated[int, typer.Option("--sentences", min=4, help="Sentences for the encoder measurement.")] = 256,
    encoder: EncoderOption = None,
    as_json: JsonOption = False,
) -> None:
    """FAISS Flat vs IVF/HNSW at scale (synthetic vectors) and the encoder's sentences/s."""
    from kb.bench import bench_encoder, bench_size
    from kb.encoders import load_encoder

    wanted = [kind.strip() for kind in kinds.split(",") if kind.strip()]
    texts = [f"Do you ship order {n} to Shanghai, and how long does it take? 第{n}号订单多久能到上海？" for n in range(sentences)]
    enc = load_encoder(encoder or "use-multilingual")
    report: dict[str, Any] = {"encoder": bench_encoder(enc, sentences=texts), "sizes": []}
    for size in (int(s) for s in sizes.split(",") if s.strip()):
        size_kinds = [k for k in wanted if k != "hnsw" or size <= hnsw_max]
        result = bench_size(size, kinds=size_kinds, dim=enc.dim, queries=queries,  # type: ignore[arg-type]
                            hnsw_m=hnsw_m, ef_construction=ef_construction, clusters=clusters)
        report["sizes"].append(result)
        if not as_json:
            for row in result["indexes"]:
                param = f"ef={row['ef_search']}" if "ef_search" in row else f"nprobe={row['nprobe']}" if "nprobe" in row else "exact"
                typer.echo(f"n={size:>8} {row['kind']:>5} {param:<11} build {row['build_s']:>7.2f} s  mem {row['memory_mb']:>7.1f} MB  "
                           f"p50 {row['p50_ms']:.2f} ms  p95 {row['p95_ms']:.2f} ms  {row['qps']:.0f} q/s  "
                           f"recall@10 {row['recall_at_10']:.3f}  x{row['speedup_vs_flat_p95']} vs flat p95")
    if as_json:
        typer.echo(json.dumps(report))
    else:
        e = report["encoder"]
        typer.echo(f"encoder {e['encoder']}: {e['batched_per_s']} sentences/s batched, {e['single_per_s']}/s one at a time "
                   f"(x{e['batch_speedup']})")
