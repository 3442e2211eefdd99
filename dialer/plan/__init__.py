"""Capacity planning: replications with confidence intervals, sweeps on Dask, staffing, plots, reports.

Owns: everything a planner runs many simulations for. `runs` (one run as a
task, its rows and cache key), `execute` (serial, local Dask cluster or a
remote scheduler; the run cache), `stats` (t-intervals), `study` (study files,
variations, sweeps), `staff` (the smallest floor that works the list in time
within the abandon limit), `plots`, `report` (one self-contained HTML file),
`fit` (a scenario from call records), `output` (results directories), `cli`.

Must not be imported by dialer.core or dialer.sim: arrows point here, never
out of here. It drives the simulator only through `dialer.sim.simulate` and
its observers.
"""
