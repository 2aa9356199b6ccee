"""``kefu bench isolation``: one shopper's answer times in the web chat while another floods it.

The bot is the app ``kefu run`` starts (the web chat on a free port, with the configured or demo store). A
"victim" browser session asks questions one at a time, first alone (the baseline) and then while a "flooder"
session sends big text frames, big uploads and a long voice note; the report gives both p50 and p95 and the
ratio of the p95s. Each client runs in a process of its own, so a stalled server shows in the victim's
timings instead of stalling the clients with it.

    python -m bot.cli.isolation victim URL SAMPLES PAUSE_S     # prints {"latencies_ms": [...], ...}
    python -m bot.cli.isolation flooder URL PLAN_JSON          # floods until SIGTERM, then prints counts
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:  # the child processes need only aiohttp
    from bot.app import Components
    from bot.config import Settings

QUESTIONS = (
    "how long do I have to return shoes?",
    "我想退货",
    "do you ship internationally?",
    "衣服可以退货吗？",
    "what payment methods do you accept?",
)
MIB = 1024 * 1024
_SPOKEN = "I would like to know where my order is and how long I have to return a pair of shoes. "


async def bench_isolation(
    settings: Settings,
    components: Components,
    *,
    samples: int,
    text_mb: Sequence[float],
    upload_mb: float,
    voice_s: float,
    pause_s: float = 0.6,
) -> dict[str, Any]:
    """Start the bot, time ``samples`` questions alone and then under the flood; the JSON ``--json`` prints."""
    from bot.app import Kefu

    with tempfile.TemporaryDirectory(prefix="kefu-isolation-") as scratch:
        voice = await asyncio.to_thread(_voice_note, Path(scratch) / "long-note.wav", voice_s) if voice_s > 0 else None
        voice_seconds = _wav_seconds(voice) if voice else 0.0
        http = settings.http.model_copy(update={"host": "127.0.0.1", "port": 0})
        settings = settings.model_copy(update={"http": http, "data_dir": Path(scratch) / "data"})
        bot = Kefu(settings, components, channels=["web"])
        await bot.start()
        try:
            assert bot.http is not None
            url = bot.http.url
            await _child("victim", url, str(len(QUESTIONS)), str(pause_s))  # warm-up, untimed
            idle = await _child("victim", url, str(samples), str(pause_s))
            plan = {"text_mb": list(text_mb), "upload_mb": upload_mb, "voice": str(voice) if voice else None}
            flooder = await _spawn("flooder", url, json.dumps(plan))
            try:
                loaded = await _child("victim", url, str(samples), str(pause_s))
            finally:
                flooded = await _stop(flooder)
        finally:
            await bot.stop()
    report: dict[str, Any] = {"idle": _summary(idle), "flooded": _summary(loaded), "flooder": flooded}
    idle_p95, flooded_p95 = report["idle"]["p95_ms"], report["flooded"]["p95_ms"]
    report["p95_ratio"] = round(flooded_p95 / max(idle_p95, 0.001), 2) if idle_p95 and flooded_p95 else None
    report["voice_s"] = round(voice_seconds, 1)
    return report


def _voice_note(path: Path, seconds: float) -> Path:
    """A WAV of about ``seconds`` of speech (espeak-ng), or of a warbling tone where espeak-ng is missing."""
    espeak = shutil.which("espeak-ng")
    if espeak is not None:
        words = max(1, int(seconds * 4.6))  # espeak-ng reads these words at about 4.6 a second
        text = (_SPOKEN * (words // len(_SPOKEN.split()) + 1)).strip()
        subprocess.run([espeak, "-v", "en-us", "-s", "160", "-w", str(path), text], check=True, capture_output=True)
        return path
    rate = 16_000
    pitch = (220 + 80 * math.sin(n / 900) for n in range(int(seconds * rate)))
    tone = array.array("h", (int(8000 * math.sin(2 * math.pi * hz * n / rate)) for n, hz in enumerate(pitch)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(tone.tobytes())
    return path


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    """Answered and refused questions, and p50/p95/max of the answered ones' times (None when none was)."""
    latencies = sorted(run["latencies_ms"])
    if not latencies:
        return {"answered": 0, "unanswered": run["unanswered"], "p50_ms": None, "p95_ms": None, "max_ms": None}
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18] if len(latencies) > 1 else latencies[0]
    return {
        "answered": len(latencies),
        "unanswered": run["unanswered"],
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(latencies[-1], 1),
    }


