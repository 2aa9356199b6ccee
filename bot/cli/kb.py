"""Knowledge-base commands: ``kefu kb build|search|stats``, ``kefu eval retrieval``, ``kefu bench kb``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.groups import app, bench_app, eval_app
from bot.cli.kit import ConfigOption, JsonOption, fail, fail_usage, setup

if TYPE_CHECKING:  # imported lazily at run time: `kefu --help` must stay quick
    from bot.app import KbLocation
    from bot.config import Settings
    from kb.search import KnowledgeBase

kb_app = typer.Typer(help="Build, search and inspect the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

EncoderOption = Annotated[
    str | None, typer.Option("--encoder", help="Encoder name or path (default: KEFU_KB__ENCODER).")
]
RerankOption = Annotated[
    str | None,
    typer.Option("--rerank", help="The second stage's encoder, or none (default: KEFU_KB__RERANK)."),
]
KbOption = Annotated[
    Path | None,
    typer.Option(
        "--kb", help="An index folder (`kefu kb build --out`) or sources (default: KEFU_KB__PATH, else the demo store)."
    ),
]


def _locate(settings: Any, paths: list[Path]) -> KbLocation:
    """``bot.app.locate_knowledge_base``; a path that is neither an index nor sources ends the command (exit 2)."""
    from bot.app import locate_knowledge_base
    from bot.errors import ConfigError

    try:
        return locate_knowledge_base(settings, paths=paths)
    except ConfigError as error:
        fail_usage(error)


def _open(settings: Any, kb: Path | None, encoder_name: str | None, rerank: str | None = None) -> KnowledgeBase:
    """The knowledge base ``--kb`` names, else the configured one; it never builds any index but its own."""
    from rich.console import Console

    from bot.app.knowledge import load_rerank_encoder
    from kb.encoders import load_encoder

    location = _locate(settings, [kb] if kb else [])
    with Console(stderr=True).status("loading the encoder and the knowledge base…"):
        encoder = load_encoder(encoder_name or settings.kb.encoder, device=settings.device)
        second = load_rerank_encoder(rerank if rerank is not None else settings.kb.rerank, device=settings.device)
        return location.open(encoder=encoder, device=settings.device, rerank=second, evidence=settings.kb.evidence)


@kb_app.command("build")
def build(
    sources: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: KEFU_KB__PATH, else the demo store).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Index folder (default: the sources' folder in the data dir).")
    ] = None,
    index: Annotated[str, typer.Option("--index", help="auto, flat, hnsw or ivf.")] = "auto",
    encoder: EncoderOption = None,
    rerank: RerankOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build (or incrementally rebuild) the index of SOURCES at --out; search it with `kefu kb search --kb`."""
    import time

    from bot.app.knowledge import load_rerank_encoder
    from kb.build import build_index
    from kb.encoders import load_encoder
    from kb.errors import KbError

    settings = setup(config, log_level="WARNING")
    named = sources or []
    location = _locate(settings, named)
    if not location.sources:
        fail_usage(f"{location.index} is a built index, not sources: name the files or folders to index")
    target = out or location.index
    start = time.perf_counter()
    try:
        encoding = load_encoder(encoder or settings.kb.encoder, device=settings.device)
        second = load_rerank_encoder(rerank if rerank is not None else settings.kb.rerank, device=settings.device)
        knowledge = build_index(
            location.sources,
            out=target,
            encoder=encoding,
            kind=index,  # type: ignore[arg-type]
            rerank_encoder=second,
        )
    except (KbError, ValueError) as error:
        fail(error)
    photos = _photos(location.sources, target, settings)
    result = {
        "out": str(target),
        "seconds": round(time.perf_counter() - start, 2),
        **knowledge.stats(),
        **({"photos": photos} if photos else {}),
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(
        f"built {result['chunks']} chunks from {len(location.sources)} files into {target} in {result['seconds']} s"
        + (f", and indexed {photos} catalogue photos for find by photo" if photos else "")
    )
    if named or out:  # else the configured knowledge base was built, and plain `kefu kb search` finds it
        name = named[0] if out is None and len(named) == 1 else target
        typer.echo(f"search it with `kefu kb search QUESTION --kb {name}`; the bot uses it with KEFU_KB__PATH={name}")


@kb_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What a shopper asks.")],
    k: Annotated[int, typer.Option("--k", min=1, help="How many hits.")] = 5,
    lang: Annotated[str | None, typer.Option("--lang", help="Only chunks in this language (zh, en).")] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="rerank (as the bot searches: every configured stage), evidence, hybrid, dense or bm25."
        ),
    ] = "rerank",
    kb: KbOption = None,
    encoder: EncoderOption = None,
    rerank: RerankOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the knowledge base and print the hits with their scores."""
    from kb.errors import KbError

    settings = setup(config, log_level="WARNING")
    try:
        knowledge = _open(settings, kb, encoder, rerank)
        hits = knowledge.search_text(query, k=k, filters={"language": lang} if lang else None, mode=mode)  # type: ignore[arg-type]
    except (KbError, ValueError) as error:
        fail(error)
    rows = [
        {
            "id": h.id,
            "title": h.title,
            "score": round(h.score, 4),
            "dense_score": round(h.metadata["dense_score"], 4),
            "text": h.text,
            "source": h.metadata["source"],
        }
        for h in hits
    ]
    if as_json:
        typer.echo(json.dumps({"query": query, "hits": rows}, ensure_ascii=False))
        return
    for n, row in enumerate(rows, start=1):
        typer.echo(f"{n}. [{row['id']}] {row['title']}  (score {row['score']}, cosine {row['dense_score']})")
        typer.echo(f"   {row['text'][:160]}")


@kb_app.command("stats")
def stats(
    kb: KbOption = None, encoder: EncoderOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Chunks by source, kind and language, and the index in use."""
    from kb.errors import KbError

    settings = setup(config, log_level="WARNING")
    try:
        result = _open(settings, kb, encoder).stats()
    except KbError as error:
        fail(error)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(
        f"{result['chunks']} chunks, encoder {result['encoder']} ({result['dim']} dims), {result['index']} index"
    )
    for field in ("sources", "kinds", "languages"):
        typer.echo(f"  {field}: " + ", ".join(f"{name} {count}" for name, count in result[field].items()))


