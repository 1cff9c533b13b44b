"""Hypothesis profiles: ``ci`` (the default) is derandomised, so every run draws the same examples."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    # Every draw validates its tables like a file load; that is slow by design, not a fault.
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
