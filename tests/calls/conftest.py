# The workshop fixtures (an area, services, advisors, a client with a car) serve the outbound-call tests too.
from tests.bookings.conftest import area, car_owner, day, diag, petrov, sidorov, to2  # noqa: F401
