"""Counting feasibility: can the pair rules, capacities and place/fill rules admit any allocation?

Cadres who must be placed need a seat each, and posts that must be filled need a
cadre per seat. Some allocation serves both exactly when (1) every set S of
must-place cadres has at least |S| seats open to it and (2) every set T of
must-fill seats has at least |T| cadres who may take it (Mendelsohn-Dulmage).
Each side is a bipartite matching (posts expanded into one node per seat); when
it leaves some node unmatched, the nodes reachable from the unmatched ones by
alternating paths (König) form the smallest set of largest shortfall. Each
connected piece of it is one conflict, reported with its members, its
neighbours and the rules that shut everyone else out. A piece is a certificate:
|N(S)| < |S|.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..i18n import _
from ..instance import Instance, PairTable
from ..naming import and_list, listing, plural, post_label, post_listing, where, word
from ..rules import allowed_pairs, mask_rules, must_place
from ..schema import Policy
from .flow import solve_transportation


def assignment_feasible(pairs: PairTable, policy: Policy) -> bool:
    """Whether the pair rules, pins, capacities and place/fill rules admit any allocation (one flow)."""
    inst = pairs.instance
    flow = solve_transportation(
        pairs.cadre,
        pairs.post,
        np.zeros(len(pairs), np.int64),
        inst.n_cadres,
        inst.post_capacity,
        must_place(inst, policy.rules),
        policy.rules.fill_every_post,
    )
    return flow.feasible


# ---- counting conflicts ----------------------------------------------------------------------


def precheck(instance: Instance, policy: Policy, pairs: PairTable | None = None) -> list[dict[str, Any]]:
    """The counting conflicts of a scenario under its hard rules, before any solve: one matching per side.

    Budgets and the improving-swap rule are side constraints, beyond counting: only a solve finds those.
    """
    return counting_conflicts(pairs if pairs is not None else allowed_pairs(instance, policy), policy)


def counting_conflicts(pairs: PairTable, policy: Policy) -> list[dict[str, Any]]:
    """Hall violators, smallest first, enough to account for the whole shortfall; empty when the counting is fine.

    When cadres and seats must all be matched, a violator on one side has a mirror
    image on the other (its complement); the smaller of the two is the one that
    explains, so pieces from both sides are taken smallest first until their
    shortfalls add up to the larger side's total.
    """
    inst = pairs.instance
    seat_post = np.repeat(np.arange(inst.n_posts), inst.post_capacity)
    first_seat = np.cumsum(inst.post_capacity) - inst.post_capacity
    must = must_place(inst, policy.rules)
    pieces = []  # (side, members, neighbours): cadres and their posts, or posts and their cadres

    # (1) must-place cadres against all seats
    members = np.flatnonzero(must)
    local = np.full(inst.n_cadres, -1)
    local[members] = np.arange(len(members))
    cadre, seat = _seat_edges(pairs, must[pairs.cadre], first_seat)
    found = hall_violators(len(members), len(seat_post), local[cadre], seat)
    pieces += [("cadres", members[top], np.unique(seat_post[bottom])) for top, bottom in found]
    # (2) must-fill seats against all cadres
    if policy.rules.fill_every_post:
        cadre, seat = _seat_edges(pairs, np.ones(len(pairs), bool), first_seat)
        found = hall_violators(len(seat_post), inst.n_cadres, seat, cadre)
        pieces += [("posts", np.unique(seat_post[top]), bottom) for top, bottom in found]

    pieces = _merge_isolated(pieces)
    capacity = inst.post_capacity
    shortfall = [len(m) - capacity[n].sum() if side == "cadres" else capacity[m].sum() - len(n) for side, m, n in pieces]
    total = max(sum(short for (side, _, _), short in zip(pieces, shortfall) if side == which) for which in ("cadres", "posts"))
    chosen, covered = [], 0
    # smallest first; on a tie the posts' side, whose rules (rank, volunteers) name the cause
    for k in sorted(range(len(pieces)), key=lambda k: (len(pieces[k][1]) + len(pieces[k][2]), pieces[k][0] == "cadres")):
        if covered >= total:
            break
        side, members, neighbours = pieces[k]
        chosen.append((_cadres_short if side == "cadres" else _posts_short)(pairs, policy, members, neighbours))
        covered += shortfall[k]
    return sorted(chosen, key=lambda c: -c["shortfall"])


def _merge_isolated(pieces: list) -> list:
    """One piece per side for all the members with no neighbour at all (else one conflict each)."""
    merged = [piece for piece in pieces if len(piece[2])]
    for side in ("cadres", "posts"):
        alone = [piece[1] for piece in pieces if piece[0] == side and not len(piece[2])]
        if alone:
            merged.append((side, np.concatenate(alone), np.zeros(0, np.int64)))
    return merged


def _seat_edges(pairs: PairTable, mask: np.ndarray, first_seat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cadre, seat) edges: each selected pair joined to every seat of its post."""
    selected = np.flatnonzero(mask)
    counts = pairs.instance.post_capacity[pairs.post[selected]]
    which = np.repeat(selected, counts)
    within = np.arange(len(which)) - np.repeat(np.cumsum(counts) - counts, counts)
    return pairs.cadre[which].astype(np.int64), first_seat[pairs.post[which]] + within


