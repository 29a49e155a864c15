"""Quiz variants, the engine every task's generator plugs into: keyed randomness
(:mod:`.rng`), the generator protocol and the choice of valid, distinct variants
(:mod:`.base`), spec helpers (:mod:`.specs`) and sets with answers or bulk tensors
(:mod:`.sets`).

Variant n of (task, spec, seed) is the same on every machine and in every set; with a
server secret it cannot be recomputed without it. Variants are hand-computable (see each
generator's ``rules``); a rule that could not be met is named in the variant's notes.
"""