_CHECKOUT = str(Path(__file__).resolve().parents[2])
"""The folder holding the ``bot`` package (the child processes import this checkout's code)."""


async def _spawn(role: str, *args: str) -> asyncio.subprocess.Process:
    """This module as a child process (with this checkout's packages first on its path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_CHECKOUT, os.environ.get("PYTHONPATH")) if p)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.isolation", role, *args, stdout=asyncio.subprocess.PIPE, env=env
    )


async def _child(role: str, *args: str) -> dict[str, Any]:
    process = await _spawn(role, *args)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the {role} process failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


async def _stop(process: asyncio.subprocess.Process) -> dict[str, Any]:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        return {}
    result: dict[str, Any] = json.loads(out or b"{}")
    return result


async def _victim(url: str, samples: int, pause_s: float) -> dict[str, Any]:
    """Ask ``samples`` questions one at a time; the time from sending each to its reply."""
    latencies: list[float] = []
    unanswered = 0
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{url}/ws") as ws:
        await ws.receive_json(timeout=30)  # hello
        for number in range(samples):
            started = time.perf_counter()
            await ws.send_json({"type": "message", "text": QUESTIONS[number % len(QUESTIONS)]})
            while True:
                frame = await ws.receive_json(timeout=120)
                if frame["type"] in ("reply", "error"):
                    break
            if frame["type"] == "reply":
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                unanswered += 1
            await asyncio.sleep(pause_s)
    return {"latencies_ms": latencies, "unanswered": unanswered}


async def _flooder(url: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Send the long voice note once, then big text frames and a big junk upload, about 1.5 frames a second,
    reconnecting whenever the server closes the socket, until SIGTERM."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    sent: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    junk = base64.b64encode(os.urandom(int(plan["upload_mb"] * MIB))).decode()
    frames = [("text", json.dumps({"type": "message", "text": "a" * int(mb * MIB)})) for mb in plan["text_mb"]]
    frames.append(("upload", json.dumps({"type": "voice", "mime": "audio/ogg", "data": junk})))
    if plan["voice"]:
        note = base64.b64encode(await asyncio.to_thread(Path(plan["voice"]).read_bytes)).decode()
        frames.insert(0, ("voice", json.dumps({"type": "voice", "mime": "audio/wav", "data": note})))
    schedule = itertools.chain(frames, itertools.cycle(frames[1:] if plan["voice"] else frames))
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            async with http.ws_connect(f"{url}/ws", max_msg_size=0) as ws:
                reader = asyncio.create_task(_count_answers(ws, answers))
                for kind, frame in schedule:
                    if stop.is_set() or ws.closed:
                        break
                    with contextlib.suppress(ConnectionError):
                        await ws.send_str(frame)
                        sent[kind] += 1
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.7)
                reader.cancel()
            answers["closed by the server"] += not stop.is_set()
    return {"sent": dict(sent), "answers": dict(answers)}


async def _count_answers(ws: aiohttp.ClientWebSocketResponse, answers: Counter[str]) -> None:
    async for message in ws:
        answers[json.loads(message.data).get("type", "?")] += 1


def _main(argv: Sequence[str]) -> None:
    role, url, *rest = argv
    if role == "victim":
        result = asyncio.run(_victim(url, int(rest[0]), float(rest[1])))
    elif role == "flooder":
        result = asyncio.run(_flooder(url, json.loads(rest[0])))
    else:
        raise SystemExit(f"unknown role {role!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
