"""Stability: post priorities, blocking pairs in the audit, and ``rules.stable``, against the ``matching`` library."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident

import placement_engine as pe
from placement_engine.evaluate import allocation_table
from placement_engine.reports.audit import audit_terms
from placement_engine.reports.stability import stability_price
from placement_engine.rules import allowed_pairs
from placement_engine.rules.stable import post_priority
from placement_engine.solve import build_terms
from tests.factories import POSTS, make_scenario, make_tables, placed

SLOTS = sorted(p for p in POSTS if p.startswith("P37"))  # nine Shandong posts, all open to every cadre
POINTS = [100, 90, 80, 70, 60, 50, 40, 30, 20]  # strictly decreasing: more wish points for every better wish

# the hospital-resident example of the matching library's documentation
RESIDENTS = {"A": ["C"], "S": ["C", "M"], "D": ["C", "M", "G"], "J": ["C", "G", "M"], "L": ["M", "C", "G"]}
HOSPITALS = {"M": ["D", "L", "S", "J"], "C": ["D", "A", "S", "L", "J"], "G": ["D", "J", "L"]}
CAPACITIES = {"M": 2, "C": 2, "G": 2}


class Game:
    """A hospital-resident game as a scenario: residents are cadres, hospitals posts, rankings wishes and priorities."""

    def __init__(self, residents: dict, hospitals: dict, capacities: dict, *, extra_scores=None, priorities: bool = True):
        self.residents, self.hospitals, self.capacities = residents, hospitals, capacities
        self.post = {h: SLOTS[i] for i, h in enumerate(hospitals)}
        self.cadre = {r: f"c{i + 1}" for i, r in enumerate(residents)}
        self.acceptable = {(r, h) for r, hs in residents.items() for h in hs if r in hospitals[h]}
        # a pair one side does not rank is forbidden, so the engine cannot use it
        forbid = [(self.cadre[r], self.post[h], "forbid") for r in residents for h in hospitals if (r, h) not in self.acceptable]
        tables = make_tables(
            posts=[{"post_id": self.post[h], "capacity": capacities[h]} for h in hospitals],
            cadres=[{} for _ in residents],
            wishes={self.cadre[r]: [self.post[h] for h in hs] for r, hs in residents.items()},
            pins=forbid,
            pair_scores=extra_scores(self) if extra_scores else None,
        )
        if priorities:
            rows = [(self.post[h], self.cadre[r], len(rs) - k) for h, rs in hospitals.items() for k, r in enumerate(rs)]
            tables["post_priorities"] = pd.DataFrame(rows, columns=["post_id", "cadre_id", "priority"])
        factors = {"preferences": {"points": POINTS}, **({"pair_scores": {}} if extra_scores else {})}
        policy = {"rules": {"place_every_cadre": False}, "factors": factors}
        self.scenario = pe.scenario_from_tables(tables, policy, name="hospital-resident")

    def solved(self, optimal: str) -> dict[str, str]:
        """cadre -> post of the matching library's resident- or hospital-optimal stable matching."""
        game = HospitalResident.create_from_dictionaries(self.residents, self.hospitals, self.capacities)
        matching = game.solve(optimal=optimal)
        assert game.check_stability()
        held = {self.cadre[r.name]: self.post[h.name] for h, rs in matching.items() for r in rs}
        return {c: held.get(c, "") for c in self.cadre.values()}

    def blocking(self, assignment: dict[str, str]) -> set[tuple[str, str]]:
        """Blocking pairs by the textbook definition, in plain Python."""
        hospital_of = {p: h for h, p in self.post.items()}
        resident_of = {c: r for r, c in self.cadre.items()}
        holders = {h: [resident_of[c] for c, p in assignment.items() if p == self.post[h]] for h in self.hospitals}
        found = set()
        for r, ranked in self.residents.items():
            mine = hospital_of.get(assignment[self.cadre[r]])
            better = ranked[: ranked.index(mine)] if mine in ranked else ranked
            for h in better:
                if (r, h) not in self.acceptable:
                    continue
                rank = self.hospitals[h].index
                if len(holders[h]) < self.capacities[h] or any(rank(r) < rank(d) for d in holders[h]):
                    found.add((self.cadre[r], self.post[h]))
        return found

    def audit(self, assignment: dict[str, str]):
        scenario = self.scenario
        inst = scenario.instance
        terms = build_terms(allowed_pairs(inst, scenario.policy), scenario.policy)
        return audit_terms(terms, scenario.policy, inst.post_index([assignment[c] for c in inst.cadre_id]))


