"""The field reference: every scenario field with its type, bounds, default and meaning.

Generated from the schema, like the index at the back of a manual, so that the
field reference page (docs/reference/fields.md, ``python -m sim fields``)
cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from sim.config.errors import nested_model
from sim.config.schema import Scenario


def field_reference(
    model: type[BaseModel] = Scenario, prefix: str = "", defaults: BaseModel | None = None
) -> list[tuple[str, str, str, str]]:
    """Rows (path, type with bounds, default, description) for every field, for the README.

    ``defaults`` is the parent field's default instance, whose values (for
    example a junior's 0.9) override the nested class's own defaults.
    """
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        nested = nested_model(annotation)
        value = getattr(defaults, name) if defaults is not None else field.default
        if defaults is None and field.is_required():
            default = "required"
        else:
            default = _show_default(value)
        if nested is not None and not _is_sequence(annotation):
            rows.append(
                (
                    path,
                    nested.__name__,
                    default if default == "required" else "",
                    field.description or "",
                )
            )
            inner = value if isinstance(value, BaseModel) else None
            rows.extend(field_reference(nested, f"{path}.", inner))
        elif nested is not None:
            rows.append((path + "[]", f"list of {nested.__name__}", "", field.description or ""))
            rows.extend(field_reference(nested, f"{path}[]."))
        else:
            kind = _show_type(annotation) + _show_bounds(field.metadata)
            rows.append((path, kind, default, field.description or ""))
    return rows


def _show_bounds(metadata: list[Any]) -> str:
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bounds = [
        f"{symbol} {_show_number(getattr(item, name))}"
        for item in metadata
        for name, symbol in symbols.items()
        if getattr(item, name, None) is not None
    ]
    return f" ({', '.join(bounds)})" if bounds else ""


def _show_number(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else str(value)  # 2**63 - 1 in full


def _is_sequence(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is tuple


def _show_type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    if getattr(annotation, "__origin__", None) is Literal:
        text = " / ".join(repr(a) for a in annotation.__args__)
    return text.replace("typing.", "").replace("NoneType", "None")


def _show_default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value)
