"""The notice handed to a cadre: the post, why it was chosen, and what each wish would have cost.

Written from an ``Explainer``'s explanation (``explain --cadre ID --notice``), in the
current language, as plain text or Markdown. It names places, not codes, and says
each price in points of the whole allocation, as the explanation proves it.
"""

from __future__ import annotations

import pandas as pd

from ..factors import FACTORS
from ..i18n import N_, _
from ..naming import plural, region_name, university_name, word

# the committee a county-level post belongs to, by the posts table's ``kind``
COMMITTEE = {
    "district": N_("deputy secretary of the district Youth League committee"),
    "city": N_("deputy secretary of the city Youth League committee"),
    "county": N_("deputy secretary of the county Youth League committee"),
    "autonomous_county": N_("deputy secretary of the county Youth League committee"),
}


def notice(explainer, cadre_id: str, *, markdown: bool = False) -> str:
    """The notice for one cadre of the explainer's allocation."""
    explanation = explainer.explain(cadre_id)
    inst = explainer.inst
    row = explainer.table.loc[cadre_id]
    university = university_name(inst, str(row["university_id"]))
    title = _("Notice of posting for {cadre}").format(cadre=cadre_id)
    lines = [f"# {title}" if markdown else title, ""]
    lines.append(_("Comrade {cadre} ({university}, {rank}):").format(cadre=cadre_id, university=university, rank=word(str(row["rank"]))))
    lines.append("")
    if row["post_id"] == "":
        lines.append(_("Under the rules of this batch, no post could be given to you in this allocation."))
    else:
        lines.append(_("Under the rules of this batch, you are posted as {post}.").format(post=_post_words(inst, row)))
    universities = inst.tables["universities"]
    home = universities.loc[universities["university_id"] == row["university_id"], "province"]
    lines += ["", "## " + _("Why this post") if markdown else _("1. Why this post"), ""]
    needs = _needs_words(inst, cadre_id, row)
    lines += [_item(reason, markdown) for reason in _reasons(row, str(home.iat[0]) if len(home) else "", needs)]
    lines += ["", "## " + _("Your wishes") if markdown else _("2. Your wishes"), ""]
    lines += [_item(_wish_words(inst, record), markdown) for record in explanation.table.to_dict("records")]
    lines += ["", _("Every cadre's wishes are weighed together: a post is given where the whole batch scores highest under the same rules.")]
    lines += ["", _("This notice is given for your information."), "", _("Scenario {scenario}.").format(scenario=explainer.allocation.scenario.name)]
    return "\n".join(lines)


def _post_words(inst, row) -> str:
    posts = inst.tables["posts"]
    post = int(inst.post_index([row["post_id"]])[0])
    kind = str(posts["kind"].iat[post]) if "kind" in posts else ""
    where = _("{county}, {prefecture}, {province}").format(
        county=row["post_name"], prefecture=region_name(inst, str(row["prefecture"])), province=region_name(inst, str(row["province"]))
    )
    role = _(COMMITTEE.get(kind, N_("deputy secretary of the county Youth League committee")))
    return _("{role} of {place}").format(role=role, place=where)


def _needs_words(inst, cadre_id: str, row) -> str | None:
    if row["post_id"] == "":
        return None
    cadre, post = int(inst.cadre_index([cadre_id])[0]), int(inst.post_index([row["post_id"]])[0])
    return FACTORS["local_needs"].describe_pair(inst, cadre, post)


def _reasons(row, home_province: str, needs: str | None) -> list[str]:
    """The facts of the post that decided it, in words, in the order of their weight."""
    found: list[tuple[float, str]] = []
    choice = row["choice"]
    wishes = row["score_preferences"]
    if pd.isna(choice):
        found.append((abs(wishes), _("It meets none of your wishes; what each would have cost is set out below.")))
    else:
        found.append((abs(wishes), _("It meets your wish {number}.").format(number=int(choice))))
    if not pd.isna(row.get("distance_km")):
        found.append((abs(row["score_proximity"]), _("It lies about {km:,.0f} km from your university.").format(km=row["distance_km"])))
    if row.get("partnership", 0):
        found.append((abs(row["score_partnership"]), _("Your university has a partnership agreement with this locality.")))
    if row.get("relay", 0):
        found.append((abs(row["score_relay"]), _("It continues your university's relay posting there.")))
    if needs is not None and row.get("needs_met", 0):
        found.append((abs(row.get("score_local_needs", 0.0)), needs))
    if row.get("cross_province_ok", False) and home_province and str(row["province"]) != home_province:
        found.append((0.0, _("You volunteered for a posting outside the province.")))
    if row.get("annual_cost_yuan", 0):
        found.append((abs(row["score_cost"]), _("Its allowances and travel cost about {yuan:,} yuan a year.").format(yuan=int(row["annual_cost_yuan"]))))
    # the wish first, as a notice states it; then the rest by their weight in the score
    first, rest = found[0], sorted(found[1:], key=lambda pair: -pair[0])
    return [text for _weight, text in (first, *rest)]


def _wish_words(inst, record: dict) -> str:
    status = record["status"]
    if status == "no wishes":
        return _("You stated no wishes.")
    target = str(record["target"])
    named = _post_name(inst, target) if record["target_kind"] == "post" else region_name(inst, target)
    lead = _("Wish {number} ({target})").format(number=int(record["wish"]), target=named)
    if status == "met":
        return _("{lead}: met.").format(lead=lead)
    if status == "better wish met":
        return _("{lead}: a wish ranked higher is met.").format(lead=lead)
    if status == "not allowed":
        return _("{lead}: the rules of the programme do not allow it ({rules}).").format(lead=lead, rules=_blocking_rules(record["blocked_by"]))
    if status == "impossible":
        return _("{lead}: granting it would break the rules for other cadres.").format(lead=lead)
    if status == "unpriced":
        return _("{lead}: its cost could not be computed within the time limit.").format(lead=lead)
    moved = plural(int(record["cadres_moved"]), "other cadre")
    if record["target_kind"] == "post":  # the wish names the post itself
        if record["price_proven"]:
            words = _("{lead}: granting it would lower the score of the whole allocation by {price:.2f} points and move {moved}.")
        else:
            words = _("{lead}: granting it would lower the score of the whole allocation by about {price:.2f} points and move {moved}.")
    elif record["price_proven"]:
        words = _("{lead}: granting it (at {post}) would lower the score of the whole allocation by {price:.2f} points and move {moved}.")
    else:
        words = _("{lead}: granting it (at {post}) would lower the score of the whole allocation by about {price:.2f} points and move {moved}.")
    return words.format(lead=lead, post=_post_name(inst, str(record["granted_post"])), price=record["price_points"], moved=moved)


def _post_name(inst, post_id: str) -> str:
    """'高密市 (潍坊市)': the county and its prefecture."""
    post = int(inst.post_index([post_id])[0])
    if post < 0:
        return post_id
    name = str(inst.tables["posts"]["name"].iat[post])
    prefecture = region_name(inst, str(inst.regions[inst.post_prefecture[post]]))
    return _("{county} ({prefecture})").format(county=name, prefecture=prefecture)


def _blocking_rules(blocked_by: str) -> str:
    rules = [part.partition(":")[0] for part in str(blocked_by).split(";") if part]
    return _("; ").join(word(rule) for rule in rules) or _("it names no post")


def _item(text: str, markdown: bool) -> str:
    return f"- {text}" if markdown else f"  - {text}"
