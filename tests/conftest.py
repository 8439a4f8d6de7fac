"""Test settings: the hypothesis profile, and the ``slow`` marker's meaning.

CI selects the testing kit's own profile, ``--hypothesis-profile=samplekit-ci`` (derandomized:
the same examples every run), the one plugin authors use too. Locally examples vary, with a
smaller budget.

Tests that start processes (torchrun, gloo groups, the CLI in a subprocess, killed runs) or run
whole recipes carry ``@pytest.mark.slow``: ``pytest -m "not slow"`` is the fast group.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("dev")  # --hypothesis-profile, when given, is loaded after this
