"""Facts of persons and households that several programs compute alike from the population alone:
made once per population and parameter view for the programs that read them (``Params.shared``,
ADR 0029), read-only from then on; each explanation (a traced evaluation) makes its own.

This module registers no program.
"""

from __future__ import annotations

from safetynet.policy.common import is_family_member
from safetynet.policy.engine import Params, Trace
from safetynet.policy.population import IntArray, Population


def age(pop: Population, p: Params, t: Trace) -> IntArray:
    """``Population.age`` on the view's date (read by dibao, tekun, the advanced-age allowance
    and employment assistance)."""
    if t.enabled:
        return pop.age(p.on)
    return p.shared("shared_facts.age", pop, lambda: pop.age(p.on))


def family_members(pop: Population, p: Params, t: Trace) -> IntArray:
    """Co-residing family members per household (``is_family_member`` counted; read by dibao,
    tekun, rigid expenditure, temporary and housing assistance)."""
    if t.enabled:
        return _family_members(pop)
    return p.shared("shared_facts.family_members", pop, lambda: _family_members(pop))


def _family_members(pop: Population) -> IntArray:
    member = is_family_member(pop)
    if pop.n_persons and member.all():  # nobody excluded: each household's size
        sizes: IntArray = pop.ends - pop.starts
        return sizes
    return pop.count_h(member)