def reported(audit) -> set[tuple[str, str]]:
    return set(zip(audit.blocking["cadre"], audit.blocking["blocking_post"]))


@st.composite
def games(draw, max_residents: int = 5, max_hospitals: int = 4) -> tuple[dict, dict, dict]:
    """Random games with strict rankings; each hospital ranks exactly the residents who rank it."""
    hospitals = [f"H{i}" for i in range(draw(st.integers(1, max_hospitals)))]
    residents = [f"R{i}" for i in range(draw(st.integers(1, max_residents)))]
    resident_prefs = {
        r: draw(st.permutations(hospitals).flatmap(lambda order: st.integers(1, len(order)).map(lambda k: list(order[:k]))))
        for r in residents
    }
    # a hospital nobody ranks is left out: the library refuses an empty ranking
    ranked = [h for h in hospitals if any(h in prefs for prefs in resident_prefs.values())]
    hospital_prefs = {h: draw(st.permutations([r for r in residents if h in resident_prefs[r]])) for h in ranked}
    capacities = {h: draw(st.integers(1, 2)) for h in ranked}
    return resident_prefs, hospital_prefs, capacities


def stable_matchings(game: Game):
    """Every matching of the game with no blocking pair (enumeration)."""
    options = [[""] + [game.post[h] for h in game.residents[r] if (r, h) in game.acceptable] for r in game.residents]
    for choice in itertools.product(*options):
        assignment = dict(zip(game.cadre.values(), choice))
        load = pd.Series([p for p in choice if p]).value_counts()
        if all(load.get(game.post[h], 0) <= game.capacities[h] for h in game.hospitals) and not game.blocking(assignment):
            yield assignment


# ---- the documentation's example --------------------------------------------------------------


def test_the_libraries_example_resident_optimal_is_stable_and_rules_stable_finds_it() -> None:
    game = Game(RESIDENTS, HOSPITALS, CAPACITIES)
    best = game.solved("resident")
    assert reported(game.audit(best)) == set()
    allocation = pe.solve(game.scenario.with_policy(rules={"stable": True}))
    assert allocation.status == "OPTIMAL" and allocation.check().ok
    assert placed(allocation) == best
    assert allocation.summary["audit"]["blocking_pairs"] == 0


def test_without_post_priorities_ties_never_justify_envy() -> None:
    """With no table and no side factors every post is indifferent: weak stability leaves only empty seats."""
    game = Game(RESIDENTS, HOSPITALS, CAPACITIES, priorities=False)
    audit = game.audit(game.solved("resident"))
    # the audit's old envy, which counted ties, reported this stable matching 4 times
    assert audit.summary()["justified_envy"] == 0 and reported(audit) == set()
    swapped = game.audit({**game.solved("resident"), "c3": game.post["M"], "c2": game.post["C"]})
    assert reported(swapped) == set()  # D would rather have C, but C is indifferent between D and its holders


def test_a_blocking_pair_is_reported_through_a_holder_and_through_an_empty_seat() -> None:
    game = Game(RESIDENTS, HOSPITALS, CAPACITIES)
    worse = {**game.solved("resident"), "c3": game.post["M"], "c2": game.post["C"]}  # D and S exchange
    audit = game.audit(worse)
    assert reported(audit) == game.blocking(worse) == {("c3", game.post["C"])}
    row = audit.blocking.iloc[0]
    assert (row["displaced"], row["empty_seat"], row["priority"], row["displaced_priority"]) == ("c2", False, 5, 3)
    assert (
        row["sentence"] == "c3 (P370102, wish 2) ranks P370124 as wish 1, and P370124 ranks c3 above its holder c2 (priority 5 against 3)"
    )
    alone = {**{c: "" for c in game.cadre.values()}, "c5": game.post["M"]}
    empty = game.audit(alone).blocking.set_index(["cadre", "blocking_post"])
    assert empty.loc[("c1", game.post["C"]), "empty_seat"] and empty.loc[("c1", game.post["C"]), "displaced"] == ""


