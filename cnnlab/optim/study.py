"""Parts shared by the optimization lessons' comparison studies."""

from __future__ import annotations

import math


class SubsetBudget:
    """Mixin for a study dataclass with ``subset``, ``epochs`` and ``batch_size`` fields.

    Every run of such a study trains on the same class-balanced subset for the same number
    of epochs, so the runs get equal optimizer-step budgets.
    """

    subset: int
    epochs: int
    batch_size: int

    @property
    def steps(self) -> int:
        """Optimizer steps of each run: every epoch covers the whole subset."""
        return self.epochs * math.ceil(self.subset / self.batch_size)
