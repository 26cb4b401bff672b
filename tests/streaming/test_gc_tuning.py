"""The collector tuning of the worker and its parser processes."""

import gc

import pytest

from streaming.gc_tuning import tune_garbage_collector


@pytest.fixture
def gc_settings():
    """Python's collector as it was before the test, restored after it."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)
    gc.unfreeze()


def test_the_worker_collects_young_objects_less_often(gc_settings):
    tune_garbage_collector(50_000)
    assert gc.get_threshold() == (50_000, *gc_settings[1:])
    assert gc.get_freeze_count() > 0  # start-up objects are out of later collections


def test_a_zero_threshold_keeps_pythons_collector(gc_settings):
    tune_garbage_collector(0)
    assert gc.get_threshold() == gc_settings
