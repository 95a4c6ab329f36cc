"""What follows a person through a merge, its undo and an erasure (crm/members/follow.py): every handler a domain
registers (crm/wiring.py) runs inside the merge's or the erasure's transaction; and members import none of the
domains built on them, which register with members instead. Both engines."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from crm import ROOT
from crm.audit.service import Actor
from crm.members import erasure, follow, merge, service
from crm.members.follow import Handler
from crm.members.tables import Member, MemberMerge

ACTOR = Actor.system("test")


class Probe:
    """A domain's handler that notes its calls, and can fail to show they share the caller's transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fail = False

    async def move(self, from_id: int, to_id: int) -> list[int]:
        self.calls.append(("move", from_id, to_id))
        return [from_id * 100]  # what the undo will be given back

    async def move_back(self, ids: list[int], from_id: int, to_id: int) -> None:
        self.calls.append(("move_back", ids, from_id, to_id))

    async def erase(self, member_id: int) -> None:
        self.calls.append(("erase", member_id))
        if self.fail:
            raise RuntimeError("the probe failed")

    def handler(self) -> Handler:
        return Handler(move=self.move, move_back=self.move_back, erase=self.erase)


@pytest.fixture
def probe(monkeypatch) -> Probe:
    """Registered as "probe" next to the real handlers, for this test only."""
    monkeypatch.setattr(follow, "_handlers", dict(follow._handlers))
    probe = Probe()
    follow.register("probe", probe.handler())
    return probe


async def member(name: str, clock) -> int:
    return (await service.create_member(values={"name": name}, actor=ACTOR, now=clock()))["id"]


async def test_a_registered_handler_runs_on_merge_undo_and_erasure(engine, probe, clock):
    jane, dup = await member("Jane", clock), await member("Dup", clock)

    merge_id = await merge.merge_members(keep_id=jane, merge_id=dup, actor=ACTOR, now=clock())
    assert probe.calls == [("move", dup, jane)]
    stored = await MemberMerge.select(MemberMerge.moved_records).output(load_json=True).first().run()
    # The real domains' keys, as merges have always stored them, and the probe's.
    assert set(stored["moved_records"]) == {"briefing", "thank_you", "late_question", "thanks_dismissal", "probe"}
    assert stored["moved_records"]["probe"] == [dup * 100]

    await merge.undo_merge(merge_id=merge_id, actor=ACTOR, now=clock())
    assert probe.calls[1:] == [("move_back", [dup * 100], jane, dup)]

    await erasure.erase_member(member_id=jane, actor=ACTOR, now=clock())
    assert probe.calls[2:] == [("erase", jane)]


async def test_a_failing_handler_rolls_the_erasure_back(engine, probe, clock):
    jane = await member("Jane", clock)
    probe.fail = True
    with pytest.raises(RuntimeError, match="the probe failed"):
        await erasure.erase_member(member_id=jane, actor=ACTOR, now=clock())
    row = await Member.select(Member.name, Member.erased_at).where(Member.id == jane).first().run()
    assert row == {"name": "Jane", "erased_at": None}


async def test_without_the_wiring_a_merge_refuses_instead_of_leaving_records_behind(engine, monkeypatch, clock):
    jane, dup = await member("Jane", clock), await member("Dup", clock)
    monkeypatch.setattr(follow, "_handlers", {})
    with pytest.raises(RuntimeError, match="crm.wiring.connect"):
        await merge.merge_members(keep_id=jane, merge_id=dup, actor=ACTOR, now=clock())
    assert await Member.select(Member.merged_into).where(Member.id == dup).first().run() == {"merged_into": None}


def later_domains() -> set[str]:
    """The packages in the layers above crm.members (pyproject.toml's layers contract)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in config if c["type"] == "layers")
    above = layers[: layers.index("crm.members")]
    return {name.strip() for layer in above for name in layer.replace("|", ":").split(":")}


def imported(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_members_import_none_of_the_domains_built_on_them():
    later = later_domains()
    assert {"crm.incidents", "crm.briefings", "crm.thanks", "crm.questions"} <= later
    found = {
        (str(path.relative_to(ROOT)), domain)
        for path in sorted((ROOT / "crm" / "members").glob("*.py"))
        for module in imported(path)
        for domain in later
        if module == domain or module.startswith(domain + ".")
    }
    assert found == set()
