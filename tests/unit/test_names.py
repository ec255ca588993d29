"""Structure names and labels are defined once (``sim.config.names``) and used everywhere."""

import ast
from pathlib import Path

from sim.analysis.claims import Claim
from sim.config import names, scenario
from sim.config.names import STRUCTURE_LABELS, STRUCTURE_NAMES, Structure, structure_label
from sim.reports import style

SIM = Path(__file__).resolve().parents[2] / "sim"


def test_names_labels_and_order():
    assert STRUCTURE_NAMES == ("allin", "two_party", "conveyor", "pods")
    assert [s.label for s in Structure] == ["All-In", "Two-Party", "Conveyor", "Pods"]
    assert scenario.STRUCTURES == STRUCTURE_NAMES
    assert all(type(name) is str for name in scenario.STRUCTURES)  # plain strings in tables
    assert STRUCTURE_LABELS == {s.value: s.label for s in Structure}
    assert style.structure_label is structure_label
    assert structure_label("hub_and_spoke") == "Hub And Spoke"


def test_a_member_is_its_name():
    assert Structure("two_party") is Structure.TWO_PARTY
    assert Structure.TWO_PARTY == "two_party" and f"{Structure.TWO_PARTY}" == "two_party"
    assert {"two_party": 1}[Structure.TWO_PARTY] == 1  # same hash as the string
    assert list(style.STRUCTURE_COLOURS) == list(STRUCTURE_NAMES)


def test_claims_take_the_structure_names():
    fields = Claim.model_fields
    for field in ("structure", "versus"):
        schema = str(fields[field].annotation)
        assert all(repr(name) in schema for name in STRUCTURE_NAMES), schema


def _literal_name_lists(tree: ast.AST) -> int:
    """Tuple, list and set literals holding two or more structure names."""
    found = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            found += sum(value in STRUCTURE_NAMES for value in values) >= 2
    return found


def _label_constants(tree: ast.AST) -> list[str]:
    """String constants that are a structure's label."""
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in set(STRUCTURE_LABELS.values())
    ]


def test_no_other_module_lists_the_names_or_labels():
    own = Path(names.__file__).resolve()
    lists, labels = {}, {}
    for path in sorted(SIM.rglob("*.py")):
        if path.resolve() == own:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(SIM).as_posix()
        if count := _literal_name_lists(tree):
            lists[relative] = count
        if found := _label_constants(tree):
            labels[relative] = found
    assert lists == {}, "use sim.config.names.STRUCTURE_NAMES (or Structure)"
    assert labels == {}, "use sim.config.names.structure_label (or Structure.label)"
