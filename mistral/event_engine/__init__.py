"""The event engine: starts workflows when OpenStack-style notifications arrive.

``mistral-server --server event-engine`` keeps one oslo.messaging notification
listener per (exchange, topic) that any event trigger uses, and for every
notification whose ``event_type`` matches a trigger's ``event`` glob starts
the trigger's workflow through the engine client. The execution's params
are the trigger's ``workflow_params`` plus ``event_params`` (the payload,
``event_type``, ``publisher_id`` and ``timestamp``); the engine keeps them in
the context's ``__execution`` entry, so a workflow reads the event as
``<% execution().params.event_params %>`` (``{{ execution().params.event_params }}``).
"""
