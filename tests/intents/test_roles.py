"""Intent roles in the intents file: a role given, the role of the intent's name, none, and each bad role refused."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app.knowledge import load_intent_roles
from bot.cli import app
from bot.config import load_settings
from bot.intents import IntentModelError, IntentsFileError, load_intents, parse_intents
from bot.intents.persist import FORMAT, MANIFEST, read_roles
from bot.intents.roles import ROLE_NAMES, IntentRoles, Role, default_role

SHOP = """
version: 1
intents:
  where_is_my_order:
    role: order_status
    examples: [where is my parcel, 我的快递到哪了]
  talk_to_person:
    role: human_agent
    examples: [a real person please, 转人工]
  item_question:
    role: product_info
    examples: [is this jacket waterproof, 这件有M码吗]
  payment:
    examples: [can I pay with alipay, 可以用花呗吗]
  shipping:
    role: none
    examples: [do you ship to Macau, 能寄到澳门吗]
  greeting:
    examples: [hello, 你好]
  chitchat:
    role: other
    examples: [tell me a joke, 今天天气怎么样]
"""


def test_roles_come_from_the_file_and_the_names() -> None:
    spec = parse_intents(SHOP)
    roles = spec.roles
    assert roles.of("where_is_my_order") is Role.ORDER_STATUS
    assert roles.of("talk_to_person") is Role.HUMAN_AGENT
    assert roles.of("item_question") is Role.PRODUCT_INFO
    assert roles.of("greeting") is Role.GREETING  # named after a role, nothing said: that role
    assert roles.of("payment") is None  # no role: a plain knowledge-base question
    assert roles.of("shipping") is None  # named after a role, but the file says none
    assert roles.of(None) is None


def test_an_intent_with_role_other_is_the_out_of_scope_intent() -> None:
    spec = parse_intents(SHOP)
    assert spec.out_of_scope == "chitchat" and spec.roles.of("chitchat") is Role.OTHER


def test_the_out_of_scope_intent_has_role_other_whatever_its_name() -> None:
    text = "intents:\n  hi: {role: greeting, examples: [hello, hey]}\n  junk: [tell me a joke, sing a song]\n"
    spec = parse_intents(text + "out_of_scope: junk\n")
    assert spec.out_of_scope == "junk" and spec.roles.of("junk") is Role.OTHER
    oos = parse_intents("intents:\n  hi: [hello, hey]\n  oos: [tell me a joke, sing a song]\n")
    assert oos.out_of_scope == "oos" and oos.roles.of("oos") is Role.OTHER


def test_the_demo_store_names_are_the_roles(demo_spec) -> None:
    roles = demo_spec.roles
    assert {name: roles.of(name) for name in ROLE_NAMES} == {name: Role(name) for name in ROLE_NAMES}
    assert roles.of("payment") is None and roles.missing() == []


@pytest.mark.parametrize(
    ("intent_body", "expected"),
    [
        ("{role: order_tracking, examples: [where is it, 到哪了]}", "role 'order_tracking' is not one the core knows"),
        ("{role: Order_Status, examples: [where is it, 到哪了]}", "role 'Order_Status' is not one"),
        ("{role: 3, examples: [where is it, 到哪了]}", "role 3 is not one"),
        ("{role: [order_status], examples: [where is it, 到哪了]}", "role ['order_status'] is not one"),
        ("{role: null, examples: [where is it, 到哪了]}", "role None is not one"),
        ("{role: '', examples: [where is it, 到哪了]}", "role '' is not one"),
    ],
)
def test_an_unknown_role_is_refused_naming_the_file_the_intent_and_the_roles(
    tmp_path: Path, intent_body: str, expected: str
) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(f"intents:\n  track:\n    {intent_body}\n  hi: [hello, hey]\n", encoding="utf-8")
    with pytest.raises(IntentsFileError) as caught:
        load_intents(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: intent 'track': ") and expected in message
    assert all(role in message for role in ROLE_NAMES) and "none" in message


def test_the_out_of_scope_intent_cannot_have_another_role() -> None:
    text = "out_of_scope: junk\nintents:\n  hi: [hello, hey]\n  junk: {role: greeting, examples: [a joke, a song]}\n"
    with pytest.raises(IntentsFileError, match="'junk' is the out-of-scope intent, so its role is other, not greeting"):
        parse_intents(text)
    text = "intents:\n  hi: [hello, hey]\n  other: {role: none, examples: [a joke, a song]}\n"
    with pytest.raises(IntentsFileError, match="so its role is other, not none"):
        parse_intents(text)


def test_unknown_intent_keys_name_role_among_the_allowed() -> None:
    with pytest.raises(IntentsFileError, match="allowed: examples, threshold, role"):
        parse_intents("intents:\n  hi: {rol: greeting, examples: [hello, hey]}\n  bye: [bye, ciao]\n")


def test_roles_without_a_file_are_those_of_the_names() -> None:
    roles = IntentRoles()
    assert roles.of("human_agent") is Role.HUMAN_AGENT and roles.of("talk_to_person") is None
    assert default_role("other") is Role.OTHER and default_role("Other") is None


def test_missing_roles_are_those_no_intent_has() -> None:
    spec = parse_intents("intents:\n  hi: {role: greeting, examples: [hello, hey]}\n  bye: [bye, ciao]\n")
    missing = spec.roles.missing()
    assert Role.GREETING not in missing and Role.HUMAN_AGENT in missing and Role.ORDER_STATUS in missing
    assert Role.OTHER not in missing  # the classifier's out-of-scope flag declines without an out-of-scope intent


def _model_folder(path: Path, **manifest: object) -> Path:
    path.mkdir()
    data = {"format": FORMAT, "backend": "linear", "labels": ["where_is_my_order", "greeting"], "source": {}}
    (path / MANIFEST).write_text(json.dumps(data | manifest), encoding="utf-8")
    return path


def test_a_model_folder_keeps_the_roles_it_was_trained_with(tmp_path: Path) -> None:
    roles = parse_intents(SHOP).roles
    folder = _model_folder(tmp_path / "model", roles=roles.to_json())
    assert read_roles(folder) == IntentRoles.from_json(roles.to_json())
    assert read_roles(folder).of("where_is_my_order") is Role.ORDER_STATUS and read_roles(folder).of("payment") is None


def test_a_model_folder_from_before_roles_gives_each_intent_its_names_role(tmp_path: Path) -> None:
    roles = read_roles(_model_folder(tmp_path / "model"))
    assert roles.of("greeting") is Role.GREETING and roles.of("where_is_my_order") is None


@pytest.mark.parametrize("bad", [{"a": "order_tracking"}, ["order_status"], {"a": 3}])
def test_a_model_folder_with_roles_this_kefu_does_not_know_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(IntentModelError, match="holds roles this kefu does not know"):
        read_roles(_model_folder(tmp_path / "model", roles=bad))


def test_roles_no_intent_has_are_told_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(SHOP, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.app.knowledge"):
        roles = load_intent_roles(load_settings(data_dir=tmp_path, intents={"model": path}))
    assert roles.of("talk_to_person") is Role.HUMAN_AGENT
    warning = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert warning.startswith(f"intents {path}: no intent has the role(s) shipping, return_refund, complaint, goodbye")
    assert "docs/intents.md#roles" in warning


def test_kefu_doctor_names_missing_roles_and_refuses_an_unknown_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text(SHOP, encoding="utf-8")
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEFU_INTENTS__MODEL", str(path))

    def check() -> tuple[int, dict[str, str]]:
        result = CliRunner().invoke(app, ["doctor", "--json"])
        return result.exit_code, next(c for c in json.loads(result.stdout) if c["name"] == "intent roles")

    _, roles = check()
    assert roles["status"] == "warn" and "no intent has the role(s) shipping, return_refund" in roles["detail"]
    path.write_text(SHOP.replace("role: human_agent", "role: human"), encoding="utf-8")
    code, roles = check()
    assert code == 1 and roles["status"] == "fail"
    assert "intent 'talk_to_person': role 'human' is not one the core knows" in roles["detail"]
    monkeypatch.delenv("KEFU_INTENTS__MODEL")
    _, roles = check()
    assert roles["status"] == "ok" and "every role is held by an intent" in roles["detail"]
