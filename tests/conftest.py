"""Settings every test shares.

Hypothesis checks properties, not speed: its per-example deadline and its
"data generation is too slow" health check measure wall time, which a busy
machine stretches, so neither applies here (speed is measured in benchmarks/).
"""

from hypothesis import HealthCheck, settings

settings.register_profile("tests", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tests")
