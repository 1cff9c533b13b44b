"""Small scenario builders for unit tests, and a plain-Python reference scorer.

The reference (``Reference``) recomputes allowed pairs and factor points from the
tables and the factor docstrings with dicts and ``math``, sharing no scoring code with the
engine, so tests can compare the engine against it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

import placement_engine as pe
from placement_engine.evaluate import allocation_table

RANKS = ("staff", "deputy_section", "section", "deputy_division", "division")
LEVEL = {rank: level for level, rank in enumerate(RANKS)}
EARTH_RADIUS_KM = 6371.0088

# post_id -> (adcode, name, prefecture, lon, lat); nine Shandong counties and one in Qinghai
POSTS = {
    "P370102": ("370102", "历下区", "370100", 117.076441, 36.666465),
    "P370124": ("370124", "平阴县", "370100", 116.456006, 36.289251),
    "P370126": ("370126", "商河县", "370100", 117.157232, 37.309041),
    "P370202": ("370202", "市南区", "370200", 120.412392, 36.075651),
    "P370303": ("370303", "张店区", "370300", 118.017938, 36.806669),
    "P370481": ("370481", "滕州市", "370400", 117.165824, 35.114155),
    "P370602": ("370602", "芝罘区", "370600", 121.400445, 37.541475),
    "P371002": ("371002", "环翠区", "371000", 122.123443, 37.501990),
    "P371302": ("371302", "兰山区", "371300", 118.347842, 35.051804),
    "P632524": ("632524", "兴海县", "632500", 99.987965, 35.588612),
}
QINGHAI_POST = "P632524"

# university_id -> (name, adcode, lon, lat): campuses in Jinan, Zibo and Qingdao, and one in
# Xining, for whom every Shandong post is cross-province
UNIVERSITIES = {
    "sdu": ("山东大学", "370112", 117.065230, 36.680259),
    "sdut": ("山东理工大学", "370303", 118.017938, 36.806669),
    "ouc": ("中国海洋大学", "370212", 120.468956, 36.107538),
    "qhu": ("青海大学", "630105", 101.766228, 36.650038),
}


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlambda = math.radians(lon2 - lon1)
    h = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def distance_km(university_id: str, post_id: str) -> float:
    _, _, lon, lat = UNIVERSITIES[university_id]
    return haversine_km(lon, lat, POSTS[post_id][3], POSTS[post_id][4])


def post_row(post: str | dict) -> dict:
    """A posts-table row from a catalogue id, or a dict with ``post_id`` and overrides."""
    spec = {"post_id": post} if isinstance(post, str) else dict(post)
    adcode, name, prefecture, lon, lat = POSTS[spec["post_id"]]
    row = {
        "post_id": spec["post_id"],
        "adcode": adcode,
        "name": name,
        "prefecture": prefecture,
        "province": adcode[:2] + "0000",
        "lon": lon,
        "lat": lat,
        "capacity": 1,
        "min_rank": "staff",
    }
    row.update(spec)
    return row


def make_tables(
    posts=("P370124", "P370303"),
    cadres=({},),
    *,
    universities=None,
    budgets: dict[str, float] | None = None,
    wishes: dict[str, list[str]] | None = None,
    partnerships=(),
    history=(),
    pins=None,
    pair_scores=None,
) -> dict[str, pd.DataFrame]:
    """Input tables with sensible defaults.

    ``cadres`` are dicts overriding cadre_id (c1, c2, ...), university_id (sdu),
    rank (section) and cross_province_ok (False). ``wishes`` maps a cadre to its
    targets in choice order; ``partnerships`` holds (university, target),
    ``history`` (batch, university, post), ``pins`` (cadre, post, kind) and
    ``pair_scores`` (cadre, post, score).
    """
    cadre_rows = [
        {"cadre_id": f"c{i + 1}", "university_id": "sdu", "rank": "section", "cross_province_ok": False, **c}
        for i, c in enumerate(cadres)
    ]
    uni_ids = universities or list(UNIVERSITIES)
    uni_rows = [
        dict(zip(("university_id", "name", "adcode", "lon", "lat"), (u, *UNIVERSITIES[u]))) for u in uni_ids
    ]
    if budgets is not None:
        for row in uni_rows:
            row["budget_yuan"] = budgets.get(row["university_id"], np.nan)
    prefs = [(c, k + 1, t) for c, targets in (wishes or {}).items() for k, t in enumerate(targets)]
    tables = {
        "posts": pd.DataFrame([post_row(p) for p in posts]),
        "cadres": pd.DataFrame(cadre_rows),
        "universities": pd.DataFrame(uni_rows),
        "preferences": pd.DataFrame(prefs, columns=["cadre_id", "choice", "target"]),
        "partnerships": pd.DataFrame(list(partnerships), columns=["university_id", "target"]),
        "history": pd.DataFrame(list(history), columns=["batch", "university_id", "post_id"]),
    }
    if pins is not None:
        tables["pins"] = pd.DataFrame(list(pins), columns=["cadre_id", "post_id", "kind"])
    if pair_scores is not None:
        tables["pair_scores"] = pd.DataFrame(list(pair_scores), columns=["cadre_id", "post_id", "score"])
    return tables


def make_scenario(posts=("P370124", "P370303"), cadres=({},), *, policy: dict | None = None, **tables) -> pe.Scenario:
    """A validated scenario; ``policy`` defaults to the default rules with no factor on."""
    return pe.scenario_from_tables(make_tables(posts, cadres, **tables), policy or {}, name="unit")


def placed(allocation: pe.Allocation) -> dict[str, str]:
    """cadre_id -> post_id ('' when unplaced)."""
    return dict(zip(allocation.table["cadre_id"], allocation.table["post_id"]))


def row(allocation_or_table, cadre_id: str = "c1") -> pd.Series:
    table = getattr(allocation_or_table, "table", allocation_or_table)
    return table.set_index("cadre_id").loc[cadre_id]


def scored(scenario: pe.Scenario, assignment: dict[str, str]) -> pd.DataFrame:
    """The allocation table of a given assignment (cadre -> post), solver-free."""
    inst = scenario.instance
    post_of_cadre = np.full(inst.n_cadres, -1, np.int64)
    for cadre, post in assignment.items():
        post_of_cadre[inst.cadre_index([cadre])[0]] = inst.post_index([post])[0]
    return allocation_table(inst, scenario.policy, post_of_cadre)


def solved(scenario: pe.Scenario) -> pe.Allocation:
    """Solve, and insist on a proven optimum that passes the solver-free check."""
    allocation = pe.solve(scenario)
    report = allocation.check()
    assert report.ok, report.violations
    assert allocation.status == "OPTIMAL"
    return allocation


def with_budgets(scenario: pe.Scenario, budgets: dict[str, float]) -> pe.Scenario:
    """The same scenario with these university budgets (others unlimited) and cost.budget on."""
    tables = {name: frame.copy() for name, frame in scenario.tables.items()}
    unis = tables["universities"]
    unis["budget_yuan"] = [budgets.get(u, np.nan) for u in unis["university_id"]]
    policy = scenario.policy.override({"factors": {"cost": {"budget": True}}})
    return pe.scenario_from_tables(tables, policy, name=scenario.name)


# ---- independent reference ------------------------------------------------------------------


class Reference:
    """Allowed pairs and weighted factor points recomputed with plain Python."""

    def __init__(self, scenario: pe.Scenario):
        t = scenario.tables
        self.policy = scenario.policy
        self.posts = {r.post_id: r for r in t["posts"].itertuples()}
        self.cadres = {r.cadre_id: r for r in t["cadres"].itertuples()}
        self.unis = {r.university_id: r for r in t["universities"].itertuples()}
        self.post_ids = list(self.posts)
        self.cadre_ids = list(self.cadres)
        self.wishes: dict[str, dict[str, int]] = {}
        for r in t["preferences"].itertuples():
            self.wishes.setdefault(r.cadre_id, {})[r.target] = int(r.choice)
        self.partners = {(r.university_id, r.target) for r in t["partnerships"].itertuples()}
        pins = t.get("pins", pd.DataFrame(columns=["cadre_id", "post_id", "kind"]))
        self.pins = {(r.cadre_id, r.post_id): r.kind for r in pins.itertuples()}
        extra = t.get("pair_scores", pd.DataFrame(columns=["cadre_id", "post_id", "score"]))
        self.extra = {(r.cadre_id, r.post_id): float(r.score) for r in extra.itertuples()}
        self.history = [(int(r.batch), r.university_id, r.post_id) for r in t["history"].itertuples()]
        self.factors = {
            name: params for name in pe.FACTORS if (params := getattr(self.policy.factors, name)) is not None
        }

    def uni_of(self, cadre: str):
        return self.unis[self.cadres[cadre].university_id]

    def cross(self, cadre: str, post: str) -> bool:
        return self.uni_of(cadre).adcode[:2] != self.posts[post].province[:2]

    def distance(self, cadre: str, post: str) -> float:
        u, p = self.uni_of(cadre), self.posts[post]
        return haversine_km(u.lon, u.lat, p.lon, p.lat)

    def allowed(self, cadre: str, post: str) -> bool:
        rules, c, p = self.policy.rules, self.cadres[cadre], self.posts[post]
        if rules.rank and LEVEL[c.rank] < LEVEL[p.min_rank]:
            return False
        if rules.cross_province_volunteers_only and self.cross(cadre, post) and not c.cross_province_ok:
            return False
        if rules.pins:
            if self.pins.get((cadre, post)) == "forbid":
                return False
            pinned = [q for (k, q), kind in self.pins.items() if k == cadre and kind == "pin"]
            if pinned and post not in pinned:
                return False
        proximity = self.factors.get("proximity")
        if proximity is not None and proximity.max_km is not None:
            if not self.cross(cadre, post) and self.distance(cadre, post) > proximity.max_km:
                return False
        return True

    def must_place(self, cadre: str) -> bool:
        """place_every_cadre, or a pin (which sends the cadre to its post)."""
        rules = self.policy.rules
        pinned = rules.pins and any(k == cadre and kind == "pin" for (k, _), kind in self.pins.items())
        return rules.place_every_cadre or pinned

    def wish_number(self, cadre: str, post: str) -> int:
        wishes, p = self.wishes.get(cadre, {}), self.posts[post]
        met = [wishes[target] for target in (post, p.prefecture, p.province) if target in wishes]
        return min(met, default=0)

    def relay_targets(self) -> set[tuple[str, str]]:
        params = self.factors.get("relay")
        if params is not None and params.batches == "all":
            return {(u, p) for _, u, p in self.history}
        latest = {}
        for batch, _, p in self.history:
            latest[p] = max(latest.get(p, batch), batch)
        return {(u, p) for batch, u, p in self.history if batch == latest[p]}

    def annual_cost(self, cadre: str, post: str, params) -> int:
        u, p = self.uni_of(cadre), self.posts[post]
        if self.cross(cadre, post):
            raw = 12 * params.cross_province_monthly_yuan + params.cross_province_one_off_yuan
            raw += params.cross_province_insurance_yuan
        elif u.adcode[:4] == p.prefecture[:4]:
            raw = 12 * params.same_city_monthly_yuan
        else:
            trips = params.round_trips_per_year * 2 * params.rail_detour * self.distance(cadre, post)
            raw = 12 * params.other_city_monthly_yuan + trips * params.fare_yuan_per_km
        return round(raw)

    def raw_scores(self, cadre: str, post: str) -> dict[str, float]:
        """Unweighted score of every active factor for one pair."""
        out = {}
        uni = self.cadres[cadre].university_id
        for name, params in self.factors.items():
            if name == "preferences":
                k = self.wish_number(cadre, post)
                out[name] = params.points[min(k, len(params.points)) - 1] if k else 0.0
            elif name == "proximity":
                out[name] = -self.distance(cadre, post)
            elif name == "partnership":
                if (uni, post) in self.partners:
                    out[name] = 1.0
                else:
                    out[name] = params.prefecture_share if (uni, self.posts[post].prefecture) in self.partners else 0.0
            elif name == "relay":
                out[name] = 1.0 if (uni, post) in self.relay_targets() else 0.0
            elif name == "rank_fit":
                out[name] = -max(0, LEVEL[self.cadres[cadre].rank] - LEVEL[self.posts[post].min_rank])
            elif name == "cost":
                out[name] = -self.annual_cost(cadre, post, params)
            elif name == "pair_scores":
                out[name] = self.extra.get((cadre, post), 0.0)
        return out

    def points(self, cadre: str, post: str) -> float:
        """Weighted total of one pair, in registry order."""
        raw = self.raw_scores(cadre, post)
        return sum(self.factors[name].weight * raw[name] for name in raw)

    def coef(self, cadre: str, post: str) -> int:
        """The pair's integer objective coefficient, as docs/objective.md defines it."""
        return int(np.rint(self.points(cadre, post) * self.policy.solver.objective_scale))

    def is_relay(self, cadre: str, post: str) -> bool:
        return (self.cadres[cadre].university_id, post) in self.relay_targets()

    def budget_rows(self) -> dict[str, float]:
        """university -> spending limit, when cost.budget is on."""
        params = self.factors.get("cost")
        if params is None or not params.budget:
            return {}
        return {
            u: math.floor(params.budget_scale * r.budget_yuan)
            for u, r in self.unis.items()
            if not pd.isna(getattr(r, "budget_yuan", np.nan))
        }


