import pytest


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """The test runs at 1 and at 2 of ember's threads; the count it found is restored after."""
    import ember
    saved = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(saved)
