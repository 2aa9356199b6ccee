"""Synthetic English voice notes of chosen lengths, for the window-margin table and ``kefu bench speech``.

    notes = build_notes(36, min_s=2, max_s=30)    # [Note(text, audio)], deterministic
    note = note_of_length(6.0)                    # one note padded to exactly 6 s

Sentences are spoken by espeak-ng with varied voices, pitches and speeds; a note joins sentences in
one voice until it nears its target length. Written for this benchmark, not taken from any test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.testing import join, synthesize

SENTENCES = (
    "Hello, I ordered a wool scarf last Monday and it still has not arrived.",
    "Can you check where my parcel is right now?",
    "Thank you.",
    "I would like to return the shoes because they are too small.",
    "Do you ship to Canada?",
    "The package came today but the box was damaged.",
    "How long does a refund usually take?",
    "Yes, please.",
    "My order number is on the receipt, but I cannot find the receipt anywhere.",
    "Is the green lamp still in stock?",
    "I paid twice by mistake, could you cancel one of the payments?",
    "Good morning.",
    "Please change the delivery address to my office instead of my home.",
    "What are your opening hours on the weekend?",
    "The jacket fits well but the colour looks different from the photo.",
    "Could I speak to a real person, please?",
    "I never received the confirmation email after I placed the order.",
    "Which size would you recommend for a tall person?",
    "No, that is all, thank you very much for your help.",
    "The coffee machine makes a loud noise and then stops working.",
    "Can I pay with a credit card when the courier arrives?",
    "I want to buy a gift for my mother, what do you suggest?",
    "Where can I find the instructions for the kettle?",
    "My discount code does not work at the checkout.",
    "Please send me the invoice for my company.",
    "How much is the express delivery?",
    "The tracking page has not changed for three days.",
    "Is it possible to exchange the blue shirt for a black one?",
    "I am not at home tomorrow, can the driver leave the parcel with my neighbour?",
    "The chair arrived without the screws.",
    "Do you have a store in the city centre where I can see the sofa?",
    "Sorry, I pressed the wrong button.",
    "Could you tell me whether the headphones work with my phone?",
    "The battery of the speaker lasts only one hour.",
    "I would like to cancel my order before it is shipped.",
    "When will the winter collection be available?",
    "Great, that solves my problem.",
    "The website says the item is sold out, will it come back soon?",
    "My daughter chose the wrong size, can we send it back?",
    "Please call me after six in the evening.",
)

VOICES = (
    ("en-us", 50),
    ("en-gb", 40),
    ("en-us+f3", 60),
    ("en-gb-x-rp", 55),
    ("en-us+m3", 35),
    ("en-gb-scotland", 50),
    ("en-029", 45),
    ("en-us+f2", 70),
)
SPEEDS = (140, 155, 170, 185, 160)


@dataclass(frozen=True, slots=True)
class Note:
    """A synthetic voice note and the words it says."""

    text: str
    audio: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.audio.size / SAMPLE_RATE


def _note(index: int, target_s: float, *, slack_s: float = 0.5) -> Note:
    """Sentences in one voice until the note nears ``target_s``, overshooting it by at most ``slack_s``."""
    voice, pitch = VOICES[index % len(VOICES)]
    speed = SPEEDS[index % len(SPEEDS)]
    texts: list[str] = []
    clips: list[np.ndarray] = []
    length = 0.0
    for step in range(len(SENTENCES)):
        sentence = SENTENCES[(index * 7 + step) % len(SENTENCES)]
        clip = synthesize(sentence, voice=voice, speed=speed, pitch=pitch)
        seconds = clip.size / SAMPLE_RATE + (0.35 if clips else 0.0)
        if length + seconds > target_s + slack_s:
            if clips and length >= target_s - 1.5:
                break
            continue
        texts.append(sentence)
        clips.append(clip)
        length += seconds
        if length >= target_s - 0.5:
            break
    if not clips:  # no sentence is short enough: take the first
        texts, clips = [SENTENCES[index % len(SENTENCES)]], [synthesize(SENTENCES[index % len(SENTENCES)], voice=voice)]
    return Note(" ".join(texts), join(clips)[: int(30 * SAMPLE_RATE)])


def build_notes(count: int, *, min_s: float = 2.0, max_s: float = 30.0) -> list[Note]:
    """``count`` notes with target lengths spread evenly from ``min_s`` to ``max_s``."""
    return [_note(i, float(target)) for i, target in enumerate(np.linspace(min_s, max_s, count))]


def note_of_length(seconds: float, *, index: int = 0) -> Note:
    """A note of exactly ``seconds``: whole sentences, then silence to fill."""
    note = _note(index, min(seconds, 30.0), slack_s=0.0)
    size = int(seconds * SAMPLE_RATE)
    audio = np.zeros(size, np.float32)
    audio[: min(size, note.audio.size)] = note.audio[:size]
    return Note(note.text, audio)
