"""Timings of ClientDesk's hot paths on the large data set, each beside its floor.

`python -m bench` (or `make bench`, which first loads the data with `manage.py seed_large --reuse` and
`manage.py seed_large_bookings --reuse`) runs every case in `bench.cases.CASE_BUILDERS`: the path through the
application (selectors, views, the API, as a user reaches them) and the same data fetched with plain SQL over a bare
psycopg connection. The ratio of their medians says how much the
application adds on top of what the database has to do; the floor's own time says whether the database part is
fast enough. A new case is one more `Case` in `bench/cases.py`.
"""
