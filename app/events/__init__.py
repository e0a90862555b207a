"""Gateway events for live subscriptions: the Broker protocol, its two implementations, the events.

Import from the submodules (`app.events.broker`, `app.events.factory`...); this package file stays
empty so that importing one broker does not import the other's client library.
"""