# ---- random games -------------------------------------------------------------------------------


@settings(max_examples=40)
@given(games(), st.integers(0, 2**32 - 1))
def test_the_audit_finds_exactly_the_blocking_pairs(drawn, seed: int) -> None:
    game = Game(*drawn)
    for optimal in ("resident", "hospital"):
        assert reported(game.audit(game.solved(optimal))) == set()
    # any matching: each resident takes a random acceptable hospital while it has a seat
    rng = np.random.default_rng(seed)
    load = dict.fromkeys(game.hospitals, 0)
    assignment = {}
    for r, c in game.cadre.items():
        options = [h for h in game.residents[r] if (r, h) in game.acceptable and load[h] < game.capacities[h]]
        h = options[rng.integers(len(options))] if options and rng.random() < 0.8 else None
        assignment[c] = game.post[h] if h else ""
        if h:
            load[h] += 1
    expected = game.blocking(assignment)
    event(f"blocking pairs: {'some' if expected else 'none'}")
    assert reported(game.audit(assignment)) == expected


@settings(max_examples=30)
@given(games())
def test_rules_stable_on_wish_points_gives_the_resident_optimal_matching(drawn) -> None:
    """Resident-optimal is weakly best for every resident among stable matchings, so with strictly decreasing
    wish points it is the one optimum; the rule must find it whatever the unconstrained optimum is."""
    game = Game(*drawn)
    allocation = pe.solve(game.scenario.with_policy(rules={"stable": True}))
    event(f"stability rows added: {'some' if allocation.summary['stable']['rows'] else 'none'}")
    assert allocation.status == "OPTIMAL"
    assert placed(allocation) == game.solved("resident")


def _scores(values: np.ndarray):
    def scores(game: Game) -> list[tuple[str, str, float]]:
        return [(game.cadre[r], game.post[h], float(values[i % len(values)])) for i, (r, h) in enumerate(sorted(game.acceptable))]

    return scores


@settings(max_examples=25)
@given(games(max_residents=5, max_hospitals=3), st.lists(st.integers(-150, 150), min_size=1, max_size=12))
def test_rules_stable_is_exact_under_any_objective(drawn, values) -> None:
    """With pair scores pulling against the wishes, the optimum under the rule is the best stable matching."""
    game = Game(*drawn, extra_scores=_scores(np.asarray(values)))
    unconstrained = pe.solve(game.scenario)
    inst = game.scenario.instance
    best = None
    for assignment in stable_matchings(game):
        table = allocation_table(inst, game.scenario.policy, inst.post_index([assignment[c] for c in inst.cadre_id]))
        total = round(float(table["score_total"].sum()), 6)
        best = total if best is None else max(best, total)
    allocation = pe.solve(game.scenario.with_policy(rules={"stable": True}))
    event(f"price of stability: {'some' if allocation.summary['stable']['cost'] > 1e-9 else 'none'}")
    assert allocation.status == "OPTIMAL" and allocation.check().ok
    assert round(allocation.objective, 6) == best
    assert game.blocking(placed(allocation)) == set()
    assert allocation.summary["stable"]["cost"] == pytest.approx(unconstrained.objective - allocation.objective)


# ---- priorities -----------------------------------------------------------------------------------


def test_priorities_by_university_and_cadre_and_pins() -> None:
    tables = make_tables(
        posts=("P370124", "P370303"),
        cadres=({}, {"university_id": "ouc"}, {"university_id": "ouc"}),
        pins=[("c3", "P370303", "pin")],
    )
    tables["post_priorities"] = pd.DataFrame(
        {
            "post_id": ["P370124", "P370124", "P370303"],
            "university_id": ["ouc", "", "sdu"],
            "cadre_id": ["", "c3", ""],
            "priority": [2, 7, 1],
        }
    )
    scenario = pe.scenario_from_tables(tables, {})
    inst = scenario.instance
    pairs = inst.pairs([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1])
    # sdu's c1 is unlisted at P370124 (lowest); c3's own row wins over ouc's; the pin outranks everyone
    assert post_priority(pairs, scenario.policy).tolist() == [-np.inf, 2, 7, 1, -np.inf, np.inf]


