"""Timings of ClientDesk's hot paths on the large data set, each beside its floor.

`python -m bench` (or `make bench`, which first loads the data with the `seed_large*` commands the Makefile lists
in LARGE_SEEDS) runs every case in `bench.catalogue.CASE_BUILDERS`: the path through the application (selectors,
views, the API, the planners, as a user or beat reaches them) and the same work done with plain SQL over a bare
psycopg connection. The ratio of their medians says how much the application adds on top of what the database has to
do; the floor's own time says whether the database part is fast enough. A new case is one more `Case` in
`bench/cases.py`, or in the app's own `bench/<app>.py` listed in `bench/catalogue.py`.

Cases that write (the planners) run inside a transaction that is rolled back, each run undone by a savepoint, and
time fewer runs (`runs` in the table; `--case-iterations` changes them).
"""
