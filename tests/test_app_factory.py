"""The app factory's wiring that no single area owns."""

from __future__ import annotations

import gc
from inspect import iscoroutinefunction

from quart import Quart


def test_every_template_context_processor_is_async(offline_app: Quart) -> None:
    # Quart runs a sync processor in a worker thread: a thread hop on every render.
    processors = [p for ps in offline_app.template_context_processors.values() for p in ps]
    assert processors
    assert all(iscoroutinefunction(p) for p in processors)


def test_every_request_hook_is_async(offline_app: Quart) -> None:
    hooks = [
        hook
        for registry in (
            offline_app.before_request_funcs,
            offline_app.after_request_funcs,
            offline_app.teardown_request_funcs,
        )
        for funcs in registry.values()
        for hook in funcs
    ]
    assert hooks
    assert all(iscoroutinefunction(h) for h in hooks)


async def test_start_up_objects_are_frozen_out_of_full_collections(offline_app: Quart) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0

    async with offline_app.test_app():
        frozen = gc.get_freeze_count()

    gc.unfreeze()
    assert frozen > 10_000  # the SDK, Jinja and the routes, not a handful of objects


async def test_start_up_objects_are_frozen_once_per_process(offline_app: Quart) -> None:
    gc.unfreeze()
    async with offline_app.test_app():
        first = gc.get_freeze_count()
    leftovers = [[n] for n in range(5000)]  # tracked objects a second freeze would pin

    async with offline_app.test_app():
        second = gc.get_freeze_count()

    gc.unfreeze()
    assert leftovers
    assert second < first + 5000