def hall_violators(n_top: int, n_bottom: int, top: np.ndarray, bottom: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sets S of top nodes with |N(S)| < |S|, as (S, N(S)) index arrays; none when a matching covers the top.

    Nodes reachable by alternating paths from the top nodes a maximum matching
    leaves unmatched form the smallest top set of largest deficiency, and N of it;
    each connected piece holds at least one unmatched node, so each is deficient.
    Pieces come in the order of their smallest top node.
    """
    if n_top == 0:
        return []
    # scipy loads only when a diagnosis needs it: a solve that finds an allocation never does
    from scipy import sparse
    from scipy.sparse import csgraph

    top, bottom = np.asarray(top, np.int64), np.asarray(bottom, np.int64)
    edges = np.ones(len(top), bool)
    biadjacency = sparse.csr_matrix((edges, (top, bottom)), shape=(n_top, n_bottom))
    mate_of_top = csgraph.maximum_bipartite_matching(biadjacency, perm_type="column")
    unmatched = np.flatnonzero(mate_of_top < 0)
    if not len(unmatched):
        return []
    # Alternating paths from a virtual root: root -> unmatched tops, top -> bottom on any
    # edge, bottom -> top on its matching edge. Bottoms are numbered after the tops.
    root = n_top + n_bottom
    matched = np.flatnonzero(mate_of_top >= 0)
    tails = np.concatenate([np.full(len(unmatched), root), top, mate_of_top[matched] + n_top])
    heads = np.concatenate([unmatched, bottom + n_top, matched])
    directed = sparse.csr_matrix((np.ones(len(tails), bool), (tails, heads)), shape=(root + 1, root + 1))
    reached = np.zeros(root + 1, bool)
    reached[csgraph.breadth_first_order(directed, root, directed=True, return_predecessors=False)] = True
    reached = reached[:root]
    # Every neighbour of a reached top is reached, so the reached subgraph has exactly the reached tops' edges.
    inside = reached[top]
    subgraph = sparse.csr_matrix((edges[inside], (top[inside], bottom[inside] + n_top)), shape=(root, root))
    _, label = csgraph.connected_components(subgraph, directed=False)
    nodes = np.flatnonzero(reached)  # ascending, so each piece's nodes stay sorted and tops come first
    nodes = nodes[np.argsort(label[nodes], kind="stable")]
    pieces = np.split(nodes, np.flatnonzero(np.diff(label[nodes])) + 1)
    return [(piece[piece < n_top], piece[piece >= n_top] - n_top) for piece in pieces]


def _shut_out(inst: Instance, policy: Policy, cadres: np.ndarray, posts: np.ndarray, outsiders: str) -> dict[str, int]:
    """Per rule, how many outsiders it blocks at least once: the posts outside ``posts`` from the
    ``cadres`` (``outsiders="posts"``), or the cadres outside ``cadres`` from the ``posts``."""
    if outsiders == "posts":
        outside = np.setdiff1d(np.arange(inst.n_posts), posts)
        cross = inst.pairs(np.repeat(cadres, len(outside)), np.tile(outside, len(cadres)))
        counted = cross.post
    else:
        outside = np.setdiff1d(np.arange(inst.n_cadres), cadres)
        cross = inst.pairs(np.repeat(outside, len(posts)), np.tile(posts, len(outside)))
        counted = cross.cadre
    result = {name: len(np.unique(counted[rule.blocked(cross, policy)])) for name, rule in mask_rules(policy).items()}
    return {name: count for name, count in sorted(result.items(), key=lambda item: -item[1]) if count}


def _conflict(kind: str, shortfall: int, inst: Instance, cadres, posts, blocked: dict, message: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "shortfall": int(shortfall),
        "cadres": inst.cadre_id[cadres].tolist(),
        "posts": inst.post_id[posts].tolist(),
        "seats": int(inst.post_capacity[posts].sum()),
        "blocked_by": blocked,
        "message": message,
    }


def _rule_phrase(policy: Policy, blocked: dict[str, int], noun: str) -> str:
    meaning = {name: rule.blocks for name, rule in mask_rules(policy).items()}
    phrase = _("{rule} ({count}: {reason})")
    return _("; ").join(phrase.format(rule=word(name), count=plural(count, noun), reason=_(meaning[name])) for name, count in blocked.items())


def _cadres_short(pairs: PairTable, policy: Policy, cadres: np.ndarray, posts: np.ndarray) -> dict[str, Any]:
    inst = pairs.instance
    seats = int(inst.post_capacity[posts].sum())
    blocked = _shut_out(inst, policy, cadres, posts, "posts")
    pinned = _pin_targets(inst, policy, cadres)
    why = _("pinned") if len(pinned) == len(cadres) else _("every cadre must be placed")
    ids = listing(inst.cadre_id[cadres])
    head = ""
    if len(pinned) == len(cadres) and set(pinned.values()) == set(posts.tolist()):
        if len(posts) == 1:
            head = _("{posts} is pinned to {count} cadres ({cadres}) but has {seats}. ")
        else:
            head = _("{posts} are pinned to {count} cadres ({cadres}) but have {seats}. ")
        head = head.format(posts=and_list([post_label(inst, p) for p in posts]), count=len(cadres), cadres=ids, seats=plural(seats, "seat"))
    open_to = _("no post is open to them at all")
    if len(posts):
        open_to = _("only {seats} is open to them ({posts})") if seats == 1 else _("only {seats} are open to them ({posts})")
        open_to = open_to.format(seats=plural(seats, "seat"), posts=post_listing(inst, posts))
    words = _("{head}{cadres} must be placed ({why}), but {open_to}: {ids}.")
    message = words.format(head=head, cadres=plural(len(cadres), "cadre"), why=why, open_to=open_to, ids=ids)
    if blocked:
        message += _(" Every other post is closed to them by: {rules}.").format(rules=_rule_phrase(policy, blocked, "post"))
    return _conflict("cadres_short_of_seats", len(cadres) - seats, inst, cadres, posts, blocked, message)


def _posts_short(pairs: PairTable, policy: Policy, posts: np.ndarray, cadres: np.ndarray) -> dict[str, Any]:
    inst = pairs.instance
    seats = int(inst.post_capacity[posts].sum())
    blocked = _shut_out(inst, policy, cadres, posts, "cadres")
    ranks = np.unique(inst.tables["posts"]["min_rank"].to_numpy(str)[posts])
    need = _(" require {rank} and").format(rank=word(ranks[0])) if len(ranks) == 1 and inst.post_min_rank[posts[0]] > 0 else ""
    words = _("{posts} in {where}{need} must be filled ({seats}), but only {cadres} may take any of them")
    message = words.format(posts=plural(len(posts), "post"), where=where(inst, posts), need=need, seats=plural(seats, "seat"), cadres=plural(len(cadres), "cadre"))
    message += _(": {ids}.").format(ids=listing(inst.cadre_id[cadres])) if len(cadres) else "."
    if blocked:
        message += _(" Every other cadre is kept out by: {rules}.").format(rules=_rule_phrase(policy, blocked, "cadre"))
    return _conflict("posts_short_of_cadres", seats - len(cadres), inst, cadres, posts, blocked, message)


def _pin_targets(inst: Instance, policy: Policy, cadres: np.ndarray) -> dict[int, int]:
    """cadre -> the post a pin sends it to, for the given cadres that have one."""
    pins = inst.tables.get("pins")
    if not policy.rules.pins or pins is None or not len(pins):
        return {}
    kind = pins["kind"].to_numpy(str) == "pin"
    cadre = inst.cadre_index(pins["cadre_id"].to_numpy(str)[kind])
    post = inst.post_index(pins["post_id"].to_numpy(str)[kind])
    chosen = np.isin(cadre, cadres)
    return dict(zip(cadre[chosen].tolist(), post[chosen].tolist()))


# ---- side rows: the elastic model -----------------------------------------------------------
