"""A structure run's state is built whole before the first event, and never replaced."""

import dataclasses

import pytest
import simpy

from sim.model.seeding import replication_streams
from sim.model.state import Run
from sim.model.structures import BUILDERS, build_run
from tests.builders import hand_leads, scenario, structure_headcounts


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_build_run_seats_everyone_and_routes_every_segment(name):
    sc = scenario("people.turnover.enabled=true", "fulfilment.enabled=true")
    leads = hand_leads([1.0, 2.0])
    run = build_run(name, simpy.Environment(), leads, sc, replication_streams(sc.seed, 0))
    reps = [rep for team in run.org.teams for rep in team.reps]
    assert len(reps) == structure_headcounts(sc)[name] == len(run.staffing.people)
    assert all(rep.record is not None for rep in reps)
    assert len(run.org.segment_routes) == len(leads.segment_names)
    assert run.accounts.ops is not None and run.staffing.turnover is not None
    assert run.leads.n_organic == run.log.n == len(leads)


def test_no_part_of_a_run_can_be_replaced_after_it_is_built():
    sc = scenario()
    run = build_run("pods", simpy.Environment(), hand_leads([1.0]), sc, replication_streams(7, 0))
    for part in dataclasses.fields(Run):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(run, part.name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.org.segment_routes = []
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.clock.horizon_days = 1.0
