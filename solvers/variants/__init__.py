"""Quiz variants: specs, deterministic keyed generation, sets with answers, bulk tensors.

Variant n of (task, spec, seed) is the same on every machine and in every set; with a
server secret it cannot be recomputed without it. Variants are hand-computable (see each
generator's ``rules``); a rule that could not be met is named in the variant's notes.
"""

from pydantic import BaseModel

from solvers.variants.base import MAX_ATTEMPTS, Generator
from solvers.variants.rng import CounterRng
from solvers.variants.sets import (
    GENERATORS,
    MAX_SET_COUNT,
    Bulk,
    Variant,
    VariantSet,
    generate_bulk,
    generate_set,
    regenerate,
    variant_key,
)
from solvers.variants.specs import ConvSpec, GraphSpec, LossSpec, QuizSpec


def generate(task: str, rng: CounterRng, spec: LossSpec | GraphSpec | ConvSpec) -> BaseModel:
    """One hand-computable problem of ``task`` from a one-variant random source (DESIGN §2)."""
    return GENERATORS[task].generate(rng, spec)


__all__ = [
    "GENERATORS",
    "MAX_ATTEMPTS",
    "MAX_SET_COUNT",
    "Bulk",
    "ConvSpec",
    "CounterRng",
    "Generator",
    "GraphSpec",
    "LossSpec",
    "QuizSpec",
    "Variant",
    "VariantSet",
    "generate",
    "generate_bulk",
    "generate_set",
    "regenerate",
    "variant_key",
]
