"""Variants, comparisons, weight sweeps, Pareto fronts and chained relay batches (docs/runner.md).

Every solve here goes through a ``Workbench``, which keeps what does not change
from one solve of an instance to the next: the allowed pairs (they depend only
on the hard rules and on the parameters of factors that forbid pairs, such as
``proximity.max_km``) and the raw factor scores (they depend on every parameter
but the weight). A weight sweep therefore builds its pairs and scores once.

Solving one variant is ``solve_variant``, a plain function of picklable inputs
that writes its own output folder, so that ``compare`` can hand its variants to
``placement_engine.parallel``. A sweep hands it contiguous chunks of its grid
rather than single points, so that each worker reuses the scores within its chunk.

Modules: ``workbench`` (settings and reuse), ``tables`` (result rows, terminal
tables), ``comparison`` (variants), ``sweeps``, ``fronts`` (Pareto) and ``chains``.
"""

from .chains import RELAY_MODES, chain
from .comparison import Comparison, changes_table, compare, comparison_table, solve_variant
from .fronts import integer_scale, pareto
from .sweeps import sweep
from .tables import allocation_row, format_chain, format_comparison
from .workbench import Report, SolveOptions, Workbench

__all__ = [
    "RELAY_MODES",
    "Comparison",
    "Report",
    "SolveOptions",
    "Workbench",
    "allocation_row",
    "chain",
    "changes_table",
    "compare",
    "comparison_table",
    "format_chain",
    "format_comparison",
    "integer_scale",
    "pareto",
    "solve_variant",
    "sweep",
]
