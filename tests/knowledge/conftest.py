"""Fixtures shared by the semantic search tests (the model is loaded once per session)."""

import socket

import pytest

from knowledge.search import semantic


@pytest.fixture(scope="session")
def network_attempts():
    """Loads the model with every socket connection refused; returns what was attempted."""
    attempts = []

    def refuse(sock, address, *args):
        attempts.append(address)
        raise OSError("network blocked in tests")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        assert semantic.model() is not None, "the semantic extra is part of the dev install"
    return attempts


@pytest.fixture
def loaded(network_attempts):
    return semantic.model()
