"""Seeded generator of realistic cadre pools: cadres, wishes, partnerships and history.

``generate(posts, universities, config, seed)`` returns four tables in the formats of the
scenario files (``cadres``, ``preferences``, ``partnerships``, ``history``). The only source
of randomness is ``numpy.random.default_rng(seed)``, so equal inputs, config and seed give
equal tables.

``post_needs(posts, seed)`` draws a synthetic ``needs`` cell for each post (module ``needs``).

Modules: ``config`` (``SynthConfig``), ``inputs`` (the posts and universities tables),
``pool`` (``generate`` and its seeded draws) and ``needs`` (``post_needs``).

A single weighted draw inverts the cumulative weights at a uniform point. Draws without
replacement use an exponential race: item ``i`` gets the key ``w_i / E_i`` with
``E_i ~ Exp(1)``, and the keys in decreasing order are draws one after another, each with
probability proportional to the weights of the items left.

Notation: ``d(u, x)`` is the great-circle distance in km from university ``u`` to post or
place ``x``; ``[condition]`` is 1 when the condition holds and 0 otherwise; ``a ** b`` is a
power. The names in ``code`` are ``SynthConfig`` fields.

University quotas
    The exact share is ``e_u = n_cadres * size_u / sum(size)``; quotas are the
    largest-remainder rounding of ``e_u``. When ``n_cadres`` is at least the number of
    universities, a university rounded to 0 gets 1, and each extra cadre is taken back from
    the university most over its exact share (the largest ``quota - e_u``) among those with
    two or more, one from each before a second from any. So quotas stay within 1 of the
    largest-remainder values whenever the universities with two or more are enough.

Ranks
    Counts per rank are ``rank_counts``, or the largest-remainder rounding of
    ``rank_shares * n_cadres``. Each cadre draws a priority
    ``rank_size_bias * ln(size_u) + G`` with ``G ~ Gumbel(0, 1)``; the highest priorities get
    the highest ranks. So big universities send more senior cadres, but not only them.

Volunteers (``cross_province_ok``)
    Their number is the largest of ``volunteer_share * n_cadres`` rounded half up,
    ``min_volunteers`` (default: the capacity of the posts outside every university's
    province) and, with ``staff_only_volunteers``, the number of staff-rank cadres, who all
    volunteer. The others are drawn uniformly from the remaining cadres.

Feasibility
    The pool must be able to fill ``min(n_cadres, total capacity)`` places under the rank
    rule (a cadre's rank reaches the post's ``min_rank``) and the cross-province rule (only
    volunteers leave their university's province): every post when cadres are at least as
    many as the places, a place for every cadre otherwise. This is checked exactly, with a
    maximum flow over cadre and post types. When it fails, ``generate`` raises
    ``ValueError`` naming the rule that falls short (fewer cadres of rank >= r than places
    needing rank >= r; fewer volunteers than places outside the universities' provinces).

Home prefecture
    Drawn over the prefectures of the posts and of the universities with weight
    ``exp(-d(u, h) / home_scale_km) * home_own_prefecture_weight ** [h is u's prefecture]
    * home_other_province_weight ** [h is outside u's province]``, where a prefecture's
    point is the mean of its posts (or of its universities when it has no post).

Skills
    One skill, or two with probability ``two_skills_share``, drawn uniformly without
    replacement from ``SKILLS`` (the vocabulary of the ``local_needs`` factor) and listed
    in that order, joined by ";".

Partnerships
    Each university draws ``Poisson(partnerships_per_university)`` targets (at most the
    number of targets) without replacement, with weights
    ``(1 - partnership_prefecture_share) * a(u, p)`` for a post ``p`` and
    ``partnership_prefecture_share * sum(a(u, p) for p in f)`` for a prefecture ``f``, where
    ``a(u, p) = exp(-d(u, p) / distance_scale_km)
    * partnership_own_prefecture_weight ** [p is in u's prefecture]``.

Wishes (``preferences``)
    A cadre ``c`` of university ``u`` may wish for a post it can hold (rank at least the
    post's ``min_rank``; in ``u``'s province unless ``c`` volunteers), and for a prefecture
    or province that has such a post. A post's weight is
    ``w(c, p) = exp(-d(u, p) / distance_scale_km) * kind_weights[kind(p)]``
    ``* home_wish_weight ** [p is in c's home prefecture]``
    ``* partnership_wish_weight ** [p or its prefecture is a partner of u]``
    ``* rank_match_wish_weight ** [min_rank(p) == rank(c)]``
    (``kind_weights`` is 1 for kinds it does not list; without a ``kind`` column the kind
    comes from the name: 区 district, 市 city, otherwise county). A prefecture or province
    weighs ``W(c, t)``, the sum of ``w(c, p)`` over its posts that ``c`` may hold, so places
    with more units and bigger cities weigh more. Every target ``t`` is drawn with weight
    ``target_level_shares[level(t)] * W(c, t)``. The posts, the prefectures and the provinces
    each add up to the same total, so the first wish is a post, a prefecture or a province
    with exactly these shares; the next wishes are drawn from the targets left with the same
    weights. The number of wishes is uniform in ``[wishes_min, wishes_max]``, capped by the
    number of targets the cadre may wish for. With probability ``volunteer_cross_wish_prob``
    a volunteer's wishes include one target drawn from the cross-province targets alone
    (same weights), at a uniformly random position. With ``specific_wishes_first`` each
    cadre's wishes are then reordered so that every one can count: a wish moves up to
    the place of the earliest wish whose area holds it, the more specific first (a
    post, then its prefecture, then its province), and the wishes are renumbered.

Needs (``post_needs``, not part of ``generate``)
    A post lists ``k`` needs, ``k`` uniform in ``[needs_min, needs_max]``, drawn without
    replacement with weight ``BASE_WEIGHT[n] * KIND_FACTOR[kind(p)][n]`` (``needs``
    module: farming counts more in counties, jobs, e-commerce and technology in
    districts), and ``ETHNIC_WEIGHT`` for 民族团结 in autonomous units and in the western
    autonomous regions and multi-ethnic provinces (0 elsewhere). With probability
    ``high_priority_share`` the first need drawn has priority 2 (``法律:2;农业``).

History (earlier batches, for the relay rule)
    In batch 1 every post is held by one university, drawn with weight
    ``quota_u * exp(-d(u, p) / distance_scale_km)``. In each later batch the holder stays
    with probability ``history_relay_share`` and is drawn afresh otherwise.
"""

from .config import LEVELS, SynthConfig
from .inputs import POST_COLUMNS, UNIVERSITY_COLUMNS
from .needs import post_needs
from .pool import CADRE_COLUMNS, HISTORY_COLUMNS, PARTNERSHIP_COLUMNS, PREFERENCE_COLUMNS, SKILLS, generate

__all__ = [
    "CADRE_COLUMNS",
    "HISTORY_COLUMNS",
    "LEVELS",
    "PARTNERSHIP_COLUMNS",
    "POST_COLUMNS",
    "PREFERENCE_COLUMNS",
    "SKILLS",
    "UNIVERSITY_COLUMNS",
    "SynthConfig",
    "generate",
    "post_needs",
]
