"""Building blocks shared by the domains' request schemas."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

NO_NUL_PATTERN = r"^[^\x00]*$"


def Text(max_length: int, *, min_length: int = 1) -> Any:  # noqa: N802 - reads like a type in annotations
    """A stripped string of bounded length, for ``Annotated[str, Text(200)]``.

    NUL characters are refused here: PostgreSQL cannot store them, and a 500 is never the answer.
    """
    return StringConstraints(
        strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN
    )


ShortText = Annotated[str, Text(50)]
Term = Annotated[str, Text(50)]
TermList = Annotated[list[Term], Field(max_length=20)]


class InputModel(BaseModel):
    """Base for request bodies: unknown fields are an error, so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PatchModel(InputModel):
    """Base for partial updates: only the fields sent are changed.

    Fields are declared optional so that they may be left out, but a field listed in
    ``not_nullable`` may not be sent as ``null`` (its column has no empty value).
    """

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_nullable:
            raise ValueError("不能为空")
        return value

    def changes(self) -> dict[str, Any]:
        """Return the fields the caller sent, with their validated values."""
        return self.model_dump(exclude_unset=True)


# PostgreSQL integer columns hold 32 bits: a larger id or amount is a 422, not a database error
MAX_INT = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
