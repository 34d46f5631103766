"""What bench/run.py saves as JSON, checked before ``--render`` uses it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    model_validator,
)

Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SavedRun(BaseModel):
    """One throughput run, as ``load.Run`` saves it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["episode", "baseline"]
    size: PositiveInt
    seconds: Seconds
    starts: list[Seconds] = Field(min_length=1)
    updates: list[Seconds] = Field(min_length=1)
    complete: bool


class Generation(BaseModel):
    count: NonNegativeInt
    longest: Annotated[float, Field(ge=0)]
    total: Annotated[float, Field(ge=0)]


class SavedFigures(BaseModel):
    """What bench/run.py saves as JSON, checked before ``--render`` uses it.

    A run stopped early has the first fields only; ``finished`` marks a
    run that measured everything, and then the rest must be there too.
    """

    model_config = ConfigDict(extra="forbid")
    machine: dict[str, str]
    sizes: list[PositiveInt] = Field(min_length=1)
    open_target: NonNegativeInt
    cache: PositiveInt
    batches: list[PositiveInt] = Field(min_length=1)
    runs: list[SavedRun]
    memory: list[tuple[NonNegativeInt, Seconds]] = Field(min_length=1)
    status: list[Seconds] | None = Field(default=None, min_length=1)
    gc: dict[int, Generation] = {}
    sdk_warnings: dict[str, NonNegativeInt] = {}
    # Runs before the core's warnings were forwarded lack it.
    core_counted: bool = False
    simulation: Seconds | None = None
    replay: tuple[str, PositiveInt, Seconds] | None = None
    finished: str | None = None
    seconds: Seconds | None = None

    @model_validator(mode="after")
    def paired(self) -> SavedFigures:
        """Runs come as an episode run, then the baseline's of the same N."""
        for number, run in enumerate(self.runs):
            kind = ("episode", "baseline")[number % 2]
            if run.kind != kind or run.size != self.runs[number - number % 2].size:
                raise ValueError(
                    f"runs.{number}: expected the {kind} run of "
                    f"N = {self.runs[number - number % 2].size}"
                )
        if self.memory[0][0] != 0:
            raise ValueError("memory: the first point is taken with none open")
        return self

    def complete(self) -> bool:
        return None not in (
            self.status,
            self.simulation,
            self.replay,
            self.finished,
            self.seconds,
        )


def checked(saved: Any) -> dict[str, Any]:
    """``saved`` as ``render`` reads it, or ValueError naming what is wrong.

    A run marked finished must hold every figure; one not finished renders
    as stopped early, whatever else it holds.
    """
    try:
        figures = SavedFigures.model_validate(saved)
    except ValidationError as error:
        raise ValueError(
            "; ".join(
                f"{'.'.join(map(str, each['loc'])) or 'the file'}: {each['msg']}"
                for each in error.errors()
            )
        ) from None
    if figures.finished is not None and not figures.complete():
        raise ValueError("marked finished, but status, simulation or replay is missing")
    return figures.model_dump(exclude_none=True)
