"""Toy-size models run fastest on one thread, and far faster when other jobs share the cores."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Run model tests on one thread: tiny ops gain nothing from more, and on a loaded machine
    thread synchronisation made toy trainings ~15x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def one_thread_module():
    """The same for module-scoped fixtures (toy trainings shared by several tests)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
