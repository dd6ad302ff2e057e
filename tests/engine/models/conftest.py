"""Fixtures of the model tests."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Run toy trainings on one thread: tiny ops gain nothing from more, and on a loaded
    machine thread synchronisation made them ~15x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
