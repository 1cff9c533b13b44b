"""Solver settings, and the allowed pairs and raw factor scores kept across solves of one instance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..allocation import Allocation, effective_policy, solve
from ..factors import FACTORS, Factor
from ..rules import allowed_pairs
from ..scenario import Scenario
from ..schema import Policy
from ..solve import ScoreCache, Settings, Terms, build_terms

Report = Callable[[str], None]


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings for every solve of a runner call; ``None`` takes the scenario's or the policy's."""

    time_limit: float | None = None
    workers: int | None = None
    seed: int | None = None

    @classmethod
    def of(cls, options: SolveOptions | Mapping[str, Any] | None) -> SolveOptions:
        if isinstance(options, SolveOptions):
            return options
        return cls(**(options or {}))

    def policy(self, scenario: Scenario, policy: Policy) -> Policy:
        """``policy`` with these options merged in, in the order of precedence of ``solve`` (validated)."""
        return effective_policy(scenario, policy, self.time_limit, self.workers, self.seed)

    def settings(self, scenario: Scenario, policy: Policy) -> Settings:
        return Settings.of(self.policy(scenario, policy).solver)


class Workbench:
    """Allowed pairs and raw factor scores, kept across solves of the same instance.

    ``pair_builds`` counts how often the allowed pairs were generated; ``score_hits``
    how often a factor's scores came from the cache instead of being recomputed.
    """

    def __init__(self) -> None:
        self._caches: dict[tuple, tuple[Any, ScoreCache]] = {}
        self.pair_builds = 0

    @property
    def score_hits(self) -> int:
        return sum(cache.hits for _, cache in self._caches.values())

    def cache(self, scenario: Scenario, policy: Policy) -> ScoreCache:
        """The score cache over the pairs ``policy`` allows in ``scenario``, built on first use."""
        instance = scenario.instance
        key = (id(instance), _pair_rules_key(policy))
        entry = self._caches.get(key)
        if entry is None or entry[0] is not instance:  # the instance is kept, so its id is not reused
            self.pair_builds += 1
            entry = (instance, ScoreCache(allowed_pairs(instance, policy)))
            self._caches[key] = entry
        return entry[1]

    def terms(self, scenario: Scenario, policy: Policy) -> Terms:
        cache = self.cache(scenario, policy)
        return build_terms(cache.pairs, policy, cache)

    def solve(
        self,
        scenario: Scenario,
        policy: Policy | None = None,
        options: SolveOptions | None = None,
        log: Report | None = None,
        audit: bool = True,
    ) -> Allocation:
        """``placement_engine.solve`` with the pairs and scores reused."""
        policy = policy or scenario.policy
        options = options or SolveOptions()
        return solve(
            scenario,
            policy,
            time_limit=options.time_limit,
            workers=options.workers,
            seed=options.seed,
            log=log,
            cache=self.cache(scenario, policy),
            audit=audit,
        )


def _pair_rules_key(policy: Policy) -> tuple:
    """What the allowed pairs depend on: the hard rules and every parameter of factors that forbid pairs."""
    forbidding = tuple(
        (name, params.model_dump_json(exclude={"weight"}))
        for name, params in policy.active_factors().items()
        if type(FACTORS[name]).forbidden is not Factor.forbidden
    )
    return policy.rules.model_dump_json(), forbidding