@eval_app.command("retrieval")
def eval_retrieval(
    questions_file: Annotated[Path, typer.Argument(help="JSON lines: question, language, relevant chunk ids.")],
    no_filter: Annotated[bool, typer.Option("--no-filter", help="Search all languages, not the question's.")] = False,
    fusion: Annotated[str, typer.Option("--fusion", help="Hybrid fusion: convex (default) or rrf.")] = "convex",
    kb: KbOption = None,
    encoder: EncoderOption = None,
    rerank: RerankOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """recall@1/5/10 and MRR of dense-only, BM25-only and hybrid retrieval, and hybrid with the second stage."""
    from kb.errors import KbError
    from kb.evaluate import evaluate, load_questions

    settings = setup(config, log_level="WARNING")
    if fusion not in ("convex", "rrf"):
        raise typer.BadParameter("use convex or rrf", param_hint="--fusion")
    try:
        knowledge = _open(settings, kb, encoder, rerank)
        knowledge.fusion = fusion  # type: ignore[assignment]
        report = evaluate(knowledge, load_questions(questions_file), language_filter=not no_filter)
    except (KbError, ValueError) as error:
        fail(error)
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
        typer.echo(
            f"best cut on top dense score: {t['min_dense_score']} (keeps {t['in_scope_kept']:.0%} answerable, "
            f"rejects {t['out_of_scope_rejected']:.0%} of {report['out_of_scope']} out-of-scope)"
        )


@bench_app.command("kb")
def bench_kb(
    sizes: Annotated[str, typer.Option("--sizes", help="Comma-separated index sizes.")] = "10000,100000,1000000",
    kinds: Annotated[
        str, typer.Option("--kinds", help="Approximate kinds to compare with Flat: hnsw, ivf.")
    ] = "ivf,hnsw",
    hnsw_max: Annotated[
        int, typer.Option("--hnsw-max", help="Skip HNSW above this size (its build is slow).")
    ] = 200_000,
    hnsw_m: Annotated[int, typer.Option("--hnsw-m", help="HNSW links per node.")] = 32,
    ef_construction: Annotated[int, typer.Option("--ef-construction", help="HNSW build-time search depth.")] = 80,
    clusters: Annotated[
        int | None, typer.Option("--clusters", help="Clusters in the synthetic data (default n/50).")
    ] = None,
    queries: Annotated[int, typer.Option("--queries", min=10, help="Queries per measurement.")] = 200,
    sentences: Annotated[int, typer.Option("--sentences", min=4, help="Sentences for the encoder measurement.")] = 256,
    encoder: EncoderOption = None,
    as_json: JsonOption = False,
) -> None:
    """FAISS Flat vs IVF/HNSW at scale (synthetic vectors) and the encoder's sentences/s."""
    from kb.bench import bench_encoder, bench_size
    from kb.encoders import load_encoder

    wanted = [kind.strip() for kind in kinds.split(",") if kind.strip()]
    texts = [
        f"Do you ship order {n} to Shanghai, and how long does it take? 第{n}号订单多久能到上海？"
        for n in range(sentences)
    ]
    enc = load_encoder(encoder or "use-multilingual")
    report: dict[str, Any] = {"encoder": bench_encoder(enc, sentences=texts), "sizes": []}
    for size in (int(s) for s in sizes.split(",") if s.strip()):
        size_kinds = [k for k in wanted if k != "hnsw" or size <= hnsw_max]
        result = bench_size(
            size,
            kinds=size_kinds,  # type: ignore[arg-type]
            dim=enc.dim,
            queries=queries,
            hnsw_m=hnsw_m,
            ef_construction=ef_construction,
            clusters=clusters,
        )
        report["sizes"].append(result)
        if not as_json:
            for row in result["indexes"]:
                param = (
                    f"ef={row['ef_search']}"
                    if "ef_search" in row
                    else f"nprobe={row['nprobe']}"
                    if "nprobe" in row
                    else "exact"
                )
                typer.echo(
                    f"n={size:>8} {row['kind']:>5} {param:<11} build {row['build_s']:>7.2f} s  "
                    f"mem {row['memory_mb']:>7.1f} MB  "
                    f"p50 {row['p50_ms']:.2f} ms  p95 {row['p95_ms']:.2f} ms  {row['qps']:.0f} q/s  "
                    f"recall@10 {row['recall_at_10']:.3f}  x{row['speedup_vs_flat_p95']} vs flat p95"
                )
    if as_json:
        typer.echo(json.dumps(report))
    else:
        e = report["encoder"]
        typer.echo(
            f"encoder {e['encoder']}: {e['batched_per_s']} sentences/s batched, {e['single_per_s']}/s one at a time "
            f"(x{e['batch_speedup']})"
        )


def _photos(sources: tuple[Path, ...], target: Path, settings: Settings) -> int:
    """Index the catalogue's product photos beside the text index (find by photo); how many were indexed."""
    from bot.app import KbLocation, catalogue_photos, open_photo_index, resolve_device

    if not catalogue_photos(sources):
        return 0
    try:
        from vision import Labeller
    except ImportError:
        typer.secho(
            "the catalogue names photos, but the vision extra is not installed: find by photo is off",
            fg="yellow",
            err=True,
        )
        return 0
    labeller = Labeller(device=resolve_device(settings, settings.vision.device))
    try:
        index = open_photo_index(KbLocation(index=target, sources=sources), labeller)
    except ValueError as error:
        fail(error)
    return len(index) if index is not None else 0