def slots(ref: Reference) -> list[str]:
    """Each post repeated ``capacity`` times."""
    return [p for p, r in ref.posts.items() for _ in range(int(r.capacity))]


def best_assignment(ref: Reference, value) -> tuple[float, dict[str, str]] | None:
    """The most valuable allocation under the hard rules (budgets aside), or None if there is none.

    scipy's linear_sum_assignment on a square matrix: cadres plus one dummy row per
    seat, against seats (posts repeated ``capacity`` times) plus one dummy column per
    cadre. A dummy column leaves a cadre out, a dummy row leaves a seat empty; both
    cost -BIG where a rule forbids it, as do forbidden pairs.
    """
    seats = slots(ref)
    n_c, n_s = len(ref.cadre_ids), len(seats)
    real = np.array([[value(c, p) if ref.allowed(c, p) else np.nan for p in seats] for c in ref.cadre_ids], float)
    big = 2 * np.nansum(np.abs(real)) + 1
    matrix = np.zeros((n_c + n_s, n_s + n_c))
    matrix[:n_c, :n_s] = np.where(np.isnan(real), -big, real)
    matrix[:n_c, n_s:] = np.array([[-big if ref.must_place(c) else 0.0] for c in ref.cadre_ids])
    matrix[n_c:, :n_s] = -big if ref.policy.rules.fill_every_post else 0.0
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    if (matrix[rows, cols] <= -big).any():
        return None
    where = {ref.cadre_ids[r]: seats[k] for r, k in zip(rows, cols) if r < n_c and k < n_s}
    return float(matrix[rows, cols].sum()), where


def meets_hard_rules(ref: Reference) -> bool:
    """Whether some allocation meets the pair rules, pins, place_every_cadre and fill_every_post."""
    return best_assignment(ref, lambda cadre, post: 0.0) is not None