def test_default_priority_is_the_posts_side_points() -> None:
    scenario = make_scenario(
        cadres=({}, {"university_id": "ouc"}),
        partnerships=[("ouc", "P370124")],
        policy={"factors": {"partnership": {"weight": 25}, "rank_fit": {"weight": 30}}},
    )
    pairs = scenario.instance.pairs([0, 1], [0, 0])
    assert post_priority(pairs, scenario.policy).tolist() == [-60.0, -35.0]  # section over staff: 2 steps; ouc's agreement


def test_a_bad_priorities_table_is_an_input_error() -> None:
    tables = make_tables(cadres=({}, {}))
    tables["post_priorities"] = pd.DataFrame(
        {
            "post_id": ["P370124", "P999999", "P370124", "P370124"],
            "cadre_id": ["c1", "c1", "", "c1"],
            "university_id": ["", "", "", ""],
            "priority": [1, 2, 3, 4],
        }
    )
    with pytest.raises(pe.InputError) as error:
        pe.scenario_from_tables(tables, {})
    assert [str(p) for p in error.value.problems] == [
        "post_priorities row 4, column cadre_id: expected a cadre_id or a university_id, not both; got cadre_id '', university_id ''",
        "post_priorities row 3, column post_id: expected a post_id from the posts table; got 'P999999'",
        "post_priorities row 5, column post_id: expected each post to rank each cadre or university once; got again (first at row 2)",
    ]


def test_the_price_of_stability() -> None:
    # c1 and c2 both wish first for P370124, which ranks c2 first; pair scores favour c1 there
    scenario = make_scenario(
        cadres=({}, {}),
        wishes={"c1": ["P370124"], "c2": ["P370124", "P370303"]},
        pair_scores=[("c1", "P370124", 200)],
        policy={"rules": {"place_every_cadre": False}, "factors": {"preferences": {}, "pair_scores": {}}},
    )
    tables = {name: frame.copy() for name, frame in scenario.tables.items()}
    tables["post_priorities"] = pd.DataFrame({"post_id": ["P370124", "P370124"], "cadre_id": ["c1", "c2"], "priority": [1, 2]})
    scenario = pe.scenario_from_tables(tables, scenario.policy)
    assert placed(pe.solve(scenario)) == {"c1": "P370124", "c2": "P370303"}
    price = stability_price(scenario)
    assert placed(price.allocation)["c2"] == "P370124"
    assert (price.optimum, price.stable_optimum, price.price) == (380.0, 100.0, 280.0)
    assert price.proven


def test_when_no_stable_allocation_exists_the_diagnosis_names_the_stability_row() -> None:
    # c1 may only take P370124, and must be placed; P370124 ranks c2 higher, and c2 wishes for it first
    tables = make_tables(
        posts=({"post_id": "P370124"}, {"post_id": "P370303", "min_rank": "division"}),
        cadres=({"rank": "staff"}, {"rank": "division"}),
        wishes={"c2": ["P370124", "P370303"]},
    )
    tables["post_priorities"] = pd.DataFrame({"post_id": ["P370124", "P370124"], "cadre_id": ["c1", "c2"], "priority": [1, 2]})
    scenario = pe.scenario_from_tables(tables, {"rules": {"stable": True}, "factors": {"preferences": {}}})
    with pytest.raises(pe.InfeasibleError) as error:
        pe.solve(scenario)
    (conflict,) = error.value.diagnosis["conflicts"]
    assert (conflict["factor"], conflict["constraint"]) == ("stable", "stable c2@P370124")
    assert conflict["message"].startswith("The stability rule must give way for c2 and P370124: c2 would rather have P370124")
