"""Response models filled from objects of the same fields (database rows of users, tokens,
organisations and audit entries; search hits): one rule for copying attributes into a model."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

OutT = TypeVar("OutT", bound=BaseModel)


def from_row(model: type[OutT], row: object, **given: object) -> OutT:
    """``model`` with each field read from ``row``'s attribute of that name, except the fields
    in ``given`` (computed by the caller); validated as the model's constructor would."""
    fields = {name: getattr(row, name) for name in model.model_fields if name not in given}
    return model.model_validate({**fields, **given})
