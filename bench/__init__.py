"""Timings of ClientDesk's hot paths on the large data set, each beside its floor.

`python -m bench` (or `make bench`, which first loads the data with `manage.py seed_large --reuse`,
`manage.py seed_large_bookings --reuse` and `manage.py seed_large_tasks --reuse`) runs every case in
`bench.cases.CASE_BUILDERS`: the path through the application (selectors, views, the API, the planners, as a user or
beat reaches them) and the same work done with plain SQL over a bare psycopg connection. The ratio of their medians
says how much the application adds on top of what the database has to do; the floor's own time says whether the
database part is fast enough. A new case is one more `Case` in `bench/cases.py`.

Cases that write (the planners) run inside a transaction that is rolled back, each run undone by a savepoint, and
time fewer runs (`runs` in the table; `--case-iterations` changes them).
"""
