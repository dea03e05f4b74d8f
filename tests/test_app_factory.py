"""The app factory's wiring that no single area owns."""

from __future__ import annotations

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
