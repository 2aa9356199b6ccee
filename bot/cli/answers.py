"""``kefu eval answers``: labelled shopper questions through the real pipeline, each reply judged."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bot.answer_eval import Question, QuestionError, Report, judge, load_questions
from bot.app import Components, build_pipeline
from bot.cli.groups import eval_app
from bot.cli.kit import ConfigOption, JsonOption, fail_usage, load, print_json, setup
from bot.config import Settings
from bot.messages import ConversationRef, Message


def shop_text(settings: Settings, components: Components) -> str:
    """Everything a reply may take a number from: the knowledge base's passages and the orders file."""
    from bot.actions.backends import demo_orders_file

    chunks = getattr(components.knowledge_base, "chunks", ())
    parts = [f"{getattr(c, 'title', '')}\n{getattr(c, 'text', '')}" for c in chunks]
    orders = settings.store.orders_file or demo_orders_file()
    parts.append(orders.read_text(encoding="utf-8"))
    parts.append(f"{settings.shop.name} {settings.shop.hours} {settings.shop.hours_zh}")
    return "\n".join(parts)


async def evaluate_answers(settings: Settings, components: Components, questions: list[Question]) -> Report:
    """Each question as a new conversation's first message, on a fresh copy of the demo orders."""
    from bot.actions.backends import SqliteOrderBackend, demo_orders_file
    from bot.app import open_orders
    from bot.sessions.sqlite import Database

    with tempfile.TemporaryDirectory(prefix="kefu-eval-") as folder:
        if settings.store.order_backend == "demo":
            orders = SqliteOrderBackend(await Database.open(Path(folder) / "orders.sqlite3"))
            await orders.setup(seed=settings.store.orders_file or demo_orders_file())
        else:
            orders = await open_orders(settings)  # type: ignore[assignment]
        pipeline = build_pipeline(settings, components, orders=orders)
        grounding = shop_text(settings, components)
        report = Report()
        try:
            for question in questions:
                message = Message(conversation=ConversationRef("eval", question.id), user_id="eval", text=question.text)
                reply = await pipeline.handle(message)
                report.verdicts.append(
                    judge(
                        question,
                        reply=reply.text,
                        reason=reply.reason or "",
                        language=reply.language or "",
                        grounding=grounding,
                    )
                )
        finally:
            await orders.close()
            await pipeline.engines.aclose()
    return report


@eval_app.command("answers")
def eval_answers(
    questions_file: Annotated[Path, typer.Argument(help="JSON lines: question, kind, split, move, language, must…")],
    split: Annotated[str | None, typer.Option("--split", help="Only this split: dev or test.")] = None,
    show_errors: Annotated[bool, typer.Option("--errors", help="Print each wrong reply and why.")] = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Correctness of whole replies: facts stated, claims avoided, move and language, per kind of question."""
    try:
        questions = load_questions(questions_file, split=split)
    except QuestionError as error:
        fail_usage(error)
    settings = setup(config, log_level="WARNING")
    components = load(settings, speech=False)
    report = asyncio.run(evaluate_answers(settings, components, questions))
    result = report.to_json()
    if json_output:
        print_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"answers on {result['questions']} questions" + (f" ({split})" if split else ""))
    for column in ("kind", "correct", "total", "accuracy"):
        table.add_column(column)
    for name, row in (*result["kinds"].items(), *result["languages"].items()):
        table.add_row(name, str(row["correct"]), str(row["total"]), f"{row['accuracy']:.3f}")
    table.add_row("overall", str(result["correct"]), str(result["questions"]), f"{result['accuracy']:.3f}")
    Console().print(table)
    typer.echo(f"numbers in replies found nowhere in the shop's data: {result['unsupported_numbers']}")
    if show_errors:
        for verdict in report.verdicts:
            if not verdict.correct:
                typer.echo(
                    f"\n[{verdict.question.id}] {verdict.question.text}\n  {'; '.join(verdict.problems)}"
                    f"\n  reason: {verdict.reason}\n  reply: {verdict.reply[:300]!r}"
                )
