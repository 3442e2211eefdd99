"""The largest sizes the project accepts: a run at all of them at once fits in this machine's memory.

Owns: the maxima of the sizes a user chooses — agents, leads, campaigns,
days, replications, the rows a study keeps, the servers of a calculator —
and the constraints (`dialer.checks`) that enforce them, so a scenario, a
study file and a flag refuse the same value with the same words.
Must not know about: anything of ours but `dialer.checks` (a base module:
every layer may import it). Sized for 2 cores and 24 GiB shared by several
users; the measurements behind each number: BENCHMARKS.md, "Sizes".

    check("agents[0].count", 6000, AGENTS)
    # ConfigError: agents[0].count must be a whole number from 1 to 5000, got 6000
"""

from __future__ import annotations

from dialer.checks import Whole

#: agents in one agent group (also the largest floor `dialer staff` tries and a study's `agents`)
MAX_AGENTS = 5_000
#: agents in a scenario, all groups together
MAX_SCENARIO_AGENTS = 20_000
#: numbers to call in a scenario, all campaigns together
MAX_LEADS = 10_000_000
#: campaigns in a scenario
MAX_CAMPAIGNS = 100
#: consecutive days a scenario simulates (and `dialer hours --days`, `dialer staff --within`)
MAX_DAYS = 366
#: seeds per variation of a study, or per floor size of a staffing search
MAX_REPLICATIONS = 10_000
#: runs of one study (variations x replications)
MAX_RUNS = 100_000
#: campaign-days of one study (runs x campaigns x days): the rows it keeps, about 2 KB each
MAX_CAMPAIGN_DAYS = 500_000
#: samples of a study's trace (each variation's first replication), about 2 KB each
MAX_TRACE_SAMPLES = 500_000
#: call records one run may keep (`dialer calls`; about 0.7 KB each): leads x max_attempts, the most dials
MAX_CALL_RECORDS = 2_000_000
#: servers (agents, lines) of the Erlang calculators, given or searched for
MAX_SERVERS = 100_000

AGENTS = Whole(1, MAX_AGENTS)
LEADS = Whole(1, MAX_LEADS)
DAYS = Whole(1, MAX_DAYS)
REPLICATIONS = Whole(1, MAX_REPLICATIONS)
